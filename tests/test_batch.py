"""Batches: requests per route, groups, lock then read, deferral, races, and exactly once under faults."""

from __future__ import annotations

import asyncio
import pathlib
from collections import Counter
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
    LockUnavailable,
    OutcomeStatus,
    RefundOutcome,
    RefundRequest,
    RefundRoute,
    WixOutcomeUnknown,
    refund_orders_async,
)
from wix_refunds.journal import FileLocks, InProcessLocks, OrderLocks, lock_key
from wix_refunds.testing import FakeWix
from wix_refunds.wix._json import is_guid

from .clients import Sleeps, fast_policy
from .runner import Crash, ScriptedTransport
from .test_execute import CASES, OLD, assert_done_exactly_once, expected_refund

SEARCH = "POST /ecom/v1/orders/search"
TRANSACTIONS = "POST /ecom/v1/payments/list-by-ids"
FULFILLMENTS = "POST /ecom/v1/fulfillments/list-by-ids"


def batch(
    fake: FakeWix, items: list[Any], *, transport: Any = None, locks: OrderLocks | None = None, **kwargs: Any
) -> list[RefundOutcome]:
    """Return the outcomes of one batch over FakeWix (a policy that never really sleeps)."""

    async def go() -> list[RefundOutcome]:
        async with httpx.AsyncClient(transport=transport or fake.transport()) as http:
            client = AsyncWixClient(
                fake.credentials,
                base_url=FakeWix.BASE_URL,
                http_client=http,
                retry=fast_policy(Sleeps()),
                rate_limit=None,
            )
            return [o async for o in refund_orders_async(client, items, locks=locks, **kwargs)]

    return asyncio.run(go())


def route_of(request: Any) -> str:
    """Return a logged request as "METHOD path", with IDs replaced by *."""
    parts = ["*" if is_guid(part) else part for part in request.path.split("/")]
    return f"{request.method} {'/'.join(parts)}"


def counts(fake: FakeWix) -> Counter[str]:
    return Counter(route_of(r) for r in fake.requests)


# --- requests per route ---------------------------------------------------------------


def mixed(fake: FakeWix) -> dict[str, list[str]]:
    return {
        "cancel": [fake.add_order(created=OLD) for _ in range(2)],
        "unfulfil": [fake.add_order(created=OLD, fulfillments=n) for n in (1, 2)],
        "standard": [fake.add_order(), fake.add_order(total="35", payments=[("20", "online"), ("15", "offline")])],
        "nothing": [fake.add_order(created=OLD, status="CANCELED")],
    }


def test_a_small_batch_reads_in_three_shared_requests_and_then_pays_only_each_orders_own_work() -> None:
    fake = FakeWix()
    orders = mixed(fake)
    outcomes = batch(fake, [(oid, None) for ids in orders.values() for oid in ids])
    assert {o.status for o in outcomes} == {OutcomeStatus.COMPLETED, OutcomeStatus.ALREADY_DONE}
    assert counts(fake) == {
        SEARCH: 1,
        TRANSACTIONS: 1,  # for the two standard refunds
        FULFILLMENTS: 1,  # for the two orders to unfulfil
        "POST /ecom/v1/order-billing/get-order-refundability": 2,
        "POST /ecom/v1/order-billing/refund-payments": 2,
        "DELETE /ecom/v1/fulfillments/*/orders/*": 3,
        "POST /ecom/v1/orders/*/cancel": 4,
    }
    (listed,) = [r.json for r in fake.calls(method="POST", path="/ecom/v1/payments/list-by-ids")]
    assert listed == {"orderIds": orders["standard"]}
    (search,) = [r.json for r in fake.calls(method="POST", path="/ecom/v1/orders/search")]
    every = [oid for ids in orders.values() for oid in ids]
    assert search == {"search": {"filter": {"id": {"$in": every}}, "cursorPaging": {"limit": 100}}}


def test_group_size_one_reads_every_order_on_its_own_as_today() -> None:
    fake = FakeWix()
    mixed(fake)
    batch(fake, [(oid, None) for oid in list(fake.orders)], group_size=1)
    assert counts(fake) == {
        "GET /ecom/v1/orders/*": 7,
        "GET /ecom/v1/payments/orders/*": 2,
        "GET /ecom/v1/fulfillments/orders/*": 2,
        "POST /ecom/v1/order-billing/get-order-refundability": 2,
        "POST /ecom/v1/order-billing/refund-payments": 2,
        "DELETE /ecom/v1/fulfillments/*/orders/*": 3,
        "POST /ecom/v1/orders/*/cancel": 4,
    }


