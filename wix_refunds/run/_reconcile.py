"""reconcile(): the journal's entries for a store held against Wix's books, each mismatch named.

The journal says what this system asked Wix for; Wix's books (its refunds, tagged with
their reference) say what happened. Every entry sent since a time is read against the
refunds carrying its reference on its order, and every tagged refund on those orders is
read against the references the journal knows. A mismatch, by kind::

    FAILED             parts of the refund failed on Wix and what did not fail falls
                       short of what was asked (a re-run with the reference pays the rest)
    PENDING_TOO_LONG   a part has been in flight on Wix for longer than ``pending_days``
    MISSING_ON_WIX     no refund on Wix carries the reference, though the entry is SENT
                       and its settle window has passed, or SETTLED
    AMOUNT_DIFFERS     what did not fail under the reference is not the amount asked
                       (checked for money-only refunds of an amount)
    ITEMS_DIFFER       the line items Wix refunded under the reference are not those asked
    UNKNOWN_REFERENCE  a refund on an order the journal covers is tagged with a reference
                       the journal has no entry for (another journal, or someone else)

An entry whose write may still land (SENT, inside its settle window) with nothing on Wix
yet is not judged; REFUSED and LAPSED entries with nothing on Wix match. The comparison
(``compare``) is pure; ``reconcile`` and ``reconcile_async`` read the journal and the books
(``_books``: two requests per 100 orders) and differ only where they await.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

import attrs

from ..client._client import AsyncWixClient, WixClient
from ..core._engine import tagged_refunds
from ..core._errors import InvalidRequest
from ..core._money import format_money
from ..core._orders import RefundStatus, _TextEnum
from ..core._references import reference_of
from ..journal._journal import EntryState, Journal, JournalEntry, in_thread
from ._books import OrderBooks, books_of, books_of_async

__all__ = ["Mismatch", "MismatchKind", "ReconcileReport", "compare", "reconcile", "reconcile_async"]

_IN_FLIGHT = frozenset({RefundStatus.PENDING, RefundStatus.SCHEDULED, RefundStatus.STARTED, RefundStatus.UNKNOWN})
_DAY = 86400.0


class MismatchKind(_TextEnum):
    """How an entry of the journal and Wix's books disagree (see the module docstring)."""

    FAILED = "FAILED"
    PENDING_TOO_LONG = "PENDING_TOO_LONG"
    MISSING_ON_WIX = "MISSING_ON_WIX"
    AMOUNT_DIFFERS = "AMOUNT_DIFFERS"
    ITEMS_DIFFER = "ITEMS_DIFFER"
    UNKNOWN_REFERENCE = "UNKNOWN_REFERENCE"


@attrs.frozen(kw_only=True)
class Mismatch:
    """One disagreement between the journal and Wix's books.

    Attributes:
        kind: what disagrees.
        order_id, reference: the order and the reference (the tag found on Wix, for
            ``UNKNOWN_REFERENCE``).
        detail: what was found, in a sentence for people.
        refund_ids: Wix's refunds carrying the reference on the order.
        entry: the journal's entry (None for ``UNKNOWN_REFERENCE``).
    """

    kind: MismatchKind
    order_id: str
    reference: str
    detail: str
    refund_ids: tuple[str, ...] = ()
    entry: JournalEntry | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the mismatch as JSON-ready data."""
        return {
            "kind": self.kind.value,
            "order_id": self.order_id,
            "reference": self.reference,
            "detail": self.detail,
            "refund_ids": list(self.refund_ids),
            "entry_state": None if self.entry is None else self.entry.state.value,
            "sent_at": None if self.entry is None else _instant(self.entry.sent_at),
        }


@attrs.frozen(kw_only=True)
class ReconcileReport:
    """What reconciling a store's journal with Wix's books found.

    Attributes:
        entries: how many journal entries were checked; ``orders``: on how many orders.
        in_flight: entries whose write may still land, not judged yet.
        mismatches: every disagreement, by order of the entries (unknown references last).
    """

    site_id: str
    journal: str
    since: datetime | None
    entries: int
    orders: int
    in_flight: int
    mismatches: tuple[Mismatch, ...] = ()

    @property
    def ok(self) -> bool:
        """Return whether the journal and Wix's books agree on everything checked."""
        return not self.mismatches

    def to_dict(self) -> dict[str, Any]:
        """Return the report as JSON-ready data (without the mismatches' own records)."""
        return {
            "site_id": self.site_id,
            "journal": self.journal,
            "since": None if self.since is None else self.since.isoformat(),
            "entries": self.entries,
            "orders": self.orders,
            "in_flight": self.in_flight,
            "mismatches": len(self.mismatches),
            "kinds": dict(sorted(Counter(m.kind.value for m in self.mismatches).items())),
            "ok": self.ok,
        }


