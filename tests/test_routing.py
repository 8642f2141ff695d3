from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone, tzinfo
from decimal import Decimal

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from wix_refunds import InvalidRequest, RefundItem, RefundNotSupported, RefundRequest, RefundRoute
from wix_refunds.core import (
    STANDARD_REFUND_CUTOFF,
    CancelOrder,
    DeleteFulfillments,
    FulfillmentStatus,
    Order,
    OrderStatus,
    PaymentStatus,
    RefundPayments,
    RefundPlan,
    decide_refund,
)
from wix_refunds.wix import parse_order

from .factories import order_json

OLD = "2024-03-01T10:00:00Z"
NEW = "2024-05-02T08:28:58.917Z"


def make_order(
    created: str = NEW, status: str = "APPROVED", payment: str = "PAID", fulfilment: str = "NOT_FULFILLED"
) -> Order:
    return parse_order(
        order_json(createdDate=created, status=status, paymentStatus=payment, fulfillmentStatus=fulfilment)
    )


ROUTES = [
    # created, status, payment, fulfilment, amount, route
    (NEW, "APPROVED", "PAID", "NOT_FULFILLED", None, RefundRoute.STANDARD_REFUND),
    (NEW, "APPROVED", "PAID", "FULFILLED", None, RefundRoute.STANDARD_REFUND),
    (NEW, "APPROVED", "PAID", "PARTIALLY_FULFILLED", "10", RefundRoute.STANDARD_REFUND),
    (NEW, "APPROVED", "PARTIALLY_PAID", "NOT_FULFILLED", None, RefundRoute.STANDARD_REFUND),
    (NEW, "APPROVED", "PARTIALLY_REFUNDED", "FULFILLED", "5", RefundRoute.STANDARD_REFUND),
    (NEW, "CANCELED", "PAID", "NOT_FULFILLED", None, RefundRoute.STANDARD_REFUND),
    # After the cutoff Wix's books, not the payment status, say whether the refunds cover it.
    (NEW, "APPROVED", "FULLY_REFUNDED", "NOT_FULFILLED", None, RefundRoute.STANDARD_REFUND),
    (NEW, "CANCELED", "FULLY_REFUNDED", "FULFILLED", "35.00", RefundRoute.STANDARD_REFUND),
    (NEW, "APPROVED", "FULLY_REFUNDED", "NOT_FULFILLED", "5", RefundRoute.STANDARD_REFUND),
    (NEW, "APPROVED", "PAID", "UNKNOWN_VALUE", None, RefundRoute.STANDARD_REFUND),
    (OLD, "APPROVED", "PAID", "NOT_FULFILLED", None, RefundRoute.CANCEL),
    (OLD, "APPROVED", "PARTIALLY_PAID", "NOT_FULFILLED", None, RefundRoute.CANCEL),
    (OLD, "APPROVED", "PARTIALLY_REFUNDED", "NOT_FULFILLED", "35", RefundRoute.CANCEL),
    (OLD, "APPROVED", "PAID", "FULFILLED", None, RefundRoute.UNFULFILL_THEN_CANCEL),
    (OLD, "APPROVED", "PAID", "PARTIALLY_FULFILLED", None, RefundRoute.UNFULFILL_THEN_CANCEL),
    (OLD, "CANCELED", "PAID", "NOT_FULFILLED", None, RefundRoute.NOTHING_TO_DO),
    (OLD, "CANCELED", "NOT_PAID", "FULFILLED", "3", RefundRoute.NOTHING_TO_DO),
    (OLD, "APPROVED", "FULLY_REFUNDED", "FULFILLED", None, RefundRoute.NOTHING_TO_DO),
]


@pytest.mark.parametrize(("created", "status", "payment", "fulfilment", "amount", "route"), ROUTES)
def test_rules_table_routes(
    created: str, status: str, payment: str, fulfilment: str, amount: str | None, route: RefundRoute
) -> None:
    order = make_order(created, status, payment, fulfilment)
    plan = decide_refund(order, RefundRequest(amount=None if amount is None else Decimal(amount)))
    assert plan.route is route
    assert plan.order_id == order.id


