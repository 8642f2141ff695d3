"""split_full() and split_partial(): a refund's money across an order's payments. No I/O."""

from __future__ import annotations

from decimal import Decimal

import pytest

from wix_refunds import RefundNotSupported, RefundRequest
from wix_refunds.core import (
    OrderTransactions,
    Payment,
    PaymentRecordStatus,
    PaymentRefundability,
    Refundability,
    RefundPlan,
    RefundRecord,
    RefundStatus,
    RefundTransaction,
    decide_refund,
)
from wix_refunds.core._split import split_full, split_partial
from wix_refunds.wix import parse_order

from .factories import ORDER_ID, order_json

ORDER = parse_order(order_json())
NUMBER = ORDER.number
P1 = "17e0aa3c-0398-4ca8-aa7e-9d498c778ea6"
P2 = "a0116be5-ab0c-4681-88f8-e3d0d3290a4c"
CARD = Payment(id=P1, amount=Decimal("20"))
CASH = Payment(id=P2, amount=Decimal("15"), offline=True)
# P1 through Wix, P2 only recorded as refunded outside Wix.
BOTH_USABLE = (
    PaymentRefundability(payment_id=P1, refundability=Refundability.REFUNDABLE),
    PaymentRefundability(payment_id=P2, refundability=Refundability.MANUALLY_REFUNDABLE, reason="OFFLINE"),
)


def plan(amount: str | None = None) -> RefundPlan:
    return decide_refund(ORDER, RefundRequest(amount=None if amount is None else Decimal(amount)))


def paid(*payments: Payment, refunded: tuple[tuple[str, str], ...] = ()) -> OrderTransactions:
    """The order's ``payments``, with a succeeded refund of each (payment, amount) in ``refunded``."""
    refunds = tuple(
        RefundRecord(
            id=f"r{i}",
            transactions=(RefundTransaction(payment_id=p, amount=Decimal(a), status=RefundStatus.SUCCEEDED),),
        )
        for i, (p, a) in enumerate(refunded)
    )
    return OrderTransactions(order_id=ORDER_ID, payments=payments, refunds=refunds)


def partial(amount: str, transactions: OrderTransactions) -> list[tuple[str, Decimal | None, bool]]:
    parts = split_partial(plan(amount), ORDER, transactions, BOTH_USABLE, Decimal(amount))
    return [(p.payment_id, p.amount, p.external) for p in parts]


def blocked(payment: Payment, reason: str = "FORBIDDEN") -> tuple[PaymentRefundability, ...]:
    """P1 refundable through Wix, ``payment`` (P2) not refundable at all for ``reason``."""
    return (
        PaymentRefundability(payment_id=P1, refundability=Refundability.REFUNDABLE),
        PaymentRefundability(payment_id=payment.id, refundability=Refundability.NON_REFUNDABLE, reason=reason),
    )


def unknown_status(amount: str) -> Payment:
    return Payment(id=P2, amount=Decimal(amount), status=PaymentRecordStatus.UNKNOWN, raw_status="CHARGEBACK")


# --- partial refunds: every cent counts ----------------------------------------------


def test_a_refund_under_one_unit_of_money_is_taken_through_wix() -> None:
    assert partial("0.50", paid(CARD, CASH)) == [(P1, Decimal("0.50"), False)]


def test_the_last_cents_a_first_payment_cannot_hold_are_taken_from_the_next() -> None:
    assert partial("20.50", paid(CARD, CASH)) == [(P1, Decimal("20"), False), (P2, Decimal("0.50"), True)]


def test_a_payment_with_only_cents_left_still_gives_them_before_money_goes_outside_wix() -> None:
    transactions = paid(CARD, CASH, refunded=((P1, "19.60"),))
    assert partial("10", transactions) == [(P1, Decimal("0.40"), False), (P2, Decimal("9.60"), True)]


def test_a_full_refund_includes_a_payment_with_only_cents_left() -> None:
    transactions = paid(CARD, CASH, refunded=((P1, "19.60"),))
    parts = split_full(plan(), ORDER, transactions, BOTH_USABLE)
    assert [(p.payment_id, p.amount) for p in parts] == [(P1, Decimal("0.40")), (P2, Decimal("15"))]


