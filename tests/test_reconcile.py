"""reconcile: the journal's entries held against Wix's books; and the journal's ``store_entries``.

``store_entries`` is part of the journal contract, held here over every backend as
tests/test_journal.py holds the rest (memory, SQLite, PostgreSQL).
"""

from __future__ import annotations

import asyncio
import pathlib
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import attrs
import httpx
import pytest

from wix_refunds import (
    AsyncWixClient,
    InvalidRequest,
    Journal,
    MemoryJournal,
    MismatchKind,
    ReconcileReport,
    RefundRequest,
    WixClient,
    reconcile,
    reconcile_async,
)
from wix_refunds.journal import EntryState, JournalEntry
from wix_refunds.journal._journal import asked_of
from wix_refunds.testing import FakeWix

from .test_journal import ORDER, SITE, Backend, entry, open_backend, record

OTHER_ORDER = "0b0a1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2e"
OTHER_SITE = "6f3c2a1b-0000-4000-8000-00000000a11d"


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def journal_backend(request: pytest.FixtureRequest, tmp_path: pathlib.Path) -> Iterator[Backend]:
    opened = open_backend(request.param, request, tmp_path)
    yield opened
    opened.close()


# --- store_entries: the journal contract ----------------------------------------------


def test_a_store_never_written_has_no_entries(journal_backend: Backend) -> None:
    assert journal_backend.make().store_entries(SITE) == ()


def test_store_entries_lists_every_order_of_the_store_oldest_first_and_no_other_store(
    journal_backend: Backend,
) -> None:
    journal = journal_backend.make()
    record(journal, entry("r-new", ago=10))
    record(journal, entry("r-old", order_id=OTHER_ORDER, ago=300))
    record(journal, entry("r-elsewhere", site_id=OTHER_SITE, ago=100))
    listed = journal_backend.make().store_entries(SITE)
    assert [(e.order_id.lower(), e.reference) for e in listed] == [(OTHER_ORDER, "r-old"), (ORDER, "r-new")]
    assert {e.state.value for e in listed} == {"SENT"}


def test_store_entries_since_a_time_leaves_out_what_was_sent_before_it(journal_backend: Backend) -> None:
    journal = journal_backend.make()
    record(journal, entry("r-old", ago=3600))
    record(journal, entry("r-new", order_id=OTHER_ORDER, ago=60))
    since = time.time() - 600
    assert [e.reference for e in journal.store_entries(SITE, since)] == ["r-new"]
    assert [e.reference for e in journal.store_entries(SITE, None)] == ["r-old", "r-new"]


def test_store_entries_compares_the_site_id_without_case(journal_backend: Backend) -> None:
    journal = journal_backend.make()
    record(journal, entry("r-1", site_id=SITE.upper()))
    assert [e.reference for e in journal.store_entries(SITE.lower())] == ["r-1"]


# --- reconcile: the library function --------------------------------------------------


def _client(fake: FakeWix) -> WixClient:
    return WixClient(fake.credentials, http_client=httpx.Client(transport=fake.transport()), rate_limit=None)


def _by_hand(
    journal: Journal,
    fake: FakeWix,
    order_id: str,
    reference: str,
    *,
    ago: float,
    state: EntryState = EntryState.SENT,
    request: RefundRequest | None = None,
) -> JournalEntry:
    """Record an entry in ``journal`` as a run would have, sent ``ago`` seconds ago, then put it in ``state``."""
    intent = attrs.evolve(
        entry(reference, site_id=fake.site_id, order_id=order_id, ago=ago),
        asked=asked_of(request or RefundRequest(amount=Decimal("10"))),
    )
    recorded = record(journal, intent)
    if state is not EntryState.SENT:
        refund_id = "refund-by-hand" if state is EntryState.SETTLED else None
        recorded = attrs.evolve(recorded, state=state, refund_id=refund_id)
        journal.settle(recorded)
    return recorded


