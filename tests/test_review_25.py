"""Review of issue 25: a 429 on a write, the async speculative reads, the shared rate limit."""

from __future__ import annotations

import asyncio
import contextlib
import pathlib
import sqlite3
from decimal import Decimal

import httpx
import pytest

from wix_refunds import (
    AsyncWixClient,
    OutcomeStatus,
    RefundRequest,
    RetryPolicy,
    SqliteJournal,
    WixCredentials,
    WixOutcomeUnknown,
    refund_orders_async,
)
from wix_refunds.journal._shared_limit import SqliteLimit
from wix_refunds.testing import FakeWix

from .runner import ScriptedTransport, run_refund
from .test_execute import OLD

POLICY = RetryPolicy(backoff=0.01, max_backoff=0.05, settle=0.5, max_retry_after=0.05)


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_a_refund_wix_applied_but_answered_429_is_not_resent_and_ends_unknown_or_done(kind: str) -> None:
    fake = FakeWix()
    oid = fake.add_order(total="35.00")
    transport = ScriptedTransport(fake, writes=["applied429"])
    try:
        outcome = run_refund(kind, fake, oid, RefundRequest(amount="10.00"), transport=transport, policy=POLICY)
        assert outcome.status is OutcomeStatus.COMPLETED
    except WixOutcomeUnknown:
        pass
    assert fake.count_writes("refund", oid) == 1
    assert fake.refunded_total(oid) == Decimal("10.00")


def test_a_batch_refund_wix_applied_but_answered_429_is_not_resent() -> None:
    fake = FakeWix()
    oids = [fake.add_order(total="35.00") for _ in range(3)]
    transport = ScriptedTransport(fake, writes=["applied429", "ok", "applied429"])

    async def go() -> list[object]:
        async with httpx.AsyncClient(transport=transport) as http:
            client = AsyncWixClient(
                fake.credentials, base_url=FakeWix.BASE_URL, http_client=http, retry=POLICY, rate_limit=None
            )
            items = [(oid, RefundRequest(amount="10.00")) for oid in oids]
            return [o async for o in refund_orders_async(client, items)]

    outcomes = asyncio.run(go())
    assert len(outcomes) == 3
    for oid in oids:
        assert fake.count_writes("refund", oid) == 1
        assert fake.refunded_total(oid) == Decimal("10.00")


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_an_old_order_whose_delete_and_cancel_wix_applied_but_answered_429_are_applied_once(kind: str) -> None:
    fake = FakeWix()
    oid = fake.add_order(created=OLD, fulfillments=2)
    transport = ScriptedTransport(fake, writes=["applied429", "ok", "applied429"])
    outcome = run_refund(kind, fake, oid, transport=transport, policy=POLICY)
    assert outcome.status is OutcomeStatus.COMPLETED
    assert fake.count_writes("delete_fulfillment", oid) == 2
    assert fake.count_writes("cancel", oid) == 1
    assert fake.count_writes("refund", oid) == 0


@pytest.mark.parametrize("fail", ["503", "refuse"])
def test_an_old_order_with_fulfilments_async_cancels_though_a_speculative_read_fails(fail: str) -> None:
    fake = FakeWix()
    oid = fake.add_order(created=OLD, fulfillments=1)
    # The first round trip: the order passes, its transactions and refundability fail.
    transport = ScriptedTransport(fake, ["ok", fail, fail, fail, fail, fail, fail, fail])
    outcome = run_refund("async", fake, oid, transport=transport, policy=POLICY)
    assert outcome.status is OutcomeStatus.COMPLETED
    assert fake.count_writes("delete_fulfillment", oid) == 1
    assert fake.count_writes("cancel", oid) == 1
    assert fake.count_writes("refund", oid) == 0
    assert [w[0] for w in fake.writes] == ["delete_fulfillment", "cancel"]


def _limit_row(path: pathlib.Path, starts: str, not_before: object) -> None:
    with contextlib.closing(sqlite3.connect(path)) as connection:
        connection.execute("UPDATE wix_refunds_rate SET starts = ?, not_before = ?", (starts, not_before))
        connection.commit()


@pytest.mark.parametrize(
    ("starts", "not_before"), [("garbage", 0.0), ("1,2,x", 0.0), ("", "abc"), ("", "inf")], ids=str
)
def test_a_corrupted_shared_limit_row_holds_the_store_back_a_window_instead_of_failing_every_request(
    tmp_path: pathlib.Path, starts: str, not_before: object
) -> None:
    path = tmp_path / "journal.sqlite3"
    SqliteLimit(path, "k", 3, 1.0).reserve()
    _limit_row(path, starts, not_before)
    waits = [SqliteLimit(path, "k", 3, 1.0).reserve() for _ in range(4)]
    # No error, no burst: the first waits a window (as if three had just started), then one a window.
    assert all(0.9 < wait < 1.2 for wait in waits[:3])
    assert waits[3] > 2.0


def test_a_nan_not_before_does_not_make_the_shared_limit_ignore_retry_after(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "journal.sqlite3"
    SqliteLimit(path, "k", 100, 1.0).reserve()
    _limit_row(path, "", "nan")
    limit = SqliteLimit(path, "k", 100, 1.0)
    limit.reserve()
    limit.hold_off(30.0)
    # Another process of the store, after the 429: it waits out the Retry-After.
    assert SqliteLimit(path, "k", 100, 1.0).reserve() > 25.0


def test_the_shared_limit_keeps_no_api_key_and_two_stores_on_one_journal_have_their_own_windows(
    tmp_path: pathlib.Path,
) -> None:
    journal = SqliteJournal(tmp_path / "journal.sqlite3")
    account = "33333333-3333-3333-3333-333333333333"
    site_one, site_two = "11111111-1111-1111-1111-111111111111", "22222222-2222-2222-2222-222222222222"
    one = WixCredentials(api_key="KEY-CANARY-one-" + "x" * 40, site_id=site_one, account_id=account)
    two = WixCredentials(api_key="KEY-CANARY-two-" + "y" * 40, site_id=site_two, account_id=account)
    first, second = journal.shared_limit(one, (2, 30.0)), journal.shared_limit(two, (2, 30.0))
    assert max(first.reserve() for _ in range(2)) < 0.01
    assert max(second.reserve() for _ in range(2)) < 0.01
    assert first.reserve() > 25.0
    first.hold_off(100.0)
    assert second.reserve() < 40.0
    for file in tmp_path.iterdir():
        assert b"CANARY" not in file.read_bytes()
