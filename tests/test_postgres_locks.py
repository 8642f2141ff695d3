"""PostgresLocks against a real PostgreSQL server of the test session's own (see pg_server.py)."""

from __future__ import annotations

import asyncio
import importlib
import logging
import pathlib
import subprocess
import sys
import threading
import time
import traceback
from typing import Any

import pytest

from wix_refunds import InvalidRequest, LockUnavailable
from wix_refunds.core import LockLost
from wix_refunds.journal import HeldLock, OrderLocks, lock_key

from .pg_server import PgServer, in_ci

if not in_ci():
    pytest.importorskip("psycopg")

import psycopg

from wix_refunds.journal.postgres import PostgresLocks, advisory_lock_id

from .lock_workers import Overlap, count_in_processes

KEY = lock_key("6f3c2a1b-0000-4000-8000-00000000a11c", "0b0a1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d")
OTHER = lock_key("6f3c2a1b-0000-4000-8000-00000000a11c", "11111111-2222-4333-8444-555555555555")
PASSWORD = "pw-CANARY-must-never-be-shown-7"


@pytest.fixture
def dsn(postgres: PgServer) -> str:
    return postgres.dsn(PASSWORD)


def _terminate(dsn: str, pid: int) -> None:
    with psycopg.connect(dsn, autocommit=True) as admin:
        # The timeout makes the call wait until the session has ended (PostgreSQL 14+).
        admin.execute("SELECT pg_terminate_backend(%s, 5000)", (pid,))


def _holders(dsn: str, key: str) -> list[int]:
    """Return the backend pids holding ``key``, as an operator would find them from SQL."""
    query = """
        SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1
        AND (classid::bigint << 32 | objid::bigint)
            = ('x' || left(encode(sha256(convert_to(%s, 'UTF8')), 'hex'), 16))::bit(64)::bigint
    """
    with psycopg.connect(dsn, autocommit=True) as admin:
        return [row[0] for row in admin.execute(query, (key,))]


