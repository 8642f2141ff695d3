"""The next action of a refund, from its plan's steps and what was last seen on Wix. No I/O, no clock.

The shell (``run._run``) observes Wix, asks ``next_action`` what to do, does it, and
asks again; when a write fails it asks ``_failures.after_failure`` what the failure
means. Each action is derived from the plan's steps (``RefundPlan.steps``), in order:
the first step that is not done yet gives it, by ``_NEXT``; every one is decided from
observed state, so running it again after a crash or a lost answer never repeats work
that Wix already has. The ``RefundPayments`` step is a table of its own (``_refund_rows``).

Here too are the decisions about reading that the shell only carries out: which reads go
side by side (``reads_for``), what a batch reads first for an order (``first_read``), and
which of a batch's shared reads are too old to write on (``stale``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from ._actions import (
    WRITES,
    Action,
    Cancel,
    DeleteOne,
    Failure,
    Finish,
    Observed,
    Part,
    Progress,
    Read,
    Refund,
    Shared,
    Wait,
)
from ._decide import decide_refund
from ._errors import WixRefundError
from ._failures import after_failure
from ._orders import FulfillmentStatus, Order, OrderStatus, OrderTransactions, PaymentStatus
from ._refund_rows import refund_payments, settle_delay, unknown_outcome
from ._refund_writes import tagged_refunds
from ._request import RefundRequest
from ._routing import ROUTES, CancelOrder, DeleteFulfillments, RefundPayments, RefundPlan

__all__ = [
    "SHARED_PARTS",
    "Cancel",
    "DeleteOne",
    "Failure",
    "Finish",
    "Observed",
    "Progress",
    "Read",
    "Refund",
    "Wait",
    "after_failure",
    "first_read",
    "next_action",
    "payment_status_after",
    "reads_for",
    "settle_delay",
    "stale",
    "tagged_refunds",
    "unknown_outcome",
]


def next_action(plan: RefundPlan, progress: Progress) -> Action:
    """Return the next action for ``plan`` given what the call has seen and done.

    The order is read first; then the first of the plan's steps that is not done
    gives the action (``_NEXT``); when all are done, ``Finish()``. A dry run stops
    before its first write (``Finish(planned=...)``).

    Raises:
        RefundNotSupported, RefundDeclined, WixOutcomeUnknown, InvalidRequest, JournalError:
            as ``_refund_rows.refund_payments`` says, from the refund step.
    """
    if progress.seen.order is None:
        return Read("order")
    for step in plan.steps:
        action = _NEXT[step.__class__](step, plan, progress)
        if action.__class__ is not Finish:
            if progress.dry_run and isinstance(action, WRITES):
                return Finish(planned=action)
            return action
    return Finish()


def _unfulfil(progress: Progress, *, always_list: bool) -> Action | None:
    """Return ``Finish()`` for a cancelled order, else the read or delete of a fulfilment left; None once none is.

    ``always_list``: list the fulfilments even when the order says it has none.
    """
    seen, order = progress.seen, progress.seen.order
    assert order is not None
    if order.status is OrderStatus.CANCELED:
        return Finish()
    if seen.fulfillments is None:
        if always_list or order.fulfillment_status is not FulfillmentStatus.NOT_FULFILLED:
            return Read("fulfillments")
        return None
    if seen.fulfillments:
        return DeleteOne(seen.fulfillments[0].id)
    return None


def _delete_fulfillments(step: DeleteFulfillments, plan: RefundPlan, progress: Progress) -> Action:
    return _unfulfil(progress, always_list=True) or Finish()


def _cancel_order(step: CancelOrder, plan: RefundPlan, progress: Progress) -> Action:
    # A fulfilment that appeared after the plan was made is deleted first, as the plan's own would be.
    return _unfulfil(progress, always_list=False) or Cancel(restock=step.restock, notify_customer=step.notify_customer)


# Each kind of plan step, and the function that gives its next action (``Finish()`` once it is done).
_NEXT: dict[type, Callable[[Any, RefundPlan, Progress], Action]] = {
    DeleteFulfillments: _delete_fulfillments,
    CancelOrder: _cancel_order,
    RefundPayments: refund_payments,
}


def payment_status_after(order: Order, transactions: OrderTransactions) -> PaymentStatus:
    """Return the payment status Wix derives from the refunds (its documented rule)."""
    refunded = transactions.refunded_total()
    if refunded <= 0:
        return order.payment_status
    return PaymentStatus.FULLY_REFUNDED if refunded >= order.total else PaymentStatus.PARTIALLY_REFUNDED


# --- reads -----------------------------------------------------------------------------


def reads_for(action: Read, plan: RefundPlan | None, progress: Progress, *, parallel: bool) -> tuple[Part, ...]:
    """Return what to read for ``action``: with the rest of its route's first reads (``Route.reads``), if parallel.

    Only before anything of them is seen and while no write of this call may still land.
    """
    reads = () if plan is None else ROUTES[plan.route].reads
    together = (
        parallel
        and len(reads) > 1
        and action.what == reads[0]
        and progress.unknown_for is None
        and all(getattr(progress.seen, part) is None for part in reads[1:])
    )
    return reads if together else (action.what,)


def first_read(order: Order, request: RefundRequest, *, cutoff: datetime) -> Part | None:
    """Return what a refund of ``order`` reads first once the order is read (its route's first read), or None.

    None when it writes or ends first, or is refused (the run raises that itself, as after a Get Order).
    """
    try:
        plan = decide_refund(order, request, cutoff=cutoff)
    except WixRefundError:
        return None
    reads = ROUTES[plan.route].reads
    return reads[0] if reads else None


#: The parts of what a run saw that a batch's shared reads may fill in.
SHARED_PARTS: tuple[Part, ...] = ("order", "transactions", "fulfillments")


def stale(seen: Observed, shared: Shared | None, now: float) -> tuple[Part, ...] | None:
    """Return what to forget of a batch's shared reads before a write, at ``now`` (the shell's clock).

    None while they are fresh (or there are none). Once older than ``shared.max_age``
    they are not relied on again: the parts of ``seen`` still as the batch read them
    are returned, to be read again (none, when all were read since).
    """
    if shared is None or shared.fresh(now):
        return None
    return tuple(
        part
        for part in SHARED_PARTS
        if getattr(shared.seen, part) is not None and getattr(seen, part) is getattr(shared.seen, part)
    )
