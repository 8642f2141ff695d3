"""The ``RefundPayments`` plan step, row by row: its next action from what was seen on Wix. No I/O, no clock.

``_ROWS`` is the table: the first row whose test holds gives the next action. The
books decide: the step is done when a refund carrying this call's reference tag
(`` [ref:<reference>]`` at the end of its reason) is on Wix, never because a total
moved. After a refund whose outcome is unknown nothing is sent again until the settle
window has passed with reads that do not show it; then the call reports the unknown
outcome with its reference instead of guessing.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Literal

from ._actions import Action, Finish, InFlight, Progress, Read, Wait
from ._errors import InvalidRequest, JournalError, RefundDeclined, RefundNotSupported, WixOutcomeUnknown
from ._money import format_money
from ._orders import RefundRecord, RefundStatus
from ._references import reference_of
from ._refund_writes import (
    Case,
    check_items_then_price,
    full_refund,
    landed_attempt,
    next_write,
    same_parts,
    unexplained_lookalike,
    write_amount,
)
from ._routing import RefundPayments, RefundPlan

__all__ = ["refund_payments", "settle_delay", "unknown_outcome"]


def settle_delay(reads: int) -> float:
    """Return the wait before settle re-read number ``reads`` (0-based): 0.5 s doubling, at most 15 s."""
    return min(0.5 * 2.0**reads, 15.0)


def _unread_transactions(case: Case) -> bool:
    return case.progress.seen.transactions is None


def _answered(case: Case) -> bool:
    return case.progress.answer is not None


def _declined(case: Case, refund: RefundRecord) -> RefundDeclined:
    failed = [t for t in refund.transactions if t.status is RefundStatus.FAILED]
    payment = failed[0].payment_id if failed else "?"
    order = case.progress.seen.order
    currency = "" if order is None else order.currency
    declined = sum((t.amount for t in failed), Decimal(0))
    kept = [t for t in refund.transactions if t.counted]
    refunded = sum((t.amount for t in kept), Decimal(0))
    parts = ", ".join(f"{format_money(t.amount, currency)} of payment {t.payment_id} FAILED" for t in failed)
    held = f"; {format_money(refunded, currency)} of it was not declined" if kept else ""
    return RefundDeclined(
        f"order {case.plan.order_id}: Wix declined part of refund {refund.id} (reference "
        f"{case.progress.reference}): {parts}{held}. Nothing more was sent; check the payment provider, then run "
        "again with the same reference: it pays only what is still owed.",
        order_id=case.plan.order_id,
        payment_id=payment,
        status="FAILED",
        reference=case.progress.reference,
        refunded=refunded,
        declined=declined,
    )


def _unconfirmed(case: Case) -> bool:
    # A kept answer Wix declined (FAILED) moved no money and will never land: try again.
    kept = case.progress.unconfirmed
    return kept is not None and kept.answer.counted and all(r.id != kept.answer.id for r in case.transactions.refunds)


def _answer_from_journal(case: Case) -> Action:
    # Wix answered an earlier run's write and the journal kept it, but Wix does not list
    # that refund: a listing that lags must never cause a second write, so the answer
    # stands within the settle window. Past it, neither is trusted alone. Once listed,
    # the listing (newer than the answer) decides, through the rows below.
    wanted = case.progress.unconfirmed
    assert wanted is not None
    if wanted.age < wanted.settle:
        if any(t.status is RefundStatus.FAILED for t in wanted.answer.transactions):
            # What is still owed is read from the listing, which must show it first.
            return Wait(min(settle_delay(case.progress.settle_reads), wanted.settle - wanted.age))
        return Finish()
    raise JournalError(
        f"order {case.plan.order_id}: the journal holds Wix's answer to reference {case.progress.reference} "
        f"(refund {wanted.answer.id}), but Wix does not list that refund {wanted.age:.0f}s after it was sent; "
        "nothing was sent. Check the order on Wix before refunding it again."
    )


def _settle_answer(case: Case) -> Action:
    # A 2xx answer settles its step from the refund it returns, whatever its
    # transactions list says: a list that lags behind must not cause a second refund.
    answer = case.progress.answer
    assert answer is not None
    if any(t.status is RefundStatus.FAILED for t in answer.transactions):
        raise _declined(case, answer)
    return Finish()


def _tag_on_wix(case: Case) -> bool:
    # A failed refund is no refund. Nor can a listing tell this call's failed refund from
    # an earlier call's (a lagging list makes an old one look new): while this call's own
    # refund may still land, a failed one with its tag proves nothing, and the settle rows
    # keep reading. A decline this call can see for sure is in Wix's 2xx answer.
    return any(r.counted for r in case.tagged())


def _asked_money(case: Case) -> Decimal | None:
    """Return the money this reference asks: the request's amount, else (items) what its first refund asked."""
    if case.plan.request.amount is not None:
        return case.plan.request.amount
    tagged = [r for r in case.transactions.refunds if reference_of(r.reason) == case.progress.reference]
    return sum((t.amount for t in tagged[0].transactions), Decimal(0)) if tagged else None


