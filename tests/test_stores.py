"""The stores file of --store: TOML or JSON, IDs and a key variable's name, never a key."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from wix_refunds.cli._stores import StoreConfigError, load_store, parse_small_toml

ACCOUNT = "3f2a6c1e-8b1d-4c55-9a3e-2d6f0b7c9e41"
SITE = "0c87cd5d-4059-4e86-8f6e-d185b1e4a1bd"
TOML = f"""\
# stores of the EU team
[stores.shop-eu]
account_id = "{ACCOUNT}"   # from the API Keys Manager
site_id = '{SITE}'
api_key_env = "SHOP_EU_KEY"

[stores."shop us"]
account_id = "{ACCOUNT}"
site_id = "https://manage.wix.com/dashboard/{SITE}/home#x"
api_key_env = "SHOP_US_KEY"
"""


def test_the_small_toml_reader_reads_what_tomllib_reads_for_a_stores_file() -> None:
    tomllib = pytest.importorskip("tomllib")  # Python 3.11 and newer
    assert parse_small_toml(TOML) == tomllib.loads(TOML)


@pytest.mark.parametrize(
    "line", ["key = 3", 'key = "a\\"b"', "[[stores]]", "key = [1]", 'key = """x"""', "stores.eu.key = 'x'"]
)
def test_the_small_toml_reader_refuses_what_it_does_not_know_naming_the_line(line: str) -> None:
    with pytest.raises(StoreConfigError, match=r"^stores\.toml:2: only \[stores\.NAME\] lines"):
        parse_small_toml(f"[stores.a]\n{line}\n", source="stores.toml")


@pytest.mark.parametrize("suffix", [".toml", ".json"])
def test_a_store_is_read_from_toml_or_json(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"stores{suffix}"
    data = {"stores": {"shop-eu": {"account_id": ACCOUNT, "site_id": SITE, "api_key_env": "SHOP_EU_KEY"}}}
    path.write_text(TOML if suffix == ".toml" else json.dumps(data))
    store = load_store(path, "shop-eu")
    assert (store.account_id, store.site_id, store.api_key_env) == (ACCOUNT, SITE, "SHOP_EU_KEY")


@pytest.mark.parametrize(
    ("table", "says"),
    [
        ({"account_id": ACCOUNT, "site_id": SITE, "api_key_env": "K", "api_key": "IST.x"}, "holds an API key"),
        ({"account_id": ACCOUNT, "site_id": SITE}, "lacks api_key_env"),
        ({"account_id": ACCOUNT, "site_id": SITE, "api_key_env": "IST.abc-def"}, "must be the name of an env"),
        ({"account_id": ACCOUNT, "site_id": SITE, "api_key_env": "K", "site": "x"}, "unknown field 'site'"),
    ],
)
def test_a_store_without_its_fields_or_with_a_key_is_refused(tmp_path: Path, table: dict[str, str], says: str) -> None:
    path = tmp_path / "stores.json"
    path.write_text(json.dumps({"stores": {"s": table}}))
    with pytest.raises(StoreConfigError, match=says):
        load_store(path, "s")


def test_a_missing_stores_file_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(StoreConfigError, match=r"no such file; create it with a \[stores\.eu\] table"):
        load_store(tmp_path / "stores.toml", "eu")


def test_a_store_may_name_its_journal_and_an_empty_one_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "stores.toml"
    fields = f'account_id = "{ACCOUNT}"\nsite_id = "{SITE}"\napi_key_env = "K"\n'
    path.write_text(f'[stores.a]\n{fields}journal = "postgresql://refunds@db/refunds"\n[stores.b]\n{fields}')
    assert load_store(path, "a").journal == "postgresql://refunds@db/refunds"
    assert load_store(path, "b").journal is None
    path.write_text(f'[stores.a]\n{fields}journal = " "\n')
    with pytest.raises(StoreConfigError, match="journal must be a file path or a postgresql:// DSN"):
        load_store(path, "a")
