"""Order and friends: frozen values read from Wix's JSON (see ``_wire`` for the keys)."""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from types import MappingProxyType
from typing import Any

import attrs

from ._dates import parse_timestamp
from ._errors import InvalidOrderData
from ._json import _GUID, _bool, _enum_text, _get, _id, _kind, _list, _obj, _price, _str
from ._money import MINOR_UNITS, check_read_amount

__all__ = [
    "Fulfillment",
    "FulfillmentStatus",
    "LineItem",
    "MISSING_REFUND_STATUS",
    "Order",
    "OrderStatus",
    "OrderTransactions",
    "Payment",
    "PaymentRecordStatus",
    "PaymentRefundability",
    "PaymentStatus",
    "RefundRecord",
    "RefundStatus",
    "RefundTransaction",
    "Refundability",
    "TrackingInfo",
    "parse_order",
]


class _TextEnum(str, enum.Enum):
    """An enum of texts that prints as its text."""

    def __str__(self) -> str:
        return str(self.value)


class _WixEnum(_TextEnum):
    """A Wix enum whose unknown values read as ``UNKNOWN`` instead of failing."""

    @classmethod
    def parse(cls, raw: str) -> Any:
        """Return the member named ``raw``, or ``UNKNOWN`` for a value the library does not know."""
        member = cls._value2member_map_.get(raw)
        return member if member is not None else cls("UNKNOWN")


class OrderStatus(_WixEnum):
    """``order.status`` as Wix reports it."""

    INITIALIZED = "INITIALIZED"
    APPROVED = "APPROVED"
    CANCELED = "CANCELED"
    PENDING = "PENDING"
    REJECTED = "REJECTED"
    UNKNOWN = "UNKNOWN"


class PaymentStatus(_WixEnum):
    """``order.paymentStatus`` as Wix reports it."""

    UNSPECIFIED = "UNSPECIFIED"
    NOT_PAID = "NOT_PAID"
    PAID = "PAID"
    PARTIALLY_REFUNDED = "PARTIALLY_REFUNDED"
    FULLY_REFUNDED = "FULLY_REFUNDED"
    PENDING = "PENDING"
    PARTIALLY_PAID = "PARTIALLY_PAID"
    PENDING_MERCHANT = "PENDING_MERCHANT"
    CANCELED = "CANCELED"
    DECLINED = "DECLINED"
    UNKNOWN = "UNKNOWN"


class FulfillmentStatus(_WixEnum):
    """``order.fulfillmentStatus`` as Wix reports it."""

    NOT_FULFILLED = "NOT_FULFILLED"
    FULFILLED = "FULFILLED"
    PARTIALLY_FULFILLED = "PARTIALLY_FULFILLED"
    UNKNOWN = "UNKNOWN"


class RefundStatus(_WixEnum):
    """``refunds[].transactions[].refundStatus``: every status but FAILED counts as refunded."""

    STARTED = "STARTED"
    SCHEDULED = "SCHEDULED"
    PENDING = "PENDING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    UNKNOWN = "UNKNOWN"


#: Choice (docs/wix-api.md 7.1): how a refund transaction without ``refundStatus`` is read
#: (the field is optional in Wix's types). Not SUCCEEDED: nothing says the money arrived.
#: Not FAILED: that would have the library pay it again. UNKNOWN counts as in flight:
#: possibly refunded, so never paid twice, and not settled, so never reported done.
MISSING_REFUND_STATUS = RefundStatus.UNKNOWN


@attrs.frozen(kw_only=True)
class LineItem:
    """One line of an order."""

    id: str
    quantity: int


@attrs.frozen(kw_only=True)
class Order:
    """A Wix eCom order, reduced to what refunding needs.

    The ``raw_*`` fields keep the text Wix sent for each status, so that an
    ``UNKNOWN`` member can still be shown as Wix wrote it.
    """

    id: str
    number: str
    created_at: datetime
    status: OrderStatus
    payment_status: PaymentStatus
    fulfillment_status: FulfillmentStatus
    currency: str
    total: Decimal
    archived: bool
    line_items: tuple[LineItem, ...] = attrs.field(factory=tuple)
    #: The lines Wix counts restocked (``lineItems[].restockQuantity`` above 0), with that count.
    restocked: tuple[LineItem, ...] = attrs.field(factory=tuple)
    raw_status: str = ""
    raw_payment_status: str = ""
    raw_fulfillment_status: str = ""

    @classmethod
    def from_wix(cls, data: object) -> Order:
        """Return the order in a Get Order response (``{"order": {...}}``) or a bare order object.

        Raises:
            InvalidOrderData: a field is missing or malformed; the error names it.
        """
        return parse_order(data)


@attrs.frozen(kw_only=True)
class TrackingInfo:
    """A fulfilment's tracking details, kept when the fulfilment is deleted."""

    tracking_number: str | None = None
    shipping_provider: str | None = None
    tracking_link: str | None = None


@attrs.frozen(kw_only=True)
class Fulfillment:
    """One fulfilment record of an order: what it shipped and how it can be tracked.

    ``line_items`` are the lines Wix listed with a quantity; ``unknown_quantity`` the IDs
    of lines it listed without one (``quantity`` is ``number | null`` in Wix's types): the
    fulfilment still covers them, and deleting it is not held up by what it does not say.
    """

    id: str
    created_at: datetime | None = None
    line_items: tuple[LineItem, ...] = attrs.field(factory=tuple)
    tracking: TrackingInfo | None = None
    unknown_quantity: tuple[str, ...] = ()


