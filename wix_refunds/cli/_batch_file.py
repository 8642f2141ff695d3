"""The batch command's files: a strict CSV of refunds in, a JSON-lines report out. No Wix here.

A row, not an order, is the unit of a batch. A row's identity is its content (the order,
lower-cased; the amount, or a full refund; its reference) and its occurrence among the
earlier rows of that order with the same content. The identity gives every row a key and,
when the file names no reference, the reference the refund is tagged with on Wix
(``_references.derive_reference``, which ``wix-refunds refund`` shares). So running the
same file again, with or without a report, finds each refund already made instead of
making it twice; and the report is keyed by row, so resuming skips rows, never whole orders.

What the reader refuses, and how:

- the file as a whole (exit 2, ``BatchFileError``): unreadable, not UTF-8, empty, a header
  without ``order_id``, unknown or repeated columns, broken quoting;
- one row (``RowError``, reported as ``FILE:LINE`` with what to write instead): more fields
  than the header, a value in an unnamed column, an order ID that is not a GUID, an amount
  the library's money rules refuse (``12,50``, ``1e1``, ``1_0``), a reason or reference
  ``RefundRequest`` refuses, a row identical to an earlier one, a second row for an order
  that another row refunds in full, a reference given twice for one order, a row whose
  reference (given or derived) an earlier row of the order ends with too.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from decimal import Decimal
from typing import Any

import attrs

from ..core._errors import InvalidRequest
from ..core._items import RefundItem
from ..core._money import amount_key, parse_amount
from ..core._references import derive_reference
from ..core._request import RefundRequest
from ..wix._json import is_guid
from ._batch_text import BatchFileError, read_text
from ._item_text import parse_item

__all__ = [
    "COLUMNS",
    "DONE_STATUSES",
    "BatchFile",
    "BatchFileError",
    "BatchRow",
    "RowError",
    "read_batch_file",
]

COLUMNS = ("order_id", "amount", "reason", "reference", "line_item_id", "quantity", "restock")
#: The statuses a report line must show for its row to be skipped on a re-run.
DONE_STATUSES = frozenset({"COMPLETED", "ALREADY_DONE"})
_DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab"}
_EXAMPLE_ID = "3f2a6c1e-8b1d-4c55-9a3e-2d6f0b7c9e41"


@attrs.frozen(kw_only=True)
class _Row:
    """Where a row of the file is."""

    file: str
    line: int

    @property
    def where(self) -> str:
        """Return ``FILE:LINE``."""
        return f"{self.file}:{self.line}"


@attrs.frozen(kw_only=True)
class BatchRow(_Row):
    """One good row: where it is, the order, and the request to send (its reference always set)."""

    order_id: str
    request: RefundRequest
    #: The row's identity: the lower-cased order ID and the reference, ``"<order>/<reference>"``.
    key: str
    #: True when the reference was derived from the row, False when the file gave it.
    derived: bool


@attrs.frozen(kw_only=True)
class RowError(_Row):
    """A row refused before anything is sent: where, the order as written, and what to write."""

    order_id: str | None
    message: str


@attrs.frozen(kw_only=True)
class BatchFile:
    """What a batch file holds: its good rows and its refused rows, each in file order."""

    path: str
    columns: tuple[str, ...]
    delimiter: str
    rows: tuple[BatchRow, ...]
    errors: tuple[RowError, ...]
    blank_lines: int


def _amount_key(amount: Decimal | None) -> str:
    # 12.5 and 12.50 are one amount; "full" is a refund of everything left.
    return "full" if amount is None else amount_key(amount)


def _how(row: BatchRow) -> str:
    return "derived from the row" if row.derived else "given in the file"


def _item_of(values: dict[str, str]) -> RefundItem | None:
    """Return the line item a row names (``line_item_id``, ``quantity``, ``restock``), or None."""
    if not values["line_item_id"]:
        if values["quantity"] or values["restock"]:
            raise InvalidRequest("line_item_id", "is empty but quantity or restock is given: name the line item")
        return None
    return parse_item(values["line_item_id"], values["quantity"], values["restock"])


def _column_key(name: str) -> str:
    return re.sub(r"[\s_-]+", "", name).lower()


_KNOWN = {_column_key(name): name for name in COLUMNS}


def read_batch_file(path: str) -> BatchFile:
    """Return the rows of the batch file at ``path``, good and refused.

    Raises:
        BatchFileError: the file cannot be read, is not UTF-8 (or UTF-16 with a BOM), is
            empty, or has a header this reader refuses; the message names the columns found.
    """
    text = read_text(path)
    lines = text.splitlines()
    header_index = next((i for i, line in enumerate(lines) if line.strip()), None)
    if header_index is None:
        raise BatchFileError(
            f"{path} is empty: its first line must be a header naming the columns, such as {','.join(COLUMNS)}"
        )
    header_line = lines[header_index]
    delimiter = max(_DELIMITERS, key=lambda d: (header_line.count(d), d == ","))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    builder = _Builder(path)
    header: list[str] | None = None
    try:
        while True:
            start = reader.line_num + 1
            try:
                cells = next(reader)
            except StopIteration:
                break
            if not any(cell.strip() for cell in cells):
                if header is not None:
                    builder.blank_lines += 1
                continue
            if header is None:
                header = _header(path, start, cells, delimiter)
                continue
            builder.add(start, header, cells, delimiter)
    except csv.Error as exc:
        raise BatchFileError(
            f"{path}:{reader.line_num}: the file's quoting is broken ({exc}); "
            'a value in quotes must end with a quote, and a quote inside it is written twice ("")'
        ) from exc
    assert header is not None
    builder.finish()
    return BatchFile(
        path=path,
        columns=tuple(header),
        delimiter=delimiter,
        rows=tuple(builder.rows),
        errors=tuple(builder.errors),
        blank_lines=builder.blank_lines,
    )


def _header(path: str, line: int, cells: list[str], delimiter: str) -> list[str]:
    found = ", ".join(repr(cell.strip()) for cell in cells)
    expected = (
        f"the header needs order_id, and may have amount, reason and reference ({_DELIMITERS[delimiter]}-separated)"
    )
    if is_guid(cells[0].strip()):
        raise BatchFileError(
            f"{path}:{line} is a row, not a header: add a first line naming the columns, such as {','.join(COLUMNS)}"
        )
    names: list[str] = []
    unknown: list[str] = []
    for cell in cells:
        key = _column_key(cell)
        if not key:
            names.append("")  # an unnamed column: rows must leave it empty
        elif key in _KNOWN:
            names.append(_KNOWN[key])
        else:
            unknown.append(repr(cell.strip()))
            names.append("")
    if "order_id" not in names:
        raise BatchFileError(f"{path}:{line}: no order_id column; found {found}; {expected}")
    if unknown:
        raise BatchFileError(
            f"{path}:{line}: unknown column{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} "
            f"(found {found}); {expected}. Remove the other columns: a misspelt amount column would "
            "turn every partial refund into a full one"
        )
    repeated = sorted(name for name, count in Counter(n for n in names if n).items() if count > 1)
    if repeated:
        raise BatchFileError(f"{path}:{line}: the column {repeated[0]} is named twice (found {found})")
    return names


def _split_decimal(header: list[str], values: dict[str, str]) -> bool:
    if "amount" not in header or "reason" not in header:
        return False
    after_amount = header.index("amount") + 1 == header.index("reason")
    return after_amount and bool(
        re.fullmatch(r"[0-9]+", values["amount"]) and re.fullmatch(r"[0-9]+", values["reason"])
    )


class _Builder:
    """Turns data rows into ``BatchRow`` and ``RowError``, knowing the rows before each one."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.rows: list[BatchRow] = []
        self.errors: list[RowError] = []
        self.blank_lines = 0
        self.exact: dict[tuple[str, str, str, str], int] = {}
        self.full: dict[str, int] = {}
        self.partial: dict[str, int] = {}
        self.references: dict[tuple[str, str], tuple[int, str]] = {}
        self.occurrences: Counter[tuple[str, str]] = Counter()
        self.item_groups: dict[tuple[str, str], dict[str, Any]] = {}

    def add(self, line: int, header: list[str], cells: list[str], delimiter: str) -> None:
        values = {name: "" for name in COLUMNS}
        for name, cell in zip(header, cells):
            if name:
                values[name] = cell.strip()
        order_id = values["order_id"] or None

        def refuse(message: str) -> None:
            self.errors.append(RowError(file=self.path, line=line, order_id=order_id, message=message))

        if len(cells) > len(header):
            extra = ", ".join(repr(cell) for cell in cells[len(header) :])
            hint = (
                " An amount is written with a point (12.50), never a comma."
                if "amount" in header and delimiter == ","
                else ""
            )
            refuse(
                f"has {len(cells)} fields but the header has {len(header)} (extra: {extra}); "
                f"quote a value that holds a {_DELIMITERS[delimiter]}.{hint}"
            )
            return
        stray = [i + 1 for i, (name, cell) in enumerate(zip(header, cells)) if not name and cell.strip()]
        if stray:
            refuse(f"has a value in column {stray[0]}, which the header does not name; name the column or empty it")
            return
        if order_id is None:
            refuse("has no order_id; every row needs the order's ID")
            return
        if delimiter == "," and _split_decimal(header, values):
            # "12,50" unquoted under amount,reason reads as amount 12 and reason "50".
            refuse(
                f"amount {values['amount']} and reason {values['reason']!r} look like the amount "
                f"{values['amount']},{values['reason']} split at a decimal comma; write {values['amount']}."
                f"{values['reason']} (a reason must not be digits alone)"
            )
            return
        if not is_guid(order_id):
            refuse(f"order_id {order_id[:60]!r} is not a Wix order ID; write the order's GUID, such as {_EXAMPLE_ID}")
            return
        try:
            amount = parse_amount(values["amount"]) if values["amount"] else None
            request = RefundRequest(
                amount=amount, reason=values["reason"] or None, reference=values["reference"] or None
            )
            item = _item_of(values)
        except InvalidRequest as exc:
            refuse(f"{exc.field} {exc.problem}" if exc.field == "amount" else str(exc))
            return
        if item is not None:
            # Rows of one order with one reference (or none) make one refund by item.
            problem = self._add_item(line, order_id, request, item)
            if problem:
                refuse(problem)
            return
        problem = self._conflict(line, order_id.lower(), request)
        if problem:
            refuse(problem)
            return
        self._accept(line, order_id, request)

    def _add_item(self, line: int, order_id: str, request: RefundRequest, item: RefundItem) -> str | None:
        group = self.item_groups.setdefault(
            (order_id.lower(), request.reference or ""), {"lines": [], "order_id": order_id, "items": []}
        )
        if any(known.line_item_id == item.line_item_id for known in group["items"]):
            first = group["lines"][[i.line_item_id for i in group["items"]].index(item.line_item_id)]
            return (
                f"names line item {item.line_item_id} again (line {first} does): give each line item once, "
                "with its whole quantity"
            )
        for key in ("amount", "reason"):
            value, known = getattr(request, key), group.get(key)
            if value is not None and known is not None and value != known:
                return f"gives another {key} for the same refund than line {group['lines'][0]}; give it once"
            if value is not None:
                group[key] = value
        group["lines"].append(line)
        group["items"].append(item)
        return None

    def finish(self) -> None:
        """Turn the groups of item rows into one row each, at the line of their first row."""
        for (order, given), group in self.item_groups.items():
            items = tuple(group["items"])
            first = group["lines"][0]
            try:
                request = RefundRequest(
                    amount=group.get("amount"), reason=group.get("reason"), reference=given or None, items=items
                )
            except InvalidRequest as exc:
                self.errors.append(RowError(file=self.path, line=first, order_id=group["order_id"], message=str(exc)))
                continue
            if not given:
                request = attrs.evolve(request, reference=derive_reference(order, request))
            self._add_row(first, group["order_id"], request, derived=not given)
        self.rows.sort(key=lambda row: row.line)
        self._refuse_shared_references()
        self.errors.sort(key=lambda error: error.line)

    def _refuse_shared_references(self) -> None:
        """Refuse each row whose order and reference an earlier row has already, naming both lines.

        Two such rows would make one refund on Wix: the second would find the first's refund
        and end ALREADY_DONE, and the run would show one of them only. A derived reference
        can meet a given one (a reference copied from an earlier report) and an item refund
        can meet an amount row; both are caught here, once every row's reference is known.
        """
        first: dict[str, BatchRow] = {}
        kept: list[BatchRow] = []
        for row in self.rows:
            earlier = first.setdefault(row.key, row)
            if earlier is row:
                kept.append(row)
                continue
            self.errors.append(
                RowError(
                    file=self.path,
                    line=row.line,
                    order_id=row.order_id,
                    message=(
                        f"is a duplicate of line {earlier.line}: both end with reference "
                        f"{row.request.reference!r} for this order ({_how(row)} here, {_how(earlier)} "
                        f"on line {earlier.line}), so the two would make one refund; give this row a "
                        "reference of its own"
                    ),
                )
            )
        self.rows = kept

    def _conflict(self, line: int, order: str, request: RefundRequest) -> str | None:
        amount = _amount_key(request.amount)
        exact = (order, amount, request.reason or "", request.reference or "")
        if exact in self.exact:
            return (
                f"is the same refund as line {self.exact[exact]} (order, amount, reason and reference); "
                "delete it, or give each line its own reference if the order is to be refunded twice"
            )
        if request.amount is None and order in self.partial:
            return (
                f"asks for a full refund of an order that line {self.partial[order]} refunds in part; "
                "a full refund refunds everything left, so delete one of the lines"
            )
        if order in self.full:
            return (
                f"refunds an order that line {self.full[order]} refunds in full already; "
                "delete one of the lines, or give the partial amounts instead"
            )
        if request.reference is not None and (order, request.reference) in self.references:
            first, first_amount = self.references[(order, request.reference)]
            return (
                f"uses reference {request.reference!r} for this order, as line {first} does "
                f"({first_amount}); each refund of an order needs a reference of its own"
            )
        self.exact[exact] = line
        return None

    def _accept(self, line: int, order_id: str, request: RefundRequest) -> None:
        order = order_id.lower()
        amount = _amount_key(request.amount)
        if request.amount is None:
            self.full[order] = line
        else:
            self.partial.setdefault(order, line)
        derived = request.reference is None
        if derived:
            content = (order, amount)
            reference = derive_reference(order, request, self.occurrences[content])
            self.occurrences[content] += 1
            request = attrs.evolve(request, reference=reference)
        else:
            assert request.reference is not None
            self.references[(order, request.reference)] = (line, "in full" if request.amount is None else amount)
        self._add_row(line, order_id, request, derived=derived)

    def _add_row(self, line: int, order_id: str, request: RefundRequest, *, derived: bool) -> None:
        """Keep a good row, keyed by its order and its reference (given, or derived)."""
        key = f"{order_id.lower()}/{request.reference}"
        self.rows.append(
            BatchRow(file=self.path, line=line, order_id=order_id, request=request, key=key, derived=derived)
        )
