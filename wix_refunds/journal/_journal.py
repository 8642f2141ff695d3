"""The refund journal: what this system asked Wix for, written before the write leaves.

Wix has no idempotency key, so the client keeps the record. One entry per store,
order and reference says what was asked, who sent it, when, and how it ended::

    SENT      the intent is durable and the write may be on its way or landing;
              every run on the order waits it out (a tagged refund shows on Wix,
              or the settle window counted from ``sent_at`` passes) before writing
    SETTLED   Wix answered the write (its refund is in ``answer``), or a run saw
              the tagged refund on Wix
    REFUSED   Wix answered that nothing was done (428, 4xx); a re-run may write
    LAPSED    the settle window passed with nothing on Wix; a re-run may write

The journal is also the order lock: ``hold(key)`` keeps two workers off one order,
and ``intend()`` refuses a write while another one for the order may still land,
whoever sent it and whatever became of them. A lock says who may act now; only
the record says what may still land.

Backends, by how far apart the workers may be::

    MemoryJournal     one process: tests and one-off scripts (not durable)
    SqliteJournal     every process and user of one host: a WAL-mode SQLite file,
                      fsynced at each commit, with an flock per order beside it
    PostgresJournal   every host of a fleet (wix_refunds.journal.postgres, ``postgres`` extra)
"""

from __future__ import annotations

import contextlib
import enum
import json
import os
import socket
import threading
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

import attrs

from ..client._retry import RateLimiter
from ..core._errors import JournalError
from ..core._money import amount_key, format_money
from ..core._orders import LineItem, RefundRecord, RefundStatus, RefundTransaction
from ..core._request import RefundRequest
from ._locks import HeldLock, InProcessLocks, OrderLocks
from ._shared_limit import LimitPlace, SharesLimit

if TYPE_CHECKING:
    pass

__all__ = [
    "EntryState",
    "Journal",
    "JournalEntry",
    "MemoryJournal",
    "asked_of",
    "describe_asked",
    "holder_here",
    "in_thread",
    "record_from_text",
    "record_to_text",
    "refuse_in_flight",
    "store_key",
    "store_order",
]


class EntryState(str, enum.Enum):
    """Where one journal entry stands (see the module docstring)."""

    SENT = "SENT"
    SETTLED = "SETTLED"
    REFUSED = "REFUSED"
    LAPSED = "LAPSED"

    def __str__(self) -> str:
        return str(self.value)


@attrs.frozen(kw_only=True)
class JournalEntry:
    """One refund this system intended: what was asked, who sent it, when, and how it ended.

    ``sent_at`` is wall-clock time (seconds since the epoch): processes and hosts
    share no other clock. ``settle`` is the window its sender waits for it.
    ``attempts`` counts the writes made under this reference; ``journal`` names
    the journal that holds the entry.
    """

    site_id: str
    order_id: str
    reference: str
    asked: str
    state: EntryState
    holder: str
    sent_at: float
    settle: float
    attempts: int = 1
    refund_id: str | None = None
    answer: str | None = None
    error: str | None = None
    journal: str = ""

    def may_land(self, now: float) -> bool:
        """Return whether this entry's write may still land on Wix at wall-clock ``now``."""
        return self.state is EntryState.SENT and now - self.sent_at < self.settle


def holder_here() -> str:
    """Return who this process is, as entries and messages name it: ``host H, pid P``."""
    return f"host {socket.gethostname()}, pid {os.getpid()}"


def asked_of(request: RefundRequest) -> str:
    """Return what ``request`` asks of Wix's money and stock, as canonical JSON text.

    Two runs under one reference must ask the same: the reason and the e-mail flag
    do not move money or stock, so they are left out.
    """
    asked: dict[str, Any] = {
        "amount": _number(request.amount),
        "restock": request.restock,
        "items": [[i.line_item_id.lower(), i.quantity, i.restock_quantity] for i in request.items],
        "shipping": _number(request.shipping),
        "fees": [[f.fee_id.lower(), _number(f.amount)] for f in request.fees],
    }
    return json.dumps(asked, sort_keys=True, separators=(",", ":"))


def _number(value: object) -> str | None:
    # 3, 3.0 and 3.00 ask the same: amounts are compared by value, not by how they were typed.
    if value is None:
        return None
    if isinstance(value, Decimal):
        return amount_key(value)
    return str(value)


