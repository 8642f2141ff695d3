"""The wix-refunds command, end to end as a subprocess against FakeWix served on loopback."""

from __future__ import annotations

import functools
import json
import os
import pathlib
import signal
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import wix_refunds.client._client_core
from wix_refunds import RefundRequest, RetryPolicy
from wix_refunds.core._references import derive_reference
from wix_refunds.testing import FakeWix

from .command import OLD, cli, env_for, records, run_on_terminal, start


def test_demo_refunds_one_order_of_each_kind_with_no_credentials(fake: FakeWix) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WIX_")}
    result = cli(fake, None, "demo", env=env)
    assert result.returncode == 0, result.stderr
    for kind in ("old order, not fulfilled", "two fulfilments", "already cancelled", "paid online", "paid offline"):
        assert kind in result.stdout
    assert result.stdout.count("COMPLETED") == 6
    assert "ALREADY_DONE" in result.stdout
    assert "refunds are disabled" in result.stdout
    assert "recorded as refunded outside Wix: 35.00 USD" in result.stdout
    assert "deleted fulfilment" in result.stdout
    assert "TRACK0" in result.stdout
    assert result.stderr == ""
    data = records(cli(fake, None, "demo", "--json", env=env).stdout)
    assert [d["status"] for d in data if d["type"] == "order"].count("COMPLETED") == 6


def test_verify_passes_with_every_permission(fake: FakeWix, served: str) -> None:
    result = cli(fake, served, "verify")
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("[ok  ]") == 7
    data = json.loads(cli(fake, served, "verify", "--json").stdout)
    assert data["ok"] is True
    assert [c["name"] for c in data["checks"]] == [
        "Business Info",
        "Sites",
        "Wix Stores (read orders)",
        "Wix Stores (cancel orders)",
        "Wix Stores (refund payments)",
        "Wix Stores (delete fulfilments)",
        "Wix Currencies",
    ]
    assert fake.writes == []


def test_verify_fails_a_key_that_can_read_but_not_write_orders(fake: FakeWix, served: str) -> None:
    key = "IST.read-only-key-0000000000000"
    fake.add_key(key, scopes=["orders.read", "sites.read", "business-info.read", "currencies.manage"])
    result = cli(fake, served, "verify", env=env_for(fake, WIX_API_KEY=key))
    assert result.returncode == 3
    assert "[FAIL] Wix Stores (refund payments)" in result.stdout
    assert "all permissions present" not in result.stdout
    assert fake.writes == []


def test_verify_of_a_wrong_key_says_the_key_is_wrong_once(fake: FakeWix, served: str) -> None:
    result = cli(fake, served, "verify", env=env_for(fake, WIX_API_KEY="IST.not-a-key-of-this-account-000"))
    assert result.returncode == 3
    assert result.stdout.count("[FAIL]") == 1
    assert "refused the key itself (HTTP 401)" in result.stdout
    assert "tick" not in result.stdout


def test_verify_of_an_unreachable_host_exits_1(fake: FakeWix, monkeypatch: pytest.MonkeyPatch) -> None:
    # The command's retries wait on a clock of the test's: their backoff is not slept through.
    waits: list[float] = []
    policy = functools.partial(RetryPolicy, sleep=waits.append)
    monkeypatch.setattr(wix_refunds.client._client_core, "RetryPolicy", policy)
    result = cli(fake, "http://127.0.0.1:9", "verify")
    assert waits, "the command gave up without retrying"
    assert result.returncode == 1
    assert "could not check" in result.stdout


def test_verify_names_the_missing_permission_and_exits_3(fake: FakeWix, served: str) -> None:
    key = "IST.stores-only-key-000000000000"
    fake.add_key(key, scopes=["orders.read", "orders.manage", "sites.read", "business-info.read"])
    result = cli(fake, served, "verify", env=env_for(fake, WIX_API_KEY=key))
    assert result.returncode == 3
    assert "[FAIL] Wix Currencies" in result.stdout
    assert "Account Settings > API Keys" in result.stdout
    assert key not in result.stdout + result.stderr


