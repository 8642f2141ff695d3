"""The parts of the order-billing bodies (Refund Payments, Calculate Refund) that carry money. No I/O."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ..core._actions import ItemsAsked
from ..core._items import AllLeft, Portion
from ..core._money import wire_amount

__all__ = ["price", "refund_items"]


def price(amount: Decimal, currency: str | None) -> dict[str, str]:
    """Return a Price as Wix takes it: ``{"amount": "12.50"}``."""
    return {"amount": wire_amount(amount, currency)}


def _portion(value: Portion, currency: str | None) -> dict[str, Any]:
    # A fee or the shipping without an amount refunds all that is left of it.
    if isinstance(value, AllLeft):
        return {}
    return {"amount": price(value, currency)}


def refund_items(asked: ItemsAsked, currency: str | None) -> dict[str, Any]:
    """Return the ``refundItems`` of a body: the line items, fees and shipping asked, amounts as Wix takes them."""
    body: dict[str, Any] = {}
    if asked.items:
        body["lineItems"] = [{"lineItemId": i.line_item_id, "quantity": i.quantity} for i in asked.items]
    if asked.fees:
        body["additionalFees"] = [
            {"additionalFeeId": fee.fee_id, **_portion(fee.amount, currency)} for fee in asked.fees
        ]
    if asked.shipping is not None:
        body["shipping"] = _portion(asked.shipping, currency)
    return body
