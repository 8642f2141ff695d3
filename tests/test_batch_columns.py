"""A batch file's header and amounts: which columns are read, which ignored, and how an amount is read."""

from __future__ import annotations

from decimal import Decimal

import pytest

from wix_refunds import InvalidRequest
from wix_refunds.cli._batch_columns import read_amount, read_header
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