def test_plan_prints_route_reason_and_steps_and_sends_no_write(fake: FakeWix, served: str) -> None:
    old = fake.add_order(created=OLD, fulfillments=2)
    new = fake.add_order()
    result = cli(fake, served, "plan", old, new)
    assert result.returncode == 0, result.stderr
    assert "UNFULFILL_THEN_CANCEL" in result.stdout
    assert "1. delete every fulfilment" in result.stdout
    assert "2. cancel the order" in result.stdout
    assert f"first write: delete_fulfillment {fake.fulfillments[old][0]['id']}" in result.stdout
    assert "STANDARD_REFUND" in result.stdout
    assert f"first write: refund_payments {new} 35.00 USD" in result.stdout
    assert fake.writes == []
    data = records(cli(fake, served, "plan", "--json", old).stdout)
    assert data[0]["route"] == "UNFULFILL_THEN_CANCEL"


def test_plan_of_an_order_the_rules_or_wix_refuse_exits_4(fake: FakeWix, served: str) -> None:
    unpaid = fake.add_order(payments="none")
    disabled = fake.add_order(payments="refund_disabled")
    result = cli(fake, served, "plan", unpaid, disabled)
    assert result.returncode == 4
    assert "never paid" in result.stdout
    assert "refunds are disabled" in result.stdout
    assert fake.writes == []


def test_refund_with_yes_prints_the_outcome(fake: FakeWix, served: str) -> None:
    oid = fake.add_order(total="80")
    result = cli(fake, served, "refund", oid, "--amount", "20", "--reason", "late", "--reference", "t-9", "--yes")
    assert result.returncode == 0, result.stderr
    assert "COMPLETED" in result.stdout
    assert "20.00 USD" in result.stdout
    assert fake.refunded_total(oid) == Decimal("20")
    again = cli(fake, served, "refund", oid, "--amount", "20", "--reference", "t-9", "--yes", "--json")
    assert records(again.stdout)[0]["status"] == "ALREADY_DONE"
    assert fake.refunded_total(oid) == Decimal("20")


def test_the_same_refund_command_without_a_reference_run_twice_refunds_once_and_says_how_to_refund_again(
    fake: FakeWix, served: str
) -> None:
    oid = fake.add_order(total="80")
    first = cli(fake, served, "refund", oid, "--amount", "3", "--yes")
    assert first.returncode == 0, first.stderr
    assert "COMPLETED" in first.stdout
    again = cli(fake, served, "refund", oid, "--amount", "3", "--yes")
    assert again.returncode == 0, again.stderr
    assert f"order {oid}: ALREADY_DONE" in again.stdout
    assert "to refund the same again on purpose, run it with a new --reference" in again.stdout
    amounts = [[Decimal(t["amount"]["amount"]) for t in r["transactions"]] for r in fake.refunds[oid]]
    assert amounts == [[Decimal("3.00")]]
    assert fake.count_writes("refund", oid) == 1
    # On purpose: a reference of its own is a second refund.
    third = cli(fake, served, "--json", "refund", oid, "--amount", "3", "--reference", "again-1", "--yes")
    assert records(third.stdout)[0]["status"] == "COMPLETED"
    assert "hint" not in records(third.stdout)[0]
    assert fake.refunded_total(oid) == Decimal("6")


def test_a_derived_reference_already_done_says_so_in_json_and_in_the_dry_run(fake: FakeWix, served: str) -> None:
    oid = fake.add_order(total="80")
    first = records(cli(fake, served, "--json", "refund", oid, "--amount", "3", "--yes").stdout)[0]
    assert first["reference"].startswith("b-")
    assert "hint" not in first
    again = records(cli(fake, served, "--json", "refund", oid, "--amount", "3.00", "--reason", "x", "--yes").stdout)[0]
    assert (again["status"], again["reference"]) == ("ALREADY_DONE", first["reference"])
    assert "a new --reference" in again["hint"]
    dry = cli(fake, served, "refund", oid, "--amount", "3", "--dry-run")
    assert "nothing left to do: Wix shows it done already" in dry.stdout
    assert "a new --reference" in dry.stdout
    assert fake.count_writes("refund", oid) == 1


