"""decide_refund(): which way an order is refunded. A rules table; no I/O, no clock."""

from __future__ import annotations

import enum
import itertools
import re
from collections.abc import Iterable
from datetime import datetime, timezone
from decimal import Decimal
from typing import Union

import attrs

from ._dates import format_instant
from ._errors import InvalidRequest, RefundNotSupported
from ._items import FeeRefund, Portion, RefundItem, _to_portion, check_request_items
from ._money import check_amount, format_money, parse_amount
from ._orders import FulfillmentStatus as F
from ._orders import LineItem, Order, _TextEnum
from ._orders import OrderStatus as S
from ._orders import PaymentStatus as P

__all__ = [
    "STANDARD_REFUND_CUTOFF",
    "CancelOrder",
    "DeleteFulfillments",
    "RefundPayments",
    "RefundPlan",
    "RefundRequest",
    "RefundRoute",
    "decide_refund",
]

STANDARD_REFUND_CUTOFF = datetime(2024, 4, 22, tzinfo=timezone.utc)
"""Orders placed at or after this instant take Wix's standard refund; older ones are cancelled."""

MAX_REASON = 200
MAX_REFERENCE = 64
_REFERENCE = re.compile(r"[A-Za-z0-9._:/#@+-]+")


class RefundRoute(_TextEnum):
    """How an order is refunded."""

    STANDARD_REFUND = "STANDARD_REFUND"
    CANCEL = "CANCEL"
    UNFULFILL_THEN_CANCEL = "UNFULFILL_THEN_CANCEL"
    NOTHING_TO_DO = "NOTHING_TO_DO"


def _check_amount(_: object, attribute: attrs.Attribute[Decimal | None], value: Decimal | None) -> None:
    if value is None:
        return
    # _to_amount has made it a Decimal already.
    if not value.is_finite():
        raise InvalidRequest("amount", f"{value} is not a finite amount")
    if value <= 0:
        raise InvalidRequest("amount", f"{value} is not above zero")


def _check_reason(_: object, attribute: attrs.Attribute[str | None], value: str | None) -> None:
    if value is not None and len(value) > MAX_REASON:
        raise InvalidRequest("reason", f"at most {MAX_REASON} characters, got {len(value)}")
    if value is not None and "[ref:" in value:
        raise InvalidRequest(
            "reason", "may not contain '[ref:': the library writes the refund's reference tag itself (use reference=)"
        )


def _check_reference(_: object, attribute: attrs.Attribute[str | None], value: str | None) -> None:
    if value is None:
        return
    if not _REFERENCE.fullmatch(value) or len(value) > MAX_REFERENCE:
        raise InvalidRequest(
            "reference",
            f"{value!r}: use 1 to {MAX_REFERENCE} letters, digits or ._:/#@+- (it is written into Wix's refund reason)",
        )


def _to_amount(value: Decimal | int | str | None) -> Decimal | None:
    # Plain decimal text only: no 1e1, 1_0 or 12,50 (see _money.parse_amount).
    return None if value is None else parse_amount(value)


def _to_items(value: Iterable[RefundItem]) -> tuple[RefundItem, ...]:
    return tuple(value)


def _to_fees(value: Iterable[FeeRefund]) -> tuple[FeeRefund, ...]:
    return tuple(value)


def _check_items(request: RefundRequest, attribute: attrs.Attribute[tuple[RefundItem, ...]], value: object) -> None:
    check_request_items(request.items, request.fees)


