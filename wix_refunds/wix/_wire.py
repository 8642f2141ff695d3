"""What is sent to Wix: the one endpoint table, the request bodies, the headers. No I/O.

This module implements the requests of ``docs/wix-api.md`` (the wire contract): every
path, method and permission is a row of ``ENDPOINTS``, every call is built from its row
by ``wire_call``, and every header is set by ``headers_of``. Where live Wix proves a
choice wrong, it is corrected here and nowhere else. Each row names the reader of its answer
(``_read`` and ``_parse``); Wix's errors are read by ``_errors``; ``_more_calls`` builds
the calls that read many orders and the onboarding checks from this same table.
``WRITE_CALLS`` maps each write action of the engine to its call (``write_call``), so the
run sends any write without knowing which; ``_bodies`` writes the money in billing bodies.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from types import MappingProxyType
from typing import Any, Generic, TypeVar

import attrs

from ..core._actions import ItemsAsked, PaymentRefund, Write
from ..core._errors import InvalidRequest
from ..core._items import Calculation
from ..core._orders import Fulfillment, Order, OrderTransactions
from ..core._references import MAX_CUSTOMER_REASON
from ._bodies import price, refund_items
from ._json import is_guid
from ._parse import (
    RefundabilityAnswer,
    RefundAnswer,
    parse_calculation,
    parse_fulfillments,
    parse_fulfillments_by_ids,
    parse_list,
    parse_order,
    parse_refund_answer,
    parse_refundability_answer,
    parse_site_properties,
    parse_sites,
    parse_transactions,
    parse_transactions_by_ids,
)
from ._read import parse_search_page

__all__ = [
    "DEFAULT_BASE_URL",
    "ENDPOINTS",
    "Endpoint",
    "MAX_CANCEL_MESSAGE",
    "MAX_PAYMENT_REFUNDS",
    "PERMISSION_IDS",
    "REQUEST_ID_HEADER",
    "WRITE_CALLS",
    "WireCall",
    "WriteCall",
    "calculate_refund",
    "cancel_order",
    "check_id",
    "decode_json",
    "delete_fulfillment",
    "get_order",
    "get_refundability",
    "headers_of",
    "list_fulfillments",
    "list_transactions",
    "refund_payments",
    "wire_call",
    "write_call",
]

T = TypeVar("T")

DEFAULT_BASE_URL = "https://www.wixapis.com"
#: The header of Wix's answers that names the request, for Wix's support.
REQUEST_ID_HEADER = "x-wix-request-id"
MAX_PAYMENT_REFUNDS = 50
MAX_CANCEL_MESSAGE = 1000


def check_id(value: object, *, field: str) -> str:
    """Return ``value`` if it is a GUID; otherwise raise before any request is built.

    Raises:
        InvalidRequest: the ID is not a GUID (``../x`` would otherwise reach
            another endpoint once httpx normalises the path).
    """
    if not is_guid(value):
        raise InvalidRequest(field, f"{value!r} is not a Wix ID (a GUID such as 0c87cd5d-4059-4e86-8f6e-d185b1e4a1bd)")
    assert isinstance(value, str)
    return value


# --- the endpoint table ---------------------------------------------------------------


@attrs.frozen(kw_only=True)
class WireCall(Generic[T]):
    """One Wix call: what to send and how to read the answer.

    ``write`` calls change Wix's state and are never resent after an unknown
    outcome; ``account_level`` calls send ``wix-account-id`` instead of
    ``wix-site-id``.
    """

    operation: str
    method: str
    path: str
    parse: Callable[[object], T]
    permission: str
    body: Mapping[str, Any] | None = None
    write: bool = False
    account_level: bool = False
    target: str | None = None
    order_id: str | None = None

    @property
    def permission_id(self) -> str | None:
        """Return the permission ID Wix's SDK types tag this call with (``PERMISSION_IDS``), or None."""
        return PERMISSION_IDS.get(self.operation.removeprefix("probe_"))

    @property
    def permission_text(self) -> str:
        """Return the permission as the API Keys Manager labels it, with Wix's permission ID beside it."""
        return self.permission if self.permission_id is None else f"{self.permission} ({self.permission_id})"

    @property
    def content(self) -> bytes | None:
        """Return the body as sent: compact JSON text, or None for a call without one."""
        return None if self.body is None else json.dumps(self.body, separators=(",", ":")).encode()