def test_refund_commands_asking_for_different_things_derive_different_references(fake: FakeWix, served: str) -> None:
    oid = fake.add_order(total="35", line_items=[3])
    line = fake.orders[oid]["lineItems"][0]["id"]
    asks = [["--amount", "2"], ["--amount", "3"], ["--item", f"{line}:1"], ["--item", f"{line}:1:restock"]]
    outcomes = [records(cli(fake, served, "--json", "refund", oid, *ask, "--yes").stdout)[0] for ask in asks]
    assert [o["status"] for o in outcomes] == ["COMPLETED"] * 4
    assert len({o["reference"] for o in outcomes}) == 4
    again = records(cli(fake, served, "--json", "refund", oid, "--item", f"{line}:1:restock", "--yes").stdout)[0]
    assert again["status"] == "ALREADY_DONE"
    assert fake.orders[oid]["lineItems"][0]["refundQuantity"] == 2
    assert fake.orders[oid]["lineItems"][0]["restockQuantity"] == 1
    assert fake.count_writes("refund", oid) == 4


def test_refund_without_yes_refuses_when_input_is_not_a_terminal(fake: FakeWix, served: str) -> None:
    oid = fake.add_order(created=OLD)
    result = cli(fake, served, "refund", oid, stdin="y\n")
    assert result.returncode == 2
    assert "--yes" in result.stderr
    assert fake.writes == []


@pytest.mark.parametrize(("answer", "cancels"), [("y", 1), ("n", 0)])
def test_refund_asks_for_confirmation_on_a_terminal_and_a_no_exits_0(
    fake: FakeWix, served: str, answer: str, cancels: int
) -> None:
    oid = fake.add_order(created=OLD)
    returncode, text = run_on_terminal(fake, ["refund", oid, "--base-url", served], answer)
    assert "CANCEL" in text
    assert "Go ahead? [y/N]" in text
    # Answering no is a decision, not a failure: nothing was done, and that is success.
    assert returncode == 0
    assert ("Nothing was done." in text) is (answer == "n")
    assert fake.count_writes("cancel", oid) == cancels


def test_refund_refused_by_the_rules_exits_4_with_a_sentence(fake: FakeWix, served: str) -> None:
    oid = fake.add_order(created=OLD)
    result = cli(fake, served, "refund", oid, "--amount", "5", "--yes")
    assert result.returncode == 4
    assert "only be refunded in full" in result.stderr
    assert "Traceback" not in result.stderr


def test_credentials_refused_by_wix_exit_3_and_say_what_to_do(fake: FakeWix, served: str) -> None:
    oid = fake.add_order()
    result = cli(fake, served, "refund", oid, "--yes", env=env_for(fake, WIX_API_KEY="IST.not-the-right-key-000000"))
    assert result.returncode == 3
    assert "Wix refused the API key" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_key_without_a_terminal_exits_3_naming_the_variable(fake: FakeWix, served: str) -> None:
    result = cli(fake, served, "verify", env=env_for(fake, WIX_API_KEY=None))
    assert result.returncode == 3
    assert "WIX_API_KEY" in result.stderr


def test_site_id_can_be_given_as_a_dashboard_url_option(fake: FakeWix, served: str) -> None:
    url = f"https://manage.wix.com/dashboard/{fake.site_id}/home"
    result = cli(fake, served, "verify", "--site-id", url, env=env_for(fake, WIX_SITE_ID=None))
    assert result.returncode == 0, result.stderr


def test_the_key_is_never_accepted_as_an_argument(fake: FakeWix, served: str) -> None:
    result = cli(fake, served, "verify", "--api-key", "IST.x")
    assert result.returncode == 2
    assert "unrecognized arguments" in result.stderr


def test_verbose_logs_steps_on_stderr_without_the_key(fake: FakeWix, served: str) -> None:
    oid = fake.add_order(created=OLD)
    result = cli(fake, served, "refund", oid, "--yes", "-vv")
    assert result.returncode == 0
    assert "cancel_order" in result.stderr
    assert "INFO wix_refunds" in result.stderr


def test_json_errors_carry_type_message_status_code_request_id_and_retryable(fake: FakeWix, served: str) -> None:
    result = cli(fake, served, "refund", "0c87cd5d-4059-4e86-8f6e-d185b1e4a1bd", "--yes", "--json")
    assert result.returncode == 1
    order, summary = records(result.stdout)
    error: dict[str, Any] = order["error"]
    assert order["type"] == "order"
    assert order["status"] == "FAILED"
    assert error["type"] == "WixNotFound"
    assert error["status"] == 404
    assert error["code"]
    assert error["request_id"]
    assert error["retryable"] is False
    # Derived from the order and what is asked (everything left): the same on a re-run.
    assert error["reference"] == derive_reference("0c87cd5d-4059-4e86-8f6e-d185b1e4a1bd", RefundRequest())
    assert summary == {**summary, "type": "summary", "command": "refund", "exit_code": 1, "failed": 1}


