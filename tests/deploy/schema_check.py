"""A small JSON Schema validator, enough for Microsoft's Teams manifest schema, with no dependency.

The project does not depend on `jsonschema`, so this implements the keywords that the vendored
schema (deploy/teams/schema/MicrosoftTeams.schema.json, draft-04 with a draft-07 `if`/`then`)
actually uses, and refuses a schema that uses any other: a keyword it does not know is an error,
never silently ignored, so a newer schema cannot make the check pass by being misunderstood.
Only local references (`#/...`) are followed. `format` is an annotation here, as it is for
`jsonschema` without a format checker.
"""

from __future__ import annotations

import re
from typing import Any

ANNOTATIONS = {"$schema", "$id", "id", "title", "description", "default", "examples", "format"}
CHECKED = {
    "type",
    "enum",
    "const",
    "properties",
    "additionalProperties",
    "required",
    "minProperties",
    "maxProperties",
    "dependencies",
    "items",
    "minItems",
    "maxItems",
    "uniqueItems",
    "minLength",
    "maxLength",
    "pattern",
    "minimum",
    "maximum",
    "anyOf",
    "allOf",
    "oneOf",
    "not",
    "if",
    "then",
    "else",
    "$ref",
    "definitions",
    "patternProperties",
}
TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
}


class SchemaError(Exception):
    """The schema uses something this validator does not implement."""


def _same(a: Any, b: Any) -> bool:
    """JSON equality: 1 and True are different values, as are 1 and "1"."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def _resolve(root: dict[str, Any], ref: str) -> Any:
    if not ref.startswith("#"):
        raise SchemaError(f"only local $ref is supported, not {ref!r}")
    node: Any = root
    for part in ref[1:].split("/")[1:]:
        part = part.replace("~1", "/").replace("~0", "~")
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


def errors(instance: Any, schema: dict[str, Any]) -> list[str]:
    """Every way `instance` breaks `schema`, as "path: reason" lines; empty when it is valid."""
    found: list[str] = []
    _check(instance, schema, schema, "$", found)
    return found


def _check(value: Any, schema: Any, root: dict[str, Any], path: str, out: list[str]) -> None:
    if schema is True or schema == {}:
        return
    if schema is False:
        out.append(f"{path}: no value is allowed here")
        return
    unknown = set(schema) - ANNOTATIONS - CHECKED
    if unknown:
        raise SchemaError(f"schema at {path} uses keywords this validator lacks: {unknown}")
    if "$ref" in schema:  # draft-04: a $ref replaces its siblings
        _check(value, _resolve(root, schema["$ref"]), root, path, out)
        return

    kinds = schema.get("type")
    if kinds is not None:
        kinds = [kinds] if isinstance(kinds, str) else kinds
        if not any(TYPES[k](value) for k in kinds):
            out.append(f"{path}: {value!r:.60} is not of type {'/'.join(kinds)}")
            return
    if "enum" in schema and not any(_same(value, option) for option in schema["enum"]):
        out.append(f"{path}: {value!r:.60} is not one of {schema['enum']}")
    if "const" in schema and not _same(value, schema["const"]):
        out.append(f"{path}: {value!r:.60} is not {schema['const']!r}")

    if isinstance(value, dict):
        _object(value, schema, root, path, out)
    if isinstance(value, list):
        _array(value, schema, root, path, out)
    if isinstance(value, str):
        if "minLength" in schema and len(value) < schema["minLength"]:
            out.append(f"{path}: shorter than {schema['minLength']} characters")
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            out.append(f"{path}: {len(value)} characters, more than {schema['maxLength']}")
        if "pattern" in schema and not re.search(schema["pattern"], value):
            out.append(f"{path}: {value!r:.60} does not match {schema['pattern']}")
    if TYPES["number"](value):
        if "minimum" in schema and value < schema["minimum"]:
            out.append(f"{path}: {value} is below {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            out.append(f"{path}: {value} is above {schema['maximum']}")

    for sub in schema.get("allOf", []):
        _check(value, sub, root, path, out)
    if "anyOf" in schema and not any(_passes(value, s, root, path) for s in schema["anyOf"]):
        out.append(f"{path}: matches none of anyOf")
    if "oneOf" in schema:
        matches = sum(_passes(value, s, root, path) for s in schema["oneOf"])
        if matches != 1:
            out.append(f"{path}: matches {matches} of oneOf, not exactly one")
    if "not" in schema and _passes(value, schema["not"], root, path):
        out.append(f"{path}: matches a schema it must not")
    if "if" in schema:
        branch = "then" if _passes(value, schema["if"], root, path) else "else"
        if branch in schema:
            _check(value, schema[branch], root, path, out)


def _passes(value: Any, schema: Any, root: dict[str, Any], path: str) -> bool:
    trial: list[str] = []
    _check(value, schema, root, path, trial)
    return not trial


def _object(
    value: dict[str, Any], schema: dict[str, Any], root: dict[str, Any], path: str, out: list[str]
) -> None:
    for name in schema.get("required", []):
        if name not in value:
            out.append(f"{path}: '{name}' is required")
    if "minProperties" in schema and len(value) < schema["minProperties"]:
        out.append(f"{path}: fewer than {schema['minProperties']} properties")
    if "maxProperties" in schema and len(value) > schema["maxProperties"]:
        out.append(f"{path}: more than {schema['maxProperties']} properties")
    properties = schema.get("properties", {})
    patterns = schema.get("patternProperties", {})
    for name, item in value.items():
        matched = False
        if name in properties:
            matched = True
            _check(item, properties[name], root, f"{path}.{name}", out)
        for pattern, sub in patterns.items():
            if re.search(pattern, name):
                matched = True
                _check(item, sub, root, f"{path}.{name}", out)
        extra = schema.get("additionalProperties", True)
        if not matched and extra is False:
            out.append(f"{path}: '{name}' is not allowed here")
        elif not matched and isinstance(extra, dict):
            _check(item, extra, root, f"{path}.{name}", out)
    for name, needs in schema.get("dependencies", {}).items():
        if name not in value:
            continue
        if isinstance(needs, list):
            out.extend(f"{path}: '{name}' needs '{n}'" for n in needs if n not in value)
        else:
            _check(value, needs, root, path, out)


def _array(
    value: list[Any], schema: dict[str, Any], root: dict[str, Any], path: str, out: list[str]
) -> None:
    if "minItems" in schema and len(value) < schema["minItems"]:
        out.append(f"{path}: fewer than {schema['minItems']} items")
    if "maxItems" in schema and len(value) > schema["maxItems"]:
        out.append(f"{path}: {len(value)} items, more than {schema['maxItems']}")
    if schema.get("uniqueItems"):
        for i, item in enumerate(value):
            if any(_same(item, other) for other in value[:i]):
                out.append(f"{path}[{i}]: repeats an earlier item")
    items = schema.get("items")
    if isinstance(items, dict):
        for i, item in enumerate(value):
            _check(item, items, root, f"{path}[{i}]", out)
    elif isinstance(items, list):
        for i, (item, sub) in enumerate(zip(value, items, strict=False)):
            _check(item, sub, root, f"{path}[{i}]", out)