def describe_asked(asked: str, currency: str) -> str:
    """Return what ``asked_of`` text asks, as a person reads it: ``10.00 USD, 2 x line L (restock 1)``."""
    raw = json.loads(asked)
    parts = [] if raw["amount"] is None else [format_money(Decimal(raw["amount"]), currency)]
    if raw["amount"] is None and not (raw["items"] or raw["shipping"] or raw["fees"]):
        parts.append("everything left")
    for line, quantity, restock in raw["items"]:
        parts.append(f"{quantity} x line {line}" + (f" (restock {restock})" if restock else ""))
    if raw["shipping"] is not None:
        parts.append(f"shipping {raw['shipping']}")
    parts.extend(f"fee {fee} {amount}" for fee, amount in raw["fees"])
    if raw["restock"]:
        parts.append("restock")
    return ", ".join(parts)


def record_to_text(record: RefundRecord) -> str:
    """Return Wix's answer to a refund, kept in the journal, as JSON text."""
    return json.dumps(
        {
            "id": record.id,
            "reason": record.reason,
            "transactions": [
                {"paymentId": t.payment_id, "amount": str(t.amount), "status": t.status.value, "external": t.external}
                for t in record.transactions
            ],
            "lineItems": [{"id": line.id, "quantity": line.quantity} for line in record.line_items],
        },
        separators=(",", ":"),
    )


def record_from_text(text: str) -> RefundRecord:
    """Return the refund kept by ``record_to_text``.

    Raises:
        JournalError: the text is not what ``record_to_text`` writes.
    """
    try:
        raw = json.loads(text)
        return RefundRecord(
            id=raw["id"],
            reason=raw["reason"],
            transactions=tuple(
                RefundTransaction(
                    payment_id=t["paymentId"],
                    amount=Decimal(t["amount"]),
                    status=RefundStatus.parse(t["status"]),
                    external=bool(t["external"]),
                )
                for t in raw["transactions"]
            ),
            line_items=tuple(LineItem(id=line["id"], quantity=int(line["quantity"])) for line in raw["lineItems"]),
        )
    except (ValueError, KeyError, TypeError, ArithmeticError) as exc:
        raise JournalError(f"a journal entry's recorded answer cannot be read ({type(exc).__name__}: {exc})") from exc


def in_flight_error(entry: JournalEntry, now: float) -> JournalError:
    """Return the error that refuses a write while ``entry``'s may still land; nothing is sent."""
    return JournalError(
        f"order {entry.order_id}: a write of reference {entry.reference} sent {max(now - entry.sent_at, 0):.0f}s ago "
        f"by {entry.holder} may still land (settle window {entry.settle:g}s); nothing was sent. "
        "Run again: the next run waits for it."
    )


@runtime_checkable
class Journal(OrderLocks, Protocol):
    """What every backend offers: the order lock, and the entries of an order."""

    @property
    def name(self) -> str:
        """Return what names this journal in entries, plans and messages (no password)."""
        ...

    def entries(self, site_id: str, order_id: str) -> tuple[JournalEntry, ...]:
        """Return the entries of one order.

        Raises:
            JournalError: the journal cannot be read.
        """
        ...

    def intend(self, entry: JournalEntry, held: HeldLock, seen: frozenset[tuple[str, int]]) -> JournalEntry:
        """Record ``entry`` (state SENT) durably before its write leaves; return it as recorded.

        ``seen`` names the entries (reference, attempts) the run read and waited out.

        Raises:
            JournalError: another write for the order may still land, or the journal
                cannot be written; nothing may be sent.
            LockLost: ``held`` is no longer held.
        """
        ...

    def settle(self, entry: JournalEntry) -> None:
        """Record how ``entry``'s write ended (its state, refund and answer or error).

        Only the attempt ``entry`` names is changed: a later attempt is left alone.

        Raises:
            JournalError: the journal cannot be written.
        """
        ...

    def store_entries(self, site_id: str, since: float | None = None) -> tuple[JournalEntry, ...]:
        """Return the entries of every order of one store sent at or after ``since``, oldest first.

        ``since`` is wall-clock seconds since the epoch, as ``sent_at`` (None: every entry).
        Entries sent at the same time come in order and reference order.

        Raises:
            JournalError: the journal cannot be read.
        """
        ...


def store_key(site_id: str, order_id: str) -> tuple[str, str]:
    """Return the key of an order's entries: its site and order IDs, lower-cased."""
    # GUIDs compare without regard to case, as the lock keys do.
    return site_id.lower(), order_id.lower()


