"""Wix's List Transactions lagging behind a committed refund (issue 21), shown on FakeWix.

FakeWix's ``lag_listing`` leaves a refund out of every listing for some seconds after it
is committed, while the order already counts it. A re-run during the lag does not see
the refund in the listing: the journal's copy of Wix's answer settles it instead.
"""

from __future__ import annotations

import time
from decimal import Decimal

import httpx

from wix_refunds import OutcomeStatus, RefundRequest, RetryPolicy, WixClient, refund_order
from wix_refunds.testing import FakeWix


def test_the_same_reference_run_again_during_listing_lag_after_completed_does_not_pay_again() -> None:
    fake = FakeWix()
    oid = fake.add_order(total="100")
    fake.lag_listing(2.0)
    request = RefundRequest(amount=Decimal("10"), reference="lag-1")
    with httpx.Client(transport=fake.transport()) as http:
        client = WixClient(
            fake.credentials,
            base_url=FakeWix.BASE_URL,
            http_client=http,
            retry=RetryPolicy(backoff=0.01, max_backoff=0.05),
            rate_limit=None,
        )
        first = refund_order(client, oid, request)
        assert first.status is OutcomeStatus.COMPLETED
        time.sleep(0.2)
        again = refund_order(client, oid, request)
    assert fake.refunded_total(oid) == Decimal("10"), f"Wix holds {fake.refunded_total(oid)} for 10 asked"
    assert fake.count_writes("refund", oid) == 1
    assert again.status is OutcomeStatus.ALREADY_DONE
