"""wix-refunds status --report: every row of a real batch followed on FakeWix served over HTTP."""

from __future__ import annotations

import json
from pathlib import Path

from wix_refunds.testing import FakeWix

from .command import cli, records, start, write_csv

SEARCH, LIST_BY_IDS = "/ecom/v1/orders/search", "/ecom/v1/payments/list-by-ids"


def _batch(fake: FakeWix, served: str, tmp_path: Path, rows: list[str], name: str = "orders") -> Path:
    """Run a batch of ``rows`` with a report; return the report."""
    report = tmp_path / "report.jsonl"
    done = cli(fake, served, "batch", str(write_csv(tmp_path / f"{name}.csv", rows)), "--report", str(report), "--yes")
    assert done.returncode == 0, done.stderr
    return report


def test_status_report_follows_every_row_of_a_batch_with_two_shared_reads_and_no_write(
    fake: FakeWix, served: str, tmp_path: Path
) -> None:
    orders = [fake.add_order(total="80") for _ in range(5)]
    report = _batch(fake, served, tmp_path, [f"{oid},10,late,r-{n}" for n, oid in enumerate(orders)])
    before, writes = len(fake.requests), list(fake.writes)
    result = cli(fake, served, "status", "--report", str(report))
    assert result.returncode == 0, result.stderr
    for n, oid in enumerate(orders):
        assert f"orders.csv:{n + 2}: order {oid}, reference r-{n}: SUCCEEDED" in result.stdout
    assert "SUCCEEDED        5" in result.stdout
    assert "PENDING          0" in result.stdout
    assert [r.path for r in fake.requests[before:]] == [SEARCH, LIST_BY_IDS]
    assert fake.writes == writes


def test_status_report_shows_a_refund_the_provider_settles_later_as_pending_then_succeeded(
    fake: FakeWix, served: str, tmp_path: Path
) -> None:
    slow, quick = fake.add_order(total="80"), fake.add_order(total="30")
    fake.refund_status = "PENDING"
    report = _batch(fake, served, tmp_path, [f"{slow},20,,r-slow"])
    fake.refund_status = "SUCCEEDED"
    report = _batch(fake, served, tmp_path, [f"{quick},,,r-quick"], name="more")
    pending = records(cli(fake, served, "status", "--report", str(report), "--json").stdout)
    assert [(r["reference"], r["state"], r["pending"]) for r in pending[:2]] == [
        ("r-slow", "PENDING", "20.00"),
        ("r-quick", "SUCCEEDED", "0.00"),
    ]
    assert pending[-1]["states"] == {"SUCCEEDED": 1, "PENDING": 1, "FAILED": 0, "NOT_FOUND": 0}
    assert pending[-1]["exit_code"] == 0
    fake.finish_refunds(slow)
    settled = cli(fake, served, "status", "--report", str(report))
    assert settled.returncode == 0, settled.stderr
    assert "SUCCEEDED        2" in settled.stdout


def test_status_report_exits_1_naming_a_row_the_provider_declined_after_answering_pending(
    fake: FakeWix, served: str, tmp_path: Path
) -> None:
    paid, declined = fake.add_order(total="80"), fake.add_order(total="80")
    report = _batch(fake, served, tmp_path, [f"{paid},10,,r-paid"])
    fake.decline = "later"
    report = _batch(fake, served, tmp_path, [f"{declined},10,,r-declined"], name="later")
    result = cli(fake, served, "status", "--report", str(report))
    assert result.returncode == 1
    assert f"later.csv:2: order {declined}, reference r-declined: FAILED" in result.stdout
    assert "failed 10.00 USD" in result.stdout
    assert "FAILED           1" in result.stdout
    assert "1 row failed on Wix" in result.stderr


def test_status_report_wait_reads_again_until_the_provider_settles_with_progress_on_stderr(
    fake: FakeWix, served: str, tmp_path: Path
) -> None:
    oid = fake.add_order(total="80")
    fake.refund_status = "PENDING"
    report = _batch(fake, served, tmp_path, [f"{oid},20,,r-1"])
    process = start(fake, served, "status", "--report", str(report), "--wait", "--interval", "0.2", "--json")
    assert process.stderr is not None
    progress = process.stderr.readline()
    assert "1 of 1 row pending on Wix; reading again in 0.2s" in progress
    fake.finish_refunds(oid)
    stdout, _ = process.communicate(timeout=60)
    assert process.returncode == 0
    *rows, summary = records(stdout)
    assert [r["state"] for r in rows] == ["SUCCEEDED"]
    assert (summary["states"]["PENDING"], summary["timed_out"]) == (0, False)


def test_status_report_wait_gives_up_at_its_timeout_and_exits_1_naming_what_is_still_pending(
    fake: FakeWix, served: str, tmp_path: Path
) -> None:
    oid = fake.add_order(total="80")
    fake.refund_status = "PENDING"
    report = _batch(fake, served, tmp_path, [f"{oid},20,,r-1"])
    result = cli(fake, served, "status", "--report", str(report), "--wait", "--timeout", "0.5", "--interval", "0.2")
    assert result.returncode == 1
    assert "PENDING          1" in result.stdout
    assert "1 row still pending after waiting 0.5s" in result.stderr


def test_status_report_reads_each_order_alone_when_wix_refuses_the_list_calls(tmp_path: Path) -> None:
    fake = FakeWix(list_calls=False)
    with fake.serve() as served:
        oid = fake.add_order(total="80")
        report = _batch(fake, served, tmp_path, [f"{oid},10,,r-1"])
        result = cli(fake, served, "status", "--report", str(report))
    assert result.returncode == 0, result.stderr
    assert "reference r-1: SUCCEEDED" in result.stdout


def test_status_report_row_of_an_order_wix_does_not_have_is_not_found(
    fake: FakeWix, served: str, tmp_path: Path
) -> None:
    missing = "00000000-0000-4000-8000-00000000abcd"
    report = tmp_path / "report.jsonl"
    row = {"type": "order", "order_id": missing, "reference": "r-1", "status": "COMPLETED", "currency": "USD"}
    report.write_text(json.dumps(row) + "\n" + '{"type": "order", "cut sh\n')
    result = cli(fake, served, "status", "--report", str(report), "--json")
    assert result.returncode == 0, result.stderr
    [status, summary] = records(result.stdout)
    assert (status["order_id"], status["state"], status["where"]) == (missing, "NOT_FOUND", f"{report}:1")
    assert summary["states"]["NOT_FOUND"] == 1
    assert f"{report}:2: not a JSON object; ignored" in result.stderr


def test_status_with_a_report_and_an_order_id_or_wait_without_a_report_is_a_usage_error(
    fake: FakeWix, served: str, tmp_path: Path
) -> None:
    oid = fake.add_order()
    both = cli(fake, served, "status", oid, "r-1", "--report", str(tmp_path / "r.jsonl"))
    assert both.returncode == 2
    assert "not both" in both.stderr
    waiting = cli(fake, served, "status", oid, "r-1", "--wait")
    assert waiting.returncode == 2
    assert "--report" in waiting.stderr
    neither = cli(fake, served, "status")
    assert neither.returncode == 2
    assert "ORDER_ID and REFERENCE" in neither.stderr
    absent = cli(fake, served, "status", "--report", str(tmp_path / "absent.jsonl"))
    assert absent.returncode == 2
    assert "cannot be read" in absent.stderr
    assert fake.requests == []
