"""Order and friends: frozen values read from Wix's JSON (see ``_wire`` for the keys)."""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal
from typing import Any

import attrs

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
