"""Which way an order is refunded, and the plan steps that do it: two tables. No I/O, no clock.

``_RULES`` says which route an order takes (or why it is refused); ``ROUTES`` says, per
route, the plan steps it takes and what it reads before its first write. A *plan step*
(``DeleteFulfillments``, ``CancelOrder``, ``RefundPayments``) is what the plan says will
happen; the engine (``_engine``) derives each *action* (one Wix call or wait) from them.
"""

from __future__ import annotations

import enum
import itertools
from collections.abc import Callable
from datetime import datetime, timezone
from decimal import Decimal
from typing import ClassVar, Union

import attrs

from ._actions import Cancel, DeleteOne, Part, Refund
from ._dates import format_instant
from ._errors import InvalidRequest
from ._items import FeeRefund, Portion, RefundItem
from ._money import MINOR_UNITS, format_money
from ._orders import FulfillmentStatus as F
from ._orders import LineItem, Order, _TextEnum
from ._orders import OrderStatus as S
from ._orders import PaymentStatus as P
from ._request import RefundRequest

__all__ = [
    "ROUTES",
    "STANDARD_REFUND_CUTOFF",
    "CancelOrder",
    "DeleteFulfillments",
    "PlanStep",
    "RefundPayments",
    "RefundPlan",
    "RefundRoute",
    "Route",
]

STANDARD_REFUND_CUTOFF = datetime(2024, 4, 22, tzinfo=timezone.utc)
"""Orders placed at or after this instant take Wix's standard refund; older ones are cancelled."""


class RefundRoute(_TextEnum):
    """How an order is refunded."""

    STANDARD_REFUND = "STANDARD_REFUND"
    CANCEL = "CANCEL"
    UNFULFILL_THEN_CANCEL = "UNFULFILL_THEN_CANCEL"
    NOTHING_TO_DO = "NOTHING_TO_DO"


@attrs.frozen(kw_only=True)
class DeleteFulfillments:
    """Delete every fulfilment of the order (each is listed, then deleted)."""

    kind: ClassVar[str] = DeleteOne.kind
    #: Whether ``planned`` depends only on the request's ``restock`` and ``notify_customer``.
    by_flags: ClassVar[bool] = True

    @classmethod
    def planned(cls, order: Order, request: RefundRequest, amount: Decimal | None) -> DeleteFulfillments:
        """Return the step for ``order`` (one value serves every order)."""
        return _DELETE

    def describe(self) -> str:
        """Return the step as a phrase a person reads."""
        return "delete every fulfilment"


@attrs.frozen(kw_only=True)
class CancelOrder:
    """Cancel the order on Wix."""

    kind: ClassVar[str] = Cancel.kind
    by_flags: ClassVar[bool] = True

    restock: bool = False
    notify_customer: bool = False

    @classmethod
    def planned(cls, order: Order, request: RefundRequest, amount: Decimal | None) -> CancelOrder:
        """Return the step that cancels ``order`` as ``request`` asks (restock all, email the buyer)."""
        return _CANCELS[request.restock, request.notify_customer]

    def describe(self) -> str:
        """Return the step as a phrase a person reads."""
        extras = [text for flag, text in ((self.restock, "restock"), (self.notify_customer, "email the buyer")) if flag]
        return "cancel the order" + (f" ({', '.join(extras)})" if extras else "")


@attrs.frozen(kw_only=True)
class RefundPayments:
    """Refund the order's payments through Wix Order Billing (by item when ``items`` name any)."""

    kind: ClassVar[str] = Refund.kind
    by_flags: ClassVar[bool] = False

    amount: Decimal | None
    currency: str
    items: tuple[RefundItem, ...] = ()
    shipping: Portion | None = None
    fees: tuple[FeeRefund, ...] = ()

    @classmethod
    def planned(cls, order: Order, request: RefundRequest, amount: Decimal | None) -> RefundPayments:
        """Return the step that refunds ``amount`` (None: all left) or the items ``request`` names.

        Raises:
            InvalidRequest: ``request.restock`` (it would restock nothing: items name what to restock).
        """
        if request.restock:
            raise InvalidRequest("restock", _RESTOCK_NAMES_ITEMS.format(order=order.number, id=order.id))
        if not (request.items or request.fees) and request.shipping is None:
            if amount is None:  # a full refund: one value per currency, built once
                return _FULL_REFUNDS.get(order.currency) or cls(amount=None, currency=order.currency)
            return cls(amount=amount, currency=order.currency)
        return cls(
            amount=amount, currency=order.currency, items=request.items, shipping=request.shipping, fees=request.fees
        )

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


