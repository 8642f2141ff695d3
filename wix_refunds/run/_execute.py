"""refund_order(), refund_order_async() and refund_orders_async(): observe, decide, act, repeat.

One generator, ``_Run.flow`` (in ``_run``), holds the loop; it yields the Wix calls it needs
and receives their answers. The drivers (``_drivers``) only send those calls, sync or async,
so both behave the same and the same tests cover both. A batch (``_batch``) seeds a run
with what a group's shared reads showed, so that the run starts where a single read would
have left it. This module imports ``_batch``, which imports the drivers: no cycle.

asyncio is imported inside the async functions: whoever runs them has it loaded
already, and synchronous callers are spared its import time.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator
from datetime import datetime
from typing import Any

from ..client._client import AsyncWixClient, WixClient
from ..core._errors import (
    InvalidRequest,
)
from ..core._outcome import OutcomeStatus, RefundOutcome, StepRecord
from ..core._references import new_reference
from ..core._request import RefundRequest
from ..core._routing import STANDARD_REFUND_CUTOFF
from ..journal._journal import Journal
from ..journal._locks import OrderLocks, lock_key
from ..wix import _more_calls
from . import _batch
from ._drivers import BatchItem, _drive, _drive_async, journal_of
from ._run import _Run as _Run

__all__ = [
    "OutcomeStatus",
    "RefundOutcome",
    "StepRecord",
    "new_reference",
    "refund_order",
    "refund_order_async",
    "refund_orders_async",
]


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

    Safe to run again: every action is decided from what Wix shows. Every refund
    carries the request's ``reference`` (or one the call makes, returned in the
    outcome and in errors), so a re-run with the same reference finds it
    (``ALREADY_DONE``) and never refunds again.

    ``journal`` records each refund's intent before its write leaves and how it
    ended, and keeps two workers off one order: a run that finds a write that may
    still land, whoever sent it, waits for it before writing. ``MemoryJournal()``
    (the default) covers this process only; ``SqliteJournal(path)`` the processes
    of one host; ``wix_refunds.journal.postgres.PostgresJournal(dsn)`` a fleet. ``locks``
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
