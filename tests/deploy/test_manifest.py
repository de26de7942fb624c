"""The Teams app package that scripts/package builds: what Teams checks, and what the bot reads.

The package is built the way an operator builds it (the script run as a program, configured by
its environment alone), then opened like Teams opens it. The command lists are checked against
the bot's own command words, imported from the code, so a command the bot stops understanding
fails here rather than in front of a trustee.
"""

from __future__ import annotations

import copy
import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft4Validator, Draft7Validator, ValidationError, validators
from PIL import Image

from bot.turns import BOARD_WORDS
from dialogs.boards.desk import CHANNEL_WORDS
from dialogs.commands import parse
from dialogs.engine import STEPS
from dialogs.sets.service import typed_verb
from frameworks import load_all

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "package"
SCHEMA = json.loads((ROOT / "deploy/teams/schema/MicrosoftTeams.schema.json").read_text())
FILES = ["color.png", "manifest.json", "outline.png"]
# The vendored schema is draft-04 but for draft-06's `const` and draft-07's `if`/`then`, which a
# draft-04 validator would pass over.
TeamsSchema = validators.extend(
    Draft4Validator, {k: Draft7Validator.VALIDATORS[k] for k in ("const", "if")}
)
ANNOTATIONS = {"$schema", "id", "title", "description", "default", "examples", "format"}
READ_WITH_ANOTHER = {"then", "else", "definitions"}  # by `if`, and through `$ref`

APP_ID = "1B4C7E0D-3F5A-4C1E-9A7B-2D8E6F0A9C31"
ENV = {
    "MicrosoftAppId": APP_ID,
    "BOT_DOMAIN": "trustboard-oak.azurewebsites.net",
    "TEAMS_DEVELOPER_NAME": "Oak Learning Trust",
    "TEAMS_DEVELOPER_URL": "https://oak.example.org/trustboard",
    "TEAMS_PRIVACY_URL": "https://oak.example.org/privacy",
    "TEAMS_TERMS_URL": "https://oak.example.org/terms",
}
# A few American spellings that would betray a description not written in British English.
AMERICAN = ("color", "organization", "organize", "center", "analyze", "behavior", "prioritize")