def test_the_lock_id_is_the_documented_sql_expression(dsn: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as admin:
        for key in (KEY, OTHER, "site:ÄÖ-order", ""):
            row = admin.execute(
                "SELECT ('x' || left(encode(sha256(convert_to(%s, 'UTF8')), 'hex'), 16))::bit(64)::bigint", (key,)
            ).fetchone()
            assert row is not None
            assert row[0] == advisory_lock_id(key)
    assert advisory_lock_id(KEY) == advisory_lock_id(KEY)
    assert -(2**63) <= advisory_lock_id(KEY) < 2**63


def test_a_held_lock_is_a_session_lock_that_operators_can_find(dsn: str) -> None:
    locks = PostgresLocks(dsn)
    assert isinstance(locks, OrderLocks)
    with locks.hold(KEY) as held:
        assert isinstance(held, HeldLock)
        held.check()
        asyncio.run(held.check_async())
        assert _holders(dsn, KEY) == [held.pid]  # type: ignore[attr-defined]
    assert _holders(dsn, KEY) == []


def test_threads_with_a_session_each_never_overlap(dsn: str) -> None:
    overlap = Overlap()

    def worker() -> None:
        for _ in range(3):
            with PostgresLocks(dsn).hold(KEY):
                overlap.enter()
                time.sleep(0.01)
                overlap.leave()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert (overlap.most, overlap.entries) == (1, 12)


def test_tasks_with_a_session_each_never_overlap(dsn: str) -> None:
    overlap = Overlap()
    locks = PostgresLocks(dsn)

    async def worker() -> None:
        for _ in range(3):
            async with locks.hold_async(KEY) as held:
                overlap.enter()
                await held.check_async()
                await asyncio.sleep(0.01)
                overlap.leave()

    async def main() -> None:
        await asyncio.gather(*(worker() for _ in range(4)))

    asyncio.run(main())
    assert (overlap.most, overlap.entries) == (1, 12)


def test_processes_counting_under_a_postgres_lock_lose_no_update(dsn: str, tmp_path: pathlib.Path) -> None:
    assert count_in_processes("postgres", dsn, KEY, 3, tmp_path) == 3


def test_a_second_holder_waits_then_gets_the_lock_once_released(dsn: str) -> None:
    held, release = threading.Event(), threading.Event()

    def first() -> None:
        with PostgresLocks(dsn).hold(KEY):
            held.set()
            release.wait(5)

    thread = threading.Thread(target=first)
    thread.start()
    assert held.wait(5)
    threading.Timer(0.3, release.set).start()
    start = time.monotonic()
    with PostgresLocks(dsn, wait=5).hold(KEY):
        waited = time.monotonic() - start
    thread.join()
    assert 0.25 <= waited < 2


def test_a_holder_that_waits_too_long_gets_lock_unavailable_naming_the_key(dsn: str) -> None:
    with PostgresLocks(dsn).hold(KEY):
        with pytest.raises(LockUnavailable) as caught, PostgresLocks(dsn, wait=0.3).hold(KEY):
            pytest.fail("went on without the lock")

        async def main() -> None:
            with pytest.raises(LockUnavailable) as caught:
                async with PostgresLocks(dsn, wait=0.3).hold_async(KEY):
                    pytest.fail("went on without the lock")
            assert caught.value.key == KEY

        asyncio.run(main())
    assert caught.value.key == KEY
    assert caught.value.waited >= 0.3
    assert KEY in str(caught.value)


def test_different_orders_do_not_block_each_other(dsn: str) -> None:
    with PostgresLocks(dsn).hold(KEY), PostgresLocks(dsn, wait=0.1).hold(OTHER):
        pass


def test_the_lock_is_released_when_the_block_raises_or_is_cancelled(dsn: str) -> None:
    locks = PostgresLocks(dsn, wait=0.1)
    with pytest.raises(ZeroDivisionError), locks.hold(KEY):
        raise ZeroDivisionError
    assert _holders(dsn, KEY) == []

    async def main() -> None:
        entered = asyncio.Event()

        async def holder() -> None:
            async with locks.hold_async(KEY):
                entered.set()
                await asyncio.sleep(60)

        task = asyncio.ensure_future(holder())
        await entered.wait()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        async with locks.hold_async(KEY):
            pass

    asyncio.run(main())
    assert _holders(dsn, KEY) == []


def test_a_terminated_session_makes_check_raise_lock_lost(dsn: str, caplog: pytest.LogCaptureFixture) -> None:
    with PostgresLocks(dsn).hold(KEY) as held:
        _terminate(dsn, held.pid)  # type: ignore[attr-defined]
        with pytest.raises(LockLost) as caught:
            held.check()
        # The server freed the lock with the session: another worker may have it now.
        with PostgresLocks(dsn, wait=1).hold(KEY):
            pass
    assert caught.value.key == KEY
    assert "stops before its next write" in str(caught.value)
    assert "ended while held" in caplog.text


def test_a_terminated_async_session_makes_check_async_raise_lock_lost(dsn: str) -> None:
    async def main() -> LockLost:
        async with PostgresLocks(dsn).hold_async(KEY) as held:
            await asyncio.to_thread(_terminate, dsn, held.pid)  # type: ignore[attr-defined]
            with pytest.raises(LockLost) as caught:
                await held.check_async()
        return caught.value

    assert asyncio.run(main()).key == KEY


def test_a_session_that_let_go_of_the_lock_fails_its_check(dsn: str, caplog: pytest.LogCaptureFixture) -> None:
    with PostgresLocks(dsn).hold(KEY) as held:
        held.connection.execute("SELECT pg_advisory_unlock(%s)", (advisory_lock_id(KEY),))  # type: ignore[attr-defined]
        with pytest.raises(LockLost, match="no longer holds it"):
            held.check()
    assert "no longer held by its session" in caplog.text


def test_an_async_lock_is_checked_with_check_async(dsn: str) -> None:
    async def main() -> None:
        async with PostgresLocks(dsn).hold_async(KEY) as held:
            await held.check_async()
            with pytest.raises(RuntimeError, match="check_async"):
                held.check()

    asyncio.run(main())


def test_an_unreachable_server_gives_lock_unavailable_and_nothing_runs() -> None:
    locks = PostgresLocks(f"postgresql://app:{PASSWORD}@127.0.0.1:1/refunds", connect_timeout=2)
    with pytest.raises(LockUnavailable, match="connecting") as caught, locks.hold(KEY):
        pytest.fail("went on without the lock")
    assert caught.value.key == KEY

    async def main() -> None:
        with pytest.raises(LockUnavailable, match="connecting"):
            async with locks.hold_async(KEY):
                pytest.fail("went on without the lock")

    asyncio.run(main())


def test_the_password_never_shows_in_reprs_errors_or_logs(dsn: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    shown: list[str] = []
    for text in (dsn, f"host=127.0.0.1 port=1 user=app password={PASSWORD} sslpassword={PASSWORD}x dbname=refunds"):
        locks = PostgresLocks(text, wait=0.2, connect_timeout=2)
        shown += [repr(locks), str(locks), locks.masked_dsn]
        assert "password=***" in locks.masked_dsn
    unreachable = PostgresLocks(f"postgresql://app:{PASSWORD}@127.0.0.1:1/refunds", connect_timeout=2)
    errors: list[BaseException] = []
    with PostgresLocks(dsn).hold(KEY) as held:
        shown.append(repr(held))
        for locks in (PostgresLocks(dsn, wait=0.2), unreachable):
            try:
                with locks.hold(KEY):
                    pass
            except LockUnavailable as exc:
                errors.append(exc)
        _terminate(dsn, held.pid)  # type: ignore[attr-defined]
        try:
            held.check()
        except LockLost as exc:
            errors.append(exc)
    try:
        PostgresLocks(f"host=127.0.0.1 password={PASSWORD} junk")
    except InvalidRequest as exc:
        errors.append(exc)
    assert len(errors) == 4
    for error in errors:
        shown += [str(error), repr(error), "".join(traceback.format_exception(error))]
    shown.append(caplog.text)
    assert not [text for text in shown if PASSWORD in text]


def test_a_driver_error_quoting_the_password_is_masked_and_not_chained(monkeypatch: pytest.MonkeyPatch) -> None:
    def connect(*args: object, **kwargs: object) -> psycopg.Connection[tuple[object, ...]]:
        raise psycopg.OperationalError(f"could not use password {PASSWORD} here")

    monkeypatch.setattr(psycopg.Connection, "connect", connect)
    with pytest.raises(LockUnavailable) as caught, PostgresLocks(f"host=db password={PASSWORD}").hold(KEY):
        pytest.fail("went on without the lock")
    shown = "".join(traceback.format_exception(caught.value))
    assert "could not use password *** here" in shown
    assert PASSWORD not in shown
    assert caught.value.__cause__ is None


def _failing_on(monkeypatch: pytest.MonkeyPatch, words: str) -> None:
    """Make every query containing ``words``, sync or async, fail with an error that quotes the password."""
    sync_execute, async_execute = psycopg.Connection.execute, psycopg.AsyncConnection.execute

    def fail(query: object) -> None:
        if words in str(query):
            raise psycopg.OperationalError(f"server said no to {PASSWORD}")

    def execute(self: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
        fail(query)
        return sync_execute(self, query, *args, **kwargs)

    async def execute_async(self: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
        fail(query)
        return await async_execute(self, query, *args, **kwargs)

    monkeypatch.setattr(psycopg.Connection, "execute", execute)
    monkeypatch.setattr(psycopg.AsyncConnection, "execute", execute_async)


def _hold_once(locks: PostgresLocks, asynchronous: bool) -> None:
    if not asynchronous:
        with locks.hold(KEY):
            return

    async def main() -> None:
        async with locks.hold_async(KEY):
            pass

    asyncio.run(main())


@pytest.mark.parametrize("asynchronous", [False, True])
def test_a_failure_while_locking_gives_lock_unavailable_with_the_password_masked(
    dsn: str, monkeypatch: pytest.MonkeyPatch, asynchronous: bool
) -> None:
    _failing_on(monkeypatch, "pg_try_advisory_lock")
    with pytest.raises(LockUnavailable, match=r"PostgreSQL failed while locking .*server said no to \*\*\*") as caught:
        _hold_once(PostgresLocks(dsn), asynchronous)
    assert caught.value.key == KEY
    assert caught.value.__cause__ is None
    assert PASSWORD not in "".join(traceback.format_exception(caught.value))


@pytest.mark.parametrize("asynchronous", [False, True])
def test_a_failed_unlock_is_logged_masked_and_closing_the_session_frees_the_lock(
    dsn: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, asynchronous: bool
) -> None:
    _failing_on(monkeypatch, "pg_advisory_unlock")
    _hold_once(PostgresLocks(dsn), asynchronous)
    assert "unlock failed (server said no to ***); closing the session frees it" in caplog.text
    assert PASSWORD not in caplog.text
    assert _holders(dsn, KEY) == []


@pytest.mark.parametrize("setting", ["wait", "connect_timeout"])
@pytest.mark.parametrize("value", [0, -1.0, float("nan"), float("inf")])
def test_a_wait_or_timeout_that_could_not_work_is_refused(setting: str, value: float) -> None:
    with pytest.raises(InvalidRequest, match=setting):
        PostgresLocks("host=localhost", **{setting: value})


def test_importing_wix_refunds_leaves_psycopg_unloaded() -> None:
    code = "import sys, wix_refunds; assert 'psycopg' not in sys.modules, 'psycopg imported'"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr


def test_without_psycopg_the_postgres_module_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)
    monkeypatch.delitem(sys.modules, "wix_refunds.journal.postgres")
    with pytest.raises(ImportError, match=r"pip install 'wix-refunds\[postgres\]'"):
        importlib.import_module("wix_refunds.journal.postgres")
