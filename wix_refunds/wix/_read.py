"""The order, Search Orders and Calculate Refund answers read into the core's values; each failure names the field.

The other answers are read in ``_parse``; the JSON field readers are ``_json``'s.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import Any

import attrs

from ..core._dates import parse_timestamp
from ..core._errors import InvalidOrderData
from ..core._items import Calculation
from ..core._money import MINOR_UNITS, check_read_amount
from ..core._orders import FulfillmentStatus, LineItem, Order, OrderStatus, PaymentStatus
from ._json import _GUID, _bool, _enum_text, _get, _id, _kind, _list, _mapping, _obj, _price, _str

__all__ = ["SearchPage", "parse_calculation", "parse_order", "parse_search_page"]


_CURRENCY = re.compile(r"[A-Z]{3}")
# Wix's form of an amount (decimal text, no exponent) below 10^15 and no finer than its
# currency, read straight into a Decimal; any other form, or a currency the table lacks,
# goes through the careful reader, which names what is wrong (check_read_amount).
_AMOUNT_BY_DIGITS = {
    digits: re.compile(r"[0-9]{1,15}" + (rf"(?:\.[0-9]{{1,{digits}}})?" if digits else ""))
    for digits in set(MINOR_UNITS.values())
}
# A plain dict, read-only by convention: one lookup per order read, on the routing path.
_AMOUNTS: dict[str, re.Pattern[str]] = {code: _AMOUNT_BY_DIGITS[digits] for code, digits in MINOR_UNITS.items()}


def _restocked(item: Mapping[str, Any], line_id: str, restocked: list[LineItem]) -> None:
    """Add the line to ``restocked`` if Wix counts units of it restocked (informative: else nothing)."""
    if isinstance(back := item.get("restockQuantity"), int) and not isinstance(back, bool) and back > 0:
        restocked.append(LineItem(id=line_id, quantity=back))


def parse_order(data: object) -> Order:
    """Return the ``Order`` in a Get Order response (``{"order": {...}}``) or a bare order object.

    The one reader of orders (``docs/wix-api.md``, the order fields read). The total is
    ``priceSummary.total``, else the deprecated ``totalPrice`` (Wix's 2023 example has
    only that); amounts may be decimal text or JSON numbers, never read as floats. Each
    check is made inline and the getter that names the field is called only when it
    fails, so that well-formed orders (nearly all) cost little to read.

    Raises:
        InvalidOrderData: a field is missing or malformed; the error names it.
    """
    top = data if type(data) is dict else _obj(data, "order")
    order = top.get("order", top)
    if type(order) is not dict:
        order = _obj(order, "order")
    path = "order"
    number = order.get("number")
    if type(number) is not str or not number:
        if (type(number) is not bool and isinstance(number, int)) or (isinstance(number, str) and number):
            number = str(number)
        else:
            _get(order, "number", path)
            raise InvalidOrderData("order.number", f"expected a string or integer, got {_kind(number)}")
    raw_status, raw_payment, raw_fulfillment = (
        order.get("status"),
        order.get("paymentStatus"),
        order.get("fulfillmentStatus"),
    )
    if type(raw_status) is not str:
        raw_status = _enum_text(order, "status", path)
    if type(raw_payment) is not str:
        raw_payment = _enum_text(order, "paymentStatus", path)
    if type(raw_fulfillment) is not str:
        raw_fulfillment = _enum_text(order, "fulfillmentStatus", path)
    currency = order.get("currency")
    if type(currency) is not str or (currency not in MINOR_UNITS and _CURRENCY.fullmatch(currency) is None):
        currency = _str(order, "currency", path)
        if _CURRENCY.fullmatch(currency) is None:
            raise InvalidOrderData("order.currency", f"{currency!r} is not an ISO 4217 code")
    summary = order.get("priceSummary")
    if type(summary) is not dict:
        summary = _obj(_get(order, "priceSummary", path), "order.priceSummary")
    total_key, price = "total", summary.get("total")
    if price is None and summary.get("totalPrice") is not None:
        total_key, price = "totalPrice", summary["totalPrice"]
    amount = price.get("amount") if type(price) is dict else None
    pattern = _AMOUNTS.get(currency)
    if type(amount) is str and pattern is not None and pattern.fullmatch(amount):
        total = Decimal(amount)
    else:
        field = f"order.priceSummary.{total_key}.amount"
        total = check_read_amount(_price(summary, total_key, "order.priceSummary"), field, currency)
    items: list[LineItem] = []
    restocked: list[LineItem] = []
    raw_items = order.get("lineItems")
    for index, raw_item in enumerate(raw_items if type(raw_items) is list else _list(order, "lineItems", path)):
        if type(raw_item) is dict:
            line_id, quantity = raw_item.get("id"), raw_item.get("quantity")
            if type(line_id) is str and line_id and type(quantity) is int and quantity >= 0:
                items.append(LineItem(id=line_id, quantity=quantity))
                if raw_item.get("restockQuantity"):
                    _restocked(raw_item, line_id, restocked)
                continue
        item_path = f"order.lineItems[{index}]"
        item = _obj(raw_item, item_path)
        line_id = _str(item, "id", item_path)
        quantity = _get(item, "quantity", item_path)
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
            raise InvalidOrderData(f"{item_path}.quantity", f"expected a whole number >= 0, got {quantity!r}")
        items.append(LineItem(id=line_id, quantity=quantity))
        _restocked(item, line_id, restocked)
    order_id = order.get("id")
    if type(order_id) is not str or _GUID.fullmatch(order_id) is None:
        order_id = _id(order, "id", path)
    created = order.get("createdDate") or _get(order, "createdDate", path)
    created_at = parse_timestamp(created, field="order.createdDate")
    archived = order.get("archived", False)
    if type(archived) is not bool:
        archived = _bool(order, "archived", path)
    return Order(
        id=order_id,
        number=number,
        created_at=created_at,
        status=_ORDER_STATUSES.get(raw_status, _UNKNOWN_STATUS),
        payment_status=_PAYMENT_STATUSES.get(raw_payment, _UNKNOWN_PAYMENT),
        fulfillment_status=_FULFILLMENT_STATUSES.get(raw_fulfillment, _UNKNOWN_FULFILLMENT),
        currency=currency,
        total=total,
        archived=archived,
        line_items=tuple(items),
        restocked=tuple(restocked),
        raw_status=raw_status,
        raw_payment_status=raw_payment,
        raw_fulfillment_status=raw_fulfillment,
    )


# Read-only lookups from Wix's text to the enum member (UNKNOWN when absent).
_ORDER_STATUSES: Mapping[str, OrderStatus] = MappingProxyType(dict(OrderStatus._value2member_map_))
_PAYMENT_STATUSES: Mapping[str, PaymentStatus] = MappingProxyType(dict(PaymentStatus._value2member_map_))
_FULFILLMENT_STATUSES: Mapping[str, FulfillmentStatus] = MappingProxyType(dict(FulfillmentStatus._value2member_map_))
_UNKNOWN_STATUS, _UNKNOWN_PAYMENT = OrderStatus.UNKNOWN, PaymentStatus.UNKNOWN
_UNKNOWN_FULFILLMENT = FulfillmentStatus.UNKNOWN


def _summary_total(data: Mapping[str, Any], path: str) -> Decimal:
    where = f"{path}.summary" if path else "summary"
    summary = _obj(_get(data, "summary", path), where)
    return _price(summary, "total", where)


def _priced(calculated: Mapping[str, Any], key: str, subject: str, id_key: str) -> tuple[tuple[str, Decimal], ...]:
    """Return the ID and Wix's total of each entry of ``calculatedRefundItems.<key>``."""
    priced = []
    for index, raw in enumerate(_list(calculated, key, "calculatedRefundItems")):
        path = f"calculatedRefundItems.{key}[{index}]"
        entry = _obj(raw, path)
        named = _obj(_get(entry, subject, path), f"{path}.{subject}")
        priced.append((_str(named, id_key, f"{path}.{subject}"), _summary_total(entry, path)))
    return tuple(priced)


