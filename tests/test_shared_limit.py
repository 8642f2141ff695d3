"""One rate limit per store, kept in the journal's backend (``_shared_limit``, ``_pg_limit``)."""

from __future__ import annotations

import asyncio
import logging
import pathlib
import time

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from wix_refunds import AsyncWixClient, InvalidRequest, MemoryJournal, RetryPolicy, SqliteJournal, WixClient
from wix_refunds.client import RateLimiter, RequestLimiter
from wix_refunds.journal._shared_limit import GUARD, SqliteLimit, key_fingerprint, limit_key, plan_start
from wix_refunds.testing import FakeWix

from .limit_workers import start_readers
from .pg_server import PgServer
from .test_pg_journal import new_database

# --- the window, as a table --------------------------------------------------------------


def test_a_burst_up_to_the_limit_starts_at_once_and_the_next_waits_a_guarded_window() -> None:
    starts: list[float] = []
    for _ in range(3):
        start, starts = plan_start(starts, 100.0, 0.0, 3, 10.0)
        assert start == 100.0
    start, starts = plan_start(starts, 100.0, 0.0, 3, 10.0)
    assert start == pytest.approx(100.0 + 10.0 * (1 + GUARD))
    assert len(starts) == 4


def test_no_start_before_not_before_nor_before_the_last_reserved_one() -> None:
    assert plan_start([], 100.0, 105.0, 3, 10.0)[0] == 105.0
    assert plan_start([107.0], 100.0, 0.0, 3, 10.0)[0] == 107.0


def test_starts_older_than_the_window_are_forgotten() -> None:
    _, kept = plan_start([1.0, 2.0, 3.0], 100.0, 0.0, 3, 10.0)
    assert kept == [100.0]


@given(
    st.lists(st.floats(min_value=0, max_value=30, allow_nan=False), min_size=1, max_size=60),
    st.integers(min_value=1, max_value=8),
)
def test_no_window_ever_holds_more_than_the_limit(arrivals: list[float], requests: int) -> None:
    per, starts, planned = 5.0, list[float](), []
    for now in sorted(arrivals):
        start, starts = plan_start(starts, now, 0.0, requests, per)
        planned.append(start)
    assert planned == sorted(planned)
    for i, first in enumerate(planned):
        assert sum(1 for s in planned[i:] if s - first < per * (1 + GUARD) - 1e-9) <= requests


# --- where the limit lives ------------------------------------------------------------


def test_the_row_is_named_by_a_hash_of_the_key_never_the_key(tmp_path: pathlib.Path, fake: FakeWix) -> None:
    journal = SqliteJournal(tmp_path / "j.sqlite3")
    limiter = journal.shared_limit(fake.credentials, (5, 1.0))
    limiter.reserve()
    assert fake.api_key not in key_fingerprint(fake.api_key)
    assert limit_key(fake.site_id, key_fingerprint(fake.api_key)).startswith(fake.site_id.lower() + ":")
    for path in tmp_path.iterdir():
        assert fake.api_key.encode() not in path.read_bytes()


def test_memory_journal_gives_one_in_process_limiter_per_store(fake: FakeWix) -> None:
    first = MemoryJournal().shared_limit(fake.credentials, (5, 1.0))
    assert isinstance(first, RateLimiter)
    assert MemoryJournal().shared_limit(fake.credentials, (5, 1.0)) is first
    assert isinstance(first, RequestLimiter)


def test_a_limit_that_is_not_requests_per_seconds_is_refused(tmp_path: pathlib.Path, fake: FakeWix) -> None:
    with pytest.raises(InvalidRequest):
        SqliteJournal(tmp_path / "j.sqlite3").shared_limit(fake.credentials, (0, 60.0))
    with pytest.raises(InvalidRequest):
        WixClient(fake.credentials, rate_limit="fast")  # type: ignore[arg-type]