@pytest.mark.parametrize("workers", [2, 4])
def test_processes_refunding_one_order_with_one_reference_refund_it_once(
    fake: FakeWix, served: str, tmp_path: pathlib.Path, workers: int
) -> None:
    # Every request takes 50 ms, so the processes overlap: without a lock shared by
    # processes each would read "not refunded yet" and refund.
    oid = fake.add_order(total="100")
    fake.latency = 0.05
    args = ("refund", oid, "--amount", "10", "--reference", "R-1", "--yes", "--lock-dir", str(tmp_path))
    running = [start(fake, served, *args) for _ in range(workers)]
    results = [(p.communicate(timeout=60), p.returncode) for p in running]
    assert [code for _, code in results] == [0] * workers, results
    assert fake.count_writes("refund", oid) == 1
    assert fake.refunded_total(oid) == Decimal("10")
    outputs = [out for (out, _), _ in results]
    assert sum("COMPLETED" in out for out in outputs) == 1
    assert sum("ALREADY_DONE" in out for out in outputs) == workers - 1


def test_processes_sharing_a_postgres_lock_refund_one_order_once(
    fake: FakeWix, served: str, postgres: Any, tmp_path: pathlib.Path
) -> None:
    oid = fake.add_order(total="100")
    fake.latency = 0.05
    env = env_for(fake, WIX_REFUNDS_LOCK_DSN=postgres.dsn())
    # Separate lock folders: only PostgreSQL is shared, as on two hosts.
    running = [
        start(
            fake,
            served,
            "refund",
            oid,
            "--amount",
            "10",
            "--reference",
            "PG-1",
            "--yes",
            "--lock-dir",
            str(tmp_path / str(i)),
            env=env,
        )
        for i in range(3)
    ]
    outputs = [p.communicate(timeout=60) for p in running]
    assert [p.returncode for p in running] == [0, 0, 0], outputs
    assert fake.count_writes("refund", oid) == 1


def test_ctrl_c_during_a_refund_names_the_order_and_the_reference_to_rerun_with(fake: FakeWix, served: str) -> None:
    oid = fake.add_order(total="100")
    # Wix holds the refund's connection open for seconds: Ctrl-C comes once Wix has the write,
    # while the command still waits for its answer.
    refund = "/ecom/v1/order-billing/refund-payments"
    fake.apply_late_next("POST", refund, after=3.0)
    process = start(fake, served, "refund", oid, "--amount", "10", "--yes")
    deadline = time.monotonic() + 20
    while not fake.calls(method="POST", path=refund) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert fake.calls(method="POST", path=refund), "the refund write never reached Wix"
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=30)
    assert process.returncode == 130
    assert f"order {oid}: a write may be in flight (reference b-" in err
    assert "run again with --reference b-" in err
    assert "it waits for any write that may still land" in err


def test_ctrl_c_during_a_refunds_reads_names_nothing_in_flight(fake: FakeWix, served: str) -> None:
    oid = fake.add_order(total="100")
    fake.latency = 1.0
    process = start(fake, served, "refund", oid, "--amount", "10", "--yes")
    deadline = time.monotonic() + 20
    while not fake.calls(path="/ecom/v1/orders/*") and time.monotonic() < deadline:
        time.sleep(0.02)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=30)
    assert process.returncode == 130
    assert "interrupted (Ctrl-C) before any refund was in flight" in err
    assert fake.writes == []


# --- habits ---------------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["before", "after"])
def test_global_options_go_before_or_after_the_command(fake: FakeWix, served: str, where: str) -> None:
    oid = fake.add_order()
    options = ["--json", "--base-url", served, "--rate-limit", "100"]
    args = [*options, "plan", oid] if where == "before" else ["plan", oid, *options]
    result = cli(fake, None, *args)
    assert result.returncode == 0, result.stderr
    assert [r["type"] for r in records(result.stdout)] == ["order", "summary"]


def test_help_shows_examples_environment_variables_and_exit_codes(fake: FakeWix) -> None:
    text = cli(fake, None, "--help").stdout
    for needle in ("examples:", "environment variables:", "exit codes:", "wix-refunds batch orders.csv"):
        assert needle in text
    for variable in ("WIX_API_KEY", "WIX_ACCOUNT_ID", "WIX_SITE_ID", "WIX_REFUNDS_LOCK_DSN", "XDG_STATE_HOME"):
        assert variable in text
    assert "143 stopped by SIGTERM" in text
    assert "examples:" in cli(fake, None, "batch", "--help").stdout


