"""A 429 on a write: its outcome is unknown, so Wix is read again before anything is resent.

Wix documents 429 as "resource usage was exhausted" and says only that a throttled
app's calls "will fail" (https://dev.wix.com/docs/rest/articles/getting-started/errors,
https://dev.wix.com/docs/rest/articles/get-started/rate-limits); nowhere that a 429 is
answered before any work is done. So a write answered 429 is treated like one whose
answer was lost: a refund is never resent in the call, a cancel is resent only after a
re-read shows the order still open.
"""

from __future__ import annotations

import attrs
import httpx
import pytest

from wix_refunds import OutcomeStatus, RefundRequest, RetryPolicy, WixClient, WixOutcomeUnknown, refund_order
from wix_refunds.testing import FakeWix

from .runner import run_refund
from .test_execute import OLD

KINDS = ["sync", "async"]
REFUND = "/ecom/v1/order-billing/refund-payments"

# Real sleeps (FakeWix's window runs on time.monotonic()), a short settle window.
POLICY = RetryPolicy(backoff=0.05, max_backoff=0.2, settle=1.0, max_retry_after=1.0)


def _sent(fake: FakeWix) -> list[tuple[str, str, int | None]]:
    return [(r.method, r.path, r.status) for r in fake.requests]


@pytest.mark.parametrize("kind", KINDS)
def test_refund_answered_429_is_never_resent_and_a_rerun_with_its_reference_refunds_once(kind: str) -> None:
    fake = FakeWix()
    oid = fake.add_order(total="35.00")
    # The order, its transactions and its refundability pass; the refund draws the 429.
    fake.set_rate_limit(3, per=0.6)
    with pytest.raises(WixOutcomeUnknown) as caught:
        run_refund(kind, fake, oid, RefundRequest(amount="10.00"), policy=POLICY)
    sent = _sent(fake)
    refunds = [status for method, path, status in sent if path == REFUND]
    assert refunds == [429]
    assert fake.count_writes("refund", oid) == 0
    after = sent[[path for _, path, _ in sent].index(REFUND) + 1 :]
    assert any(path.startswith("/ecom/v1/payments/orders/") and status == 200 for _, path, status in after)
    reference = caught.value.reference
    assert reference is not None

    fake.set_rate_limit(None)
    request = attrs.evolve(RefundRequest(amount="10.00"), reference=reference)
    outcome = run_refund(kind, fake, oid, request, policy=POLICY)
    assert outcome.status is OutcomeStatus.COMPLETED
    assert fake.count_writes("refund", oid) == 1
    assert fake.refunded_total(oid) == 10


def test_cancel_answered_429_is_resent_only_after_the_order_is_read_again() -> None:
    fake = FakeWix()
    oid = fake.add_order(created=OLD)
    fake.set_rate_limit(2, per=0.5)
    # Another process of the store spends one of the two requests first; this client,
    # limiting itself to the same two, does not know and its cancel draws the 429.
    with WixClient(
        fake.credentials, base_url=FakeWix.BASE_URL, http_client=httpx.Client(transport=fake.transport())
    ) as other:
        other.get_order(oid)
    with httpx.Client(transport=fake.transport()) as http:
        client = WixClient(
            fake.credentials, base_url=FakeWix.BASE_URL, http_client=http, retry=POLICY, rate_limit=(2, 0.5)
        )
        outcome = refund_order(client, oid)
    assert outcome.status is OutcomeStatus.COMPLETED
    assert fake.count_writes("cancel", oid) == 1
    sent = _sent(fake)[1:]
    cancels = [i for i, (_, path, _) in enumerate(sent) if path.endswith("/cancel")]
    assert [sent[i][2] for i in cancels] == [429, 200]
    between = sent[cancels[0] + 1 : cancels[1]]
    assert any(method == "GET" and status == 200 for method, _, status in between)
