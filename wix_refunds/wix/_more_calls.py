"""Wix calls beyond one refund: reading many orders at once, and the onboarding checks. No I/O.

Built from ``_wire``'s ``WireCall`` and ID checks, read by ``_parse``'s readers; the
paths and bodies are in ``docs/wix-api.md`` (reading many orders; verifying credentials).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import attrs

from ..core._actions import PaymentRefund
from ..core._errors import InvalidRequest
from ..core._orders import Fulfillment, OrderTransactions
from ._parse import (
    SearchPage,
    parse_fulfillments_by_ids,
    parse_list,
    parse_search_page,
    parse_site_properties,
    parse_sites,
    parse_transactions_by_ids,
)
from ._wire import _STORES_READ, WireCall, cancel_order, check_id, delete_fulfillment, refund_payments

__all__ = [
    "MAX_LIST_IDS",
    "get_site_properties",
    "list_currencies",
    "list_fulfillments_by_ids",
    "list_transactions_by_ids",
    "probe_write",
    "query_sites",
    "search_one_order",
    "search_orders_by_ids",
]

MAX_LIST_IDS = 100


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
    return WireCall(
        operation="search_orders",
        method="POST",
        path="/ecom/v1/orders/search",
        parse=parse_search_page,
        permission=_STORES_READ,
        body={"search": search},
    )


def list_transactions_by_ids(order_ids: Sequence[str]) -> WireCall[dict[str, OrderTransactions]]:
    """Return the List Transactions For Multiple Orders call (1 to 100 orders)."""
    return WireCall(
        operation="list_transactions_by_ids",
        method="POST",
        path="/ecom/v1/payments/list-by-ids",
        parse=parse_transactions_by_ids,
        permission=_STORES_READ,
        body={"orderIds": _order_ids(order_ids)},
    )


def list_fulfillments_by_ids(order_ids: Sequence[str]) -> WireCall[dict[str, tuple[Fulfillment, ...]]]:
    """Return the List Fulfillments For Multiple Orders call (1 to 100 orders)."""
    return WireCall(
        operation="list_fulfillments_by_ids",
        method="POST",
        path="/ecom/v1/fulfillments/list-by-ids",
        parse=parse_fulfillments_by_ids,
        permission=_STORES_READ,
        body={"orderIds": _order_ids(order_ids)},
    )


def get_site_properties() -> WireCall[Mapping[str, Any]]:
    """Return the Get Site Properties call (the Business Info check)."""
    return WireCall(
        operation="get_site_properties",
        method="GET",
        path="/site-properties/v4/properties",
        parse=parse_site_properties,
        permission="Business Info",
    )


def query_sites(site_id: str) -> WireCall[tuple[str, ...]]:
    """Return the account-level Query Sites call filtered to ``site_id`` (the Sites check)."""
    return WireCall(
        operation="query_sites",
        method="POST",
        path="/site-list/v2/sites/query",
        parse=parse_sites,
        permission="Sites (Get Sites List)",
        body={"query": {"filter": {"id": {"$in": [site_id]}}, "cursorPaging": {"limit": 1}}},
        account_level=True,
    )


def search_one_order() -> WireCall[list[Any]]:
    """Return a Search Orders call for at most one order (the Wix Stores check)."""
    return WireCall(
        operation="search_orders",
        method="POST",
        path="/ecom/v1/orders/search",
        parse=parse_list("orders"),
        permission=_STORES_READ,
        body={"search": {"cursorPaging": {"limit": 1}}},
    )


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
    return WireCall(
        operation="list_currencies",
        method="GET",
        path="/currency_converter/v1/currencies",
        parse=parse_list("currencies"),
        permission="Wix Currencies",
    )


# --- responses --------------------------------------------------------------------