REFUSALS = [
    (NEW, "APPROVED", "NOT_PAID", "NOT_FULFILLED", None, "never paid"),
    (NEW, "APPROVED", "PENDING", "NOT_FULFILLED", None, "PENDING"),
    (NEW, "INITIALIZED", "NOT_PAID", "NOT_FULFILLED", None, "not approved"),
    (NEW, "PENDING", "PAID", "NOT_FULFILLED", None, "not approved"),
    (NEW, "REJECTED", "PAID", "NOT_FULFILLED", None, "rejected"),
    (NEW, "APPROVED", "UNSPECIFIED", "NOT_FULFILLED", None, "paymentStatus 'UNSPECIFIED'"),
    (NEW, "APPROVED", "DECLINED", "NOT_FULFILLED", None, "never paid \\(payment status DECLINED"),
    (NEW, "APPROVED", "PENDING_MERCHANT", "NOT_FULFILLED", None, "never paid \\(payment status PENDING_MERCHANT"),
    (OLD, "APPROVED", "CANCELED", "FULFILLED", None, "never paid \\(payment status CANCELED"),
    (NEW, "ON_HOLD", "PAID", "NOT_FULFILLED", None, "status 'ON_HOLD'"),
    (OLD, "APPROVED", "PAID", "NOT_FULFILLED", "10", "only be refunded in full"),
    (OLD, "APPROVED", "PAID", "FULFILLED", "34.99", "only be refunded in full"),
    (OLD, "APPROVED", "NOT_PAID", "NOT_FULFILLED", None, "never paid"),
    (OLD, "APPROVED", "PENDING", "FULFILLED", None, "PENDING"),
    (OLD, "INITIALIZED", "NOT_PAID", "NOT_FULFILLED", None, "not approved"),
    (OLD, "REJECTED", "PAID", "NOT_FULFILLED", None, "rejected"),
    (OLD, "APPROVED", "PAID", "SHIPPED", None, "fulfillmentStatus 'SHIPPED'"),
    (OLD, "APPROVED", "UNSPECIFIED", "FULFILLED", None, "paymentStatus 'UNSPECIFIED'"),
    (NEW, "APPROVED", "PAID", "NOT_FULFILLED", "35.01", "more than the order total"),
    (OLD, "APPROVED", "PAID", "NOT_FULFILLED", "100", "more than the order total"),
]


@pytest.mark.parametrize(("created", "status", "payment", "fulfilment", "amount", "why"), REFUSALS)
def test_rules_table_refusals_say_why(
    created: str, status: str, payment: str, fulfilment: str, amount: str | None, why: str
) -> None:
    order = make_order(created, status, payment, fulfilment)
    with pytest.raises(RefundNotSupported, match=why) as info:
        decide_refund(order, RefundRequest(amount=None if amount is None else Decimal(amount)))
    assert order.number in str(info.value)
    assert info.value.order_id == order.id


@pytest.mark.parametrize(
    "request_",
    [
        RefundRequest(amount=Decimal(5), restock=True),
        RefundRequest(restock=True),
        RefundRequest(items=[RefundItem(line_item_id="line-1", quantity=1)], restock=True),
    ],
    ids=["partial", "full", "by-item"],
)
def test_restock_on_a_standard_refund_is_refused_naming_the_items_to_restock(request_: RefundRequest) -> None:
    # Regression: RefundRequest(amount=5, restock=True) restocked nothing and completed as if it had.
    with pytest.raises(InvalidRequest) as info:
        decide_refund(make_order(NEW), request_)
    assert info.value.field == "restock"
    assert "name the items to restock" in info.value.problem
    assert "RefundItem(line_item_id, quantity, restock=True)" in info.value.problem
    assert "--item LINE_ID:QTY:restock" in info.value.problem


def test_restock_before_the_cutoff_still_means_restock_everything() -> None:
    plan = decide_refund(make_order(OLD), RefundRequest(restock=True))
    assert plan.steps == (CancelOrder(restock=True, notify_customer=False),)