def test_two_processes_limits_on_one_file_share_one_window(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "j.sqlite3"
    # Two limiters on one file stand for two processes of the host.
    one, two = SqliteLimit(path, "site:key", 4, 2.0), SqliteLimit(path, "site:key", 4, 2.0)
    waits = [one.reserve(), two.reserve(), one.reserve(), two.reserve(), one.reserve()]
    # Starts are kept to the millisecond, rounded up: a burst waits at most that.
    assert max(waits[:4]) < 0.01
    assert waits[4] == pytest.approx(2.0 * (1 + GUARD), abs=0.1)
    assert one.backlog() > 1.5
    assert SqliteLimit(path, "other-site:key", 4, 2.0).reserve() < 0.01


def test_retry_after_recorded_by_one_process_slows_the_others(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "j.sqlite3"
    one, two = SqliteLimit(path, "site:key", 100, 60.0), SqliteLimit(path, "site:key", 100, 60.0)
    one.hold_off(3.0)
    assert two.reserve() == pytest.approx(3.0, abs=0.2)


def test_an_unreachable_file_falls_back_to_this_process_alone(
    tmp_path: pathlib.Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("")
    limiter = SqliteLimit(blocked / "j.sqlite3", "site:key", 2, 1.0)
    with caplog.at_level(logging.WARNING, logger="wix_refunds"):
        assert [limiter.reserve(), limiter.reserve()] == [0.0, 0.0]
        assert limiter.reserve() > 0.5
        limiter.hold_off(1.0)
    assert sum("cannot be used" in r.getMessage() for r in caplog.records) == 1


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_a_429s_retry_after_is_recorded_for_the_whole_store(kind: str, tmp_path: pathlib.Path, fake: FakeWix) -> None:
    journal = SqliteJournal(tmp_path / "j.sqlite3")
    oid = fake.add_order()
    fake.fail_next("GET", "/ecom/v1/orders/*", 429, retry_after=2)
    policy = RetryPolicy(sleep=lambda s: None, async_sleep=lambda s: asyncio.sleep(0))
    limit = journal.shared_limit(fake.credentials, (50, 60.0))
    if kind == "sync":
        with WixClient(
            fake.credentials, http_client=httpx.Client(transport=fake.transport()), retry=policy, rate_limit=limit
        ) as client:
            client.get_order(oid)
    else:

        async def go() -> None:
            http = httpx.AsyncClient(transport=fake.transport())
            async with AsyncWixClient(fake.credentials, http_client=http, retry=policy, rate_limit=limit) as client:
                await client.get_order(oid)
            await http.aclose()

        asyncio.run(go())
    # Another process of the host, on the same row: it waits what Wix asked.
    other = SqliteLimit(journal.path, limit.key, 50, 60.0)  # type: ignore[attr-defined]
    assert other.reserve() == pytest.approx(2.0, abs=0.3)


# --- real processes against a FakeWix that enforces the limit ---------------------------

LIMIT = (8, 1.0)


def _readers(fake: FakeWix, targets: list[tuple[str, str]], gate: pathlib.Path, count: int) -> list[int]:
    oid = fake.add_order()
    fake.set_rate_limit(*LIMIT)
    credentials = {
        "WIX_API_KEY": fake.api_key,
        "WIX_ACCOUNT_ID": fake.account_id,
        "WIX_SITE_ID": fake.site_id,
    }
    with fake.serve() as base_url:
        started = time.monotonic()
        attempts = start_readers(base_url, credentials, targets, gate, oid, count, LIMIT)
        took = time.monotonic() - started
    assert len(attempts) == count * len(targets)
    assert took > (count * len(targets) / LIMIT[0] - 1) * LIMIT[1]
    return attempts


def test_three_processes_on_one_sqlite_journal_draw_no_429(tmp_path: pathlib.Path, fake: FakeWix) -> None:
    path = str(tmp_path / "journal.sqlite3")
    attempts = _readers(fake, [("sqlite", path)] * 3, tmp_path / "gate", 8)
    assert [r.status for r in fake.requests if r.status == 429] == []
    assert set(attempts) == {1}


def test_three_hosts_on_one_postgres_journal_draw_no_429(
    tmp_path: pathlib.Path, fake: FakeWix, postgres: PgServer
) -> None:
    dsn = new_database(postgres)
    attempts = _readers(fake, [("postgres", dsn)] * 3, tmp_path / "gate", 8)
    assert [r.status for r in fake.requests if r.status == 429] == []
    assert set(attempts) == {1}


def test_postgres_limit_is_one_window_for_every_host_and_takes_retry_after(postgres: PgServer, fake: FakeWix) -> None:
    from wix_refunds.journal.postgres import PostgresJournal

    dsn = new_database(postgres)
    hosts = [PostgresJournal(dsn), PostgresJournal(dsn)]
    try:
        one, two = (journal.shared_limit(fake.credentials, (3, 2.0)) for journal in hosts)
        assert one is not two
        waits = [one.reserve(), two.reserve(), one.reserve(), two.reserve()]
        assert max(waits[:3]) < 0.01
        assert waits[3] == pytest.approx(2.0 * (1 + GUARD), abs=0.2)
        two.hold_off(5.0)
        assert one.reserve() == pytest.approx(5.0, abs=0.3)
        assert fake.api_key not in repr(one)
    finally:
        for journal in hosts:
            journal.close()


# --- the command ---------------------------------------------------------------------


def test_the_command_draws_from_its_journals_shared_row(tmp_path: pathlib.Path, fake: FakeWix, served: str) -> None:
    import sqlite3

    from .command import cli

    oid = fake.add_order(total="100")
    path = tmp_path / "journal.sqlite3"
    # Another run of the store drew a 429 asking for 0.7 s: this run waits it out first
    # (a plan that does not wait takes a few hundredths of a second).
    SqliteLimit(path, limit_key(fake.site_id, key_fingerprint(fake.api_key)), 200, 60.0).hold_off(0.7)
    started = time.monotonic()
    done = cli(fake, served, "plan", oid, "--journal", str(path))
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - started > 0.5
    with sqlite3.connect(path) as db:
        ((key, starts),) = db.execute("SELECT key, starts FROM wix_refunds_rate").fetchall()
    assert key == limit_key(fake.site_id, key_fingerprint(fake.api_key))
    assert len(starts.split(",")) == len(fake.requests)
