"""reconcile: the journal's entries held against Wix's books; and the journal's ``store_entries``.

``store_entries`` is part of the journal contract, held here over every backend as
tests/test_journal.py holds the rest (memory, SQLite, PostgreSQL).
"""

from __future__ import annotations

import pathlib
import time
from collections.abc import Iterator

import pytest

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
