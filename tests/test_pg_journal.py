"""PostgresJournal's own promises, on real servers of the tests' own (see pg_server.py).

Many orders through a small pool under a role allowed 20 connections; a lease taken
over after it expired; the holder's session terminated, and the server restarted,
while its write is in flight; the password never shown. The contract every backend
keeps is in test_journal.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest

from wix_refunds import (
    AsyncWixClient,
    LockUnavailable,
    OutcomeStatus,
    RefundOutcome,
    RefundRequest,
    RetryPolicy,
    refund_order_async,
    refund_orders_async,
)
from wix_refunds.core import JournalError, LockLost
from wix_refunds.journal import EntryState, lock_key
from wix_refunds.testing import FakeWix

from . import pg_server
from .pg_server import PgServer, in_ci
from .runner import run_refund
from .test_journal import entry, record

if not in_ci():
    pytest.importorskip("psycopg")

import psycopg

from wix_refunds.journal.postgres import PostgresJournal

PASSWORD = "pw-CANARY-pg-journal-never-shown-9"
REFUND = "/ecom/v1/order-billing/refund-payments"
TEN = Decimal("10")
ROLE = "wr_fleet"


def new_database(server: PgServer, owner: str = "postgres") -> str:
    """Return the DSN (with a password) of a new database of the server's, owned by ``owner``."""
    name = f"wr_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server.dsn(), autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name} OWNER {owner}")
    return f"postgresql://{owner}:{PASSWORD}@127.0.0.1:{server.port}/{name}"


@pytest.fixture
def dsn(postgres: PgServer) -> str:
    return new_database(postgres)


@pytest.fixture
def fleet_dsn(postgres: PgServer) -> str:
    """Return the DSN of a new database owned by a role the server lets open at most 20 connections."""
    with psycopg.connect(postgres.dsn(), autocommit=True) as admin:
        if not admin.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (ROLE,)).fetchone():
            admin.execute(f"CREATE ROLE {ROLE} LOGIN CONNECTION LIMIT 20")
    return new_database(postgres, ROLE)


@pytest.fixture
def opened() -> Iterator[list[PostgresJournal]]:
    """Return a list whose journals are closed when the test ends."""
    journals: list[PostgresJournal] = []
    yield journals
    for journal in journals:
        journal.close()


def real_policy(settle: float = 10.0) -> RetryPolicy:
    """A policy that really waits (late writes land on a timer), with short backoffs."""
    return RetryPolicy(backoff=0.01, max_backoff=0.05, settle=settle)


def async_client(fake: FakeWix, http: httpx.AsyncClient) -> AsyncWixClient:
    return AsyncWixClient(fake.credentials, base_url=FakeWix.BASE_URL, http_client=http, rate_limit=None)


class PeakSessions:
    """Samples, in a thread, how many sessions a role has open at once; ``most`` is the peak."""

    def __init__(self, admin_dsn: str, role: str) -> None:
        self.admin_dsn, self.role, self.most = admin_dsn, role, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample)

    def _sample(self) -> None:
        with psycopg.connect(self.admin_dsn, autocommit=True) as admin:
            while not self._stop.wait(0.005):
                row = admin.execute("SELECT count(*) FROM pg_stat_activity WHERE usename = %s", (self.role,)).fetchone()
                self.most = max(self.most, int(row[0]) if row else 0)

    def __enter__(self) -> PeakSessions:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def assert_once_each(fake: FakeWix, order_ids: list[str], outcomes: list[RefundOutcome]) -> None:
    assert [o.error for o in outcomes if o.error is not None] == []
    assert {o.status for o in outcomes} == {OutcomeStatus.COMPLETED}
    assert sorted(o.order_id for o in outcomes) == sorted(order_ids)
    assert [oid for oid in order_ids if fake.count_writes("refund", oid) != 1] == []
    assert [oid for oid in order_ids if fake.refunded_total(oid) != TEN] == []


# --- many orders, few connections -------------------------------------------------------


