"""Inside an order service: outcomes carry their request and context, logs carry fields,
spans follow each refund and call, and a refund Wix holds pending can be followed to its end."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import logging
import sys
from decimal import Decimal
from typing import Any

import httpx
import pytest

from wix_refunds import (
    AsyncWixClient,
    InvalidRequest,
    OutcomeStatus,
    RefundRequest,
    RefundState,
    WixClient,
    refund_orders_async,
    refund_status,
    refund_status_async,
)
from wix_refunds.client import LOG_FIELDS
from wix_refunds.testing import FakeWix

from .clients import CREDENTIALS, Sleeps, fast_policy
from .runner import run_refund

TEN = Decimal("10")


def batch(fake: FakeWix, items: list[Any], **kwargs: Any) -> list[Any]:
    async def go() -> list[Any]:
        async with httpx.AsyncClient(transport=fake.transport()) as http:
            client = AsyncWixClient(
                fake.credentials,
                base_url=FakeWix.BASE_URL,
                http_client=http,
                retry=fast_policy(Sleeps()),
                rate_limit=None,
            )
            return [o async for o in refund_orders_async(client, items, **kwargs)]

    return asyncio.run(go())


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_outcome_carries_its_request_and_the_callers_context(kind: str) -> None:
    fake = FakeWix()
    oid = fake.add_order(total="100")
    request = RefundRequest(amount=TEN, reason="late")
    context = {"refund_request_id": 881, "ticket": "T-9"}
    outcome = run_refund(kind, fake, oid, request, context=context)
    assert outcome.request == request
    assert outcome.context is context
    data = outcome.to_dict()
    assert data["request"] == {
        "amount": "10.00",
        "reason": "late",
        "reference": None,
        "restock": False,
        "notify_customer": False,
    }
    assert data["context"] == context
    assert data["reference"] == outcome.reference  # the reference the call made
    json.dumps(data)


def test_two_requests_for_one_order_in_a_batch_are_told_apart_by_request_and_context() -> None:
    fake = FakeWix()
    oid = fake.add_order(total="100")
    items = [
        (oid, RefundRequest(amount=TEN, reference="a"), "first"),
        (oid, RefundRequest(amount=Decimal("5"), reference="b"), "second"),
        (fake.add_order(), None),
    ]
    outcomes = batch(fake, items)
    by_context = {o.context: o for o in outcomes}
    assert by_context["first"].request.reference == "a"
    assert (by_context["first"].refunded, by_context["second"].refunded) == (TEN, Decimal("5"))
    assert by_context[None].request is None


def test_a_failed_item_keeps_its_request_and_context() -> None:
    fake = FakeWix()
    outcomes = batch(fake, [("not-an-id", RefundRequest(amount=TEN), {"id": 1})])
    (outcome,) = outcomes
    assert (outcome.status, outcome.context, outcome.request.amount) == (OutcomeStatus.FAILED, {"id": 1}, TEN)
    assert outcome.to_dict()["error"]["type"] == "InvalidRequest"


def test_every_log_record_carries_the_fields_a_service_indexes(caplog: pytest.LogCaptureFixture) -> None:
    fake = FakeWix()
    oid = fake.add_order(total="100")
    fake.fail_next("GET", "/ecom/v1/payments/orders/*", 503)
    with caplog.at_level(logging.DEBUG, logger="wix_refunds"):
        outcome = run_refund("sync", fake, oid, RefundRequest(amount=TEN))
    records = [r for r in caplog.records if r.name == "wix_refunds"]
    assert records
    for record in records:
        for name in LOG_FIELDS:
            assert hasattr(record, name), (name, record.getMessage())
    retry = next(r.__dict__ for r in records if r.levelno == logging.WARNING)
    assert (retry["order_id"], retry["step"], retry["attempt"], retry["status"]) == (oid, "list_transactions", 1, 503)
    step = next(r.__dict__ for r in records if r.levelno == logging.INFO)
    assert (step["order_id"], step["route"], step["step"], step["reference"]) == (
        oid,
        "STANDARD_REFUND",
        "refund_payments",
        outcome.reference,
    )
    assert fake.api_key not in caplog.text


def test_a_batch_failure_is_logged_once_and_at_most_at_info(caplog: pytest.LogCaptureFixture) -> None:
    fake = FakeWix()
    refused = fake.add_order(payments="refund_disabled")
    with caplog.at_level(logging.DEBUG, logger="wix_refunds"):
        (outcome,) = batch(fake, [(refused, None)])
    assert outcome.status is OutcomeStatus.FAILED
    failures = [r for r in caplog.records if "failed" in r.getMessage() and refused in r.getMessage()]
    assert len(failures) == 1
    assert failures[0].levelno == logging.INFO
    assert failures[0].__dict__["order_id"] == refused
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_spans_follow_each_refund_and_each_wix_call() -> None:
    pytest.importorskip("opentelemetry.sdk")
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    fake = FakeWix()
    oid = fake.add_order(total="100")
    outcome = run_refund("async", fake, oid, RefundRequest(amount=TEN))
    spans = {s.name: s for s in exporter.get_finished_spans()}
    assert set(spans) >= {
        "wix_refunds.refund",
        "wix_refunds.get_order",
        "wix_refunds.list_transactions",
        "wix_refunds.get_refundability",
        "wix_refunds.refund_payments",
    }
    refund = spans["wix_refunds.refund"].attributes or {}
    assert refund["wix_refunds.order_id"] == oid
    assert refund["wix_refunds.route"] == "STANDARD_REFUND"
    assert refund["wix_refunds.reference"] == outcome.reference
    assert refund["wix_refunds.outcome"] == "COMPLETED"
    call = spans["wix_refunds.refund_payments"]
    assert (call.attributes or {})["wix_refunds.attempt"] == 1
    assert call.parent is not None
    assert call.parent.span_id == spans["wix_refunds.refund"].context.span_id


def _client(fake: FakeWix, http: httpx.Client) -> WixClient:
    return WixClient(fake.credentials, base_url=FakeWix.BASE_URL, http_client=http, rate_limit=None)


@pytest.mark.parametrize("ending", ["SUCCEEDED", "FAILED"])
def test_a_pending_refund_is_followed_to_its_end_by_its_reference(ending: str) -> None:
    fake = FakeWix()
    oid = fake.add_order(total="100")
    fake.refund_status = "PENDING"
    outcome = run_refund("sync", fake, oid, RefundRequest(amount=TEN, reference="q-1"))
    assert outcome.status is OutcomeStatus.PENDING
    with httpx.Client(transport=fake.transport()) as http:
        pending = refund_status(_client(fake, http), oid, "q-1")
        assert (pending.state, pending.pending, pending.succeeded) == (RefundState.PENDING, TEN, Decimal(0))
        fake.finish_refunds(oid, ending)
        later = refund_status(_client(fake, http), oid, "q-1")
    assert later.state is RefundState(ending)
    assert (later.succeeded if ending == "SUCCEEDED" else later.failed) == TEN
    assert later.to_dict()["succeeded" if ending == "SUCCEEDED" else "failed"] == "10.00"
    assert fake.writes == [w for w in fake.writes if w[0] == "refund"]  # following wrote nothing new


def test_refund_status_async_finds_nothing_for_an_unknown_reference_and_checks_its_input() -> None:
    fake = FakeWix()
    oid = fake.add_order()

    async def go() -> Any:
        async with httpx.AsyncClient(transport=fake.transport()) as http:
            client = AsyncWixClient(fake.credentials, base_url=FakeWix.BASE_URL, http_client=http, rate_limit=None)
            with pytest.raises(InvalidRequest, match="reference"):
                await refund_status_async(client, oid, "bad reference!")
            return await refund_status_async(client, oid, "never-used")

    report = asyncio.run(go())
    assert report.state is RefundState.NOT_FOUND
    assert report.refunds == ()


def test_without_sniffio_its_lookup_is_answered_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "sniffio" else real(name, *a))
    saved = sys.modules.pop("sniffio", None)
    try:
        AsyncWixClient(CREDENTIALS, http_client=httpx.AsyncClient())
        entry: object = sys.modules["sniffio"]  # None: recorded as absent
        assert entry is None
        with pytest.raises(ImportError):
            importlib.import_module("sniffio")
    finally:
        sys.modules.pop("sniffio", None)
        if saved is not None:
            sys.modules["sniffio"] = saved
