"""The journal's contract, one suite run against every backend: memory, SQLite and PostgreSQL.

Each test gets a journal of its own: MemoryJournal's process table is cleared by
conftest, SQLite lives in ``tmp_path``, and PostgreSQL's two tables are dropped
before the test on the session's server. ``Backend.make()`` opens a new journal
object on the same storage, as another worker would.
"""

from __future__ import annotations

import asyncio
import logging
import os
import pathlib
import threading
import time
from collections.abc import Callable, Iterator
from decimal import Decimal

import attrs
import pytest

from wix_refunds import Journal, LockUnavailable, MemoryJournal, OutcomeStatus, RefundRequest, SqliteJournal
from wix_refunds.core import JournalError
from wix_refunds.journal import EntryState, InProcessLocks, JournalEntry, lock_key
from wix_refunds.journal._journal import asked_of
from wix_refunds.testing import FakeWix

from .clients import Sleeps
from .journal_workers import reference_of, run_intend_and_die, start_refunds
from .pg_server import in_ci
from .runner import run_refund

SITE = "6f3c2a1b-0000-4000-8000-00000000a11c"
ORDER = "0b0a1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d"
KEY = lock_key(SITE, ORDER)
HOLDER = "host elsewhere, pid 4242"
PASSWORD = "pw-CANARY-journal-never-shown-3"
TEN = Decimal("10")


@attrs.frozen
class Backend:
    """One backend under test: its kind, and how to open a journal on its storage."""

    kind: str
    target: str
    opener: Callable[[float], Journal]
    opened: list[Journal] = attrs.Factory(list)

    def make(self, wait: float = 10.0) -> Journal:
        """Return a new journal object on this backend's storage (another worker's view of it)."""
        journal = self.opener(wait)
        self.opened.append(journal)
        return journal

    def close(self) -> None:
        for journal in self.opened:
            close: Callable[[], None] | None = getattr(journal, "close", None)
            if close is not None:
                close()


def fresh_postgres(request: pytest.FixtureRequest) -> str:
    """Return the DSN (with a password) of the session's server, its journal tables dropped."""
    if not in_ci():
        pytest.importorskip("psycopg")
    import psycopg

    dsn: str = request.getfixturevalue("postgres").dsn(PASSWORD)
    with psycopg.connect(dsn, autocommit=True) as admin:
        admin.execute("DROP TABLE IF EXISTS wix_refunds_journal, wix_refunds_locks")
    return dsn


def open_backend(kind: str, request: pytest.FixtureRequest, tmp_path: pathlib.Path) -> Backend:
    if kind == "memory":
        return Backend(kind, "memory", lambda wait: MemoryJournal(locks=InProcessLocks(wait=wait)))
    if kind == "sqlite":
        path = tmp_path / "journal.sqlite3"
        return Backend(kind, str(path), lambda wait: SqliteJournal(path, wait=wait))
    from wix_refunds.journal.postgres import PostgresJournal

    dsn = fresh_postgres(request)
    return Backend(kind, dsn, lambda wait: PostgresJournal(dsn, wait=wait))


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path: pathlib.Path) -> Iterator[Backend]:
    opened = open_backend(request.param, request, tmp_path)
    yield opened
    opened.close()


@pytest.fixture(params=["sqlite", "postgres"])
def durable(request: pytest.FixtureRequest, tmp_path: pathlib.Path) -> Iterator[Backend]:
    opened = open_backend(request.param, request, tmp_path)
    yield opened
    opened.close()


def entry(
    reference: str,
    *,
    site_id: str = SITE,
    order_id: str = ORDER,
    holder: str = HOLDER,
    ago: float = 0.0,
    settle: float = 120.0,
    amount: str = "10",
) -> JournalEntry:
    """Return an intent of ``amount`` under ``reference``, sent ``ago`` seconds ago."""
    return JournalEntry(
        site_id=site_id,
        order_id=order_id,
        reference=reference,
        asked=asked_of(RefundRequest(amount=Decimal(amount))),
        state=EntryState.SENT,
        holder=holder,
        sent_at=time.time() - ago,
        settle=settle,
    )


