"""The order reader's specification, written plainly: one typed getter per field, in order.

``wix_refunds`` reads orders with one reader that checks inline and calls these getters
only when a check fails, so that well-formed orders cost little. This plain reader is
what it must agree with on every input: the same ``Order``, or an error naming the same
field (``tests/test_orders.py`` holds the two equal with Hypothesis).
"""

from __future__ import annotations

import re
from decimal import ROUND_DOWN, Decimal

from wix_refunds.core import FulfillmentStatus, InvalidOrderData, LineItem, Order, OrderStatus, PaymentStatus
from wix_refunds.core._dates import parse_timestamp
from wix_refunds.core._money import MINOR_UNITS
from wix_refunds.wix._json import _bool, _enum_text, _get, _id, _kind, _list, _obj, _price, _str


def read_order_plainly(data: object) -> Order:
    """Return the ``Order`` in a Get Order response or bare order object, field by field."""
    top = _obj(data, "order")
    order = _obj(top["order"], "order") if "order" in top else top
    path = "order"
    number = _get(order, "number", path)
    if isinstance(number, bool) or not isinstance(number, (str, int)) or str(number) == "":
        raise InvalidOrderData("order.number", f"expected a string or integer, got {_kind(number)}")
    raw_status = _enum_text(order, "status", path)
    raw_payment = _enum_text(order, "paymentStatus", path)
    raw_fulfillment = _enum_text(order, "fulfillmentStatus", path)
    currency = _str(order, "currency", path)
    if not re.fullmatch(r"[A-Z]{3}", currency):
        raise InvalidOrderData("order.currency", f"{currency!r} is not an ISO 4217 code")
    summary = _obj(_get(order, "priceSummary", path), "order.priceSummary")
    # Wix's 2023 Get Order example has only the deprecated totalPrice.
    total_key = "totalPrice" if summary.get("total") is None and summary.get("totalPrice") is not None else "total"
    total = _price(summary, total_key, "order.priceSummary")
    # The bounds on any amount read: 0 to 10^15, no finer than the currency's digits (4 for
    # a code the table lacks); trailing zeros beyond them are only a way of writing it.
    field = f"order.priceSummary.{total_key}.amount"
    if not total.is_finite() or not 0 <= total <= 10**15:
        raise InvalidOrderData(field, f"{total} is outside 0 to 10^15")
    if total != total.quantize(Decimal(1).scaleb(-MINOR_UNITS.get(currency, 4)), rounding=ROUND_DOWN):
        raise InvalidOrderData(field, f"{total} is finer than {currency} allows")
    items, restocked = [], []
    for index, raw_item in enumerate(_list(order, "lineItems", path)):
        item_path = f"order.lineItems[{index}]"
        item = _obj(raw_item, item_path)
        line_id = _str(item, "id", item_path)
        quantity = _get(item, "quantity", item_path)
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
            raise InvalidOrderData(f"{item_path}.quantity", f"expected a whole number >= 0, got {quantity!r}")
        items.append(LineItem(id=line_id, quantity=quantity))
        # Informative: a line Wix counts restocked (a whole number above 0) is kept as it is.
        back = item.get("restockQuantity")
        if isinstance(back, int) and not isinstance(back, bool) and back > 0:
            restocked.append(LineItem(id=line_id, quantity=back))
    return Order(
        id=_id(order, "id", path),
        number=str(number),
        created_at=parse_timestamp(_get(order, "createdDate", path), field="order.createdDate"),
        status=OrderStatus.parse(raw_status),
        payment_status=PaymentStatus.parse(raw_payment),
        fulfillment_status=FulfillmentStatus.parse(raw_fulfillment),
        currency=currency,
        total=total,
        archived=_bool(order, "archived", path),
        line_items=tuple(items),
        restocked=tuple(restocked),
        raw_status=raw_status,
        raw_payment_status=raw_payment,
        raw_fulfillment_status=raw_fulfillment,
    )