def test_200_orders_in_one_batch_through_a_role_allowed_20_connections_are_each_refunded_once(
    postgres: PgServer, fleet_dsn: str, opened: list[PostgresJournal]
) -> None:
    fake = FakeWix()
    order_ids = [fake.add_order(total="100") for _ in range(200)]
    journal = PostgresJournal(fleet_dsn)
    opened.append(journal)

    async def go() -> list[RefundOutcome]:
        items = [(oid, RefundRequest(amount=TEN, reference=f"b-{oid[:8]}")) for oid in order_ids]
        async with httpx.AsyncClient(transport=fake.transport()) as http:
            return [o async for o in refund_orders_async(async_client(fake, http), items, journal=journal)]

    with PeakSessions(postgres.dsn(), ROLE) as peak:
        outcomes = asyncio.run(go())
    assert_once_each(fake, order_ids, outcomes)
    assert 1 <= peak.most <= journal.pool_size


def test_200_concurrent_refund_order_async_calls_through_a_role_allowed_20_connections_are_each_refunded_once(
    postgres: PgServer, fleet_dsn: str, opened: list[PostgresJournal]
) -> None:
    fake = FakeWix()
    order_ids = [fake.add_order(total="100") for _ in range(200)]
    journal = PostgresJournal(fleet_dsn)
    opened.append(journal)

    async def go() -> list[RefundOutcome]:
        async with httpx.AsyncClient(transport=fake.transport()) as http:
            client = async_client(fake, http)
            return list(
                await asyncio.gather(
                    *(
                        refund_order_async(client, oid, RefundRequest(amount=TEN, reference="c-1"), journal=journal)
                        for oid in order_ids
                    )
                )
            )

    with PeakSessions(postgres.dsn(), ROLE) as peak:
        outcomes = asyncio.run(go())
    assert_once_each(fake, order_ids, outcomes)
    assert 1 <= peak.most <= journal.pool_size


# --- leases ----------------------------------------------------------------------------------


@pytest.fixture
def no_renewal(monkeypatch: pytest.MonkeyPatch) -> None:
    """Stop every PostgresJournal's renewer thread: a lease then lapses ``lease`` seconds after it was taken."""
    monkeypatch.setattr(PostgresJournal, "_renew_all", lambda self, stop: None)


@pytest.mark.usefixtures("no_renewal")
def test_a_lease_taken_over_after_it_expired_makes_the_old_holders_intend_raise_lock_lost(
    dsn: str, opened: list[PostgresJournal]
) -> None:
    old, new = PostgresJournal(dsn, lease=0.3), PostgresJournal(dsn, wait=5)
    opened += [old, new]
    key = lock_key(entry("r-1").site_id, entry("r-1").order_id)
    with old.hold(key) as held:
        time.sleep(0.5)
        with new.hold(key), pytest.raises(LockLost):
            old.intend(entry("r-1"), held, frozenset())
        with pytest.raises(LockLost):
            held.check()
    assert new.entries(entry("r-1").site_id, entry("r-1").order_id) == ()
    # The old holder's release leaves the new one's lease alone: the order is free only now.
    with new.hold(key):
        pass


@pytest.mark.usefixtures("no_renewal")
def test_a_run_whose_lease_was_taken_over_during_its_reads_sends_nothing(
    dsn: str, opened: list[PostgresJournal]
) -> None:
    fake = FakeWix()
    oid = fake.add_order(total="100")
    old, new = PostgresJournal(dsn, lease=0.3), PostgresJournal(dsn, wait=5)
    opened += [old, new]
    inner = fake.transport()
    taken: list[contextlib.AbstractContextManager[object]] = []

    class TakeOverFirst(httpx.BaseTransport):
        """Before the run's first read: its lease lapses and another worker takes the order."""

        def handle_request(self, request: httpx.Request) -> httpx.Response:
            if not taken:
                time.sleep(0.5)
                taken.append(new.hold(lock_key(fake.site_id, oid)))
                taken[0].__enter__()
            return inner.handle_request(request)

    with pytest.raises(LockLost):
        run_refund(
            "sync", fake, oid, RefundRequest(amount=TEN, reference="t-1"), transport=TakeOverFirst(), journal=old
        )
    taken[0].__exit__(None, None, None)
    assert fake.count_writes("refund", oid) == 0
    assert old.entries(fake.site_id, oid) == ()


# --- sessions and servers that go away mid-write --------------------------------------


def _terminate_all(admin_dsn: str, dsn: str) -> int:
    """Terminate every session of ``dsn``'s database; return how many there were."""
    database = psycopg.conninfo.conninfo_to_dict(dsn)["dbname"]
    with psycopg.connect(admin_dsn, autocommit=True) as admin:
        rows = admin.execute(
            "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid()",
            (database,),
        ).fetchall()
    return len(rows)