@pytest.mark.parametrize(
    ("flag", "value"), [("restock", "false"), ("restock", 2), ("notify_customer", "no"), ("notify_customer", None)]
)
def test_restock_and_notify_that_are_not_true_or_false_are_refused_not_read_as_yes(flag: str, value: object) -> None:
    # Regression: the cancel steps cached by flags read restock="false" or a count as
    # True (restock everything), where building the step had refused it.
    with pytest.raises(InvalidRequest) as info:
        decide_refund(make_order(OLD), RefundRequest(**{flag: value}))  # type: ignore[arg-type]
    assert info.value.field == flag


def test_items_restocked_one_by_one_on_a_standard_refund_are_planned() -> None:
    item = RefundItem(line_item_id="line-1", quantity=1, restock=True)
    plan = decide_refund(make_order(NEW), RefundRequest(items=[item]))
    assert plan.route is RefundRoute.STANDARD_REFUND


def test_fulfilled_order_before_cutoff_is_unfulfilled_then_cancelled() -> None:
    plan = decide_refund(make_order(OLD, fulfilment="FULFILLED"), RefundRequest(restock=True))
    assert plan.steps == (DeleteFulfillments(), CancelOrder(restock=True, notify_customer=False))
    assert plan.reason == (
        "placed 2024-03-01T10:00:00Z, before the 2024-04-22 cutoff, and FULFILLED: "
        "delete its fulfilments, then cancel it"
    )


def test_standard_refund_plan_carries_the_amount_and_currency() -> None:
    plan = decide_refund(make_order(NEW), RefundRequest(amount=Decimal("10.50")))
    assert plan.steps == (RefundPayments(amount=Decimal("10.50"), currency="USD"),)
    assert "on or after the 2024-04-22 cutoff" in plan.reason


def test_amount_equal_to_the_total_counts_as_full_for_old_orders() -> None:
    plan = decide_refund(make_order(OLD), RefundRequest(amount=Decimal("35")))
    assert plan.route is RefundRoute.CANCEL


def test_nothing_to_do_plan_has_no_steps() -> None:
    plan = decide_refund(make_order(OLD, status="CANCELED"))
    assert plan.steps == ()
    assert "already CANCELED" in plan.reason


@pytest.mark.parametrize(
    ("created", "route"),
    [
        ("2024-04-22T00:00:00Z", RefundRoute.STANDARD_REFUND),
        ("2024-04-22T00:00:00.000+00:00", RefundRoute.STANDARD_REFUND),
        ("2024-04-21T23:59:59.999Z", RefundRoute.CANCEL),
        ("2024-04-21T20:00:00-04:00", RefundRoute.STANDARD_REFUND),
        ("2024-04-21T19:59:59-04:00", RefundRoute.CANCEL),
        ("2024-04-22T01:00:00+02:00", RefundRoute.CANCEL),
        ("2024-04-22T02:00:00+0200", RefundRoute.STANDARD_REFUND),
        ("2024-04-22T05:30:00+05:30", RefundRoute.STANDARD_REFUND),
        ("2024-04-22T05:29:59+05:30", RefundRoute.CANCEL),
        ("2024-04-21T12:00:00-12:00", RefundRoute.STANDARD_REFUND),
    ],
)
def test_cutoff_compares_instants_not_local_dates(created: str, route: RefundRoute) -> None:
    assert decide_refund(make_order(created)).route is route


def test_cutoff_is_configurable_and_must_be_aware() -> None:
    order = make_order(NEW)
    later = datetime(2025, 1, 1, tzinfo=timezone.utc)
    assert decide_refund(order, cutoff=later).route is RefundRoute.CANCEL
    with pytest.raises(InvalidRequest, match="cutoff"):
        decide_refund(order, cutoff=datetime(2025, 1, 1))


