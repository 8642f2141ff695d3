"""What a standard refund writes: the Refund Payments call built from what Wix shows. No I/O.

``_engine``'s rows decide *when* to write; these build *what*: the payments and amounts
(``_split``), Wix's price for items asked, and the refusals that keep a write from
landing on top of one that may be an earlier run's.
"""

from __future__ import annotations

from decimal import Decimal

import attrs

from ._actions import Action, Finish, ItemsAsked, Progress, Read, Refund
from ._errors import InvalidRequest, RefundNotSupported, WixOutcomeUnknown
from ._items import check_calculation, check_items
from ._money import format_money
from ._orders import Order, OrderTransactions, RefundRecord
from ._references import customer_reason, reference_of
from ._routing import RefundPlan
from ._split import split_full, split_partial

__all__ = [
    "Case",
    "check_items_then_price",
    "full_refund",
    "landed_attempt",
    "next_write",
    "same_parts",
    "tagged_refunds",
    "unexplained_lookalike",
    "whole_payments",
    "write_amount",
]


@attrs.frozen
class Case:
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


def landed_attempt(transactions: OrderTransactions, reference: str, attempts: int) -> RefundRecord | None:
    """Return the refund that shows write number ``attempts`` under ``reference`` landed, or None.

    Each write under a reference makes at most one tagged refund, so an earlier
    attempt's refund (a declined part paid again) proves nothing of a later one:
    only as many tagged refunds as writes do, one of them not FAILED. Fewer may
    mean an earlier write never landed; then the window is waited out.
    """
    tagged = tagged_refunds(transactions, reference)
    if len(tagged) < attempts or not any(r.counted for r in tagged):
        return None
    return tagged[-1]


def full_refund(plan: RefundPlan, order: Order) -> bool:
    amount = plan.request.amount
    return not plan.request.by_item and (amount is None or amount == order.total)


def check_items_then_price(case: Case) -> Action:
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
    return write_amount(case, amount, ItemsAsked(items=request.items, shipping=request.shipping, fees=request.fees))


def next_write(case: Case) -> Action:
    order = case.progress.seen.order
    assert order is not None
    assert case.progress.seen.refundability is not None
    if full_refund(case.plan, order):
        parts = split_full(case.plan, order, case.transactions, case.progress.seen.refundability)
    else:
        assert case.plan.request.amount is not None
        return write_amount(case, case.plan.request.amount, None)
    if not parts:
        return Finish()
    request = case.plan.request
    return Refund(
        payment_refunds=tuple(parts),
        reason=customer_reason(request.reason, case.progress.reference),
        notify_customer=request.notify_customer,
    )


def write_amount(case: Case, amount: Decimal, items: ItemsAsked | None) -> Action:
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


def _refuse_on_top_of_a_lookalike(case: Case, refund: Refund) -> None:
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


def unexplained_lookalike(transactions: OrderTransactions, sent: Refund, before: frozenset[str]) -> RefundRecord | None:
    """Return a refund without a reason, new since ``sent`` was sent, that matches it part for part."""
    wanted = sorted((p.payment_id, p.amount) for p in sent.payment_refunds)
    for refund in transactions.refunds:
        if refund.id in before or refund.reason or not refund.counted:
            continue
        parts = sorted(
            (t.payment_id, None if t.payment_id in whole_payments(sent) else t.amount)
            for t in refund.transactions
            if t.counted
        )
        if parts == wanted:
            return refund
    return None


def whole_payments(sent: Refund) -> frozenset[str]:
    """Return the payments ``sent`` refunds whole (stored value: no amount is sent)."""
    return frozenset(p.payment_id for p in sent.payment_refunds if p.amount is None)


def same_parts(refund: RefundRecord, sent: Refund) -> bool:
    """Return whether ``refund`` has the payments and amounts ``sent`` asked, part for part, FAILED or not."""
    wanted = sorted((p.payment_id, p.amount) for p in sent.payment_refunds)
    whole = whole_payments(sent)
    return sorted((t.payment_id, None if t.payment_id in whole else t.amount) for t in refund.transactions) == wanted
