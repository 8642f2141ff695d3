"""The drivers of a refund run: they answer its asks (Wix calls, waits, the journal), sync and async.

``_Run.flow`` (in ``_run``) yields what it needs; ``_drive`` and ``_drive_async`` send it,
and differ only where they await. The async driver may be handed reads to send side by
side. ``journal_of`` picks the journal a call uses; ``JournalPort`` is a run's way to it.
``refund_order`` and friends (``_execute``) and batches (``_batch``) both drive runs here.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any, Union

from ..client._client import AsyncWixClient, WixClient
from ..core._engine import (
    Wait,
)
from ..core._errors import (
    InvalidRequest,
    WixRefundError,
)
from ..core._outcome import RefundOutcome
from ..core._request import RefundRequest
from ..journal._journal import EntryState, Journal, JournalEntry, MemoryJournal, holder_here, in_thread
from ..journal._journal_sql import SqliteJournal
from ..journal._locks import FileLocks, HeldLock, OrderLocks
from ..wix._wire import WireCall
from ._run import _Ask
from ._run import _Run as _Run
from ._run_journal import Intend, JournalAsk, LoadEntries, Record
from ._speculate import Together

__all__ = ["BatchItem", "JournalPort", "Asks", "journal_of", "writes"]

# One item of a batch: (order ID, request) or (order ID, request, context).
BatchItem = Union[tuple[str, RefundRequest | None], tuple[str, RefundRequest | None, Any]]

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
    elif type(locks).__name__ == "PostgresLocks" and type(locks).__module__ == "wix_refunds.journal.postgres":
        from ..journal.postgres import PostgresJournal, PostgresLocks

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


class Asks:
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

    def _advance(self, move: Callable[[], _Ask]) -> None:
        try:
            self._ask = move()
        except StopIteration as stop:
            self._outcome = stop.value


def writes(ask: _Ask) -> bool:
    """Return whether an ask is a write (the driver checks its lock before sending one)."""
    return isinstance(ask, WireCall) and ask.write


def _drive(client: WixClient, run: _Run, held: HeldLock, journal: Journal) -> RefundOutcome:
    port = JournalPort(journal, client.credentials.site_id, run.order_id, held)
    with run.traced() as finished:
        asks = Asks(run)
        for ask in asks:
            if writes(ask):
                held.check()
            try:
                answer = _answer(client, ask, port)
            except WixRefundError as exc:
                asks.throw(exc)
            else:
                asks.send(answer)
        return finished(asks.outcome)


async def _drive_async(client: AsyncWixClient, run: _Run, held: HeldLock, journal: Journal) -> RefundOutcome:
    port = JournalPort(journal, client.credentials.site_id, run.order_id, held)
    with run.traced() as finished:
        asks = Asks(run)
        for ask in asks:
            if writes(ask) or isinstance(ask, Intend):
                await held.check_async()
            try:
                answer = await _answer_async(client, ask, port)
            except WixRefundError as exc:
                asks.throw(exc)
            else:
                asks.send(answer)
        return finished(asks.outcome)


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