def test_standard_cutoff_is_the_aware_instant_2024_04_22_utc() -> None:
    assert datetime(2024, 4, 22, tzinfo=timezone.utc) == STANDARD_REFUND_CUTOFF
    assert STANDARD_REFUND_CUTOFF.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"amount": Decimal("0")}, "amount"),
        ({"amount": Decimal("-1")}, "amount"),
        ({"amount": Decimal("NaN")}, "amount"),
        ({"amount": Decimal("Infinity")}, "amount"),
        ({"amount": 1.5}, "amount"),
        ({"amount": "ten"}, "amount"),
        ({"reason": "x" * 201}, "reason"),
        ({"reference": "has space"}, "reference"),
        ({"reference": "a]b"}, "reference"),
        ({"reference": "r" * 65}, "reference"),
    ],
)
def test_invalid_refund_request_is_refused_when_built(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidRequest) as info:
        RefundRequest(**kwargs)  # type: ignore[arg-type]
    assert info.value.field == field


def test_refund_request_accepts_amount_text_and_a_200_character_reason() -> None:
    request = RefundRequest(amount="12.30", reason="x" * 200, reference="ticket-42")
    assert request.amount == Decimal("12.30")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        request.amount = Decimal(1)  # type: ignore[misc]


def test_every_combination_of_known_values_is_routed_or_refused_with_a_reason() -> None:
    for created, status, payment, fulfilment in itertools.product(
        (OLD, NEW), OrderStatus, PaymentStatus, FulfillmentStatus
    ):
        order = make_order(created, status.value, payment.value, fulfilment.value)
        for amount in (None, Decimal("1")):
            try:
                plan = decide_refund(order, RefundRequest(amount=amount))
            except RefundNotSupported as exc:
                # A refusal names the order and says which rule refused it, or which value it does not know.
                message = str(exc)
                assert message.startswith(f"order {order.number} ({order.id})"), message
                reasons = ("refused, ", "which the refund rules do not know", "no refund rule covers")
                assert any(reason in message for reason in reasons), message
            else:
                # A plan says when the order was placed, against the cutoff, and what is done.
                assert plan.reason.startswith("placed "), plan.reason
                assert "cutoff" in plan.reason, plan.reason
                assert plan.reason.endswith(
                    ("refund its payments through Wix", "cancel it", "then cancel it", "nothing to do")
                ), plan.reason


