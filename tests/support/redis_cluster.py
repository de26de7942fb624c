"""A throwaway Redis Cluster of our own, for the tests.

Each node is a `redis-server --cluster-enabled yes` on free ports of 127.0.0.1 (its client port
and its cluster bus port), in a temporary directory of its own, with deploy/redis.conf's settings
(as `RedisServer`); `redis-cli --cluster create` joins them: so many masters, each with so many
replicas. It never touches a Redis someone else runs.

    with RedisCluster(tmp_dir, masters=3, replicas=1) as cluster:
        cluster.url            # one node's URL: the client discovers the rest
        cluster.kill(master)   # SIGKILL, as a crash
        cluster.promote(replica)
"""

from __future__ import annotations

import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from urllib.parse import quote

import redis

from .net import LOOPBACK, free_port
from .redis_server import RedisServer, RedisServerError
from .tls import TlsFiles, make_tls

SLOTS = 16384
# How long a node may stay silent before the others think it failed. Long enough that a busy
# shared machine does not fail a node over by itself; failover tests promote a replica with
# CLUSTER FAILOVER rather than wait for it.
NODE_TIMEOUT_MS = 5000


class ClusterNode(RedisServer):
    """One node: a RedisServer with cluster mode on and a bus port of its own; with `tls`, it
    speaks TLS only (clients, its replicas and the cluster bus), and with `password`, it asks
    for one (of clients and of its replicas)."""

    def __init__(
        self,
        directory: Path,
        binary: str | None = None,
        *,
        tls: TlsFiles | None = None,
        password: str | None = None,
    ) -> None:
        super().__init__(directory, binary)
        self.bus_port = 0
        self.tls = tls
        self.password = password

    @property
    def url(self) -> str:
        auth = f":{quote(self.password, safe='')}@" if self.password else ""
        if self.tls is None:
            return f"redis://{auth}{LOOPBACK}:{self.port}/0"
        return f"rediss://{auth}{LOOPBACK}:{self.port}/0?ssl_ca_certs={quote(str(self.tls.ca))}"

    def pick_port(self) -> int:
        self.bus_port = free_port()
        return free_port()

    def command(self) -> list[str]:
        return [
            *super().command(),
            *("--cluster-enabled", "yes"),
            *("--cluster-config-file", "nodes.conf"),  # in --dir: a restart keeps its identity
            *("--cluster-port", str(self.bus_port)),
            *("--cluster-node-timeout", str(NODE_TIMEOUT_MS)),
            # Let any replica be promoted, however long its master has been unreachable.
            *("--cluster-replica-validity-factor", "0"),
            # A new replica's first copy at once, not after the default 5 s wait for others.
            *("--repl-diskless-sync-delay", "0"),
            *self._secure(),
        ]

    def _secure(self) -> list[str]:
        options = []
        if self.password:
            options += ["--requirepass", self.password, "--masterauth", self.password]
        if self.tls:
            options += [
                *("--port", "0", "--tls-port", str(self.port)),  # TLS only
                *("--tls-cert-file", str(self.tls.cert), "--tls-key-file", str(self.tls.key)),
                *("--tls-ca-cert-file", str(self.tls.ca), "--tls-auth-clients", "no"),
                *("--tls-cluster", "yes", "--tls-replication", "yes"),
            ]
        return options

    def cli_options(self) -> list[str]:
        """What redis-cli needs to reach this node."""
        options = ["-a", self.password, "--no-auth-warning"] if self.password else []
        if self.tls:
            options += ["--tls", "--cacert", str(self.tls.ca)]
        return options

    def ready(self) -> bool:
        try:
            with self.client(timeout=0.5) as client:
                return bool(client.ping())
        except (redis.RedisError, OSError):
            return False

    @property
    def address(self) -> str:
        return f"{LOOPBACK}:{self.port}"

    def client(self, timeout: float = 5.0) -> redis.Redis:
        return redis.Redis(
            host=LOOPBACK,
            port=self.port,
            password=self.password,
            ssl=self.tls is not None,
            ssl_ca_certs=str(self.tls.ca) if self.tls else None,
            decode_responses=True,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
        )

    def ask(self, *command: str) -> str:
        """A command's reply as the text Redis sent (CLUSTER INFO, CLUSTER NODES)."""
        with self.client() as client:
            return str(client.execute_command(*command))

    def replication(self) -> dict[str, object]:
        with self.client() as client:
            return dict(client.info("replication"))

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: gone at once, with whatever it had not yet passed to its replica."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()


@dataclass(frozen=True)
class Role:
    node: ClusterNode
    id: str
    master: bool
    master_id: str  # for a replica, its master's node id


