"""Orders as people name them: a GUID in any case, or the number a dashboard shows (``#10005``).

A number is looked up with Search Orders before anything is written, many at once (the
ranges of ``_more_calls.number_spans``); the order it names is shown as ``#10005 (guid)``.
A number Wix does not list, or (never expected) lists twice, names no order: the caller
refuses it, never guesses.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Generator, Sequence

import attrs

from ..client._client import WixClient
from ..core._errors import WixRefundError
from ..wix._json import is_guid
from ..wix._more_calls import number_spans, search_orders_by_numbers
from ..wix._read import SearchPage
from ..wix._wire import WireCall

__all__ = ["OrderRef", "UnknownOrderNumber", "find_numbers", "number_problem", "order_number", "resolve_orders"]

_NUMBER = re.compile(r"#?\s*([0-9]{1,15})")
# A bound on the pages of one range: past it, Wix's paging would not be ending.
_MAX_PAGES = 20


class UnknownOrderNumber(WixRefundError):
    """An order number that names no order on Wix, or more than one; nothing was sent."""


def order_number(text: str) -> int | None:
    """Return the order number ``text`` is (``10005`` or ``#10005``), or None when it is not one."""
    match = _NUMBER.fullmatch(text.strip())
    return int(match.group(1)) if match and int(match.group(1)) > 0 else None


#: Stands, among a number's order IDs, for an order Wix listed that could not be read: it
#: may carry the number, so the number names no single order (not a GUID: never an ID).
UNREADABLE = "(an order that cannot be read)"


def number_problem(number: int, order_ids: Sequence[str]) -> str | None:
    """Return why ``number`` names no single order (Wix lists ``order_ids`` for it), or None."""
    if UNREADABLE in order_ids:
        return (
            f"order number #{number}: Wix's search for it also listed an order that cannot be read, which "
            "may carry the same number; write the order's ID"
        )
    if not order_ids:
        return (
            f"order number #{number} is not on Wix (Search Orders does not list it; it leaves out "
            "orders not yet approved); check the number, or write the order's ID"
        )
    if len(order_ids) > 1:
        listed = ", ".join(order_ids)
        return f"order number #{number} names {len(order_ids)} orders on Wix ({listed}); write the order's ID"
    return None


def _search(numbers: Collection[int]) -> Generator[WireCall[SearchPage], SearchPage, dict[int, tuple[str, ...]]]:
    """Yield the Search Orders calls for ``numbers``, given each answer; return the order IDs of each number."""
    found: dict[int, list[str]] = {number: [] for number in numbers}
    for lowest, highest in number_spans(numbers):
        cursor: str | None = None
        for _ in range(_MAX_PAGES):
            page = yield search_orders_by_numbers(lowest, highest, cursor)
            for order in page.orders:
                number = order_number(order.number)
                ids = found.get(number) if number is not None else None
                if ids is not None and order.id.lower() not in ids:
                    ids.append(order.id.lower())
            for raw in page.unread:
                # An order left out may carry any number of the range unless its own says which.
                number = order_number(str(raw)) if isinstance(raw, (str, int)) else None
                for doubtful in [number] if number is not None else range(lowest, highest + 1):
                    if doubtful in found and UNREADABLE not in found[doubtful]:
                        found[doubtful].append(UNREADABLE)
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        else:
            raise WixRefundError(
                f"Search Orders was still paging after {_MAX_PAGES} pages for order numbers {lowest} to {highest}; "
                "nothing was sent: write the orders' IDs"
            )
    return {number: tuple(ids) for number, ids in found.items()}


def find_numbers(client: WixClient, numbers: Collection[int]) -> dict[int, tuple[str, ...]]:
    """Return the IDs (lower case) of the orders Wix lists under each of ``numbers``: usually one, maybe none.

    Raises:
        WixRefundError: Wix could not be asked, or refused the search.
    """
    search = _search(numbers)
    try:
        call = next(search)
        while True:
            call = search.send(client.send(call))
    except StopIteration as stop:
        result: dict[int, tuple[str, ...]] = stop.value
        return result


@attrs.frozen(kw_only=True)
class OrderRef:
    """An order as it was written, and the order ID it names (the number it was given by, if any)."""

    written: str
    order_id: str
    number: int | None = None

    @property
    def shown(self) -> str:
        """Return ``#10005 (guid)`` for an order given by number, else its ID."""
        return self.order_id if self.number is None else f"#{self.number} ({self.order_id})"


def resolve_orders(client: WixClient, texts: Sequence[str]) -> list[OrderRef | UnknownOrderNumber]:
    """Return the order each of ``texts`` names, or the error of a number that names none.

    A GUID is lower-cased, as Wix writes it; a number is looked up (all of them in shared
    calls); anything else is kept as written, for the library to refuse.
    """
    numbers = {text: order_number(text) for text in texts if not is_guid(text.strip())}
    wanted = {number for number in numbers.values() if number is not None}
    found = find_numbers(client, wanted) if wanted else {}
    refs: list[OrderRef | UnknownOrderNumber] = []
    for text in texts:
        number = numbers.get(text)
        if number is None:
            order_id = text.strip()
            refs.append(OrderRef(written=text, order_id=order_id.lower() if is_guid(order_id) else text))
            continue
        problem = number_problem(number, found.get(number, ()))
        if problem:
            refs.append(UnknownOrderNumber(problem))
        else:
            refs.append(OrderRef(written=text, order_id=found[number][0], number=number))
    return refs