def _instant(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, timezone.utc).isoformat(timespec="seconds")


def _ago(seconds: float) -> str:
    if seconds >= 2 * _DAY:
        return f"{seconds / _DAY:.0f} days"
    if seconds >= 2 * 3600:
        return f"{seconds / 3600:.0f} hours"
    return f"{seconds:.0f}s"


def _entry_mismatches(
    entry: JournalEntry, book: OrderBooks | None, *, now: float, pending_days: float
) -> list[Mismatch] | None:
    """Return the mismatches of one entry, or None while a write of its reference may still land."""
    refunds = [] if book is None else tagged_refunds(book.transactions, entry.reference)
    parts = [t for r in refunds for t in r.transactions]
    ids = tuple(r.id for r in refunds)

    def mismatch(kind: MismatchKind, detail: str) -> Mismatch:
        return Mismatch(
            kind=kind, order_id=entry.order_id, reference=entry.reference, detail=detail, refund_ids=ids, entry=entry
        )

    if not parts:
        if entry.may_land(now):
            return None
        if entry.state is EntryState.SENT:
            detail = (
                f"sent {_ago(now - entry.sent_at)} ago by {entry.holder}, its settle window ({entry.settle:g}s) "
                "has passed and no refund on Wix carries the reference: the write never landed"
            )
            return [mismatch(MismatchKind.MISSING_ON_WIX, detail)]
        if entry.state is EntryState.SETTLED:
            detail = f"the journal records Wix's refund {entry.refund_id}, but no refund on Wix carries the reference"
            return [mismatch(MismatchKind.MISSING_ON_WIX, detail)]
        return []
    assert book is not None
    if entry.may_land(now):
        # A write of this reference may still land (a re-payment of a declined part, say):
        # what Wix holds now is not yet what it will hold.
        return None
    currency = book.currency
    asked = json.loads(entry.asked)
    money_only = not asked["items"] and asked["shipping"] is None and not asked["fees"]
    amount = None if asked["amount"] is None or not money_only else Decimal(asked["amount"])
    live = sum((t.amount for t in parts if t.status is not RefundStatus.FAILED), Decimal(0))
    failed = sum((t.amount for t in parts if t.status is RefundStatus.FAILED), Decimal(0))
    mismatches = []
    in_flight = [r for r in refunds if any(t.status in _IN_FLIGHT for t in r.transactions)]
    if in_flight:
        since = min((r.created_at.timestamp() for r in in_flight if r.created_at is not None), default=entry.sent_at)
        if now - since > pending_days * _DAY:
            pending = sum((t.amount for t in parts if t.status in _IN_FLIGHT), Decimal(0))
            detail = f"{format_money(pending, currency)} pending on Wix for {_ago(now - since)}"
            mismatches.append(mismatch(MismatchKind.PENDING_TOO_LONG, detail))
    # What the reference asked in money: the amount; for items, what its first refund asked
    # (Wix's price then); for a full refund, nothing may be left on the payments.
    full = money_only and asked["amount"] is None
    owed = amount if amount is not None or full else sum((t.amount for t in refunds[0].transactions), Decimal(0))
    short = bool(failed) and (
        (owed is not None and live < owed)
        or (full and any(book.transactions.remaining_for(p) for p in book.transactions.payments))
        or not live
    )
    if short:
        of_asked = "" if amount is None else f" of the {format_money(amount, currency)} asked"
        detail = f"{format_money(failed, currency)} failed on Wix; {format_money(live, currency)}{of_asked} went back"
        mismatches.append(mismatch(MismatchKind.FAILED, detail))
    if amount is not None and live != amount and not (short and live < amount):
        detail = f"asked {format_money(amount, currency)}, Wix holds {format_money(live, currency)} under the reference"
        mismatches.append(mismatch(MismatchKind.AMOUNT_DIFFERS, detail))
    asked_items = {line: quantity for line, quantity, _ in asked["items"]}
    # The items are those of the reference's first refund that names any: a declined item
    # refund is paid again by amount (Wix no longer offers the items), naming none.
    first = next((r for r in refunds if r.line_items), None)
    wix_items: Counter[str] = Counter()
    if first is not None:
        wix_items.update({line.id.lower(): line.quantity for line in first.line_items})
    if (asked_items or wix_items) and dict(wix_items) != asked_items:
        detail = f"asked {_items(asked_items)}, Wix refunded {_items(wix_items)} under the reference"
        mismatches.append(mismatch(MismatchKind.ITEMS_DIFFER, detail))
    return mismatches


def _items(items: Mapping[str, int]) -> str:
    return ", ".join(f"{quantity} x line {line}" for line, quantity in sorted(items.items())) or "no items"


