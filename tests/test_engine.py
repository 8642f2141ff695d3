"""next_action(): the next step from a plan and what was seen, as tables. No I/O."""

from __future__ import annotations

from decimal import Decimal

import pytest

from wix_refunds import (
    Fulfillment,
    Order,
    OrderTransactions,
    Payment,
    PaymentRefundability,
    Refundability,
    RefundNotSupported,
    RefundRecord,
    RefundRequest,
    RefundStatus,
    RefundTransaction,
    decide_refund,
)
from wix_refunds._engine import Cancel, DeleteOne, Finish, Observed, Read, Refund, next_action, refund_goal

from .factories import ORDER_ID, order_json

F1 = "e443df78-9558-467f-9ba9-1faf7a024204"
F2 = "23a7711a-8133-4876-b7eb-dcd9e87a1613"
P1 = "17e0aa3c-0398-4ca8-aa7e-9d498c778ea6"
P2 = "a0116be5-ab0c-4681-88f8-e3d0d3290a4c"
OLD = "2024-03-01T10:00:00Z"


def order(**changes: object) -> Order:
    return Order.from_wix(order_json(**changes))


def transactions(*refunded: tuple[str, str, str], reason: str | None = None) -> OrderTransactions:
    payments = (Payment(id=P1, amount=Decimal("20")), Payment(id=P2, amount=Decimal("15"), offline=True))
    refunds = tuple(
        RefundRecord(
            id=f"r{i}",
            reason=reason,
            transactions=(RefundTransaction(payment_id=p, amount=Decimal(a), status=RefundStatus(s)),),
        )
        for i, (p, a, s) in enumerate(refunded)
    )
    return OrderTransactions(order_id=ORDER_ID, payments=payments, refunds=refunds)


BOTH_REFUNDABLE = (
    PaymentRefundability(payment_id=P1, refundability=Refundability.REFUNDABLE),
    PaymentRefundability(payment_id=P2, refundability=Refundability.MANUALLY_REFUNDABLE, reason="OFFLINE"),
)
FULFILMENTS = (Fulfillment(id=F1), Fulfillment(id=F2))

CANCEL_TABLE = [
    # order changes, fulfilments seen, next action
    ({"createdDate": OLD, "fulfillmentStatus": "FULFILLED"}, None, Read("fulfillments")),
    ({"createdDate": OLD, "fulfillmentStatus": "FULFILLED"}, FULFILMENTS, DeleteOne(F1)),
    ({"createdDate": OLD, "fulfillmentStatus": "FULFILLED"}, (Fulfillment(id=F2),), DeleteOne(F2)),
    ({"createdDate": OLD, "fulfillmentStatus": "FULFILLED"}, (), Cancel(restock=True, notify_customer=False)),
    ({"createdDate": OLD}, None, Cancel(restock=True, notify_customer=False)),
    ({"createdDate": OLD, "fulfillmentStatus": "PARTIALLY_FULFILLED"}, (), Cancel(restock=True, notify_customer=False)),
]


@pytest.mark.parametrize(("changes", "seen", "expected"), CANCEL_TABLE)
def test_cancel_routes_delete_each_fulfilment_then_cancel(
    changes: dict[str, object], seen: object, expected: object
) -> None:
    first = order(**changes)
    plan = decide_refund(first, RefundRequest(restock=True))
    assert next_action(plan, Observed(order=first, fulfillments=seen)) == expected  # type: ignore[arg-type]


def test_a_cancelled_order_finishes_and_an_unread_one_is_read() -> None:
    first = order(createdDate=OLD)
    plan = decide_refund(first)
    assert next_action(plan, Observed()) == Read("order")
    assert next_action(plan, Observed(order=order(createdDate=OLD, status="CANCELED"))) == Finish()


def test_standard_refund_reads_transactions_then_refundability() -> None:
    plan = decide_refund(order())
    assert next_action(plan, Observed(order=order())) == Read("transactions")
    assert next_action(plan, Observed(order=order(), transactions=transactions())) == Read("refundability")


