from __future__ import annotations

import asyncio
import logging
import threading
from decimal import Decimal
from typing import Any

import attrs
import httpx
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from wix_refunds import (
    AsyncWixClient,
    InvalidRequest,
    OutcomeStatus,
    RefundNotSupported,
    RefundRequest,
    RefundRoute,
    WixClient,
    WixNotFound,
    WixOutcomeUnknown,
    WixRefundError,
    refund_order,
    refund_order_async,
    refund_orders_async,
)
from wix_refunds.core import OrderStatus, PaymentStatus, WixInvalidResponse, WixPreconditionFailed
from wix_refunds.testing import FakeWix

from .clients import Sleeps, fast_policy
from .runner import Crash, ScriptedTransport, run_refund

KINDS = ["sync", "async"]
OLD = "2024-03-01T10:00:00.000Z"

# name: (add_order keywords, request, route, happy-path calls as (method, path glob))
CASES: dict[str, tuple[dict[str, Any], RefundRequest | None, RefundRoute, list[tuple[str, str]]]] = {
    "cancel": (
        {"created": OLD},
        None,
        RefundRoute.CANCEL,
        [("GET", "/ecom/v1/orders/*"), ("POST", "/ecom/v1/orders/*/cancel")],
    ),
    "unfulfill_then_cancel": (
        {"created": OLD, "fulfillments": 2},
        RefundRequest(restock=True),
        RefundRoute.UNFULFILL_THEN_CANCEL,
        [
            ("GET", "/ecom/v1/orders/*"),
            ("GET", "/ecom/v1/fulfillments/orders/*"),
            ("DELETE", "/ecom/v1/fulfillments/*"),
            ("DELETE", "/ecom/v1/fulfillments/*"),
            ("POST", "/ecom/v1/orders/*/cancel"),
        ],
    ),
    "standard_online_and_offline": (
        {"payments": [("20", "online"), ("15.00", "offline")]},
        None,
        RefundRoute.STANDARD_REFUND,
        [
            ("GET", "/ecom/v1/orders/*"),
            ("GET", "/ecom/v1/payments/orders/*"),
            ("POST", "/ecom/v1/order-billing/get-order-refundability"),
            ("POST", "/ecom/v1/order-billing/refund-payments"),
        ],
    ),
    "standard_partial_with_reference": (
        {"total": "100", "payments": [("60", "online"), ("40", "online")]},
        RefundRequest(amount=Decimal("30"), reference="ticket-7"),
        RefundRoute.STANDARD_REFUND,
        [
            ("GET", "/ecom/v1/orders/*"),
            ("GET", "/ecom/v1/payments/orders/*"),
            ("POST", "/ecom/v1/order-billing/get-order-refundability"),
            ("POST", "/ecom/v1/order-billing/refund-payments"),
        ],
    ),
}
# The async driver reads a standard refund's transactions and refundability with the
# order, before the route is known (``_speculate``); another route does not use them.
SPECULATIVE = [("GET", "/ecom/v1/payments/orders/*"), ("POST", "/ecom/v1/order-billing/get-order-refundability")]


