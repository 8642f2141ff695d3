"""Wix's books of many orders at once: each order's currency and its payments and refunds.

Per 100 orders, two shared reads (``_more_calls``)::

    Search Orders, filter id $in (following its cursor)      each order's currency
    List Transactions For Multiple Orders                    each order's payments and refunds

An order a list leaves out is read alone (Get Order, List Transactions): Search Orders
never lists INITIALIZED orders, nor PENDING or REJECTED ones unless asked. A list call
Wix refuses (400 or 404) is not asked again in this read, and any other failure of one
(after the retry policy) leaves its orders to be read alone; both are logged, as in
``_shared``. An order Wix does not have when read alone (404) is left out of the books;
every other failure of a read alone is raised.

``read_books`` is sans-I/O: it yields each call and is sent the answer, or the
``WixRefundError`` the call raised; ``books_of`` and ``books_of_async`` drive it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Generator, Sequence
from typing import Any, TypeVar, cast

import attrs

from ..client._client import AsyncWixClient, WixClient
from ..client._log import log_event
from ..core._errors import WixAPIError, WixNotFound, WixRefundError
from ..core._orders import OrderTransactions
from ..wix import _more_calls, _wire

__all__ = ["OrderBooks", "Reads", "books_of", "books_of_async", "read_books"]

T = TypeVar("T")

# Wix's status for a refused list call or filter: read each order alone from then on.
_REFUSED = (400, 404)


@attrs.frozen(kw_only=True)
class OrderBooks:
    """What Wix's books hold of one order: its currency, payments and refunds."""

    order_id: str
    currency: str
    transactions: OrderTransactions


#: The calls of one read of the books: each is sent its answer or the error it raised.
Reads = Generator[_wire.WireCall[Any], object, dict[str, OrderBooks]]


def _ask(call: _wire.WireCall[T]) -> Generator[_wire.WireCall[Any], object, T | WixRefundError]:
    answer = yield call
    return cast("T | WixRefundError", answer)


def _alone(call: _wire.WireCall[T]) -> Generator[_wire.WireCall[Any], object, T | None]:
    """Return the answer of a read of one order alone, or None when Wix does not have the order (404).

    Raises:
        WixRefundError: the read failed otherwise.
    """
    answer = yield from _ask(call)
    if isinstance(answer, WixNotFound):
        return None
    if isinstance(answer, WixRefundError):
        raise answer
    return answer


def shared_read_failed(
    call: _wire.WireCall[Any],
    exc: WixRefundError,
    refused: set[str],
    *,
    when_refused: str = "the rest of this read asks for each order alone",
    when_failed: str = "these orders are read alone",
) -> None:
    """Log a read of many orders that failed; a call Wix refuses (400, 404) joins ``refused``, not asked again."""
    api = exc if isinstance(exc, WixAPIError) else None
    status = None if api is None else api.status
    if status in _REFUSED:
        refused.add(call.operation)
        how, level = when_refused, logging.WARNING
    else:
        how, level = when_failed, logging.INFO
    log_event(
        level,
        "%s for many orders failed (%s): %s",
        call.operation,
        exc,
        how,
        step=call.operation,
        attempt=exc.attempts,
        request_id=None if api is None else api.request_id,
        status=status,
    )


def _currencies(ids: list[str], refused: set[str]) -> Generator[_wire.WireCall[Any], object, dict[str, str]]:
    """Return the currency of each order Search Orders shows of ``ids``, by lower-cased ID."""
    wanted = {order_id.lower() for order_id in ids}
    found: dict[str, str] = {}
    cursor: str | None = None
    # A bound: more pages than asked orders would mean Wix's paging does not end.
    for _ in range(len(ids) + 1):
        call = _more_calls.search_orders_by_ids(ids, cursor)
        if call.operation in refused:
            break
        page = yield from _ask(call)
        if isinstance(page, WixRefundError):
            shared_read_failed(call, page, refused)
            break
        found.update((o.id.lower(), o.currency) for o in page.orders if o.id.lower() in wanted)
        if page.next_cursor is None or len(found) == len(wanted):
            break
        cursor = page.next_cursor
    return found


