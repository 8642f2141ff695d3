"""Who and where: plan, the confirmations, verify and the JSON summary name the store (issue 24)."""

from __future__ import annotations

from pathlib import Path

import pytest

from wix_refunds.testing import ALL_SCOPES, FakeWix

from .command import cli, env_for, records, write_csv
from .terminal import Terminal


@pytest.fixture
def shop(fake: FakeWix) -> FakeWix:
    fake.business_name = "Violet's Tea Shop"
    return fake


def test_plan_names_the_store_its_site_and_the_journal(shop: FakeWix, served: str) -> None:
    result = cli(shop, served, "plan", shop.add_order())
    assert result.returncode == 0, result.stderr
    assert f"store: Violet's Tea Shop (site {shop.site_id})" in result.stderr
    assert "journal: sqlite:" in result.stderr
    assert shop.writes == []


def test_the_json_summary_names_the_store_and_the_journal(shop: FakeWix, served: str) -> None:
    summary = records(cli(shop, served, "--json", "plan", shop.add_order()).stdout)[-1]
    assert summary["store"] == {"name": "Violet's Tea Shop", "site_id": shop.site_id, "profile": None}
    assert summary["journal"].startswith("sqlite:")


def test_the_store_name_is_read_once_per_command(shop: FakeWix, served: str, tmp_path: Path) -> None:
    rows = [f"{shop.add_order()},1,," for _ in range(3)]
    result = cli(shop, served, "--json", "batch", str(write_csv(tmp_path / "in.csv", rows)), "--yes")
    assert result.returncode == 0, result.stderr
    assert records(result.stdout)[-1]["store"]["name"] == "Violet's Tea Shop"
    assert len(shop.calls(path="/site-properties/v4/properties")) == 1


@pytest.mark.parametrize("command", ["refund", "batch"])
def test_the_confirmation_names_the_store_and_the_journal(
    shop: FakeWix, served: str, tmp_path: Path, command: str
) -> None:
    oid = shop.add_order()
    args = ["refund", oid] if command == "refund" else ["batch", str(write_csv(tmp_path / "in.csv", [f"{oid},,,"]))]
    terminal = Terminal(shop, [*args, "--base-url", served])
    terminal.wait_for("Go ahead? [y/N]")
    terminal.type("n\n")
    code, text = terminal.finish()
    assert code == 0
    asked = text.split("Go ahead?")[0]
    assert f"store: Violet's Tea Shop (site {shop.site_id})" in asked
    assert "journal: sqlite:" in asked
    assert shop.writes == []


def test_verify_names_the_store_in_text_and_json(shop: FakeWix, served: str) -> None:
    text = cli(shop, served, "verify")
    assert f"Wix site {shop.site_id} (Violet's Tea Shop): all permissions present" in text.stdout
    assert f"store: Violet's Tea Shop (site {shop.site_id})" in text.stdout
    assert "journal: sqlite:" in text.stdout
    data = records(cli(shop, served, "--json", "verify").stdout)[0]
    assert data["store"] == {"name": "Violet's Tea Shop", "site_id": shop.site_id, "profile": None}


def test_a_store_profile_from_the_stores_file_is_named(shop: FakeWix, served: str, tmp_path: Path) -> None:
    config = tmp_path / "stores.toml"
    fields = {"account_id": shop.account_id, "site_id": shop.site_id, "api_key_env": "SHOP_EU_KEY"}
    config.write_text("[stores.shop-eu]\n" + "".join(f'{k} = "{v}"\n' for k, v in fields.items()))
    env = env_for(shop, WIX_API_KEY=None, WIX_ACCOUNT_ID=None, WIX_SITE_ID=None, SHOP_EU_KEY=shop.api_key)
    result = cli(shop, served, "--store", "shop-eu", "--config", str(config), "plan", shop.add_order(), env=env)
    assert result.returncode == 0, result.stderr
    assert f"store: Violet's Tea Shop (site {shop.site_id}, profile shop-eu)" in result.stderr


def test_a_store_name_that_cannot_be_read_is_said_and_the_command_goes_on(shop: FakeWix, served: str) -> None:
    # A key without the Business Info permission: Wix refuses the read (403).
    shop.add_key("IST.no-business-info-key-000001", scopes=sorted(ALL_SCOPES - {"business-info.read"}))
    env = env_for(shop, WIX_API_KEY="IST.no-business-info-key-000001")
    result = cli(shop, served, "plan", shop.add_order(), env=env)
    assert result.returncode == 0, result.stderr
    assert f"store: store name unavailable (site {shop.site_id})" in result.stderr
    summary = records(cli(shop, served, "--json", "plan", shop.add_order(), env=env).stdout)[-1]
    assert summary["store"]["name"] is None