def calls_of(kind: str, route: RefundRoute, calls: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Return the calls ``kind``'s driver makes for a route whose happy path is ``calls``."""
    if kind == "async" and route is not RefundRoute.STANDARD_REFUND:
        return [calls[0], *SPECULATIVE, *calls[1:]]
    return calls


def index_of(kind: str, route: RefundRoute, index: int) -> int:
    """Return where call ``index`` of a happy path comes in ``kind``'s requests."""
    return index + 2 if kind == "async" and route is not RefundRoute.STANDARD_REFUND and index > 0 else index


WRITES = {
    "POST /ecom/v1/orders/*/cancel",
    "DELETE /ecom/v1/fulfillments/*",
    "POST /ecom/v1/order-billing/refund-payments",
}


def expected_refund(fake: FakeWix, order_id: str, request: RefundRequest | None) -> Decimal:
    if request is not None and request.amount is not None:
        return request.amount
    return sum((Decimal(p["amount"]["amount"]) for p in fake.payments[order_id]), Decimal(0))


def assert_done_exactly_once(fake: FakeWix, order_id: str, route: RefundRoute, request: RefundRequest | None) -> None:
    """The order ends cancelled once, every fulfilment deleted once, and refunded exactly what was asked."""
    writes = [(op, target) for op, oid, target in fake.writes if oid == order_id]
    if route is RefundRoute.STANDARD_REFUND:
        assert fake.refunded_total(order_id) == expected_refund(fake, order_id, request)
        assert fake.count_writes("cancel", order_id) == 0
        return
    assert fake.orders[order_id]["status"] == "CANCELED"
    assert fake.count_writes("cancel", order_id) == 1
    assert fake.fulfillments[order_id] == []
    deleted = [target for op, target in writes if op == "delete_fulfillment"]
    assert len(deleted) == len(set(deleted))
    assert writes[-1][0] == "cancel"
    assert fake.refunded_total(order_id) == 0


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("case", list(CASES))
def test_every_route_completes_with_the_minimum_calls_and_a_rerun_finds_it_done(kind: str, case: str) -> None:
    fake = FakeWix()
    keywords, request, route, calls = CASES[case]
    calls = calls_of(kind, route, calls)
    oid = fake.add_order(**keywords)
    outcome = run_refund(kind, fake, oid, request)
    assert (outcome.status, outcome.route) == (OutcomeStatus.COMPLETED, route)
    assert [(r.method, r.path) for r in fake.requests] == [
        (r.method, r.path) for r, (m, p) in zip(fake.requests, calls) if r.method == m and _glob(r.path, p)
    ]
    assert len(fake.requests) == len(calls)
    assert_done_exactly_once(fake, oid, route, request)
    again = run_refund(kind, fake, oid, request)
    assert again.status is OutcomeStatus.ALREADY_DONE
    assert again.steps == ()
    assert_done_exactly_once(fake, oid, route, request)


def _glob(path: str, pattern: str) -> bool:
    import fnmatch

    return fnmatch.fnmatchcase(path, pattern)


class Overlaps(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """FakeWix's transport, noting which requests were in flight together (each async one takes 20 ms)."""

    def __init__(self, fake: FakeWix) -> None:
        self.inner = fake.transport()
        self.flying: set[str] = set()
        self.together: list[frozenset[str]] = []

    def _start(self, request: httpx.Request) -> str:
        name = f"{request.method} {request.url.path.split('/')[3]}"
        self.flying.add(name)
        if len(self.flying) > 1:
            self.together.append(frozenset(self.flying))
        return name

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        name = self._start(request)
        try:
            return self.inner.handle_request(request)
        finally:
            self.flying.discard(name)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        name = self._start(request)
        try:
            await asyncio.sleep(0.02)
            return await self.inner.handle_async_request(request)
        finally:
            self.flying.discard(name)


@pytest.mark.parametrize("kind", KINDS)
def test_async_standard_refund_reads_order_transactions_and_refundability_at_once_sync_in_turn(kind: str) -> None:
    fake = FakeWix()
    oid = fake.add_order(total="100")
    transport = Overlaps(fake)
    outcome = run_refund(kind, fake, oid, RefundRequest(amount=Decimal("10")), transport=transport)
    assert outcome.status is OutcomeStatus.COMPLETED
    assert [r.path.split("/")[3] for r in fake.requests] == ["orders", "payments", "order-billing", "order-billing"]
    # One round trip before the refund instead of three, in the async driver only; the
    # write never flies beside a read.
    reads = frozenset({"GET orders", "GET payments", "POST order-billing"})
    if kind == "async":
        assert reads in transport.together
        assert all(together <= reads for together in transport.together)
    else:
        assert transport.together == []


def test_a_failed_side_by_side_read_fails_the_refund_as_a_failed_read_does() -> None:
    fake = FakeWix()
    oid = fake.add_order(total="100")
    fake.fail_next("POST", "/ecom/v1/order-billing/get-order-refundability", 403)
    with pytest.raises(WixRefundError, match="403"):
        run_refund("async", fake, oid, RefundRequest(amount=Decimal("10")))
    assert fake.writes == []


def test_outcome_reports_steps_amount_and_final_status() -> None:
    fake = FakeWix()
    oid = fake.add_order(total="50", payments=[("30", "online"), ("20", "offline")])
    outcome = run_refund("sync", fake, oid, RefundRequest(amount=Decimal("40"), reason="damaged"))
    # Money moved through Wix apart from what was only recorded (the offline payment).
    assert (outcome.refunded, outcome.refunded_outside_wix) == (Decimal("30"), Decimal("10"))
    assert outcome.final_payment_status is PaymentStatus.PARTIALLY_REFUNDED
    (step,) = outcome.steps
    assert (step.action, step.target, step.attempts, step.result, step.amount, step.outside_wix) == (
        "refund_payments",
        oid,
        1,
        "done",
        Decimal("40"),
        Decimal("10"),
    )
    refund = fake.refunds[oid][0]
    assert [(t["amount"]["amount"], t["externalRefund"]) for t in refund["transactions"]] == [
        ("30.0", False),
        ("10.0", True),
    ]
    assert outcome.reference is not None
    assert refund["details"]["reason"] == f"damaged [ref:{outcome.reference}]"
    data = outcome.to_dict()
    assert data["status"] == "COMPLETED"
    assert (data["refunded"], data["refunded_outside_wix"], data["steps"][0]["amount"]) == ("30.00", "10.00", "40.00")
    assert data["reference"] == outcome.reference
    import json

    json.dumps(data)


def test_unfulfil_outcome_lists_each_delete_then_the_cancel() -> None:
    fake = FakeWix()
    oid = fake.add_order(created=OLD, fulfillments=3)
    ids = [f["id"] for f in fake.fulfillments[oid]]
    outcome = run_refund("sync", fake, oid)
    assert [(s.action, s.target) for s in outcome.steps] == [("delete_fulfillment", i) for i in ids] + [
        ("cancel_order", oid)
    ]
    assert outcome.final_status is OrderStatus.CANCELED
    assert len(fake.requests) == 3 + 3


@pytest.mark.parametrize("kind", KINDS)
def test_partial_refund_with_a_reference_is_recognised_on_rerun(kind: str) -> None:
    fake = FakeWix()
    oid = fake.add_order(total="100")
    request = RefundRequest(amount=Decimal("10"), reason="late delivery", reference="case-42")
    assert run_refund(kind, fake, oid, request).status is OutcomeStatus.COMPLETED
    assert fake.refunds[oid][0]["details"]["reason"] == "late delivery [ref:case-42]"
    assert run_refund(kind, fake, oid, request).status is OutcomeStatus.ALREADY_DONE
    assert fake.refunded_total(oid) == Decimal("10")
    other = RefundRequest(amount=Decimal("10"), reference="case-43")
    assert run_refund(kind, fake, oid, other).status is OutcomeStatus.COMPLETED
    assert fake.refunded_total(oid) == Decimal("20")


def test_partial_refund_without_a_reference_is_not_recognised_across_reruns() -> None:
    # Documented: without a reference a re-run cannot tell an earlier partial refund apart.
    fake = FakeWix()
    oid = fake.add_order(total="100")
    for _ in range(2):
        run_refund("sync", fake, oid, RefundRequest(amount=Decimal("10")))
    assert fake.refunded_total(oid) == Decimal("20")


def test_long_reason_is_shortened_but_the_reference_tag_is_kept() -> None:
    fake = FakeWix()
    oid = fake.add_order()
    run_refund("sync", fake, oid, RefundRequest(amount=Decimal("1"), reason="x" * 200, reference="r-" + "9" * 60))
    reason = fake.refunds[oid][0]["details"]["reason"]
    assert len(reason) == 200
    assert reason.endswith(" [ref:r-" + "9" * 60 + "]")


@pytest.mark.parametrize("kind", KINDS)
def test_dry_run_observes_and_plans_but_sends_no_write(kind: str) -> None:
    fake = FakeWix()
    oid = fake.add_order(created=OLD, fulfillments=1)
    outcome = run_refund(kind, fake, oid, dry_run=True)
    assert outcome.status is OutcomeStatus.DRY_RUN
    assert outcome.route is RefundRoute.UNFULFILL_THEN_CANCEL
    assert outcome.steps[0].result == "planned (dry run)"
    assert fake.writes == []
    # Get Order Refundability is a POST that only reads (read speculatively by the async driver).
    assert {r.method for r in fake.requests if not r.path.endswith("/get-order-refundability")} == {"GET"}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    ("payments", "why"),
    [("refund_disabled", "refunds are disabled"), ("manual_gift_card", "could refund 0")],
)
def test_non_refundable_payment_is_refused_with_wix_reason_and_nothing_sent(kind: str, payments: str, why: str) -> None:
    fake = FakeWix()
    oid = fake.add_order(payments=payments if payments != "manual_gift_card" else [("35", "refund_disabled")])
    with pytest.raises(RefundNotSupported, match=why):
        run_refund(kind, fake, oid)
    assert fake.writes == []


def test_refund_above_what_is_left_is_refused_before_sending() -> None:
    fake = FakeWix()
    oid = fake.add_order(total="50", refunded="45")
    with pytest.raises(RefundNotSupported, match="hold only 5"):
        run_refund("sync", fake, oid, RefundRequest(amount=Decimal("10")))
    assert fake.count_writes("refund") == 0


@pytest.mark.parametrize("kind", KINDS)
def test_rules_refusal_and_unknown_order_raise_typed_errors(kind: str) -> None:
    fake = FakeWix()
    unpaid = fake.add_order(payments="none")
    with pytest.raises(RefundNotSupported, match="never paid"):
        run_refund(kind, fake, unpaid)
    with pytest.raises(WixNotFound):
        run_refund(kind, fake, "0c87cd5d-4059-4e86-8f6e-d185b1e4a1bd")
    with pytest.raises(InvalidRequest, match="order_id"):
        run_refund(kind, fake, "../orders")
    assert fake.writes == []


def test_sticky_fulfilled_order_reports_wix_refusal_after_one_reread() -> None:
    fake = FakeWix(sticky_fulfilled=True)
    oid = fake.add_order(created=OLD, fulfillments=1)
    with pytest.raises(WixPreconditionFailed, match="fulfilled"):
        run_refund("sync", fake, oid)
    assert fake.count_writes("delete_fulfillment", oid) == 1
    assert fake.count_writes("cancel", oid) == 0
    assert len(fake.calls(method="POST", path="/ecom/v1/orders/*/cancel")) == 2


def test_each_step_is_logged_at_info_without_the_key(caplog: pytest.LogCaptureFixture) -> None:
    fake = FakeWix()
    oid = fake.add_order(created=OLD, fulfillments=1)
    with caplog.at_level(logging.DEBUG):
        run_refund("sync", fake, oid)
    infos = [r.getMessage() for r in caplog.records if r.name == "wix_refunds" and r.levelno == logging.INFO]
    assert len(infos) == 2
    assert all(oid in m and "UNFULFILL_THEN_CANCEL" in m for m in infos)
    assert "delete_fulfillment" in infos[0]
    assert "cancel_order" in infos[1]
    assert fake.api_key not in caplog.text


# --- the fault matrix --------------------------------------------------------------


def _matrix() -> list[tuple[str, int, str]]:
    rows = []
    for name, (_, _, _, calls) in CASES.items():
        for index, (method, path) in enumerate(calls):
            if f"{method} {path}" in WRITES:
                rows += [(name, index, fault) for fault in ("refuse", "503", "429", "lose")]
    return rows


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("case", "index", "fault"), _matrix())
def test_fault_on_a_write_still_ends_exactly_once(kind: str, case: str, index: int, fault: str) -> None:
    fake = FakeWix()
    keywords, request, route, _ = CASES[case]
    oid = fake.add_order(**keywords)
    transport = ScriptedTransport(fake, ["ok"] * index_of(kind, route, index) + [fault])
    if fault in ("503", "429") and route is RefundRoute.STANDARD_REFUND:
        # A 5xx or a 429 after sending leaves a refund's outcome unknown: it is never resent in the
        # call; after the settle window the call names the reference, and a re-run with it
        # refunds exactly once.
        with pytest.raises(WixOutcomeUnknown) as caught:
            run_refund(kind, fake, oid, request, transport=transport)
        assert fake.count_writes("refund", oid) == 0
        assert caught.value.reference is not None
        request = attrs.evolve(request or RefundRequest(), reference=caught.value.reference)
        transport = ScriptedTransport(fake, [])
    outcome = run_refund(kind, fake, oid, request, transport=transport)
    assert outcome.status is OutcomeStatus.COMPLETED
    assert_done_exactly_once(fake, oid, route, request)
    if fault == "lose" or (fault in ("503", "429") and route is not RefundRoute.STANDARD_REFUND):
        assert any("re-reading" in s.result for s in outcome.steps)