def test_groups_of_three_read_each_group_after_locking_it() -> None:
    fake = FakeWix()
    ids = [fake.add_order(created=OLD) for _ in range(7)]
    batch(fake, [(oid, None) for oid in ids], group_size=3)
    searched = [r.json["search"]["filter"]["id"]["$in"] for r in fake.calls(method="POST", path="*/search")]
    assert sorted(len(group) for group in searched) == [1, 3, 3]
    assert sorted(oid for group in searched for oid in group) == sorted(ids)
    assert counts(fake)["POST /ecom/v1/orders/*/cancel"] == 7


def test_invalid_group_size_or_max_age_is_refused_before_anything_is_sent() -> None:
    fake = FakeWix()
    for kwargs in ({"group_size": 0}, {"group_size": 101}, {"group_size": True}, {"max_age": -1.0}):
        with pytest.raises(InvalidRequest, match=next(iter(kwargs))):
            batch(fake, [(fake.add_order(), None)], **kwargs)
    assert fake.requests == []


# --- freshness --------------------------------------------------------------------------


def test_what_the_batch_read_longer_ago_than_max_age_is_read_again_before_any_write() -> None:
    fake = FakeWix()
    orders = mixed(fake)
    outcomes = outcomes_by(batch(fake, [(oid, None) for ids in orders.values() for oid in ids], max_age=0.0))
    assert counts(fake)["GET /ecom/v1/orders/*"] == 7
    for kind in ("cancel", "unfulfil", "standard"):
        for oid in orders[kind]:
            outcome = outcomes[oid]
            assert outcome.status is OutcomeStatus.COMPLETED
            assert outcome.route is not None
            assert_done_exactly_once(fake, oid, outcome.route, None)


def outcomes_by(outcomes: list[RefundOutcome]) -> dict[str, RefundOutcome]:
    return {o.order_id: o for o in outcomes}


# --- lock, then read --------------------------------------------------------------------------


