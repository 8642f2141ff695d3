"""Shared reads: what a few list calls show of a group of locked orders, seeded into each order's run.

Per group (``_batch`` has locked its orders first)::

    Search Orders, filter id $in (following its cursor)            every order of the group
    List Transactions For Multiple Orders                          orders whose first read
    List Fulfillments For Multiple Orders  (side by side)          is that part

The core says what each order reads first once its order is known
(``core._engine.first_read``, from its route's row), so only the orders that need a part
are listed for it. An order a list leaves out is not seeded with that part: its run
reads it alone. Search Orders never lists INITIALIZED orders, nor PENDING or REJECTED
ones unless asked, so a missing order is read with Get Order, never taken as absent. If
Wix refuses a list call or its filter (400 or 404), it is not asked again in this batch
and that part is read order by order, logged once at WARNING; any other failure (after
the retry policy) leaves that group to read alone, logged at INFO.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from ..client._client import AsyncWixClient
from ..core._actions import Observed
from ..core._engine import first_read
from ..core._errors import WixRefundError
from ..core._orders import Order
from ..wix import _more_calls, _wire
from ._books import shared_read_failed
from ._run import _Run

__all__ = ["SharedReads"]


class SharedReads:
    """The shared reads of one batch, and the list calls Wix refused in it."""

    def __init__(self, client: AsyncWixClient, *, max_age: float) -> None:
        self.client = client
        self.max_age = max_age
        self.refused: set[str] = set()

    async def seed(self, runs: list[_Run]) -> None:
        """Seed each run with what shared requests show of its order (an order not shown is read on its own)."""
        import asyncio

        at = time.monotonic()
        ids = [run.order_id for run in runs]
        orders = await self._search(ids)
        wanted: dict[str, list[str]] = {"transactions": [], "fulfillments": []}
        for run in runs:
            order = orders.get(run.order_id.lower())
            what = None if order is None else first_read(order, run.request, cutoff=run.cutoff)
            if what in wanted:
                wanted[what].append(run.order_id)
        transactions, fulfillments = await asyncio.gather(
            self._shared(_more_calls.list_transactions_by_ids, wanted["transactions"]),
            self._shared(_more_calls.list_fulfillments_by_ids, wanted["fulfillments"]),
        )
        for run in runs:
            key = run.order_id.lower()
            if key in orders:
                shared = Observed(
                    order=orders[key], transactions=transactions.get(key), fulfillments=fulfillments.get(key)
                )
                run.seed(shared, at=at, max_age=self.max_age)

    async def _search(self, ids: list[str]) -> dict[str, Order]:
        """Return the orders Search Orders shows of ``ids``, by lower-cased ID, following its pages."""
        wanted = {order_id.lower() for order_id in ids}
        found: dict[str, Order] = {}
        cursor: str | None = None
        # A bound: more pages than asked orders would mean Wix's paging does not end.
        for _ in range(len(ids) + 1):
            page = await self._send(_more_calls.search_orders_by_ids(ids, cursor))
            if page is None:
                break
            found.update((order.id.lower(), order) for order in page.orders if order.id.lower() in wanted)
            if page.next_cursor is None or len(found) == len(wanted):
                break
            cursor = page.next_cursor
        return found

    async def _shared(self, build: Callable[[list[str]], _wire.WireCall[Any]], ids: list[str]) -> dict[str, Any]:
        """Return a list-by-ids answer for ``ids`` (empty when there are none, or it failed)."""
        if not ids:
            return {}
        answer = await self._send(build(ids))
        return {} if answer is None else dict(answer)

    async def _send(self, call: _wire.WireCall[Any]) -> Any:
        """Return a shared read's answer, or None when Wix refused or failed it: the orders are then read alone."""
        if call.operation in self.refused:
            return None
        try:
            return (await self.client.send_counted(call)).value
        except WixRefundError as exc:
            shared_read_failed(
                call,
                exc,
                self.refused,
                when_refused="the rest of this batch reads each order on its own",
                when_failed="this group's orders are read on their own",
            )
            return None