def _crash_points() -> list[tuple[str, int, str]]:
    return [
        (name, index, fault)
        for name, (_, _, _, calls) in CASES.items()
        for index in range(len(calls))
        for fault in ("crash", "crash_after")
    ]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("case", "index", "fault"), _crash_points())
def test_process_stopping_between_steps_then_rerun_ends_exactly_once(
    kind: str, case: str, index: int, fault: str
) -> None:
    fake = FakeWix()
    keywords, request, route, _ = CASES[case]
    oid = fake.add_order(**keywords)
    script = ["ok"] * index_of(kind, route, index) + [fault]
    with pytest.raises(Crash):
        run_refund(kind, fake, oid, request, transport=ScriptedTransport(fake, script))
    outcome = run_refund(kind, fake, oid, request)
    assert outcome.status in (OutcomeStatus.COMPLETED, OutcomeStatus.ALREADY_DONE)
    assert_done_exactly_once(fake, oid, route, request)


# --- random fault schedules -----------------------------------------------------------

FAULTS = st.sampled_from(["ok", "refuse", "503", "429", "lose", "crash", "crash_after"])


class FaultSchedules(RuleBasedStateMachine):
    """Refund attempts under random faults; a final clean run must leave it done exactly once."""

    @initialize(case=st.sampled_from(list(CASES)), kind=st.sampled_from(KINDS))
    def start(self, case: str, kind: str) -> None:
        self.fake = FakeWix()
        keywords, self.request, self.route, _ = CASES[case]
        self.order_id = self.fake.add_order(**keywords)
        self.kind = kind
        self.asked = expected_refund(self.fake, self.order_id, self.request)

    @rule(reads=st.lists(FAULTS, max_size=6), writes=st.lists(FAULTS, min_size=1, max_size=4))
    def attempt(self, reads: list[str], writes: list[str]) -> None:
        transport = ScriptedTransport(self.fake, reads, writes=writes)
        try:
            run_refund(self.kind, self.fake, self.order_id, self.request, transport=transport)
        except Crash:
            pass
        except WixRefundError:  # a typed give-up (e.g. retries spent) is fine: the run is repeated
            pass

    @invariant()
    def never_more_than_once(self) -> None:
        if not hasattr(self, "fake"):
            return
        fake, oid = self.fake, self.order_id
        assert fake.refunded_total(oid) <= self.asked
        assert fake.count_writes("cancel", oid) <= 1
        deleted = [t for op, o, t in fake.writes if op == "delete_fulfillment" and o == oid]
        assert len(deleted) == len(set(deleted))
        if fake.count_writes("cancel", oid):
            assert fake.fulfillments[oid] == []

    def teardown(self) -> None:
        if not hasattr(self, "fake"):
            return
        outcome = run_refund(self.kind, self.fake, self.order_id, self.request)
        assert outcome.status in (OutcomeStatus.COMPLETED, OutcomeStatus.ALREADY_DONE)
        assert_done_exactly_once(self.fake, self.order_id, self.route, self.request)