@attrs.frozen(kw_only=True)
class RefundRequest:
    """What the caller asks for. ``amount=None`` means everything still refundable.

    ``reference`` is the caller's own ID for this refund; it is written into the
    refund's reason on Wix, so that a re-run recognises a refund already made.

    ``restock`` restocks everything of an order placed before the cutoff (it is
    cancelled); a standard refund restocks only the items it names
    (``RefundItem(..., restock=True)``), and refuses ``restock=True`` rather than
    restock nothing.

    ``items`` (``RefundItem``: line, quantity, restock), ``shipping`` and ``fees``
    (``FeeRefund``; each an amount or ``ALL_LEFT``) refund what came back, by item:
    without ``amount`` the money is Wix's Calculate Refund total for them; with an
    ``amount`` (your own fees taken off) it is sent as given, if not above Wix's total.
    """

    amount: Decimal | None = attrs.field(default=None, converter=_to_amount, validator=_check_amount)
    reason: str | None = attrs.field(default=None, validator=_check_reason)
    reference: str | None = attrs.field(default=None, validator=_check_reference)
    restock: bool = False
    notify_customer: bool = False
    items: tuple[RefundItem, ...] = attrs.field(default=(), converter=_to_items, validator=_check_items)
    shipping: Portion | None = attrs.field(default=None, converter=_to_portion)
    fees: tuple[FeeRefund, ...] = attrs.field(default=(), converter=_to_fees)

    @property
    def by_item(self) -> bool:
        """Return whether this refunds items, shipping or fees (priced by Wix), not just an amount."""
        return bool(self.items or self.fees) or self.shipping is not None


@attrs.frozen(kw_only=True)
class DeleteFulfillments:
    """Delete every fulfilment of the order (each is listed, then deleted)."""

    def describe(self) -> str:
        """Return the step as a phrase a person reads."""
        return "delete every fulfilment"


@attrs.frozen(kw_only=True)
class CancelOrder:
    """Cancel the order on Wix."""

    restock: bool = False
    notify_customer: bool = False

    def describe(self) -> str:
        """Return the step as a phrase a person reads."""
        extras = [text for flag, text in ((self.restock, "restock"), (self.notify_customer, "email the buyer")) if flag]
        return "cancel the order" + (f" ({', '.join(extras)})" if extras else "")


@attrs.frozen(kw_only=True)
class RefundPayments:
    """Refund the order's payments through Wix Order Billing (by item when ``items`` name any)."""

    amount: Decimal | None
    currency: str
    items: tuple[RefundItem, ...] = ()
    shipping: Portion | None = None
    fees: tuple[FeeRefund, ...] = ()

    def describe(self) -> str:
        """Return the step as a phrase a person reads."""
        what = [
            f"{item.quantity} of line {item.line_item_id}"
            + (f" (restock {item.restock_quantity})" if item.restock_quantity else "")
            for item in self.items
        ]
        what += [f"fee {fee.fee_id} ({_portion(fee.amount, self.currency)})" for fee in self.fees]
        if self.shipping is not None:
            what.append(f"shipping ({_portion(self.shipping, self.currency)})")
        if what:
            money = "Wix's price for them" if self.amount is None else format_money(self.amount, self.currency)
            return f"refund {', '.join(what)}: {money}"
        if self.amount is None:
            return "refund everything still refundable"
        return f"refund {format_money(self.amount, self.currency)}"


def _portion(value: Portion, currency: str) -> str:
    return format_money(value, currency) if isinstance(value, Decimal) else "all that is left"


Step = Union[DeleteFulfillments, CancelOrder, RefundPayments]


@attrs.frozen(kw_only=True)
class RefundPlan:
    """What must happen to refund an order: the route, its ordered steps and why.

    ``reason`` is one sentence naming the rule applied; it is built from the
    plan's facts when read, since most plans are executed, not printed.
    """

    order_id: str
    route: RefundRoute
    steps: tuple[Step, ...]
    placed: datetime
    order_number: str = ""
    cutoff: datetime = STANDARD_REFUND_CUTOFF
    state: str = ""
    request: RefundRequest = attrs.field(factory=RefundRequest)
    #: The order's line items (IDs and quantities): what a refund by item can name.
    line_items: tuple[LineItem, ...] = ()

    @property
    def reason(self) -> str:
        """Return the rule applied, as a sentence a person can read."""
        return f"{_when(self.placed, self.cutoff)}, and {self.state}: {_STEP_TEXT[self.route]}"


