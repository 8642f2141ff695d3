"""The next step of a refund, from its plan and what was last seen on Wix. No I/O, no clock.

The shell (``_execute``) observes Wix, asks ``next_action`` what to do, does it,
and asks again; when a write fails it asks ``after_failure`` what the failure
means. Every step is decided from observed state, so running it again after a
crash or a lost answer never repeats work that Wix already has.

Both decisions are tables a newcomer can read: ``_ON_FAILURE`` for failed
writes and ``_REFUND_STEPS`` for the standard refund, the first row that
matches deciding.

The books decide: a standard refund is done when a refund carrying this call's
reference tag (`` [ref:<reference>]`` at the end of its reason) is on Wix, never
because a total moved. After a refund whose outcome is unknown nothing is sent
again until the settle window has passed with reads that do not show it; then
the call reports the unknown outcome with its reference instead of guessing.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Literal

import attrs

from ._errors import InvalidRequest, JournalError, RefundDeclined, RefundNotSupported, WixOutcomeUnknown
from ._failures import after_failure
from ._items import check_calculation, check_items
from ._money import format_money
from ._orders import (
    FulfillmentStatus,
    Order,
    OrderStatus,
    OrderTransactions,
    PaymentStatus,
    RefundRecord,
    RefundStatus,
)
from ._routing import RefundPlan, RefundRoute
from ._split import split_full, split_partial
from ._steps import Action, Cancel, DeleteOne, Failure, Finish, InFlight, Observed, Progress, Read, Refund, Wait
from ._wire import ItemsAsked, customer_reason, reference_of

__all__ = [
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
    "next_action",
    "settle_delay",
]


# --- the next step ----------------------------------------------------------------


def next_action(plan: RefundPlan, progress: Progress) -> Action:
    """Return the next step for ``plan`` given what the call has seen and done.

    A dry run stops before its first write (``Finish(planned=...)``).

    Raises:
        RefundNotSupported: a payment that must be refunded cannot be (Wix's reason
            is given), less is left than asked, or Wix lists no captured payment.
        RefundDeclined: Wix or the provider declined this call's refund.
        WixOutcomeUnknown: this call's refund did not show within the settle window.
        InvalidRequest: the reference is on Wix already with another amount.
    """
    seen = progress.seen
    if seen.order is None:
        return Read("order")
    if plan.route is RefundRoute.NOTHING_TO_DO:
        return Finish()
    action = _next_refund(plan, progress) if plan.route is RefundRoute.STANDARD_REFUND else _next_cancel(plan, seen)
    if progress.dry_run and isinstance(action, (DeleteOne, Cancel, Refund)):
        return Finish(planned=action)
    return action


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


@attrs.frozen
class _Case:
    """The facts the refund rows look at."""

    plan: RefundPlan
    progress: Progress

    @property
    def transactions(self) -> OrderTransactions:
        assert self.progress.seen.transactions is not None
        return self.progress.seen.transactions

    def tagged(self) -> list[RefundRecord]:
        """Return the refunds on Wix that carry this call's reference."""
        return tagged_refunds(self.transactions, self.progress.reference)


def tagged_refunds(transactions: OrderTransactions, reference: str) -> list[RefundRecord]:
    """Return the refunds in ``transactions`` whose reason ends with ``reference``'s whole tag."""
    return [r for r in transactions.refunds if reference_of(r.reason) == reference]


def settle_delay(reads: int) -> float:
    """Return the wait before settle re-read number ``reads`` (0-based): 0.5 s doubling, at most 15 s."""
    return min(0.5 * 2.0**reads, 15.0)


def _full(plan: RefundPlan, order: Order) -> bool:
    amount = plan.request.amount
    return not plan.request.by_item and (amount is None or amount == order.total)


def _unread_transactions(case: _Case) -> bool:
    return case.progress.seen.transactions is None


def _answered(case: _Case) -> bool:
    return case.progress.answer is not None


