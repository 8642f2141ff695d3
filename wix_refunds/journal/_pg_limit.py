"""PostgresLimit: a store's rate limit as a row of a PostgreSQL journal's database, for a fleet.

Each request reserves its start in one short transaction of the journal's pool: the row
is locked (``FOR UPDATE``), the window read, the start chosen and written back. Times
are the database's clock, so hosts whose clocks differ still share one window: each
waits the difference the database computed, on its own clock.
"""

from __future__ import annotations

import contextlib
from typing import Any, Protocol

from ._shared_limit import SCHEMA, StoredLimit, draw_in, hold_in

__all__ = ["SCHEMA_LOCK", "PostgresLimit"]

# Two first users creating tables at once would collide in PostgreSQL's catalog: each
# creation holds this transaction lock first (the journal's tables too).
SCHEMA_LOCK = "SELECT pg_advisory_xact_lock(7212448118339162405)"


class _Database(Protocol):
    """What the limit needs of a ``PostgresJournal``: its name and its pooled transactions."""

    @property
    def name(self) -> str: ...

    def _transaction(self, doing: str) -> contextlib.AbstractContextManager[Any]: ...

    def _execute(self, connection: Any, sql: str, params: tuple[Any, ...]) -> list[Any]: ...


_CLOCK = "SELECT extract(epoch from clock_timestamp())::float8"


class PostgresLimit(StoredLimit):
    """A store's limit in a ``PostgresJournal``'s database: shared by every host that uses it."""

    def __init__(self, journal: _Database, key: str, requests: int, per: float) -> None:
        super().__init__(journal.name, key, requests, per)
        self.journal = journal
        self._ready = False

    def _in_transaction(self, doing: str, work: Any) -> Any:
        journal = self.journal
        with journal._transaction(doing) as connection:
            if not self._ready:
                # Two first users creating the table at once would collide in the catalog.
                connection.execute(SCHEMA_LOCK)
                connection.execute(SCHEMA)

            def execute(sql: str, params: tuple[Any, ...]) -> list[Any]:
                return journal._execute(connection, sql, params)

            def clock() -> float:
                return float(execute(_CLOCK, ())[0][0])

            result = work(execute, clock)
        self._ready = True
        return result

    def _draw(self) -> float:
        return float(
            self._in_transaction(
                "drawing from the rate limit",
                lambda execute, clock: draw_in(execute, self.key, clock, self.requests, self.per, lock=" FOR UPDATE"),
            )
        )

    def _hold(self, seconds: float) -> None:
        self._in_transaction(
            "recording Wix's Retry-After",
            lambda execute, clock: hold_in(execute, self.key, clock, seconds, lock=" FOR UPDATE"),
        )