def compare(
    entries: Sequence[JournalEntry],
    known: Mapping[str, frozenset[str]],
    books: Mapping[str, OrderBooks],
    *,
    now: float,
    pending_days: float,
) -> tuple[list[Mismatch], int]:
    """Return the mismatches between ``entries`` and ``books``, and how many entries may still land. No I/O.

    Args:
        entries: the journal's entries to check.
        known: every reference the journal holds for each order of ``entries``, by lower-cased ID.
        books: Wix's books of those orders, by lower-cased ID (an order Wix does not have is absent).
        now: wall-clock seconds since the epoch.
        pending_days: how long a refund may stay in flight on Wix before it is named.
    """
    mismatches: list[Mismatch] = []
    in_flight = 0
    for entry in entries:
        found = _entry_mismatches(entry, books.get(entry.order_id.lower()), now=now, pending_days=pending_days)
        if found is None:
            in_flight += 1
        else:
            mismatches.extend(found)
    for key in dict.fromkeys(entry.order_id.lower() for entry in entries):
        book = books.get(key)
        if book is None:
            continue
        foreign: dict[str, list[str]] = {}
        for refund in book.transactions.refunds:
            tag = reference_of(refund.reason)
            if tag is not None and tag not in known.get(key, frozenset()):
                foreign.setdefault(tag, []).append(refund.id)
        for tag, ids in foreign.items():
            total = sum((r.amount for r in tagged_refunds(book.transactions, tag)), Decimal(0))
            detail = (
                f"Wix holds {format_money(total, book.currency)} refunded under a reference this journal does not "
                "know: another journal's, or someone else's"
            )
            kind = MismatchKind.UNKNOWN_REFERENCE
            mismatches.append(
                Mismatch(kind=kind, order_id=book.order_id, reference=tag, detail=detail, refund_ids=tuple(ids))
            )
    return mismatches, in_flight


def _since(since: datetime | None) -> float | None:
    if since is None:
        return None
    if since.tzinfo is None or since.utcoffset() is None:
        raise InvalidRequest("since", f"{since!r} is naive: give an aware datetime (a local time is never guessed)")
    return since.timestamp()


def _check(pending_days: float) -> float:
    days = float(pending_days)
    if not days >= 0:
        raise InvalidRequest("pending_days", f"{pending_days!r} is not a number of days, 0 or more")
    return days


def _known(journal: Journal, site_id: str, entries: Sequence[JournalEntry]) -> dict[str, frozenset[str]]:
    """Return every reference the journal holds for each order of ``entries`` (older entries too)."""
    orders = dict.fromkeys(entry.order_id.lower() for entry in entries)
    return {key: frozenset(e.reference for e in journal.entries(site_id, key)) for key in orders}


def reconcile(
    client: WixClient, journal: Journal, *, since: datetime | None = None, pending_days: float = 7
) -> ReconcileReport:
    """Return what holding the journal's entries for the client's store against Wix's books found.

    Reads only: the journal, then the books of the orders its entries name (two requests
    per 100 orders). No write is sent.

    Args:
        since: check the entries sent at or after this aware datetime (default: all).
        pending_days: name a refund in flight on Wix for longer than this many days.

    Raises:
        InvalidRequest: ``since`` is naive, or ``pending_days`` is negative.
        JournalError: the journal cannot be read.
        WixRefundError: Wix could not be read (after the retry policy).
    """
    days, site_id = _check(pending_days), client.credentials.site_id
    entries = journal.store_entries(site_id, _since(since))
    known = _known(journal, site_id, entries)
    books = books_of(client, list(dict.fromkeys(entry.order_id for entry in entries)))
    mismatches, in_flight = compare(entries, known, books, now=time.time(), pending_days=days)
    return _result(site_id, journal, since, entries, mismatches, in_flight)


async def reconcile_async(
    client: AsyncWixClient, journal: Journal, *, since: datetime | None = None, pending_days: float = 7
) -> ReconcileReport:
    """Return what ``reconcile`` returns, for an ``AsyncWixClient`` (the journal is read in a thread)."""
    days, site_id = _check(pending_days), client.credentials.site_id
    entries = await in_thread(journal.store_entries, site_id, _since(since))
    known = await in_thread(_known, journal, site_id, entries)
    books = await books_of_async(client, list(dict.fromkeys(entry.order_id for entry in entries)))
    mismatches, in_flight = compare(entries, known, books, now=time.time(), pending_days=days)
    return _result(site_id, journal, since, entries, mismatches, in_flight)


def _result(
    site_id: str,
    journal: Journal,
    since: datetime | None,
    entries: Sequence[JournalEntry],
    mismatches: Sequence[Mismatch],
    in_flight: int,
) -> ReconcileReport:
    return ReconcileReport(
        site_id=site_id,
        journal=journal.name,
        since=since,
        entries=len(entries),
        orders=len({entry.order_id.lower() for entry in entries}),
        in_flight=in_flight,
        mismatches=tuple(mismatches),
    )