def record(journal: Journal, intent: JournalEntry, seen: frozenset[tuple[str, int]] = frozenset()) -> JournalEntry:
    """Return ``intent`` as ``journal`` recorded it, under the order's lock."""
    with journal.hold(lock_key(intent.site_id, intent.order_id)) as held:
        return journal.intend(intent, held, seen)


def by_reference(journal: Journal, site_id: str = SITE, order_id: str = ORDER) -> dict[str, JournalEntry]:
    return {e.reference: e for e in journal.entries(site_id, order_id)}


# --- the contract ---------------------------------------------------------------------


def test_an_order_never_written_has_no_entries(backend: Backend) -> None:
    assert backend.make().entries(SITE, ORDER) == ()


def test_an_intent_is_recorded_sent_as_the_first_attempt_with_its_holder_time_window_and_journal(
    backend: Backend,
) -> None:
    journal = backend.make()
    intent = entry("r-1", settle=7.5)
    recorded = record(journal, intent)
    (stored,) = journal.entries(SITE, ORDER)
    for kept in (recorded, stored):
        assert (kept.reference, kept.asked, kept.state, kept.attempts) == ("r-1", intent.asked, EntryState.SENT, 1)
        assert (kept.holder, kept.sent_at, kept.settle) == (HOLDER, intent.sent_at, 7.5)
        assert (kept.refund_id, kept.answer, kept.error) == (None, None, None)
        assert kept.journal == journal.name
    expected = {"memory": "memory", "sqlite": f"sqlite:{backend.target}"}.get(backend.kind)
    assert journal.name == expected if expected else journal.name.startswith("postgresql:")


@pytest.mark.parametrize("ended", [EntryState.REFUSED, EntryState.LAPSED])
def test_a_second_intent_after_a_write_that_did_nothing_counts_a_second_attempt(
    backend: Backend, ended: EntryState
) -> None:
    journal = backend.make()
    first = record(journal, entry("r-1"))
    journal.settle(attrs.evolve(first, state=ended, error="Wix said no"))
    assert by_reference(journal)["r-1"].state is ended
    second = record(journal, entry("r-1", holder="host here, pid 1"))
    stored = by_reference(journal)["r-1"]
    assert (second.attempts, stored.attempts, stored.state) == (2, 2, EntryState.SENT)
    assert (stored.holder, stored.error) == ("host here, pid 1", None)


def test_intend_refuses_a_write_that_may_still_land_and_that_the_run_did_not_see(backend: Backend) -> None:
    journal = backend.make()
    record(journal, entry("other-1", settle=120))
    with pytest.raises(JournalError) as caught:
        record(journal, entry("mine-1", holder="host here, pid 1"))
    assert "other-1" in str(caught.value)
    assert HOLDER in str(caught.value)
    assert set(by_reference(journal)) == {"other-1"}


@pytest.mark.parametrize("why", ["the run saw it", "its window has passed"])
def test_intend_allows_a_write_beside_one_the_run_saw_or_whose_window_has_passed(backend: Backend, why: str) -> None:
    journal = backend.make()
    if why == "the run saw it":
        other = record(journal, entry("other-1", settle=120))
        seen = frozenset({(other.reference, other.attempts)})
    else:
        record(journal, entry("other-1", ago=121, settle=120))
        seen = frozenset()
    mine = record(journal, entry("mine-1", holder="host here, pid 1"), seen)
    assert (mine.state, mine.attempts) == (EntryState.SENT, 1)
    assert set(by_reference(journal)) == {"other-1", "mine-1"}


def test_settle_changes_only_the_attempt_it_names(backend: Backend) -> None:
    journal = backend.make()
    first = record(journal, entry("r-1"))
    journal.settle(attrs.evolve(first, state=EntryState.REFUSED, error="428"))
    second = record(journal, entry("r-1"))
    # The first attempt's late news must not overwrite the second's record.
    journal.settle(attrs.evolve(first, state=EntryState.SETTLED, refund_id="late-1", answer="{}"))
    stored = by_reference(journal)["r-1"]
    assert (stored.attempts, stored.state, stored.refund_id) == (2, EntryState.SENT, None)
    journal.settle(attrs.evolve(second, state=EntryState.SETTLED, refund_id="rf-2", answer="{}"))
    stored = by_reference(journal)["r-1"]
    assert (stored.attempts, stored.state, stored.refund_id, stored.answer) == (2, EntryState.SETTLED, "rf-2", "{}")


