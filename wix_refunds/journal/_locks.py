"""One lock per order, so that two workers never refund the same order at once.

Three implementations of one protocol, ``OrderLocks``, by how far apart the
workers may be::

    InProcessLocks   the threads and asyncio tasks of one process
    FileLocks        every process on one host (flock on a file per key)
    PostgresLocks    every host that reaches one PostgreSQL database
                     (wix_refunds.journal.postgres, behind the ``postgres`` extra)

A second holder of a key waits up to ``wait`` seconds, then raises
``LockUnavailable`` naming the key and how long it waited: it never goes on
unlocked. A lock is released when its block ends, by return, exception or
cancellation. ``HeldLock.check()`` says whether the lock is still held; only a
PostgreSQL session can be lost while its holder lives, so only there can it fail.

asyncio is imported inside the async functions, as everywhere in the library.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, ClassVar, Protocol, runtime_checkable

import attrs

from ..core._errors import InvalidRequest, LockUnavailable

if TYPE_CHECKING:
    import pathlib

__all__ = ["FileLocks", "HeldLock", "InProcessLocks", "OrderLocks", "default_lock_dir", "lock_key"]

DEFAULT_WAIT = 300.0

# Polling starts fast, so that an uncontended wait costs a millisecond, and slows
# down so that a long one costs little.
_FIRST_DELAY = 0.001
_MAX_DELAY = 0.05

# fcntl exists on Linux, macOS and the BSDs, not on Windows; only FileLocks needs it.
_HAS_FLOCK = sys.platform != "win32"


def lock_key(site_id: str, order_id: str) -> str:
    """Return the lock key of one order: ``"<site id>:<order id>"``, both lower-cased.

    Wix IDs are GUIDs, which compare without regard to case: ``ABC...`` and
    ``abc...`` name the same order, so they must take the same lock. The site ID
    is part of the key because order IDs are only unique within a site.
    """
    return f"{site_id.lower()}:{order_id.lower()}"


def _to_path(value: str | os.PathLike[str]) -> pathlib.Path:
    import pathlib

    return pathlib.Path(value)


def default_lock_dir() -> pathlib.Path:
    """Return the per-user folder for ``FileLocks``: ``$XDG_STATE_HOME/wix-refunds/locks``.

    Without ``XDG_STATE_HOME`` (or with a relative one, which the XDG spec says to
    ignore) it is ``~/.local/state/wix-refunds/locks``. The folder is not created
    here; ``FileLocks`` creates it (mode 0o700) when it first takes a lock.
    """
    state = os.environ.get("XDG_STATE_HOME", "")
    import pathlib

    base = pathlib.Path(state) if os.path.isabs(state) else pathlib.Path.home() / ".local" / "state"
    return base / "wix-refunds" / "locks"


@runtime_checkable
class HeldLock(Protocol):
    """A lock being held: ask it, before each write, whether it still is."""

    def check(self) -> None:
        """Return if the lock is still held; raise ``LockLost`` if it is not."""

    async def check_async(self) -> None:
        """Return if the lock is still held; raise ``LockLost`` if it is not (async)."""


@runtime_checkable
class OrderLocks(Protocol):
    """Hands out one lock per key (see ``lock_key``) to threads, tasks, processes or hosts."""

    def hold(self, key: str) -> contextlib.AbstractContextManager[HeldLock]:
        """Return a context manager that holds ``key`` while its block runs.

        Raises:
            LockUnavailable: another holder kept ``key`` for longer than the wait.
        """
        ...

    def hold_async(self, key: str) -> contextlib.AbstractAsyncContextManager[HeldLock]:
        """Return an async context manager that holds ``key`` while its block runs.

        Raises:
            LockUnavailable: another holder kept ``key`` for longer than the wait.
        """
        ...


def _check_wait(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not (math.isfinite(value) and value > 0):
        raise InvalidRequest(attribute.name, f"must be a finite number of seconds > 0, got {value!r}")


class _Patience:
    """The wait for one key: the next sleep between tries, or ``LockUnavailable`` once it is over."""

    def __init__(self, key: str, wait: float, max_delay: float = _MAX_DELAY) -> None:
        self.key = key
        self.wait = wait
        self.start = time.monotonic()
        self._delay = _FIRST_DELAY
        self._max_delay = max_delay

    def waited(self) -> float:
        """Return the seconds spent waiting so far."""
        return time.monotonic() - self.start

    def left(self) -> float:
        """Return the seconds still allowed (never negative)."""
        return max(self.wait - self.waited(), 0.0)

    def next_delay(self) -> float:
        """Return how long to sleep before the next try; the last sleep ends when the wait does.

        Raises:
            LockUnavailable: the wait is over.
        """
        left = self.left()
        if left <= 0:
            raise self.unavailable()
        delay = min(self._delay, left)
        self._delay = min(self._delay * 2, self._max_delay)
        return delay

    def unavailable(self, reason: str | None = None) -> LockUnavailable:
        """Return the error for a lock not taken: by default, held by another for the whole wait."""
        waited = self.waited()
        why = reason or f"another worker held it for the whole {self.wait:g}s wait"
        return LockUnavailable(f"could not lock {self.key} after {waited:.2f}s: {why}", key=self.key, waited=waited)


@attrs.frozen
class _Held:
    """A lock that stays held for as long as this process lives: checking it always passes."""

    key: str

    def check(self) -> None:
        """Return: the lock cannot be lost while the process lives."""

    async def check_async(self) -> None:
        """Return: the lock cannot be lost while the process lives."""


class _ThreadLocks:
    """One ``threading.Lock`` per key; an entry goes away when its last user leaves."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[str, tuple[threading.Lock, int]] = {}

    def __len__(self) -> int:
        return len(self._locks)

    @contextlib.contextmanager
    def _entry(self, key: str) -> Iterator[threading.Lock]:
        """Return a context manager giving the lock of ``key``, counted as used until its block ends."""
        with self._guard:
            lock, users = self._locks.get(key, (None, 0))
            lock = lock or threading.Lock()
            self._locks[key] = (lock, users + 1)
        try:
            yield lock
        finally:
            with self._guard:
                _, users = self._locks[key]
                if users == 1:
                    del self._locks[key]
                else:
                    self._locks[key] = (lock, users - 1)

    @contextlib.contextmanager
    def hold(self, key: str, patience: _Patience) -> Iterator[None]:
        """Hold the lock of ``key`` while the block runs, waiting at most what ``patience`` has left."""
        with self._entry(key) as lock:
            if not lock.acquire(timeout=patience.left()):
                raise patience.unavailable()
            with _releasing(lock):
                yield

    @contextlib.asynccontextmanager
    async def hold_async(self, key: str, patience: _Patience) -> AsyncIterator[None]:
        """Hold the lock of ``key`` while the block runs, polling so that the event loop runs on."""
        import asyncio

        with self._entry(key) as lock:
            # A thread may hold the same key: poll instead of blocking the event loop.
            while not lock.acquire(blocking=False):
                await asyncio.sleep(patience.next_delay())
            with _releasing(lock):
                yield


