"""The batch behind ``refund_orders_async``: groups of orders locked, read together, then refunded one by one.

Wix allows 200 requests a minute per site, so a batch's speed is its request count: a
standard refund read on its own costs four requests, read as a group about two::

    source --> feeder --> planner: a group of up to group_size distinct orders
                                   lock each order (one held by another worker: deferred)
                                   shared reads (``_shared``): one Search Orders and up
                                   to two list calls for the whole group
                      --> workers (concurrency of them): each order's run, seeded with
                          what the group read, under its lock: refundability and writes

Lock, then read: an order is locked before its group is read and stays locked until its
refund ends, so what a write relies on is as fresh as a single read would be. A run whose
shared reads are older than ``max_age`` reads again before writing (``_Run``). From its
seed a run goes exactly as ``refund_order_async`` would: the engine decides every action
from what was seen, and after a failed write it forgets and reads that order on its own.
``group_size=1`` is the same batch with groups of one: nothing is read together, and each
worker locks its order itself (waiting for it, as a single refund does) before reading it.

An order another worker holds is tried again in a later group, and after ``_DEFER_TRIES``
tries waits for its lock; an order listed twice waits for its first copy. Reading ahead
stops at 2 x concurrency runs waiting, so at most group_size + 3 x concurrency orders (and
locks) are in hand at once (with groups of one, only the concurrency's locks).
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from datetime import datetime
from typing import TYPE_CHECKING, Any, Union

import attrs

from ..client._client import AsyncWixClient
from ..client._log import log_event
from ..core._errors import WixRefundError
from ..core._outcome import OutcomeStatus, RefundOutcome
from ..core._request import RefundRequest
from ..journal._journal import Journal
from ..journal._locks import HeldLock, OrderLocks, lock_key
from ._drivers import BatchItem, _drive_async
from ._run import _Run
from ._shared import SharedReads

if TYPE_CHECKING:
    import asyncio

__all__ = ["Settings", "outcomes"]

# How often an order whose lock another worker holds is tried again before it waits for it.
_DEFER_TRIES = 4
# How long a lock may take before it counts as held by another worker: a second until one
# was had, then four times the slowest so far (at least 50 ms): a free lock costs a connection.
_NOW_FIRST, _NOW_LEAST = 1.0, 0.05
# How soon an order listed twice is looked at again while its first copy runs.
_AGAIN = 0.05


@attrs.frozen(kw_only=True)
class Settings:
    """The settings of one batch (checked by ``refund_orders_async``)."""

    concurrency: int
    dry_run: bool
    cutoff: datetime
    journal: Journal
    group_size: int
    max_age: float


def _new_run(
    client: AsyncWixClient,
    order_id: str,
    request: RefundRequest | None,
    context: Any,
    *,
    dry_run: bool,
    cutoff: datetime,
) -> _Run | RefundOutcome:
    """Return the run of one batch item, or its FAILED outcome when the item is refused before any request."""
    try:
        settle = client.retry.settle
        return _Run(order_id, request, dry_run=dry_run, cutoff=cutoff, settle=settle, context=context, parallel=True)
    except WixRefundError as exc:
        return RefundOutcome(
            order_id=str(order_id), status=OutcomeStatus.FAILED, request=request, context=context, error=exc
        )


async def _run_locked(
    client: AsyncWixClient, run: _Run, journal: Journal, held: HeldLock | None = None
) -> RefundOutcome:
    """Return the outcome of ``run`` under its lock (``held``, or taken from ``journal``); failures are in it."""
    try:
        if held is not None:
            return await _drive_async(client, run, held, journal)
        async with journal.hold_async(lock_key(client.credentials.site_id, run.order_id)) as taken:
            return await _drive_async(client, run, taken, journal)
    except WixRefundError as exc:
        # _drive_async logged it (at INFO): the caller gets it in the outcome, not twice in the log.
        return run.outcome(OutcomeStatus.FAILED, exc)


class _Hold:
    """One order's lock, held by a task of its own: taken by the planner, let go by the worker that refunds it."""

    def __init__(self, locks: OrderLocks, key: str) -> None:
        import asyncio

        self.key = key
        self.lock: HeldLock | None = None
        self.took = 0.0
        self._got: asyncio.Future[HeldLock] = asyncio.get_running_loop().create_future()
        self._done = asyncio.Event()
        self._task = asyncio.ensure_future(self._hold(locks))

    async def _hold(self, locks: OrderLocks) -> None:
        async with locks.hold_async(self.key) as held:
            self._got.set_result(held)
            await self._done.wait()

    async def take(self, within: float) -> bool:
        """Return whether the lock was had within ``within`` seconds; if not, the attempt is given up."""
        import asyncio

        started = time.monotonic()
        try:
            waits: set[asyncio.Future[Any]] = {self._got, self._task}
            await asyncio.wait(waits, timeout=within, return_when=asyncio.FIRST_COMPLETED)
        except BaseException:
            await self.release()
            raise
        if self._got.done():
            self.lock, self.took = self._got.result(), time.monotonic() - started
            return True
        failed = self._task.exception() if self._task.done() and not self._task.cancelled() else None
        await self.release()
        if failed is not None and not isinstance(failed, WixRefundError):
            raise failed
        return False

    async def release(self) -> None:
        """Let the lock go (or stop waiting for it); return once it is let go."""
        import asyncio

        self._done.set()
        if not self._got.done():
            self._task.cancel()
        await asyncio.wait({self._task})
        if not self._task.cancelled():
            self._task.exception()  # retrieved: a lock that could not be had is already dealt with


