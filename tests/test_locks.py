"""InProcessLocks and FileLocks: one holder per key across threads, tasks and processes."""

from __future__ import annotations

import asyncio
import os
import pathlib
import stat
import threading
import time
from collections.abc import Callable

import pytest

from wix_refunds import InvalidRequest, LockUnavailable
from wix_refunds.journal import FileLocks, HeldLock, InProcessLocks, OrderLocks, default_lock_dir, lock_key

from .lock_workers import Overlap, count_in_processes

SITE = "6F3C2A1B-0000-4000-8000-00000000A11C"
KEY = lock_key(SITE, "0b0a1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d")
OTHER = lock_key(SITE, "11111111-2222-4333-8444-555555555555")

# How the workers of a test get their locks:
#   in_process      an InProcessLocks of its own for each holder (they share the process's table)
#   file            one FileLocks per wait, shared by its holders (threads queue in process, then flock)
#   file_each       a FileLocks of its own for each holder on one folder, as separate
#                   processes have: only flock keeps them apart
KINDS = ["in_process", "file", "file_each"]

Make = Callable[..., OrderLocks]


@pytest.fixture(params=KINDS)
def make(request: pytest.FixtureRequest, tmp_path: pathlib.Path) -> Make:
    """Return a factory of the locks a holder uses: ``make(wait=...)``."""
    kind = request.param
    shared: dict[float, OrderLocks] = {}

    def factory(wait: float = 10.0) -> OrderLocks:
        if kind == "in_process":
            return InProcessLocks(wait=wait)
        if kind == "file_each":
            return FileLocks(tmp_path / "locks", wait=wait)
        if wait not in shared:
            shared[wait] = FileLocks(tmp_path / "locks", wait=wait)
        return shared[wait]

    return factory


def test_lock_key_lower_cases_ids_so_differently_cased_ids_collide() -> None:
    upper = lock_key(SITE, "0B0A1C2D-3E4F-4A5B-8C6D-7E8F9A0B1C2D")
    assert upper == KEY == "6f3c2a1b-0000-4000-8000-00000000a11c:0b0a1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d"
    assert lock_key("other-site", "0b0a1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d") != KEY


def test_differently_cased_order_ids_wait_for_one_another(make: Make) -> None:
    upper, lower = lock_key(SITE, "ABC-123"), lock_key(SITE, "abc-123")
    with make().hold(upper), pytest.raises(LockUnavailable), make(wait=0.05).hold(lower):
        pytest.fail("took a lock already held under another spelling")