# A row of a table reads best positionally, so Endpoint is built without keywords.
@attrs.frozen
class Endpoint:
    """One row of ``ENDPOINTS``: how one Wix endpoint is called, allowed and read."""

    method: str
    #: The path below the base URL; ``{order_id}`` and ``{fulfillment_id}`` are filled in.
    path: str
    #: The permission as the API Keys Manager labels it (how labels map to IDs is not documented).
    permission: str
    #: The ``@permissionId`` tag of the SDK method (docs/wix-api.md section 2), or None where
    #: the types read name none (Site Properties, Query Sites, List Currencies).
    permission_id: str | None
    reader: Callable[[object], Any]
    #: A write changes Wix's state and is never resent after an unknown outcome.
    write: bool = False
    #: Sent with ``wix-account-id`` instead of ``wix-site-id``.
    account_level: bool = False


_READ = "Wix Stores (Read Orders)"
_MANAGE = "Wix Stores (Manage Orders)"

#: Every Wix endpoint the library calls, by operation (the name in logs, spans and errors).
ENDPOINTS: Mapping[str, Endpoint] = MappingProxyType(
    {
        # name: Endpoint(method, path, permission, permission ID, reader[, write=, account_level=])
        "get_order": Endpoint("GET", "/ecom/v1/orders/{order_id}", _READ, "ECOM.READ_ORDERS", parse_order),
        "search_orders": Endpoint("POST", "/ecom/v1/orders/search", _READ, "ECOM.READ_ORDERS", parse_search_page),
        "cancel_order": Endpoint(
            "POST", "/ecom/v1/orders/{order_id}/cancel", _MANAGE, "ECOM.MODIFY_ORDERS", parse_order, write=True
        ),
        "list_fulfillments": Endpoint(
            "GET", "/ecom/v1/fulfillments/orders/{order_id}", _READ, "ECOM.READ_FULFILLMENTS", parse_fulfillments
        ),
        "list_fulfillments_by_ids": Endpoint(
            "POST", "/ecom/v1/fulfillments/list-by-ids", _READ, "ECOM.READ_FULFILLMENTS", parse_fulfillments_by_ids
        ),
        "delete_fulfillment": Endpoint(
            "DELETE",
            "/ecom/v1/fulfillments/{fulfillment_id}/orders/{order_id}",
            _MANAGE,
            "ECOM.MODIFY_FULFILLMENTS",
            parse_fulfillments,
            write=True,
        ),
        "list_transactions": Endpoint(
            "GET", "/ecom/v1/payments/orders/{order_id}", _READ, "ECOM.READ_TRANSACTIONS", parse_transactions
        ),
        "list_transactions_by_ids": Endpoint(
            "POST", "/ecom/v1/payments/list-by-ids", _READ, "ECOM.READ_TRANSACTIONS", parse_transactions_by_ids
        ),
        # A POST that only reads.
        "get_refundability": Endpoint(
            "POST",
            "/ecom/v1/order-billing/get-order-refundability",
            _MANAGE,
            "ECOM.ORDER_BILLING_GET_ORDER_REFUNDABILITY",
            parse_refundability_answer,
        ),
        # A POST that only reads.
        "calculate_refund": Endpoint(
            "POST",
            "/ecom/v1/order-billing/calculate-refund",
            _MANAGE,
            "ECOM.ORDER_BILLING_CALCULATE_REFUND",
            parse_calculation,
        ),
        "refund_payments": Endpoint(
            "POST",
            "/ecom/v1/order-billing/refund-payments",
            _MANAGE,
            "ECOM.ORDER_BILLING_REFUND_PAYMENTS",
            parse_refund_answer,
            write=True,
        ),
        "get_site_properties": Endpoint(
            "GET", "/site-properties/v4/properties", "Business Info", None, parse_site_properties
        ),
        "query_sites": Endpoint(
            "POST", "/site-list/v2/sites/query", "Sites (Get Sites List)", None, parse_sites, account_level=True
        ),
        "list_currencies": Endpoint(
            "GET", "/currency_converter/v1/currencies", "Wix Currencies", None, parse_list("currencies")
        ),
    }
)

