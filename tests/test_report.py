"""The batch report: what it shows done, and a record appended only when a row's outcome changed."""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from wix_refunds.cli._report import Report, recorded_at

OLD_REPORTS = Path(__file__).parent / "old_reports"


def _failed(request_id: str, at: str, message: str = "refunds are disabled") -> dict[str, Any]:
    return {
        "type": "order",
        "order_id": "o-1",
        "status": "FAILED",
        "reference": "r-1",
        "refunded": "0.00",
        "currency": "USD",
        "error": {"type": "RefundNotSupported", "message": message, "status": None, "code": None,
                  "request_id": request_id, "retryable": False, "reference": "r-1"},
        "row_key": "o-1/r-1",
        "recorded_at": at,
    }  # fmt: skip


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_a_row_failing_the_same_way_again_is_not_appended_though_its_time_and_request_id_changed(
    tmp_path: Path,
) -> None:
    path = tmp_path / "report.jsonl"
    report = Report(str(path), warn=print)
    assert report.write(_failed("req-1", "2024-06-01T12:00:00Z"))
    assert not report.write(_failed("req-2", "2024-06-01T12:05:00Z"))
    report.close()
    again = Report(str(path), warn=print)  # a re-run reads the row's latest record back
    assert not again.write(_failed("req-3", "2024-06-02T09:00:00Z"))
    assert again.write(_failed("req-4", "2024-06-02T09:00:00Z", message="the order is archived"))
    assert again.write({**_failed("req-5", "2024-06-02T10:00:00Z"), "status": "COMPLETED", "error": None})
    again.close()
    assert [(d["status"], d["error"] and d["error"]["request_id"]) for d in _lines(path)] == [
        ("FAILED", "req-1"),
        ("FAILED", "req-4"),
        ("COMPLETED", None),
    ]
    last = Report(str(path), warn=print)
    last.close()
    assert list(last.done) == ["o-1/r-1"]


def test_a_report_written_before_records_had_a_time_and_an_order_number_is_read_as_before(tmp_path: Path) -> None:
    path = tmp_path / "report.jsonl"
    shutil.copy(OLD_REPORTS / "report-0.1.0.jsonl", path)
    warnings: list[str] = []
    report = Report(str(path), warn=warnings.append)
    assert warnings == []
    assert sorted(report.done) == [
        "6b1f8a52-0c3e-4d8e-9f1a-2b7c4d5e6f01/r-1",
        "6b1f8a52-0c3e-4d8e-9f1a-2b7c4d5e6f02/r-2",
    ]
    (failed,) = (d for d in _lines(path) if d["status"] == "FAILED")
    assert "recorded_at" not in failed
    # The old FAILED record is the row's latest: the same failure again adds nothing.
    assert not report.write({**failed, "recorded_at": recorded_at(), "order_number": "10003"})
    report.close()
    assert path.read_bytes() == (OLD_REPORTS / "report-0.1.0.jsonl").read_bytes()


def test_a_records_time_is_utc_iso_8601_to_the_second() -> None:
    assert recorded_at(datetime(2024, 6, 1, 14, 0, 0, 999, tzinfo=timezone(timedelta(hours=2)))) == (
        "2024-06-01T12:00:00Z"
    )
    assert datetime.fromisoformat(recorded_at().replace("Z", "+00:00")).tzinfo is not None