FaultSchedules.TestCase.settings = settings(
    max_examples=1000,
    stateful_step_count=4,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_random_fault_schedules_never_refund_twice_or_lose_a_refund = FaultSchedules.TestCase


# --- concurrency ------------------------------------------------------------------


@pytest.mark.parametrize("amount", [None, Decimal("10")])
def test_twenty_threads_refunding_the_same_order_give_one_refund(amount: Decimal | None) -> None:
    fake = FakeWix()
    oid = fake.add_order(total="100")
    request = RefundRequest(amount=amount, reference="same-ticket")
    statuses: list[OutcomeStatus] = []
    with httpx.Client(transport=fake.transport()) as http:
        client = WixClient(fake.credentials, base_url=FakeWix.BASE_URL, http_client=http, rate_limit=None)

        def go() -> None:
            statuses.append(refund_order(client, oid, request).status)

        threads = [threading.Thread(target=go) for _ in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert fake.count_writes("refund", oid) == 1
    assert sorted(statuses) == sorted([OutcomeStatus.COMPLETED] + [OutcomeStatus.ALREADY_DONE] * 19)


def test_twenty_tasks_refunding_the_same_order_give_one_refund() -> None:
    fake = FakeWix()
    oid = fake.add_order(total="100")
    fake.latency = 0.002
    request = RefundRequest(amount=Decimal("10"), reference="same-ticket")

    async def go() -> list[OutcomeStatus]:
        async with httpx.AsyncClient(transport=fake.transport()) as http:
            client = AsyncWixClient(fake.credentials, base_url=FakeWix.BASE_URL, http_client=http, rate_limit=None)
            outcomes = await asyncio.gather(*(refund_order_async(client, oid, request) for _ in range(20)))
            return [o.status for o in outcomes]

    statuses = asyncio.run(go())
    assert fake.count_writes("refund", oid) == 1
    assert statuses.count(OutcomeStatus.COMPLETED) == 1


# --- batches ------------------------------------------------------------------------


def test_batch_yields_every_outcome_and_one_failure_does_not_stop_the_others() -> None:
    fake = FakeWix()
    good = [fake.add_order(created=OLD, fulfillments=i % 3) for i in range(12)] + [fake.add_order() for _ in range(12)]
    refused = fake.add_order(payments="refund_disabled")
    missing = "0c87cd5d-4059-4e86-8f6e-d185b1e4a1bd"
    pairs = [(oid, None) for oid in good] + [(refused, None), (missing, None), ("not-an-id", None)]
    fake.fail_next("GET", "/ecom/v1/orders/*", 429, times=3, retry_after=0)

    async def go() -> list[Any]:
        async with httpx.AsyncClient(transport=fake.transport()) as http:
            client = AsyncWixClient(
                fake.credentials,
                base_url=FakeWix.BASE_URL,
                http_client=http,
                retry=fast_policy(Sleeps()),
                rate_limit=None,
            )
            return [o async for o in refund_orders_async(client, iter(pairs), concurrency=5)]

    outcomes = asyncio.run(go())
    by_id = {o.order_id: o for o in outcomes}
    assert len(outcomes) == len(pairs)
    assert all(by_id[oid].status is OutcomeStatus.COMPLETED for oid in good)
    assert isinstance(by_id[refused].error, RefundNotSupported)
    assert by_id[refused].route is RefundRoute.STANDARD_REFUND
    assert isinstance(by_id[missing].error, WixNotFound)
    assert isinstance(by_id["not-an-id"].error, InvalidRequest)
    assert all(by_id[i].status is OutcomeStatus.FAILED for i in (refused, missing, "not-an-id"))
    assert by_id[missing].to_dict()["error"]["type"] == "WixNotFound"


def test_batch_accepts_an_async_source_and_stops_cleanly_when_the_caller_stops() -> None:
    fake = FakeWix()
    ids = [fake.add_order() for _ in range(10)]

    async def source() -> Any:
        for oid in ids:
            yield oid, RefundRequest(amount=Decimal("1"), reference="b1")

    async def go() -> int:
        async with httpx.AsyncClient(transport=fake.transport()) as http:
            client = AsyncWixClient(fake.credentials, base_url=FakeWix.BASE_URL, http_client=http, rate_limit=None)
            seen = 0
            stream = refund_orders_async(client, source(), concurrency=2)
            async for _ in stream:
                seen += 1
                if seen == 3:
                    break
            await stream.aclose()  # type: ignore[attr-defined]
            at_close = fake.count_writes("refund")
            await asyncio.sleep(0.05)
            assert fake.count_writes("refund") == at_close  # no worker goes on after the caller stopped
            return seen

    assert asyncio.run(go()) == 3
    assert fake.count_writes("refund") < len(ids)


@pytest.mark.parametrize("kind", KINDS)
def test_an_order_wix_dates_outside_the_years_python_holds_is_a_typed_error_and_nothing_is_sent(kind: str) -> None:
    fake = FakeWix()
    oid = fake.add_order(created="0001-01-01T00:00:00+01:00")
    with pytest.raises(WixInvalidResponse) as caught:
        run_refund(kind, fake, oid)
    assert caught.value.field == "order.createdDate"
    assert fake.writes == []


@pytest.mark.parametrize("kind", KINDS)
def test_restock_on_a_money_only_standard_refund_is_refused_before_any_write(kind: str) -> None:
    # Regression: it sent no restock and came back COMPLETED as if it had restocked.
    fake = FakeWix()
    oid = fake.add_order(total="35")
    with pytest.raises(InvalidRequest, match="name the items to restock"):
        run_refund(kind, fake, oid, RefundRequest(amount=Decimal(5), restock=True))
    assert fake.writes == []
