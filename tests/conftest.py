from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest

from wix_refunds import MemoryJournal
from wix_refunds.testing import FakeWix

from . import pg_server
from .command import CANARY


@pytest.fixture(scope="session")
def postgres() -> Iterator[pg_server.PgServer]:
    """Return a PostgreSQL server of the test session's own (each xdist worker's); skip without one, but fail in CI."""
    with contextlib.ExitStack() as stack:
        try:
            server = stack.enter_context(pg_server.running())
        except pg_server.ServerUnavailable as exc:
            if pg_server.in_ci():
                pytest.fail(f"CI needs a PostgreSQL server for the lock tests: {exc}")
            pytest.skip(f"no PostgreSQL server to test with: {exc}")
        yield server


@pytest.fixture(autouse=True)
def _fresh_memory_journal() -> Iterator[None]:
    """Start every test with an empty in-process journal: FakeWix's seeded IDs repeat from test to test."""
    MemoryJournal().clear()
    yield
    MemoryJournal().clear()


@pytest.fixture
def fake() -> FakeWix:
    """Return a FakeWix whose key is the canary that the command's tests check is never printed."""
    return FakeWix(api_key=CANARY)


@pytest.fixture
def served(fake: FakeWix) -> Iterator[str]:
    """Return the base URL of ``fake`` served on loopback for the test's duration."""
    with fake.serve() as base_url:
        yield base_url
