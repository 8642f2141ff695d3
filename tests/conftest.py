from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest

from . import pg_server


@pytest.fixture(scope="session")
def postgres() -> Iterator[pg_server.PgServer]:
    """Return a PostgreSQL server of the test session's own; skip without one, but fail in CI."""
    with contextlib.ExitStack() as stack:
        try:
            server = stack.enter_context(pg_server.running())
        except pg_server.ServerUnavailable as exc:
            if pg_server.in_ci():
                pytest.fail(f"CI needs a PostgreSQL server for the lock tests: {exc}")
            pytest.skip(f"no PostgreSQL server to test with: {exc}")
        yield server
