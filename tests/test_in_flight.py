"""What a stopped command names as possibly in flight: the refunds whose intent this process recorded."""

from __future__ import annotations

from wix_refunds.cli._cli_run import InFlight
from wix_refunds.journal import EntryState, JournalEntry, lock_key
from wix_refunds.journal._journal import MemoryJournal, holder_here

SITE = "8198a56a-e4dc-428d-9186-c05b8c59fe52"
ORDERS = ["eb1167b3-67a9-4378-bc65-c1e582e2e662", "23a7711a-8133-4876-b7eb-dcd9e87a1613"]


def _intend(journal: MemoryJournal, order_id: str, reference: str, sent_at: float) -> None:
    entry = JournalEntry(
        site_id=SITE,
        order_id=order_id,
        reference=reference,
        asked="10.00",
        state=EntryState.SENT,
        holder=holder_here(),
        sent_at=sent_at,
        settle=120.0,
    )
    with journal.hold(lock_key(SITE, order_id)) as held:
        journal.intend(entry, held, frozenset())


def test_only_the_refunds_whose_intent_this_process_recorded_are_named() -> None:
    journal, flight = MemoryJournal(), InFlight()
    flight.start("a", ORDERS[0], "r-a", "in.csv:2")
    flight.start("b", ORDERS[1], "r-b", "in.csv:3")
    _intend(journal, ORDERS[0], "r-a", flight.since + 1)
    assert flight.keep_written(journal, SITE)
    assert flight.lines() == [f"  in.csv:2 order {ORDERS[0]}: a write may be in flight (reference r-a)"]


def test_a_write_recorded_after_the_wall_clock_stepped_back_is_still_named() -> None:
    journal, flight = MemoryJournal(), InFlight()
    flight.start("a", ORDERS[0], "r-a", "in.csv:2")
    _intend(journal, ORDERS[0], "r-a", flight.since - 30)  # NTP stepped the clock back 30 s
    assert flight.keep_written(journal, SITE)
    assert [line.split(":")[1] for line in flight.lines()] == ["2 order eb1167b3-67a9-4378-bc65-c1e582e2e662"]
