"""What one refund run knows of the journal, and what it asks of it. No I/O.

The run (``_run``) yields these asks; the drivers (``_execute``) answer them from the
journal: ``LoadEntries`` once the route is known to be a standard refund, ``Intend``
before each Refund Payments leaves, ``Record`` when a write's fate is known (or a
run sees another's tagged refund on Wix).
"""

from __future__ import annotations

import logging
from typing import Any, Union

import attrs

from ..client._log import log_event
from ..core._actions import InFlight, Unconfirmed
from ..core._errors import InvalidRequest
from ..core._orders import OrderTransactions, RefundRecord
from ..core._refund_writes import landed_attempt
from ..journal._journal import EntryState, JournalEntry, describe_asked, record_from_text, record_to_text

__all__ = ["Intend", "JournalAsk", "LoadEntries", "Record", "RunJournal"]


@attrs.frozen
class LoadEntries:
    """Read the journal's entries of the order; answered ``(entries, wall-clock now)``."""


@attrs.frozen(kw_only=True)
class Intend:
    """Record the intent of a refund before it is sent; answered with the entry as recorded.

    The driver fills in the store, who this process is and the wall-clock time.
    """

    reference: str
    asked: str
    settle: float
    #: The entries (reference, attempts) the run read from the journal and waited out.
    seen: frozenset[tuple[str, int]] = frozenset()


@attrs.frozen
class Record:
    """Record how a journal entry's write ended; answered ``None``."""

    entry: JournalEntry


JournalAsk = Union[LoadEntries, Intend, Record]


class RunJournal:
    """One run's view of the journal: its own entry, the order's writes in flight, and when it read them."""

    def __init__(self, order_id: str, reference: str, asked: str) -> None:
        self.order_id, self.reference, self.asked = order_id, reference, asked
        self.entry: JournalEntry | None = None
        self.others: list[JournalEntry] = []
        # Wall-clock time of the read, and the run's clock and seconds slept then.
        self.loaded: tuple[float, float, float] | None = None
        self.recorded: tuple[JournalEntry, RefundRecord] | None = None
        self.known: frozenset[tuple[str, int]] = frozenset()

    def load(self, entries: tuple[JournalEntry, ...], now: float, *, at: float, slept: float, currency: str) -> None:
        """Take in the order's entries, read at wall-clock ``now`` (run clock ``at``, ``slept`` seconds slept).

        Raises:
            InvalidRequest: this reference was sent with another request.
        """
        self.loaded = (now, at, slept)
        self.known = frozenset((e.reference, e.attempts) for e in entries)
        own = next((e for e in entries if e.reference == self.reference), None)
        self.others = [e for e in entries if e is not own and e.may_land(now)]
        if own is not None:
            self._own(own, now, currency)
        for entry in self.others:
            log_event(
                logging.WARNING,
                "order %s: a write of reference %s sent %.0fs ago by %s may still land; waiting up to %.0fs",
                self.order_id,
                entry.reference,
                now - entry.sent_at,
                entry.holder,
                entry.settle - (now - entry.sent_at),
                order_id=self.order_id,
                reference=entry.reference,
            )

    def _own(self, own: JournalEntry, now: float, currency: str) -> None:
        self.entry = own
        if own.state in (EntryState.SENT, EntryState.SETTLED) and own.asked != self.asked:
            raise InvalidRequest(
                "reference",
                f"reference {self.reference} was sent to Wix for order {self.order_id} asking "
                f"{describe_asked(own.asked, currency)} (journal {own.journal}), but this request asks "
                f"{describe_asked(self.asked, currency)}; nothing was sent. "
                "Use a new reference for a different refund.",
            )
        if own.state is EntryState.SETTLED and own.answer is not None:
            self.recorded = (own, record_from_text(own.answer))
        elif own.may_land(now):
            self.others.append(own)

    def view(self, *, at: float, slept: float) -> tuple[tuple[InFlight, ...], Unconfirmed | None]:
        """Return the writes that may still land and the answer to confirm, aged to run clock ``at``."""
        if self.loaded is None:
            return (), None
        now, then, slept_then = self.loaded
        # Wait times count even when a test's sleep does not really sleep.
        since = max(at - then, slept - slept_then)
        in_flight = tuple(
            InFlight(
                reference=e.reference,
                holder=e.holder,
                age=now - e.sent_at + since,
                settle=e.settle,
                attempts=e.attempts,
            )
            for e in self.others
        )
        unconfirmed = None
        if self.recorded is not None:
            entry, answer = self.recorded
            unconfirmed = Unconfirmed(answer=answer, age=now - entry.sent_at + since, settle=entry.settle)
        return in_flight, unconfirmed

    def settle_listed(self, transactions: OrderTransactions | None) -> list[Record]:
        """Return the records that settle each entry still SENT whose tagged refund Wix lists now."""
        if transactions is None:
            return []
        records = []
        for entry in [e for e in [self.entry, *self.others] if e is not None and e.state is EntryState.SENT]:
            listed = landed_attempt(transactions, entry.reference, entry.attempts)
            if listed is None:
                continue
            settled = attrs.evolve(entry, state=EntryState.SETTLED, refund_id=listed.id, answer=record_to_text(listed))
            records.append(Record(settled))
            if entry is self.entry:
                self.entry = settled
            else:
                self.others.remove(entry)
        return records

    def intend(self, settle: float) -> Intend:
        """Return the ask that records this run's intent before its write."""
        return Intend(reference=self.reference, asked=self.asked, settle=settle, seen=self.known)

    def intended(self, entry: JournalEntry) -> None:
        """Take in the entry the journal recorded for this run's write."""
        self.entry = entry
        self.known |= {(entry.reference, entry.attempts)}

    def ended(self, state: EntryState, **how: Any) -> Record:
        """Return the record of how this run's write ended (``how``: refund_id, answer, error)."""
        assert self.entry is not None
        self.entry = attrs.evolve(self.entry, state=state, **how)
        return Record(self.entry)

    def answer(self) -> RefundRecord | None:
        """Return Wix's answer to this reference's write kept by an earlier run, if it did not fail."""
        if self.recorded is None or not self.recorded[1].counted:
            return None
        return self.recorded[1]