@contextlib.contextmanager
def _releasing(lock: threading.Lock) -> Iterator[None]:
    """Return a context manager that releases ``lock``, which the caller has acquired, as its block ends."""
    try:
        yield
    finally:
        lock.release()


@attrs.frozen(eq=False)
class InProcessLocks:
    """One lock per key for the threads and asyncio tasks of this process.

    Enough when one process does every refund. Every instance shares the one
    table of the process, so two instances (a new one per call, say) still
    exclude each other; ``wait`` is each instance's own. Entries are dropped
    when unused, so memory does not grow with the number of orders. ``check()``
    never fails.

    Args:
        wait: seconds a second holder waits before ``LockUnavailable`` (> 0).
    """

    wait: float = attrs.field(default=DEFAULT_WAIT, kw_only=True, converter=float, validator=_check_wait)
    _threads: ClassVar[_ThreadLocks] = _ThreadLocks()

    @contextlib.contextmanager
    def hold(self, key: str) -> Iterator[HeldLock]:
        """Return a context manager that holds ``key`` for this process while its block runs.

        Raises:
            LockUnavailable: another thread or task held ``key`` for the whole wait.
        """
        with self._threads.hold(key, _Patience(key, self.wait)):
            yield _Held(key)

    @contextlib.asynccontextmanager
    async def hold_async(self, key: str) -> AsyncIterator[HeldLock]:
        """Return an async context manager that holds ``key`` for this process while its block runs.

        Raises:
            LockUnavailable: another thread or task held ``key`` for the whole wait.
        """
        async with self._threads.hold_async(key, _Patience(key, self.wait)):
            yield _Held(key)