def test_a_refund_cents_above_what_the_payments_hold_is_refused_not_shortened() -> None:
    transactions = paid(CARD, CASH, refunded=((P1, "5"),))
    with pytest.raises(RefundNotSupported, match=r"30\.50 USD is to be refunded but .* hold only 30\.00 USD"):
        partial("30.50", transactions)


# --- payments whose status the library cannot read -----------------------------------


def test_an_unknown_status_payment_with_one_unit_left_still_blocks_a_full_refund() -> None:
    transactions = paid(CARD, unknown_status("15"), refunded=((P2, "14"),))
    with pytest.raises(RefundNotSupported) as caught:
        split_full(plan(), ORDER, transactions, BOTH_USABLE)
    assert f"payment {P2} (payment, 1.00 USD): its status 'CHARGEBACK' is one the library does not know" in str(
        caught.value
    )


def test_an_unknown_status_payment_refunded_in_full_no_longer_blocks_a_full_refund() -> None:
    transactions = paid(CARD, unknown_status("15"), refunded=((P2, "15"),))
    parts = split_full(plan(), ORDER, transactions, BOTH_USABLE)
    assert [(p.payment_id, p.amount) for p in parts] == [(P1, Decimal("20"))]


# --- refusals say which order and which payments -------------------------------------


def test_a_refused_full_refund_names_the_order_by_number_then_id() -> None:
    with pytest.raises(RefundNotSupported) as caught:
        split_full(plan(), ORDER, paid(CARD, CASH), blocked(CASH))
    assert str(caught.value).startswith(f"order {NUMBER} ({ORDER_ID}): a full refund is refused")


def test_a_refused_partial_refund_names_the_order_by_number_then_id() -> None:
    with pytest.raises(RefundNotSupported) as caught:
        partial("31", paid(CARD, CASH, refunded=((P1, "5"),)))
    assert str(caught.value).startswith(f"order {NUMBER} ({ORDER_ID}): 31.00 USD is to be refunded")


@pytest.mark.parametrize(
    ("method", "offline", "label"),
    [("PayPal", False, "PayPal"), ("PayPal", True, "PayPal"), (None, True, "offline"), (None, False, "payment")],
)
def test_a_refused_full_refund_names_each_blocked_payment_by_its_method(
    method: str | None, offline: bool, label: str
) -> None:
    other = Payment(id=P2, amount=Decimal("15"), offline=offline, method=method)
    with pytest.raises(RefundNotSupported) as caught:
        split_full(plan(), ORDER, paid(CARD, other), blocked(other, "FORBIDDEN"))
    assert f"Wix cannot refund payment {P2} ({label}, 15.00 USD): FORBIDDEN." in str(caught.value)
    assert "could refund 20.00 USD" in str(caught.value)


def test_a_refused_partial_refund_lists_only_the_payments_it_could_not_use_and_why() -> None:
    with pytest.raises(RefundNotSupported) as caught:
        split_partial(plan("25"), ORDER, paid(CARD, CASH), blocked(CASH, "FORBIDDEN"), Decimal("25"))
    message = str(caught.value)
    assert message.endswith(f"hold only 20.00 USD; not usable: payment {P2} (offline, 15.00 USD: FORBIDDEN)")
    assert f"not usable: payment {P1}" not in message


def test_a_refused_full_refund_asks_for_what_the_other_payments_hold_only_when_they_hold_something() -> None:
    with pytest.raises(RefundNotSupported) as some:
        split_full(plan(), ORDER, paid(CARD, CASH), blocked(CASH))
    assert str(some.value).endswith("could refund 20.00 USD: ask for that amount to refund them alone.")
    cents = Payment(id=P1, amount=Decimal("0.50"))
    with pytest.raises(RefundNotSupported) as little:
        split_full(plan(), ORDER, paid(cents, CASH), blocked(CASH))
    assert str(little.value).endswith("could refund 0.50 USD: ask for that amount to refund them alone.")
    only = Payment(id=P2, amount=Decimal("35"))
    nothing_else = (PaymentRefundability(payment_id=P2, refundability=Refundability.NON_REFUNDABLE, reason="X"),)
    with pytest.raises(RefundNotSupported) as none:
        split_full(plan(), ORDER, paid(only), nothing_else)
    message = str(none.value)
    assert message.endswith(
        "could refund 0.00 USD: Wix can refund nothing of this order; the buyer must be paid back outside Wix."
    )
    assert "ask for that amount" not in message
