"""Wix calls beyond one refund: reading many orders at once, and the onboarding checks. No I/O.

Each is a body and a row of ``_wire.ENDPOINTS`` (built by ``_wire.wire_call``); the
bodies are in ``docs/wix-api.md`` (reading many orders; verifying credentials).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import attrs

from ..core._actions import PaymentRefund
from ..core._errors import InvalidRequest
from ..core._orders import Fulfillment, OrderTransactions
from ._parse import parse_list
from ._read import SearchPage
from ._wire import WireCall, cancel_order, check_id, delete_fulfillment, refund_payments, wire_call

__all__ = [
    "MAX_LIST_IDS",
    "NUMBER_SPAN",
    "business_name_of",
    "get_site_properties",
    "list_currencies",
    "list_fulfillments_by_ids",
    "list_transactions_by_ids",
    "number_spans",
    "probe_write",
    "query_sites",
    "search_one_order",
    "search_orders_by_ids",
    "search_orders_by_numbers",
]

MAX_LIST_IDS = 100
#: The widest range of order numbers one Search Orders call asks for: one page's worth.
NUMBER_SPAN = 100


def _order_ids(order_ids: Sequence[str]) -> list[str]:
    ids = [check_id(order_id, field="order_id") for order_id in order_ids]
    if not 1 <= len(ids) <= MAX_LIST_IDS:
        raise InvalidRequest("order_ids", f"Wix takes 1 to {MAX_LIST_IDS} orders in one call, got {len(ids)}")
    return ids


def search_orders_by_ids(order_ids: Sequence[str], cursor: str | None = None) -> WireCall[SearchPage]:
    """Return the Search Orders call for these orders (1 to 100), or for the page after ``cursor``.

    The first page filters on ``id`` (``$in``); a later page sends only its cursor, as
    Wix's own paging example does (the cursor carries the filter).
    """
    ids = _order_ids(order_ids)
    paging: dict[str, Any] = {"limit": MAX_LIST_IDS}
    search: dict[str, Any] = {"filter": {"id": {"$in": ids}}, "cursorPaging": paging}
    if cursor is not None:
        paging["cursor"] = cursor
        search = {"cursorPaging": paging}
    return wire_call("search_orders", body={"search": search})


def number_spans(numbers: Iterable[int]) -> list[tuple[int, int]]:
    """Return ranges ``(lowest, highest)``, each at most ``NUMBER_SPAN`` numbers wide, covering ``numbers``.

    Wix filters ``number`` with ``$eq`` and the range operators, not ``$in``
    (docs/wix-api.md 2.2), so many numbers are read together as the ranges that hold
    them: numbers close together (a day's orders) share a call.
    """
    spans: list[tuple[int, int]] = []
    for number in sorted(set(numbers)):
        if spans and number - spans[-1][0] < NUMBER_SPAN:
            spans[-1] = (spans[-1][0], number)
        else:
            spans.append((number, number))
    return spans


def search_orders_by_numbers(lowest: int, highest: int, cursor: str | None = None) -> WireCall[SearchPage]:
    """Return the Search Orders call for the orders numbered ``lowest`` to ``highest``, or the page after ``cursor``.

    One number is ``{"number": {"$eq": n}}``; a range is each bound in its own condition
    under ``$and``, as Wix's guide writes a range (one object holding both operators is
    refused with 400). The number is sent as an integer, as in Wix's guide.
    """
    if not 1 <= lowest <= highest < lowest + NUMBER_SPAN:
        raise InvalidRequest("number", f"a range of 1 to {NUMBER_SPAN} order numbers, got {lowest} to {highest}")
    paging: dict[str, Any] = {"limit": MAX_LIST_IDS}
    if cursor is not None:
        paging["cursor"] = cursor
        return wire_call("search_orders", body={"search": {"cursorPaging": paging}})
    where: dict[str, Any] = (
        {"number": {"$eq": lowest}}
        if lowest == highest
        else {"$and": [{"number": {"$gte": lowest}}, {"number": {"$lte": highest}}]}
    )
    return wire_call("search_orders", body={"search": {"filter": where, "cursorPaging": paging}})


def list_transactions_by_ids(order_ids: Sequence[str]) -> WireCall[dict[str, OrderTransactions]]:
    """Return the List Transactions For Multiple Orders call (1 to 100 orders)."""
    return wire_call("list_transactions_by_ids", body={"orderIds": _order_ids(order_ids)})


def list_fulfillments_by_ids(order_ids: Sequence[str]) -> WireCall[dict[str, tuple[Fulfillment, ...]]]:
    """Return the List Fulfillments For Multiple Orders call (1 to 100 orders)."""
    return wire_call("list_fulfillments_by_ids", body={"orderIds": _order_ids(order_ids)})


def get_site_properties() -> WireCall[Mapping[str, Any]]:
    """Return the Get Site Properties call (the Business Info check, and the store's name)."""
    return wire_call("get_site_properties")


def business_name_of(properties: Mapping[str, Any]) -> str | None:
    """Return the site's business name in Get Site Properties' ``properties`` (None: not set or not text)."""
    name = properties.get("businessName")
    return name.strip() if isinstance(name, str) and name.strip() else None


def query_sites(site_id: str) -> WireCall[tuple[str, ...]]:
    """Return the account-level Query Sites call filtered to ``site_id`` (the Sites check)."""
    return wire_call(
        "query_sites", body={"query": {"filter": {"id": {"$in": [site_id]}}, "cursorPaging": {"limit": 1}}}
    )


def search_one_order() -> WireCall[list[Any]]:
    """Return a Search Orders call for at most one order (the Wix Stores check)."""
    # Only whether the key may search: the orders need not be readable.
    return wire_call("search_orders", body={"search": {"cursorPaging": {"limit": 1}}}, reader=parse_list("orders"))


def probe_write(what: str, order_id: str, other_id: str) -> WireCall[Any]:
    """Return a write on an order that does not exist: one write-permission check of ``verify``.

    ``what`` is ``cancel``, ``refund`` or ``delete`` (each is its own permission on Wix);
    ``order_id`` and ``other_id`` (the payment or fulfilment) are fresh random GUIDs. It
    cannot change anything: 404 means the key may make that write, 403 that it may not
    (``docs/wix-api.md``: Wix has no call that lists a key's permissions).
    """
    calls: dict[str, Callable[[], WireCall[Any]]] = {
        "cancel": lambda: cancel_order(order_id),
        "refund": lambda: refund_payments(order_id, [PaymentRefund(payment_id=other_id, amount=Decimal(1))]),
        "delete": lambda: delete_fulfillment(order_id, other_id),
    }
    call = calls[what]()
    return attrs.evolve(call, operation=f"probe_{call.operation}")


def list_currencies() -> WireCall[list[Any]]:
    """Return the List Currencies call (the Wix Currencies check)."""
    return wire_call("list_currencies")
