"""deploy/azure/main.bicep, read as text: no Bicep compiler is needed (nor available offline).

These checks pin what the deployment relies on and what is easy to get wrong by hand: the app
settings carry the configuration names the bot actually reads, the secret stays a secure
parameter that no output or parameters file repeats, the bot is single-tenant with Teams
enabled and its messaging endpoint on the app's HTTPS host, Redis is reached over TLS with a
URL built from its keys, and App Service checks /healthz; the bot runs on two or more instances
that share that one Redis, and the clustered Redis option and the bot's REDIS_CLUSTER follow one
parameter. The template is parsed with the tree-sitter Bicep grammar, which catches syntax
errors, not type errors. They do not prove the template deploys: see docs/deploy.md for what was
and was not run.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.deploy.settings_names import variables_the_bot_reads

ROOT = Path(__file__).resolve().parents[2]
AZURE = ROOT / "deploy" / "azure"
BICEP = (AZURE / "main.bicep").read_text()
PARAMS = (AZURE / "main.example.bicepparam").read_text()
APP_SERVICE_SETTINGS = {
    "WEBSITES_PORT",
    "WEBSITES_ENABLE_APP_SERVICE_STORAGE",
    "WEBSITE_HEALTHCHECK_MAXPINGFAILURES",
}


def without_comments(text: str) -> str:
    return "\n".join(re.sub(r"\s//.*$|^//.*$", "", line) for line in text.splitlines())


def block_after(text: str, start: int) -> str:
    """The {...} block that opens at or after `start`, braces balanced (strings skipped)."""
    opening = text.index("{", start)
    depth, quoted = 0, False
    for i in range(opening, len(text)):
        ch = text[i]
        if ch == "'" and text[i - 1] != "\\":
            quoted = not quoted
        elif not quoted and ch == "{":
            depth += 1
        elif not quoted and ch == "}":
            depth -= 1
            if depth == 0:
                return text[opening : i + 1]
    raise AssertionError("unbalanced braces")


CODE = without_comments(BICEP)


def resource(kind: str) -> str:
    """The body of the one resource of this type."""
    found = [m for m in re.finditer(rf"^resource \w+ '{re.escape(kind)}@[\w-]+' =", CODE, re.M)]
    assert len(found) == 1, f"expected one {kind}, found {len(found)}"
    return block_after(CODE, found[0].end())


def properties(body: str) -> dict[str, str]:
    """`name: value` lines directly inside a flat block (values as written)."""
    return dict(re.findall(r"^\s*'?([A-Za-z_][\w]*)'?:\s*(.+?)\s*$", body[1:-1], re.M))


def app_settings() -> dict[str, str]:
    body = resource("Microsoft.Web/sites/config")
    assert "name: 'appsettings'" in body
    return properties(block_after(body, body.index("properties:")))


def test_the_app_settings_are_the_bots_configuration_names() -> None:
    settings = app_settings()
    names = set(settings)
    unknown = names - variables_the_bot_reads() - APP_SERVICE_SETTINGS
    assert unknown == set(), f"app settings the bot does not read: {unknown}"
    wanted = {"MicrosoftAppId", "MicrosoftAppPassword", "MicrosoftAppType", "MicrosoftAppTenantId"}
    assert wanted | {"REDIS_URL", "HOST"} <= names
    assert settings["MicrosoftAppType"] == "'SingleTenant'"
    assert settings["MicrosoftAppId"] == "microsoftAppId"
    assert settings["MicrosoftAppPassword"] == "microsoftAppPassword"
    assert settings["MicrosoftAppTenantId"] == "microsoftAppTenantId"
    assert settings["HOST"] == "'0.0.0.0'"
    assert settings["WEBSITES_PORT"] == settings["PORT"] == "'3978'"


def test_the_redis_url_is_tls_and_built_from_the_keys() -> None:
    url = app_settings()["REDIS_URL"]
    assert url.startswith("'rediss://:")
    assert "uriComponent(redisDatabase.listKeys().primaryKey)" in url, "keys can hold / and +"
    assert "redis.properties.hostName" in url
    database = resource("Microsoft.Cache/redisEnterprise/databases")
    assert "clientProtocol: 'Encrypted'" in database
    assert "evictionPolicy: 'NoEviction'" in database
    assert "aofEnabled: true" in database and "aofFrequency: '1s'" in database
    assert "clusteringPolicy: redisClustered ? 'OSSCluster' : 'NoCluster'" in database
    assert "minimumTlsVersion: '1.2'" in resource("Microsoft.Cache/redisEnterprise")


def test_the_password_is_a_secure_parameter_that_nothing_repeats() -> None:
    assert re.search(
        r"@secure\(\)\s*\n(@description\([^\n]*\)\s*\n)?param microsoftAppPassword string", CODE
    )
    for match in re.finditer(r"^output (\w+) \w+ = (.+)$", CODE, re.M):
        assert "Password" not in match.group(2) and "listKeys" not in match.group(2), match.group(0)
    assignment = re.search(r"^param microsoftAppPassword = (.+)$", PARAMS, re.M)
    assert assignment and assignment.group(1).startswith("readEnvironmentVariable("), (
        "the parameters file must read the secret from the environment, not hold it"
    )


def test_the_bot_is_single_tenant_with_teams_on_the_apps_endpoint() -> None:
    bot = resource("Microsoft.BotService/botServices")
    assert "msaAppType: 'SingleTenant'" in bot
    assert "msaAppId: microsoftAppId" in bot and "msaAppTenantId: microsoftAppTenantId" in bot
    assert "endpoint: 'https://${site.properties.defaultHostName}/api/messages'" in bot
    teams = resource("Microsoft.BotService/botServices/channels")
    assert "name: 'MsTeamsChannel'" in teams and "channelName: 'MsTeamsChannel'" in teams
    assert "isEnabled: true" in teams


def test_the_app_runs_the_container_with_a_health_check() -> None:
    site = resource("Microsoft.Web/sites")
    assert "healthCheckPath: '/healthz'" in site
    assert "linuxFxVersion: 'DOCKER|${image}'" in site
    assert "alwaysOn: true" in site, "reminders and deliveries run in the bot's process"
    assert "httpsOnly: true" in site
    assert "acrUseManagedIdentityCreds: true" in site
    assert "reserved: true" in resource("Microsoft.Web/serverfarms"), "a Linux plan"
    assert "adminUserEnabled: false" in resource("Microsoft.ContainerRegistry/registries")
    role = resource("Microsoft.Authorization/roleAssignments")
    assert "7f951dda-4ed3-4680-a7ca-43fe172d538d" in CODE and "acrPullRoleId" in role


@pytest.mark.parametrize("name", ["botDomain", "messagingEndpoint", "registryLoginServer"])
def test_the_outputs_the_next_steps_need(name: str) -> None:
    assert re.search(rf"^output {name} string = ", CODE, re.M)


def test_the_parameters_file_sets_every_required_parameter() -> None:
    declared = re.findall(r"^param (\w+) [\w.]+( =)?", CODE, re.M)
    required = {name for name, default in declared if not default}
    assigned = set(re.findall(r"^param (\w+) =", PARAMS, re.M))
    assert required <= assigned, f"the example leaves out {required - assigned}"
    assert assigned <= {name for name, _ in declared}, "the example sets unknown parameters"
    assert re.search(r"^using '\./main\.bicep'$", PARAMS, re.M)


def parameter(name: str) -> tuple[list[str], str, str | None]:
    """(its decorators, its type, its default as written) of one `param`."""
    match = re.search(rf"((?:^@.*\n)*)^param {name} (\w+)(?: = (.+))?$", CODE, re.M)
    assert match, f"no parameter {name}"
    return match.group(1).splitlines(), match.group(2), match.group(3)


def test_the_bot_runs_on_two_or_more_instances_sharing_one_redis() -> None:
    decorators, kind, default = parameter("instanceCount")
    assert kind == "int" and default is not None and int(default) >= 2
    assert "@minValue(2)" in decorators, "one instance does not survive the loss of one"
    plan = resource("Microsoft.Web/serverfarms")
    assert "capacity: instanceCount" in block_after(plan, plan.index("sku:"))
    assert "zoneRedundant: zoneRedundant" in plan
    site = resource("Microsoft.Web/sites")
    assert "clientAffinityEnabled: false" in site, "any instance must take any turn"
    assert "WEBSITES_ENABLE_APP_SERVICE_STORAGE: 'false'" in resource("Microsoft.Web/sites/config")
    # One Redis, and every instance's REDIS_URL is built from it.
    resource("Microsoft.Cache/redisEnterprise")
    assert "redis.properties.hostName" in app_settings()["REDIS_URL"]


def test_an_instance_failing_its_health_check_leaves_the_rotation_soon() -> None:
    failures = app_settings()["WEBSITE_HEALTHCHECK_MAXPINGFAILURES"]
    assert 2 <= int(failures.strip("'")) <= 3, "App Service's default of 10 is ten minutes"
    assert "healthCheckPath: '/healthz'" in resource("Microsoft.Web/sites")


def test_the_clustered_redis_option_and_the_bots_setting_follow_one_parameter() -> None:
    _, kind, default = parameter("redisClustered")
    assert (kind, default) == ("bool", "false"), "a single endpoint unless asked"
    assert app_settings()["REDIS_CLUSTER"] == "redisClustered ? '1' : '0'"
    database = resource("Microsoft.Cache/redisEnterprise/databases")
    assert "clusteringPolicy: redisClustered ? 'OSSCluster' : 'NoCluster'" in database


def test_waiting_for_the_replica_is_a_parameter_off_by_default() -> None:
    _, kind, default = parameter("redisWaitForReplica")
    assert (kind, default) == ("bool", "false"), "the primary's word unless asked"
    assert app_settings()["REDIS_WAIT_REPLICAS"] == "redisWaitForReplica ? '1' : '0'"
    assert "highAvailability: 'Enabled'" in resource("Microsoft.Cache/redisEnterprise")


def test_the_template_parses_as_bicep() -> None:
    # The grammar predates .bicepparam files (`param name = value`): the template only.
    tree_sitter = pytest.importorskip("tree_sitter")
    bicep = pytest.importorskip("tree_sitter_bicep")
    parser = tree_sitter.Parser(tree_sitter.Language(bicep.language()))
    tree = parser.parse(BICEP.encode())
    assert not tree.root_node.has_error, first_error(tree.root_node, BICEP)
    broken = BICEP + "\nparam broken int = \n"
    assert parser.parse(broken.encode()).root_node.has_error, "the parser must catch a bad line"


def first_error(node: Any, text: str) -> str:
    """Where the grammar found a syntax error, and the line."""
    pending = [node]
    while pending:
        current = pending.pop(0)
        if current.type == "ERROR" or current.is_missing:
            row = current.start_point[0]
            return f"line {row + 1}: {text.splitlines()[row]}"
        pending.extend(current.children)
    return "an error the walk did not find"