def parse_calculation(data: object) -> Calculation:
    """Return Calculate Refund's answer: Wix's price for the items, or its per-item errors."""
    top = _obj(data, "response")
    not_available = top.get("notAvailable")
    if not_available is not None:
        errors = []
        for index, raw in enumerate(_list(_obj(not_available, "notAvailable"), "errors", "notAvailable")):
            error = _obj(raw, f"notAvailable.errors[{index}]")
            what = next(
                (key for key in ("lineItem", "additionalFee", "shipping") if error.get(key) is not None), "item"
            )
            subject = _mapping(error.get(what))
            name = subject.get("lineItemId") or subject.get("additionalFeeId") or ""
            app = _mapping(_mapping(error.get("error")).get("applicationError"))
            why = app.get("description") or app.get("code") or "not available"
            errors.append(f"{what} {name}: {why}".replace("  ", " ").strip())
        return Calculation(available=False, errors=tuple(errors))
    calculated = top.get("calculatedRefundItems")
    calculated = _obj(calculated, "calculatedRefundItems") if calculated is not None else {}
    lines = _priced(calculated, "lineItems", "item", "lineItemId")
    fees = _priced(calculated, "additionalFees", "additionalFee", "additionalFeeId")
    shipping = calculated.get("shipping")
    shipping_total = None
    if shipping is not None:
        shipping_total = _summary_total(
            _obj(shipping, "calculatedRefundItems.shipping"), "calculatedRefundItems.shipping"
        )
    return Calculation(
        available=True,
        total=_summary_total(top, ""),
        lines=lines,
        fees=fees,
        shipping=shipping_total,
    )


@attrs.frozen(kw_only=True)
class SearchPage:
    """One page of a Search Orders answer: the orders it held that could be read, and the next page's cursor."""

    orders: tuple[Order, ...]
    next_cursor: str | None = None
    #: The ``number`` of each order the page held that could not be read (None when it had none).
    unread: tuple[object, ...] = ()


def parse_search_page(data: object) -> SearchPage:
    """Return the orders of a Search Orders answer and the cursor of its next page (None: no more).

    An order that cannot be read is left out, not guessed: the batch then reads it
    with Get Order, which fails closed naming the field. A next page is followed only
    when ``metadata.hasNext`` is not false and ``metadata.cursors.next`` is a cursor.
    """
    top = _obj(data, "response")
    orders, unread = [], []
    for raw in _list(top, "orders", ""):
        try:
            orders.append(parse_order(raw))
        except InvalidOrderData:
            unread.append(raw.get("number") if isinstance(raw, dict) else None)
    metadata = top.get("metadata")
    metadata = metadata if isinstance(metadata, dict) else {}
    cursors = metadata.get("cursors")
    cursor = cursors.get("next") if isinstance(cursors, dict) else None
    more = metadata.get("hasNext") is not False and isinstance(cursor, str) and bool(cursor)
    return SearchPage(orders=tuple(orders), next_cursor=cursor if more else None, unread=tuple(unread))