def _declined(case: _Case, refund: RefundRecord) -> RefundDeclined:
    failed = next((t for t in refund.transactions if t.status is RefundStatus.FAILED), None)
    payment = failed.payment_id if failed else "?"
    return RefundDeclined(
        f"order {case.plan.order_id}: Wix declined refund {refund.id} (reference {case.progress.reference}) "
        f"of payment {payment}: its status is FAILED. Nothing more was sent; check the payment provider, "
        "then run again with the same reference to try again.",
        order_id=case.plan.order_id,
        payment_id=payment,
        status="FAILED",
        reference=case.progress.reference,
    )


def _unconfirmed(case: _Case) -> bool:
    wanted = case.progress.unconfirmed
    return wanted is not None and all(r.id != wanted.answer.id for r in case.transactions.refunds)


def _answer_from_journal(case: _Case) -> Action:
    # Wix answered an earlier run's write and the journal kept it, but Wix does not list
    # that refund: a listing that lags must never cause a second write, so the answer
    # stands within the settle window. Past it, neither is trusted alone. Once listed,
    # the listing (newer than the answer) decides, through the rows below.
    wanted = case.progress.unconfirmed
    assert wanted is not None
    if wanted.age < wanted.settle and wanted.answer.counted:
        return Finish()
    raise JournalError(
        f"order {case.plan.order_id}: the journal holds Wix's answer to reference {case.progress.reference} "
        f"(refund {wanted.answer.id}), but Wix does not list that refund {wanted.age:.0f}s after it was sent; "
        "nothing was sent. Check the order on Wix before refunding it again."
    )


def _settle_answer(case: _Case) -> Action:
    # A 2xx answer settles its step from the refund it returns, whatever its
    # transactions list says: a list that lags behind must not cause a second refund.
    answer = case.progress.answer
    assert answer is not None
    if not answer.counted:
        raise _declined(case, answer)
    return Finish()


def _tag_on_wix(case: _Case) -> bool:
    # A failed refund is no refund. Nor can a listing tell this call's failed refund from
    # an earlier call's (a lagging list makes an old one look new): while this call's own
    # refund may still land, a failed one with its tag proves nothing, and the settle rows
    # keep reading. A decline this call can see for sure is in Wix's 2xx answer.
    return any(r.counted for r in case.tagged())


def _finish_tagged(case: _Case) -> Action:
    counted = [r for r in case.tagged() if r.counted]
    order = case.progress.seen.order
    assert order is not None
    asked = case.plan.request.amount
    found = sum((r.amount for r in counted), Decimal(0))
    if asked is not None and not _full(case.plan, order) and found != asked:
        raise InvalidRequest(
            "amount",
            f"reference {case.progress.reference} is already on Wix for order {case.plan.order_id} with "
            f"{format_money(found, order.currency)}, but this request asks {format_money(asked, order.currency)}; "
            "nothing was sent. "
            "Use a new reference for a different refund.",
        )
    return Finish()


def _may_still_land(case: _Case) -> bool:
    return case.progress.unknown_for is not None


def unknown_outcome(
    plan: RefundPlan, progress: Progress, why: str, *, tags_readable: bool = True
) -> WixOutcomeUnknown:
    """Return the error that ends a call whose refund may have landed: it names the reference.

    A re-run with the reference is safe only while Wix lists refunds with their reasons
    (the tag is read from them); when it does not, the error says to check Wix first.
    """
    if tags_readable:
        advice = (
            f"Running again with reference {progress.reference} is safe: it finds the refund if it landed and "
            "refunds only if it did not."
        )
    else:
        advice = (
            "Wix lists refunds here without their reasons, so a re-run could not recognise it: check the order on "
            "Wix before refunding again."
        )
    return WixOutcomeUnknown(
        f"order {plan.order_id}: the outcome of refund reference {progress.reference} is unknown: {why}. "
        f"Nothing more was sent. {advice}",
        operation="refund_payments",
        order_id=plan.order_id,
        reference=progress.reference,
        rerun_safe=tags_readable,
    )


