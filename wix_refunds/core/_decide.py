"""decide_refund(): the plan for an order, from the rules table and the routes table. No I/O, no clock.

The tables are ``_routing``'s (``_RULES``, ``ROUTES``, the plan steps); this module only
reads them, so adding a route does not change it. It is on the batch's hot path
(``benchmarks/routing.py``): the tables are folded into one lookup per order.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ._errors import InvalidRequest, RefundNotSupported
from ._money import check_amount, format_money
from ._orders import FulfillmentStatus as F
from ._orders import Order
from ._orders import OrderStatus as S
from ._orders import PaymentStatus as P
from ._request import RefundRequest
from ._routing import (
    _AFTER,
    _BEFORE,
    _FULL_AMOUNT,
    _PARTIAL_AMOUNT,
    ROUTES,
    RULES_TABLE,
    STANDARD_REFUND_CUTOFF,
    PlanStep,
    RefundPlan,
    RefundRoute,
    Route,
    _Amount,
    _Key,
    _Outcome,
    _when,
)

__all__ = ["decide_refund"]


# Each key's outcome with its route's row (None for a refusal) and, for a route whose steps
# depend only on the request's flags (the cancels), its steps by (restock, notify_customer):
# planning takes one lookup, and a text enum's hash is a Python call.
_Flags = tuple[bool, bool]


def _by_flags(route: Route) -> dict[_Flags, tuple[PlanStep, ...]] | None:
    if not all(step.by_flags for step in route.steps):
        return None
    asks = {(r, n): RefundRequest(restock=r, notify_customer=n) for r in (False, True) for n in (False, True)}
    return {flags: tuple(step.planned(None, ask, None) for step in route.steps) for flags, ask in asks.items()}  # type: ignore[arg-type]


_PLANNED = {route: _by_flags(row) for route, row in ROUTES.items()}
# The outcome is typed Any: it is a RefundRoute exactly when the row is not None.
_DECIDED: dict[_Key, tuple[Any, Route | None, dict[_Flags, tuple[PlanStep, ...]] | None]] = {
    key: (outcome, ROUTES[outcome], _PLANNED[outcome]) if isinstance(outcome, RefundRoute) else (outcome, None, None)
    for key, outcome in RULES_TABLE.items()
}
_NO_RULE: tuple[_Outcome | None, None, None] = (None, None, None)


_FULL_REFUND = RefundRequest()


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
    decided = (era, order.status, order.payment_status, order.fulfillment_status, kind)
    outcome, route, by_flags = _DECIDED.get(decided, _NO_RULE)
    if route is None:
        raise RefundNotSupported(_refusal(order, cutoff, kind, outcome), order_id=order.id)
    steps: tuple[PlanStep, ...]
    if by_flags is not None:
        steps = by_flags[bool(request.restock), request.notify_customer]
    elif len(route.steps) == 1:  # the standard refund: the batch's hot path, spared a comprehension
        steps = (route.steps[0].planned(order, request, amount),)
    else:
        steps = tuple([step.planned(order, request, amount) for step in route.steps])
    return RefundPlan(
        order_id=order.id,
        order_number=order.number,
        route=outcome,
        steps=steps,
        placed=order.created_at,
        cutoff=cutoff,
        state=route.state(order),
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
