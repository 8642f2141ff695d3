"""Placeholder: one lock per order in this process (replaced by the locks helper's module)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Protocol

__all__ = ["HeldLock", "InProcessLocks", "OrderLocks", "lock_key"]


def lock_key(site_id: str, order_id: str) -> str:
    """Return the lock key of an order: the site ID and the lower-cased order GUID."""
    return f"{site_id}:{order_id.lower()}"


class HeldLock(Protocol):
    def check(self) -> None: ...

    async def check_async(self) -> None: ...


class OrderLocks(Protocol):
    def hold(self, key: str) -> contextlib.AbstractContextManager[HeldLock]: ...

    def hold_async(self, key: str) -> contextlib.AbstractAsyncContextManager[HeldLock]: ...


class _Held:
    def check(self) -> None:
        pass

    async def check_async(self) -> None:
        pass


class InProcessLocks:
    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[str, tuple[threading.Lock, int]] = {}

    def _enter(self, key: str) -> threading.Lock:
        with self._guard:
            lock, users = self._locks.get(key, (threading.Lock(), 0))
            self._locks[key] = (lock, users + 1)
            return lock

    def _leave(self, key: str) -> None:
        with self._guard:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)

    @contextlib.contextmanager
    def hold(self, key: str) -> Iterator[HeldLock]:
        lock = self._enter(key)
        try:
            with lock:
                yield _Held()
        finally:
            self._leave(key)

    @contextlib.asynccontextmanager
    async def hold_async(self, key: str) -> AsyncIterator[HeldLock]:
        import asyncio

        lock = self._enter(key)
        try:
            delay = 0.001
            while not lock.acquire(blocking=False):
                await asyncio.sleep(delay)
                delay = min(delay * 2, 0.05)
            try:
                yield _Held()
            finally:
                lock.release()
        finally:
            self._leave(key)