def _transactions(
    ids: list[str], refused: set[str]
) -> Generator[_wire.WireCall[Any], object, dict[str, OrderTransactions]]:
    """Return what List Transactions For Multiple Orders shows of ``ids``, by lower-cased ID."""
    call = _more_calls.list_transactions_by_ids(ids)
    if call.operation in refused:
        return {}
    listed = yield from _ask(call)
    if isinstance(listed, WixRefundError):
        shared_read_failed(call, listed, refused)
        return {}
    return dict(listed)


def read_books(order_ids: Sequence[str]) -> Reads:
    """Yield the calls that read these orders' books; return the books by lower-cased order ID.

    Raises:
        InvalidRequest: an order ID is malformed (before any call).
        WixRefundError: a read of one order alone failed other than by 404.
    """
    # One read per order, as the first of its spellings names it (GUIDs compare without case).
    first: dict[str, str] = {}
    for order_id in order_ids:
        first.setdefault(_wire.check_id(order_id, field="order_id").lower(), order_id)
    ids = list(first.values())
    books: dict[str, OrderBooks] = {}
    refused: set[str] = set()
    for start in range(0, len(ids), _more_calls.MAX_LIST_IDS):
        chunk = ids[start : start + _more_calls.MAX_LIST_IDS]
        currencies = yield from _currencies(chunk, refused)
        listed = yield from _transactions(chunk, refused)
        for order_id in chunk:
            key = order_id.lower()
            currency, transactions = currencies.get(key), listed.get(key)
            if currency is None:
                order = yield from _alone(_wire.get_order(order_id))
                if order is None:
                    continue
                currency = order.currency
            if transactions is None:
                transactions = yield from _alone(_wire.list_transactions(order_id))
                if transactions is None:
                    continue
            books[key] = OrderBooks(order_id=order_id, currency=currency, transactions=transactions)
    return books


class _Reading:
    """One ``read_books`` as its shell drives it: ``call`` is the call to send next, ``books`` what it returned."""

    def __init__(self, order_ids: Sequence[str]) -> None:
        self._reads = read_books(order_ids)
        self.call: _wire.WireCall[Any] | None = None
        self.books: dict[str, OrderBooks] = {}
        self.answer(None)

    def answer(self, answer: object) -> None:
        """Send the call's answer (or the ``WixRefundError`` it raised); ``call`` is then the next, or None."""
        try:
            self.call = self._reads.send(answer)
        except StopIteration as done:
            self.call, self.books = None, done.value


def _answer_of(send: Callable[[_wire.WireCall[T]], T], call: _wire.WireCall[T]) -> T | WixRefundError:
    try:
        return send(call)
    except WixRefundError as exc:
        return exc


async def _answer_of_async(
    send: Callable[[_wire.WireCall[T]], Awaitable[T]], call: _wire.WireCall[T]
) -> T | WixRefundError:
    try:
        return await send(call)
    except WixRefundError as exc:
        return exc


def books_of(client: WixClient, order_ids: Sequence[str]) -> dict[str, OrderBooks]:
    """Return the books of these orders by lower-cased ID, read through ``client`` (see the module)."""
    reading = _Reading(order_ids)
    while reading.call is not None:
        reading.answer(_answer_of(client.send, reading.call))
    return reading.books


async def books_of_async(client: AsyncWixClient, order_ids: Sequence[str]) -> dict[str, OrderBooks]:
    """Return the books of these orders by lower-cased ID (the async twin of ``books_of``)."""
    reading = _Reading(order_ids)
    while reading.call is not None:
        reading.answer(await _answer_of_async(client.send, reading.call))
    return reading.books
