"""Every Wix path, JSON key and amount format, in and out. No I/O.

This is the one module that knows Wix's wire format (``docs/wix-api.md``,
"Choices this project makes"). Where live Wix proves a choice wrong, it is
corrected here and nowhere else.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any, Generic, TypeVar

import attrs

from ._dates import parse_timestamp
from ._error_table import status_error
from ._errors import (
    InvalidOrderData,
    InvalidRequest,
    WixAPIError,
)
from ._items import (
    AllLeft,
    Calculation,
    FeeAvailability,
    FeeRefund,
    ItemAvailability,
    LineAvailability,
    Portion,
    RefundItem,
)
from ._money import wire_amount
from ._orders import (
    Fulfillment,
    FulfillmentStatus,
    LineItem,
    Order,
    OrderStatus,
    OrderTransactions,
    Payment,
    PaymentRecordStatus,
    PaymentRefundability,
    PaymentStatus,
    Refundability,
    RefundRecord,
    RefundStatus,
    RefundTransaction,
    TrackingInfo,
)

T = TypeVar("T")

DEFAULT_BASE_URL = "https://www.wixapis.com"
REQUEST_ID_HEADER = "x-wix-request-id"
REFERENCE_TAG = " [ref:{reference}]"
# The tag ends the reason; a reference is 1 to 64 of these characters (see _routing).
_TAG_AT_END = re.compile(r" ?\[ref:([A-Za-z0-9._:/#@+-]{1,64})\]\Z")
MAX_CUSTOMER_REASON = 200
MAX_PAYMENT_REFUNDS = 50
MAX_CANCEL_MESSAGE = 1000
# Search Orders' page and both list-by-ids calls take at most 100 (docs/wix-api.md 2.2, 2.4, 2.5).
MAX_LIST_IDS = 100

_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def is_guid(value: object) -> bool:
    """Return whether ``value`` is a GUID string (the form of every Wix ID used here)."""
    return isinstance(value, str) and _GUID.fullmatch(value) is not None


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


# --- reading JSON -----------------------------------------------------------------


def _obj(value: object, field: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise InvalidOrderData(field, f"expected an object, got {_kind(value)}")
    return value


def _get(data: Mapping[str, Any], key: str, path: str) -> Any:
    if key not in data or data[key] is None:
        raise InvalidOrderData(f"{path}.{key}" if path else key, "missing")
    return data[key]


def _str(data: Mapping[str, Any], key: str, path: str) -> str:
    value = _get(data, key, path)
    if not isinstance(value, str) or not value:
        raise InvalidOrderData(f"{path}.{key}", f"expected a non-empty string, got {_kind(value)}")
    return value


def _opt_str(data: Mapping[str, Any], key: str, path: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidOrderData(f"{path}.{key}", f"expected a string, got {_kind(value)}")
    return value


def _bool(data: Mapping[str, Any], key: str, path: str, default: bool = False) -> bool:
    value = data.get(key, default)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise InvalidOrderData(f"{path}.{key}", f"expected true or false, got {_kind(value)}")
    return value


def _list(data: Mapping[str, Any], key: str, path: str) -> list[Any]:
    value = data.get(key, [])
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidOrderData(f"{path}.{key}", f"expected an array, got {_kind(value)}")
    return value


def _id(data: Mapping[str, Any], key: str, path: str) -> str:
    value = _str(data, key, path)
    if not is_guid(value):
        raise InvalidOrderData(f"{path}.{key}", f"{value!r} is not a GUID")
    return value


def _decimal(value: object, field: str) -> Decimal:
    # Wix writes amounts as decimal strings; a reader also takes a JSON number, which
    # decode_json has made a Decimal (a float from someone else's json.loads is read
    # through its shortest text, never through binary arithmetic).
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal, float)):
        raise InvalidOrderData(field, f"expected a decimal string or number, got {_kind(value)}")
    try:
        amount = Decimal(
            value.strip() if isinstance(value, str) else repr(value) if isinstance(value, float) else value
        )
    except InvalidOperation as exc:
        raise InvalidOrderData(field, f"{value!r} is not a decimal amount") from exc
    if not amount.is_finite():
        raise InvalidOrderData(field, f"{value!r} is not a finite amount")
    return amount


def _price(data: Mapping[str, Any], key: str, path: str) -> Decimal:
    price = _obj(_get(data, key, path), f"{path}.{key}")
    return _decimal(_get(price, "amount", f"{path}.{key}"), f"{path}.{key}.amount")


def _kind(value: object) -> str:
    if value is None:
        return "null"
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}.get(
        type(value), type(value).__name__
    )


def _enum_text(data: Mapping[str, Any], key: str, path: str) -> str:
    value = _get(data, key, path)
    if not isinstance(value, str):
        raise InvalidOrderData(f"{path}.{key}", f"expected an enum string, got {_kind(value)}")
    return value


def parse_order(data: object) -> Order:
    """Return the ``Order`` in a Get Order response or a bare order object.

    Well-formed orders take a fast path; anything it doubts is read again by the
    careful path, which accepts what it can (dateutil's timestamp forms, say) and
    otherwise raises the error that names the field.

    Raises:
        InvalidOrderData: a field is missing or malformed; the error names it.
    """
    try:
        return _parse_order_fast(data)
    except (LookupError, TypeError, ValueError, ArithmeticError, AttributeError):
        return _parse_order_checked(data)


_ORDER_STATUSES = OrderStatus._value2member_map_
_PAYMENT_STATUSES = PaymentStatus._value2member_map_
_FULFILLMENT_STATUSES = FulfillmentStatus._value2member_map_
_GUID_MATCH = _GUID.fullmatch
# Line items are immutable and their IDs repeat across orders (Wix numbers them per
# order: ...0001, ...0002), so equal ones are shared instead of built again.
_LINE_ITEMS: dict[tuple[str, int], LineItem] = {}


def _parse_order_fast(data: Any) -> Order:
    # Every check of _parse_order_checked, inline; any failure raises a builtin
    # error and sends the order to the careful path. A test holds both paths equal.
    order = data.get("order", data)
    oid = order["id"]
    if type(oid) is not str or _GUID_MATCH(oid) is None:
        raise ValueError
    number = order["number"]
    if type(number) is int:
        number = str(number)
    elif type(number) is not str or not number:
        raise ValueError
    created = datetime.fromisoformat(order["createdDate"])
    zone = created.tzinfo
    if zone is not timezone.utc:
        if zone is None or created.utcoffset() is None:
            raise ValueError
        created = created.astimezone(timezone.utc)
    status, payment, fulfillment = order["status"], order["paymentStatus"], order["fulfillmentStatus"]
    if type(status) is not str or type(payment) is not str or type(fulfillment) is not str:
        raise TypeError
    currency = order["currency"]
    if (
        type(currency) is not str
        or len(currency) != 3
        or not (currency.isascii() and currency.isalpha() and currency.isupper())
    ):
        raise ValueError
    amount = order["priceSummary"]["total"]["amount"]
    if type(amount) is not str and type(amount) is not int:
        raise TypeError
    total = Decimal(amount)
    if not total.is_finite() or total < 0:
        raise ValueError
    archived = order.get("archived")
    if archived is None:
        archived = False
    elif type(archived) is not bool:
        raise TypeError
    items = order.get("lineItems")
    line_items = []
    if items is not None:
        if type(items) is not list:
            raise TypeError
        for item in items:
            item_id, quantity = item["id"], item["quantity"]
            if type(item_id) is not str or not item_id or type(quantity) is not int or quantity < 0:
                raise ValueError
            key = (item_id, quantity)
            line_item = _LINE_ITEMS.get(key)
            if line_item is None:
                if len(_LINE_ITEMS) >= 4096:
                    _LINE_ITEMS.clear()
                line_item = _LINE_ITEMS[key] = LineItem(id=item_id, quantity=quantity)
            line_items.append(line_item)
    return Order(
        id=oid,
        number=number,
        created_at=created,
        status=_ORDER_STATUSES.get(status, OrderStatus.UNKNOWN),  # type: ignore[arg-type]
        payment_status=_PAYMENT_STATUSES.get(payment, PaymentStatus.UNKNOWN),  # type: ignore[arg-type]
        fulfillment_status=_FULFILLMENT_STATUSES.get(fulfillment, FulfillmentStatus.UNKNOWN),  # type: ignore[arg-type]
        currency=currency,
        total=total,
        archived=archived,
        line_items=tuple(line_items),
        raw_status=status,
        raw_payment_status=payment,
        raw_fulfillment_status=fulfillment,
    )


def _parse_order_checked(data: object) -> Order:
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
    if total < 0:
        raise InvalidOrderData("order.priceSummary.total.amount", f"{total} is negative")
    items = []
    for index, raw_item in enumerate(_list(order, "lineItems", path)):
        item_path = f"order.lineItems[{index}]"
        item = _obj(raw_item, item_path)
        quantity = _get(item, "quantity", item_path)
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
            raise InvalidOrderData(f"{item_path}.quantity", f"expected a whole number >= 0, got {quantity!r}")
        items.append(LineItem(id=_str(item, "id", item_path), quantity=quantity))
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
        raw_status=raw_status,
        raw_payment_status=raw_payment,
        raw_fulfillment_status=raw_fulfillment,
    )


def parse_fulfillments(data: object) -> tuple[Fulfillment, ...]:
    """Return the fulfilments in an ``{"orderWithFulfillments": ...}`` answer (list or delete)."""
    top = _obj(data, "response")
    wrapper = _obj(_get(top, "orderWithFulfillments", ""), "orderWithFulfillments")
    result = []
    for index, raw in enumerate(_list(wrapper, "fulfillments", "orderWithFulfillments")):
        path = f"orderWithFulfillments.fulfillments[{index}]"
        item = _obj(raw, path)
        created = item.get("createdDate")
        lines = []
        for l_index, raw_line in enumerate(_list(item, "lineItems", path)):
            l_path = f"{path}.lineItems[{l_index}]"
            line = _obj(raw_line, l_path)
            quantity = line.get("quantity", 0)
            if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
                raise InvalidOrderData(f"{l_path}.quantity", f"expected a whole number >= 0, got {quantity!r}")
            lines.append(LineItem(id=_str(line, "id", l_path), quantity=quantity))
        tracking = None
        raw_tracking = item.get("trackingInfo")
        if raw_tracking is not None:
            t = _obj(raw_tracking, f"{path}.trackingInfo")
            t_path = f"{path}.trackingInfo"
            tracking = TrackingInfo(
                tracking_number=_opt_str(t, "trackingNumber", t_path),
                shipping_provider=_opt_str(t, "shippingProvider", t_path),
                tracking_link=_opt_str(t, "trackingLink", t_path),
            )
        result.append(
            Fulfillment(
                id=_id(item, "id", path),
                created_at=None if created is None else parse_timestamp(created, field=f"{path}.createdDate"),
                line_items=tuple(lines),
                tracking=tracking,
            )
        )
    return tuple(result)


def parse_transactions(data: object) -> OrderTransactions:
    """Return the payments and refunds in an ``{"orderTransactions": ...}`` object."""
    top = _obj(data, "response")
    body = _obj(_get(top, "orderTransactions", ""), "orderTransactions")
    return _transactions(body, "orderTransactions")


def _payment(item: Mapping[str, Any], p_path: str) -> Payment:
    regular = item.get("regularPaymentDetails")
    regular = _obj(regular, f"{p_path}.regularPaymentDetails") if regular is not None else {}
    gift = item.get("giftcardPaymentDetails")
    gift = _obj(gift, f"{p_path}.giftcardPaymentDetails") if gift is not None else None
    # The payment's own status is top-level in Wix's types; regularPaymentDetails.status
    # is deprecated (and may be gone). A voided gift card holds nothing.
    raw_status = _opt_str(item, "status", p_path) or _opt_str(regular, "status", f"{p_path}.regularPaymentDetails")
    if raw_status is None and gift is not None:
        raw_status = "VOIDED" if _bool(gift, "voided", f"{p_path}.giftcardPaymentDetails") else "APPROVED"
    method = _opt_str(item, "paymentMethod", p_path) or _opt_str(
        regular, "paymentMethod", f"{p_path}.regularPaymentDetails"
    )
    # A payment without an amount holds nothing the library can refund by amount.
    amount = _price(item, "amount", p_path) if item.get("amount") is not None else Decimal(0)
    return Payment(
        id=_id(item, "id", p_path),
        amount=amount,
        status=PaymentRecordStatus.parse(raw_status or ""),
        raw_status=raw_status or "",
        refund_disabled=_bool(item, "refundDisabled", p_path),
        offline=_bool(regular, "offlinePayment", f"{p_path}.regularPaymentDetails"),
        gift_card=gift is not None,
        membership=item.get("membershipPaymentDetails") is not None,
        method=method,
    )


def _refund_record(item: Mapping[str, Any], r_path: str) -> RefundRecord:
    transactions = []
    for t_index, raw_t in enumerate(_list(item, "transactions", r_path)):
        t_path = f"{r_path}.transactions[{t_index}]"
        t = _obj(raw_t, t_path)
        transactions.append(
            RefundTransaction(
                payment_id=_str(t, "paymentId", t_path),
                amount=_price(t, "amount", t_path) if t.get("amount") is not None else Decimal(0),
                status=RefundStatus.parse(_enum_text(t, "refundStatus", t_path)),
                external=_bool(t, "externalRefund", t_path),
            )
        )
    details = item.get("details")
    details = _obj(details, f"{r_path}.details") if details is not None else {}
    created = item.get("createdDate")
    lines = tuple(
        LineItem(
            id=_str(_obj(raw, f"{r_path}.details.lineItems[{i}]"), "lineItemId", f"{r_path}.details.lineItems[{i}]"),
            quantity=_count(_obj(raw, "line"), "quantity", f"{r_path}.details.lineItems[{i}]"),
        )
        for i, raw in enumerate(_list(details, "lineItems", f"{r_path}.details"))
    )
    return RefundRecord(
        id=_str(item, "id", r_path),
        transactions=tuple(transactions),
        line_items=lines,
        reason=_opt_str(details, "reason", f"{r_path}.details"),
        created_at=None if created is None else parse_timestamp(created, field=f"{r_path}.createdDate"),
    )


def _transactions(body: Mapping[str, Any], path: str) -> OrderTransactions:
    payments = [
        _payment(_obj(raw, f"{path}.payments[{index}]"), f"{path}.payments[{index}]")
        for index, raw in enumerate(_list(body, "payments", path))
    ]
    refunds = [
        _refund_record(_obj(raw, f"{path}.refunds[{index}]"), f"{path}.refunds[{index}]")
        for index, raw in enumerate(_list(body, "refunds", path))
    ]
    return OrderTransactions(order_id=_str(body, "orderId", path), payments=tuple(payments), refunds=tuple(refunds))


@attrs.frozen(kw_only=True)
class SearchPage:
    """One page of a Search Orders answer: the orders it held that could be read, and the next page's cursor."""

    orders: tuple[Order, ...]
    next_cursor: str | None = None


def parse_search_page(data: object) -> SearchPage:
    """Return the orders of a Search Orders answer and the cursor of its next page (None: no more).

    An order that cannot be read is left out, not guessed: the batch then reads it
    with Get Order, which fails closed naming the field. A next page is followed only
    when ``metadata.hasNext`` is not false and ``metadata.cursors.next`` is a cursor.
    """
    top = _obj(data, "response")
    orders = []
    for raw in _list(top, "orders", ""):
        try:
            orders.append(parse_order(raw))
        except InvalidOrderData:
            continue
    metadata = top.get("metadata")
    metadata = metadata if isinstance(metadata, dict) else {}
    cursors = metadata.get("cursors")
    cursor = cursors.get("next") if isinstance(cursors, dict) else None
    more = metadata.get("hasNext") is not False and isinstance(cursor, str) and bool(cursor)
    return SearchPage(orders=tuple(orders), next_cursor=cursor if more else None)


def _by_order(items: list[Any], read: Callable[[Any], tuple[str, T]]) -> dict[str, T]:
    """Return what ``read`` finds in each item, by lower-cased order ID.

    An item that cannot be read, and an order listed twice, are left out: the batch
    then reads that order on its own, which fails closed naming the field.
    """
    found: dict[str, T] = {}
    twice: set[str] = set()
    for item in items:
        try:
            order_id, value = read(item)
        except InvalidOrderData:
            continue
        key = order_id.lower()
        if key in found:
            twice.add(key)
        found[key] = value
    return {key: value for key, value in found.items() if key not in twice}


def _order_transactions(item: object) -> tuple[str, OrderTransactions]:
    transactions = _transactions(_obj(item, "orderTransactions[]"), "orderTransactions[]")
    return transactions.order_id, transactions


def _order_fulfillments(item: object) -> tuple[str, tuple[Fulfillment, ...]]:
    order_id = _str(_obj(item, "ordersWithFulfillments[]"), "orderId", "ordersWithFulfillments[]")
    return order_id, parse_fulfillments({"orderWithFulfillments": item})


def parse_transactions_by_ids(data: object) -> dict[str, OrderTransactions]:
    """Return each order's payments and refunds in a List Transactions For Multiple Orders answer.

    Keyed by lower-cased order ID; an entry that cannot be read, or an order listed
    twice, is left out (``_by_order``).
    """
    return _by_order(_list(_obj(data, "response"), "orderTransactions", ""), _order_transactions)


def parse_fulfillments_by_ids(data: object) -> dict[str, tuple[Fulfillment, ...]]:
    """Return each order's fulfilments in a List Fulfillments For Multiple Orders answer.

    Keyed by lower-cased order ID; left out as in ``parse_transactions_by_ids``.
    """
    return _by_order(_list(_obj(data, "response"), "ordersWithFulfillments", ""), _order_fulfillments)


@attrs.frozen(kw_only=True)
class RefundAnswer:
    """Refund Payments' answer: the refund it created and the order's transactions after it."""

    refund: RefundRecord
    transactions: OrderTransactions | None = None


def parse_refund_answer(data: object) -> RefundAnswer:
    """Return the refund (required: it settles the step) and transactions in a Refund Payments answer."""
    top = _obj(data, "response")
    refund = _refund_record(_obj(_get(top, "refund", ""), "refund"), "refund")
    body = top.get("orderTransactions")
    transactions = None if body is None else _transactions(_obj(body, "orderTransactions"), "orderTransactions")
    return RefundAnswer(refund=refund, transactions=transactions)


_REFUNDABILITY_KEYS = (
    ("refundable", Refundability.REFUNDABLE),
    ("manuallyRefundable", Refundability.MANUALLY_REFUNDABLE),
    ("nonRefundable", Refundability.NON_REFUNDABLE),
)
# The older Order Transactions form: refundabilityStatus instead of one key per state.
_REFUNDABILITY_STATUS = {
    "REFUNDABLE": Refundability.REFUNDABLE,
    "MANUAL": Refundability.MANUALLY_REFUNDABLE,
    "NOT_REFUNDABLE": Refundability.NON_REFUNDABLE,
}


@attrs.frozen(kw_only=True)
class RefundabilityAnswer:
    """Get Order Refundability's answer: each payment's refundability, and what is left of each item."""

    payments: tuple[PaymentRefundability, ...]
    items: ItemAvailability = attrs.field(factory=ItemAvailability)


def _fee_availability(data: Mapping[str, Any], path: str, fee_id: str | None) -> FeeAvailability:
    def money(key: str) -> Decimal:
        return _price(data, key, path) if data.get(key) is not None else Decimal(0)

    return FeeAvailability(
        fee_id=fee_id,
        amount=money("amount"),
        refunded=money("refundedAmount"),
        available=money("availableRefundAmount"),
    )


def _count(data: Mapping[str, Any], key: str, path: str) -> int:
    value = data.get(key, 0)
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidOrderData(f"{path}.{key}", f"expected a whole number >= 0, got {value!r}")
    return value


def parse_refundability_answer(data: object) -> RefundabilityAnswer:
    """Return the whole Get Order Refundability answer: payments, lines, shipping and fees."""
    top = _obj(data, "response")
    lines = []
    for index, raw in enumerate(_list(top, "lineItems", "")):
        path = f"lineItems[{index}]"
        line = _obj(raw, path)
        lines.append(
            LineAvailability(
                line_item_id=_str(line, "lineItemId", path),
                original=_count(line, "originalQuantity", path),
                refunded=_count(line, "refundedQuantity", path),
                available=_count(line, "availableRefundQuantity", path),
            )
        )
    shipping = top.get("shipping")
    fees = [
        _fee_availability(
            _obj(raw, f"additionalFees[{i}]"),
            f"additionalFees[{i}]",
            _str(_obj(raw, "fee"), "additionalFeeId", f"additionalFees[{i}]"),
        )
        for i, raw in enumerate(_list(top, "additionalFees", ""))
    ]
    items = ItemAvailability(
        lines=tuple(lines),
        shipping=None if shipping is None else _fee_availability(_obj(shipping, "shipping"), "shipping", None),
        fees=tuple(fees),
    )
    return RefundabilityAnswer(payments=parse_refundability(data), items=items)


def parse_refundability(data: object) -> tuple[PaymentRefundability, ...]:
    """Return each payment's refundability from a Get Order Refundability answer.

    Wix's shape first (``docs/wix-api.md``): each entry holds exactly one of
    ``refundable: <bool>``, ``manuallyRefundable: {"reason"}``, ``nonRefundable:
    {"reason"}``, the payment under ``payment`` with ``monetary.maxRefund``. Older
    forms are tolerated: ``paymentId`` at the entry's top, a state given as an object
    (possibly with an ``amount`` cap), or ``refundabilityStatus``. A missing or
    contradictory state raises, naming the field, before anything is written.
    """
    top = _obj(data, "response")
    return tuple(
        _payment_refundability(_obj(raw, f"payments[{index}]"), f"payments[{index}]")
        for index, raw in enumerate(_list(top, "payments", ""))
    )


def _payment_refundability(item: Mapping[str, Any], path: str) -> PaymentRefundability:
    payment = item.get("payment")
    payment = _obj(payment, f"{path}.payment") if payment is not None else {}
    if payment.get("paymentId") is not None:
        payment_id = _id(payment, "paymentId", f"{path}.payment")
    elif item.get("paymentId") is not None:
        payment_id = _id(item, "paymentId", path)
    else:
        raise InvalidOrderData(f"{path}.payment.paymentId", "missing (nor is there a paymentId beside it)")
    states: list[tuple[Refundability, Mapping[str, Any]]] = []
    for key, kind in _REFUNDABILITY_KEYS:
        value = item.get(key)
        if value is None or value is False:
            continue
        if value is not True and not isinstance(value, dict):
            raise InvalidOrderData(f"{path}.{key}", f"expected true or an object, got {_kind(value)}")
        states.append((kind, value if isinstance(value, dict) else {}))
    if not states and item.get("refundable") is False:
        # refundable: false with no other state: Wix cannot refund it and gives no reason.
        states.append((Refundability.NON_REFUNDABLE, {}))
    status = item.get("refundabilityStatus")
    if status is not None:
        if not isinstance(status, str) or status not in _REFUNDABILITY_STATUS:
            raise InvalidOrderData(
                f"{path}.refundabilityStatus", f"{status!r} is not a refundability the library knows"
            )
        if states and states[0][0] is not _REFUNDABILITY_STATUS[status]:
            raise InvalidOrderData(f"{path}.refundabilityStatus", f"{status} contradicts {states[0][0]}")
        if not states:
            reason = item.get("manuallyRefundableReason") or item.get("nonRefundableReason")
            states.append((_REFUNDABILITY_STATUS[status], {"reason": reason} if isinstance(reason, str) else {}))
    if len(states) != 1:
        found = ", ".join(str(kind) for kind, _ in states) or "none"
        raise InvalidOrderData(
            path, f"expected exactly one of refundable, manuallyRefundable, nonRefundable; found {found}"
        )
    kind, detail = states[0]
    raw_reason = detail.get("reason")
    max_refund = None
    monetary = payment.get("monetary")
    if monetary is not None:
        monetary = _obj(monetary, f"{path}.payment.monetary")
        if monetary.get("maxRefund") is not None:
            max_refund = _price(monetary, "maxRefund", f"{path}.payment.monetary")
    if max_refund is None and detail.get("amount") is not None:
        cap = detail["amount"]
        max_refund = (
            _price(detail, "amount", f"{path}.{kind}") if isinstance(cap, dict) else _decimal(cap, f"{path}.amount")
        )
    return PaymentRefundability(
        payment_id=payment_id,
        refundability=kind,
        reason=raw_reason if isinstance(raw_reason, str) else None,
        max_refund=max_refund,
    )


def parse_sites(data: object) -> tuple[str, ...]:
    """Return the site IDs in a Query Sites answer."""
    top = _obj(data, "response")
    return tuple(_str(_obj(s, f"sites[{i}]"), "id", f"sites[{i}]") for i, s in enumerate(_list(top, "sites", "")))


def parse_site_properties(data: object) -> Mapping[str, Any]:
    """Return the ``properties`` object of Get Site Properties."""
    return _obj(_get(_obj(data, "response"), "properties", ""), "properties")


def parse_list(key: str) -> Callable[[object], list[Any]]:
    """Return a parser that reads the array under ``key`` of an answer."""

    def parse(data: object) -> list[Any]:
        return _list(_obj(data, "response"), key, "")

    return parse


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


_STORES_READ = "Wix Stores (Read Orders)"
_STORES_MANAGE = "Wix Stores (Manage Orders)"


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


@attrs.frozen(kw_only=True)
class PaymentRefund:
    """One entry of a Refund Payments call: how much goes back to one payment.

    ``amount`` is None for a stored-value payment (gift card, membership), whose
    whole credit Wix refunds; ``external`` records a refund made outside Wix.
    """

    payment_id: str
    amount: Decimal | None
    external: bool = False


def customer_reason(reason: str | None, reference: str) -> str:
    """Return the ``customerReason`` text: the reason, shortened so that the reference tag always fits."""
    tag = REFERENCE_TAG.format(reference=reference)
    text = (reason or "").strip()
    room = MAX_CUSTOMER_REASON - len(tag)
    if len(text) > room:
        text = text[: max(room - 1, 0)].rstrip() + "…" if room > 0 else ""
    return (text + tag).strip()


def reference_of(reason: str | None) -> str | None:
    """Return the reference in the tag that ends ``reason``, or None: only a whole tag at the end counts."""
    if not reason:
        return None
    match = _TAG_AT_END.search(reason)
    return match.group(1) if match else None


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


@attrs.frozen(kw_only=True)
class ItemsAsked:
    """The line items, fees and shipping one refund names (Wix's ``refundItems``)."""

    items: tuple[RefundItem, ...] = ()
    shipping: Portion | None = None
    fees: tuple[FeeRefund, ...] = ()

    @property
    def any(self) -> bool:
        """Return whether it names anything."""
        return bool(self.items or self.fees) or self.shipping is not None


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


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def _summary_total(data: Mapping[str, Any], path: str) -> Decimal:
    summary = _obj(_get(data, "summary", path), f"{path}.summary")
    return _price(summary, "total", f"{path}.summary")


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
    lines = []
    for index, raw in enumerate(_list(calculated, "lineItems", "calculatedRefundItems")):
        path = f"calculatedRefundItems.lineItems[{index}]"
        entry = _obj(raw, path)
        item = _obj(_get(entry, "item", path), f"{path}.item")
        lines.append((_str(item, "lineItemId", f"{path}.item"), _summary_total(entry, path)))
    fees = []
    for index, raw in enumerate(_list(calculated, "additionalFees", "calculatedRefundItems")):
        path = f"calculatedRefundItems.additionalFees[{index}]"
        entry = _obj(raw, path)
        fee = _obj(_get(entry, "additionalFee", path), f"{path}.additionalFee")
        fees.append((_str(fee, "additionalFeeId", f"{path}.additionalFee"), _summary_total(entry, path)))
    shipping = calculated.get("shipping")
    shipping_total = None
    if shipping is not None:
        shipping_total = _summary_total(
            _obj(shipping, "calculatedRefundItems.shipping"), "calculatedRefundItems.shipping"
        )
    return Calculation(
        available=True,
        total=_summary_total(top, ""),
        lines=tuple(lines),
        fees=tuple(fees),
        shipping=shipping_total,
    )


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


def decode_json(body: bytes) -> object:
    """Return the JSON value in ``body``, numbers with a fraction as Decimal; raise ValueError if not JSON."""
    return json.loads(body, parse_float=Decimal)


def _describe_body(body: bytes, content_type: str) -> tuple[str | None, str | None]:
    """Return Wix's error (code, message) from an error body, or a description of a non-JSON one."""
    if not body.strip():
        return None, "empty body"
    try:
        data = json.loads(body)
    except ValueError:
        text = body[:2000].decode("utf-8", "replace")
        title = re.search(r"<title[^>]*>(.*?)</title>", text, re.I | re.S)
        if "html" in content_type.lower() or text.lstrip().startswith("<"):
            shown = title.group(1).strip() if title else "no title"
            return None, f"an HTML page, not JSON ({shown[:80]!r}), probably from a proxy"
        return None, f"a body that is not JSON ({text[:80]!r})"
    if not isinstance(data, dict):
        return None, "a JSON body that is not an object"
    message = data.get("message") if isinstance(data.get("message"), str) else None
    details = data.get("details") if isinstance(data.get("details"), dict) else {}
    assert isinstance(details, dict)
    app = details.get("applicationError")
    if isinstance(app, dict):
        code = app.get("code") if isinstance(app.get("code"), str) else None
        description = app.get("description") if isinstance(app.get("description"), str) else None
        return code, description or message
    validation = details.get("validationError")
    if isinstance(validation, dict):
        violations = validation.get("fieldViolations")
        parts = []
        if isinstance(violations, list):
            for v in violations:
                if isinstance(v, dict):
                    parts.append(f"{v.get('field')}: {v.get('description')}")
        return "INVALID_ARGUMENT", "; ".join(parts) or message
    return None, message or None


_HINTS = {
    401: "Wix refused the API key (revoked, mistyped or expired). Create or copy the key again in "
    "Account Settings > API Keys.",
}


def error_from_response(
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    call: WireCall[Any],
    *,
    site_id: str,
    retry_after: float | None = None,
) -> WixAPIError:
    """Return the typed error for an HTTP error status; the class comes from ``_error_table``, the one status map."""
    code, wix_message = _describe_body(body, headers.get("content-type", ""))
    request_id = headers.get(REQUEST_ID_HEADER)
    detail = f"{wix_message}" if wix_message else "no message"
    prefix = f"{call.operation} ({call.method} {call.path}) got HTTP {status}"
    fields: dict[str, Any] = {
        "status": status,
        "code": code,
        "wix_message": wix_message,
        "request_id": request_id,
        "operation": call.operation,
        "retry_after": retry_after,
    }
    suffix = f" [request id {request_id}]" if request_id else ""
    error = status_error(status)
    if status == 401:
        text = f"{prefix}: {_HINTS[401]} Wix said: {detail}"
    elif status == 403:
        where = "the account" if call.account_level else f"site {site_id}"
        text = (
            f"Wix refused the API key for {where} ({call.operation}, HTTP 403): the key likely lacks the "
            f"{call.permission} permission or cannot reach this site. Edit the key in Account Settings > "
            f"API Keys. Wix said: {detail}"
        )
    elif status == 404:
        text = f"{prefix}: not found. Wix said: {detail}"
    elif status == 428:
        text = f"{prefix}: Wix refused the change. Wix said: {detail}"
    elif status == 429:
        wait = f"; Wix asked to wait {retry_after:g}s" if retry_after is not None else ""
        text = f"{prefix}: too many requests{wait}. Wix said: {detail}"
    elif status >= 500:
        text = f"{prefix}: Wix or a proxy failed; {detail}"
    else:
        text = f"{prefix}: {detail}"
    return error(text + suffix, **fields)
