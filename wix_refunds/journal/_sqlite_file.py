"""One SQLite file shared by the processes of a host: a connection per process, short transactions.

``SqliteJournal`` (the journal and its order locks) and ``SqliteLimit`` (a store's rate
limit) both keep their rows this way. sqlite3 is imported on first use, so that
``import wix_refunds`` does not pay for it.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from ..core._errors import JournalError

if TYPE_CHECKING:
    import pathlib
    import sqlite3

__all__ = ["Execute", "SqliteFile"]

# Runs one statement in the open transaction and returns its rows.
Execute = Callable[[str, tuple[Any, ...]], list[Any]]


def _while_locked(step: Callable[[], Any], wait: float) -> Any:
    """Return ``step()``, tried again while SQLite answers "database is locked" at once, for up to ``wait`` seconds.

    SQLite skips its busy wait where waiting could deadlock: when processes open a new
    file together and each would turn it to WAL, one is told the file is locked at once.
    """
    import sqlite3

    delay, deadline = 0.001, time.monotonic() + wait
    while True:
        try:
            return step()
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() + delay > deadline:
                raise
        time.sleep(delay)
        delay = min(delay * 2, 0.05)


class SqliteFile:
    """A WAL-mode SQLite file: one connection per process (opened when first needed), used by one thread at a time.

    Args:
        path: the file; it and its folder (mode 0o700) are created when missing.
        schema: the statements that make its tables (``CREATE TABLE IF NOT EXISTS``).
        what: how errors name the file (``the journal /x/y.sqlite3``).
        wait: seconds to keep trying while SQLite answers that the file is locked.
    """

    def __init__(self, path: pathlib.Path, schema: tuple[str, ...], *, what: str, wait: float) -> None:
        self.path, self.schema, self.what, self.wait = path, schema, what, wait
        self._guard = threading.Lock()
        self._connection: list[tuple[int, sqlite3.Connection]] = []

    def _connect(self) -> sqlite3.Connection:
        import sqlite3

        # A connection per process: one made before a fork must not be used after it.
        if self._connection and self._connection[0][0] == os.getpid():
            return self._connection[0][1]

        def set_up() -> None:
            connection.execute("PRAGMA journal_mode = WAL")
            for statement in self.schema:
                connection.execute(statement)

        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            connection = sqlite3.connect(self.path, timeout=60.0, isolation_level=None, check_same_thread=False)
            _while_locked(set_up, self.wait)
        except (sqlite3.Error, OSError) as exc:
            raise JournalError(f"cannot open {self.what}: {exc}") from exc
        self._connection[:] = [(os.getpid(), connection)]
        return connection

    @contextlib.contextmanager
    def transaction(self, *, durable: bool) -> Iterator[Execute]:
        """Return a context manager running its block in one write transaction, committed as it ends.

        ``durable``: the commit waits for the disk (``synchronous = FULL``), else not (``NORMAL``).

        Raises:
            JournalError: the file cannot be opened or written.
        """
        import sqlite3

        with self._guard:
            connection = self._connect()
            try:
                connection.execute(f"PRAGMA synchronous = {'FULL' if durable else 'NORMAL'}")
                _while_locked(lambda: connection.execute("BEGIN IMMEDIATE"), self.wait)
            except sqlite3.Error as exc:
                raise JournalError(f"cannot write {self.what}: {exc}") from exc

            def execute(sql: str, params: tuple[Any, ...]) -> list[Any]:
                return connection.execute(sql, params).fetchall()

            try:
                yield execute
                connection.execute("COMMIT")
            except BaseException as exc:
                with contextlib.suppress(sqlite3.Error):
                    connection.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise JournalError(f"cannot write {self.what}: {exc}") from exc
                raise

    def read(self, sql: str, params: tuple[Any, ...]) -> list[Any]:
        """Return the rows of one query.

        Raises:
            JournalError: the file cannot be opened or read.
        """
        import sqlite3

        with self._guard:
            connection = self._connect()
            try:
                return connection.execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                raise JournalError(f"cannot read {self.what}: {exc}") from exc

    def close(self) -> None:
        """Close this process's connection (it is opened again when next needed)."""
        with self._guard:
            for _, connection in self._connection:
                connection.close()
            self._connection.clear()
