"""next_action(): the next step from a plan and what was seen, as tables. No I/O."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import attrs
import pytest

from wix_refunds import (
    InvalidRequest,
    RefundDeclined,
    RefundNotSupported,
    RefundRequest,
    RefundRoute,
    WixNotFound,
    WixOutcomeUnknown,
)
from wix_refunds.core import (
    Fulfillment,
    Order,
    OrderTransactions,
    Payment,
    PaymentRecordStatus,
    PaymentRefund,
    PaymentRefundability,
    PaymentStatus,
    Refundability,
    RefundRecord,
    RefundStatus,
    RefundTransaction,
    WixPreconditionFailed,
    WixServerError,
    decide_refund,
)
from wix_refunds.core._actions import WRITES, Shared, Write
from wix_refunds.core._engine import (
    Cancel,
    DeleteOne,
    Failure,
    Finish,
    Observed,
    Progress,
    Read,
    Refund,
    Wait,
    after_failure,
    next_action,
    payment_status_after,
    settle_delay,
    stale,
)
from wix_refunds.core._failures import after_read_failure
from wix_refunds.core._routing import ROUTES
from wix_refunds.wix import _wire, parse_order

from .factories import ORDER_ID, order_json

REF = "t-1"


def seen_as(seen: Observed, **changes: object) -> Progress:
    return Progress(reference=REF, seen=seen, **changes)  # type: ignore[arg-type]


F1 = "e443df78-9558-467f-9ba9-1faf7a024204"
F2 = "23a7711a-8133-4876-b7eb-dcd9e87a1613"
P1 = "17e0aa3c-0398-4ca8-aa7e-9d498c778ea6"
P2 = "a0116be5-ab0c-4681-88f8-e3d0d3290a4c"
OLD = "2024-03-01T10:00:00Z"


def order(**changes: object) -> Order:
    return parse_order(order_json(**changes))


def transactions(*refunded: tuple[str, str, str], reason: str | None = None) -> OrderTransactions:
    """P1 (20, online) and P2 (15, offline), with refunds of (payment, amount, status) carrying ``reason``."""
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
    assert next_action(plan, seen_as(Observed(order=first, fulfillments=seen))) == expected  # type: ignore[arg-type]


def test_a_cancelled_order_finishes_and_an_unread_one_is_read() -> None:
    first = order(createdDate=OLD)
    plan = decide_refund(first)
    assert next_action(plan, seen_as(Observed())) == Read("order")
    assert next_action(plan, seen_as(Observed(order=order(createdDate=OLD, status="CANCELED")))) == Finish()


def test_standard_refund_reads_transactions_then_refundability() -> None:
    plan = decide_refund(order())
    assert next_action(plan, seen_as(Observed(order=order()))) == Read("transactions")
    assert next_action(plan, seen_as(Observed(order=order(), transactions=transactions()))) == Read("refundability")


REFUND_TABLE = [
    # amount asked, refunds so far, parts sent as (payment, amount, external)
    (None, (), [(P1, "20", False), (P2, "15", True)]),
    (Decimal("25"), (), [(P1, "20", False), (P2, "5", True)]),
    (Decimal("5"), (), [(P1, "5", False)]),
    (None, ((P1, "20", "SUCCEEDED"),), [(P2, "15", True)]),
    (None, ((P1, "20", "FAILED"),), [(P1, "20", False), (P2, "15", True)]),
    (None, ((P1, "8", "PENDING"),), [(P1, "12", False), (P2, "15", True)]),
    (None, ((P1, "8", "SCHEDULED"),), [(P1, "12", False), (P2, "15", True)]),
    (Decimal("10"), ((P1, "18", "SUCCEEDED"),), [(P1, "2", False), (P2, "8", True)]),
]


@pytest.mark.parametrize(("amount", "refunded", "parts"), REFUND_TABLE)
def test_refund_is_split_through_wix_first_then_outside_never_above_what_is_left(
    amount: Decimal | None, refunded: tuple[tuple[str, str, str], ...], parts: list[tuple[str, str, bool]]
) -> None:
    plan = decide_refund(order(), RefundRequest(amount=amount))
    seen = Observed(order=order(), transactions=transactions(*refunded), refundability=BOTH_REFUNDABLE)
    action = next_action(plan, seen_as(seen))
    assert isinstance(action, Refund)
    assert [(p.payment_id, p.amount, p.external) for p in action.payment_refunds] == [
        (p, Decimal(a), e) for p, a, e in parts
    ]
    assert action.reason.endswith(f" [ref:{REF}]") or action.reason == f"[ref:{REF}]"


def test_partial_refund_takes_from_a_refundable_payment_listed_after_one_that_is_not() -> None:
    # Gift card 20 listed first, card 15 second: a 10 partial refund comes from the card.
    payments = (
        Payment(id=P1, amount=Decimal("20"), gift_card=True),
        Payment(id=P2, amount=Decimal("15")),
    )
    seen = Observed(
        order=order(),
        transactions=OrderTransactions(order_id=ORDER_ID, payments=payments),
        refundability=(
            PaymentRefundability(payment_id=P1, refundability=Refundability.NON_REFUNDABLE, reason="FORBIDDEN"),
            PaymentRefundability(payment_id=P2, refundability=Refundability.REFUNDABLE),
        ),
    )
    action = next_action(decide_refund(order(), RefundRequest(amount=Decimal("10"))), seen_as(seen))
    assert isinstance(action, Refund)
    assert action.payment_refunds == (PaymentRefund(payment_id=P2, amount=Decimal("10")),)


def test_stored_value_is_refunded_whole_by_a_full_refund_and_never_by_a_partial_one() -> None:
    payments = (
        Payment(id=P1, amount=Decimal("20"), gift_card=True),
        Payment(id=P2, amount=Decimal("15"), membership=True),
    )
    refundable = tuple(PaymentRefundability(payment_id=p, refundability=Refundability.REFUNDABLE) for p in (P1, P2))
    seen = Observed(
        order=order(),
        transactions=OrderTransactions(order_id=ORDER_ID, payments=payments),
        refundability=refundable,
    )
    full = next_action(decide_refund(order()), seen_as(seen))
    assert isinstance(full, Refund)
    assert [(p.payment_id, p.amount) for p in full.payment_refunds] == [(P1, None), (P2, None)]
    with pytest.raises(RefundNotSupported, match="stored value is refunded whole"):
        next_action(decide_refund(order(), RefundRequest(amount=Decimal("5"))), seen_as(seen))


def test_only_captured_payments_count_and_a_declined_one_does_not_make_a_full_refund_partial() -> None:
    payments = (
        Payment(id=P1, amount=Decimal("20"), status=PaymentRecordStatus.DECLINED, raw_status="DECLINED"),
        Payment(id=P2, amount=Decimal("35")),
    )
    seen = Observed(
        order=order(),
        transactions=OrderTransactions(order_id=ORDER_ID, payments=payments),
        refundability=(PaymentRefundability(payment_id=P2, refundability=Refundability.REFUNDABLE),),
    )
    action = next_action(decide_refund(order()), seen_as(seen))
    assert isinstance(action, Refund)
    assert action.payment_refunds == (PaymentRefund(payment_id=P2, amount=Decimal("35")),)


def test_a_payment_whose_status_is_unknown_stops_a_full_refund_naming_it() -> None:
    payments = (
        Payment(id=P1, amount=Decimal("20"), status=PaymentRecordStatus.UNKNOWN, raw_status="UNDEFINED"),
        Payment(id=P2, amount=Decimal("15")),
    )
    seen = Observed(
        order=order(),
        transactions=OrderTransactions(order_id=ORDER_ID, payments=payments),
        refundability=(PaymentRefundability(payment_id=P2, refundability=Refundability.REFUNDABLE),),
    )
    with pytest.raises(RefundNotSupported, match=rf"{P1}.*'UNDEFINED' is one the library does not know"):
        next_action(decide_refund(order()), seen_as(seen))
    partial = next_action(decide_refund(order(), RefundRequest(amount=Decimal("5"))), seen_as(seen))
    assert isinstance(partial, Refund)
    assert partial.payment_refunds == (PaymentRefund(payment_id=P2, amount=Decimal("5")),)


def test_a_payment_is_never_refunded_above_wix_max_refund() -> None:
    seen = Observed(
        order=order(),
        transactions=transactions(),
        refundability=(
            PaymentRefundability(payment_id=P1, refundability=Refundability.REFUNDABLE, max_refund=Decimal("12")),
            BOTH_REFUNDABLE[1],
        ),
    )
    action = next_action(decide_refund(order(), RefundRequest(amount=Decimal("20"))), seen_as(seen))
    assert isinstance(action, Refund)
    assert [(p.payment_id, p.amount) for p in action.payment_refunds] == [(P1, Decimal("12")), (P2, Decimal("8"))]


def test_paid_order_whose_transactions_list_no_captured_payment_is_refused_not_already_done() -> None:
    empty = OrderTransactions(order_id=ORDER_ID)
    with pytest.raises(RefundNotSupported, match="lists no captured payment"):
        next_action(decide_refund(order()), seen_as(Observed(order=order(), transactions=empty)))


def test_refund_carrying_the_reference_finishes_and_a_failed_one_from_an_earlier_call_is_retried() -> None:
    plan = decide_refund(order(), RefundRequest(amount=Decimal("10"), reference=REF))
    tagged = transactions((P1, "10", "SUCCEEDED"), reason=f"late [ref:{REF}]")
    assert next_action(plan, seen_as(Observed(order=order(), transactions=tagged))) == Finish()
    failed = transactions((P1, "10", "FAILED"), reason=f"late [ref:{REF}]")
    action = next_action(plan, seen_as(Observed(order=order(), transactions=failed, refundability=BOTH_REFUNDABLE)))
    assert isinstance(action, Refund)
    assert action.reason == f"[ref:{REF}]"


@pytest.mark.parametrize("reason", [f"[ref:{REF}2]", f"[ref:{REF}] and more", f"x[ref:x-{REF}]", "[ref:T-1]"])
def test_a_tag_matches_only_as_the_whole_token_at_the_end(reason: str) -> None:
    plan = decide_refund(order(), RefundRequest(amount=Decimal("10"), reference=REF))
    other = transactions((P1, "10", "SUCCEEDED"), reason=reason)
    action = next_action(plan, seen_as(Observed(order=order(), transactions=other, refundability=BOTH_REFUNDABLE)))
    assert isinstance(action, Refund)


def test_same_reference_with_another_amount_is_refused_naming_both_amounts() -> None:
    plan = decide_refund(order(), RefundRequest(amount=Decimal("12"), reference=REF))
    tagged = transactions((P1, "10", "SUCCEEDED"), reason=f"[ref:{REF}]")
    with pytest.raises(InvalidRequest, match=r"10.00 USD.*asks 12.00 USD"):
        next_action(plan, seen_as(Observed(order=order(), transactions=tagged)))


def test_a_declined_refund_ends_the_call_without_a_second_attempt() -> None:
    plan = decide_refund(order(), RefundRequest(amount=Decimal("10")))
    sent = Refund(
        payment_refunds=(PaymentRefund(payment_id=P1, amount=Decimal("10")),), reason="x", notify_customer=False
    )
    answer = RefundRecord(
        id="r9",
        reason=f"[ref:{REF}]",
        transactions=(RefundTransaction(payment_id=P1, amount=Decimal("10"), status=RefundStatus.FAILED),),
    )
    seen = Observed(order=order(), transactions=transactions())
    with pytest.raises(RefundDeclined, match=P1) as caught:
        next_action(plan, seen_as(seen, sent=sent, answer=answer))
    assert caught.value.reference == REF


def test_a_failed_refund_with_the_tag_in_a_listing_proves_nothing_while_this_calls_may_still_land() -> None:
    # A lagging listing can make an earlier call's failed refund look new: keep settling.
    plan = decide_refund(order(), RefundRequest(amount=Decimal("10")))
    sent = Refund(
        payment_refunds=(PaymentRefund(payment_id=P1, amount=Decimal("10")),), reason="x", notify_customer=False
    )
    failed_on_wix = transactions((P1, "10", "FAILED"), reason=f"[ref:{REF}]")
    seen = Observed(order=order(), transactions=failed_on_wix)
    assert isinstance(next_action(plan, seen_as(seen, sent=sent, unknown_for=1.0, before=frozenset())), Wait)


def test_a_2xx_answer_settles_the_step_whatever_its_transactions_list() -> None:
    plan = decide_refund(order(), RefundRequest(amount=Decimal("10")))
    answer = RefundRecord(
        id="r9",
        reason=f"[ref:{REF}]",
        transactions=(RefundTransaction(payment_id=P1, amount=Decimal("10"), status=RefundStatus.PENDING),),
    )
    lagging = Observed(order=order(), transactions=transactions(), refundability=BOTH_REFUNDABLE)
    assert next_action(plan, seen_as(lagging, answer=answer, wrote=True)) == Finish()


SENT = Refund(payment_refunds=(PaymentRefund(payment_id=P1, amount=Decimal("10")),), reason="r", notify_customer=False)


def test_after_an_unknown_refund_nothing_is_resent_until_the_settle_window_ends() -> None:
    plan = decide_refund(order(), RefundRequest(amount=Decimal("10")))
    empty = Observed(order=order(), transactions=transactions(), refundability=BOTH_REFUNDABLE)
    assert next_action(plan, seen_as(empty, sent=SENT, unknown_for=0.0, settle=120.0)) == Wait(settle_delay(0))
    assert next_action(plan, seen_as(empty, sent=SENT, unknown_for=119.0, settle_reads=9)) == Wait(1.0)
    with pytest.raises(WixOutcomeUnknown, match=f"reference {REF}") as caught:
        next_action(plan, seen_as(empty, sent=SENT, unknown_for=120.0))
    assert caught.value.reference == REF
    landed = Observed(order=order(), transactions=transactions((P1, "10", "SUCCEEDED"), reason=f"[ref:{REF}]"))
    assert next_action(plan, seen_as(landed, sent=SENT, unknown_for=3.0)) == Finish()


def test_an_unexplained_refund_of_the_same_amount_is_never_refunded_on_top_of() -> None:
    plan = decide_refund(order(), RefundRequest(amount=Decimal("10")))
    reasonless = Observed(order=order(), transactions=transactions((P1, "10", "SUCCEEDED")))
    with pytest.raises(WixOutcomeUnknown, match="lists no reason"):
        next_action(plan, seen_as(reasonless, sent=SENT, unknown_for=1.0, before=frozenset()))
    # The same refund seen before this call sent anything is not a lookalike.
    older = seen_as(reasonless, sent=SENT, unknown_for=1.0, before=frozenset({"r0"}))
    assert isinstance(next_action(plan, older), Wait)


def test_settle_waits_grow_and_are_capped() -> None:
    assert [settle_delay(n) for n in range(7)] == [0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 15.0]


def test_a_dry_run_stops_before_the_first_write() -> None:
    plan = decide_refund(order())
    seen = Observed(order=order(), transactions=transactions(), refundability=BOTH_REFUNDABLE)
    action = next_action(plan, seen_as(seen, dry_run=True))
    assert isinstance(action, Finish)
    assert isinstance(action.planned, Refund)


ERROR = WixPreconditionFailed("428", status=428)
LOST = WixOutcomeUnknown("lost", operation="refund_payments")
# Each kind of failure, as the error the write fails with.
FAILURES = {"unknown": LOST, "refused": ERROR, "not_found": WixNotFound("404", status=404)}
FAILURE_TABLE = [
    # step, failure, what the call forgets (None: it raises)
    (DeleteOne(F1), "unknown", "everything"),
    (DeleteOne(F1), "not_found", "fulfillments"),
    (DeleteOne(F1), "refused", "everything"),
    (Cancel(restock=False, notify_customer=False), "unknown", "everything"),
    (Cancel(restock=False, notify_customer=False), "refused", "everything"),
    (Cancel(restock=False, notify_customer=False), "not_found", None),
    (SENT, "unknown", "transactions"),
    (SENT, "refused", "everything"),
    (SENT, "not_found", None),
]


@pytest.mark.parametrize(("step", "kind", "forgets"), FAILURE_TABLE)
def test_a_failed_write_is_read_again_or_ends_the_call_by_the_failure_table(
    step: Any, kind: Any, forgets: str | None
) -> None:
    full = Observed(order=order(), fulfillments=FULFILMENTS, transactions=transactions(), refundability=BOTH_REFUNDABLE)
    error = FAILURES[kind]
    before = seen_as(full, sent=SENT if isinstance(step, Refund) else None)
    if forgets is None:
        with pytest.raises(type(error)):
            after_failure(before, Failure(action=step, error=error))
        return
    after = after_failure(before, Failure(action=step, error=error))
    expected = {
        "everything": Observed(),
        "fulfillments": attrs.evolve(full, fulfillments=None),
        "transactions": attrs.evolve(full, transactions=None),
    }[forgets]
    assert after.seen == expected
    assert after.wrote == (kind != "refused")
    assert (after.unknown_for == 0.0) == (isinstance(step, Refund) and kind == "unknown")


def test_a_second_428_for_the_same_step_raises() -> None:
    step = Cancel(restock=False, notify_customer=False)
    once = after_failure(seen_as(Observed(order=order())), Failure(action=step, error=ERROR))
    with pytest.raises(WixPreconditionFailed):
        after_failure(once, Failure(action=step, error=ERROR))


@pytest.mark.parametrize(
    ("refundability", "why"),
    [
        (Refundability.NON_REFUNDABLE, "FORBIDDEN"),
        (Refundability.UNKNOWN, "FORBIDDEN"),
    ],
)
def test_a_full_refund_with_a_payment_wix_cannot_refund_is_refused_naming_it_and_what_could_be(
    refundability: Refundability, why: str
) -> None:
    plan = decide_refund(order())
    entries = (BOTH_REFUNDABLE[0], PaymentRefundability(payment_id=P2, refundability=refundability, reason=why))
    with pytest.raises(RefundNotSupported, match=rf"{P2} \(Cash|{P2}.*{why}.*could refund 20"):
        next_action(plan, seen_as(Observed(order=order(), transactions=transactions(), refundability=entries)))


def test_refund_disabled_payment_and_a_missing_refundability_entry_are_refused() -> None:
    plan = decide_refund(order())
    disabled = OrderTransactions(
        order_id=ORDER_ID, payments=(Payment(id=P1, amount=Decimal("35"), refund_disabled=True),)
    )
    with pytest.raises(RefundNotSupported, match="refunds are disabled"):
        next_action(plan, seen_as(Observed(order=order(), transactions=disabled, refundability=BOTH_REFUNDABLE)))
    with pytest.raises(RefundNotSupported, match="does not list it"):
        next_action(
            plan, seen_as(Observed(order=order(), transactions=transactions(), refundability=BOTH_REFUNDABLE[:1]))
        )


def test_asking_more_than_the_payments_have_left_is_refused() -> None:
    plan = decide_refund(order(), RefundRequest(amount=Decimal("30")))
    seen = Observed(order=order(), transactions=transactions((P1, "20", "SUCCEEDED")), refundability=BOTH_REFUNDABLE)
    with pytest.raises(RefundNotSupported, match="hold only 15"):
        next_action(plan, seen_as(seen))


def test_nothing_to_do_finishes_at_once() -> None:
    done = order(paymentStatus="FULLY_REFUNDED", createdDate=OLD)
    assert next_action(decide_refund(done), seen_as(Observed(order=done))) == Finish()


def test_a_fully_refunded_order_is_done_only_when_the_listed_refunds_cover_it() -> None:
    done = order(paymentStatus="FULLY_REFUNDED")
    plan = decide_refund(done)
    assert next_action(plan, seen_as(Observed(order=done))) == Read("transactions")
    covered = transactions((P1, "20", "SUCCEEDED"), (P2, "15", "SUCCEEDED"))
    assert next_action(plan, seen_as(Observed(order=done, transactions=covered))) == Finish()
    # Its only refund FAILED after PENDING while the status still reads FULLY_REFUNDED.
    failed = transactions((P1, "20", "FAILED"), (P2, "15", "SUCCEEDED"))
    assert next_action(plan, seen_as(Observed(order=done, transactions=failed))) == Read("refundability")


def test_a_cancel_planned_before_a_fulfilment_appeared_reads_the_fulfilments_first() -> None:
    plan = decide_refund(order(createdDate=OLD), RefundRequest(restock=True))
    assert plan.route is RefundRoute.CANCEL
    now_fulfilled = order(createdDate=OLD, fulfillmentStatus="FULFILLED")
    assert next_action(plan, seen_as(Observed(order=now_fulfilled))) == Read("fulfillments")
    assert next_action(plan, seen_as(Observed(order=order(createdDate=OLD)))) == Cancel(
        restock=True, notify_customer=False
    )


def test_every_unknown_refund_outcome_starts_its_settle_waits_again_from_half_a_second() -> None:
    plan = decide_refund(order(), RefundRequest(amount=Decimal("10")))
    full = Observed(order=order(), transactions=transactions(), refundability=BOTH_REFUNDABLE)
    late = seen_as(full, sent=SENT, unknown_for=40.0, settle_reads=6)
    after = after_failure(late, Failure(action=SENT, error=LOST))
    assert next_action(plan, after) == Read("transactions")
    reread = attrs.evolve(after, seen=attrs.evolve(after.seen, transactions=transactions()))
    assert next_action(plan, reread) == Wait(0.5)


def test_half_a_unit_captured_is_money_to_refund() -> None:
    half = OrderTransactions(order_id=ORDER_ID, payments=(Payment(id=P1, amount=Decimal("0.50")),))
    small = order(priceSummary={"total": {"amount": "0.50"}})
    seen = Observed(order=small, transactions=half, refundability=BOTH_REFUNDABLE[:1])
    plan = decide_refund(small)
    action = next_action(plan, seen_as(seen))
    assert isinstance(action, Refund)
    assert [(p.payment_id, p.amount) for p in action.payment_refunds] == [(P1, Decimal("0.50"))]


def test_a_paid_order_with_only_uncaptured_payments_is_refused_naming_each_and_its_status() -> None:
    payments = (
        Payment(id=P1, amount=Decimal("20"), status=PaymentRecordStatus.DECLINED, raw_status="DECLINED"),
        Payment(id=P2, amount=Decimal("15"), status=PaymentRecordStatus.UNKNOWN, raw_status=""),
    )
    listed = OrderTransactions(order_id=ORDER_ID, payments=payments)
    with pytest.raises(RefundNotSupported, match=rf"payments: {P1} \(DECLINED\), {P2} \(no status\)"):
        next_action(decide_refund(order()), seen_as(Observed(order=order(), transactions=listed)))


@pytest.mark.parametrize(
    ("refunded", "status"),
    [
        ((), PaymentStatus.PAID),
        (((P1, "1", "SUCCEEDED"),), PaymentStatus.PARTIALLY_REFUNDED),
        (((P1, "20", "SUCCEEDED"), (P2, "14.99", "SUCCEEDED")), PaymentStatus.PARTIALLY_REFUNDED),
        (((P1, "20", "SUCCEEDED"), (P2, "15", "SUCCEEDED")), PaymentStatus.FULLY_REFUNDED),
    ],
)
def test_the_payment_status_after_refunds_follows_wixs_rule(
    refunded: tuple[tuple[str, str, str], ...], status: PaymentStatus
) -> None:
    assert payment_status_after(order(), transactions(*refunded)) is status


# --- the routes table, the write kinds, failed reads, stale shared reads ------------------

ROUTE_ORDERS = {
    RefundRoute.STANDARD_REFUND: {},
    RefundRoute.CANCEL: {"createdDate": OLD},
    RefundRoute.UNFULFILL_THEN_CANCEL: {"createdDate": OLD, "fulfillmentStatus": "FULFILLED"},
    RefundRoute.NOTHING_TO_DO: {"createdDate": OLD, "status": "CANCELED"},
}


@pytest.mark.parametrize("route", list(RefundRoute))
def test_each_route_plans_the_steps_of_its_row_and_reads_first_what_its_row_says(route: RefundRoute) -> None:
    placed = order(**ROUTE_ORDERS[route])
    plan = decide_refund(placed)
    assert plan.route is route
    assert tuple(type(step) for step in plan.steps) == ROUTES[route].steps
    first = next_action(plan, seen_as(Observed(order=placed)))
    reads = ROUTES[route].reads
    assert (first.what if isinstance(first, Read) else None) == (reads[0] if reads else None)


def test_each_write_is_recorded_by_its_kind_which_is_the_wix_call_it_makes() -> None:
    calls: dict[type[Write], _wire.WireCall[Any]] = {
        DeleteOne: _wire.delete_fulfillment(ORDER_ID, F1),
        Cancel: _wire.cancel_order(ORDER_ID, restock=False, notify_customer=False),
        Refund: _wire.refund_payments(ORDER_ID, SENT.payment_refunds, reason="r", notify_customer=False),
    }
    assert set(calls) == set(WRITES)
    for write, call in calls.items():
        assert write.kind == call.operation


def test_a_write_failure_no_row_knows_ends_the_call() -> None:
    error = WixNotFound("404", status=404)
    with pytest.raises(RefundNotSupported):
        after_failure(seen_as(Observed(order=order())), Failure(action=SENT, error=RefundNotSupported("no")))
    with pytest.raises(WixNotFound):
        after_failure(seen_as(Observed(order=order())), Failure(action=SENT, error=error))


LOST_READ = WixServerError("503", status=503)


def test_a_read_that_fails_while_the_refund_may_still_land_waits_out_the_window_then_reports_it_unknown() -> None:
    plan = decide_refund(order(), RefundRequest(amount=Decimal("10")))
    progress = seen_as(Observed(order=order()), sent=SENT, settle=120.0, settle_reads=2)
    read_failed = WixPreconditionFailed("428", status=428)
    with pytest.raises(WixServerError):
        after_read_failure(plan, progress, LOST_READ, None)  # no refund of this call may land: the read's own error
    assert after_read_failure(plan, progress, LOST_READ, 10.0) == Wait(2.0)
    assert after_read_failure(plan, progress, LOST_READ, 119.5) == Wait(0.5)
    with pytest.raises(WixOutcomeUnknown, match="reading Wix to find it failed"):
        after_read_failure(plan, progress, LOST_READ, 120.0)
    with pytest.raises(WixOutcomeUnknown, match="WixPreconditionFailed"):
        after_read_failure(plan, progress, read_failed, 10.0)  # not retryable: waiting cannot help


def test_shared_reads_older_than_their_bound_are_read_again_only_where_still_relied_on() -> None:
    shared = Shared(seen=Observed(order=order(), transactions=transactions()), at=100.0, max_age=10.0)
    relied = attrs.evolve(shared.seen, refundability=BOTH_REFUNDABLE)
    assert stale(relied, None, 500.0) is None
    assert stale(relied, shared, 110.0) is None
    assert stale(relied, shared, 110.5) == ("order", "transactions")
    assert stale(attrs.evolve(relied, transactions=transactions()), shared, 110.5) == ("order",)