@attrs.frozen(eq=False)
class FileLocks:
    """One lock per key for every process on this host, as ``flock`` on a file per key.

    The file is ``directory/<sha256 of the key>.lock``; ``directory`` is created
    (mode 0o700) when missing, and every process that refunds must use the same
    one (``default_lock_dir()`` is a per-user choice). The holder removes the
    file as it lets go, so the folder does not fill up with one file per order.
    ``check()`` never fails: an ``flock`` is released only when its file is
    closed, which this process does on leaving the block, or when it dies.

    Needs ``fcntl.flock``: Linux, macOS and the BSDs, not Windows. On a network
    file system (NFS, SMB) ``flock`` may not lock across hosts; use
    ``PostgresLocks`` for several hosts.

    Args:
        directory: the folder of the lock files, shared by all workers of the host.
        wait: seconds a second holder waits before ``LockUnavailable`` (> 0).

    Raises:
        NotImplementedError: this platform has no ``fcntl`` (Windows).
    """

    directory: pathlib.Path = attrs.field(converter=_to_path)
    wait: float = attrs.field(default=DEFAULT_WAIT, kw_only=True, converter=float, validator=_check_wait)
    # Threads of this process queue on a threading.Lock rather than all polling flock.
    _threads: _ThreadLocks = attrs.field(factory=_ThreadLocks, init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        if not _HAS_FLOCK:
            raise NotImplementedError(
                "FileLocks needs fcntl.flock, which this platform (Windows) lacks; "
                "use InProcessLocks or wix_refunds.journal.postgres.PostgresLocks"
            )

    def path(self, key: str) -> pathlib.Path:
        """Return the lock file of ``key``."""
        import hashlib

        return self.directory / f"{hashlib.sha256(key.encode('utf-8')).hexdigest()}.lock"

    @contextlib.contextmanager
    def hold(self, key: str) -> Iterator[HeldLock]:
        """Return a context manager that holds ``key`` for every process of this host while its block runs.

        Raises:
            LockUnavailable: another worker held ``key`` for the whole wait, or
                the lock file could not be created.
        """
        patience = _Patience(key, self.wait)
        with self._threads.hold(key, patience):
            while (fd := self._lock_once(key, patience)) is None:
                time.sleep(patience.next_delay())
            try:
                yield _Held(key)
            finally:
                self._release(fd, key)

    @contextlib.asynccontextmanager
    async def hold_async(self, key: str) -> AsyncIterator[HeldLock]:
        """Return an async context manager that holds ``key`` for every process of this host.

        Raises:
            LockUnavailable: another worker held ``key`` for the whole wait, or
                the lock file could not be created.
        """
        import asyncio

        patience = _Patience(key, self.wait)
        async with self._threads.hold_async(key, patience):
            while (fd := self._lock_once(key, patience)) is None:
                await asyncio.sleep(patience.next_delay())
            try:
                yield _Held(key)
            finally:
                self._release(fd, key)

    def _lock_once(self, key: str, patience: _Patience) -> int | None:
        """Return the descriptor of the key's file, locked; None while another holds it."""
        import fcntl

        try:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd = os.open(self.path(key), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError as exc:
            raise patience.unavailable(f"cannot open its lock file in {self.directory}: {exc}") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            # The holder removes the file before letting go, so the file locked here
            # may no longer be the one at the path: then it locks nothing; try again.
            current = os.path.samestat(os.fstat(fd), os.stat(self.path(key)))
        except (BlockingIOError, FileNotFoundError):
            current = False
        except BaseException:
            os.close(fd)
            raise
        if not current:
            os.close(fd)
            return None
        # Who holds it, for whoever looks into the folder; the lock does not depend on it.
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
            os.write(fd, f"{key}\npid {os.getpid()}\n".encode())
        return fd

    def _release(self, fd: int, key: str) -> None:
        path = self.path(key)
        try:
            # Remove the file while still holding it (see _lock_once), then let go. If
            # someone else removed it meanwhile, a file now at the path is not ours.
            with contextlib.suppress(FileNotFoundError):
                if os.path.samestat(os.fstat(fd), os.stat(path)):
                    os.unlink(path)
        finally:
            os.close(fd)