#: A plan step: what the plan says will happen (the engine turns each into actions).
PlanStep = Union[DeleteFulfillments, CancelOrder, RefundPayments]

# Plan steps are immutable values: those without parameters of their own are built once,
# and so is the full refund of each currency the table knows.
_DELETE = DeleteFulfillments()
_FULL_REFUNDS = {currency: RefundPayments(amount=None, currency=currency) for currency in MINOR_UNITS}
_CANCELS = {
    (restock, notify): CancelOrder(restock=restock, notify_customer=notify)
    for restock in (False, True)
    for notify in (False, True)
}


@attrs.frozen(kw_only=True)
class RefundPlan:
    """What must happen to refund an order: the route, its ordered steps and why.

    ``reason`` is one sentence naming the rule applied; it is built from the
    plan's facts when read, since most plans are executed, not printed.
    """

    order_id: str
    route: RefundRoute
    steps: tuple[PlanStep, ...]
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
        return f"{_when(self.placed, self.cutoff)}, and {self.state}: {ROUTES[self.route].says}"


def _when(placed: datetime, cutoff: datetime) -> str:
    side = "on or after" if placed >= cutoff else "before"
    return f"placed {format_instant(placed)}, {side} the {cutoff.date().isoformat()} cutoff"


# --- the routes table -------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Route:
    """One route: its plan steps, what it reads first, whether its write is tagged, what it says."""

    #: Its plan steps, in order; each built from the order and the request by ``planned``.
    steps: tuple[type[PlanStep], ...]
    #: What it reads besides the order before its first write, in the order the engine asks:
    #: read side by side when the driver can, with the order when speculating, and shared
    #: by a batch (the first).
    reads: tuple[Part, ...]
    #: Whether its write moves money under the call's reference: tagged with it, recorded
    #: in the journal first, and named in the outcome and in errors.
    tagged: bool
    #: The order's state the rule looked at, as the plan's reason names it.
    state: Callable[[Order], str]
    #: The rule applied, as the plan's reason ends.
    says: str


def _paid(order: Order) -> str:
    return f"paid ({order.raw_payment_status})"


def _fulfilment(order: Order) -> str:
    return order.raw_fulfillment_status


def _already(order: Order) -> str:
    # Only an order placed before the cutoff is ever NOTHING_TO_DO (see _RULES).
    return f"already {order.raw_status if order.status is S.CANCELED else order.raw_payment_status}"


ROUTES: dict[RefundRoute, Route] = {
    RefundRoute.STANDARD_REFUND: Route(
        steps=(RefundPayments,),
        reads=("transactions", "refundability"),
        tagged=True,
        state=_paid,
        says="refund its payments through Wix",
    ),
    RefundRoute.CANCEL: Route(steps=(CancelOrder,), reads=(), tagged=False, state=_fulfilment, says="cancel it"),
    RefundRoute.UNFULFILL_THEN_CANCEL: Route(
        steps=(DeleteFulfillments, CancelOrder),
        reads=("fulfillments",),
        tagged=False,
        state=_fulfilment,
        says="delete its fulfilments, then cancel it",
    ),
    RefundRoute.NOTHING_TO_DO: Route(steps=(), reads=(), tagged=False, state=_already, says="nothing to do"),
}
"""Every route's row: what ``decide_refund`` plans for it, and what the engine and the shell read from it."""


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