def test_reconcile_and_its_async_twin_name_the_same_mismatches_and_write_nothing() -> None:
    fake, journal = FakeWix(), MemoryJournal()
    lost, shared = fake.add_order(total="80"), fake.add_order(total="80")
    _by_hand(journal, fake, lost, "r-lost", ago=3600)
    _by_hand(journal, fake, shared, "r-mine", ago=60, state=EntryState.SETTLED)
    fake.add_foreign_refund(shared, 10, reason="[ref:r-mine]")
    fake.add_foreign_refund(shared, 3, reason="goodwill [ref:r-theirs]")
    fake.add_foreign_refund(shared, 2, reason="from the dashboard")
    with _client(fake) as client:
        report = reconcile(client, journal)

    async def twin() -> ReconcileReport:
        async with httpx.AsyncClient(transport=fake.transport()) as http:
            return await reconcile_async(AsyncWixClient(fake.credentials, http_client=http, rate_limit=None), journal)

    assert asyncio.run(twin()) == report
    assert [(m.kind, m.order_id, m.reference) for m in report.mismatches] == [
        (MismatchKind.MISSING_ON_WIX, lost, "r-lost"),
        (MismatchKind.UNKNOWN_REFERENCE, shared, "r-theirs"),
    ]
    assert "3.00 USD" in report.mismatches[1].detail
    assert (report.entries, report.orders, report.in_flight, report.ok) == (2, 2, 0, False)
    assert report.to_dict()["kinds"] == {"MISSING_ON_WIX": 1, "UNKNOWN_REFERENCE": 1}
    assert fake.writes == []


def test_reconcile_reads_the_books_of_many_orders_in_two_requests() -> None:
    fake, journal = FakeWix(), MemoryJournal()
    for n in range(5):
        oid = fake.add_order(total="80")
        _by_hand(journal, fake, oid, f"r-{n}", ago=60, state=EntryState.SETTLED)
        fake.add_foreign_refund(oid, 10, reason=f"[ref:r-{n}]")
    with _client(fake) as client:
        report = reconcile(client, journal)
    assert report.ok, report.mismatches
    assert [r.path for r in fake.requests] == ["/ecom/v1/orders/search", "/ecom/v1/payments/list-by-ids"]


def test_an_intent_inside_its_settle_window_is_not_judged_yet_and_refused_or_lapsed_entries_match() -> None:
    fake, journal = FakeWix(), MemoryJournal()
    _by_hand(journal, fake, fake.add_order(), "r-landing", ago=1)
    _by_hand(journal, fake, fake.add_order(), "r-refused", ago=3600, state=EntryState.REFUSED)
    _by_hand(journal, fake, fake.add_order(), "r-lapsed", ago=3600, state=EntryState.LAPSED)
    with _client(fake) as client:
        report = reconcile(client, journal)
    assert (report.ok, report.entries, report.in_flight) == (True, 3, 1)


def test_reconcile_since_a_time_checks_only_the_entries_sent_since() -> None:
    fake, journal = FakeWix(), MemoryJournal()
    _by_hand(journal, fake, fake.add_order(), "r-old", ago=10 * 86400)
    recent = fake.add_order()
    _by_hand(journal, fake, recent, "r-recent", ago=3600)
    with _client(fake) as client:
        report = reconcile(client, journal, since=datetime.now(timezone.utc) - timedelta(days=1))
    assert [(m.order_id, m.reference) for m in report.mismatches] == [(recent, "r-recent")]


@pytest.mark.parametrize(
    ("keywords", "field"),
    [({"since": datetime(2024, 6, 1)}, "since"), ({"pending_days": -1}, "pending_days")],
)
def test_reconcile_refuses_a_naive_since_or_negative_pending_days_before_any_read(
    keywords: dict[str, Any], field: str
) -> None:
    fake = FakeWix()
    with _client(fake) as client, pytest.raises(InvalidRequest, match=field):
        reconcile(client, MemoryJournal(), **keywords)
    assert fake.requests == []
