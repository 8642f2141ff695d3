"""The command at a real terminal: its questions, Ctrl-C and Ctrl-D (issue 24)."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from wix_refunds.journal._journal import EntryState
from wix_refunds.journal._journal_sql import SqliteJournal
from wix_refunds.testing import FakeWix

from .command import records, start, write_csv
from .terminal import Terminal


def _asking(fake: FakeWix, served: str, tmp_path: Path, command: str) -> Terminal:
    """Start ``refund`` or ``batch`` of one order on a terminal and wait for its question."""
    oid = fake.add_order()
    args = ["refund", oid] if command == "refund" else ["batch", str(write_csv(tmp_path / "in.csv", [f"{oid},,,"]))]
    terminal = Terminal(fake, [*args, "--base-url", served])
    terminal.wait_for("Go ahead? [y/N]")
    return terminal


@pytest.mark.parametrize("command", ["refund", "batch"])
def test_ctrl_c_at_the_question_exits_130_at_once_and_sends_nothing(
    fake: FakeWix, served: str, tmp_path: Path, command: str
) -> None:
    terminal = _asking(fake, served, tmp_path, command)
    terminal.type("\x03")
    # No Enter: the command ends on Ctrl-C alone.
    assert terminal.exit_code(timeout=10) == 130
    code, text = terminal.finish()
    assert code == 130
    assert "interrupted (Ctrl-C) at the confirmation: nothing was sent" in text
    assert "in flight" not in text
    assert fake.writes == []


def test_a_yes_typed_after_ctrl_c_at_a_batchs_question_starts_nothing(
    fake: FakeWix, served: str, tmp_path: Path
) -> None:
    terminal = _asking(fake, served, tmp_path, "batch")
    terminal.type("\x03")
    terminal.type("y\n")
    code, _ = terminal.finish()
    assert code == 130
    assert fake.writes == []


@pytest.mark.parametrize("command", ["refund", "batch"])
def test_ctrl_d_at_the_question_is_no(fake: FakeWix, served: str, tmp_path: Path, command: str) -> None:
    terminal = _asking(fake, served, tmp_path, command)
    terminal.type("\x04")
    code, text = terminal.finish()
    assert code == 0
    assert "Go ahead? [y/N] \r\nNothing was done." in text
    assert fake.writes == []


def test_sigterm_at_the_question_exits_143_and_sends_nothing(fake: FakeWix, served: str, tmp_path: Path) -> None:
    terminal = _asking(fake, served, tmp_path, "batch")
    terminal.process.terminate()
    code, text = terminal.finish()
    assert code == 143
    assert "stopped by SIGTERM at the confirmation: nothing was sent" in text
    assert fake.writes == []


# --- stopped mid-batch ------------------------------------------------------------------


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_a_batch_stopped_mid_way_names_only_the_rows_whose_write_had_started(
    fake: FakeWix, served: str, tmp_path: Path, stop: signal.Signals
) -> None:
    ids = [fake.add_order() for _ in range(30)]
    path = write_csv(tmp_path / "in.csv", [f"{o},1,," for o in ids])
    journal = tmp_path / "journal.sqlite3"
    fake.latency = 0.1
    process = start(
        fake, served, "--json", "batch", str(path), "--yes", "--concurrency", "4", "--journal", str(journal)
    )
    deadline = time.monotonic() + 30
    while fake.count_writes("refund") < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    process.send_signal(stop)
    out, err = process.communicate(timeout=30)
    assert process.returncode == (130 if stop is signal.SIGINT else 143), err
    time.sleep(0.5)  # writes that had reached Wix land meanwhile
    lines = records(out)
    summary = lines[-1]
    listed = {row["order_id"] for row in summary["in_flight"]}
    reported = {line["order_id"] for line in lines if line["type"] == "order"}
    written = {order for op, order, _ in fake.writes if op == "refund"}
    unsettled = {e.order_id for e in SqliteJournal(journal).store_entries(fake.site_id) if e.state is EntryState.SENT}
    # Every row Wix took a write for, whose outcome the run never saw, is named; every row
    # named had its write taken by Wix or in flight (its intent recorded, not settled).
    assert written - reported <= listed <= (written - reported) | unsettled
    assert len(listed) <= 4  # the concurrency, not the 30 rows, nor the rows read ahead
    assert len(written) < 30