def test_site_and_order_ids_compare_without_case(backend: Backend) -> None:
    journal = backend.make()
    record(journal, entry("r-1", site_id=SITE.upper(), order_id=ORDER.upper()))
    for site_id, order_id in [(SITE, ORDER), (SITE.upper(), ORDER.upper()), (SITE.title(), ORDER.lower())]:
        assert set(by_reference(journal, site_id, order_id)) == {"r-1"}
    # And an unseen write in flight under one spelling blocks a write under another.
    with pytest.raises(JournalError, match="r-1"):
        record(journal, entry("r-2", site_id=SITE.lower(), order_id=ORDER.lower()))


def test_a_second_holder_of_an_order_waits_then_gets_lock_unavailable(backend: Backend) -> None:
    first, second = backend.make(), backend.make(wait=0.3)
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with first.hold(KEY):
            held.set()
            release.wait(10)

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        assert held.wait(10)
        started = time.monotonic()
        with pytest.raises(LockUnavailable) as caught, second.hold(KEY):
            pytest.fail("went on without the lock")
        assert time.monotonic() - started >= 0.25
        assert caught.value.key == KEY

        async def waiter() -> None:
            async with second.hold_async(KEY):
                pytest.fail("went on without the lock")

        with pytest.raises(LockUnavailable):
            asyncio.run(waiter())
    finally:
        release.set()
        thread.join()
    with second.hold(KEY):
        pass


def test_an_intent_is_seen_by_a_new_journal_object_on_the_same_storage(backend: Backend) -> None:
    writer = backend.make()
    recorded = record(writer, entry("r-1"))
    close: Callable[[], None] | None = getattr(writer, "close", None)
    if close is not None:
        close()
    assert by_reference(backend.make())["r-1"] == attrs.evolve(recorded, site_id=SITE, order_id=ORDER)


def test_an_intent_outlives_the_process_that_wrote_it(durable: Backend) -> None:
    run_intend_and_die(durable.kind, durable.target, SITE, ORDER, "r-dead")
    (stored,) = durable.make().entries(SITE, ORDER)
    assert (stored.reference, stored.state, stored.attempts) == ("r-dead", EntryState.SENT, 1)
    assert stored.holder.startswith("host worker, pid ")


def test_the_lock_of_a_process_that_died_holding_it_is_taken_at_once_on_its_host(durable: Backend) -> None:
    run_intend_and_die(durable.kind, durable.target, SITE, ORDER, "r-dead")
    journal = durable.make()
    started = time.monotonic()
    with journal.hold(lock_key(SITE, ORDER)):
        pass
    assert time.monotonic() - started < 2.0
    close: Callable[[], None] | None = getattr(journal, "close", None)
    if close is not None:
        close()


# --- end to end over FakeWix --------------------------------------------------------------


def seed_other(journal: Journal, fake: FakeWix, order_id: str, *, ago: float, settle: float) -> None:
    """Record another holder's write of 5.00 under ``other-1`` on ``order_id``, sent ``ago`` seconds ago."""
    record(journal, entry("other-1", site_id=fake.site_id, order_id=order_id, ago=ago, settle=settle, amount="5"))


def test_a_write_another_holder_sent_a_second_ago_is_waited_out_then_exactly_the_ask_is_refunded(
    backend: Backend, caplog: pytest.LogCaptureFixture
) -> None:
    fake = FakeWix()
    oid = fake.add_order(total="100")
    journal = backend.make()
    seed_other(journal, fake, oid, ago=1.0, settle=2.0)
    sleeps = Sleeps()
    with caplog.at_level(logging.WARNING, logger="wix_refunds"):
        outcome = run_refund(
            "sync", fake, oid, RefundRequest(amount=TEN, reference="mine-1"), sleeps=sleeps, journal=journal
        )
    assert "may still land" in caplog.text
    assert "other-1" in caplog.text
    assert HOLDER in caplog.text
    # It waited out what was left of the other write's window (about 1 s), not its own 120 s.
    assert 0.9 <= sum(sleeps) <= 2.5
    assert (outcome.status, outcome.refunded) == (OutcomeStatus.COMPLETED, TEN)
    assert (fake.refunded_total(oid), fake.count_writes("refund", oid)) == (TEN, 1)
    stored = by_reference(journal, fake.site_id, oid)
    assert stored["mine-1"].state is EntryState.SETTLED