class Watching(httpx.AsyncBaseTransport):
    """FakeWix's transport, noting for each request whether ``flag`` was set when it was sent."""

    def __init__(self, fake: FakeWix) -> None:
        self.inner = fake.transport()
        self.flag = False
        self.seen: list[tuple[str, bool]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        self.seen.append((request.url.path + body.decode(), self.flag))
        await asyncio.sleep(0.001)
        return await self.inner.handle_async_request(request)


@pytest.mark.parametrize("kind", ["in_process", "file"])
def test_an_order_another_worker_holds_is_deferred_and_read_only_once_it_is_let_go(
    kind: str, tmp_path: pathlib.Path
) -> None:
    fake = FakeWix()
    held = fake.add_order(total="100")
    others = [fake.add_order() for _ in range(6)]
    locks: OrderLocks = InProcessLocks() if kind == "in_process" else FileLocks(tmp_path)
    transport = Watching(fake)

    async def go() -> list[RefundOutcome]:
        async with httpx.AsyncClient(transport=transport) as http:
            client = AsyncWixClient(
                fake.credentials,
                base_url=FakeWix.BASE_URL,
                http_client=http,
                retry=fast_policy(Sleeps()),
                rate_limit=None,
            )
            items = [(oid, None) for oid in [held, *others]]
            async with locks.hold_async(lock_key(fake.site_id, held)):
                stream = refund_orders_async(client, items, locks=locks, group_size=3, concurrency=2)
                outcomes = [await anext(stream) for _ in others]
                transport.flag = True  # the other worker lets go now
            return outcomes + [o async for o in stream]

    outcomes = outcomes_by(asyncio.run(go()))
    assert outcomes[held].status is OutcomeStatus.COMPLETED  # deferred, not skipped
    assert all(outcomes[oid].status is OutcomeStatus.COMPLETED for oid in others)
    mentions = [after for text, after in transport.seen if held in text]
    assert mentions
    assert all(mentions)  # nothing about it was read, let alone written, while another held it
    assert fake.count_writes("refund", held) == 1


def test_an_order_held_past_the_locks_wait_fails_with_lock_unavailable_and_the_rest_complete() -> None:
    fake = FakeWix()
    held, free = fake.add_order(), fake.add_order()
    locks = InProcessLocks(wait=0.2)

    async def go() -> list[RefundOutcome]:
        async with (
            locks.hold_async(lock_key(fake.site_id, held)),
            httpx.AsyncClient(transport=fake.transport()) as http,
        ):
            client = AsyncWixClient(fake.credentials, base_url=FakeWix.BASE_URL, http_client=http, rate_limit=None)
            return [o async for o in refund_orders_async(client, [(held, None), (free, None)], locks=locks)]

    outcomes = outcomes_by(asyncio.run(go()))
    assert isinstance(outcomes[held].error, LockUnavailable)
    assert outcomes[free].status is OutcomeStatus.COMPLETED
    assert fake.writes == [w for w in fake.writes if w[1] == free]


def racing_items(fake: FakeWix) -> list[tuple[str, RefundRequest | None]]:
    items: list[tuple[str, RefundRequest | None]] = []
    for index in range(4):
        items.append((fake.add_order(created=OLD), None))
        items.append((fake.add_order(created=OLD, fulfillments=2), RefundRequest(restock=True)))
        items.append((fake.add_order(total="100"), RefundRequest(amount=Decimal("10"), reference=f"race-{index}")))
        items.append((fake.add_order(), None))
    return items


@pytest.mark.parametrize("kind", ["in_process", "file"])
def test_two_batches_racing_on_the_same_orders_refund_each_exactly_once(kind: str, tmp_path: pathlib.Path) -> None:
    fake = FakeWix()
    fake.latency = 0.002
    items = racing_items(fake)
    locks: OrderLocks = InProcessLocks() if kind == "in_process" else FileLocks(tmp_path)

    async def go() -> list[list[RefundOutcome]]:
        async with httpx.AsyncClient(transport=fake.transport()) as http:
            client = AsyncWixClient(
                fake.credentials,
                base_url=FakeWix.BASE_URL,
                http_client=http,
                retry=fast_policy(Sleeps()),
                rate_limit=None,
            )

            async def one(order: list[Any]) -> list[RefundOutcome]:
                return [o async for o in refund_orders_async(client, order, locks=locks, group_size=5, concurrency=3)]

            return list(await asyncio.gather(one(items), one(items[::-1])))

    first, second = asyncio.run(go())
    for oid, request in items:
        statuses = sorted(o.status.value for o in first + second if o.order_id == oid)
        assert statuses == ["ALREADY_DONE", "COMPLETED"], oid
        done = next(o for o in first + second if o.order_id == oid and o.status is OutcomeStatus.COMPLETED)
        assert done.route is not None
        assert_done_exactly_once(fake, oid, done.route, request)


def test_a_caller_that_stops_early_leaves_no_order_locked() -> None:
    fake = FakeWix()
    ids = [fake.add_order() for _ in range(30)]

    async def go() -> None:
        async with httpx.AsyncClient(transport=fake.transport()) as http:
            client = AsyncWixClient(fake.credentials, base_url=FakeWix.BASE_URL, http_client=http, rate_limit=None)
            stream = refund_orders_async(client, [(oid, None) for oid in ids], group_size=10, concurrency=2)
            async for _ in stream:
                break
            await stream.aclose()  # type: ignore[attr-defined]

    asyncio.run(go())
    assert len(InProcessLocks._threads) == 0


@pytest.mark.parametrize("group_size", [1, 10])
def test_a_batch_closed_early_has_stopped_its_workers_and_let_go_by_the_time_aclose_returns(group_size: int) -> None:
    # With group_size=1 the workers used to run on, holding locks, until the event loop got
    # round to finalizing an inner generator that aclose() had left open.
    fake = FakeWix()
    ids = [fake.add_order() for _ in range(30)]

    async def go() -> tuple[int, int]:
        async with httpx.AsyncClient(transport=fake.transport()) as http:
            client = AsyncWixClient(fake.credentials, base_url=FakeWix.BASE_URL, http_client=http, rate_limit=None)
            stream = refund_orders_async(client, [(oid, None) for oid in ids], group_size=group_size, concurrency=2)
            async for _ in stream:
                break
            await stream.aclose()  # type: ignore[attr-defined]
            running = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
            return len(running), len(InProcessLocks._threads)

    assert asyncio.run(go()) == (0, 0)


# --- exactly once under faults, as for a single refund ----------------------------------------

# Requests of a one-order batch on the happy path of each case: the shared reads, then its own.
BATCH_CALLS = {
    "cancel": 2,
    "unfulfill_then_cancel": 5,
    "standard_online_and_offline": 4,
    "standard_partial_with_reference": 4,
}
WRITES = {
    "cancel": 1,
    "unfulfill_then_cancel": 3,
    "standard_online_and_offline": 1,
    "standard_partial_with_reference": 1,
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_one_order_batch_makes_the_shared_reads_and_that_orders_own_work(case: str) -> None:
    fake = FakeWix()
    keywords, request, route, _ = CASES[case]
    oid = fake.add_order(**keywords)
    (outcome,) = batch(fake, [(oid, request)])
    assert (outcome.status, outcome.route) == (OutcomeStatus.COMPLETED, route)
    assert len(fake.requests) == BATCH_CALLS[case]
    assert len(fake.writes) == WRITES[case]
    assert_done_exactly_once(fake, oid, route, request)


def neighbours(fake: FakeWix) -> list[tuple[str, None]]:
    """Orders that share the group and write nothing, so that a fault's index counts only the case's writes."""
    return [
        (fake.add_order(created=OLD, status="CANCELED"), None),
        (fake.add_order(created=OLD, status="CANCELED"), None),
    ]


@pytest.mark.parametrize(
    ("case", "index", "fault"),
    [
        (case, index, fault)
        for case in CASES
        for index in range(WRITES[case])
        for fault in ("refuse", "503", "429", "lose")
    ],
)
def test_fault_on_a_write_in_a_batch_still_ends_exactly_once(case: str, index: int, fault: str) -> None:
    fake = FakeWix()
    keywords, request, route, _ = CASES[case]
    oid = fake.add_order(**keywords)
    transport = ScriptedTransport(fake, writes=["ok"] * index + [fault])
    outcome = outcomes_by(batch(fake, [(oid, request), *neighbours(fake)], transport=transport))[oid]
    if fault in ("503", "429") and route is RefundRoute.STANDARD_REFUND:
        assert isinstance(outcome.error, WixOutcomeUnknown)
        assert fake.count_writes("refund", oid) == 0
        assert outcome.error.reference is not None
        request = attrs.evolve(request or RefundRequest(), reference=outcome.error.reference)
        (outcome,) = batch(fake, [(oid, request)])
    assert outcome.status is OutcomeStatus.COMPLETED
    assert_done_exactly_once(fake, oid, route, request)
    if fault == "lose" or (fault in ("503", "429") and route is not RefundRoute.STANDARD_REFUND):
        assert any("re-reading" in s.result for s in outcome.steps)


@pytest.mark.parametrize(
    ("case", "index", "fault"),
    [
        (case, index, fault)
        for case in CASES
        for index in range(BATCH_CALLS[case])
        for fault in ("crash", "crash_after")
    ],
)
def test_process_stopping_anywhere_in_a_batch_then_rerun_ends_exactly_once(case: str, index: int, fault: str) -> None:
    fake = FakeWix()
    keywords, request, route, _ = CASES[case]
    oid = fake.add_order(**keywords)
    with pytest.raises(Crash):
        batch(fake, [(oid, request)], transport=ScriptedTransport(fake, ["ok"] * index + [fault]))
    assert len(InProcessLocks._threads) == 0
    (outcome,) = batch(fake, [(oid, request)])
    assert outcome.status in (OutcomeStatus.COMPLETED, OutcomeStatus.ALREADY_DONE)
    assert_done_exactly_once(fake, oid, route, request)


FAULTS = st.sampled_from(["ok", "refuse", "503", "429", "lose", "crash", "crash_after"])


class BatchFaultSchedules(RuleBasedStateMachine):
    """Batches of every case at once under random faults; a final clean batch must leave each done exactly once."""

    @initialize(group_size=st.sampled_from([1, 2, 100]))
    def start(self, group_size: int) -> None:
        self.fake = FakeWix()
        self.group_size = group_size
        self.items = [(self.fake.add_order(**CASES[case][0]), CASES[case][1], case) for case in CASES]

    @rule(reads=st.lists(FAULTS, max_size=8), writes=st.lists(FAULTS, min_size=1, max_size=5))
    def attempt(self, reads: list[str], writes: list[str]) -> None:
        transport = ScriptedTransport(self.fake, reads, writes=writes)
        try:
            batch(self.fake, self._pairs(), transport=transport, group_size=self.group_size)
        except Crash:
            pass

    def _pairs(self) -> list[tuple[str, RefundRequest | None]]:
        return [(oid, request) for oid, request, _ in self.items]

    @invariant()
    def never_more_than_once(self) -> None:
        if not hasattr(self, "fake"):
            return
        fake = self.fake
        for oid, request, _ in self.items:
            assert fake.refunded_total(oid) <= expected_refund(fake, oid, request)
            assert fake.count_writes("cancel", oid) <= 1
            deleted = [t for op, o, t in fake.writes if op == "delete_fulfillment" and o == oid]
            assert len(deleted) == len(set(deleted))
        assert len(InProcessLocks._threads) == 0

    def teardown(self) -> None:
        if not hasattr(self, "fake"):
            return
        outcomes = outcomes_by(batch(self.fake, self._pairs(), group_size=self.group_size))
        for oid, request, case in self.items:
            outcome = outcomes[oid]
            if isinstance(outcome.error, WixOutcomeUnknown) and outcome.error.reference is not None:
                # A refund left unknown by a fault: a re-run with its reference settles it.
                request = attrs.evolve(request or RefundRequest(), reference=outcome.error.reference)
                (outcome,) = batch(self.fake, [(oid, request)])
            assert outcome.status in (OutcomeStatus.COMPLETED, OutcomeStatus.ALREADY_DONE), outcome.error
            assert_done_exactly_once(self.fake, oid, CASES[case][2], request)


BatchFaultSchedules.TestCase.settings = settings(
    max_examples=150,
    stateful_step_count=3,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_random_faults_on_batches_never_refund_twice_or_lose_a_refund = BatchFaultSchedules.TestCase
