"""Splitting a refund's money across an order's payments, by the money rules. No I/O.

Only captured money counts, never above Wix's ``maxRefund``. A partial refund takes
from payments Wix refunds through its provider first, then from those it can only
record as refunded outside Wix, never from stored value (gift cards, memberships,
refunded whole). A full refund refunds every captured payment, stored value whole, and
is refused before any write, naming each payment Wix cannot refund.
"""

from __future__ import annotations

from decimal import Decimal

import attrs

from ._actions import PaymentRefund
from ._errors import RefundNotSupported
from ._money import check_read_amount, format_money
from ._orders import Order, OrderTransactions, Payment, PaymentRecordStatus, PaymentRefundability, Refundability
from ._routing import RefundPlan

__all__ = ["split_full", "split_partial"]


@attrs.frozen
class _Holding:
    """What one payment holds for this refund and how Wix can give it back."""

    payment: Payment
    holds: Decimal
    kind: Refundability
    why: str | None


def _holdings(transactions: OrderTransactions, refundability: tuple[PaymentRefundability, ...]) -> list[_Holding]:
    entries = {entry.payment_id: entry for entry in refundability}
    result = []
    for payment in transactions.payments:
        holds = transactions.remaining_for(payment)
        if payment.status is PaymentRecordStatus.UNKNOWN:
            # Fail closed: a status the library cannot read may hide captured money.
            unread = max(payment.amount - transactions.refunded_for(payment.id), Decimal(0))
            if unread > 0:
                unknown = f"its status {payment.raw_status or '(none)'!r} is one the library does not know"
                result.append(_Holding(payment, unread, Refundability.UNKNOWN, unknown))
            continue
        entry = entries.get(payment.id)
        if entry is not None and entry.max_refund is not None:
            # Never above what Wix says it will refund from this payment.
            holds = min(holds, entry.max_refund)
        if holds <= 0:
            continue
        kind = entry.refundability if entry is not None else Refundability.UNKNOWN
        why = entry.reason if entry is not None else "Wix's refundability does not list it"
        if payment.refund_disabled:
            kind, why = Refundability.NON_REFUNDABLE, "refunds are disabled for it"
        elif payment.stored_value and kind is Refundability.MANUALLY_REFUNDABLE:
            kind, why = Refundability.NON_REFUNDABLE, f"stored value cannot be refunded outside Wix ({why})"
        result.append(_Holding(payment, holds, kind, why))
    return result


def _check_digits(
    currency: str, transactions: OrderTransactions, refundability: tuple[PaymentRefundability, ...]
) -> None:
    """Raise ``InvalidWixData`` for an amount read from Wix that is finer than ``currency``.

    The readers bounded every amount already (0 to 10^15, at most 4 decimal places) but
    could not know the currency, which only the order gives: here, before any amount is
    split into a write, each is held to the order's digits. The field is named as Wix's
    answer for one order names it.
    """
    for p_index, payment in enumerate(transactions.payments):
        check_read_amount(payment.amount, f"orderTransactions.payments[{p_index}].amount.amount", currency)
    for r_index, refund in enumerate(transactions.refunds):
        for t_index, part in enumerate(refund.transactions):
            field = f"orderTransactions.refunds[{r_index}].transactions[{t_index}].amount.amount"
            check_read_amount(part.amount, field, currency)
    for e_index, entry in enumerate(refundability):
        if entry.max_refund is not None:
            check_read_amount(entry.max_refund, f"payments[{e_index}].payment.monetary.maxRefund.amount", currency)


def _label(payment: Payment) -> str:
    if payment.gift_card:
        return "gift card"
    if payment.membership:
        return "membership"
    return payment.method or ("offline" if payment.offline else "payment")


def split_full(
    plan: RefundPlan, order: Order, transactions: OrderTransactions, refundability: tuple[PaymentRefundability, ...]
) -> list[PaymentRefund]:
    """Return every captured payment's refund; refuse, naming each, if any cannot be refunded.

    Raises:
        InvalidWixData: an amount Wix sent is finer than the order's currency.
        RefundNotSupported: a payment that must be refunded cannot be.
    """
    _check_digits(order.currency, transactions, refundability)
    parts, blocked = [], []
    for h in _holdings(transactions, refundability):
        if h.kind not in (Refundability.REFUNDABLE, Refundability.MANUALLY_REFUNDABLE):
            blocked.append(h)
        elif h.payment.stored_value:
            parts.append(PaymentRefund(payment_id=h.payment.id, amount=None))
        else:
            parts.append(
                PaymentRefund(
                    payment_id=h.payment.id, amount=h.holds, external=h.kind is Refundability.MANUALLY_REFUNDABLE
                )
            )
    if blocked:
        possible = sum((h.holds for h in _holdings(transactions, refundability) if h not in blocked), Decimal(0))
        names = "; ".join(
            f"payment {h.payment.id} ({_label(h.payment)}, {format_money(h.holds, order.currency)}): {h.why or h.kind}"
            for h in blocked
        )
        then = (
            "ask for that amount to refund them alone"
            if possible > 0
            else "Wix can refund nothing of this order; the buyer must be paid back outside Wix"
        )
        raise RefundNotSupported(
            f"order {plan.order_number or plan.order_id} ({plan.order_id}): a full refund is refused before anything "
            f"is sent, since Wix cannot refund {names}. The other payments could refund "
            f"{format_money(possible, order.currency)}: {then}.",
            order_id=plan.order_id,
        )
    return parts


def split_partial(
    plan: RefundPlan,
    order: Order,
    transactions: OrderTransactions,
    refundability: tuple[PaymentRefundability, ...],
    amount: Decimal,
) -> list[PaymentRefund]:
    """Return ``amount`` split across payments: through Wix first, then recorded outside Wix.

    Stored value (gift card, membership) is refunded whole or not at all, so a
    partial refund never takes from it.

    Raises:
        InvalidWixData: an amount Wix sent is finer than the order's currency.
        RefundNotSupported: the payments Wix can refund hold less than ``amount``.
    """
    _check_digits(order.currency, transactions, refundability)
    holdings = [h for h in _holdings(transactions, refundability) if not h.payment.stored_value]
    parts, left = [], amount
    for kind in (Refundability.REFUNDABLE, Refundability.MANUALLY_REFUNDABLE):
        for h in holdings:
            if h.kind is not kind or left <= 0:
                continue
            take = min(h.holds, left)
            parts.append(
                PaymentRefund(payment_id=h.payment.id, amount=take, external=kind is not Refundability.REFUNDABLE)
            )
            left -= take
    if left > 0:
        covered = amount - left
        others = [
            h
            for h in _holdings(transactions, refundability)
            if h.payment.stored_value or h.kind not in (Refundability.REFUNDABLE, Refundability.MANUALLY_REFUNDABLE)
        ]
        besides = "".join(
            f"; not usable: payment {h.payment.id} ({_label(h.payment)}, {format_money(h.holds, order.currency)}: "
            f"{'stored value is refunded whole, only by a full refund' if h.payment.stored_value else h.why})"
            for h in others
        )
        raise RefundNotSupported(
            f"order {plan.order_number or plan.order_id} ({plan.order_id}): {format_money(amount, order.currency)} "
            f"is to be refunded but the payments Wix can refund hold only {format_money(covered, order.currency)}"
            f"{besides}",
            order_id=plan.order_id,
        )
    return parts