def _declined_total(case: Case) -> Decimal:
    tagged = [r for r in case.transactions.refunds if reference_of(r.reason) == case.progress.reference]
    return sum((t.amount for r in tagged for t in r.transactions if t.status is RefundStatus.FAILED), Decimal(0))


def _refuse_other_items(case: Case) -> None:
    """Raise when the first refund of this reference names other lines than the request (like another amount)."""
    items = case.plan.request.items
    tagged = [r for r in case.transactions.refunds if reference_of(r.reason) == case.progress.reference]
    if not items or not tagged or not tagged[0].line_items:
        return
    listed = sorted((line.id.lower(), line.quantity) for line in tagged[0].line_items)
    asked = sorted((i.line_item_id.lower(), i.quantity) for i in items)
    if listed != asked:
        shown = ", ".join(f"{n} x {line}" for line, n in listed)
        raise InvalidRequest(
            "items",
            f"reference {case.progress.reference} is already on Wix for order {case.plan.order_id} with the items "
            f"{shown}, but this request asks others; nothing was sent. Use a new reference for a different refund.",
        )


def _finish_tagged(case: Case) -> Action:
    # This reference is on Wix. Done when what did not fail covers what was asked; a
    # declined part is still owed, and is paid under the same reference (never more).
    order = case.progress.seen.order
    assert order is not None
    _refuse_other_items(case)
    if _may_still_land(case):
        return _settle_own_write(case)
    declined = _declined_total(case)
    if full_refund(case.plan, order):
        return _pay_the_rest(case, None) if declined else Finish()
    asked = _asked_money(case)
    assert asked is not None
    found = sum((r.amount for r in case.tagged()), Decimal(0))
    # The reference's first refund asked all it asks (every part, declined or not): what
    # declined parts add up to over several attempts is no bound, the first ask is.
    first = sum((t.amount for t in case.tagged()[0].transactions), Decimal(0))
    if found == asked == first:
        return Finish()
    if not found < asked == first:
        raise InvalidRequest(
            "amount",
            f"reference {case.progress.reference} is already on Wix for order {case.plan.order_id} with "
            f"{format_money(found, order.currency)}"
            + (f" ({format_money(declined, order.currency)} more declined)" if declined else "")
            + (f", first asked {format_money(first, order.currency)}" if first != found else "")
            + f", but this request asks {format_money(asked, order.currency)}; nothing was sent. "
            "Use a new reference for a different refund.",
        )
    return _pay_the_rest(case, asked - found)


def _settle_own_write(case: Case) -> Action:
    # This call's write may still land. An earlier attempt's refund under the same tag says
    # nothing of it (a re-run paying what a declined part left owed): only a tagged refund
    # new since the write was sent, of the payments and amounts it sent, settles it.
    sent, before = case.progress.sent, case.progress.before or frozenset()
    assert sent is not None
    own = [r for r in case.tagged() if r.id not in before and same_parts(r, sent)]
    if not own:
        return _wait_or_give_up(case)
    declined = next((r for r in own if any(t.status is RefundStatus.FAILED for t in r.transactions)), None)
    if declined is not None:
        raise _declined(case, declined)
    return Finish()


def _pay_the_rest(case: Case, owed: Decimal | None) -> Action:
    # What a declined part left owed goes back by amount (or, for a full refund, as
    # everything left): Wix no longer offers items a declined refund named. Not while a
    # write the journal holds may still land: a dead process's attempt to pay it, say.
    if _journal_in_flight(case):
        return _wait_for_journal(case)
    if case.progress.seen.refundability is None:
        return Read("refundability")
    if owed is None:
        return next_write(case)
    return write_amount(case, owed, None)


def _items_declined(case: Case) -> bool:
    return case.plan.request.by_item and _declined_total(case) > 0


def _pay_the_rest_by_item(case: Case) -> Action:
    _refuse_other_items(case)
    asked = _asked_money(case)
    assert asked is not None
    return _pay_the_rest(case, asked)


def _may_still_land(case: Case) -> bool:
    return case.progress.unknown_for is not None


def unknown_outcome(plan: RefundPlan, progress: Progress, why: str, *, tags_readable: bool = True) -> WixOutcomeUnknown:
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


