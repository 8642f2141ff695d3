"""Reading what Wix's SDK types allow: refund items, refund statuses, fulfilment quantities (``_parse``).

Each tolerated shape is read as a value here, and shown through FakeWix where it decides
what the library does (``FakeWix(leave_out=..., refund_items_shape=...)``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest

from wix_refunds import OutcomeStatus, RefundItem, RefundRequest, RefundState, WixClient, refund_status
from wix_refunds.core import InvalidOrderData, RefundStatus
from wix_refunds.core._orders import MISSING_REFUND_STATUS
from wix_refunds.testing import FakeWix
from wix_refunds.wix import _parse

from .runner import run_refund

KINDS = ["sync", "async"]
ORDER = "0c87cd5d-4059-4e86-8f6e-d185b1e4a1bd"
PAYMENT = "7206d5d6-74a5-4f2c-8e53-3b0ef2f0bd1e"
REFUND = "b2215acc-4222-49a6-96ab-41f83272d603"
LINE1 = "00000000-0000-0000-0000-000000000001"
LINE2 = "00000000-0000-0000-0000-000000000002"
OLD = "2024-03-01T10:00:00.000Z"


def _listing(transaction: dict[str, Any] | None = None, **details: Any) -> dict[str, Any]:
    """A List Transactions answer with one payment and one refund of 10."""
    part = {"paymentId": PAYMENT, "amount": {"amount": "10"}, "refundStatus": "SUCCEEDED", **(transaction or {})}
    refund = {"id": REFUND, "transactions": [{k: v for k, v in part.items() if v is not None}], "details": details}
    payment = {"id": PAYMENT, "amount": {"amount": "35"}, "status": "APPROVED"}
    return {"orderTransactions": {"orderId": ORDER, "payments": [payment], "refunds": [refund]}}


def _refund(data: dict[str, Any]) -> Any:
    return _parse.parse_transactions(data).refunds[0]


# --- a refund's items: details.items first, then the older details.lineItems -------------------


def test_a_refunds_items_are_read_from_details_items_wixs_current_field() -> None:
    refund = _refund(_listing(items=[{"lineItemId": LINE1, "quantity": 2}]))
    assert [(line.id, line.quantity) for line in refund.line_items] == [(LINE1, 2)]


def test_a_refunds_items_are_read_from_the_older_details_line_items_when_items_is_absent() -> None:
    refund = _refund(_listing(lineItems=[{"lineItemId": LINE2, "quantity": 1}]))
    assert [(line.id, line.quantity) for line in refund.line_items] == [(LINE2, 1)]


def test_details_items_wins_over_the_older_line_items_when_both_are_sent() -> None:
    refund = _refund(
        _listing(items=[{"lineItemId": LINE1, "quantity": 1}], lineItems=[{"lineItemId": LINE2, "quantity": 3}])
    )
    assert [(line.id, line.quantity) for line in refund.line_items] == [(LINE1, 1)]


@pytest.mark.parametrize("details", [{}, {"reason": "late"}, {"items": None, "lineItems": None}, {"items": []}])
def test_a_refund_with_neither_items_nor_line_items_refunded_no_items(details: dict[str, Any]) -> None:
    assert _refund(_listing(**details)).line_items == ()


def test_a_malformed_refund_item_fails_closed_naming_the_field() -> None:
    with pytest.raises(InvalidOrderData, match=r"refunds\[0\]\.details\.items\[0\]\.lineItemId"):
        _refund(_listing(items=[{"quantity": 1}]))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("shape", ["sdk", "legacy", "both"])
def test_an_item_refund_is_read_back_from_wixs_books_in_either_form(kind: str, shape: str) -> None:
    fake = FakeWix(refund_items_shape=shape)
    oid = fake.add_order(total="30.00", line_items=[2, 1])
    outcome = run_refund(kind, fake, oid, RefundRequest(items=[RefundItem(line_item_id=LINE1, quantity=1)]))
    assert outcome.status is OutcomeStatus.COMPLETED
    with httpx.Client(transport=fake.transport()) as http:
        client = WixClient(fake.credentials, base_url=FakeWix.BASE_URL, http_client=http, rate_limit=None)
        (refund,) = client.list_transactions(oid).refunds
    assert [(line.id, line.quantity) for line in refund.line_items] == [(LINE1, 1)]


# --- a refund transaction without refundStatus: not settled, counted as possibly refunded -------


def test_a_missing_refund_status_reads_as_the_named_choice_unknown() -> None:
    assert MISSING_REFUND_STATUS is RefundStatus.UNKNOWN
    (part,) = _refund(_listing({"refundStatus": None})).transactions
    assert part.status is MISSING_REFUND_STATUS


def test_a_missing_refund_status_is_neither_refunded_and_done_nor_failed() -> None:
    transactions = _parse.parse_transactions(_listing({"refundStatus": None}))
    (part,) = transactions.refunds[0].transactions
    assert part.status not in (RefundStatus.SUCCEEDED, RefundStatus.FAILED)
    # Counted as possibly refunded, so that the money is never paid twice.
    assert part.counted
    assert transactions.refunded_for(PAYMENT) == Decimal("10")


def test_a_refund_status_that_is_not_text_still_fails_closed() -> None:
    with pytest.raises(InvalidOrderData, match=r"transactions\[0\]\.refundStatus"):
        _refund(_listing({"refundStatus": 3}))


def test_refund_status_info_explains_a_failed_refund() -> None:
    info = {"paymentGatewayReasonCode": "5051", "description": "Card expired"}
    (part,) = _refund(_listing({"refundStatus": "FAILED", "refundStatusInfo": info})).transactions
    assert part.status_info == "Card expired [5051]"
    assert _refund(_listing()).transactions[0].status_info is None


def test_a_refund_without_status_through_fakewix_is_pending_and_is_never_paid_again() -> None:
    fake = FakeWix(leave_out=["refundStatus"])
    oid = fake.add_order(total="35.00")
    request = RefundRequest(amount=Decimal("10.00"), reference="nostat-1")
    run_refund("sync", fake, oid, request)
    with httpx.Client(transport=fake.transport()) as http:
        client = WixClient(fake.credentials, base_url=FakeWix.BASE_URL, http_client=http, rate_limit=None)
        report = refund_status(client, oid, "nostat-1")
    assert report.state is RefundState.PENDING
    # The same request again: the refund Wix listed without a status counts as in flight.
    run_refund("sync", fake, oid, request)
    assert fake.count_writes("refund", oid) == 1
    assert fake.refunded_total(oid) == Decimal("10.00")


# --- a fulfilment line without quantity: unknown, and the cancel goes on ------------------------


def test_a_fulfilment_line_with_a_null_or_absent_quantity_reads_as_unknown() -> None:
    fulfilment = {
        "id": REFUND,
        "lineItems": [{"id": LINE1, "quantity": None}, {"id": LINE2}, {"id": LINE1, "quantity": 2}],
    }
    (read,) = _parse.parse_fulfillments({"orderWithFulfillments": {"orderId": ORDER, "fulfillments": [fulfilment]}})
    assert read.unknown_quantity == (LINE1, LINE2)
    assert [(line.id, line.quantity) for line in read.line_items] == [(LINE1, 2)]


def test_a_fulfilment_quantity_that_is_not_a_number_still_fails_closed() -> None:
    fulfilment = {"id": REFUND, "lineItems": [{"id": LINE1, "quantity": "two"}]}
    with pytest.raises(InvalidOrderData, match=r"lineItems\[0\]\.quantity"):
        _parse.parse_fulfillments({"orderWithFulfillments": {"orderId": ORDER, "fulfillments": [fulfilment]}})


@pytest.mark.parametrize("kind", KINDS)
def test_an_old_order_whose_fulfilments_give_no_quantity_is_unfulfilled_then_cancelled(kind: str) -> None:
    fake = FakeWix(leave_out=["fulfillmentQuantity"])
    oid = fake.add_order(created=OLD, fulfillments=2)
    outcome = run_refund(kind, fake, oid)
    assert outcome.status is OutcomeStatus.COMPLETED
    assert fake.orders[oid]["status"] == "CANCELED"
    assert fake.fulfillments[oid] == []
    assert len(outcome.deleted_fulfillments) == 2
    assert all(f.unknown_quantity and not f.line_items for f in outcome.deleted_fulfillments)


# --- the order total: priceSummary.total first, totalPrice only tolerated -----------------------


def test_price_summary_total_wins_over_the_older_total_price() -> None:
    from .factories import order_json

    order = _parse.parse_order(order_json(priceSummary={"total": {"amount": "35"}, "totalPrice": {"amount": "99"}}))
    assert order.total == Decimal("35")


def test_fakewix_orders_are_read_by_their_total_alone() -> None:
    fake = FakeWix()
    oid = fake.add_order(total="35.00")
    assert "totalPrice" not in fake.orders[oid]["priceSummary"]
    assert _parse.parse_order({"order": fake.orders[oid]}).total == Decimal("35")