def store_order(entry: JournalEntry) -> tuple[float, str, str]:
    """Return where ``entry`` comes in ``store_entries``: by time sent, then order and reference."""
    return entry.sent_at, entry.order_id.lower(), entry.reference


def refuse_in_flight(entries: Sequence[JournalEntry], entry: JournalEntry, seen: frozenset[tuple[str, int]]) -> None:
    # The run waited out what it saw when it loaded the order's entries; a write that
    # may still land and that it did not see was made since, by a worker that lost its
    # lock or took it in the meantime: never write on top of it.
    for other in entries:
        if other.may_land(entry.sent_at) and (other.reference, other.attempts) not in seen:
            raise in_flight_error(other, entry.sent_at)


# --- memory ---------------------------------------------------------------------------


class _MemoryBook:
    """The entries of every MemoryJournal of this process."""

    def __init__(self) -> None:
        self.guard = threading.Lock()
        self.entries: dict[tuple[str, str], dict[str, JournalEntry]] = {}


@attrs.frozen(eq=False)
class MemoryJournal(SharesLimit):
    """A journal in this process's memory: for tests and one-off scripts.

    Every instance shares the one table of the process (as ``InProcessLocks``
    does), so a new instance per call still sees what the others wrote. Not
    durable: a service must pass a ``SqliteJournal`` or a ``PostgresJournal``.

    Args:
        locks: the order locks (``InProcessLocks()`` by default).
    """

    locks: OrderLocks = attrs.field(factory=InProcessLocks, kw_only=True)
    _book: ClassVar[_MemoryBook] = _MemoryBook()

    @property
    def name(self) -> str:
        """Return ``memory``: this journal lives in this process only."""
        return "memory"

    def hold(self, key: str) -> contextlib.AbstractContextManager[HeldLock]:
        """Return a context manager that holds ``key`` while its block runs."""
        return self.locks.hold(key)

    def hold_async(self, key: str) -> contextlib.AbstractAsyncContextManager[HeldLock]:
        """Return an async context manager that holds ``key`` while its block runs."""
        return self.locks.hold_async(key)

    def entries(self, site_id: str, order_id: str) -> tuple[JournalEntry, ...]:
        """Return the entries of one order."""
        with self._book.guard:
            return tuple(self._book.entries.get(store_key(site_id, order_id), {}).values())

    def intend(self, entry: JournalEntry, held: HeldLock, seen: frozenset[tuple[str, int]]) -> JournalEntry:
        """Record ``entry`` before its write leaves; return it as recorded (the driver checked ``held``)."""
        with self._book.guard:
            order = self._book.entries.setdefault(store_key(entry.site_id, entry.order_id), {})
            refuse_in_flight(list(order.values()), entry, seen)
            before = order.get(entry.reference)
            recorded = attrs.evolve(
                entry,
                state=EntryState.SENT,
                attempts=1 if before is None else before.attempts + 1,
                journal=self.name,
            )
            order[entry.reference] = recorded
            return recorded

    def settle(self, entry: JournalEntry) -> None:
        """Record how ``entry``'s write ended."""
        with self._book.guard:
            order = self._book.entries.get(store_key(entry.site_id, entry.order_id), {})
            current = order.get(entry.reference)
            if current is not None and current.attempts == entry.attempts:
                order[entry.reference] = entry

    def store_entries(self, site_id: str, since: float | None = None) -> tuple[JournalEntry, ...]:
        """Return the entries of one store sent at or after ``since``, oldest first."""
        site = site_id.lower()
        with self._book.guard:
            found = [
                entry
                for (entry_site, _), order in self._book.entries.items()
                if entry_site == site
                for entry in order.values()
                if since is None or entry.sent_at >= since
            ]
        return tuple(sorted(found, key=store_order))

    def _limit_place(self, key: str, requests: int, per: float) -> LimitPlace:
        """Return where this journal keeps a store's limit: this process (``RateLimiter``)."""
        return "memory", lambda: RateLimiter(requests, per)

    def clear(self) -> None:
        """Forget every entry of every MemoryJournal of this process (for tests)."""
        with self._book.guard:
            self._book.entries.clear()


async def in_thread(function: Callable[..., Any], *args: Any) -> Any:
    """Return ``function(*args)`` run in a worker thread, so the event loop runs on."""
    import asyncio

    return await asyncio.to_thread(function, *args)