def package(out: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """Runs scripts/package with exactly this environment (nothing inherited but PATH)."""
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--out", str(out)],
        env={"PATH": os.environ.get("PATH", ""), **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("package") / "trustboard-teams.zip"
    result = package(out, **ENV)
    assert result.returncode == 0, result.stderr
    return out


@pytest.fixture(scope="module")
def manifest(built: Path) -> dict[str, Any]:
    with zipfile.ZipFile(built) as zf:
        return json.loads(zf.read("manifest.json"))


def zipped(built: Path, name: str) -> bytes:
    with zipfile.ZipFile(built) as zf:
        return zf.read(name)


def errors(instance: Any, schema: dict[str, Any]) -> list[ValidationError]:
    """Every way `instance` breaks `schema`; empty when it is valid."""
    return sorted(TeamsSchema(schema).iter_errors(instance), key=lambda e: e.json_path)


def keywords(schema: Any) -> set[str]:
    """Every keyword the schema uses, at any depth (the names under properties are not)."""
    if isinstance(schema, list):
        return {k for item in schema for k in keywords(item)}
    if not isinstance(schema, dict):
        return set()
    found = set(schema)
    for key, value in schema.items():
        if key in ("properties", "patternProperties", "definitions", "dependencies"):
            found |= {k for sub in value.values() for k in keywords(sub)}
        elif key not in ("enum", "const", "required", "examples", "default"):
            found |= keywords(value)
    return found


def pixels(data: bytes) -> tuple[Image.Image, list[list[tuple[int, int, int, int]]]]:
    """The PNG, and its rows of (r, g, b, a)."""
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG"
    rgba = image.convert("RGBA")
    at = rgba.load()
    assert at is not None
    return image, [[at[x, y] for x in range(rgba.width)] for y in range(rgba.height)]


def has_alpha_channel(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info)


def commands(manifest: dict[str, Any], scope: str) -> list[str]:
    lists = [c for c in manifest["bots"][0]["commandLists"] if scope in c["scopes"]]
    assert len(lists) == 1, f"expected one command list for {scope}, found {len(lists)}"
    return [command["title"] for command in lists[0]["commands"]]


# -- the package ------------------------------------------------------------------------------


def test_the_zip_holds_exactly_the_manifest_and_both_icons_at_its_root(built: Path) -> None:
    with zipfile.ZipFile(built) as zf:
        assert sorted(zf.namelist()) == FILES
        assert zf.testzip() is None


def test_the_manifest_names_the_icons_in_the_zip(manifest: dict[str, Any]) -> None:
    assert manifest["icons"] == {"color": "color.png", "outline": "outline.png"}


def test_the_same_environment_builds_the_same_bytes(built: Path, tmp_path: Path) -> None:
    again = tmp_path / "again.zip"
    assert package(again, **ENV).returncode == 0
    assert again.read_bytes() == built.read_bytes()


# -- what Teams validates ---------------------------------------------------------------------


def test_the_built_manifest_validates_against_the_vendored_schema(
    manifest: dict[str, Any],
) -> None:
    assert [f"{e.json_path}: {e.message}" for e in errors(manifest, SCHEMA)] == []


def test_the_schema_uses_no_keyword_the_check_would_ignore() -> None:
    """jsonschema passes over keywords it does not know: a newer schema using one must fail
    here rather than make the check above pass by being misunderstood."""
    known = set(TeamsSchema.VALIDATORS) | ANNOTATIONS | READ_WITH_ANOTHER
    assert keywords(SCHEMA) - known == set()


def test_the_manifest_is_at_the_vendored_schema_version(manifest: dict[str, Any]) -> None:
    version = SCHEMA["properties"]["manifestVersion"]["const"]
    assert manifest["manifestVersion"] == version
    assert manifest["$schema"].endswith(f"/teams/v{version}/MicrosoftTeams.schema.json")


@pytest.mark.parametrize(
    ("change", "where", "keyword", "says"),
    [
        (lambda m: m["name"].update(short="t" * 31), "$.name.short", "maxLength", ""),
        (lambda m: m.update(manifestVersion="1.16"), "$.manifestVersion", "const", ""),
        (lambda m: m["bots"][0].update(botId="trustboard"), "$.bots[0].botId", "pattern", ""),
        (lambda m: m.update(id="{" + APP_ID + "}"), "$.id", "pattern", ""),
        (lambda m: m.update(colour="#1E3A5F"), "$", "additionalProperties", "'colour'"),
        (lambda m: m["developer"].pop("privacyUrl"), "$.developer", "required", "'privacyUrl'"),
        (
            lambda m: m["developer"].update(privacyUrl="oak.example.org"),
            "$.developer.privacyUrl",
            "pattern",
            "",
        ),
        (lambda m: m.update(accentColor="navy"), "$.accentColor", "pattern", ""),
        (lambda m: m["bots"][0]["scopes"].append("meetings"), "$.bots[0].scopes[3]", "enum", ""),
        (
            lambda m: m["bots"][0]["commandLists"].append({"scopes": [], "commands": []}),
            "$.bots[0].commandLists",
            "maxItems",
            "",
        ),
    ],
)
def test_the_schema_check_refuses_what_teams_would_refuse(
    manifest: dict[str, Any], change: Any, where: str, keyword: str, says: str
) -> None:
    broken = copy.deepcopy(manifest)
    change(broken)
    found = errors(broken, SCHEMA)
    assert found, "the schema check accepted a broken manifest"
    lines = [f"{e.json_path}: {e.message} [{e.validator}]" for e in found]
    assert any(
        e.json_path == where and e.validator == keyword and says in e.message for e in found
    ), lines


def test_the_app_id_and_the_domain_come_from_the_environment(manifest: dict[str, Any]) -> None:
    assert manifest["id"] == APP_ID.lower()
    assert manifest["bots"][0]["botId"] == APP_ID.lower()
    assert manifest["validDomains"] == [ENV["BOT_DOMAIN"]]
    assert manifest["developer"] == {
        "name": ENV["TEAMS_DEVELOPER_NAME"],
        "websiteUrl": ENV["TEAMS_DEVELOPER_URL"],
        "privacyUrl": ENV["TEAMS_PRIVACY_URL"],
        "termsOfUseUrl": ENV["TEAMS_TERMS_URL"],
    }
    assert "{{" not in json.dumps(manifest)


def test_names_and_descriptions_fit_and_are_british(manifest: dict[str, Any]) -> None:
    name, description = manifest["name"], manifest["description"]
    assert len(name["short"]) <= 30
    assert name["short"] != name.get("full")
    assert len(description["short"]) <= 80
    assert len(description["full"]) <= 4000
    # Teams' store rules: the short description is not repeated in the long one.
    assert description["short"] not in description["full"]
    words = f"{name} {description}".lower()
    assert [w for w in AMERICAN if w in words] == []
    assert manifest["localizationInfo"]["defaultLanguageTag"] == "en-gb"


def test_the_bot_is_in_every_scope_and_takes_no_files(manifest: dict[str, Any]) -> None:
    (bot,) = manifest["bots"]
    assert sorted(bot["scopes"]) == ["groupChat", "personal", "team"]
    assert bot["supportsFiles"] is False
    assert bot.get("isNotificationOnly", False) is False


# -- the icons --------------------------------------------------------------------------------


def test_the_colour_icon_is_192_square_and_not_blank(built: Path) -> None:
    icon, rows = pixels(zipped(built, "color.png"))
    assert (icon.width, icon.height) == (192, 192)
    colours = {p for row in rows for p in row}
    assert len(colours) >= 5, "the colour icon is (nearly) a single colour"
    assert all(p[3] == 255 for row in rows for p in row), "full-bleed background"


def test_the_outline_icon_is_32_square_white_on_transparent(built: Path) -> None:
    icon, rows = pixels(zipped(built, "outline.png"))
    assert (icon.width, icon.height) == (32, 32)
    assert has_alpha_channel(icon)
    every = [p for row in rows for p in row]
    coloured = [p for p in every if p[3] > 0 and p[:3] != (255, 255, 255)]
    assert coloured == [], "an outline icon may only be white where it is not transparent"
    opaque = sum(p[3] > 0 for p in every)
    assert 0.15 * len(every) < opaque < 0.85 * len(every), "the symbol is missing or a block"
    for x, y in ((0, 0), (31, 0), (0, 31), (31, 31)):
        assert rows[y][x][3] == 0, "the background must be transparent"


# -- the commands against what the bot understands ---------------------------------------------


def test_one_command_list_per_scope(manifest: dict[str, Any]) -> None:
    bot = manifest["bots"][0]
    scopes = [scope for entry in bot["commandLists"] for scope in entry["scopes"]]
    assert sorted(scopes) == sorted(bot["scopes"])
    for entry in bot["commandLists"]:
        titles = [c["title"] for c in entry["commands"]]
        assert len(titles) == len(set(titles))
        assert all(c.get("description") for c in entry["commands"])


def test_every_personal_command_is_one_the_bot_understands(manifest: dict[str, Any]) -> None:
    frameworks = list(load_all().values())
    verbs = set()
    for title in commands(manifest, "personal"):
        if " ".join(title.lower().split()) in BOARD_WORDS:  # bot/turns.py sends these to the desk
            verbs.add("board")
            continue
        if typed_verb(title) is not None:  # bot/turns.py sends these to the learning sets
            verbs.add(typed_verb(title).verb)
            continue
        verb = parse(title, frameworks).verb
        assert verb != "unknown", f"the bot does not understand {title!r} in a 1:1 chat"
        assert verb in STEPS, f"{title!r} parses to {verb!r}, which the walkthrough lacks"
        verbs.add(verb)
    assert {"start", "resume", "status", "results", "help", "board"} <= verbs
    assert {"set.list", "set.join"} <= verbs


def test_every_team_command_is_one_the_channel_answers(manifest: dict[str, Any]) -> None:
    titles = commands(manifest, "team")
    for title in titles:
        said = " ".join(title.lower().split()).strip(" .!?")
        assert said in CHANNEL_WORDS, f"in a channel the bot would not act on {title!r}"
    assert {"board", "help", "set up"} <= set(titles)


def test_the_group_chat_command_is_one_the_bot_answers(manifest: dict[str, Any]) -> None:
    # In a group chat the desk answers any text with how it works (dialogs/boards/desk.py);
    # the list offers only the word that asks for exactly that.
    assert commands(manifest, "groupChat") == ["help"]
    assert "help" in CHANNEL_WORDS


# -- refusals ---------------------------------------------------------------------------------


def test_a_missing_app_id_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    out = tmp_path / "trustboard-teams.zip"
    env = {k: v for k, v in ENV.items() if k != "MicrosoftAppId"}
    result = package(out, **env)
    assert result.returncode == 2
    assert "MicrosoftAppId is not set" in result.stderr
    assert not out.exists()


@pytest.mark.parametrize(
    "app_id",
    [
        "trustboard",
        "{" + APP_ID + "}",
        APP_ID + "0",
        APP_ID.replace("-", ""),
        "00000000-0000-0000-0000-000000000000",
        "1b4c7e0d-3f5a-4c1e-9a7b-2d8e6f0a9c3g",
    ],
)
def test_an_app_id_that_is_not_a_guid_is_refused(tmp_path: Path, app_id: str) -> None:
    out = tmp_path / "trustboard-teams.zip"
    out.write_bytes(b"an earlier package")
    result = package(out, **{**ENV, "MicrosoftAppId": app_id})
    assert result.returncode == 2
    assert "MicrosoftAppId" in result.stderr and "GUID" in result.stderr
    assert out.read_bytes() == b"an earlier package", "a refused build must not overwrite"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("BOT_DOMAIN", ""),
        ("BOT_DOMAIN", "https://trustboard-oak.azurewebsites.net/"),
        ("BOT_DOMAIN", "trustboard-oak.azurewebsites.net:443"),
        ("TEAMS_PRIVACY_URL", "http://oak.example.org/privacy"),
        ("TEAMS_DEVELOPER_NAME", "The Oak Learning Trust and Partners"),
        ("TEAMS_APP_VERSION", "1.0"),
    ],
)
def test_other_unusable_settings_are_refused(tmp_path: Path, variable: str, value: str) -> None:
    out = tmp_path / "trustboard-teams.zip"
    result = package(out, **{**ENV, variable: value})
    assert result.returncode == 2
    assert variable in result.stderr
    assert not out.exists()
