"""The async refund reads the order, its transactions and refundability at once (``_speculate``).

Round trips are counted from when each request was in flight: a request that starts
after another one ended waits for it, so the critical path is the longest such chain.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

import httpx
import pytest

from wix_refunds import (
    AsyncWixClient,
    OutcomeStatus,
    RefundRequest,
    RefundRoute,
    WixClient,
    WixNotFound,
    refund_order,
    refund_order_async,
)
from wix_refunds.core import WixServerError
from wix_refunds.testing import FakeWix

from .clients import Sleeps, fast_policy
from .test_execute import OLD

LATENCY = 0.05
REFUNDABILITY = "/ecom/v1/order-billing/get-order-refundability"


class Timed(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """FakeWix's transport, noting when each request was in flight."""

    def __init__(self, fake: FakeWix) -> None:
        self.inner = fake.transport()
        self.spans: list[tuple[float, float, str]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        start = time.monotonic()
        try:
            return self.inner.handle_request(request)
        finally:
            self.spans.append((start, time.monotonic(), request.url.path))

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        start = time.monotonic()
        try:
            return await self.inner.handle_async_request(request)
        finally:
            self.spans.append((start, time.monotonic(), request.url.path))

    def round_trips(self) -> int:
        """Return the longest chain of requests each started after the one before it ended."""
        depth: list[int] = []
        spans = sorted(self.spans)
        for i, (start, _, _) in enumerate(spans):
            before = [depth[j] for j in range(i) if spans[j][1] <= start]
            depth.append(1 + max(before, default=0))
        return max(depth, default=0)


def _run(fake: FakeWix, order_id: str, request: RefundRequest | None, *, kind: str, **kwargs: Any) -> Any:
    transport = Timed(fake)
    policy = fast_policy(Sleeps())
    if kind == "sync":
        with httpx.Client(transport=transport) as http:
            client = WixClient(fake.credentials, base_url=FakeWix.BASE_URL, http_client=http, retry=policy)
            return refund_order(client, order_id, request, **kwargs), transport

    async def go() -> Any:
        async with httpx.AsyncClient(transport=transport) as http:
            client = AsyncWixClient(fake.credentials, base_url=FakeWix.BASE_URL, http_client=http, retry=policy)
            return await refund_order_async(client, order_id, request, **kwargs)

    return asyncio.run(go()), transport


@pytest.mark.parametrize("amount", [Decimal("10"), None], ids=["partial", "full"])
def test_async_standard_refund_takes_two_round_trips_and_four_requests(amount: Decimal | None) -> None:
    fake = FakeWix()
    fake.latency = LATENCY
    oid = fake.add_order(total="100")
    outcome, transport = _run(fake, oid, RefundRequest(amount=amount), kind="async")
    assert outcome.status is OutcomeStatus.COMPLETED
    assert outcome.route is RefundRoute.STANDARD_REFUND
    assert len(fake.requests) == 4
    assert transport.round_trips() == 2
    assert fake.count_writes("refund", oid) == 1


@pytest.mark.parametrize("amount", [Decimal("10"), None], ids=["partial", "full"])
def test_sync_standard_refund_sends_the_same_four_requests_in_turn(amount: Decimal | None) -> None:
    fake = FakeWix()
    fake.latency = LATENCY
    oid = fake.add_order(total="100")
    outcome, transport = _run(fake, oid, RefundRequest(amount=amount), kind="sync")
    assert outcome.status is OutcomeStatus.COMPLETED
    assert len(fake.requests) == 4
    assert transport.round_trips() == 4


def test_old_order_is_cancelled_without_using_the_refundability_read_with_its_order() -> None:
    fake = FakeWix()
    fake.latency = LATENCY
    oid = fake.add_order(created=OLD)
    outcome, transport = _run(fake, oid, None, kind="async")
    assert (outcome.status, outcome.route) == (OutcomeStatus.COMPLETED, RefundRoute.CANCEL)
    assert [op for op, order, _ in fake.writes if order == oid] == ["cancel"]
    assert transport.round_trips() == 2


def test_refundable_answer_for_an_order_before_the_cutoff_is_not_used() -> None:
    # Wix calls this order refundable, but the caller's cutoff puts it before: it is cancelled.
    fake = FakeWix()
    oid = fake.add_order(created="2024-06-01T12:00:00.000Z")
    cutoff = datetime(2025, 1, 1, tzinfo=timezone.utc)
    outcome, _ = _run(fake, oid, None, kind="async", cutoff=cutoff)
    assert (outcome.status, outcome.route) == (OutcomeStatus.COMPLETED, RefundRoute.CANCEL)
    assert any(r.path == REFUNDABILITY for r in fake.requests)
    assert fake.count_writes("refund", oid) == 0
    assert fake.count_writes("cancel", oid) == 1


@pytest.mark.parametrize("path", [REFUNDABILITY, "/ecom/v1/payments/orders/*"])
def test_failed_speculative_read_of_an_old_order_does_not_fail_its_cancel(path: str) -> None:
    fake = FakeWix()
    oid = fake.add_order(created=OLD)
    fake.fail_next("*", path, 500, times=20)
    outcome, _ = _run(fake, oid, None, kind="async")
    assert (outcome.status, outcome.route) == (OutcomeStatus.COMPLETED, RefundRoute.CANCEL)
    assert fake.count_writes("cancel", oid) == 1


def test_failed_refundability_read_of_a_standard_refund_fails_it_before_any_write() -> None:
    fake = FakeWix()
    oid = fake.add_order(total="100")
    fake.fail_next("POST", REFUNDABILITY, 500, times=20)
    with pytest.raises(WixServerError):
        _run(fake, oid, RefundRequest(amount=Decimal("10")), kind="async")
    assert fake.writes == []


def test_unknown_order_fails_with_the_order_reads_error() -> None:
    fake = FakeWix()
    with pytest.raises(WixNotFound) as caught:
        _run(fake, "0b7cd5c8-0b52-4a39-8d7b-6c0bde0a3e11", None, kind="async")
    assert caught.value.operation == "get_order"
