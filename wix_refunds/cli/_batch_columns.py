"""A batch file's header and amounts: the columns read, the columns ignored, an amount as written. No Wix here.

Other columns (``Customer Email``, ``Billing Name``: almost every export has some) are
ignored and named once, but only where no column can be mistaken for the amount: when the
file has an amount column, or ``--full`` says every row is a full refund. Without either,
a misspelt amount column (``amout``) would turn every partial refund into a full one, so
the file is refused as a whole.

A decimal comma (``12,50``) is read as 12.50 in a semicolon-separated file, where it is
what a European spreadsheet writes; in a comma-separated file it stays refused, since
``1,234`` there may as well be a thousand.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from decimal import Decimal

import attrs

from ..core._money import parse_amount
from ..wix._json import is_guid
from ._batch_text import BatchFileError

__all__ = ["COLUMNS", "DELIMITERS", "Header", "read_amount", "read_header", "split_decimal"]

COLUMNS = (
    "order_id",
    "order_number",
    "amount",
    "reason",
    "reference",
    "line_item_id",
    "quantity",
    "restock",
)
DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab"}
_ITEM_COLUMNS = ("line_item_id", "quantity", "restock")
_DECIMAL_COMMA = re.compile(r"([0-9]+),([0-9]+)")


@attrs.frozen(kw_only=True)
class Header:
    """What a header names: for each cell the column read (``""``: unnamed or ignored), and the columns ignored."""

    names: tuple[str, ...]
    #: The indexes of the ignored columns: their values are not read.
    ignored_at: frozenset[int]
    #: The ignored columns, as written.
    ignored: tuple[str, ...]


def _column_key(name: str) -> str:
    return re.sub(r"[\s_-]+", "", name).lower()


_KNOWN = {_column_key(name): name for name in COLUMNS}
# Columns whose loss would change what is sent, by their names' words: without its line
# item a row with no amount is a full refund; without its reference a refund made before
# under that reference is made again.
_LOOKS_READ = ("lineitem", "itemid", "reference")


def _looks_like_a_column(key: str) -> bool:
    """Return whether an unknown column's key reads as a misspelling of a column this reader reads."""
    if any(word in key for word in _LOOKS_READ):
        return True
    return any(difflib.SequenceMatcher(None, key, known).ratio() >= 0.8 for known in _KNOWN)


def read_header(path: str, line: int, cells: list[str], delimiter: str, *, full: bool = False) -> Header:
    """Return the columns of the header ``cells`` (line ``line`` of ``path``).

    Raises:
        BatchFileError: a row where the header should be, no order_id or order_number
            column, a column named twice, an unknown column named like one it reads
            (``line_item``, ``refrence``), other columns in a file with no amount column
            and no ``--full``, or ``--full`` with an amount or item column.
    """
    found = ", ".join(repr(cell.strip()) for cell in cells)
    expected = (
        "the header needs order_id (or order_number), and may have amount, reason and reference "
        f"({DELIMITERS[delimiter]}-separated)"
    )
    if is_guid(cells[0].strip()):
        raise BatchFileError(
            f"{path}:{line} is a row, not a header: add a first line naming the columns, such as {','.join(COLUMNS)}"
        )
    names: list[str] = []
    unknown: list[int] = []
    for index, cell in enumerate(cells):
        key = _column_key(cell)
        names.append(_KNOWN.get(key, ""))  # "": an unnamed column (rows must leave it empty) or an unknown one
        if key and key not in _KNOWN:
            unknown.append(index)
    if "order_id" not in names and "order_number" not in names:
        raise BatchFileError(f"{path}:{line}: no order_id or order_number column; found {found}; {expected}")
    repeated = sorted(name for name, count in Counter(n for n in names if n).items() if count > 1)
    if repeated:
        raise BatchFileError(f"{path}:{line}: the column {repeated[0]} is named twice (found {found})")
    named = [name for name in ("amount", *_ITEM_COLUMNS) if name in names]
    if full and named:
        raise BatchFileError(
            f"{path}:{line}: --full refunds everything refundable of each order, but the file has the column "
            f"{named[0]}; remove the column, or run without --full"
        )
    ignored = tuple(cells[i].strip() for i in unknown)
    if ignored and "amount" not in names and not full:
        raise BatchFileError(
            f"{path}:{line}: unknown column{'s' if len(ignored) > 1 else ''} {', '.join(map(repr, ignored))} "
            f"(found {found}); {expected}. Other columns are ignored only when the file has an amount column, "
            "or with --full (every row a full refund): a misspelt amount column must not turn every partial "
            "refund into a full one"
        )
    misspelt = [cells[i].strip() for i in unknown if _looks_like_a_column(_column_key(cells[i]))]
    if misspelt:
        raise BatchFileError(
            f"{path}:{line}: the column {misspelt[0]!r} looks like a misspelling of one this reader reads "
            f"(found {found}); {expected}, line_item_id, quantity and restock. Rename it, or remove it: "
            "ignored, a misspelt line_item_id would turn item refunds into full ones, a misspelt reference "
            "would refund again what was refunded under it"
        )
    return Header(names=tuple(names), ignored_at=frozenset(unknown), ignored=ignored)


def read_amount(text: str, delimiter: str) -> tuple[Decimal, str | None]:
    """Return the amount ``text`` is, and ``"12,50 -> 12.50"`` when it was read with a decimal comma.

    Raises:
        InvalidRequest: an amount the library's money rules refuse (a decimal comma outside a
            semicolon-separated file among them), saying what to write instead.
    """
    match = _DECIMAL_COMMA.fullmatch(text)
    if delimiter == ";" and match:
        amount = parse_amount(f"{match.group(1)}.{match.group(2)}")
        return amount, f"{text} -> {amount}"
    return parse_amount(text), None


def split_decimal(names: tuple[str, ...], values: dict[str, str]) -> bool:
    """Return whether an amount and the reason after it look like one amount split at a decimal comma."""
    if "amount" not in names or "reason" not in names:
        return False
    after_amount = names.index("amount") + 1 == names.index("reason")
    return after_amount and bool(
        re.fullmatch(r"[0-9]+", values["amount"]) and re.fullmatch(r"[0-9]+", values["reason"])
    )
