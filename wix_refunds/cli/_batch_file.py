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
  this reader refuses (``_batch_columns``), broken quoting;
- one row (``RowError``, reported as ``FILE:LINE`` with what to write instead): more fields
  than the header, a value in an unnamed column, an order that is neither a GUID nor an
  order number, a number Wix does not list (or lists twice), an amount the library's money
  rules refuse (``12,50`` outside a semicolon file, ``1e1``, ``1_0``), a reason or reference
  ``RefundRequest`` refuses, a row identical to an earlier one, a second row for an order
  that another row refunds in full, a reference given twice for one order, a row whose
  reference (given or derived) an earlier row of the order ends with too.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Callable, Collection, Mapping
from decimal import Decimal
from typing import Any

import attrs

from ..core._errors import InvalidRequest
from ..core._items import RefundItem
from ..core._money import amount_key
from ..core._references import derive_reference
from ..core._request import RefundRequest
from ..wix._json import is_guid
from ._batch_columns import COLUMNS, DELIMITERS, read_amount, read_header, split_decimal
from ._batch_text import BatchFileError, read_text
from ._item_text import parse_item
from ._order_numbers import number_problem, order_number

__all__ = [
    "COLUMNS",
    "DONE_STATUSES",
    "BatchFile",
    "BatchFileError",
    "BatchRow",
    "RowError",
    "read_batch_file",
]

#: The statuses a report line must show for its row to be skipped on a re-run.
DONE_STATUSES = frozenset({"COMPLETED", "ALREADY_DONE"})
#: What looks order numbers up on Wix: the order IDs it lists under each number.
FindNumbers = Callable[[Collection[int]], Mapping[int, tuple[str, ...]]]
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

    #: The order's ID, lower-cased (looked up when the row gave its number).
    order_id: str
    request: RefundRequest
    #: The row's identity: the lower-cased order ID and the reference, ``"<order>/<reference>"``.
    key: str
    #: True when the reference was derived from the row, False when the file gave it.
    derived: bool
    #: The order number the row gave instead of the order's ID.
    number: int | None = None
    #: How an amount written with a decimal comma was read (``"12,50 -> 12.50"``).
    amount_read: str | None = None

    @property
    def order_shown(self) -> str:
        """Return ``#10005 (guid)`` for a row that gave a number, else the order's ID."""
        return self.order_id if self.number is None else f"#{self.number} ({self.order_id})"


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
    #: The columns read past, as written.
    ignored: tuple[str, ...] = ()


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