def _wait_or_give_up(case: Case) -> Action:
    progress = case.progress
    assert progress.unknown_for is not None
    assert progress.sent is not None
    lookalike = unexplained_lookalike(case.transactions, progress.sent, progress.before or frozenset())
    if lookalike is not None:
        why = f"refund {lookalike.id}, which lists no reason, appeared with the same payments and amounts and may be it"
        raise unknown_outcome(case.plan, progress, why, tags_readable=False)
    if progress.unknown_for >= progress.settle:
        readable = all(r.reason for r in case.transactions.refunds if r.counted)
        raise unknown_outcome(
            case.plan, progress, f"it did not show on Wix within {progress.settle:g}s", tags_readable=readable
        )
    return Wait(min(settle_delay(progress.settle_reads), max(progress.settle - progress.unknown_for, 0.0)))


def _waiting_for(case: Case) -> list[InFlight]:
    """Return the journal's writes that may still land and that Wix does not show landed yet (``landed_attempt``)."""
    return [
        w
        for w in case.progress.in_flight
        if w.left > 0 and landed_attempt(case.transactions, w.reference, w.attempts) is None
    ]


def _journal_in_flight(case: Case) -> bool:
    return bool(_waiting_for(case))


def _wait_for_journal(case: Case) -> Action:
    # Whoever sent it and whatever became of them: nothing is written on the order until
    # its refund shows on Wix or its settle window, counted from when it was sent, is over.
    left = min(w.left for w in _waiting_for(case))
    return Wait(min(settle_delay(case.progress.settle_reads), left))


def _covered_in_full(case: Case) -> bool:
    # A full refund is done when the listed refunds that did not fail cover the order,
    # whatever its payment status says.
    order = case.progress.seen.order
    assert order is not None
    return full_refund(case.plan, order) and case.transactions.refunded_total() >= order.total


def _nothing_captured(case: Case) -> bool:
    return case.transactions.captured_total() <= 0


def _refuse_no_payments(case: Case) -> Action:
    order = case.progress.seen.order
    assert order is not None
    listed = ", ".join(f"{p.id} ({p.raw_status or 'no status'})" for p in case.transactions.payments) or "none"
    raise RefundNotSupported(
        f"order {order.number} ({order.id}) is {order.raw_payment_status} but Wix lists no captured payment "
        f"to refund (payments: {listed}); nothing was sent. Check the order's payments on Wix.",
        order_id=order.id,
    )


def _unread_refundability(case: Case) -> bool:
    return case.progress.seen.refundability is None


def _finish(case: Case) -> Action:
    return Finish()


def _always(case: Case) -> bool:
    return True


def _read(what: Literal["transactions", "refundability"]) -> Callable[[Case], Action]:
    return lambda case: Read(what)


def _by_item(case: Case) -> bool:
    return case.plan.request.by_item


# The RefundPayments step, row by row: the first row whose test holds gives the next action.
# fmt: off
_ROWS: tuple[tuple[str, Callable[[Case], bool], Callable[[Case], Action]], ...] = (
    # when                                              test                     then
    ("the transactions are not read",                   _unread_transactions,    _read("transactions")),
    ("the journal's refund is not listed yet",          _unconfirmed,            _answer_from_journal),
    ("Wix answered this call's refund (2xx)",           _answered,               _settle_answer),
    ("a refund with this reference is on Wix",          _tag_on_wix,             _finish_tagged),
    ("this call's refund may still land",               _may_still_land,         _wait_or_give_up),
    ("a write in the journal may still land",           _journal_in_flight,      _wait_for_journal),
    ("the listed refunds cover a full refund",          _covered_in_full,        _finish),
    ("the order is paid but no payment is captured",    _nothing_captured,       _refuse_no_payments),
    ("refundability is not read",                       _unread_refundability,   _read("refundability")),
    ("items this reference asked were declined",        _items_declined,         _pay_the_rest_by_item),
    ("items are asked: check them, price them by Wix",  _by_item,                check_items_then_price),
    ("otherwise: refund what the request asks",         _always,                 next_write),
)
# fmt: on


def refund_payments(step: RefundPayments, plan: RefundPlan, progress: Progress) -> Action:
    """Return the next action of ``step``: ``Finish()`` once this call's refund is on Wix (or nothing is owed).

    Raises:
        RefundNotSupported: a payment that must be refunded cannot be (Wix's reason
            is given), less is left than asked, or Wix lists no captured payment.
        RefundDeclined: Wix or the provider declined this call's refund.
        WixOutcomeUnknown: this call's refund did not show within the settle window.
        InvalidRequest: the reference is on Wix already with another amount.
        JournalError: the journal holds Wix's answer to a refund Wix no longer lists.
    """
    case = Case(plan, progress)
    for _, test, then in _ROWS:
        if test(case):
            return then(case)
    raise AssertionError("the last row always matches")  # pragma: no cover