#: Which permission each call needs, by operation: the ``@permissionId`` of its SDK method.
#: A write probe of ``verify`` needs its write's.
PERMISSION_IDS: Mapping[str, str] = MappingProxyType(
    {name: row.permission_id for name, row in ENDPOINTS.items() if row.permission_id is not None}
)


def wire_call(
    operation: str,
    *,
    body: Mapping[str, Any] | None = None,
    reader: Callable[[object], Any] | None = None,
    **ids: str,
) -> WireCall[Any]:
    """Return the call of ``ENDPOINTS[operation]`` with ``body``, for the order (and fulfilment) in ``ids``.

    ``ids`` are ``order_id`` and ``fulfillment_id``, each checked and put in the path
    where the row's path names it; the call's target is the fulfilment, else the order.
    ``reader`` replaces the row's reader, for a call that needs less of the answer.

    Raises:
        InvalidRequest: an ID given is not a GUID.
    """
    row = ENDPOINTS[operation]
    checked = {field: check_id(value, field=field) for field, value in ids.items()}
    order_id = checked.get("order_id")
    return WireCall(
        operation=operation,
        method=row.method,
        path=row.path.format(**checked),
        parse=row.reader if reader is None else reader,
        permission=row.permission,
        body=body,
        write=row.write,
        account_level=row.account_level,
        target=checked.get("fulfillment_id", order_id),
        order_id=order_id,
    )


def headers_of(call: WireCall[Any], *, api_key: str, site_id: str, account_id: str, user_agent: str) -> dict[str, str]:
    """Return the headers of ``call``: the bare key, JSON, who sends it, and the site (or the account)."""
    headers = {"Authorization": api_key, "Accept": "application/json", "User-Agent": user_agent}
    if call.account_level:
        headers["wix-account-id"] = account_id
    else:
        headers["wix-site-id"] = site_id
    if call.body is not None:
        headers["Content-Type"] = "application/json"
    return headers


def decode_json(body: bytes) -> object:
    """Return the JSON value in ``body``, numbers with a fraction as Decimal; raise ValueError if not JSON."""
    return json.loads(body, parse_float=Decimal)


# --- the calls on one order -----------------------------------------------------------


def get_order(order_id: str) -> WireCall[Order]:
    """Return the Get Order call."""
    return wire_call("get_order", order_id=order_id)


def list_fulfillments(order_id: str) -> WireCall[tuple[Fulfillment, ...]]:
    """Return the List Fulfillments For Single Order call."""
    return wire_call("list_fulfillments", order_id=order_id)


def delete_fulfillment(order_id: str, fulfillment_id: str) -> WireCall[tuple[Fulfillment, ...]]:
    """Return the Delete Fulfillment call; its answer is the fulfilments that remain."""
    return wire_call("delete_fulfillment", order_id=order_id, fulfillment_id=fulfillment_id)


def cancel_order(
    order_id: str, *, restock: bool = False, notify_customer: bool = False, message: str | None = None
) -> WireCall[Order]:
    """Return the Cancel Order call; its answer is the order after the cancel."""
    body: dict[str, Any] = {"sendOrderCanceledEmail": notify_customer, "restockAllItems": restock}
    if message and len(message) > MAX_CANCEL_MESSAGE:
        raise InvalidRequest("message", f"Wix takes at most {MAX_CANCEL_MESSAGE} characters, got {len(message)}")
    if message:
        body["customMessage"] = message
    return wire_call("cancel_order", body=body, order_id=order_id)


def list_transactions(order_id: str) -> WireCall[OrderTransactions]:
    """Return the List Transactions For Single Order call."""
    return wire_call("list_transactions", order_id=order_id)


def get_refundability(order_id: str) -> WireCall[RefundabilityAnswer]:
    """Return the Get Order Refundability call (a POST that only reads)."""
    return wire_call("get_refundability", body={"orderId": order_id}, order_id=order_id)