OFFSETS = st.integers(min_value=-12 * 60, max_value=14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
INSTANTS = st.datetimes(
    min_value=datetime(2023, 1, 1), max_value=datetime(2025, 12, 31), timezones=st.just(timezone.utc)
)


def _written(instant: datetime, offset: timezone, style: str) -> str:
    local = instant.astimezone(offset)
    text = local.isoformat()
    if style == "compact" and text[-6] in "+-":
        text = text[:-3] + text[-2:]
    if style == "z" and local.utcoffset() == timedelta(0):
        text = text[:-6] + "Z"
    return text


@given(INSTANTS, OFFSETS, OFFSETS, st.sampled_from(["iso", "compact", "z"]))
def test_route_depends_only_on_the_instant_not_on_how_its_offset_is_written(
    instant: datetime, first: timezone, second: timezone, style: str
) -> None:
    one = decide_refund(make_order(_written(instant, first, style)))
    other = decide_refund(make_order(_written(instant, second, "iso")))
    assert one.route is other.route


@given(
    INSTANTS.filter(lambda i: i >= STANDARD_REFUND_CUTOFF),
    OFFSETS,
    st.sampled_from(list(OrderStatus)),
    st.sampled_from(list(PaymentStatus)),
    st.sampled_from(list(FulfillmentStatus)),
)
def test_no_instant_at_or_after_the_cutoff_ever_cancels(
    instant: datetime, offset: timezone, status: OrderStatus, payment: PaymentStatus, fulfilment: FulfillmentStatus
) -> None:
    order = make_order(_written(instant, offset, "iso"), status.value, payment.value, fulfilment.value)
    try:
        plan = decide_refund(order)
    except RefundNotSupported:
        return
    assert plan.route in (RefundRoute.STANDARD_REFUND, RefundRoute.NOTHING_TO_DO)
    assert not any(isinstance(step, (CancelOrder, DeleteFulfillments)) for step in plan.steps)


def test_steps_describe_themselves_for_people() -> None:
    old = decide_refund(make_order(OLD, fulfilment="FULFILLED"), RefundRequest(restock=True, notify_customer=True))
    assert [step.describe() for step in old.steps] == [
        "delete every fulfilment",
        "cancel the order (restock, email the buyer)",
    ]
    assert decide_refund(make_order(OLD)).steps[0].describe() == "cancel the order"
    assert decide_refund(make_order(NEW)).steps[0].describe() == "refund everything still refundable"
    partial = decide_refund(make_order(NEW), RefundRequest(amount=Decimal("5.5")))
    assert partial.steps[0].describe() == "refund 5.50 USD"
    assert str(partial.route) == "STANDARD_REFUND"


def test_overlapping_rules_are_refused_when_the_table_is_built() -> None:
    from wix_refunds.core._routing import _AFTER, _ANY_A, _ANY_F, _ANY_P, _LIVE, _expand

    row = (_AFTER, _LIVE, _ANY_P, _ANY_F, _ANY_A, RefundRoute.STANDARD_REFUND)
    with pytest.raises(AssertionError, match="two refund rules cover"):
        _expand((row, row))


def test_a_reference_of_64_characters_is_the_longest_accepted() -> None:
    assert RefundRequest(reference="r" * 64).reference == "r" * 64
    with pytest.raises(InvalidRequest, match="reference"):
        RefundRequest(reference="r" * 65)


def test_an_order_after_the_cutoff_that_reads_fully_refunded_is_judged_on_wixs_books() -> None:
    # A refund that FAILED after PENDING may leave the status FULLY_REFUNDED: the engine
    # reads the refunds and finishes only when those that did not fail cover the order.
    plan = decide_refund(make_order(NEW, "CANCELED", "FULLY_REFUNDED", "NOT_FULFILLED"))
    assert plan.route is RefundRoute.STANDARD_REFUND
    old = decide_refund(make_order(OLD, "CANCELED", "PAID", "NOT_FULFILLED"))
    assert "already CANCELED" in old.reason


class _NoOffset(tzinfo):
    """A time zone that knows no offset: a datetime in it is as naive as one without."""

    def utcoffset(self, moment: datetime | None) -> timedelta | None:
        return None

    def dst(self, moment: datetime | None) -> timedelta | None:
        return None

    def tzname(self, moment: datetime | None) -> str | None:
        return None


def test_a_cutoff_in_a_zone_without_an_offset_is_refused_as_naive() -> None:
    with pytest.raises(InvalidRequest, match="cutoff"):
        decide_refund(make_order(NEW), cutoff=datetime(2025, 1, 1, tzinfo=_NoOffset()))


def test_an_order_placed_at_the_cutoff_instant_is_said_to_be_on_or_after_it() -> None:
    plan = decide_refund(make_order("2024-04-22T00:00:00Z"))
    assert "placed 2024-04-22T00:00:00Z, on or after the 2024-04-22 cutoff" in plan.reason
    earlier = decide_refund(make_order("2024-04-21T23:59:59Z"))
    assert "placed 2024-04-21T23:59:59Z, before the 2024-04-22 cutoff" in earlier.reason


@pytest.mark.parametrize(
    "make",
    [
        lambda: RefundRequest(Decimal("5")),  # type: ignore[call-arg]
        lambda: CancelOrder(True, False),  # type: ignore[call-arg]
        lambda: RefundPayments(Decimal("5"), "USD"),  # type: ignore[call-arg]
        lambda: RefundPlan("id", RefundRoute.CANCEL, (), STANDARD_REFUND_CUTOFF),  # type: ignore[call-arg]
    ],
)
def test_requests_steps_and_plans_take_keywords_only_so_a_new_field_never_shifts_an_argument(make: object) -> None:
    with pytest.raises(TypeError):
        make()  # type: ignore[operator]


def test_a_cancel_step_restocks_nothing_and_emails_nobody_unless_asked() -> None:
    step = CancelOrder()
    assert (step.restock, step.notify_customer) == (False, False)
    assert step.describe() == "cancel the order"


def test_an_order_built_in_code_is_refused_naming_its_status() -> None:
    pending = attrs.evolve(make_order(NEW), status=OrderStatus.PENDING, raw_status="")
    with pytest.raises(RefundNotSupported, match=r"not approved yet \(status PENDING\)"):
        decide_refund(pending)
