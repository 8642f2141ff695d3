"""Every Wix path, JSON key and amount format, in and out. No I/O.

This is the one module that knows Wix's wire format (``docs/wix-api.md``,
"Choices this project makes"). Where live Wix proves a choice wrong, it is
corrected here and nowhere else.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any, Generic, TypeVar

import attrs

from ..core._actions import ItemsAsked, PaymentRefund
from ..core._errors import (
    InvalidRequest,
)
from ..core._items import (
    AllLeft,
    Calculation,
    Portion,
)
from ..core._money import wire_amount
from ..core._orders import (
    Fulfillment,
    Order,
    OrderTransactions,
)
from ..core._references import MAX_CUSTOMER_REASON, REFERENCE_TAG, customer_reason, reference_of
from ._json import is_guid
from ._parse import (
    RefundabilityAnswer,
    RefundAnswer,
    SearchPage,
    parse_calculation,
    parse_fulfillments,
    parse_fulfillments_by_ids,
    parse_list,
    parse_order,
    parse_refund_answer,
    parse_refundability,
    parse_refundability_answer,
    parse_search_page,
    parse_site_properties,
    parse_sites,
    parse_transactions,
    parse_transactions_by_ids,
)

__all__ = [
    "DEFAULT_BASE_URL",
    "ItemsAsked",
    "MAX_CANCEL_MESSAGE",
    "MAX_CUSTOMER_REASON",
    "MAX_PAYMENT_REFUNDS",
    "PERMISSION_IDS",
    "PaymentRefund",
    "REFERENCE_TAG",
    "REQUEST_ID_HEADER",
    "RefundAnswer",
    "RefundabilityAnswer",
    "SearchPage",
    "WireCall",
    "calculate_refund",
    "cancel_order",
    "check_id",
    "customer_reason",
    "decode_json",
    "delete_fulfillment",
    "format_amount",
    "get_order",
    "get_refundability",
    "is_guid",
    "list_fulfillments",
    "list_transactions",
    "parse_calculation",
    "parse_fulfillments",
    "parse_fulfillments_by_ids",
    "parse_list",
    "parse_order",
    "parse_refund_answer",
    "parse_refundability",
    "parse_refundability_answer",
    "parse_search_page",
    "parse_site_properties",
    "parse_sites",
    "parse_transactions",
    "parse_transactions_by_ids",
    "reference_of",
    "refund_payments",
]

T = TypeVar("T")

DEFAULT_BASE_URL = "https://www.wixapis.com"
REQUEST_ID_HEADER = "x-wix-request-id"
MAX_PAYMENT_REFUNDS = 50
MAX_CANCEL_MESSAGE = 1000
# Search Orders' page and both list-by-ids calls take at most 100 (docs/wix-api.md 2.2, 2.4, 2.5).


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


def format_amount(amount: Decimal) -> str:
    """Return ``amount`` as the plain decimal string Wix expects (never exponent form)."""
    return format(amount, "f")


# --- requests ---------------------------------------------------------------------


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


# The API Keys Manager's labels; how they map to Wix's permission IDs is not documented.
_STORES_READ = "Wix Stores (Read Orders)"
_STORES_MANAGE = "Wix Stores (Manage Orders)"

#: Which permission each call needs, by operation: the ``@permissionId`` tag of its SDK method
#: (docs/wix-api.md section 2). A write probe of ``verify`` needs its write's. Site Properties,
#: Query Sites and List Currencies have no ID in the eCom types read, so none is named.
PERMISSION_IDS: Mapping[str, str] = {
    "get_order": "ECOM.READ_ORDERS",
    "search_orders": "ECOM.READ_ORDERS",
    "cancel_order": "ECOM.MODIFY_ORDERS",
    "list_fulfillments": "ECOM.READ_FULFILLMENTS",
    "list_fulfillments_by_ids": "ECOM.READ_FULFILLMENTS",
    "delete_fulfillment": "ECOM.MODIFY_FULFILLMENTS",
    "list_transactions": "ECOM.READ_TRANSACTIONS",
    "list_transactions_by_ids": "ECOM.READ_TRANSACTIONS",
    "get_refundability": "ECOM.ORDER_BILLING_GET_ORDER_REFUNDABILITY",
    "calculate_refund": "ECOM.ORDER_BILLING_CALCULATE_REFUND",
    "refund_payments": "ECOM.ORDER_BILLING_REFUND_PAYMENTS",
}


def get_order(order_id: str) -> WireCall[Order]:
    """Return the Get Order call."""
    order_id = check_id(order_id, field="order_id")
    return WireCall(
        operation="get_order",
        method="GET",
        path=f"/ecom/v1/orders/{order_id}",
        parse=parse_order,
        permission=_STORES_READ,
        target=order_id,
        order_id=order_id,
    )


def list_fulfillments(order_id: str) -> WireCall[tuple[Fulfillment, ...]]:
    """Return the List Fulfillments For Single Order call."""
    order_id = check_id(order_id, field="order_id")
    return WireCall(
        operation="list_fulfillments",
        method="GET",
        path=f"/ecom/v1/fulfillments/orders/{order_id}",
        parse=parse_fulfillments,
        permission=_STORES_READ,
        target=order_id,
        order_id=order_id,
    )


def delete_fulfillment(order_id: str, fulfillment_id: str) -> WireCall[tuple[Fulfillment, ...]]:
    """Return the Delete Fulfillment call; its answer is the fulfilments that remain."""
    order_id = check_id(order_id, field="order_id")
    fulfillment_id = check_id(fulfillment_id, field="fulfillment_id")
    return WireCall(
        operation="delete_fulfillment",
        method="DELETE",
        path=f"/ecom/v1/fulfillments/{fulfillment_id}/orders/{order_id}",
        parse=parse_fulfillments,
        permission=_STORES_MANAGE,
        write=True,
        target=fulfillment_id,
        order_id=order_id,
    )


def cancel_order(
    order_id: str, *, restock: bool = False, notify_customer: bool = False, message: str | None = None
) -> WireCall[Order]:
    """Return the Cancel Order call; its answer is the order after the cancel."""
    order_id = check_id(order_id, field="order_id")
    body: dict[str, Any] = {"sendOrderCanceledEmail": notify_customer, "restockAllItems": restock}
    if message and len(message) > MAX_CANCEL_MESSAGE:
        raise InvalidRequest("message", f"Wix takes at most {MAX_CANCEL_MESSAGE} characters, got {len(message)}")
    if message:
        body["customMessage"] = message
    return WireCall(
        operation="cancel_order",
        method="POST",
        path=f"/ecom/v1/orders/{order_id}/cancel",
        parse=parse_order,
        permission=_STORES_MANAGE,
        body=body,
        write=True,
        target=order_id,
        order_id=order_id,
    )


def list_transactions(order_id: str) -> WireCall[OrderTransactions]:
    """Return the List Transactions For Single Order call."""
    order_id = check_id(order_id, field="order_id")
    return WireCall(
        operation="list_transactions",
        method="GET",
        path=f"/ecom/v1/payments/orders/{order_id}",
        parse=parse_transactions,
        permission=_STORES_READ,
        target=order_id,
        order_id=order_id,
    )


def get_refundability(order_id: str) -> WireCall[RefundabilityAnswer]:
    """Return the Get Order Refundability call (a POST that only reads)."""
    order_id = check_id(order_id, field="order_id")
    return WireCall(
        operation="get_refundability",
        method="POST",
        path="/ecom/v1/order-billing/get-order-refundability",
        parse=parse_refundability_answer,
        permission=_STORES_MANAGE,
        body={"orderId": order_id},
        target=order_id,
        order_id=order_id,
    )


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
    order_id = check_id(order_id, field="order_id")
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
            text = format_amount(refund.amount) if currency is None else wire_amount(refund.amount, currency)
            entry["amount"] = {"amount": text}
        entry["externalRefund"] = refund.external
        entries.append(entry)
    side_effects: dict[str, Any] = {"notifications": {"sendCustomerEmail": notify_customer}}
    body: dict[str, Any] = {"orderId": order_id, "paymentRefunds": entries, "sideEffects": side_effects}
    if items is not None and items.any:
        body["refundItems"] = _refund_items(items, currency)
        restock = [
            {"lineItemId": item.line_item_id, "quantity": item.restock_quantity}
            for item in items.items
            if item.restock_quantity
        ]
        if restock:
            side_effects["restock"] = {"lineItems": restock}
    if reason:
        body["customerReason"] = reason
    return WireCall(
        operation="refund_payments",
        method="POST",
        path="/ecom/v1/order-billing/refund-payments",
        parse=parse_refund_answer,
        permission=_STORES_MANAGE,
        body=body,
        write=True,
        target=order_id,
        order_id=order_id,
    )


def _portion_body(value: Portion, currency: str | None) -> dict[str, Any]:
    # A fee or the shipping without an amount refunds all that is left of it.
    if isinstance(value, AllLeft):
        return {}
    return {"amount": {"amount": format_amount(value) if currency is None else wire_amount(value, currency)}}


def _refund_items(asked: ItemsAsked, currency: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if asked.items:
        body["lineItems"] = [{"lineItemId": i.line_item_id, "quantity": i.quantity} for i in asked.items]
    if asked.fees:
        body["additionalFees"] = [
            {"additionalFeeId": fee.fee_id, **_portion_body(fee.amount, currency)} for fee in asked.fees
        ]
    if asked.shipping is not None:
        body["shipping"] = _portion_body(asked.shipping, currency)
    return body


def calculate_refund(order_id: str, asked: ItemsAsked, *, currency: str | None = None) -> WireCall[Calculation]:
    """Return the Calculate Refund call (a POST that only reads): Wix's price for the items."""
    order_id = check_id(order_id, field="order_id")
    return WireCall(
        operation="calculate_refund",
        method="POST",
        path="/ecom/v1/order-billing/calculate-refund",
        parse=parse_calculation,
        permission=_STORES_MANAGE,
        body={"orderId": order_id, "refundItems": _refund_items(asked, currency)},
        target=order_id,
        order_id=order_id,
    )


def decode_json(body: bytes) -> object:
    """Return the JSON value in ``body``, numbers with a fraction as Decimal; raise ValueError if not JSON."""
    return json.loads(body, parse_float=Decimal)