def _when(placed: datetime, cutoff: datetime) -> str:
    side = "on or after" if placed >= cutoff else "before"
    return f"placed {format_instant(placed)}, {side} the {cutoff.date().isoformat()} cutoff"


# --- the rules table --------------------------------------------------------------


# Text enums: their hash is str's, in C; every rule lookup hashes both.
class _Era(str, enum.Enum):
    BEFORE = "before"
    AFTER = "after"


class _Amount(str, enum.Enum):
    FULL = "full"
    PARTIAL = "partial"


_ANY_F = frozenset(F)
_ANY_P = frozenset(P)
_ANY_A = frozenset(_Amount)
_PAID = frozenset({P.PAID, P.PARTIALLY_PAID, P.PARTIALLY_REFUNDED})
_LIVE = frozenset({S.APPROVED, S.CANCELED})
_FULFILLED = frozenset({F.FULFILLED, F.PARTIALLY_FULFILLED})
_KNOWN_F = frozenset({F.NOT_FULFILLED, F.FULFILLED, F.PARTIALLY_FULFILLED})
_NOT_YET_APPROVED = frozenset({S.INITIALIZED, S.PENDING})

_Outcome = Union[RefundRoute, str]
_Row = tuple[_Era, frozenset[S], frozenset[P], frozenset[F], frozenset[_Amount], _Outcome]

_AFTER, _BEFORE = _Era.AFTER, _Era.BEFORE
_FULL_AMOUNT, _PARTIAL_AMOUNT = _Amount.FULL, _Amount.PARTIAL
_FULL, _PARTIAL = frozenset({_FULL_AMOUNT}), frozenset({_PARTIAL_AMOUNT})
_APPROVED, _CANCELED, _REJECTED = frozenset({S.APPROVED}), frozenset({S.CANCELED}), frozenset({S.REJECTED})
_REFUNDED, _PENDING = frozenset({P.FULLY_REFUNDED}), frozenset({P.PENDING})
# Nothing was paid: the newer PENDING_MERCHANT, CANCELED and DECLINED as well as NOT_PAID.
_NOT_PAID = frozenset({P.NOT_PAID, P.PENDING_MERCHANT, P.CANCELED, P.DECLINED})
_UNFULFILLED = frozenset({F.NOT_FULFILLED})
_STANDARD, _CANCEL = RefundRoute.STANDARD_REFUND, RefundRoute.CANCEL
_UNFULFILL, _NOTHING = RefundRoute.UNFULFILL_THEN_CANCEL, RefundRoute.NOTHING_TO_DO

_ONLY_IN_FULL = "an order placed before the cutoff can only be refunded in full (by cancelling it)"
_NEVER_PAID = "it was never paid (payment status {payment}), so there is nothing to refund"
_STILL_PENDING = "its payment is still PENDING with the provider; refund it once the payment settles"
_NOT_APPROVED = "it is not approved yet (status {status})"
_WAS_REJECTED = "Wix rejected the order"

