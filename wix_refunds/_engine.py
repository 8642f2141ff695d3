"""The next step of a refund, from its plan and what was last seen on Wix. No I/O.

The shell (``_execute``) observes Wix, asks ``next_action`` what to do, does it,
and asks again. Every step is decided from observed state, so running it again
after a crash or a lost answer never repeats work that Wix already has.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal, Union

import attrs

from ._errors import RefundNotSupported
from ._orders import (
    Fulfillment,
    FulfillmentStatus,
    Order,
    OrderStatus,
    OrderTransactions,
    PaymentRefundability,
    PaymentStatus,
    Refundability,
)
from ._routing import RefundPlan, RefundRoute
from ._wire import PaymentRefund, customer_reason, reference_tag

__all__ = ["Cancel", "DeleteOne", "Finish", "Observed", "Read", "Refund", "next_action", "refund_goal"]


@attrs.frozen(kw_only=True)
class Observed:
    """What was last seen on Wix; ``None`` means not read (or no longer trusted)."""

    order: Order | None = None
    fulfillments: tuple[Fulfillment, ...] | None = None
    transactions: OrderTransactions | None = None
    refundability: tuple[PaymentRefundability, ...] | None = None


@attrs.frozen
class Read:
    """Read one part of the order's state from Wix."""

    what: Literal["order", "fulfillments", "transactions", "refundability"]


@attrs.frozen
class DeleteOne:
    """Delete one fulfilment."""

    fulfillment_id: str


@attrs.frozen
class Cancel:
    """Cancel the order."""

    restock: bool
    notify_customer: bool


@attrs.frozen
class Refund:
    """Refund these amounts from these payments, in one Refund Payments call."""

    payment_refunds: tuple[PaymentRefund, ...]
    reason: str | None
    notify_customer: bool

    @property
    def amount(self) -> Decimal:
        """Return the total of this refund."""
        return sum((p.amount for p in self.payment_refunds), Decimal(0))


@attrs.frozen
class Finish:
    """Nothing is left to do."""


Action = Union[Read, DeleteOne, Cancel, Refund, Finish]


def refund_goal(plan: RefundPlan, transactions: OrderTransactions) -> Decimal:
    """Return the refunded total (all refunds not FAILED) at which a standard refund is done.

    ``amount=None`` asks for everything the payments hold; an amount asks for that
    much on top of what was refunded when the refund started. Computed once, from
    the first transactions seen, so that a re-read after a lost answer does not
    move the goal.
    """
    if plan.request.amount is None:
        return sum((p.amount for p in transactions.payments), Decimal(0))
    return transactions.refunded_total() + plan.request.amount


def carries_reference(transactions: OrderTransactions, reference: str) -> bool:
    """Return whether a refund that did not fail already carries ``reference`` in its reason."""
    tag = reference_tag(reference)
    return any(
        tag in (refund.reason or "") and any(t.counted for t in refund.transactions) for refund in transactions.refunds
    )


def next_action(plan: RefundPlan, seen: Observed, goal: Decimal | None = None) -> Action:
    """Return the next step for ``plan`` given what was last ``seen`` on Wix.

    Raises:
        RefundNotSupported: a payment that must be refunded cannot be (Wix's
            reason is given), or less is left than the request asks.
    """
    if seen.order is None:
        return Read("order")
    if plan.route is RefundRoute.NOTHING_TO_DO:
        return Finish()
    if plan.route is RefundRoute.STANDARD_REFUND:
        return _next_refund(plan, seen, goal)
    return _next_cancel(plan, seen)


def _next_cancel(plan: RefundPlan, seen: Observed) -> Action:
    order = seen.order
    assert order is not None
    if order.status is OrderStatus.CANCELED:
        return Finish()
    if seen.fulfillments is None:
        if (
            plan.route is RefundRoute.UNFULFILL_THEN_CANCEL
            or order.fulfillment_status is not FulfillmentStatus.NOT_FULFILLED
        ):
            return Read("fulfillments")
    elif seen.fulfillments:
        return DeleteOne(seen.fulfillments[0].id)
    return Cancel(restock=plan.request.restock, notify_customer=plan.request.notify_customer)


def _next_refund(plan: RefundPlan, seen: Observed, goal: Decimal | None) -> Action:
    if seen.transactions is None:
        return Read("transactions")
    if seen.refundability is None:
        return Read("refundability")
    transactions = seen.transactions
    request = plan.request
    if request.reference is not None and carries_reference(transactions, request.reference):
        return Finish()
    if goal is None:
        goal = refund_goal(plan, transactions)
    needed = goal - transactions.refunded_total()
    if needed <= 0:
        return Finish()
    refundability = {entry.payment_id: entry for entry in seen.refundability}
    parts = []
    left = needed
    for payment in transactions.payments:
        take = min(transactions.remaining_for(payment), left)
        if take <= 0:
            continue
        entry = refundability.get(payment.id)
        kind = entry.refundability if entry is not None else Refundability.UNKNOWN
        if payment.refund_disabled or kind not in (Refundability.REFUNDABLE, Refundability.MANUALLY_REFUNDABLE):
            why = (entry.reason if entry is not None else None) or (
                "refunds are disabled" if payment.refund_disabled else str(kind)
            )
            raise RefundNotSupported(
                f"order {plan.order_id}: payment {payment.id} ({take} of it is to be refunded) cannot be refunded "
                f"through Wix: {why}",
                order_id=plan.order_id,
            )
        parts.append(
            PaymentRefund(payment_id=payment.id, amount=take, external=kind is Refundability.MANUALLY_REFUNDABLE)
        )
        left -= take
    if left > 0:
        raise RefundNotSupported(
            f"order {plan.order_id}: {needed} is to be refunded but the payments have only {needed - left} left",
            order_id=plan.order_id,
        )
    return Refund(
        payment_refunds=tuple(parts),
        reason=customer_reason(request.reason, request.reference),
        notify_customer=request.notify_customer,
    )


def payment_status_after(order: Order, transactions: OrderTransactions) -> PaymentStatus:
    """Return the payment status Wix derives from the refunds (its documented rule)."""
    refunded = transactions.refunded_total()
    if refunded <= 0:
        return order.payment_status
    return PaymentStatus.FULLY_REFUNDED if refunded >= order.total else PaymentStatus.PARTIALLY_REFUNDED