REFUND_TABLE = [
    # amount asked, refunds so far, parts sent as (payment, amount, external)
    (None, (), [(P1, "20", False), (P2, "15", True)]),
    (Decimal("25"), (), [(P1, "20", False), (P2, "5", True)]),
    (Decimal("5"), (), [(P1, "5", False)]),
    (None, ((P1, "20", "SUCCEEDED"),), [(P2, "15", True)]),
    (None, ((P1, "20", "FAILED"),), [(P1, "20", False), (P2, "15", True)]),
    (None, ((P1, "8", "PENDING"),), [(P1, "12", False), (P2, "15", True)]),
    (Decimal("10"), ((P1, "18", "SUCCEEDED"),), [(P1, "2", False), (P2, "8", True)]),
]


@pytest.mark.parametrize(("amount", "refunded", "parts"), REFUND_TABLE)
def test_refund_is_split_across_payments_in_wix_order_never_above_what_is_left(
    amount: Decimal | None, refunded: tuple[tuple[str, str, str], ...], parts: list[tuple[str, str, bool]]
) -> None:
    plan = decide_refund(order(), RefundRequest(amount=amount))
    seen = Observed(order=order(), transactions=transactions(*refunded), refundability=BOTH_REFUNDABLE)
    goal = refund_goal(plan, seen.transactions)  # type: ignore[arg-type]
    action = next_action(plan, seen, goal)
    assert isinstance(action, Refund)
    assert [(p.payment_id, p.amount, p.external) for p in action.payment_refunds] == [
        (p, Decimal(a), e) for p, a, e in parts
    ]


def test_refund_finishes_once_the_goal_is_reached() -> None:
    plan = decide_refund(order(), RefundRequest(amount=Decimal("10")))
    goal = refund_goal(plan, transactions())
    after = transactions((P1, "10", "SUCCEEDED"))
    seen = Observed(order=order(), transactions=after, refundability=BOTH_REFUNDABLE)
    assert next_action(plan, seen, goal) == Finish()


def test_refund_carrying_the_reference_finishes_even_without_a_goal() -> None:
    plan = decide_refund(order(), RefundRequest(amount=Decimal("10"), reference="t-1"))
    tagged = transactions((P1, "10", "SUCCEEDED"), reason="late [ref:t-1]")
    assert next_action(plan, Observed(order=order(), transactions=tagged, refundability=BOTH_REFUNDABLE)) == Finish()
    failed = transactions((P1, "10", "FAILED"), reason="late [ref:t-1]")
    action = next_action(plan, Observed(order=order(), transactions=failed, refundability=BOTH_REFUNDABLE))
    assert isinstance(action, Refund)
    assert action.reason == "[ref:t-1]"


@pytest.mark.parametrize(
    ("refundability", "why"),
    [
        (Refundability.NON_REFUNDABLE, "GIFT_CARD"),
        (Refundability.UNKNOWN, "GIFT_CARD"),
    ],
)
def test_a_payment_wix_cannot_refund_is_refused_with_its_reason(refundability: Refundability, why: str) -> None:
    plan = decide_refund(order())
    entries = (BOTH_REFUNDABLE[0], PaymentRefundability(payment_id=P2, refundability=refundability, reason="GIFT_CARD"))
    with pytest.raises(RefundNotSupported, match=why):
        next_action(plan, Observed(order=order(), transactions=transactions(), refundability=entries))


def test_refund_disabled_payment_and_a_missing_refundability_entry_are_refused() -> None:
    plan = decide_refund(order())
    disabled = OrderTransactions(
        order_id=ORDER_ID, payments=(Payment(id=P1, amount=Decimal("35"), refund_disabled=True),)
    )
    with pytest.raises(RefundNotSupported, match="refunds are disabled"):
        next_action(plan, Observed(order=order(), transactions=disabled, refundability=BOTH_REFUNDABLE))
    with pytest.raises(RefundNotSupported, match="UNKNOWN"):
        next_action(plan, Observed(order=order(), transactions=transactions(), refundability=BOTH_REFUNDABLE[:1]))


def test_asking_more_than_the_payments_have_left_is_refused() -> None:
    plan = decide_refund(order(), RefundRequest(amount=Decimal("30")))
    seen = Observed(order=order(), transactions=transactions((P1, "20", "SUCCEEDED")), refundability=BOTH_REFUNDABLE)
    with pytest.raises(RefundNotSupported, match="only 15"):
        next_action(plan, seen, refund_goal(plan, seen.transactions))  # type: ignore[arg-type]


def test_nothing_to_do_finishes_at_once() -> None:
    done = order(paymentStatus="FULLY_REFUNDED")
    assert next_action(decide_refund(done), Observed(order=done)) == Finish()
