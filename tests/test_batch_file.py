"""The batch file reader and its report, in-process: row identity, derived references, torn lines."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from wix_refunds import RefundRequest
from wix_refunds.cli._batch_file import BatchFileError, read_batch_file
from wix_refunds.cli._report import Report
from wix_refunds.core._references import derive_reference

A = "3f2a6c1e-8b1d-4c55-9a3e-2d6f0b7c9e41"
B = "0c87cd5d-4059-4e86-8f6e-d185b1e4a1bd"


def _derived(order_id: str, amount: Decimal | None, occurrence: int = 0) -> str:
    return derive_reference(order_id, RefundRequest(amount=amount), occurrence)


def _read(tmp_path: Path, text: str) -> tuple[list[str], list[str]]:
    path = tmp_path / "in.csv"
    path.write_text(text)
    batch = read_batch_file(str(path))
    rows = [f"{r.line} {r.order_id} {r.request.amount} {r.request.reference}" for r in batch.rows]
    return rows, [f"{e.line}: {e.message}" for e in batch.errors]


def test_rows_of_one_order_with_one_amount_are_told_apart_by_their_occurrence(tmp_path: Path) -> None:
    rows, errors = _read(tmp_path, f"order_id,amount,reason\n{A},10,late\n{A},10,damaged\n{A},5,\n")
    assert errors == []
    assert rows == [
        f"2 {A} 10 {_derived(A, Decimal(10), 0)}",
        f"3 {A} 10 {_derived(A, Decimal(10), 1)}",
        f"4 {A} 5 {_derived(A, Decimal(5), 0)}",
    ]


@pytest.mark.parametrize(
    ("lines", "says"),
    [
        ([f"{A},10,late,", f"{A},10,late,"], "3: is the same refund as line 2"),
        ([f"{A},,,", f"{A},5,,"], "3: refunds an order that line 2 refunds in full already"),
        ([f"{A},5,,", f"{A},,,"], "3: asks for a full refund of an order that line 2 refunds in part"),
        ([f"{A},5,,t-1", f"{A},6,,t-1"], "3: uses reference 't-1' for this order, as line 2 does (5)"),
        ([f"{A},5,,", f"{A.upper()},5,,"], "3: is the same refund as line 2"),
    ],
)
def test_rows_that_would_refund_twice_or_clash_are_refused(tmp_path: Path, lines: list[str], says: str) -> None:
    _, errors = _read(tmp_path, "order_id,amount,reason,reference\n" + "\n".join(lines) + "\n")
    assert len(errors) == 1
    assert errors[0].startswith(says)


@pytest.mark.parametrize(
    ("lines", "says"),
    [
        (
            [f"{A},5,,", f"{A},7,,{_derived(A, Decimal(5))}"],
            "3: is a duplicate of line 2: both end with reference '{ref}' for this order "
            "(given in the file here, derived from the row on line 2)",
        ),
        (
            [f"{A},7,,{_derived(A, Decimal(5))}", f"{A},5,,"],
            "3: is a duplicate of line 2: both end with reference '{ref}' for this order "
            "(derived from the row here, given in the file on line 2)",
        ),
        (
            [f"{A},5,,", f"{B},1,,", f"{A.upper()},5,,{_derived(A, Decimal(5))}"],
            "4: is a duplicate of line 2: both end with reference '{ref}'",
        ),
    ],
    ids=["given after derived", "derived after given", "order in capitals"],
)
def test_a_row_whose_reference_meets_another_rows_derived_one_is_refused_naming_both_lines(
    tmp_path: Path, lines: list[str], says: str
) -> None:
    rows, errors = _read(tmp_path, "order_id,amount,reason,reference\n" + "\n".join(lines) + "\n")
    ref = _derived(A, Decimal(5))
    (error,) = errors
    assert error.startswith(says.format(ref=ref))
    assert error.endswith(", so the two would make one refund; give this row a reference of its own")
    assert [row.split()[0] for row in rows] == ["2", *(["3"] if len(lines) == 3 else [])]


def test_an_item_refund_and_an_amount_row_with_one_given_reference_are_refused_as_duplicates(
    tmp_path: Path,
) -> None:
    text = f"order_id,amount,reference,line_item_id,quantity\n{A},,r-1,L-1,1\n{A},4,r-1,,\n{B},4,r-1,,\n"
    rows, errors = _read(tmp_path, text)
    assert errors == [
        "3: is a duplicate of line 2: both end with reference 'r-1' for this order (given in the file here, "
        "given in the file on line 2), so the two would make one refund; give this row a reference of its own"
    ]
    assert rows == [f"2 {A} None r-1", f"4 {B} 4 r-1"]


def test_every_kept_row_has_a_key_of_its_own(tmp_path: Path) -> None:
    derived = _derived(A, Decimal(5))
    second = _derived(A, Decimal(5), 1)
    text = f"order_id,amount,reason,reference\n{A},5,late,\n{A},5,torn,\n{A},6,,{derived}\n{A},5,,{second}\n"
    path = tmp_path / "in.csv"
    path.write_text(text)
    batch = read_batch_file(str(path))
    keys = [row.key for row in batch.rows]
    assert len(keys) == len(set(keys)) == 2
    assert [error.line for error in batch.errors] == [4, 5]


def test_a_row_with_its_own_reference_is_not_a_duplicate(tmp_path: Path) -> None:
    rows, errors = _read(tmp_path, f"order_id,amount,reference\n{A},10,\n{A},10,again-1\n")
    assert errors == []
    assert [row.split()[-1] for row in rows] == [_derived(A, Decimal(10), 0), "again-1"]


def test_line_numbers_count_blank_lines_and_quoted_line_breaks(tmp_path: Path) -> None:
    rows, errors = _read(tmp_path, f'order_id,reason\n\n"{A}","two\nlines"\n\n{B},x,y\n')
    assert [row.split()[0] for row in rows] == ["3"]
    assert errors == ["6: has 3 fields but the header has 2 (extra: 'y'); quote a value that holds a comma."]


def test_a_utf16_file_with_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_bytes(f"order_id\tamount\n{A}\t1.50\n".encode("utf-16"))
    assert [row.request.amount for row in read_batch_file(str(path)).rows] == [Decimal("1.50")]


def test_a_value_in_an_unnamed_column_is_refused(tmp_path: Path) -> None:
    _, errors = _read(tmp_path, f"order_id;amount;\n{A};1;\n{B};2;x\n")
    assert errors == ["3: has a value in column 3, which the header does not name; name the column or empty it"]


def test_broken_quoting_is_a_file_error_naming_the_line(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text(f'order_id,reason\n{A},"unfinished\n')
    with pytest.raises(BatchFileError, match=r"in\.csv:\d+: the file's quoting is broken"):
        read_batch_file(str(path))


def test_a_report_keeps_a_whole_last_line_that_only_lost_its_line_break(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    line = {"type": "order", "row_key": "a/b", "status": "COMPLETED"}
    path.write_text(json.dumps(line))
    warnings: list[str] = []
    report = Report(str(path), warn=warnings.append)
    report.close()
    assert report.done == {"a/b": line}
    assert warnings == []
    assert path.read_text() == json.dumps(line) + "\n"


def test_a_report_counts_only_completed_and_already_done_rows(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    statuses = ["COMPLETED", "ALREADY_DONE", "FAILED", "DRY_RUN"]
    path.write_text("".join(json.dumps({"type": "order", "row_key": s, "status": s}) + "\n" for s in statuses))
    report = Report(str(path), warn=lambda _: None)
    report.close()
    assert sorted(report.done) == ["ALREADY_DONE", "COMPLETED"]