class RedisCluster:
    def __init__(
        self,
        directory: Path,
        masters: int = 3,
        replicas: int = 0,
        binary: str | None = None,
        *,
        tls: bool = False,
        password: str | None = None,
    ) -> None:
        self.directory = directory
        self.masters_wanted = masters
        self.replicas_per_master = replicas
        self.binary = binary
        self.tls = tls
        self.password = password
        self.nodes: list[ClusterNode] = []

    @property
    def url(self) -> str:
        """One live node's URL (any node will do: the client discovers the others)."""
        return self.live()[0].url

    def urls(self) -> list[str]:
        return [node.url for node in self.live()]

    def live(self) -> list[ClusterNode]:
        return [node for node in self.nodes if node.alive]

    def start(self, timeout: float = 60.0) -> None:
        total = self.masters_wanted * (1 + self.replicas_per_master)
        tls = make_tls(self.directory / "tls") if self.tls else None
        self.nodes = [
            ClusterNode(self.directory / f"node-{i}", self.binary, tls=tls, password=self.password)
            for i in range(total)
        ]
        try:
            for node in self.nodes:
                node.start()
            self._create(timeout)
            self.wait_ready(timeout)
        except BaseException:
            self.stop()
            raise

    def _create(self, timeout: float) -> None:
        cli = shutil.which("redis-cli")
        if cli is None:
            raise RedisServerError("redis-cli was not found on PATH (it comes with redis-server)")
        command = [
            cli,
            "--cluster",
            "create",
            *(node.address for node in self.nodes),
            *("--cluster-replicas", str(self.replicas_per_master)),
            "--cluster-yes",
            *self.nodes[0].cli_options(),
        ]
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL
        )
        if done.returncode != 0 or "[OK] All 16384 slots covered" not in done.stdout:
            raise RedisServerError(
                f"redis-cli --cluster create failed:\n{done.stdout}{done.stderr}"
            )

    def wait_ready(self, timeout: float = 30.0) -> None:
        """Until every live node says the cluster is ok, knows every node, sees every slot
        served, and they all agree on the masters."""
        deadline = time.monotonic() + timeout
        problem = "not asked yet"
        while time.monotonic() < deadline:
            problem = self._not_ready()
            if not problem:
                return
            time.sleep(0.1)
        raise RedisServerError(f"the cluster did not settle in {timeout} s: {problem}")

    def _not_ready(self) -> str:
        views = set()
        for node in self.live():
            try:
                info = _fields(node.ask("CLUSTER", "INFO"))
                roles = self.roles(node)
            except (redis.RedisError, OSError) as exc:
                return f"{node.address}: {exc}"
            if info.get("cluster_state") != "ok":
                return f"{node.address}: cluster_state {info.get('cluster_state')}"
            if int(info.get("cluster_slots_ok", 0)) != SLOTS:
                return f"{node.address}: {info.get('cluster_slots_ok')} slots ok"
            if int(info.get("cluster_known_nodes", 0)) != len(self.nodes):
                return f"{node.address}: knows {info.get('cluster_known_nodes')} nodes"
            live_masters = frozenset(r.node.port for r in roles if r.master and r.node.alive)
            if len(live_masters) != self.masters_wanted:
                return f"{node.address}: sees {len(live_masters)} live masters"
            replication = node.replication()
            if replication.get("role") == "slave" and replication.get("master_link_status") != "up":
                return f"{node.address}: its copy of its master is not in sync yet"
            views.add(live_masters)
        if len(views) > 1:
            return "the nodes do not agree yet on who the masters are"
        return ""

    def roles(self, asking: ClusterNode | None = None) -> list[Role]:
        """Who is master and who replicates whom, as one live node (or `asking`) sees it now."""
        source = asking or self.live()[0]
        by_port = {node.port: node for node in self.nodes}
        found = []
        for line in source.ask("CLUSTER", "NODES").splitlines():
            parts = line.split()
            if len(parts) < 8:
                continue
            port = int(parts[1].split("@")[0].rsplit(":", 1)[1] or 0)
            if port not in by_port:
                continue
            flags = parts[2].split(",")
            master = "master" in flags and "fail" not in flags
            found.append(Role(by_port[port], parts[0], master, "" if master else parts[3]))
        return found

    def masters(self) -> list[ClusterNode]:
        return [role.node for role in self.roles() if role.master and role.node.alive]

    def replicas_of(self, master: ClusterNode) -> list[ClusterNode]:
        roles = self.roles()
        master_id = next(role.id for role in roles if role.node is master)
        return [r.node for r in roles if r.master_id == master_id and r.node.alive]

    def master_of_slot(self, slot: int) -> ClusterNode:
        by_port = {node.port: node for node in self.nodes}
        with self.live()[0].client() as client:
            for start, end, owner, *_ in client.execute_command("CLUSTER", "SLOTS"):
                if int(start) <= slot <= int(end):
                    return by_port[int(owner[1])]
        raise RedisServerError(f"no node serves slot {slot}")

    def slot_of(self, key: str) -> int:
        with self.live()[0].client() as client:
            return int(client.execute_command("CLUSTER", "KEYSLOT", key))

    def kill(self, node: ClusterNode) -> None:
        node.kill()

    def promote(self, replica: ClusterNode, timeout: float = 30.0) -> None:
        """Make `replica` its shard's master: CLUSTER FAILOVER FORCE, which needs no word from
        the old master (it may be dead), only the other masters' votes."""
        replica.ask("CLUSTER", "FAILOVER", "FORCE")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if replica.replication().get("role") == "master":
                break
            time.sleep(0.05)
        else:
            raise RedisServerError(f"{replica.address} was not promoted in {timeout} s")
        self.wait_ready(timeout)

    def flush(self) -> None:
        """Empty every master (what a test's fixture does before the test)."""
        for node in self.masters():
            node.ask("FLUSHALL")

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()

    def logs(self) -> str:
        return "\n".join(f"--- {node.address} ---\n{node.log()}" for node in self.nodes)

    def __enter__(self) -> RedisCluster:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def _fields(info: str) -> dict[str, str]:
    pairs = (line.split(":", 1) for line in info.splitlines() if ":" in line)
    return {name.strip(): value.strip() for name, value in pairs}


__all__ = ["ClusterNode", "RedisCluster", "Role"]
