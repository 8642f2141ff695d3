"""Every amount Wix sends is a decimal from 0 to 10^15 with the currency's digits, or unreadable data.

Shown through FakeWix serving odd values (``serve_odd``): each is refused as
``InvalidWixData`` naming the field, before anything is written.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from wix_refunds import RefundItem, RefundRequest
from wix_refunds.core import InvalidWixData
from wix_refunds.testing import FakeWix
from wix_refunds.wix._json import _decimal

from .runner import run_refund

KINDS = ["sync", "async"]
LINE1 = "00000000-0000-0000-0000-000000000001"
TRANSACTIONS = "/ecom/v1/payments/orders/*"
REFUNDABILITY = "/ecom/v1/order-billing/get-order-refundability"
CALCULATE = "/ecom/v1/order-billing/calculate-refund"
ORDER = "/ecom/v1/orders/*"


def refused(kind: str, fake: FakeWix, oid: str, request: RefundRequest | None = None) -> InvalidWixData:
    """Run the refund, expect InvalidWixData, and check that no write reached (or was sent to) Wix."""
    with pytest.raises(InvalidWixData) as caught:
        run_refund(kind, fake, oid, request)
    assert fake.writes == []
    assert fake.calls(method="POST", path="/ecom/v1/order-billing/refund-payments") == []
    return caught.value


@pytest.mark.parametrize("kind", KINDS)
def test_negative_refund_part_is_refused_not_added_to_what_is_left(kind: str) -> None:
    # Regression: a listed refund part of -10.00 made the library send 45.00 against a 35.00 payment.
    fake = FakeWix()
    oid = fake.add_order(total="35", refunded="10")
    field = "orderTransactions.refunds[0].transactions[0].amount.amount"
    fake.serve_odd(field, "-10.00", path=TRANSACTIONS)
    error = refused(kind, fake, oid)
    assert error.field == field
    assert "-10.00" in error.problem


@pytest.mark.parametrize("kind", KINDS)
def test_negative_max_refund_is_refused_not_read_as_nothing_to_do(kind: str) -> None:
    fake = FakeWix()
    oid = fake.add_order(total="35")
    field = "payments[0].payment.monetary.maxRefund.amount"
    fake.serve_odd(field, "-5", path=REFUNDABILITY)
    assert refused(kind, fake, oid).field == field


@pytest.mark.parametrize("kind", KINDS)
def test_payment_of_1e999_is_refused_not_sent_back_as_a_thousand_digits(kind: str) -> None:
    fake = FakeWix()
    oid = fake.add_order(total="35")
    field = "orderTransactions.payments[0].amount.amount"
    fake.serve_odd(field, "1E+999", path=TRANSACTIONS)
    error = refused(kind, fake, oid)
    assert error.field == field
    assert "10^15" in error.problem


@pytest.mark.parametrize("value", ["NaN", "-NaN", "sNaN", "Infinity", float("nan"), float("inf")])
def test_payment_that_is_not_a_number_is_refused(value: object) -> None:
    fake = FakeWix()
    oid = fake.add_order(total="35")
    field = "orderTransactions.payments[0].amount.amount"
    fake.serve_odd(field, value, path=TRANSACTIONS)
    assert refused("sync", fake, oid).field == field


@pytest.mark.parametrize(
    ("currency", "total", "value"),
    [("USD", "35", "35.001"), ("JPY", "3500", "3500.5"), ("KWD", "35", "35.0001"), ("USD", "35", "35.00001")],
)
def test_payment_finer_than_its_currency_is_refused(currency: str, total: str, value: str) -> None:
    fake = FakeWix()
    oid = fake.add_order(total=total, currency=currency)
    field = "orderTransactions.payments[0].amount.amount"
    fake.serve_odd(field, value, path=TRANSACTIONS)
    error = refused("sync", fake, oid)
    assert error.field == field
    assert currency in error.problem or "decimal places" in error.problem


def test_refund_part_finer_than_its_currency_is_refused_in_a_partial_refund() -> None:
    fake = FakeWix()
    oid = fake.add_order(total="35", refunded="10")
    field = "orderTransactions.refunds[0].transactions[0].amount.amount"
    fake.serve_odd(field, "10.005", path=TRANSACTIONS)
    assert refused("sync", fake, oid, RefundRequest(amount="5")).field == field


def test_max_refund_above_the_bound_is_refused() -> None:
    fake = FakeWix()
    oid = fake.add_order(total="35")
    field = "payments[0].payment.monetary.maxRefund.amount"
    fake.serve_odd(field, "1000000000000000.01", path=REFUNDABILITY)
    assert refused("sync", fake, oid, RefundRequest(amount="5")).field == field


@pytest.mark.parametrize(("value", "says"), [("-1.00", "below 0"), ("10.001", "USD"), ("1E+16", "10^15")])
def test_calculate_refund_total_out_of_bounds_is_refused(value: str, says: str) -> None:
    fake = FakeWix()
    oid = fake.add_order(total="47", line_items=[3, 1], shipping="5", fees=["2"])
    fake.serve_odd("summary.total.amount", value, path=CALCULATE)
    request = RefundRequest(items=[RefundItem(line_item_id=LINE1, quantity=1)])
    error = refused("sync", fake, oid, request)
    assert error.field == "summary.total.amount"
    assert says in error.problem


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("shipping.availableRefundAmount.amount", "4.999"),
        ("additionalFees[0].refundedAmount.amount", "0.001"),
        ("additionalFees[0].amount.amount", "2.0001"),
    ],
)
def test_shipping_or_fee_finer_than_its_currency_is_refused(field: str, value: str) -> None:
    fake = FakeWix()
    oid = fake.add_order(total="47", line_items=[3, 1], shipping="5", fees=["2"])
    fake.serve_odd(field, value, path=REFUNDABILITY)
    request = RefundRequest(items=[RefundItem(line_item_id=LINE1, quantity=1)])
    assert refused("sync", fake, oid, request).field == field


def test_shipping_left_below_zero_is_refused() -> None:
    fake = FakeWix()
    oid = fake.add_order(total="47", line_items=[3, 1], shipping="5", fees=["2"])
    fake.serve_odd("shipping.availableRefundAmount.amount", "-5.00", path=REFUNDABILITY)
    request = RefundRequest(items=[RefundItem(line_item_id=LINE1, quantity=1)])
    assert refused("sync", fake, oid, request).field == "shipping.availableRefundAmount.amount"


@pytest.mark.parametrize(
    ("value", "says"), [("35.001", "USD"), ("1000000000000001", "10^15"), ("1E+999", "10^15"), ("NaN", "finite")]
)
def test_order_total_out_of_bounds_is_refused(value: str, says: str) -> None:
    fake = FakeWix()
    oid = fake.add_order(total="35")
    fake.serve_odd("order.priceSummary.total.amount", value, path=ORDER)
    error = refused("sync", fake, oid)
    assert error.field == "order.priceSummary.total.amount"
    assert says in error.problem


def test_amounts_within_the_bounds_are_still_refunded() -> None:
    # 10^15 itself, trailing zeros past the currency's digits, and zero are all readable.
    fake = FakeWix()
    oid = fake.add_order(total="35")
    fake.serve_odd("orderTransactions.payments[0].amount.amount", "35.000000", path=TRANSACTIONS)
    outcome = run_refund("sync", fake, oid, RefundRequest(amount="5"))
    assert outcome.refunded == Decimal("5.00")


# --- the reader itself, as a table ---------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0", Decimal(0)),
        ("0.00", Decimal(0)),
        ("12.50", Decimal("12.50")),
        ("1000000000000000", Decimal(10) ** 15),
        ("1E+15", Decimal(10) ** 15),
        ("1.2345", Decimal("1.2345")),
        ("1.23450000", Decimal("1.2345")),
        (Decimal("7.10"), Decimal("7.10")),
        (3, Decimal(3)),
    ],
)
def test_reader_takes_amounts_from_0_to_10_to_the_15(value: object, expected: Decimal) -> None:
    assert _decimal(value, "x.amount") == expected


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("-0.01", "below 0"),
        ("-10.00", "below 0"),
        ("1000000000000000.01", "10^15"),
        ("1E+999", "10^15"),
        ("1.23456", "decimal places"),
        ("1E-9", "decimal places"),
        ("NaN", "finite"),
        ("-Infinity", "finite"),
        (float("nan"), "finite"),
        ("twelve", "not a decimal"),
        (True, "expected a decimal"),
    ],
)
def test_reader_refuses_amounts_out_of_bounds_naming_the_field(value: object, says: str) -> None:
    with pytest.raises(InvalidWixData) as caught:
        _decimal(value, "refunds[0].transactions[1].amount.amount")
    assert caught.value.field == "refunds[0].transactions[1].amount.amount"
    assert says in caught.value.problem