def refund_payments(
    order_id: str,
    payment_refunds: Sequence[PaymentRefund],
    *,
    reason: str | None = None,
    notify_customer: bool = False,
    currency: str | None = None,
    items: ItemsAsked | None = None,
) -> WireCall[RefundAnswer]:
    """Return the Refund Payments call; its answer holds the refund it made.

    Raises:
        InvalidRequest: no refunds, more than 50, a non-positive amount, or a
            reason longer than Wix's 200 characters.
    """
    if not 1 <= len(payment_refunds) <= MAX_PAYMENT_REFUNDS:
        raise InvalidRequest(
            "payment_refunds", f"Wix takes 1 to {MAX_PAYMENT_REFUNDS} payments, got {len(payment_refunds)}"
        )
    if reason is not None and len(reason) > MAX_CUSTOMER_REASON:
        raise InvalidRequest("reason", f"Wix takes at most {MAX_CUSTOMER_REASON} characters, got {len(reason)}")
    entries = []
    for refund in payment_refunds:
        check_id(refund.payment_id, field="payment_id")
        entry: dict[str, Any] = {"paymentId": refund.payment_id}
        if refund.amount is not None:
            if not refund.amount.is_finite() or refund.amount <= 0:
                raise InvalidRequest("amount", f"{refund.amount} is not a positive amount")
            entry["amount"] = price(refund.amount, currency)
        entry["externalRefund"] = refund.external
        entries.append(entry)
    side_effects: dict[str, Any] = {"notifications": {"sendCustomerEmail": notify_customer}}
    body: dict[str, Any] = {"orderId": order_id, "paymentRefunds": entries, "sideEffects": side_effects}
    if items is not None and items.any:
        body["refundItems"] = refund_items(items, currency)
        restock = [
            {"lineItemId": item.line_item_id, "quantity": item.restock_quantity}
            for item in items.items
            if item.restock_quantity
        ]
        if restock:
            side_effects["restock"] = {"lineItems": restock}
    if reason:
        body["customerReason"] = reason
    return wire_call("refund_payments", body=body, order_id=order_id)


def calculate_refund(order_id: str, asked: ItemsAsked, *, currency: str | None = None) -> WireCall[Calculation]:
    """Return the Calculate Refund call (a POST that only reads): Wix's price for the items."""
    body = {"orderId": order_id, "refundItems": refund_items(asked, currency)}
    return wire_call("calculate_refund", body=body, order_id=order_id)


# --- the write actions' calls ---------------------------------------------------------


# A row of a table reads best positionally, so WriteCall is built without keywords.
@attrs.frozen
class WriteCall:
    """One row of ``WRITE_CALLS``: the call that carries out a write action, and what its answer shows."""

    #: The call, from the order's ID, the action and the order's currency.
    build: Callable[[str, Any, str | None], WireCall[Any]]
    #: The part of what the run saw of the order that Wix's answer replaces (a field of
    #: ``Observed``); None: the answer is the refund Wix made, which the run's journal keeps.
    shows: str | None


#: The Wix call of each write action, by the action's ``kind`` (its row of ``ENDPOINTS``).
WRITE_CALLS: Mapping[str, WriteCall] = MappingProxyType(
    {
        # kind: WriteCall(build(order_id, action, currency), shows)
        "delete_fulfillment": WriteCall(
            lambda order_id, a, _: delete_fulfillment(order_id, a.fulfillment_id), "fulfillments"
        ),
        "cancel_order": WriteCall(
            lambda order_id, a, _: cancel_order(order_id, restock=a.restock, notify_customer=a.notify_customer), "order"
        ),
        "refund_payments": WriteCall(
            lambda order_id, a, currency: refund_payments(
                order_id,
                a.payment_refunds,
                reason=a.reason,
                notify_customer=a.notify_customer,
                currency=currency,
                items=a.items,
            ),
            None,
        ),
    }
)


def write_call(order_id: str, action: Write, *, currency: str | None) -> WireCall[Any]:
    """Return the Wix call that carries out ``action`` on the order (its row of ``WRITE_CALLS``)."""
    return WRITE_CALLS[action.kind].build(order_id, action, currency)