def _wait_or_give_up(case: _Case) -> Action:
    progress = case.progress
    assert progress.unknown_for is not None
    assert progress.sent is not None
    lookalike = _unexplained_lookalike(case.transactions, progress.sent, progress.before or frozenset())
    if lookalike is not None:
        why = f"refund {lookalike.id}, which lists no reason, appeared with the same payments and amounts and may be it"
        raise unknown_outcome(case.plan, progress, why, tags_readable=False)
    if progress.unknown_for >= progress.settle:
        readable = all(r.reason for r in case.transactions.refunds if r.counted)
        raise unknown_outcome(
            case.plan, progress, f"it did not show on Wix within {progress.settle:g}s", tags_readable=readable
        )
    return Wait(min(settle_delay(progress.settle_reads), max(progress.settle - progress.unknown_for, 0.0)))


def _unexplained_lookalike(
    transactions: OrderTransactions, sent: Refund, before: frozenset[str]
) -> RefundRecord | None:
    """Return a refund without a reason, new since ``sent`` was sent, that matches it part for part."""
    wanted = sorted((p.payment_id, p.amount) for p in sent.payment_refunds)
    for refund in transactions.refunds:
        if refund.id in before or refund.reason or not refund.counted:
            continue
        parts = sorted(
            (t.payment_id, None if t.payment_id in _whole(sent) else t.amount) for t in refund.transactions if t.counted
        )
        if parts == wanted:
            return refund
    return None


def _whole(sent: Refund) -> frozenset[str]:
    return frozenset(p.payment_id for p in sent.payment_refunds if p.amount is None)


def _waiting_for(case: _Case) -> list[InFlight]:
    """Return the journal's writes that may still land and that no counted tagged refund on Wix shows yet."""
    landed = {reference_of(r.reason) for r in case.transactions.refunds if r.counted}
    return [w for w in case.progress.in_flight if w.left > 0 and w.reference not in landed]


def _journal_in_flight(case: _Case) -> bool:
    return bool(_waiting_for(case))


def _wait_for_journal(case: _Case) -> Action:
    # Whoever sent it and whatever became of them: nothing is written on the order until
    # its refund shows on Wix or its settle window, counted from when it was sent, is over.
    left = min(w.left for w in _waiting_for(case))
    return Wait(min(settle_delay(case.progress.settle_reads), left))


def _nothing_captured(case: _Case) -> bool:
    return case.transactions.captured_total() <= 0


def _refuse_no_payments(case: _Case) -> Action:
    order = case.progress.seen.order
    assert order is not None
    listed = ", ".join(f"{p.id} ({p.raw_status or 'no status'})" for p in case.transactions.payments) or "none"
    raise RefundNotSupported(
        f"order {order.number} ({order.id}) is {order.raw_payment_status} but Wix lists no captured payment "
        f"to refund (payments: {listed}); nothing was sent. Check the order's payments on Wix.",
        order_id=order.id,
    )


def _unread_refundability(case: _Case) -> bool:
    return case.progress.seen.refundability is None


def _always(case: _Case) -> bool:
    return True


def _read(what: Literal["transactions", "refundability"]) -> Callable[[_Case], Action]:
    return lambda case: Read(what)


def _by_item(case: _Case) -> bool:
    return case.plan.request.by_item


def _check_items_then_price(case: _Case) -> Action:
    # Every line, fee and the shipping is checked against what Wix says is left, then
    # priced by Wix: nothing is written for items Wix could not refund.
    seen, request, order = case.progress.seen, case.plan.request, case.progress.seen.order
    assert order is not None
    assert seen.availability is not None
    check_items(order.id, order.currency, request.items, request.shipping, request.fees, seen.availability)
    if seen.calculation is None:
        return Read("calculation")
    check_calculation(order.id, seen.calculation, order.currency)
    total = seen.calculation.total
    amount = request.amount if request.amount is not None else total
    if amount > total:
        raise InvalidRequest(
            "amount",
            f"order {order.id}: {format_money(amount, order.currency)} is more than Wix's price for the items, "
            f"{format_money(total, order.currency)}; nothing was sent",
        )
    if amount <= 0:
        raise RefundNotSupported(
            f"order {order.id}: Wix prices the items at {format_money(total, order.currency)}: no money to refund",
            order_id=order.id,
        )
    return _write_amount(case, amount, ItemsAsked(items=request.items, shipping=request.shipping, fees=request.fees))