# Each row: era, order statuses, payment statuses, fulfilment statuses, amount kinds,
# then the route or, as text, why the refund is refused. A combination that no row
# covers (every UNKNOWN or UNSPECIFIED value among them) is refused, never defaulted.
# fmt: off
_RULES: tuple[_Row, ...] = (
    # era      order status       payment status  fulfilment    amount     route or refusal
    # on or after the cutoff: Wix Order Billing refunds it (on Wix a cancel refunds nothing)
    # (FULLY_REFUNDED too: Wix's books, not the status, say whether the refunds cover it;
    # a refund that FAILED after PENDING may leave the status behind)
    (_AFTER,  _LIVE,             _PAID | _REFUNDED, _ANY_F,    _ANY_A,    _STANDARD),
    (_AFTER,  _LIVE,             _NOT_PAID,      _ANY_F,       _ANY_A,    _NEVER_PAID),
    (_AFTER,  _LIVE,             _PENDING,       _ANY_F,       _ANY_A,    _STILL_PENDING),
    (_AFTER,  _NOT_YET_APPROVED, _ANY_P,         _ANY_F,       _ANY_A,    _NOT_APPROVED),
    (_AFTER,  _REJECTED,         _ANY_P,         _ANY_F,       _ANY_A,    _WAS_REJECTED),
    # before the cutoff: cancel it, after deleting its fulfilments; only in full
    (_BEFORE, _CANCELED,         _ANY_P,         _ANY_F,       _ANY_A,    _NOTHING),
    (_BEFORE, _APPROVED,         _REFUNDED,      _ANY_F,       _ANY_A,    _NOTHING),
    (_BEFORE, _APPROVED,         _PAID,          _UNFULFILLED, _FULL,     _CANCEL),
    (_BEFORE, _APPROVED,         _PAID,          _FULFILLED,   _FULL,     _UNFULFILL),
    (_BEFORE, _APPROVED,         _PAID,          _KNOWN_F,     _PARTIAL,  _ONLY_IN_FULL),
    (_BEFORE, _APPROVED,         _NOT_PAID,      _ANY_F,       _ANY_A,    _NEVER_PAID),
    (_BEFORE, _APPROVED,         _PENDING,       _ANY_F,       _ANY_A,    _STILL_PENDING),
    (_BEFORE, _NOT_YET_APPROVED, _ANY_P,         _ANY_F,       _ANY_A,    _NOT_APPROVED),
    (_BEFORE, _REJECTED,         _ANY_P,         _ANY_F,       _ANY_A,    _WAS_REJECTED),
)
# fmt: on

_Key = tuple[_Era, S, P, F, _Amount]

# restock=True means "restock all" only where the order is cancelled. A standard refund
# restocks what it names, item by item: on it the flag would restock nothing, silently.
_RESTOCK_NAMES_ITEMS = (
    "order {order} ({id}) takes a standard refund, which restocks only the items it names, so restock=True "
    "(--restock) would restock nothing; name the items to restock: RefundItem(line_item_id, quantity, "
    "restock=True) in items=, or --item LINE_ID:QTY:restock; nothing was sent"
)


def _expand(rules: tuple[_Row, ...]) -> dict[_Key, _Outcome]:
    table: dict[_Key, _Outcome] = {}
    for era, statuses, payments, fulfilments, amounts, outcome in rules:
        for key in itertools.product((era,), statuses, payments, fulfilments, amounts):
            if key in table:
                raise AssertionError(f"two refund rules cover {key}")
            table[key] = outcome
    return table


RULES_TABLE = _expand(_RULES)
"""Every (era, status, payment status, fulfilment status, amount kind) the rules cover."""

_FULL_REFUND = RefundRequest()
# Steps are immutable values: the few cancel plans are built once.
_CANCEL_STEPS: dict[tuple[RefundRoute, bool, bool], tuple[Step, ...]] = {
    (route, restock, notify): (
        (DeleteFulfillments(), CancelOrder(restock=restock, notify_customer=notify))
        if route is RefundRoute.UNFULFILL_THEN_CANCEL
        else (CancelOrder(restock=restock, notify_customer=notify),)
    )
    for route in (RefundRoute.CANCEL, RefundRoute.UNFULFILL_THEN_CANCEL)
    for restock in (False, True)
    for notify in (False, True)
}

_STEP_TEXT = {
    RefundRoute.STANDARD_REFUND: "refund its payments through Wix",
    RefundRoute.CANCEL: "cancel it",
    RefundRoute.UNFULFILL_THEN_CANCEL: "delete its fulfilments, then cancel it",
    RefundRoute.NOTHING_TO_DO: "nothing to do",
}


def _unknown_fields(order: Order) -> list[str]:
    checks = (
        ("status", order.status is S.UNKNOWN, order.raw_status),
        ("paymentStatus", order.payment_status in (P.UNKNOWN, P.UNSPECIFIED), order.raw_payment_status),
        ("fulfillmentStatus", order.fulfillment_status is F.UNKNOWN, order.raw_fulfillment_status),
    )
    return [f"{name} {raw or '?'!r}" for name, unknown, raw in checks if unknown]