@attrs.define(eq=False)
class _Item:
    """One order of the batch on its way: its run, its lock key, and how often its lock was busy."""

    run: _Run
    key: str
    tries: int = 0
    due: float = 0.0


@attrs.define(eq=False)
class _Work:
    """A run for a worker: under its group's lock, or (``hold`` None) taking its lock itself."""

    item: _Item
    hold: _Hold | None


# What the feeder passes on: an item, the source's failure, or None at its end.
_Entry = Union[BatchItem, BaseException, None]


class _Batch:
    """One batch: a feeder reads the source, a planner locks and reads groups, workers refund."""

    def __init__(self, client: AsyncWixClient, source: AsyncIterator[BatchItem], settings: Settings) -> None:
        import asyncio

        self.client = client
        self.source = source
        self.settings = settings
        self.inbox: asyncio.Queue[_Entry] = asyncio.Queue(maxsize=settings.group_size)
        # Filled by the planner only while short of ``lookahead`` runs, so memory stays flat.
        self.ready: asyncio.Queue[_Work | None] = asyncio.Queue()
        self.results: asyncio.Queue[RefundOutcome | BaseException | None] = asyncio.Queue(settings.concurrency)
        self.taken = asyncio.Event()
        self.lookahead = 2 * settings.concurrency
        self.deferred: list[_Item] = []
        self.early: list[_Entry] = []
        self.ended = False
        # The lock keys of orders this batch has in hand: an order listed twice waits for its first copy.
        self.busy: set[str] = set()
        self.holds: set[_Hold] = set()
        self.reads = SharedReads(client, max_age=settings.max_age)
        self.slowest: float | None = None

    # --- the tasks ---------------------------------------------------------------------

    async def feed(self) -> None:
        """Pass the source's items to the planner, then None (or the source's failure)."""
        import asyncio

        try:
            async for item in self.source:
                await self.inbox.put(item)
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # the caller's iterator failing: surface it
            await self.inbox.put(exc)
            return
        await self.inbox.put(None)

    async def plan(self) -> None:
        """Form, lock and read groups while the workers run short; then tell each worker to stop."""
        import asyncio

        try:
            while (group := await self._next_group()) is not None:
                for work in await self._read_together(group):
                    self.ready.put_nowait(work)
                while self.ready.qsize() >= self.lookahead:
                    self.taken.clear()
                    await self.taken.wait()
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # a bug, a stop, or the caller's iterator failing: surface it
            await self.results.put(exc)
            return
        for _ in range(self.settings.concurrency):
            self.ready.put_nowait(None)

    async def work(self) -> None:
        """Refund the runs the planner hands over, one at a time, until told to stop."""
        import asyncio

        try:
            while (work := await self.ready.get()) is not None:
                self.taken.set()
                outcome = await self._refund(work)
                self.busy.discard(work.item.key)
                await self.results.put(outcome)
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # a bug, or a stop: surface it
            await self.results.put(exc)
        await self.results.put(None)

    async def _refund(self, work: _Work) -> RefundOutcome:
        if work.hold is None:
            return await _run_locked(self.client, work.item.run, self.settings.journal)
        try:
            return await _run_locked(self.client, work.item.run, self.settings.journal, held=work.hold.lock)
        finally:
            # Let go before the outcome is out, as a single refund does.
            await work.hold.release()
            self.holds.discard(work.hold)

    async def close(self) -> None:
        """Let go of every lock still held (the caller stopped early, or something failed)."""
        for hold in list(self.holds):
            await hold.release()
        self.holds.clear()

    # --- groups --------------------------------------------------------------------------

    async def _next_group(self) -> list[_Item] | None:
        """Return the next group (deferred orders that are due first), or None when nothing is left."""
        import asyncio

        size = self.settings.group_size
        while True:
            now = time.monotonic()
            group: list[_Item] = []
            keys: set[str] = set()
            for item in list(self.deferred):
                if len(group) < size and item.due <= now:
                    if item.key in keys or item.key in self.busy:
                        item.due = now + _AGAIN
                        continue
                    self.deferred.remove(item)
                    group.append(item)
                    keys.add(item.key)
            while len(group) < size and (self.early or not self.inbox.empty()):
                taken = await self._intake(self.early.pop() if self.early else self.inbox.get_nowait())
                if taken is None:
                    continue
                if taken.key in keys or taken.key in self.busy:
                    taken.due = now + _AGAIN
                    self.deferred.append(taken)
                else:
                    group.append(taken)
                    keys.add(taken.key)
            if group:
                self.busy |= keys
                return group
            if self.ended and not self.deferred:
                return None
            # Nothing to do yet: wait for the source, or for the next deferred order.
            wait = None if not self.deferred else max(min(i.due for i in self.deferred) - now, 0.0)
            if self.ended:
                await asyncio.sleep(wait or 0.0)
                continue
            try:
                self.early.append(await asyncio.wait_for(self.inbox.get(), wait))
            except asyncio.TimeoutError:
                pass

    async def _intake(self, entry: _Entry) -> _Item | None:
        """Return the item for a source entry; None at the end, or for an item refused before any request."""
        if entry is None:
            self.ended = True
            return None
        if isinstance(entry, BaseException):
            raise entry
        order_id, request, context = entry[0], entry[1], entry[2] if len(entry) > 2 else None
        run = _new_run(
            self.client, order_id, request, context, dry_run=self.settings.dry_run, cutoff=self.settings.cutoff
        )
        if isinstance(run, RefundOutcome):
            await self.results.put(run)
            return None
        return _Item(run=run, key=lock_key(self.client.credentials.site_id, run.order_id))

    async def _read_together(self, group: list[_Item]) -> list[_Work]:
        """Return the group's works, locked and seeded with its shared reads (the others are deferred).

        Groups of one (``group_size=1``) read nothing together: each order is read as
        ``refund_order_async`` reads it, and its worker takes its lock itself, waiting
        for it as a single refund does. Lock, then read, holds either way.
        """
        if self.settings.group_size == 1:
            return [_Work(item=item, hold=None) for item in group]
        held = await self._lock(group)
        if held:
            await self.reads.seed([work.item.run for work in held])
        return held

    async def _lock(self, group: list[_Item]) -> list[_Work]:
        """Return the group's works whose lock was had now; defer the others."""
        import asyncio

        holds = [_Hold(self.settings.journal, item.key) for item in group]
        self.holds.update(holds)
        now = _NOW_FIRST if self.slowest is None else min(_NOW_FIRST, max(_NOW_LEAST, 4 * self.slowest))
        had = await asyncio.gather(*(hold.take(now) for hold in holds))
        works = []
        for item, hold, got in zip(group, holds, had):
            if got:
                self.slowest = max(self.slowest or 0.0, hold.took)
                works.append(_Work(item=item, hold=hold))
                continue
            self.holds.discard(hold)
            self._defer(item)
        return works

    def _defer(self, item: _Item) -> None:
        """Try ``item`` again in a later group; after ``_DEFER_TRIES`` tries, let it wait for its lock."""
        item.tries += 1
        run = item.run
        if item.tries > _DEFER_TRIES:
            # Still busy: wait for the lock as a single refund does (up to the locks' own wait).
            self.ready.put_nowait(_Work(item=item, hold=None))
            return
        self.busy.discard(item.key)
        item.due = time.monotonic() + min(0.1 * 2.0**item.tries, 2.0)
        self.deferred.append(item)
        log_event(
            logging.DEBUG,
            "order %s is locked by another worker: tried again later in the batch (try %d)",
            run.order_id,
            item.tries,
            order_id=run.order_id,
            step="lock",
            attempt=item.tries,
        )


async def outcomes(
    client: AsyncWixClient, source: AsyncIterator[BatchItem], settings: Settings
) -> AsyncIterator[RefundOutcome]:
    """Yield the outcome of every item of ``source`` as it finishes (see ``refund_orders_async``)."""
    import asyncio

    batch = _Batch(client, source, settings)
    tasks = [
        asyncio.ensure_future(batch.feed()),
        asyncio.ensure_future(batch.plan()),
        *(asyncio.ensure_future(batch.work()) for _ in range(settings.concurrency)),
    ]
    # Each of the ``concurrency`` workers puts None on ``results`` as it ends.
    running = settings.concurrency
    try:
        while running:
            result = await batch.results.get()
            if result is None:
                running -= 1
            elif isinstance(result, BaseException):
                raise result
            else:
                yield result
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await batch.close()