def test_default_lock_dir_is_under_xdg_state_home(monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    assert default_lock_dir() == tmp_path / "wix-refunds" / "locks"


@pytest.mark.parametrize("state", [None, "", "relative/state"])
def test_default_lock_dir_falls_back_to_local_state_in_home(
    monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path, state: str | None
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    if state is None:
        monkeypatch.delenv("XDG_STATE_HOME", raising=False)
    else:
        monkeypatch.setenv("XDG_STATE_HOME", state)
    assert default_lock_dir() == tmp_path / ".local" / "state" / "wix-refunds" / "locks"


def test_threads_holding_one_key_never_overlap(make: Make) -> None:
    overlap = Overlap()

    def worker() -> None:
        for _ in range(5):
            with make().hold(KEY):
                overlap.enter()
                time.sleep(0.002)
                overlap.leave()

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert (overlap.most, overlap.entries) == (1, 30)


def test_tasks_holding_one_key_never_overlap(make: Make) -> None:
    overlap = Overlap()

    async def worker() -> None:
        for _ in range(5):
            async with make().hold_async(KEY):
                overlap.enter()
                await asyncio.sleep(0.002)
                overlap.leave()

    async def main() -> None:
        await asyncio.gather(*(worker() for _ in range(6)))

    asyncio.run(main())
    assert (overlap.most, overlap.entries) == (1, 30)


def test_a_task_waits_for_a_thread_without_blocking_the_event_loop(make: Make) -> None:
    held, release = threading.Event(), threading.Event()

    def thread_holder() -> None:
        with make().hold(KEY):
            held.set()
            release.wait(5)

    async def main() -> tuple[int, float]:
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.01)

        tick_task = asyncio.ensure_future(ticker())
        asyncio.get_running_loop().call_later(0.2, release.set)
        start = time.monotonic()
        async with make().hold_async(KEY):
            waited = time.monotonic() - start
        tick_task.cancel()
        return ticks, waited

    thread = threading.Thread(target=thread_holder)
    thread.start()
    assert held.wait(5)
    ticks, waited = asyncio.run(main())
    thread.join()
    assert waited >= 0.18
    assert ticks >= 5


def test_a_second_holder_waits_then_gets_the_lock_once_released(make: Make) -> None:
    held, release = threading.Event(), threading.Event()

    def first() -> None:
        with make().hold(KEY):
            held.set()
            release.wait(5)

    thread = threading.Thread(target=first)
    thread.start()
    assert held.wait(5)
    timer = threading.Timer(0.15, release.set)
    timer.start()
    start = time.monotonic()
    with make().hold(KEY):
        waited = time.monotonic() - start
    thread.join()
    assert 0.13 <= waited < 5


def test_a_holder_that_waits_too_long_gets_lock_unavailable_naming_the_key(make: Make) -> None:
    with make().hold(KEY):
        start = time.monotonic()
        with pytest.raises(LockUnavailable) as caught, make(wait=0.2).hold(KEY):
            pytest.fail("went on without the lock")
        elapsed = time.monotonic() - start
    assert caught.value.key == KEY
    assert 0.2 <= caught.value.waited <= elapsed
    assert KEY in str(caught.value)
    assert "0.2s wait" in str(caught.value)


def test_an_async_holder_that_waits_too_long_gets_lock_unavailable_naming_the_key(make: Make) -> None:
    async def main() -> LockUnavailable:
        async with make().hold_async(KEY):
            with pytest.raises(LockUnavailable) as caught:
                async with make(wait=0.2).hold_async(KEY):
                    pytest.fail("went on without the lock")
        return caught.value

    error = asyncio.run(main())
    assert error.key == KEY
    assert error.waited >= 0.2


def test_the_lock_is_released_when_the_block_raises(make: Make) -> None:
    with pytest.raises(ZeroDivisionError), make().hold(KEY):
        raise ZeroDivisionError
    with make(wait=0.05).hold(KEY):
        pass

    async def main() -> None:
        with pytest.raises(ZeroDivisionError):
            async with make().hold_async(KEY):
                raise ZeroDivisionError
        async with make(wait=0.05).hold_async(KEY):
            pass

    asyncio.run(main())


def test_cancelled_holders_and_waiters_release_the_lock(make: Make) -> None:
    async def main() -> None:
        entered = asyncio.Event()

        async def holder() -> None:
            async with make().hold_async(KEY):
                entered.set()
                await asyncio.sleep(60)

        async def waiter() -> None:
            async with make().hold_async(KEY):
                pytest.fail("took a held lock")

        holding = asyncio.ensure_future(holder())
        await entered.wait()
        waiting = asyncio.ensure_future(waiter())
        await asyncio.sleep(0.05)
        waiting.cancel()
        holding.cancel()
        await asyncio.gather(holding, waiting, return_exceptions=True)
        async with make(wait=0.05).hold_async(KEY):
            pass

    asyncio.run(main())


def test_different_orders_do_not_block_each_other(make: Make) -> None:
    with make().hold(KEY), make(wait=0.05).hold(OTHER):
        pass

    async def main() -> None:
        async with make().hold_async(KEY), make(wait=0.05).hold_async(OTHER):
            pass

    asyncio.run(main())


def test_a_held_lock_always_checks_out_in_one_host(make: Make) -> None:
    locks = make()
    assert isinstance(locks, OrderLocks)
    with locks.hold(KEY) as held:
        assert isinstance(held, HeldLock)
        held.check()
        asyncio.run(held.check_async())


@pytest.mark.parametrize("wait", [0, -1.0, float("nan"), float("inf")])
def test_a_wait_that_could_not_work_is_refused(wait: float, tmp_path: pathlib.Path) -> None:
    with pytest.raises(InvalidRequest, match="wait"):
        InProcessLocks(wait=wait)
    with pytest.raises(InvalidRequest, match="wait"):
        FileLocks(tmp_path, wait=wait)


def test_in_process_locks_forget_keys_nobody_holds() -> None:
    before = len(InProcessLocks._threads)
    with InProcessLocks().hold(KEY), InProcessLocks().hold(OTHER):
        assert len(InProcessLocks._threads) == before + 2
    assert len(InProcessLocks._threads) == before


def test_in_process_locks_made_apart_still_exclude_each_other() -> None:
    with InProcessLocks().hold(KEY), pytest.raises(LockUnavailable), InProcessLocks(wait=0.05).hold(KEY):
        pytest.fail("a second instance took a held lock")


def test_file_locks_create_a_private_folder_and_remove_each_file_on_release(tmp_path: pathlib.Path) -> None:
    folder = tmp_path / "state" / "locks"
    locks = FileLocks(folder)
    with locks.hold(KEY):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        assert locks.path(KEY).read_text() == f"{KEY}\npid {os.getpid()}\n"
        assert KEY not in locks.path(KEY).name
    assert list(folder.iterdir()) == []


def test_a_lock_folder_that_cannot_be_made_refuses_the_lock(tmp_path: pathlib.Path) -> None:
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("")
    locks = FileLocks(not_a_folder / "locks")
    with pytest.raises(LockUnavailable, match="cannot open its lock file") as caught, locks.hold(KEY):
        pytest.fail("went on without the lock")
    assert caught.value.key == KEY


def test_file_locks_refuse_to_start_without_fcntl(monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path) -> None:
    monkeypatch.setattr("wix_refunds.journal._locks._HAS_FLOCK", False)
    with pytest.raises(NotImplementedError, match="Windows"):
        FileLocks(tmp_path)


def test_reprs_show_the_settings() -> None:
    assert repr(InProcessLocks(wait=5)) == "InProcessLocks(wait=5.0)"
    assert repr(FileLocks("/tmp/x")) == "FileLocks(directory=PosixPath('/tmp/x'), wait=300.0)"


def test_processes_counting_under_a_file_lock_lose_no_update(tmp_path: pathlib.Path) -> None:
    workers = 4
    locked = tmp_path / "locked"
    locked.mkdir()
    assert count_in_processes("file", str(tmp_path / "locks"), KEY, workers, locked) == workers
    # The same count without a lock loses updates: the test can fail.
    unlocked = tmp_path / "unlocked"
    unlocked.mkdir()
    assert count_in_processes("none", "", KEY, workers, unlocked) < workers
