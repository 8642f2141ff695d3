"""Refund what came back: line items, restock, shipping and fees, priced by Wix (FakeWix end to end)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from wix_refunds import (
    ALL_LEFT,
    FeeRefund,
    InvalidRequest,
    OutcomeStatus,
    RefundItem,
    RefundNotSupported,
    RefundRequest,
    RefundRoute,
)
from wix_refunds.core import decide_refund
from wix_refunds.testing import FakeWix
from wix_refunds.wix import parse_order

from .runner import ScriptedTransport, run_refund

KINDS = ["sync", "async"]
LINE1 = "00000000-0000-0000-0000-000000000001"
LINE2 = "00000000-0000-0000-0000-000000000002"
OLD = "2024-03-01T10:00:00.000Z"


def _m(amount: str) -> dict[str, str]:
    from wix_refunds.testing import _money

    return _money(Decimal(amount))


def mugs(fake: FakeWix, **kwargs: object) -> str:
    """Three mugs at 10.00 and a plate at 10.00, shipping 5.00, a 2.00 fee: 47.00."""
    return fake.add_order(total="47", line_items=[3, 1], shipping="5", fees=["2"], **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", KINDS)
def test_one_returned_mug_is_refunded_at_wixs_price_and_restocked(kind: str) -> None:
    fake = FakeWix()
    oid = mugs(fake)
    request = RefundRequest(items=[RefundItem(line_item_id=LINE1, quantity=1, restock=True)], reference="ret-1")
    outcome = run_refund(kind, fake, oid, request)
    assert (outcome.status, outcome.refunded) == (OutcomeStatus.COMPLETED, Decimal("10"))
    line = fake.orders[oid]["lineItems"][0]
    assert (line["refundQuantity"], line["restockQuantity"]) == (1, 1)
    assert [(i.id, i.quantity) for i in outcome.items_refunded] == [(LINE1, 1)]
    assert [(i.id, i.quantity) for i in outcome.items_restocked] == [(LINE1, 1)]
    data = outcome.to_dict()
    assert data["items_refunded"] == [{"id": LINE1, "quantity": 1}]
    assert data["request"] is not None
    assert fake.orders[oid]["paymentStatus"] == "PARTIALLY_REFUNDED"


@pytest.mark.parametrize("kind", KINDS)
def test_shipping_and_a_fee_are_refunded_by_name(kind: str) -> None:
    fake = FakeWix()
    oid = mugs(fake)
    fee_id = fake.orders[oid]["additionalFees"][0]["id"]
    request = RefundRequest(shipping=ALL_LEFT, fees=[FeeRefund(fee_id=fee_id, amount="1.50")])
    outcome = run_refund(kind, fake, oid, request)
    assert outcome.refunded == Decimal("6.50")
    assert fake.item_refunds[oid] == {"shipping": Decimal("5"), "fees": {fee_id: Decimal("1.50")}}
    details = fake.refunds[oid][0]["details"]
    assert (details["shipping"], details["additionalFees"][0]["amount"]["amount"]) == ({"amount": _m("5")}, "1.5")


def test_shipping_left_is_checked_before_any_write() -> None:
    fake = FakeWix()
    oid = mugs(fake)
    run_refund("sync", fake, oid, RefundRequest(shipping=ALL_LEFT))
    writes = fake.count_writes("refund", oid)
    with pytest.raises(RefundNotSupported, match=r"shipping: 0\.01 USD asked but only 0\.00 USD left"):
        run_refund("sync", fake, oid, RefundRequest(shipping="0.01"))
    assert fake.count_writes("refund", oid) == writes


def test_an_amount_below_wixs_price_is_sent_as_given_and_one_above_is_refused() -> None:
    fake = FakeWix()
    oid = mugs(fake)
    item = RefundItem(line_item_id=LINE1, quantity=2)
    outcome = run_refund("sync", fake, oid, RefundRequest(items=[item], amount="18.00", reference="r-1"))
    assert outcome.refunded == Decimal("18")
    with pytest.raises(InvalidRequest, match=r"10\.01 USD is more than Wix's price for the items, 10\.00 USD"):
        run_refund("sync", fake, oid, RefundRequest(items=[RefundItem(line_item_id=LINE1, quantity=1)], amount="10.01"))
    assert fake.count_writes("refund", oid) == 1


@pytest.mark.parametrize(
    ("item", "why"),
    [
        (RefundItem(line_item_id="00000000-0000-0000-0000-000000000009", quantity=1), "is not a line of this order"),
        (RefundItem(line_item_id=LINE1, quantity=4), "4 asked but only 3 of 3 left"),
        (RefundItem(line_item_id=LINE2, quantity=2), "2 asked but only 1 of 1 left"),
    ],
)
def test_a_line_wix_cannot_refund_is_refused_naming_it_before_any_write(item: RefundItem, why: str) -> None:
    fake = FakeWix()
    oid = mugs(fake)
    with pytest.raises(RefundNotSupported, match=why):
        run_refund("sync", fake, oid, RefundRequest(items=[item]))
    assert fake.writes == []


def test_quantities_already_refunded_leave_less_to_refund() -> None:
    fake = FakeWix()
    oid = mugs(fake)
    run_refund("sync", fake, oid, RefundRequest(items=[RefundItem(line_item_id=LINE1, quantity=2)], reference="a"))
    with pytest.raises(RefundNotSupported, match=r"2 asked but only 1 of 3 left to refund \(2 refunded already\)"):
        run_refund("sync", fake, oid, RefundRequest(items=[RefundItem(line_item_id=LINE1, quantity=2)], reference="b"))


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda: RefundItem(line_item_id=LINE1, quantity=0), "quantity"),
        (lambda: RefundItem(line_item_id=LINE1, quantity=100_001), "quantity"),
        (lambda: RefundItem(line_item_id=LINE1, quantity=2, restock=3), "restock"),
        (lambda: RefundRequest(items=[RefundItem(line_item_id=f"l{i}", quantity=1) for i in range(301)]), "items"),
        (lambda: RefundRequest(fees=[FeeRefund(fee_id=f"f{i}") for i in range(101)]), "fees"),
        (lambda: RefundRequest(items=[RefundItem(line_item_id=LINE1, quantity=1)] * 2), "items"),
        (lambda: RefundRequest(shipping="-1"), "amount"),
    ],
)
def test_requests_outside_wixs_limits_are_refused_when_built(make: object, field: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        make()  # type: ignore[operator]
    assert caught.value.field == field


def test_an_item_refund_of_an_order_placed_before_the_cutoff_is_refused_never_half_done() -> None:
    fake = FakeWix()
    oid = mugs(fake, created=OLD)
    with pytest.raises(RefundNotSupported, match="only be refunded in full"):
        run_refund("sync", fake, oid, RefundRequest(items=[RefundItem(line_item_id=LINE1, quantity=1)]))
    assert fake.writes == []


def test_calculate_refund_not_available_is_refused_with_wixs_per_item_errors() -> None:
    fake = FakeWix()
    oid = mugs(fake)
    # Refundability says a line is left, but Wix's calculation refuses it (it changed meanwhile).
    fake.orders[oid]["lineItems"][1]["refundQuantity"] = 0
    fake.fail_next("POST", "/ecom/v1/order-billing/calculate-refund", 404)
    with pytest.raises(Exception, match="calculate_refund"):
        run_refund("sync", fake, oid, RefundRequest(items=[RefundItem(line_item_id=LINE2, quantity=1)]))
    fake.clear_faults()
    original = fake._priced_items

    def refuse(order_id: str, body: Any) -> tuple[dict[str, Any], list[Any]]:
        priced, _ = original(order_id, body)
        line = ("lineItem", {"lineItemId": LINE2, "quantity": 1})
        return priced, [(400, "INVALID_LINE_ITEM_REFUND_QUANTITY", f"line item {LINE2}: sold out meanwhile", line)]

    fake._priced_items = refuse  # type: ignore[method-assign]
    with pytest.raises(RefundNotSupported, match="sold out meanwhile"):
        run_refund("sync", fake, oid, RefundRequest(items=[RefundItem(line_item_id=LINE2, quantity=1)]))
    assert fake.writes == []


@pytest.mark.parametrize("kind", KINDS)
def test_a_lost_answer_to_an_item_refund_ends_with_the_items_refunded_once(kind: str) -> None:
    fake = FakeWix()
    oid = mugs(fake)
    request = RefundRequest(items=[RefundItem(line_item_id=LINE1, quantity=2, restock=2)], reference="lost-1")
    outcome = run_refund(kind, fake, oid, request, transport=ScriptedTransport(fake, writes=["lose"]))
    assert outcome.status is OutcomeStatus.COMPLETED
    again = run_refund(kind, fake, oid, request)
    assert again.status is OutcomeStatus.ALREADY_DONE
    assert [(i.id, i.quantity) for i in again.items_refunded] == [(LINE1, 2)]
    assert again.refunded == Decimal("20")
    assert fake.count_writes("refund", oid) == 1
    assert fake.orders[oid]["lineItems"][0]["refundQuantity"] == 2


def test_item_refund_money_is_split_through_wix_first_then_recorded_outside() -> None:
    fake = FakeWix()
    oid = fake.add_order(total="30", line_items=[3], payments=[("15", "offline"), ("15", "online")])
    outcome = run_refund("sync", fake, oid, RefundRequest(items=[RefundItem(line_item_id=LINE1, quantity=2)]))
    assert (outcome.refunded, outcome.refunded_outside_wix) == (Decimal("15"), Decimal("5"))


def test_the_plan_names_each_line_restock_shipping_and_fee() -> None:
    fake = FakeWix()
    oid = mugs(fake)
    request = RefundRequest(items=[RefundItem(line_item_id=LINE1, quantity=1, restock=True)], shipping=ALL_LEFT)
    outcome = run_refund("sync", fake, oid, request, dry_run=True)
    assert outcome.status is OutcomeStatus.DRY_RUN
    assert outcome.route is RefundRoute.STANDARD_REFUND
    (step,) = outcome.plan.steps  # type: ignore[union-attr]
    assert step.describe() == (
        f"refund 1 of line {LINE1} (restock 1), shipping (all that is left): Wix's price for them"
    )
    assert outcome.steps[0].amount == Decimal("15")
    assert fake.writes == []


def test_decide_refund_keeps_items_on_the_plan() -> None:

    from .factories import order_json

    order = parse_order(order_json())
    plan = decide_refund(order, RefundRequest(items=[RefundItem(line_item_id=LINE1, quantity=1)]))
    assert plan.steps[0].items[0].line_item_id == LINE1  # type: ignore[union-attr]


def test_items_wix_prices_at_nothing_are_refused_and_one_unit_of_money_is_refunded() -> None:
    fake = FakeWix()
    free = fake.add_order(total="5", line_items=[1], shipping="5")  # the line is free; the shipping is not
    with pytest.raises(RefundNotSupported, match=r"prices the items at 0\.00 USD: no money to refund"):
        run_refund("sync", fake, free, RefundRequest(items=[RefundItem(line_item_id=LINE1, quantity=1)]))
    assert fake.count_writes("refund", free) == 0
    cheap = fake.add_order(total="1", line_items=[1])
    outcome = run_refund("sync", fake, cheap, RefundRequest(items=[RefundItem(line_item_id=LINE1, quantity=1)]))
    assert (outcome.status, outcome.refunded) == (OutcomeStatus.COMPLETED, Decimal("1"))