def _write_in_flight(fake: FakeWix, after: float) -> None:
    """Return once Wix has received a refund it will apply ``after`` seconds later."""
    deadline = time.monotonic() + 10
    while not any(r.path == REFUND and r.outcome == "late" for r in fake.requests):
        assert time.monotonic() < deadline, "the write was never sent"
        time.sleep(0.005)


def _interrupted_write(dsn: str, interrupt: Any) -> None:
    """A holder's write is in flight when ``interrupt()`` runs; another worker runs the same refund at once."""
    fake = FakeWix()
    oid = fake.add_order(total="100")
    fake.apply_late_next("POST", REFUND, after=1.0)
    request = RefundRequest(amount=TEN, reference="int-1")
    first: list[Any] = []

    def holder() -> None:
        try:
            with contextlib.closing(PostgresJournal(dsn)) as journal:
                first.append(run_refund("sync", fake, oid, request, policy=real_policy(), journal=journal))
        except Exception as exc:
            first.append(exc)

    thread = threading.Thread(target=holder)
    thread.start()
    _write_in_flight(fake, 1.0)
    interrupt()
    with contextlib.closing(PostgresJournal(dsn, wait=30)) as journal:
        second = run_refund("sync", fake, oid, request, policy=real_policy(), journal=journal)
    thread.join()
    fake.settle()
    assert (fake.count_writes("refund", oid), fake.refunded_total(oid)) == (1, TEN)
    assert second.status in (OutcomeStatus.ALREADY_DONE, OutcomeStatus.COMPLETED)
    assert isinstance(first[0], RefundOutcome), first[0]
    assert first[0].status is OutcomeStatus.COMPLETED
    with contextlib.closing(PostgresJournal(dsn)) as journal:
        (kept,) = journal.entries(fake.site_id, oid)
    assert (kept.state, kept.attempts) == (EntryState.SETTLED, 1)


def test_a_pooled_session_the_server_ended_while_idle_is_replaced_not_reported_as_a_journal_error(
    postgres: PgServer, dsn: str, opened: list[PostgresJournal]
) -> None:
    journal = PostgresJournal(dsn)
    opened.append(journal)
    record(journal, entry("r-1"))
    assert _terminate_all(postgres.dsn(), dsn) >= 1
    assert [e.reference for e in journal.entries(entry("r-1").site_id, entry("r-1").order_id)] == ["r-1"]


def test_the_holders_sessions_terminated_during_its_write_leave_wix_with_one_refund(
    postgres: PgServer, dsn: str
) -> None:
    _interrupted_write(dsn, lambda: _terminate_all(postgres.dsn(), dsn))


def test_the_server_restarted_during_the_holders_write_leaves_wix_with_one_refund() -> None:
    with contextlib.ExitStack() as stack:
        try:
            server = stack.enter_context(pg_server.running())
        except pg_server.ServerUnavailable as exc:
            if in_ci():
                pytest.fail(f"CI needs a PostgreSQL server: {exc}")
            pytest.skip(f"no PostgreSQL server to test with: {exc}")
        _interrupted_write(new_database(server), server.restart)


# --- secrets ---------------------------------------------------------------------------------


def test_the_password_never_shows_in_repr_name_entries_or_errors(
    dsn: str, caplog: pytest.LogCaptureFixture, opened: list[PostgresJournal]
) -> None:
    journal = PostgresJournal(dsn)
    opened.append(journal)
    record(journal, entry("r-1"))
    shown = [
        repr(journal),
        journal.name,
        journal.masked_dsn,
        *(e.journal for e in journal.entries(entry("r-1").site_id, entry("r-1").order_id)),
    ]
    unreachable = PostgresJournal(f"postgresql://postgres:{PASSWORD}@127.0.0.1:1/postgres", wait=0.2, connect_timeout=1)
    with pytest.raises(JournalError) as read:
        unreachable.entries("s", "o")
    with pytest.raises(LockUnavailable) as locked, unreachable.hold("s:o"):
        pytest.fail("locked without a server")
    shown += [str(read.value), str(locked.value), repr(read.value.__cause__), caplog.text, repr(unreachable)]
    assert [text for text in shown if PASSWORD in text] == []
    assert "***" in journal.masked_dsn
