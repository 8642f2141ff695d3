"""The wix-refunds command, end to end as a subprocess against FakeWix served on loopback."""

from __future__ import annotations

import json
import os
import pathlib
import pty
import select
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from wix_refunds.testing import FakeWix

CANARY = "IST.CANARY-cli-key-must-never-be-printed-42"
OLD = "2024-03-01T10:00:00.000Z"


@pytest.fixture
def fake() -> FakeWix:
    return FakeWix(api_key=CANARY)


@pytest.fixture
def served(fake: FakeWix) -> Iterator[str]:
    with fake.serve() as base_url:
        yield base_url


_STATE_HOME = tempfile.mkdtemp(prefix="wix-refunds-state-")


def _env(fake: FakeWix, **changes: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WIX_")}
    env.update({"WIX_API_KEY": fake.api_key, "WIX_ACCOUNT_ID": fake.account_id, "WIX_SITE_ID": fake.site_id})
    # Lock files go to a folder of the test run's own, not the user's state folder.
    env["XDG_STATE_HOME"] = _STATE_HOME
    for key, value in changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def cli(
    fake: FakeWix, base_url: str | None, *args: str, stdin: str = "", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "wix_refunds", *args]
    if base_url is not None:
        command += ["--base-url", base_url]
    result = subprocess.run(
        command, input=stdin, capture_output=True, text=True, env=env or _env(fake), timeout=60, check=False
    )
    assert CANARY not in result.stdout
    assert CANARY not in result.stderr
    return result


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
    data = json.loads(cli(fake, None, "demo", "--json", env=env).stdout)
    assert [d["status"] for d in data].count("COMPLETED") == 6


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
    result = cli(fake, served, "verify", env=_env(fake, WIX_API_KEY=key))
    assert result.returncode == 3
    assert "[FAIL] Wix Stores (refund payments)" in result.stdout
    assert "all permissions present" not in result.stdout
    assert fake.writes == []


def test_verify_of_a_wrong_key_says_the_key_is_wrong_once(fake: FakeWix, served: str) -> None:
    result = cli(fake, served, "verify", env=_env(fake, WIX_API_KEY="IST.not-a-key-of-this-account-000"))
    assert result.returncode == 3
    assert result.stdout.count("[FAIL]") == 1
    assert "refused the key itself (HTTP 401)" in result.stdout
    assert "tick" not in result.stdout


def test_verify_of_an_unreachable_host_exits_1(fake: FakeWix) -> None:
    result = cli(fake, "http://127.0.0.1:9", "verify")
    assert result.returncode == 1
    assert "could not check" in result.stdout


def test_verify_names_the_missing_permission_and_exits_3(fake: FakeWix, served: str) -> None:
    key = "IST.stores-only-key-000000000000"
    fake.add_key(key, scopes=["orders.read", "orders.manage", "sites.read", "business-info.read"])
    result = cli(fake, served, "verify", env=_env(fake, WIX_API_KEY=key))
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
    data = json.loads(cli(fake, served, "plan", "--json", old).stdout)
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
    assert json.loads(again.stdout)["status"] == "ALREADY_DONE"
    assert fake.refunded_total(oid) == Decimal("20")


def test_refund_without_yes_refuses_when_input_is_not_a_terminal(fake: FakeWix, served: str) -> None:
    oid = fake.add_order(created=OLD)
    result = cli(fake, served, "refund", oid, stdin="y\n")
    assert result.returncode == 2
    assert "--yes" in result.stderr
    assert fake.writes == []


def _run_on_terminal(fake: FakeWix, args: list[str], answer: str) -> tuple[int, str]:
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "wix_refunds", *args],
        stdin=follower,
        stdout=subprocess.PIPE,
        stderr=follower,
        env=_env(fake),
    )
    os.close(follower)
    screen = b""
    deadline = time.monotonic() + 30
    while b"[y/N]" not in screen and time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 0.5)
        if ready:
            screen += os.read(leader, 4096)
    os.write(leader, answer.encode() + b"\n")
    stdout, _ = process.communicate(timeout=30)
    os.close(leader)
    text = screen.decode() + stdout.decode()
    assert CANARY not in text
    return process.returncode, text


@pytest.mark.parametrize(("answer", "code", "cancels"), [("y", 0, 1), ("n", 1, 0)])
def test_refund_asks_for_confirmation_on_a_terminal(
    fake: FakeWix, served: str, answer: str, code: int, cancels: int
) -> None:
    oid = fake.add_order(created=OLD)
    returncode, text = _run_on_terminal(fake, ["refund", oid, "--base-url", served], answer)
    assert "CANCEL" in text
    assert "Go ahead? [y/N]" in text
    assert returncode == code
    assert fake.count_writes("cancel", oid) == cancels


def test_refund_refused_by_the_rules_exits_4_with_a_sentence(fake: FakeWix, served: str) -> None:
    oid = fake.add_order(created=OLD)
    result = cli(fake, served, "refund", oid, "--amount", "5", "--yes")
    assert result.returncode == 4
    assert "only be refunded in full" in result.stderr
    assert "Traceback" not in result.stderr


