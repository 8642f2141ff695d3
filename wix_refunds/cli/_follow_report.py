"""Following a batch report: where each row's refund stands on Wix, from shared reads.

A report holds a JSON line per row each time a batch ran it; the last line of a row
(its order and reference) is the one followed. Rows without a reference (nothing was
asked of Wix under one) are left out. Wix's books decide each row's state, as
``refund_status`` does for one: the report's own status is not trusted.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Mapping, Sequence

import attrs

from ..run._books import OrderBooks
from ..run._follow import RefundState, RefundStatusReport, follow
from ._batch_text import BatchFileError

__all__ = ["ReportRow", "count_states", "report_rows", "row_states"]


@attrs.frozen(kw_only=True)
class ReportRow:
    """One row of a batch report to follow: its order, reference, currency and where it came from."""

    order_id: str
    reference: str
    #: The currency the report named ('' if none): shown when Wix does not have the order.
    currency: str
    #: ``FILE:LINE`` of the batch row, or ``REPORT:LINE`` when the record names no file.
    where: str


def report_rows(path: str, *, warn: Callable[[str], None]) -> list[ReportRow]:
    """Return the rows of the batch report at ``path`` to follow, in the order first seen.

    A line that is not a JSON object (a line cut short by an interrupted batch, say) is
    named through ``warn`` and skipped. Nothing is written to the report.

    Raises:
        BatchFileError: the report cannot be read, or holds no row with a reference.
    """
    try:
        with open(path, encoding="utf-8") as handle:
            lines = handle.read().splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise BatchFileError(f"the report {path} cannot be read: {why}") from None
    rows: dict[tuple[str, str], ReportRow] = {}
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            record = None
        if not isinstance(record, dict):
            warn(f"{path}:{number}: not a JSON object; ignored")
            continue
        order_id, reference = record.get("order_id"), record.get("reference")
        if record.get("type") != "order" or not isinstance(order_id, str) or not isinstance(reference, str):
            continue
        file, row_line = record.get("file"), record.get("line")
        where = f"{file}:{row_line}" if isinstance(file, str) and isinstance(row_line, int) else f"{path}:{number}"
        currency = record.get("currency")
        key = (order_id.lower(), reference)
        # The last line of a row is its latest run; the row keeps the place it was first seen in.
        rows[key] = ReportRow(
            order_id=order_id, reference=reference, currency=currency if isinstance(currency, str) else "", where=where
        )
    if not rows:
        raise BatchFileError(f"the report {path} holds no row refunded with a reference: nothing to follow")
    return list(rows.values())


def row_states(books: Mapping[str, OrderBooks], rows: Sequence[ReportRow]) -> list[RefundStatusReport]:
    """Return where each row's refund stands in ``books`` (``NOT_FOUND`` for an order Wix does not have)."""
    states = []
    for row in rows:
        book = books.get(row.order_id.lower())
        if book is None:
            states.append(
                RefundStatusReport(
                    order_id=row.order_id, reference=row.reference, currency=row.currency, state=RefundState.NOT_FOUND
                )
            )
        else:
            states.append(follow(row.order_id, book.currency, book.transactions, row.reference))
    return states


def count_states(states: Sequence[RefundStatusReport]) -> dict[str, int]:
    """Return how many rows are in each state, every state named (SUCCEEDED, PENDING, FAILED, NOT_FOUND)."""
    counted = Counter(state.state for state in states)
    order = (RefundState.SUCCEEDED, RefundState.PENDING, RefundState.FAILED, RefundState.NOT_FOUND)
    return {state.value: counted[state] for state in order}
