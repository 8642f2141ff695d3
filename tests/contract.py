"""The wire contract's test helpers: Wix's documented examples and the JSON Schemas taken from its SDK types.

``tests/fixtures/`` holds Wix's own JSON examples (each with a ``.src.txt`` naming its
source); ``tests/schemas/`` holds one JSON Schema (draft 2020-12) per shape the library
sends or reads. ``docs/wix-api.md`` (the contract) says where every fact comes from.
"""

from __future__ import annotations

import functools
import json
import pathlib
from typing import Any

import jsonschema
from referencing import Registry, Resource

HERE = pathlib.Path(__file__).parent
FIXTURES = HERE / "fixtures"
SCHEMAS = HERE / "schemas"


@functools.cache
def _registry() -> Registry[Any]:
    resources = []
    for path in sorted(SCHEMAS.glob("*.json")):
        schema = json.loads(path.read_text())
        resources.append((schema["$id"], Resource.from_contents(schema)))
    registry: Registry[Any] = Registry().with_resources(resources)
    return registry.crawl()


@functools.cache
def schema(name: str) -> dict[str, Any]:
    """Return the schema ``tests/schemas/<name>.json``."""
    loaded: dict[str, Any] = json.loads((SCHEMAS / f"{name}.json").read_text())
    return loaded


@functools.cache
def _validator(name: str) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(schema(name), registry=_registry())


def schema_errors(name: str, data: object) -> list[str]:
    """Return every way ``data`` breaks schema ``name``, as ``path: message`` lines (empty when it fits)."""
    errors = sorted(_validator(name).iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))
    return [f"{'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}" for e in errors]


def validate(name: str, data: object) -> None:
    """Raise AssertionError listing every way ``data`` breaks schema ``name``."""
    errors = schema_errors(name, data)
    assert not errors, f"does not fit tests/schemas/{name}.json:\n  " + "\n  ".join(errors)


def fixture_names() -> list[str]:
    """Return the file name of every Wix example in ``tests/fixtures/`` (not the ``.src.txt`` or README)."""
    return sorted(p.name for p in FIXTURES.iterdir() if not p.name.endswith(".src.txt") and p.name != "README.md")


def fixture_bytes(name: str) -> bytes:
    """Return a fixture as Wix sent it, byte for byte."""
    return (FIXTURES / name).read_bytes()


def fixture(name: str) -> Any:
    """Return a fixture's JSON."""
    return json.loads(fixture_bytes(name))


def shape(value: object) -> object:
    """Return ``value``'s keys and JSON value types with the values left out (arrays by their first item)."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if value is None:
        return "null"
    return type(value).__name__ if not isinstance(value, str) else "string"
