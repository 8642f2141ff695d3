"""What a batch says at the end, and its report: against FakeWix served on loopback.

The totals say what this run sent apart from what was done already, money moved through
Wix apart from money only recorded, pending apart, and the whole file's total; the figures
are the same whether a re-run skips the done rows by its report or finds them on Wix.
"""

from __future__ import annotations

import json
import re
import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

from wix_refunds.testing import FakeWix

from .command import cli, cli_process, env_for, records, run_on_terminal, write_csv

OLD_REPORTS = Path(__file__).parent / "old_reports"
ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def _three_kinds(fake: FakeWix, tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """Return a file of three rows: a partial refund in USD, one in JPY, and an offline payment (only recorded)."""
    orders = {
        "usd": fake.add_order(total="80"),
        "jpy": fake.add_order(total="5000", currency="JPY"),
        "offline": fake.add_order(total="35", payments="offline"),
    }
    rows = [f"{orders['usd']},12.50,late,", f"{orders['jpy']},1000,,", f"{orders['offline']},,,"]
    return write_csv(tmp_path / "refunds.csv", rows), orders


def _summary(fake: FakeWix, served: str, path: Path, *args: str) -> dict[str, Any]:
    result = cli(fake, served, "--json", "batch", str(path), "--yes", *args)
    assert result.returncode == 0, result.stderr
    summary: dict[str, Any] = records(result.stdout)[-1]
    return summary


def _money(bucket: dict[str, Any]) -> tuple[int, dict[str, str], dict[str, str]]:
    return bucket["rows"], bucket["through_wix"], bucket["outside_wix"]


MOVED = {"JPY": "1000", "USD": "12.50"}
RECORDED = {"USD": "35.00"}


def test_a_first_run_counts_what_it_sent_money_moved_apart_from_money_recorded_per_currency(
    fake: FakeWix, served: str, tmp_path: Path
) -> None:
    path, _ = _three_kinds(fake, tmp_path)
    result = cli(fake, served, "batch", str(path), "--yes", "--report", str(tmp_path / "report.jsonl"))
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert "this run (sent now): 3 rows\n  refunded through Wix: 1000 JPY, 12.50 USD\n" in text
    assert "  recorded as refunded outside Wix: 35.00 USD (Wix moved no money: the merchant pays it back)" in text
    assert "already done" not in text
    assert "whole file so far" in text
    assert fake.count_writes("refund") == 3


def test_a_rerun_counts_the_refunds_it_found_as_done_already_the_same_with_and_without_the_report(
    fake: FakeWix, served: str, tmp_path: Path
) -> None:
    path, _ = _three_kinds(fake, tmp_path)
    report = str(tmp_path / "report.jsonl")
    first = _summary(fake, served, path, "--report", report)["totals"]
    assert _money(first["this_run"]) == (3, MOVED, RECORDED)
    without = cli(fake, served, "batch", str(path), "--yes")
    with_report = cli(fake, served, "batch", str(path), "--yes", "--report", report)
    for result in (without, with_report):
        assert result.returncode == 0, result.stderr
        assert "this run (sent now): nothing sent\n" in result.stdout
        assert "already done before this run (nothing sent now): 3 rows\n" in (result.stdout)
    # The money lines after the status counts read the same either way.
    assert without.stdout.split("this run")[1] == with_report.stdout.split("this run")[1]
    assert "3 rows already done in an earlier run" in with_report.stdout
    assert with_report.stdout.startswith("3 rows already done"), "no status table of no rows before it"
    again = [_summary(fake, served, path), _summary(fake, served, path, "--report", report)]
    for summary in again:
        totals = summary["totals"]
        assert _money(totals["this_run"]) == (0, {}, {})
        assert _money(totals["already_done"]) == (3, MOVED, RECORDED)
        assert _money(totals["file"]) == _money(first["file"]) == (3, MOVED, RECORDED)
    assert fake.count_writes("refund") == 3


def test_a_dry_run_plans_money_moved_apart_from_money_only_recorded(fake: FakeWix, served: str, tmp_path: Path) -> None:
    path, _ = _three_kinds(fake, tmp_path)
    result = cli(fake, served, "batch", str(path), "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "to refund through Wix: 1 order, 1000 JPY\nto refund through Wix: 1 order, 12.50 USD\n" in result.stdout
    assert "to record as refunded outside Wix: 1 order, 35.00 USD (Wix moves no money" in result.stdout
    assert "this run" not in result.stdout
    assert fake.writes == []


def test_a_resume_after_a_decline_folds_the_done_rows_into_one_line_and_records_a_row_again_only_if_it_changed(
    fake: FakeWix, served: str, tmp_path: Path
) -> None:
    _, orders = _three_kinds(fake, tmp_path)
    disabled = fake.add_order(payments="refund_disabled")
    path = tmp_path / "refunds.csv"
    path.write_text(path.read_text() + f"{disabled},,,\n")
    report = tmp_path / "report.jsonl"

    def added(since: int) -> list[tuple[str, str]]:
        return [(d["order_id"], d["status"]) for d in map(json.loads, report.read_text().splitlines()[since:])]

    (payment,) = (p["id"] for p in fake.payments[orders["usd"]])
    fake.decline_payment(payment)
    first = cli(fake, served, "batch", str(path), "--yes", "--report", str(report))
    assert first.returncode == 1
    # The failures come last, so that they stay on the screen.
    assert re.search(r"\nfailed:\n(  \S+refunds\.csv:\d order .*\n){2}$", first.stdout), first.stdout
    count = len(report.read_text().splitlines())
    second = cli(fake, served, "batch", str(path), "--yes", "--report", str(report))
    assert second.returncode == 1
    assert "\n2 rows already done in an earlier run" in second.stdout
    assert "order " + orders["jpy"] not in second.stdout
    # The declined row sent a new refund (declined again): a new record. The disabled one sent nothing: none.
    assert added(count) == [(orders["usd"], "FAILED")]
    count = len(report.read_text().splitlines())
    fake.decline_payment(payment, "never")
    third = cli(fake, served, "--json", "batch", str(path), "--yes", "--report", str(report))
    assert third.returncode == 1
    summary = records(third.stdout)[-1]
    assert _money(summary["totals"]["this_run"]) == (1, {"USD": "12.50"}, {})
    assert _money(summary["totals"]["already_done"]) == (2, {"JPY": "1000"}, RECORDED)
    assert _money(summary["totals"]["file"]) == (3, MOVED, RECORDED)
    assert added(count) == [(orders["usd"], "COMPLETED")]
    assert fake.refunded_total(orders["usd"]) == Decimal("12.50")


def test_a_pending_refund_is_counted_apart_until_wix_settles_it_and_is_recorded_again_only_then(
    fake: FakeWix, served: str, tmp_path: Path
) -> None:
    oid = fake.add_order(total="40")
    path = write_csv(tmp_path / "in.csv", [f"{oid},20,,"])
    report = tmp_path / "report.jsonl"
    fake.refund_status = "PENDING"
    sent = cli(fake, served, "batch", str(path), "--yes", "--report", str(report))
    assert "this run (sent now): 1 row, 1 of them pending on Wix (below)" in sent.stdout
    assert "pending on Wix (not settled yet; the provider may still decline it): 1 row\n" in sent.stdout
    assert "  through Wix, not settled: 20.00 USD" in sent.stdout
    assert "refunded through Wix" not in sent.stdout
    still = _summary(fake, served, path, "--report", str(report))["totals"]
    assert _money(still["this_run"]) == (0, {}, {})
    assert _money(still["pending"]) == (1, {"USD": "20.00"}, {})
    assert (still["file"]["through_wix"], still["file"]["pending"]) == ({}, {"USD": "20.00"})
    assert len(report.read_text().splitlines()) == 1
    fake.finish_refunds(oid)
    settled = _summary(fake, served, path, "--report", str(report))["totals"]
    assert _money(settled["already_done"]) == (1, {"USD": "20.00"}, {})
    assert (settled["file"]["through_wix"], settled["file"]["pending"]) == ({"USD": "20.00"}, {})
    assert [json.loads(line)["status"] for line in report.read_text().splitlines()] == ["PENDING", "ALREADY_DONE"]
    assert fake.count_writes("refund") == 1


def test_report_records_carry_their_utc_time_and_the_order_number(fake: FakeWix, served: str, tmp_path: Path) -> None:
    path, orders = _three_kinds(fake, tmp_path)
    report = tmp_path / "report.jsonl"
    cli(fake, served, "batch", str(path), "--yes", "--report", str(report))
    written = [json.loads(line) for line in report.read_text().splitlines()]
    assert all(ISO_UTC.match(d["recorded_at"]) for d in written)
    numbers = {d["order_id"]: d["order_number"] for d in written}
    assert numbers == {oid: fake.orders[oid]["number"] for oid in orders.values()}


def test_a_resume_reads_a_report_written_before_records_had_a_time_and_an_order_number(
    fake: FakeWix, served: str, tmp_path: Path
) -> None:
    # The orders the old report names: two done (12.50 USD moved, 35.00 USD recorded) and one FAILED.
    for last, kind in (("01", "online"), ("02", "offline"), ("03", "online")):
        fake.add_order(total="80", payments=kind, order_id=f"6b1f8a52-0c3e-4d8e-9f1a-2b7c4d5e6f{last}")
    report = tmp_path / "report.jsonl"
    shutil.copy(OLD_REPORTS / "report-0.1.0.jsonl", report)
    path = shutil.copy(OLD_REPORTS / "refunds.csv", tmp_path / "refunds.csv")
    # A process of its own: what an ops person runs after upgrading.
    args = ["--json", "batch", str(path), "--yes", "--report", str(report), "--base-url", served]
    result = cli_process(args, stdin="", env=env_for(fake))
    assert result.returncode == 0, result.stderr
    out = records(result.stdout)
    assert sorted(d["line"] for d in out if d["type"] == "row_skipped") == [2, 3]
    totals = out[-1]["totals"]
    assert _money(totals["already_done"]) == (2, {"USD": "12.50"}, {"USD": "35.00"})
    assert _money(totals["this_run"]) == (1, {"USD": "10.00"}, {})
    assert _money(totals["file"]) == (3, {"USD": "22.50"}, {"USD": "35.00"})
    assert fake.count_writes("refund") == 1
    old = (OLD_REPORTS / "report-0.1.0.jsonl").read_text()
    assert report.read_text().startswith(old)
    (added,) = [json.loads(line) for line in report.read_text()[len(old) :].splitlines()]
    assert (added["line"], added["status"], added["order_number"]) == (4, "COMPLETED", "10003")
    assert ISO_UTC.match(added["recorded_at"])


def test_the_confirmation_of_a_resume_counts_the_rows_its_report_shows_done_as_done_already(
    fake: FakeWix, served: str, tmp_path: Path
) -> None:
    path, orders = _three_kinds(fake, tmp_path)
    report = tmp_path / "report.jsonl"
    first = write_csv(tmp_path / "first.csv", path.read_text().splitlines()[1:3])
    assert cli(fake, served, "batch", str(first), "--yes", "--report", str(report)).returncode == 0
    code, text = run_on_terminal(fake, ["batch", str(path), "--report", str(report), "--base-url", served], "n")
    assert code == 0
    assert f"done already in {report}: 2 rows (skipped)" in text
    assert "already done before this run (nothing sent now): 2 rows" in text
    assert "refunded through Wix: 1000 JPY, 12.50 USD" in text
    assert "to record as refunded outside Wix: 1 order, 35.00 USD" in text
    assert "this run (sent now)" not in text
    assert fake.count_writes("refund", orders["offline"]) == 0
