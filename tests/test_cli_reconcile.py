"""wix-refunds reconcile: a real batch's journal held against FakeWix's books, served over HTTP.

Each kind of mismatch is made as it happens in a store: a provider that declines later, a
refund left pending, an intent whose write never landed and one whose refund on Wix paid
another amount or other items (recorded by hand, as a run killed at the wrong moment
leaves them), and a refund someone else tagged with a reference this journal does not know.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

from wix_refunds import RefundItem, RefundRequest, SqliteJournal
from wix_refunds.journal import EntryState
from wix_refunds.testing import FakeWix

from .command import cli, env_for, records, write_csv
from .test_reconcile import _by_hand


def _batch(fake: FakeWix, served: str, env: dict[str, str], folder: Path, rows: list[str], name: str) -> None:
    path = write_csv(folder / f"{name}.csv", rows)
    done = cli(fake, served, "batch", str(path), "--report", str(folder / "r.jsonl"), "--yes", env=env)
    assert done.returncode == 0, done.stderr


def test_reconcile_after_a_clean_batch_finds_everything_matching_and_exits_0(
    fake: FakeWix, served: str, tmp_path: Path
) -> None:
    env = env_for(fake, WIX_REFUNDS_JOURNAL=str(tmp_path / "journal.sqlite3"))
    orders = [fake.add_order(total="80") for _ in range(3)]
    _batch(fake, served, env, tmp_path, [f"{oid},10,,r-{n}" for n, oid in enumerate(orders)], "orders")
    fake.add_foreign_refund(orders[0], 5, reason="from the dashboard, untagged")
    writes = list(fake.writes)
    result = cli(fake, served, "reconcile", env=env)
    assert result.returncode == 0, result.stderr
    assert "all 3 journal entries on 3 orders" in result.stdout
    assert "match Wix's books" in result.stdout
    assert fake.writes == writes


def test_reconcile_names_each_kind_of_mismatch_between_the_journal_and_wix_and_exits_1(
    fake: FakeWix, served: str, tmp_path: Path
) -> None:
    journal_path = tmp_path / "journal.sqlite3"
    env = env_for(fake, WIX_REFUNDS_JOURNAL=str(journal_path))
    paid, declined, pending, lost, short, items = (fake.add_order(total="80", line_items=[3]) for _ in range(6))
    _batch(fake, served, env, tmp_path, [f"{paid},10,,r-paid"], "paid")
    fake.decline = "later"
    _batch(fake, served, env, tmp_path, [f"{declined},10,,r-declined"], "declined")
    fake.decline, fake.refund_status = None, "PENDING"
    _batch(fake, served, env, tmp_path, [f"{pending},10,,r-pending"], "pending")
    fake.refund_status = "SUCCEEDED"
    fake.add_foreign_refund(paid, 4, reason="goodwill [ref:someone-else]")
    journal = SqliteJournal(journal_path)
    _by_hand(journal, fake, lost, "r-lost", ago=3600)
    _by_hand(journal, fake, short, "r-short", ago=3600, state=EntryState.SETTLED)
    fake.add_foreign_refund(short, 7, reason="[ref:r-short]")
    line = fake.orders[items]["lineItems"][0]["id"]
    asked = RefundRequest(items=[RefundItem(line_item_id=line, quantity=2)])
    _by_hand(journal, fake, items, "r-items", ago=3600, state=EntryState.SETTLED, request=asked)
    # The refund itself went through another journal: one line, not the two this one asked.
    other = ("--journal", str(tmp_path / "other.sqlite3"), "--reference", "r-items", "--yes")
    assert cli(fake, served, "refund", items, "--item", f"{line}:1", *other, env=env).returncode == 0
    journal.close()

    result = cli(fake, served, "reconcile", "--pending-days", "0", "--json", env=env)
    assert result.returncode == 1, result.stderr
    *mismatches, summary = records(result.stdout)
    found = {(m["kind"], m["order_id"], m["reference"]) for m in mismatches}
    assert found == {
        ("FAILED", declined, "r-declined"),
        ("PENDING_TOO_LONG", pending, "r-pending"),
        ("MISSING_ON_WIX", lost, "r-lost"),
        ("AMOUNT_DIFFERS", short, "r-short"),
        ("ITEMS_DIFFER", items, "r-items"),
        ("UNKNOWN_REFERENCE", paid, "someone-else"),
    }
    assert len(mismatches) == len(found)
    assert (summary["type"], summary["command"], summary["exit_code"]) == ("summary", "reconcile", 1)
    assert (summary["entries"], summary["mismatches"], summary["ok"]) == (6, 6, False)
    by_kind = {m["kind"]: m for m in mismatches}
    assert "asked 10.00 USD, Wix holds 7.00 USD" in by_kind["AMOUNT_DIFFERS"]["detail"]
    assert f"asked 2 x line {line.lower()}, Wix refunded 1 x line {line.lower()}" in by_kind["ITEMS_DIFFER"]["detail"]
    assert by_kind["MISSING_ON_WIX"]["entry_state"] == "SENT"
    assert by_kind["UNKNOWN_REFERENCE"]["entry_state"] is None

    text = cli(fake, served, "reconcile", env=env)
    assert text.returncode == 1
    failed = "FAILED: 10.00 USD failed on Wix; 0.00 USD of the 10.00 USD asked went back"
    assert f"order {declined}, reference r-declined: {failed}" in text.stdout
    assert "5 mismatches in 6 journal entries on 6 orders" in text.stdout  # 7 days pending is not too long yet
    assert fake.refunded_total(declined) == Decimal(0)


def test_reconcile_since_a_date_leaves_out_older_entries(fake: FakeWix, served: str, tmp_path: Path) -> None:
    journal_path = tmp_path / "journal.sqlite3"
    env = env_for(fake, WIX_REFUNDS_JOURNAL=str(journal_path))
    journal = SqliteJournal(journal_path)
    _by_hand(journal, fake, fake.add_order(), "r-old", ago=10 * 86400)
    journal.close()
    assert cli(fake, served, "reconcile", env=env).returncode == 1
    since = (datetime.now(timezone.utc) - timedelta(days=2)).date().isoformat()
    result = cli(fake, served, "reconcile", "--since", since, env=env)
    assert result.returncode == 0, result.stderr
    assert f"all 0 journal entries sent since {since}T00:00:00+00:00" in result.stdout
    bad = cli(fake, served, "reconcile", "--since", "last tuesday", env=env)
    assert bad.returncode == 2
    assert "--since" in bad.stderr
