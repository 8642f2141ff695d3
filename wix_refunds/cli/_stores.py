"""Several stores from one config file, for ``wix-refunds --store NAME``.

Each store gives its account ID, its site ID and the *name* of the environment variable
that holds its API key; a key written in the file is refused, since files get copied,
committed and backed up. TOML (``stores.toml``) or JSON (a name ending in ``.json``)::

    [stores.shop-eu]
    account_id = "..."
    site_id = "..."            # or the dashboard URL
    api_key_env = "WIX_KEY_SHOP_EU"
    journal = "postgresql://refunds@db/refunds"   # optional: the store's one refund journal

``journal`` (a file path or a ``postgresql://`` DSN) makes every run for the store use
that journal: a run told to use another is refused, so that two set-ups never race.

TOML is read with ``tomllib`` on Python 3.11 and newer. The library's dependencies are
fixed, so on 3.10 a small reader takes the subset above (tables and quoted strings) and
refuses anything else, naming the line.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path
from typing import Any

import attrs

__all__ = ["Store", "StoreConfigError", "default_config_path", "load_store", "parse_small_toml"]

_FIELDS = ("account_id", "site_id", "api_key_env")
_OPTIONAL = ("journal",)
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class StoreConfigError(Exception):
    """The stores file cannot be used; the message names the file and what to fix."""


@attrs.frozen(kw_only=True)
class Store:
    """One store of the config file: its IDs and the variable that holds its key."""

    name: str
    account_id: str
    site_id: str
    api_key_env: str
    source: str
    #: The store's refund journal (a path or a PostgreSQL DSN), when the file names one.
    journal: str | None = None


def default_config_path() -> Path:
    """Return ``$XDG_CONFIG_HOME/wix-refunds/stores.toml`` (``~/.config`` without it, or with a relative one)."""
    config = os.environ.get("XDG_CONFIG_HOME", "")
    base = Path(config) if os.path.isabs(config) else Path.home() / ".config"
    return base / "wix-refunds" / "stores.toml"


def load_store(path: str | os.PathLike[str] | None, name: str) -> Store:
    """Return the store ``name`` from the config file at ``path`` (default: ``default_config_path()``).

    Raises:
        StoreConfigError: the file is missing or unreadable, is not valid, lacks the store,
            or the store lacks a field or holds an API key.
    """
    file = Path(path) if path is not None else default_config_path()
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise StoreConfigError(
            f"{file}: no such file; create it with a [stores.{name}] table giving account_id, site_id "
            "and api_key_env (see the README), or pass --config FILE"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise StoreConfigError(f"{file} cannot be read: {getattr(exc, 'strerror', None) or exc}") from None
    data = _parse(file, text)
    stores = data.get("stores")
    if not isinstance(stores, dict) or not stores:
        raise StoreConfigError(f"{file} has no [stores.NAME] tables")
    if name not in stores:
        known = ", ".join(sorted(stores))
        raise StoreConfigError(f"{file} has no store {name!r}; it has: {known}")
    table = stores[name]
    where = f"{file}, store {name!r}"
    if not isinstance(table, dict):
        raise StoreConfigError(f"{where}: expected a table of account_id, site_id and api_key_env")
    if "api_key" in table:
        raise StoreConfigError(
            f"{where} holds an API key; keep keys out of files: put it in an environment variable "
            "and name that variable with api_key_env"
        )
    unknown = sorted(set(table) - set(_FIELDS) - set(_OPTIONAL))
    if unknown:
        fields = ", ".join(_FIELDS + _OPTIONAL)
        raise StoreConfigError(f"{where}: unknown field {unknown[0]!r}; a store has {fields}")
    journal = table.get("journal")
    if journal is not None and (not isinstance(journal, str) or not journal.strip()):
        raise StoreConfigError(f"{where}: journal must be a file path or a postgresql:// DSN (a text value)")
    missing = [field for field in _FIELDS if not isinstance(table.get(field), str) or not table[field].strip()]
    if missing:
        raise StoreConfigError(f"{where} lacks {', '.join(missing)} (each a text value)")
    if not _ENV_NAME.fullmatch(table["api_key_env"].strip()):
        raise StoreConfigError(
            f"{where}: api_key_env must be the name of an environment variable, such as WIX_KEY_SHOP_EU, not the key"
        )
    return Store(
        name=name,
        account_id=table["account_id"],
        site_id=table["site_id"],
        api_key_env=table["api_key_env"].strip(),
        source=str(file),
        journal=journal.strip() if journal else None,
    )


def _parse(file: Path, text: str) -> dict[str, Any]:
    if file.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise StoreConfigError(f"{file} is not valid JSON: {exc}") from None
        if not isinstance(data, dict):
            raise StoreConfigError(f'{file}: expected an object such as {{"stores": {{"NAME": {{...}}}}}}')
        return data
    if sys.version_info >= (3, 11):
        import tomllib

        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise StoreConfigError(f"{file} is not valid TOML: {exc}") from None
    return parse_small_toml(text, source=str(file))


_TABLE = re.compile(r"\[\s*([A-Za-z0-9_-]+|\"[^\"\\]*\")(?:\s*\.\s*([A-Za-z0-9_-]+|\"[^\"\\]*\"))?\s*\]")
_PAIR = re.compile(r"([A-Za-z0-9_-]+)\s*=\s*(\"[^\"\\]*\"|'[^']*')")


def parse_small_toml(text: str, *, source: str = "<config>") -> dict[str, Any]:
    """Return the tables and quoted strings of a small TOML text (what Python 3.10 lacks ``tomllib`` for).

    Takes ``[table]`` and ``[table.name]`` headers (names bare or in double quotes) and
    ``key = "text"`` or ``key = 'text'`` lines, with ``#`` comments and blank lines.

    Raises:
        StoreConfigError: any other line, naming it, or a key given twice.
    """
    data: dict[str, Any] = {}
    table = data
    for number, raw in enumerate(text.splitlines(), 1):
        line = _strip_comment(raw).strip()
        if not line:
            continue
        header = _TABLE.fullmatch(line)
        pair = _PAIR.fullmatch(line)
        if header:
            table = data
            for part in header.groups():
                if part is None:
                    continue
                key = part.strip('"')
                table = table.setdefault(key, {})
                if not isinstance(table, dict):
                    raise StoreConfigError(f"{source}:{number}: {key!r} is a value and a table at once")
        elif pair:
            key, value = pair.group(1), pair.group(2)[1:-1]
            if key in table:
                raise StoreConfigError(f"{source}:{number}: {key} is given twice")
            table[key] = value
        else:
            raise StoreConfigError(
                f'{source}:{number}: only [stores.NAME] lines and key = "text" lines can be read on '
                "Python 3.10 (no escapes); write the file that way or as JSON (stores.json)"
            )
    return data


def _strip_comment(line: str) -> str:
    quote = None
    for i, char in enumerate(line):
        if quote:
            if char == quote:
                quote = None
        elif char in "\"'":
            quote = char
        elif char == "#":
            return line[:i]
    return line
