"""Testing your own code with FakeWix (run with pytest).

``issue_goodwill_refund`` stands for your code; the tests show FakeWix seeded,
faulted and inspected. Run: ``python -m pytest examples/testing_with_fakewix.py``.
"""

from __future__ import annotations

from decimal import Decimal

import httpx

from wix_refunds import OutcomeStatus, RefundRequest, RetryPolicy, WixClient, refund_order
from wix_refunds.testing import FakeWix


def issue_goodwill_refund(client: WixClient, order_id: str, ticket: str) -> OutcomeStatus:
    """Your code: refund 10% of an order as a goodwill gesture, once per ticket."""
    order = client.get_order(order_id)
    amount = (order.total / 10).quantize(Decimal("0.01"))
    return refund_order(client, order_id, RefundRequest(amount=amount, reference=ticket)).status


def make_client(fake: FakeWix, http: httpx.Client) -> WixClient:
    # In-process transport: no socket. No real sleeping between retries in tests.
    return WixClient(
        fake.credentials,
        base_url=FakeWix.BASE_URL,
        http_client=http,
        retry=RetryPolicy(sleep=lambda seconds: None),
        rate_limit=None,
    )


def test_goodwill_refund_is_ten_percent_and_only_once_per_ticket() -> None:
    fake = FakeWix()
    order_id = fake.add_order(total="80.00")
    with httpx.Client(transport=fake.transport()) as http:
        client = make_client(fake, http)
        assert issue_goodwill_refund(client, order_id, "T-1") is OutcomeStatus.COMPLETED
        assert issue_goodwill_refund(client, order_id, "T-1") is OutcomeStatus.ALREADY_DONE
    assert fake.refunded_total(order_id) == Decimal("8.00")
    assert fake.orders[order_id]["paymentStatus"] == "PARTIALLY_REFUNDED"


def test_goodwill_refund_survives_a_lost_response_without_paying_twice() -> None:
    fake = FakeWix()
    order_id = fake.add_order(total="80.00")
    fake.lose_response_next("POST", "/ecom/v1/order-billing/refund-payments")
    fake.fail_next("GET", "/ecom/v1/orders/*", 503)
    with httpx.Client(transport=fake.transport()) as http:
        assert issue_goodwill_refund(make_client(fake, http), order_id, "T-2") is OutcomeStatus.COMPLETED
    assert fake.count_writes("refund", order_id) == 1
    assert fake.refunded_total(order_id) == Decimal("8.00")
