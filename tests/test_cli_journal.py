"""The command and its journal, as an operator meets them: killed mid-write, run again at once.

FakeWix commits each of these writes a second after receiving it (``apply_late_next``
holds the connection meanwhile), so the first process is stopped while its write is in
flight; the re-run starts at once, finds nothing on Wix yet, and waits: its re-reads, 0.5 s
and then 1.5 s after its first, see the write land. Wix's books (the fake's) are the judge.
"""

from __future__ import annotations

import signal
import subprocess
import time
from decimal import Decimal
from pathlib import Path

import pytest

from wix_refunds.testing import FakeWix

from .command import cli, env_for, records, start, write_csv

REFUND = "/ecom/v1/order-billing/refund-payments"


def _stop_during_the_write(fake: FakeWix, process: subprocess.Popen[str], how: signal.Signals, writes: int = 1) -> None:
    """Send ``how`` to ``process`` once Wix has received ``writes`` refund writes (not yet committed)."""
    deadline = time.monotonic() + 30
    while len(fake.calls(method="POST", path=REFUND)) < writes and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(fake.calls(method="POST", path=REFUND)) >= writes, "the refund write never reached Wix"
    process.send_signal(how)
    process.communicate(timeout=30)


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT])
def test_a_refund_stopped_during_a_slow_commit_and_run_again_at_once_is_paid_once(
    fake: FakeWix, served: str, how: signal.Signals
) -> None:
    oid = fake.add_order(total="100")
    fake.apply_late_next("POST", REFUND, after=1.0)
    args = ("refund", oid, "--amount", "10.00", "--reference", "int-1", "--yes")
    _stop_during_the_write(fake, start(fake, served, *args), how)
    again = cli(fake, served, *args)
    fake.settle()
    assert again.returncode == 0, again.stderr
    assert fake.refunded_total(oid) == Decimal("10"), f"Wix holds {fake.refunded_total(oid)} for 10.00 asked"
    assert fake.count_writes("refund", oid) == 1
    assert "ALREADY_DONE" in again.stdout
    assert "may still land; waiting" in again.stderr


def test_an_item_refund_killed_during_its_write_restocks_once_after_an_immediate_rerun(
    fake: FakeWix, served: str
) -> None:
    oid = fake.add_order(total="35", line_items=[3], shipping="5")
    line = fake.orders[oid]["lineItems"][0]["id"]
    fake.apply_late_next("POST", REFUND, after=1.0)
    args = ("refund", oid, "--item", f"{line}:1:restock", "--yes")
    _stop_during_the_write(fake, start(fake, served, *args), signal.SIGKILL)
    again = cli(fake, served, *args)
    fake.settle()
    assert again.returncode == 0, again.stderr
    assert fake.count_writes("refund", oid) == 1
    assert fake.orders[oid]["lineItems"][0]["refundQuantity"] == 1
    assert fake.orders[oid]["lineItems"][0]["restockQuantity"] == 1


def test_a_batch_killed_during_its_writes_and_resumed_at_once_pays_each_row_once(
    fake: FakeWix, served: str, tmp_path: Path
) -> None:
    ids = [fake.add_order(total="50") for _ in range(6)]
    path = write_csv(tmp_path / "in.csv", [f"{oid},5,," for oid in ids])
    report = tmp_path / "report.jsonl"
    fake.apply_late_next("POST", REFUND, after=1.0, times=6)
    args = ("batch", str(path), "--yes", "--report", str(report), "--rate-limit", "100000", "--force")
    _stop_during_the_write(fake, start(fake, served, *args), signal.SIGKILL, writes=6)
    again = cli(fake, served, *args)
    fake.settle()
    assert again.returncode == 0, again.stderr[-2000:]
    held = {oid: fake.refunded_total(oid) for oid in ids}
    assert held == {oid: Decimal("5") for oid in ids}, f"Wix holds {held} for 5.00 a row"


def test_the_same_refund_run_again_while_wix_lists_it_late_is_not_paid_again(fake: FakeWix, served: str) -> None:
    oid = fake.add_order(total="100")
    fake.lag_listing(3.0)
    args = ("--json", "refund", oid, "--amount", "10", "--reference", "lag-cli", "--yes")
    first = cli(fake, served, *args)
    again = cli(fake, served, *args)
    assert (first.returncode, again.returncode) == (0, 0), again.stderr
    assert records(again.stdout)[0]["status"] == "ALREADY_DONE"
    assert fake.count_writes("refund", oid) == 1


def _stores_file(tmp_path: Path, fake: FakeWix, journal: Path) -> Path:
    stores = tmp_path / "stores.toml"
    stores.write_text(
        f'[stores.shop]\naccount_id = "{fake.account_id}"\nsite_id = "{fake.site_id}"\n'
        f'api_key_env = "WIX_API_KEY"\njournal = "{journal}"\n'
    )
    return stores


def test_a_store_that_names_its_journal_refuses_a_run_told_to_use_another(
    fake: FakeWix, served: str, tmp_path: Path
) -> None:
    oid = fake.add_order(total="100")
    kept, other = tmp_path / "shop.sqlite3", tmp_path / "mine.sqlite3"
    stores = _stores_file(tmp_path, fake, kept)
    env = env_for(fake, WIX_ACCOUNT_ID=None, WIX_SITE_ID=None)
    args = ("--store", "shop", "--config", str(stores), "refund", oid, "--amount", "10", "--yes")
    refused = cli(fake, served, *args, "--journal", str(other), env=env)
    assert refused.returncode == 2
    assert f"sqlite:{kept}" in refused.stderr
    assert f"sqlite:{other}" in refused.stderr
    assert fake.count_writes("refund", oid) == 0
    used = cli(fake, served, "--json", *args, env=env)
    assert used.returncode == 0, used.stderr
    assert records(used.stdout)[-1]["journal"] == f"sqlite:{kept}"
    assert kept.exists()
    assert not other.exists()


def test_the_confirmation_and_the_plan_name_the_journal(fake: FakeWix, served: str, tmp_path: Path) -> None:
    oid = fake.add_order(total="100")
    journal = tmp_path / "j.sqlite3"
    refund = cli(fake, served, "refund", oid, "--amount", "10", "--journal", str(journal), "--yes")
    assert f"journal: sqlite:{journal}" in refund.stderr
    plan = cli(fake, served, "plan", oid, "--journal", str(journal))
    assert f"journal: sqlite:{journal}" in plan.stderr
