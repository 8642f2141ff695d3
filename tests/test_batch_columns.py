"""A batch file's header and amounts: which columns are read, which ignored, and how an amount is read."""

from __future__ import annotations

import pathlib
from decimal import Decimal

import pytest

from wix_refunds import InvalidRequest
from wix_refunds.cli._batch_columns import read_amount, read_header
from wix_refunds.cli._batch_file import read_batch_file
from wix_refunds.cli._batch_text import BatchFileError


@pytest.mark.parametrize(
    ("cells", "full", "names", "ignored"),
    [
        (["Order ID", "Amount", "Customer Email"], False, ("order_id", "amount", ""), ("Customer Email",)),
        (["order_number", "Notes"], True, ("order_number", ""), ("Notes",)),
        (["order_id", "", "reason"], False, ("order_id", "", "reason"), ()),
    ],
)
def test_other_columns_are_ignored_where_no_column_can_be_the_amount(
    cells: list[str], full: bool, names: tuple[str, ...], ignored: tuple[str, ...]
) -> None:
    header = read_header("in.csv", 1, cells, ",", full=full)
    assert (header.names, header.ignored) == (names, ignored)


@pytest.mark.parametrize(
    ("cells", "full", "says"),
    [
        (["order_id", "amout", "Email"], False, "unknown columns 'amout', 'Email'"),
        (["order_id", "Email"], False, "unknown column 'Email'"),
        (["order_id", "amount"], True, "--full refunds everything refundable of each order"),
        (["order_id", "line_item_id"], True, "but the file has the column line_item_id"),
        (["Email", "Notes"], False, "no order_id or order_number column"),
        (["order_id", "Order ID"], False, "the column order_id is named twice"),
        (["order_id", "amount", "line_item", "qty"], False, "the column 'line_item' looks like a misspelling"),
        (["order_id", "amount", "Item ID"], False, "the column 'Item ID' looks like a misspelling"),
        (["order_id", "amount", "refrence"], False, "the column 'refrence' looks like a misspelling"),
        (["order_id", "amount", "Refund Reference"], False, "the column 'Refund Reference' looks like"),
        (["order_id", "amount", "quantiy", "line_item_id"], False, "the column 'quantiy' looks like"),
    ],
)
def test_a_header_that_could_misread_a_refund_is_refused(cells: list[str], full: bool, says: str) -> None:
    with pytest.raises(BatchFileError, match=says):
        read_header("in.csv", 1, cells, ",", full=full)


@pytest.mark.parametrize(
    ("text", "delimiter", "amount", "read"),
    [
        ("12,50", ";", Decimal("12.50"), "12,50 -> 12.50"),
        ("7,5", ";", Decimal("7.5"), "7,5 -> 7.5"),
        ("12.50", ";", Decimal("12.50"), None),
        ("12", ";", Decimal("12"), None),
        ("12.50", ",", Decimal("12.50"), None),
    ],
)
def test_a_decimal_comma_is_read_in_a_semicolon_file_and_says_how(
    text: str, delimiter: str, amount: Decimal, read: str | None
) -> None:
    assert read_amount(text, delimiter) == (amount, read)


@pytest.mark.parametrize(
    ("text", "delimiter"),
    [("12,50", ","), ("12,50", "\t"), ("1.234,50", ";"), ("1,234.50", ";"), ("$12.50", ";"), ("12,", ";")],
)
def test_a_decimal_comma_elsewhere_and_separators_stay_refused(text: str, delimiter: str) -> None:
    with pytest.raises(InvalidRequest):
        read_amount(text, delimiter)


def test_a_misspelt_line_item_column_never_turns_an_item_refund_into_a_full_one(tmp_path: pathlib.Path) -> None:
    # With an amount column other columns are ignored; a row refunding an item has no
    # amount, so with its line_item_id column ignored it would read as a full refund.
    path = tmp_path / "items.csv"
    path.write_text("order_id,amount,line_item,qty\n3f2a6c1e-8b1d-4c55-9a3e-2d6f0b7c9e41,,li-1,1\n")
    with pytest.raises(BatchFileError, match="'line_item' looks like a misspelling"):
        read_batch_file(str(path))


def test_export_columns_are_still_ignored_beside_an_amount_column() -> None:
    cells = ["Order ID", "Order #", "Amount", "Qty", "Item's Name", "Gift card amount", "Tracking number", "Total"]
    header = read_header("in.csv", 1, cells, ",")
    assert header.ignored == ("Order #", "Qty", "Item's Name", "Gift card amount", "Tracking number", "Total")
