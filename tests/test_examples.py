"""Every example runs, against FakeWix, as a user would run it."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from types import ModuleType

import pytest

from wix_refunds.testing import FakeWix

EXAMPLES = Path(__file__).parent.parent / "examples"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WIX_")}
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env, timeout=120, check=False)


def test_refund_one_order_example_unfulfils_and_cancels_an_old_order() -> None:
    result = _run(str(EXAMPLES / "refund_one_order.py"))
    assert result.returncode == 0, result.stderr
    assert "COMPLETED via UNFULFILL_THEN_CANCEL" in result.stdout
    assert result.stdout.count("delete_fulfillment") == 2


def test_async_service_example_refunds_a_repeated_ticket_once() -> None:
    result = _run(str(EXAMPLES / "async_service.py"))
    assert result.returncode == 0, result.stderr
    statuses = [line.split()[1] for line in result.stdout.splitlines()]
    assert sorted(statuses) == ["ALREADY_DONE", "COMPLETED", "COMPLETED"]


def test_batch_example_refunds_every_row_and_run_again_finds_each_done() -> None:
    result = _run(str(EXAMPLES / "batch_from_csv.py"))
    assert result.returncode == 0, result.stderr
    assert "{'COMPLETED': 11}\n" in result.stdout
    assert "{'ALREADY_DONE': 11}\n" in result.stdout
    assert "refunded on Wix: ['20.00', '10.00', '10.00', '10.00', '10.00']" in result.stdout


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name.removesuffix(".py"), EXAMPLES / name)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_batch_example_run_twice_on_one_file_leaves_one_refund_per_row(tmp_path: Path) -> None:
    example = _load("batch_from_csv.py")
    fake = FakeWix()
    a, b = fake.add_order(total="50"), fake.add_order(total="50")
    path = tmp_path / "orders.csv"
    # Two equal rows of one order are two refunds; a row with a reference of its own is one more.
    path.write_text(f"order_id,amount,reference\n{a},10,\n{a},10,\n{a},10,ticket-1\n{b},12.50,\n")
    with fake.serve() as base_url:
        first = asyncio.run(example.refund_file(fake.credentials, base_url, str(path)))
        again = asyncio.run(example.refund_file(fake.credentials, base_url, str(path)))
    assert first == {"COMPLETED": 4}
    assert again == {"ALREADY_DONE": 4}
    assert (fake.count_writes("refund", a), fake.refunded_total(a)) == (3, Decimal("30"))
    assert (fake.count_writes("refund", b), fake.refunded_total(b)) == (1, Decimal("12.5"))


@pytest.mark.parametrize("name", ["testing_with_fakewix.py"])
def test_testing_example_passes_under_pytest(name: str) -> None:
    result = _run("-m", "pytest", "-q", "-p", "no:cacheprovider", str(EXAMPLES / name))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout


def test_order_service_worker_refunds_a_repeated_message_once_and_logs_json_lines() -> None:
    result = _run(str(EXAMPLES / "order_service_worker.py"))
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    statuses = sorted(line.get("status", "error") for line in lines if "followed" not in line)
    # The provider settles refunds later: the repeated message finds the refund in flight too.
    assert statuses == ["COMPLETED", "PENDING", "PENDING"]
    followed = next(line["followed"] for line in lines if "followed" in line)
    assert (followed["state"], followed["succeeded"]) == ("SUCCEEDED", "20.00")
    logs = [json.loads(line) for line in result.stderr.splitlines()]
    assert logs
    assert all({"order_id", "route", "step", "reference"} <= set(log) for log in logs)


def test_refund_returned_items_example_refunds_and_restocks_one_mug_once() -> None:
    result = _run(str(EXAMPLES / "refund_returned_items.py"))
    assert result.returncode == 0, result.stderr
    assert "-> 15.0" in result.stdout or "-> 15.00" in result.stdout
    assert "refund: COMPLETED 15" in result.stdout
    assert "again: ALREADY_DONE" in result.stdout
    assert "on Wix: refunded 1 restocked 1" in result.stdout