def test_another_holders_write_that_shows_on_wix_is_settled_and_the_run_writes_its_own(backend: Backend) -> None:
    fake = FakeWix()
    oid = fake.add_order(total="100")
    journal = backend.make()
    seed_other(journal, fake, oid, ago=0.5, settle=120.0)
    fake.add_foreign_refund(oid, "5", reason="an earlier run [ref:other-1]")
    sleeps = Sleeps()
    outcome = run_refund(
        "sync", fake, oid, RefundRequest(amount=TEN, reference="mine-1"), sleeps=sleeps, journal=journal
    )
    assert (outcome.status, outcome.refunded) == (OutcomeStatus.COMPLETED, TEN)
    assert sum(sleeps) < 1
    assert (fake.refunded_total(oid), fake.count_writes("refund", oid)) == (Decimal("15"), 1)
    stored = by_reference(journal, fake.site_id, oid)
    assert stored["other-1"].state is EntryState.SETTLED
    assert stored["other-1"].refund_id is not None
    assert (stored["mine-1"].state, stored["mine-1"].attempts) == (EntryState.SETTLED, 1)


# --- SQLite across real processes -------------------------------------------------------


def test_four_processes_refunding_the_same_orders_through_one_sqlite_journal_refund_each_order_once(
    tmp_path: pathlib.Path,
) -> None:
    fake = FakeWix()
    order_ids = [fake.add_order(total="100") for _ in range(4)]
    # Two writes land late, so some processes come to an order while its write is in flight.
    fake.apply_late_next("POST", "/ecom/v1/order-billing/refund-payments", after=0.3, times=2)
    credentials = {"WIX_API_KEY": fake.api_key, "WIX_ACCOUNT_ID": fake.account_id, "WIX_SITE_ID": fake.site_id}
    # Each process starts at another order, so they meet on every one.
    turns = [order_ids[i:] + order_ids[:i] for i in range(4)]
    with fake.serve() as url:
        lines = start_refunds(url, credentials, tmp_path / "journal.sqlite3", tmp_path / "gate", turns)
    fake.settle()
    statuses = {oid: sorted(line.split()[1] for line in lines if line.startswith(oid)) for oid in order_ids}
    assert statuses == {oid: ["ALREADY_DONE"] * 3 + ["COMPLETED"] for oid in order_ids}
    assert [oid for oid in order_ids if fake.count_writes("refund", oid) != 1] == []
    assert [oid for oid in order_ids if fake.refunded_total(oid) != TEN] == []
    journal = SqliteJournal(tmp_path / "journal.sqlite3")
    kept = [journal.entries(fake.site_id, oid) for oid in order_ids]
    journal.close()
    assert {(e.reference, e.state, e.attempts) for (e,) in kept} == {
        (reference_of(oid), EntryState.SETTLED, 1) for oid in order_ids
    }


def test_a_lock_row_whose_pid_now_names_another_process_is_free() -> None:
    # A PID is reused once its process ends: the start time tells the holder from a newcomer.
    from wix_refunds.journal._journal_sql import _alive, _start_time

    mine = _start_time(os.getpid())
    assert _alive(os.getpid(), mine)
    if mine is not None:
        assert not _alive(os.getpid(), f"{mine}0")


def _open_at(path: str, start: float) -> str:
    while time.time() < start:
        pass
    journal = SqliteJournal(path)
    try:
        journal.entries(SITE, ORDER)
        with journal.hold(KEY):
            return "ok"
    except JournalError as exc:
        return str(exc)
    finally:
        journal.close()


def test_processes_opening_a_new_sqlite_journal_at_once_all_open_it(tmp_path: pathlib.Path) -> None:
    # SQLite answers "database is locked" at once, without its busy wait, to one of two
    # processes turning a new file to WAL together; the journal tries again.
    import multiprocessing

    context = multiprocessing.get_context("fork")
    with context.Pool(8) as pool:
        for trial in range(12):
            path, start = str(tmp_path / f"j{trial}.sqlite3"), time.time() + 0.2
            assert pool.starmap(_open_at, [(path, start)] * 8) == ["ok"] * 8
