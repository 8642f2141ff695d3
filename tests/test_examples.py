"""Every example runs, against FakeWix, as a user would run it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

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


def test_batch_example_refunds_every_row() -> None:
    result = _run(str(EXAMPLES / "batch_from_csv.py"))
    assert result.returncode == 0, result.stderr
    assert "{'COMPLETED': 10}" in result.stdout


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
    assert statuses == ["ALREADY_DONE", "COMPLETED", "COMPLETED"]
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