def test_credentials_refused_by_wix_exit_3_and_say_what_to_do(fake: FakeWix, served: str) -> None:
    oid = fake.add_order()
    result = cli(fake, served, "refund", oid, "--yes", env=_env(fake, WIX_API_KEY="IST.not-the-right-key-000000"))
    assert result.returncode == 3
    assert "Wix refused the API key" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_key_without_a_terminal_exits_3_naming_the_variable(fake: FakeWix, served: str) -> None:
    result = cli(fake, served, "verify", env=_env(fake, WIX_API_KEY=None))
    assert result.returncode == 3
    assert "WIX_API_KEY" in result.stderr


def test_site_id_can_be_given_as_a_dashboard_url_option(fake: FakeWix, served: str) -> None:
    url = f"https://manage.wix.com/dashboard/{fake.site_id}/home"
    result = cli(fake, served, "verify", "--site-id", url, env=_env(fake, WIX_SITE_ID=None))
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


def _csv(path: Path, rows: list[str]) -> Path:
    path.write_text("\n".join(["order_id,amount,reason,reference", *rows]) + "\n")
    return path


def test_batch_reports_bad_rows_by_line_and_goes_on(fake: FakeWix, served: str, tmp_path: Path) -> None:
    good = [fake.add_order(created=OLD), fake.add_order(), fake.add_order(total="50")]
    rows = [f"{good[0]},,,", "not-an-id,,,", f"{good[1]},,,", f"{good[2]},ten,,", f"{good[2]},10,late,b-1"]
    report = tmp_path / "report.jsonl"
    result = cli(fake, served, "batch", str(_csv(tmp_path / "in.csv", rows)), "--report", str(report))
    assert result.returncode == 1
    assert "in.csv:3: skipped: order_id 'not-an-id'" in result.stderr
    assert "in.csv:5: skipped: invalid amount" in result.stderr
    assert "5/5 done, 2 failed" in result.stderr
    assert "COMPLETED" in result.stdout
    assert "BAD ROWS" in result.stdout
    lines = [json.loads(line) for line in report.read_text().splitlines()]
    assert sorted(d["order_id"] for d in lines) == sorted(good)
    assert fake.refunded_total(good[2]) == Decimal("10")


def test_batch_resumes_from_its_report_skipping_completed_orders(fake: FakeWix, served: str, tmp_path: Path) -> None:
    first = [fake.add_order() for _ in range(3)]
    report = tmp_path / "report.jsonl"
    cli(
        fake,
        served,
        "batch",
        str(_csv(tmp_path / "a.csv", [f"{o},1,,r-{o[:8]}" for o in first])),
        "--report",
        str(report),
    )
    report.write_text(report.read_text() + '{"order_id": "cut-off-li')  # an interrupted write
    more = [fake.add_order() for _ in range(2)]
    rows = [f"{o},1,,r-{o[:8]}" for o in first + more]
    result = cli(fake, served, "batch", str(_csv(tmp_path / "b.csv", rows)), "--report", str(report), "--json")
    assert result.returncode == 0, result.stderr
    done = [json.loads(line) for line in result.stdout.splitlines()]
    assert sorted(d["order_id"] for d in done) == sorted(more)
    assert fake.count_writes("refund") == 5
    assert all(fake.refunded_total(o) == Decimal("1") for o in first + more)


def test_batch_dry_run_sends_no_write(fake: FakeWix, served: str, tmp_path: Path) -> None:
    ids = [fake.add_order(created=OLD, fulfillments=1), fake.add_order()]
    result = cli(fake, served, "batch", str(_csv(tmp_path / "in.csv", [f"{o},,," for o in ids])), "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "DRY_RUN" in result.stdout
    assert fake.writes == []


def test_batch_with_a_file_without_order_id_column_is_a_usage_error(fake: FakeWix, served: str, tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text("id,amount\nx,1\n")
    result = cli(fake, served, "batch", str(path))
    assert result.returncode == 2
    assert "order_id column" in result.stderr


def test_json_errors_are_machine_readable(fake: FakeWix, served: str) -> None:
    result = cli(fake, served, "refund", "0c87cd5d-4059-4e86-8f6e-d185b1e4a1bd", "--yes", "--json")
    assert result.returncode == 1
    error: dict[str, Any] = json.loads(result.stdout)["error"]
    assert error["type"] == "WixNotFound"


def _start(fake: FakeWix, served: str, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "wix_refunds", *args, "--base-url", served]
    return subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env or _env(fake),
    )


@pytest.mark.parametrize("workers", [2, 4])
def test_processes_refunding_one_order_with_one_reference_refund_it_once(
    fake: FakeWix, served: str, tmp_path: pathlib.Path, workers: int
) -> None:
    # Every request takes 50 ms, so the processes overlap: without a lock shared by
    # processes each would read "not refunded yet" and refund.
    oid = fake.add_order(total="100")
    fake.latency = 0.05
    args = ("refund", oid, "--amount", "10", "--reference", "R-1", "--yes", "--lock-dir", str(tmp_path))
    running = [_start(fake, served, *args) for _ in range(workers)]
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
    env = _env(fake, WIX_REFUNDS_LOCK_DSN=postgres.dsn())
    # Separate lock folders: only PostgreSQL is shared, as on two hosts.
    running = [
        _start(
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
    fake.latency = 1.0
    process = _start(fake, served, "refund", oid, "--amount", "10", "--yes")
    deadline = time.monotonic() + 20
    while not fake.calls(path="/ecom/v1/payments/orders/*") and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(2.2)  # past the dry run's reads and into the refund's own
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=30)
    assert process.returncode == 130
    assert f"order {oid}: may still be refunded on Wix" in err
    assert "run again with --reference wr-" in err