def _next_write(case: _Case) -> Action:
    order = case.progress.seen.order
    assert order is not None
    assert case.progress.seen.refundability is not None
    if _full(case.plan, order):
        parts = split_full(case.plan, order, case.transactions, case.progress.seen.refundability)
    else:
        assert case.plan.request.amount is not None
        return _write_amount(case, case.plan.request.amount, None)
    if not parts:
        return Finish()
    request = case.plan.request
    return Refund(
        payment_refunds=tuple(parts),
        reason=customer_reason(request.reason, case.progress.reference),
        notify_customer=request.notify_customer,
    )


def _write_amount(case: _Case, amount: Decimal, items: ItemsAsked | None) -> Action:
    order, refundability = case.progress.seen.order, case.progress.seen.refundability
    assert order is not None
    assert refundability is not None
    parts = split_partial(case.plan, order, case.transactions, refundability, amount)
    request = case.plan.request
    refund = Refund(
        payment_refunds=tuple(parts),
        reason=customer_reason(request.reason, case.progress.reference),
        notify_customer=request.notify_customer,
        items=items,
    )
    _refuse_on_top_of_a_lookalike(case, refund)
    return refund


def _refuse_on_top_of_a_lookalike(case: _Case, refund: Refund) -> None:
    """Raise when a refund this call cannot tell from an earlier run of its reference matches ``refund``.

    Where Wix lists refunds without their reasons no tag can be read, so a refund of the
    same payments and amounts may be an earlier run of this reference (a process that
    stopped after Wix applied it). Fail closed: never refund on top of it. When any refund
    listed has a reason, reasons are listed and a reasonless one is not this library's.
    """
    reference = case.plan.request.reference
    counted = [r for r in case.transactions.refunds if r.counted]
    if reference is None or any(r.reason for r in counted):
        return
    # The same total, however split: what is left on each payment may have moved since.
    lookalike = next((r for r in counted if r.amount == refund.amount), None)
    if lookalike is not None:
        raise WixOutcomeUnknown(
            f"order {case.plan.order_id}: refund {lookalike.id} lists no reason and refunded the same amount, "
            f"so it may be an earlier run of reference {reference} (Wix lists no refund's reason here); "
            "nothing was sent. Check it on Wix: if it is someone else's, refund the rest from the dashboard or ask "
            "for another amount.",
            operation="refund_payments",
            order_id=case.plan.order_id,
            reference=reference,
            rerun_safe=False,
        )


# The standard refund, row by row: the first row whose test holds decides the step.
# fmt: off
_REFUND_STEPS: tuple[tuple[str, Callable[[_Case], bool], Callable[[_Case], Action]], ...] = (
    # when                                              test                     then
    ("the transactions are not read",                   _unread_transactions,    _read("transactions")),
    ("the journal's refund is not listed yet",          _unconfirmed,            _answer_from_journal),
    ("Wix answered this call's refund (2xx)",           _answered,               _settle_answer),
    ("a refund with this reference is on Wix",          _tag_on_wix,             _finish_tagged),
    ("this call's refund may still land",               _may_still_land,         _wait_or_give_up),
    ("a write in the journal may still land",           _journal_in_flight,      _wait_for_journal),
    ("the order is paid but no payment is captured",    _nothing_captured,       _refuse_no_payments),
    ("refundability is not read",                       _unread_refundability,   _read("refundability")),
    ("items are asked: check them, price them by Wix",  _by_item,                _check_items_then_price),
    ("otherwise: refund what the request asks",         _always,                 _next_write),
)
# fmt: on


def _next_refund(plan: RefundPlan, progress: Progress) -> Action:
    case = _Case(plan, progress)
    for _, test, then in _REFUND_STEPS:
        if test(case):
            return then(case)
    raise AssertionError("the last row always matches")  # pragma: no cover


def payment_status_after(order: Order, transactions: OrderTransactions) -> PaymentStatus:
    """Return the payment status Wix derives from the refunds (its documented rule)."""
    refunded = transactions.refunded_total()
    if refunded <= 0:
        return order.payment_status
    return PaymentStatus.FULLY_REFUNDED if refunded >= order.total else PaymentStatus.PARTIALLY_REFUNDED
