"""Ports on the loopback interface."""

from __future__ import annotations

import os
import random
import socket

LOOPBACK = "127.0.0.1"

# Below Linux's ephemeral range (32768 to 60999 by default), from which the kernel takes both
# the ports of a bind to port 0 and the local ports of outgoing connections: a port found free
# there could be taken by any client connection before the server meant for it binds it.
PORTS = range(20000, 32768)
_pick = random.SystemRandom()  # its own source: hypothesis reseeds the `random` module per test


def _share() -> range:
    """This process's own slice of PORTS when it is one of pytest-xdist's workers, so two
    workers never pick the same port; the whole range otherwise."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    count = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1") or 1)
    if not worker.startswith("gw") or count <= 1:
        return PORTS
    index = int(worker[2:]) % count
    size = len(PORTS) // count
    return range(PORTS.start + index * size, PORTS.start + (index + 1) * size)


def free_port(host: str = LOOPBACK) -> int:
    """A port nobody listens on right now, from this process's share of PORTS.

    It is checked by binding it and closed again before the port is used, so in theory another
    process could take it in between; callers that start a server report that case clearly.
    """
    share = _share()
    for _ in range(200):
        port = _pick.choice(share)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind((host, port))
            except OSError:
                continue  # in use: another
            return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:  # a crowded share: any port
        sock.bind((host, 0))
        return int(sock.getsockname()[1])
