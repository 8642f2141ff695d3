"""refund_order(), refund_order_async() and refund_orders_async(): observe, step, act, repeat.

One generator, ``_Run.flow`` (in ``_run``), holds the loop; it yields the Wix calls it needs
and receives their answers. The sync and async drivers only send those calls
through ``Steps`` (the async one awaits), so both behave the same and the same tests cover both.
The async driver may be handed two reads at once (a standard refund's transactions
and refundability), which it sends side by side; the sync driver sends them in turn.
A batch (``_batch``) seeds a run with what a group's shared reads showed, so that
the run starts where a single read would have left it.

asyncio is imported inside the async functions: whoever runs them has it loaded
already, and synchronous callers are spared its import time.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Iterator
from datetime import datetime
from functools import partial
from typing import Any, Union

from . import _more_calls
from ._client import AsyncWixClient, WixClient
from ._engine import (
    Wait,
)
from ._errors import (
    InvalidRequest,
    WixRefundError,
)
from ._journal import EntryState, Journal, JournalEntry, MemoryJournal, holder_here, in_thread
from ._journal_sql import SqliteJournal
from ._locks import FileLocks, HeldLock, OrderLocks, lock_key
from ._outcome import OutcomeStatus, RefundOutcome, StepRecord, new_reference
from ._routing import STANDARD_REFUND_CUTOFF, RefundRequest
from ._run import _Ask
from ._run import _Run as _Run
from ._run_journal import Intend, JournalAsk, LoadEntries, Record
from ._speculate import Together
from ._wire import WireCall

__all__ = [
    "OutcomeStatus",
    "RefundOutcome",
    "StepRecord",
    "new_reference",
    "refund_order",
    "refund_order_async",
    "refund_orders_async",
]

_MEMORY = MemoryJournal()
_ALIASES: dict[tuple[Any, ...], Journal] = {}
_ALIASES_GUARD = threading.Lock()


def journal_of(journal: Journal | None, locks: OrderLocks | None) -> Journal:
    """Return the journal a call uses: ``journal``, else the one the older ``locks=`` stands for.

    ``FileLocks(directory)`` stands for ``SqliteJournal(directory / "journal.sqlite3")`` (its
    locks the same files in ``directory``) and
    ``PostgresLocks(dsn)`` for ``PostgresJournal(dsn)``: those who chose them wanted every
    process (or host) covered, and a lock alone cannot say what may still land. Any other
    locks, and none, get an in-memory journal (this process's).

    Raises:
        InvalidRequest: both are given (a journal holds its own order locks).
    """
    if journal is not None and locks is not None:
        raise InvalidRequest("locks", "pass journal= or locks=, not both: a journal holds the order locks itself")
    if journal is not None:
        return journal
    if locks is None:
        return _MEMORY
    if isinstance(locks, FileLocks):
        key: tuple[Any, ...] = ("file", locks.directory, locks.wait)
        path = locks.directory / "journal.sqlite3"
        make: Callable[[], Journal] = partial(SqliteJournal, path, wait=locks.wait, lock_dir=locks.directory)
    elif type(locks).__name__ == "PostgresLocks" and type(locks).__module__ == "wix_refunds.postgres":
        from .postgres import PostgresJournal, PostgresLocks

        assert isinstance(locks, PostgresLocks)
        key = ("postgres", locks._dsn, locks.wait, locks.connect_timeout)
        make = partial(PostgresJournal, locks._dsn, wait=locks.wait, connect_timeout=locks.connect_timeout)
    else:
        return MemoryJournal(locks=locks)
    # One journal (one connection, or one pool) per place, however many calls pass new locks.
    with _ALIASES_GUARD:
        if key not in _ALIASES:
            _ALIASES[key] = make()
        return _ALIASES[key]


class JournalPort:
    """One run's way to the journal: its store, its lock, and who this process is."""

    def __init__(self, journal: Journal, site_id: str, order_id: str, held: HeldLock) -> None:
        self.journal, self.site_id, self.order_id, self.held = journal, site_id, order_id, held

    def answer(self, ask: JournalAsk) -> Any:
        """Return the journal's answer to ``ask`` (I/O: a file or a database)."""
        import time

        if isinstance(ask, LoadEntries):
            return self.journal.entries(self.site_id, self.order_id), time.time()
        if isinstance(ask, Record):
            return self.journal.settle(ask.entry)
        entry = JournalEntry(
            site_id=self.site_id,
            order_id=self.order_id,
            reference=ask.reference,
            asked=ask.asked,
            state=EntryState.SENT,
            holder=holder_here(),
            sent_at=time.time(),
            settle=ask.settle,
            journal=self.journal.name,
        )
        return self.journal.intend(entry, self.held, ask.seen)


class Steps:
    """A run's asks, one at a time, for a driver that answers each (``send``) or fails it (``throw``).

    Iterating yields the asks until the flow returns; its outcome is then ``outcome``.
    """

    def __init__(self, run: _Run) -> None:
        self._flow = run.flow()
        self._ask: _Ask | None = None
        self._outcome: RefundOutcome | None = None
        self._advance(lambda: next(self._flow))

    def __iter__(self) -> Iterator[_Ask]:
        while self._outcome is None and self._ask is not None:
            yield self._ask

    @property
    def outcome(self) -> RefundOutcome:
        """Return the run's outcome (once iterating has stopped)."""
        assert self._outcome is not None
        return self._outcome

    def send(self, answer: Any) -> None:
        """Hand the answer of the current ask to the flow."""
        self._advance(lambda: self._flow.send(answer))

    def throw(self, exc: WixRefundError) -> None:
        """Hand the failure of the current ask to the flow."""
        self._advance(lambda: self._flow.throw(exc))

    def _advance(self, step: Callable[[], _Ask]) -> None:
        try:
            self._ask = step()
        except StopIteration as stop:
            self._outcome = stop.value


def writes(ask: _Ask) -> bool:
    """Return whether an ask is a write (the driver checks its lock before sending one)."""
    return isinstance(ask, WireCall) and ask.write


def _drive(client: WixClient, run: _Run, held: HeldLock, journal: Journal) -> RefundOutcome:
    port = JournalPort(journal, client.credentials.site_id, run.order_id, held)
    with run.traced() as finished:
        steps = Steps(run)
        for ask in steps:
            if writes(ask):
                held.check()
            try:
                answer = _answer(client, ask, port)
            except WixRefundError as exc:
                steps.throw(exc)
            else:
                steps.send(answer)
        return finished(steps.outcome)


async def _drive_async(client: AsyncWixClient, run: _Run, held: HeldLock, journal: Journal) -> RefundOutcome:
    port = JournalPort(journal, client.credentials.site_id, run.order_id, held)
    with run.traced() as finished:
        steps = Steps(run)
        for ask in steps:
            if writes(ask) or isinstance(ask, Intend):
                await held.check_async()
            try:
                answer = await _answer_async(client, ask, port)
            except WixRefundError as exc:
                steps.throw(exc)
            else:
                steps.send(answer)
        return finished(steps.outcome)


def _answer(client: WixClient, ask: _Ask, port: JournalPort) -> Any:
    """Return the answer of one ask: wait, use the journal, send reads in turn (the first failure stops), or send."""
    if isinstance(ask, Wait):
        return client.retry.sleep(ask.seconds)
    if isinstance(ask, (LoadEntries, Intend, Record)):
        return port.answer(ask)
    if isinstance(ask, Together):
        return tuple(_or_failure(client.send_counted, call) for call in ask.calls)
    if isinstance(ask, tuple):
        return tuple(client.send_counted(call) for call in ask)
    return client.send_counted(ask)


async def _answer_async(client: AsyncWixClient, ask: _Ask, port: JournalPort) -> Any:
    """Return the answer of one ask: wait, use the journal (in a thread), send reads side by side, or send."""
    if isinstance(ask, Wait):
        return await client.retry.async_sleep(ask.seconds)
    if isinstance(ask, (LoadEntries, Intend, Record)):
        return await in_thread(port.answer, ask)
    if isinstance(ask, tuple):
        return await _side_by_side(client, ask)
    if isinstance(ask, Together):
        return await _side_by_side(client, ask.calls, failures=True)
    return await client.send_counted(ask)


def _or_failure(send: Callable[[WireCall[Any]], Any], call: WireCall[Any]) -> Any:
    """Return ``send(call)``, or the Wix failure it raised."""
    try:
        return send(call)
    except WixRefundError as exc:
        return exc


async def _side_by_side(
    client: AsyncWixClient, calls: tuple[WireCall[Any], ...], *, failures: bool = False
) -> tuple[Any, ...]:
    """Return the answers of ``calls`` (reads), sent at once, in order; raise the first failure in that order.

    With ``failures``, a Wix failure is returned in its call's place instead.
    """
    import asyncio

    answers = await asyncio.gather(*(client.send_counted(call) for call in calls), return_exceptions=True)
    # Anything but a Wix failure (a bug, a cancellation, a stop) goes on as it came.
    for answer in answers:
        if isinstance(answer, BaseException) and not isinstance(answer, WixRefundError):
            raise answer
    if failures:
        return tuple(answers)
    for answer in answers:
        if isinstance(answer, WixRefundError):
            raise answer
    return tuple(answers)


def refund_order(
    client: WixClient,
    order_id: str,
    request: RefundRequest | None = None,
    *,
    dry_run: bool = False,
    cutoff: datetime = STANDARD_REFUND_CUTOFF,
    locks: OrderLocks | None = None,
    context: Any = None,
    journal: Journal | None = None,
) -> RefundOutcome:
    """Refund one order exactly once and return what was done.

    Safe to run again: every step is decided from what Wix shows. Every refund
    carries the request's ``reference`` (or one the call makes, returned in the
    outcome and in errors), so a re-run with the same reference finds it
    (``ALREADY_DONE``) and never refunds again.

    ``journal`` records each refund's intent before its write leaves and how it
    ended, and keeps two workers off one order: a run that finds a write that may
    still land, whoever sent it, waits for it before writing. ``MemoryJournal()``
    (the default) covers this process only; ``SqliteJournal(path)`` the processes
    of one host; ``wix_refunds.postgres.PostgresJournal(dsn)`` a fleet. ``locks``
    (older) gives only the order lock, with an in-memory journal.
    ``context`` (any JSON-able value: your refund request ID, a ticket) comes back
    untouched in the outcome, beside the request it answers.

    Raises:
        RefundNotSupported: the rules or Wix's refundability refuse the refund.
        RefundDeclined: Wix or the payment provider declined the refund.
        WixOutcomeUnknown: the refund may have landed and did not show within the
            settle window; re-run with the reference it names.
        LockUnavailable, LockLost: another worker held the order, or the lock was lost.
        JournalError: the journal cannot be used, or holds a write that may still land.
        WixNotFound, WixAuthError, WixConnectionError, ...: the typed failure.
    """
    book = journal_of(journal, locks)
    run = _Run(order_id, request, dry_run=dry_run, cutoff=cutoff, settle=client.retry.settle, context=context)
    with book.hold(lock_key(client.credentials.site_id, order_id)) as held:
        return _drive(client, run, held, book)


async def refund_order_async(
    client: AsyncWixClient,
    order_id: str,
    request: RefundRequest | None = None,
    *,
    dry_run: bool = False,
    cutoff: datetime = STANDARD_REFUND_CUTOFF,
    locks: OrderLocks | None = None,
    context: Any = None,
    journal: Journal | None = None,
) -> RefundOutcome:
    """Refund one order exactly once (the async twin of ``refund_order``).

    The order, its transactions and its refundability are read at the same time, so a
    standard refund takes two round trips (the reads, then the write) for four requests.
    For an order that takes another route (before the cutoff, to cancel) the other two
    answers are not used: it costs two reads more, and no write and no round trip more.
    """
    settle = client.retry.settle
    run = _Run(
        order_id, request, dry_run=dry_run, cutoff=cutoff, settle=settle, context=context, parallel=True, speculate=True
    )
    book = journal_of(journal, locks)
    async with book.hold_async(lock_key(client.credentials.site_id, order_id)) as held:
        return await _drive_async(client, run, held, book)


# One item of a batch: (order ID, request) or (order ID, request, context).
BatchItem = Union[tuple[str, RefundRequest | None], tuple[str, RefundRequest | None, Any]]

# Search Orders' page and both list-by-ids calls take at most 100 orders: the fewest requests.
DEFAULT_GROUP_SIZE = _more_calls.MAX_LIST_IDS
# How long a batch relies on what its shared reads showed before reading again to write.
# At Wix's 200 requests a minute a group of 100 standard refunds (two requests each) takes
# a minute to work through; its last orders are then read again only if it takes twice that.
DEFAULT_MAX_AGE = 120.0


async def refund_orders_async(
    client: AsyncWixClient,
    requests: Iterable[BatchItem] | AsyncIterable[BatchItem],
    *,
    concurrency: int = 8,
    dry_run: bool = False,
    cutoff: datetime = STANDARD_REFUND_CUTOFF,
    locks: OrderLocks | None = None,
    group_size: int = DEFAULT_GROUP_SIZE,
    max_age: float = DEFAULT_MAX_AGE,
    journal: Journal | None = None,
) -> AsyncIterator[RefundOutcome]:
    """Refund many orders, ``concurrency`` at a time; yield each outcome as it finishes.

    ``requests`` is read lazily, so memory stays flat however many there are; each
    item is ``(order_id, request)`` or ``(order_id, request, context)``, the context
    returned untouched in its outcome. A failed order yields an outcome with status
    ``FAILED`` and its error (logged once, at INFO); it never stops the others. The
    client's rate limiter keeps the batch under Wix's limit.

    Wix allows 200 requests a minute per site, so a batch's speed is its request count.
    Orders are read in groups of up to ``group_size`` (1 to 100): each group's orders
    are locked, then read in shared requests (Search Orders, then transactions and
    fulfilments for many orders at once), then refunded one by one exactly as
    ``refund_order_async`` would from there; a standard refund then costs about two
    requests instead of four. A run whose shared reads are older than ``max_age``
    seconds reads them again before writing. An order another worker holds is
    deferred and tried again later in the batch. A batch holds up to ``group_size`` +
    3 x ``concurrency`` order locks at once (with ``PostgresLocks``, a session each:
    lower ``group_size`` where the database allows few connections; ``PostgresJournal``
    shares a small pool). ``journal`` is as for ``refund_order``. ``group_size=1`` reads
    every order on its own, as ``refund_order_async`` does.

    Raises:
        InvalidRequest: ``group_size`` is not 1 to 100, or ``max_age`` is negative.
    """
    from . import _batch

    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    most = _more_calls.MAX_LIST_IDS
    if isinstance(group_size, bool) or not isinstance(group_size, int) or not 1 <= group_size <= most:
        raise InvalidRequest("group_size", f"must be a whole number from 1 to {most}, got {group_size!r}")
    if not max_age >= 0:
        raise InvalidRequest("max_age", f"must be a number of seconds >= 0, got {max_age!r}")
    if isinstance(requests, AsyncIterable):
        source: AsyncIterator[BatchItem] = aiter(requests)
    else:
        source = _as_async(iter(requests))
    settings = _batch.Settings(
        concurrency=concurrency,
        dry_run=dry_run,
        cutoff=cutoff,
        journal=journal_of(journal, locks),
        group_size=group_size,
        max_age=float(max_age),
    )
    outcomes = _batch.outcomes(client, source, settings)
    try:
        async for outcome in outcomes:
            yield outcome
    finally:
        await outcomes.aclose()  # type: ignore[attr-defined]


async def _as_async(items: Iterator[BatchItem]) -> AsyncIterator[BatchItem]:
    for item in items:
        yield item