def decide_refund(
    order: Order, request: RefundRequest | None = None, *, cutoff: datetime = STANDARD_REFUND_CUTOFF
) -> RefundPlan:
    """Return the plan that refunds ``order`` as ``request`` asks, by the rules table.

    Raises:
        RefundNotSupported: the rules refuse this order or amount; the message says why.
        InvalidRequest: ``cutoff`` is a naive datetime, or ``request.restock`` asks a
            standard refund to restock without naming the items (``RefundItem.restock``
            does that; on the cancel routes ``restock`` means restock all).
    """
    if cutoff is not STANDARD_REFUND_CUTOFF and (cutoff.tzinfo is None or cutoff.utcoffset() is None):
        raise InvalidRequest("cutoff", "must be an aware datetime")
    if request is None:
        request = _FULL_REFUND
    era = _AFTER if order.created_at >= cutoff else _BEFORE
    amount = request.amount
    if amount is not None:
        # Money has a currency: 10.005 USD or 100.5 JPY is an input error, before any write.
        amount = check_amount(amount, order.currency)
        if amount > order.total:
            raise RefundNotSupported(
                f"order {order.number} ({order.id}): {format_money(amount, order.currency)} is more than the "
                f"order total {format_money(order.total, order.currency)}",
                order_id=order.id,
            )
    by_item = request.by_item
    if by_item and era is _BEFORE:
        # An order placed before the cutoff is cancelled whole: an item refund would be half-done.
        raise RefundNotSupported(
            f"order {order.number} ({order.id}), {_when(order.created_at, cutoff)}: refused, it can only be "
            "refunded in full (by cancelling it), not by item; ask for the whole order instead",
            order_id=order.id,
        )
    full = not by_item and (amount is None or amount == order.total)
    kind = _FULL_AMOUNT if full else _PARTIAL_AMOUNT
    outcome = RULES_TABLE.get((era, order.status, order.payment_status, order.fulfillment_status, kind))
    if outcome is None or outcome.__class__ is not RefundRoute:
        raise RefundNotSupported(_refusal(order, cutoff, kind, outcome), order_id=order.id)
    steps: tuple[Step, ...]
    if outcome is _STANDARD:
        if request.restock:
            raise InvalidRequest("restock", _RESTOCK_NAMES_ITEMS.format(order=order.number, id=order.id))
        if by_item:
            payments = RefundPayments(
                amount=amount,
                currency=order.currency,
                items=request.items,
                shipping=request.shipping,
                fees=request.fees,
            )
        else:
            payments = RefundPayments(amount=amount, currency=order.currency)
        steps = (payments,)
        state = f"paid ({order.raw_payment_status})"
    elif outcome is _NOTHING:
        steps = ()
        canceled = order.status is S.CANCELED and era is _BEFORE
        state = f"already {order.raw_status if canceled else order.raw_payment_status}"
    else:
        steps = _CANCEL_STEPS[outcome, request.restock, request.notify_customer]
        state = order.raw_fulfillment_status
    return RefundPlan(
        order_id=order.id,
        order_number=order.number,
        route=outcome,
        steps=steps,
        placed=order.created_at,
        cutoff=cutoff,
        state=state,
        request=request,
        line_items=order.line_items,
    )


def _refusal(order: Order, cutoff: datetime, kind: _Amount, outcome: _Outcome | None) -> str:
    """Return why the rules refuse ``order``, as a sentence."""
    head = f"order {order.number} ({order.id}), {_when(order.created_at, cutoff)}"
    if outcome is not None:
        text = str(outcome).format(status=order.raw_status or order.status, payment=order.raw_payment_status)
        return f"{head}: refused, {text}"
    unknown = _unknown_fields(order)
    if unknown:
        return f"{head}: Wix reported {', '.join(unknown)}, which the refund rules do not know"
    state = f"status {order.raw_status}, payment {order.raw_payment_status}, fulfilment {order.raw_fulfillment_status}"
    return f"{head}: no refund rule covers {state} ({kind.value} refund)"