def test_every_missing_variable_is_named_at_once(fake: FakeWix, served: str) -> None:
    env = env_for(fake, WIX_API_KEY=None, WIX_ACCOUNT_ID=None, WIX_SITE_ID=None)
    result = cli(fake, served, "--json", "verify", env=env)
    assert result.returncode == 3
    assert "credentials missing: WIX_API_KEY, WIX_ACCOUNT_ID and WIX_SITE_ID are not set" in result.stderr
    assert records(result.stdout)[-1]["error"]["type"] == "CredentialsMissing"
    assert fake.requests == []


def test_plan_takes_an_amount(fake: FakeWix, served: str) -> None:
    oid = fake.add_order(total="80")
    result = cli(fake, served, "plan", oid, "--amount", "12.5")
    assert result.returncode == 0, result.stderr
    assert "1. refund 12.50 USD" in result.stdout
    assert f"first write: refund_payments {oid} 12.50 USD" in result.stdout
    refused = cli(fake, served, "plan", oid, "--amount", "12,50")
    assert refused.returncode == 2
    assert "has a decimal comma; use a point: 12.50" in refused.stderr
    assert fake.writes == []


def test_refund_dry_run_shows_the_plan_and_sends_no_write(fake: FakeWix, served: str) -> None:
    oid = fake.add_order(created=OLD, fulfillments=1)
    result = cli(fake, served, "refund", oid, "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "UNFULFILL_THEN_CANCEL" in result.stdout
    assert "returned outside Wix" in result.stdout
    assert fake.writes == []


def test_an_old_orders_outcome_says_it_was_cancelled_and_the_money_is_returned_outside_wix(
    fake: FakeWix, served: str
) -> None:
    oid = fake.add_order(created=OLD)
    result = cli(fake, served, "refund", oid, "--yes")
    assert result.returncode == 0, result.stderr
    assert "the order was cancelled (order CANCELED, payment PAID)" in result.stdout
    assert "the shopper's money is returned outside Wix (Violet learns of the cancel from Wix" in result.stdout
    order = records(cli(fake, served, "refund", oid, "--yes", "--json").stdout)[0]
    assert order["route"] == "NOTHING_TO_DO"  # cancelled now
    fresh = fake.add_order(created=OLD)
    order = records(cli(fake, served, "--json", "refund", fresh, "--yes").stdout)[0]
    assert "returned outside Wix" in order["note"]


@pytest.mark.parametrize(
    ("command", "make"),
    [
        ("plan", lambda fake: ["plan", fake.add_order(), fake.add_order(payments="none")]),
        ("refund", lambda fake: ["refund", fake.add_order(currency="JPY", total="1000"), "--yes"]),
        ("demo", lambda fake: ["demo"]),
    ],
)
def test_json_is_one_schema_of_order_records_and_a_final_summary(
    fake: FakeWix, served: str, command: str, make: Any
) -> None:
    result = cli(fake, served if command != "demo" else None, "--json", *make(fake))
    data = records(result.stdout)
    assert {d["type"] for d in data[:-1]} == {"order"}
    assert data[-1]["type"] == "summary"
    assert data[-1]["command"] == command
    assert data[-1]["exit_code"] == result.returncode
    assert data[-1]["orders"] == len(data) - 1
    for order in data[:-1]:
        assert {"order_id", "status", "route", "reference", "steps", "refunded", "currency", "error"} <= set(order)
        if order["error"] is not None:
            assert {"type", "message", "status", "code", "request_id", "retryable"} <= set(order["error"])
    if command == "refund":
        assert data[0]["refunded"] == "1000"  # JPY has no decimals
        assert data[-1]["refunded"] == {"JPY": "1000"}


def _stores_file(path: Path, fake: FakeWix, **extra: str) -> Path:
    fields = {"account_id": fake.account_id, "site_id": fake.site_id, "api_key_env": "SHOP_EU_KEY", **extra}
    path.write_text("[stores.shop-eu]\n" + "".join(f'{k} = "{v}"\n' for k, v in fields.items()))
    return path


def test_a_store_from_the_config_file_gives_the_ids_and_names_the_key_variable(
    fake: FakeWix, served: str, tmp_path: Path
) -> None:
    config = _stores_file(tmp_path / "stores.toml", fake)
    env = env_for(fake, WIX_API_KEY=None, WIX_ACCOUNT_ID=None, WIX_SITE_ID=None, SHOP_EU_KEY=fake.api_key)
    result = cli(fake, served, "--store", "shop-eu", "--config", str(config), "verify", env=env)
    assert result.returncode == 0, result.stderr
    # The default place: $XDG_CONFIG_HOME/wix-refunds/stores.toml.
    (tmp_path / "wix-refunds").mkdir()
    _stores_file(tmp_path / "wix-refunds" / "stores.toml", fake)
    env["XDG_CONFIG_HOME"] = str(tmp_path)
    assert cli(fake, served, "verify", "--store", "shop-eu", env=env).returncode == 0
    missing = cli(fake, served, "verify", "--store", "shop-eu", env={**env, "SHOP_EU_KEY": ""})
    assert missing.returncode == 3
    assert "SHOP_EU_KEY (named by store 'shop-eu' in" in missing.stderr
    unknown = cli(fake, served, "verify", "--store", "shop-us", env=env)
    assert unknown.returncode == 2
    assert "has no store 'shop-us'; it has: shop-eu" in unknown.stderr


def test_a_store_that_holds_a_key_is_refused(fake: FakeWix, served: str, tmp_path: Path) -> None:
    config = _stores_file(tmp_path / "stores.toml", fake, api_key="IST.some-key-in-a-file-00000")
    result = cli(fake, served, "verify", "--store", "shop-eu", "--config", str(config))
    assert result.returncode == 2
    assert "holds an API key; keep keys out of files" in result.stderr
    assert "IST.some-key" not in result.stderr
    assert fake.requests == []


def test_refund_by_item_names_the_line_restocks_it_and_refunds_the_shipping(fake: FakeWix, served: str) -> None:
    oid = fake.add_order(total="35", line_items=[3], shipping="5")
    line = fake.orders[oid]["lineItems"][0]["id"]
    plan = cli(fake, served, "plan", oid)
    assert f"line items: {line} x3" in plan.stdout
    result = cli(fake, served, "refund", oid, "--item", f"{line}:1:restock", "--shipping", "--yes")
    assert result.returncode == 0, result.stderr
    assert "Wix's price for line" in result.stderr
    assert fake.orders[oid]["lineItems"][0]["refundQuantity"] == 1
    assert fake.orders[oid]["lineItems"][0]["restockQuantity"] == 1
    assert fake.refunded_total(oid) == Decimal("15")


@pytest.mark.parametrize(("word", "restocked"), [("yes", 2), ("TRUE", 2), ("no", 0), ("false", 0), ("1", 1)])
def test_an_item_option_takes_the_restock_words_of_a_batch_file(
    fake: FakeWix, served: str, word: str, restocked: int
) -> None:
    oid = fake.add_order(total="35", line_items=[3])
    line = fake.orders[oid]["lineItems"][0]["id"]
    result = cli(fake, served, "refund", oid, "--item", f"{line}:2:{word}", "--yes")
    assert result.returncode == 0, result.stderr
    assert fake.orders[oid]["lineItems"][0]["refundQuantity"] == 2
    assert fake.orders[oid]["lineItems"][0]["restockQuantity"] == restocked


@pytest.mark.parametrize("item", ["LINE", "LINE:x", "LINE:1:maybe", "LINE:0"])
def test_a_malformed_item_option_is_a_usage_error(fake: FakeWix, served: str, item: str) -> None:
    oid = fake.add_order()
    result = cli(fake, served, "refund", oid, "--item", item, "--yes")
    assert result.returncode == 2
    assert f"--item {item!r}: " in result.stderr
    assert fake.writes == []


def test_refund_with_restock_but_no_items_after_the_cutoff_is_a_usage_error(fake: FakeWix, served: str) -> None:
    oid = fake.add_order(total="35")
    result = cli(fake, served, "refund", oid, "--amount", "5", "--restock", "--yes")
    assert result.returncode == 2, result.stderr
    assert "name the items to restock" in result.stderr
    assert "--item LINE_ID:QTY:restock" in result.stderr
    assert fake.writes == []