class PaymentRecordStatus(_WixEnum):
    """A payment's own top-level ``status`` in List Transactions."""

    APPROVED = "APPROVED"
    PARTIALLY_REFUNDED = "PARTIALLY_REFUNDED"
    REFUNDED = "REFUNDED"
    PENDING = "PENDING"
    PENDING_MERCHANT = "PENDING_MERCHANT"
    AUTHORIZED = "AUTHORIZED"
    CANCELED = "CANCELED"
    DECLINED = "DECLINED"
    VOIDED = "VOIDED"
    UNKNOWN = "UNKNOWN"


# Money Wix holds and can give back: captured payments. A declined, pending, authorized
# (not captured) or voided payment holds nothing to refund.
_P = PaymentRecordStatus
_CAPTURED = frozenset({_P.APPROVED, _P.PARTIALLY_REFUNDED, _P.REFUNDED})


@attrs.frozen(kw_only=True)
class Payment:
    """One payment of an order, from List Transactions.

    ``status`` is the payment's own status (``UNKNOWN`` with ``raw_status`` kept when
    Wix sent one the library does not know, or none). Gift-card and membership
    payments are stored value: Wix refunds their whole credit, never an amount.
    """

    id: str
    amount: Decimal
    status: PaymentRecordStatus = PaymentRecordStatus.APPROVED
    raw_status: str = "APPROVED"
    refund_disabled: bool = False
    offline: bool = False
    gift_card: bool = False
    membership: bool = False
    method: str | None = None

    @property
    def captured(self) -> bool:
        """Return whether this payment holds captured money (``status`` APPROVED, PARTIALLY_REFUNDED, REFUNDED)."""
        return self.status in _CAPTURED

    @property
    def stored_value(self) -> bool:
        """Return whether this is a gift-card or membership payment (refunded whole, never in part)."""
        return self.gift_card or self.membership


@attrs.frozen(kw_only=True)
class RefundTransaction:
    """The part of a refund that went back to one payment."""

    payment_id: str
    amount: Decimal
    status: RefundStatus
    external: bool = False
    #: Why Wix holds it in this status (``refundStatusInfo``: the description, with the
    #: gateway's reason code in brackets), when it says; it explains a FAILED refund.
    status_info: str | None = None

    @property
    def counted(self) -> bool:
        """Return whether this counts as refunded: every status but FAILED (in-flight and unknown ones too)."""
        return self.status is not RefundStatus.FAILED


@attrs.frozen(kw_only=True)
class RefundRecord:
    """One refund of an order, with its reason text."""

    id: str
    transactions: tuple[RefundTransaction, ...] = attrs.field(factory=tuple)
    reason: str | None = None
    created_at: datetime | None = None
    #: The line items it refunded, with their quantities, as Wix's books have them
    #: (``details.items``, else the older ``details.lineItems``).
    line_items: tuple[LineItem, ...] = attrs.field(factory=tuple)

    @property
    def counted(self) -> bool:
        """Return whether any part of this refund counts as refunded (is not FAILED)."""
        return any(t.counted for t in self.transactions)

    @property
    def amount(self) -> Decimal:
        """Return what this refund gives back, counting every transaction that did not fail."""
        return sum((t.amount for t in self.transactions if t.counted), Decimal(0))


@attrs.frozen(kw_only=True)
class OrderTransactions:
    """The payments and refunds of one order."""

    order_id: str
    payments: tuple[Payment, ...] = attrs.field(factory=tuple)
    refunds: tuple[RefundRecord, ...] = attrs.field(factory=tuple)

    def refunded_for(self, payment_id: str) -> Decimal:
        """Return what ``payment_id`` has had refunded, counting every refund not FAILED."""
        return sum(
            (t.amount for r in self.refunds for t in r.transactions if t.payment_id == payment_id and t.counted),
            Decimal(0),
        )

    def refunded_total(self) -> Decimal:
        """Return the sum of every refund transaction that did not fail."""
        return sum(
            (t.amount for r in self.refunds for t in r.transactions if t.counted),
            Decimal(0),
        )

    def remaining_for(self, payment: Payment) -> Decimal:
        """Return what ``payment`` still holds to refund: nothing unless captured, never below zero."""
        if not payment.captured:
            return Decimal(0)
        return max(payment.amount - self.refunded_for(payment.id), Decimal(0))

    def captured_total(self) -> Decimal:
        """Return the sum of the captured payments (what Wix took and can give back)."""
        return sum((p.amount for p in self.payments if p.captured), Decimal(0))


class Refundability(_WixEnum):
    """How Wix can refund one payment."""

    REFUNDABLE = "REFUNDABLE"
    MANUALLY_REFUNDABLE = "MANUALLY_REFUNDABLE"
    NON_REFUNDABLE = "NON_REFUNDABLE"
    UNKNOWN = "UNKNOWN"


@attrs.frozen(kw_only=True)
class PaymentRefundability:
    """Get Order Refundability's answer for one payment.

    ``max_refund`` is the most Wix will refund from it (``payment.monetary.maxRefund``),
    when Wix says.
    """

    payment_id: str
    refundability: Refundability
    reason: str | None = None
    max_refund: Decimal | None = None


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