def read_batch_file(path: str, *, full: bool = False, find: FindNumbers | None = None) -> BatchFile:
    """Return the rows of the batch file at ``path``, good and refused.

    Args:
        full: ``--full``: every row is a full refund (other columns may then be ignored).
        find: looks up the order numbers the rows give, all in one call, before any row
            is built; without it, a row that gives a number is refused.

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
    delimiter = max(DELIMITERS, key=lambda d: (header_line.count(d), d == ","))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    builder = _Builder(path)
    header: tuple[str, ...] | None = None
    ignored: tuple[str, ...] = ()
    data: list[tuple[int, list[str]]] = []
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
                read = read_header(path, start, cells, delimiter, full=full)
                header, ignored = read.names, read.ignored
                builder.ignored_at = read.ignored_at
                continue
            data.append((start, cells))
    except csv.Error as exc:
        raise BatchFileError(
            f"{path}:{reader.line_num}: the file's quoting is broken ({exc}); "
            'a value in quotes must end with a quote, and a quote inside it is written twice ("")'
        ) from exc
    assert header is not None
    # Every number is looked up, in shared calls, before any row is built: a row's identity
    # and derived reference are those of the order's ID, however the row named the order.
    numbers = {n for _, cells in data for n in _numbers_of(header, cells)}
    builder.found = find(numbers) if find is not None and numbers else None
    for start, cells in data:
        builder.add(start, header, cells, delimiter)
    builder.finish()
    return BatchFile(
        path=path,
        columns=header,
        delimiter=delimiter,
        rows=tuple(builder.rows),
        errors=tuple(builder.errors),
        blank_lines=builder.blank_lines,
        ignored=ignored,
    )


def _numbers_of(header: tuple[str, ...], cells: list[str]) -> list[int]:
    """Return the order number a row gives (in order_number, or in order_id), if any."""
    values = dict(zip(header, (cell.strip() for cell in cells)))
    given = values.get("order_number") or ("" if is_guid(values.get("order_id", "")) else values.get("order_id", ""))
    number = order_number(given) if given else None
    return [] if number is None else [number]


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
        self.ignored_at: frozenset[int] = frozenset()
        self.found: Mapping[int, tuple[str, ...]] | None = None

    def add(self, line: int, header: tuple[str, ...], cells: list[str], delimiter: str) -> None:
        values = {name: "" for name in COLUMNS}
        for name, cell in zip(header, cells):
            if name:
                values[name] = cell.strip()
        written = values["order_id"] or values["order_number"] or None

        def refuse(message: str) -> None:
            self.errors.append(RowError(file=self.path, line=line, order_id=written, message=message))

        if len(cells) > len(header):
            extra = ", ".join(repr(cell) for cell in cells[len(header) :])
            hint = (
                " An amount is written with a point (12.50), never a comma."
                if "amount" in header and delimiter == ","
                else ""
            )
            refuse(
                f"has {len(cells)} fields but the header has {len(header)} (extra: {extra}); "
                f"quote a value that holds a {DELIMITERS[delimiter]}.{hint}"
            )
            return
        stray = [
            i + 1
            for i, (name, cell) in enumerate(zip(header, cells))
            if not name and i not in self.ignored_at and cell.strip()
        ]
        if stray:
            refuse(f"has a value in column {stray[0]}, which the header does not name; name the column or empty it")
            return
        if written is None:
            refuse("has no order_id; every row needs the order's ID or its number")
            return
        if delimiter == "," and split_decimal(header, values):
            # "12,50" unquoted under amount,reason reads as amount 12 and reason "50".
            refuse(
                f"amount {values['amount']} and reason {values['reason']!r} look like the amount "
                f"{values['amount']},{values['reason']} split at a decimal comma; write {values['amount']}."
                f"{values['reason']} (a reason must not be digits alone)"
            )
            return
        number, problem = self._order_of(values)
        if problem:
            refuse(problem)
            return
        order_id = values["order_id"].lower() if number is None else self._order_id(number)
        try:
            amount, read = read_amount(values["amount"], delimiter) if values["amount"] else (None, None)
            request = RefundRequest(
                amount=amount, reason=values["reason"] or None, reference=values["reference"] or None
            )
            item = _item_of(values)
        except InvalidRequest as exc:
            refuse(f"{exc.field} {exc.problem}" if exc.field == "amount" else str(exc))
            return
        if item is not None:
            # Rows of one order with one reference (or none) make one refund by item.
            problem = self._add_item(line, order_id, request, item, {"number": number, "amount_read": read})
            if problem:
                refuse(problem)
            return
        problem = self._conflict(line, order_id, request)
        if problem:
            refuse(problem)
            return
        self._accept(line, order_id, request, number=number, amount_read=read)

    def _order_of(self, values: dict[str, str]) -> tuple[int | None, str | None]:
        """Return the order number a row gives (None: it gives the order's ID), or why it names no order."""
        given, by_number = values["order_id"], values["order_number"]
        if given and by_number:
            return None, "gives both order_id and order_number; give one of them"
        if given and is_guid(given):
            return None, None
        number = order_number(by_number or given)
        if number is None:
            column, text = ("order_number", by_number) if by_number else ("order_id", given)
            return None, (
                f"{column} {text[:60]!r} is not a Wix order ID or order number; write the order's "
                f"GUID, such as {_EXAMPLE_ID}, or its number, such as #10005"
            )
        if self.found is None:
            return None, f"gives order number #{number}, which was not looked up on Wix; write the order's ID"
        return number, number_problem(number, self.found.get(number, ()))

    def _order_id(self, number: int) -> str:
        assert self.found is not None
        return self.found[number][0]

    def _add_item(
        self, line: int, order_id: str, request: RefundRequest, item: RefundItem, extra: dict[str, Any]
    ) -> str | None:
        group = self.item_groups.setdefault(
            (order_id, request.reference or ""), {"lines": [], "order_id": order_id, "items": [], "extra": extra}
        )
        if extra["amount_read"] is not None:
            group["extra"] = {**group["extra"], "amount_read": extra["amount_read"]}
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
            self._add_row(first, group["order_id"], request, derived=not given, **group["extra"])
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

    def _accept(self, line: int, order_id: str, request: RefundRequest, **extra: Any) -> None:
        order = order_id
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
        self._add_row(line, order_id, request, derived=derived, **extra)

    def _add_row(self, line: int, order_id: str, request: RefundRequest, *, derived: bool, **extra: Any) -> None:
        """Keep a good row, keyed by its order and its reference (given, or derived)."""
        key = f"{order_id}/{request.reference}"
        self.rows.append(
            BatchRow(file=self.path, line=line, order_id=order_id, request=request, key=key, derived=derived, **extra)
        )
