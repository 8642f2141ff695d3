"""The worker side of fault_soak.py's multi-process schedules: one refund_order per task.

Each pool process takes tasks from fault_soak.py: it waits for the task's start
time (so that the 2-4 workers of one schedule reach the order together), then
runs ``refund_order`` over loopback against the FakeWix the parent serves, with
``FileLocks`` in a folder all workers share, and returns what happened as plain
values. ``init`` applies the same ``--break`` as the parent.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import attrs

sys.path.insert(0, str(Path(__file__).parent.parent))

from wix_refunds import (
    AsyncWixClient,
    Journal,
    MemoryJournal,
    RefundOutcome,
    RetryPolicy,
    SqliteJournal,
    WixClient,
    WixCredentials,
    WixRefundError,
    refund_order,
    refund_order_async,
)
from wix_refunds.journal import FileLocks

# Real waits, kept short: a late write lands within 0.3 s, before the first settle re-read (0.5 s).
REAL_POLICY = {"backoff": 0.01, "max_backoff": 0.05, "max_retry_after": 0.05, "settle": 1.0}

_broken: str | None = None


def apply_break(name: str | None) -> None:
    """Break the library on purpose, to show that the soak catches it.

    ``settle``: resend at once after a refund whose outcome is unknown (no settle
    window, no look-alike check). ``journal``: each worker keeps its own in-memory
    journal under the shared ``FileLocks`` (a lock, but no record another process can
    read: the set-up before the journal). ``locks``: each worker keeps its own in-memory
    journal and takes no lock (``NoLocks``).
    """
    global _broken
    _broken = name
    if name == "settle":
        from wix_refunds.core import _actions, _errors, _failures, _refund_rows

        unknown = _failures.ON_FAILURE[(_actions.Refund, _errors.WixOutcomeUnknown)]
        _failures.ON_FAILURE[(_actions.Refund, _errors.WixOutcomeUnknown)] = attrs.evolve(unknown, then="all")
        _refund_rows._ROWS = tuple(row for row in _refund_rows._ROWS if row[2] is not _refund_rows._wait_or_give_up)


class _Held:
    def check(self) -> None:
        pass

    async def check_async(self) -> None:
        pass


class NoLocks:
    """An ``OrderLocks`` that locks nothing (``--break locks``)."""

    @contextlib.contextmanager
    def hold(self, key: str) -> Iterator[_Held]:
        yield _Held()

    @contextlib.asynccontextmanager
    async def hold_async(self, key: str) -> AsyncIterator[_Held]:
        yield _Held()


def init(broken: str | None) -> None:
    """Pool initializer: apply the parent's ``--break``."""
    apply_break(broken)


def refund(task: dict[str, Any]) -> tuple[str | None, str | None, str | None, str]:
    """Run one refund_order (or refund_order_async); return (outcome status, error type, reference, message).

    ``task["timeout"]`` is the client's timeout: a short one gives up on a late write
    before the server drops the connection.
    """
    Path(task["pid_file"]).write_text(str(os.getpid()))
    delay = task["start_at"] - time.time()
    if delay > 0:
        time.sleep(delay)
    try:
        outcome = _sync(task) if task["kind"] == "sync" else asyncio.run(_async(task))
    except WixRefundError as exc:
        return None, type(exc).__name__, getattr(exc, "reference", None), str(exc)
    except Exception as exc:  # an untyped failure is itself a finding: report it, never hide it
        return None, f"untyped {type(exc).__name__}", None, str(exc)
    return outcome.status.value, None, outcome.reference, ""


def _journal(task: dict[str, Any]) -> Journal:
    if _broken in ("journal", "locks"):
        # A pool process is reused across tasks: forget what an earlier task recorded, as
        # a process of its own would.
        MemoryJournal().clear()
        locks = NoLocks() if _broken == "locks" else FileLocks(task["lock_dir"], wait=60)
        return MemoryJournal(locks=locks)
    return SqliteJournal(task["journal"], wait=60)


def _sync(task: dict[str, Any]) -> RefundOutcome:
    credentials = WixCredentials(**task["credentials"])
    policy = RetryPolicy(**{**REAL_POLICY, "settle": task["settle"]})
    with WixClient(credentials, base_url=task["url"], timeout=task["timeout"], retry=policy, rate_limit=None) as client:
        return refund_order(client, task["order_id"], task["request"], journal=_journal(task))


async def _async(task: dict[str, Any]) -> RefundOutcome:
    credentials = WixCredentials(**task["credentials"])
    policy = RetryPolicy(**{**REAL_POLICY, "settle": task["settle"]})
    async with AsyncWixClient(
        credentials, base_url=task["url"], timeout=task["timeout"], retry=policy, rate_limit=None
    ) as client:
        return await refund_order_async(client, task["order_id"], task["request"], journal=_journal(task))
