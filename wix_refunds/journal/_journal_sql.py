"""The journal in SQL: one schema and its statements for SQLite and PostgreSQL; ``SqliteJournal``.

The statements are written with ``?`` placeholders (SQLite's); ``PostgresJournal``
(in ``wix_refunds.journal.postgres``) sends the same text with ``%s``.
"""

from __future__ import annotations

import contextlib
import math
import os
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from ..core._errors import JournalError, LockLost
from ._journal import EntryState, JournalEntry, in_thread, refuse_in_flight, store_key, store_order
from ._locks import DEFAULT_WAIT, FileLocks, HeldLock, _check_wait, _Patience, _ThreadLocks
from ._shared_limit import LimitPlace, SharesLimit, SqliteLimit
from ._sqlite_file import SqliteFile

if TYPE_CHECKING:
    import pathlib

__all__ = ["SqliteJournal", "default_journal_path"]


TABLE = "wix_refunds_journal"

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    site_id    TEXT NOT NULL,
    order_id   TEXT NOT NULL,
    reference  TEXT NOT NULL,
    asked      TEXT NOT NULL,
    state      TEXT NOT NULL,
    holder     TEXT NOT NULL,
    sent_at    DOUBLE PRECISION NOT NULL,
    settle     DOUBLE PRECISION NOT NULL,
    attempts   INTEGER NOT NULL,
    refund_id  TEXT,
    answer     TEXT,
    error      TEXT,
    journal    TEXT NOT NULL,
    PRIMARY KEY (site_id, order_id, reference)
)
"""

_COLUMNS = (
    "site_id, order_id, reference, asked, state, holder, sent_at, settle, attempts, refund_id, answer, error, journal"
)

SELECT_ORDER = f"SELECT {_COLUMNS} FROM {TABLE} WHERE site_id = ? AND order_id = ?"

# A store's entries since a time (-Infinity for all). Rows are put in store_order by the
# caller: PostgreSQL's text order follows its locale, SQLite's the bytes.
SELECT_STORE = f"SELECT {_COLUMNS} FROM {TABLE} WHERE site_id = ? AND sent_at >= ?"

INTEND = f"""
INSERT INTO {TABLE} ({_COLUMNS}) VALUES (?, ?, ?, ?, 'SENT', ?, ?, ?, 1, NULL, NULL, NULL, ?)
ON CONFLICT (site_id, order_id, reference) DO UPDATE SET
    asked = excluded.asked, state = 'SENT', holder = excluded.holder, sent_at = excluded.sent_at,
    settle = excluded.settle, attempts = {TABLE}.attempts + 1, refund_id = NULL, answer = NULL,
    error = NULL, journal = excluded.journal
RETURNING attempts
"""

SETTLE = f"""
UPDATE {TABLE} SET state = ?, refund_id = ?, answer = ?, error = ?
WHERE site_id = ? AND order_id = ? AND reference = ? AND attempts = ?
"""


def entry_of(row: Sequence[Any]) -> JournalEntry:
    """Return the entry of one row of ``SELECT_ORDER``."""
    fields = dict(zip(_COLUMNS.split(", "), row))
    try:
        state = EntryState(fields.pop("state"))
    except ValueError:
        raise JournalError(f"a journal entry of order {fields['order_id']} has an unknown state") from None
    sent_at, settle, attempts = float(fields.pop("sent_at")), float(fields.pop("settle")), int(fields.pop("attempts"))
    return JournalEntry(state=state, sent_at=sent_at, settle=settle, attempts=attempts, **fields)


def store_params(site_id: str, since: float | None) -> tuple[Any, ...]:
    """Return the parameters of ``SELECT_STORE``: the store and the earliest ``sent_at`` (None: all)."""
    return site_id.lower(), -math.inf if since is None else float(since)


def store_entries_of(rows: Sequence[Sequence[Any]]) -> tuple[JournalEntry, ...]:
    """Return the entries of the rows of ``SELECT_STORE``, oldest first."""
    return tuple(sorted((entry_of(row) for row in rows), key=store_order))


def intend_params(entry: JournalEntry, journal: str) -> tuple[Any, ...]:
    """Return the parameters of ``INTEND`` for ``entry``."""
    site_id, order_id = store_key(entry.site_id, entry.order_id)
    return (site_id, order_id, entry.reference, entry.asked, entry.holder, entry.sent_at, entry.settle, journal)


def settle_params(entry: JournalEntry) -> tuple[Any, ...]:
    """Return the parameters of ``SETTLE`` for ``entry``."""
    site_id, order_id = store_key(entry.site_id, entry.order_id)
    return (
        entry.state.value,
        entry.refund_id,
        entry.answer,
        entry.error,
        site_id,
        order_id,
        entry.reference,
        entry.attempts,
    )


def intend_in(
    execute: Callable[[str, tuple[Any, ...]], list[Any]],
    entry: JournalEntry,
    journal: str,
    seen: frozenset[tuple[str, int]],
) -> JournalEntry:
    """Return ``entry`` as recorded by ``INTEND`` in an open transaction, refusing an unseen one in flight first."""
    rows = execute(SELECT_ORDER, store_key(entry.site_id, entry.order_id))
    refuse_in_flight([entry_of(row) for row in rows], entry, seen)
    (attempts,) = execute(INTEND, intend_params(entry, journal))[0]
    return attrs.evolve(entry, state=EntryState.SENT, attempts=int(attempts), journal=journal)


# --- SQLite ---------------------------------------------------------------------------


def default_journal_path(site_id: str) -> pathlib.Path:
    """Return the command's journal of a store: ``$XDG_STATE_HOME/wix-refunds/journals/<site id>.sqlite3``.

    Without ``XDG_STATE_HOME`` (or with a relative one) it is under ``~/.local/state``.
    """
    import pathlib

    state = os.environ.get("XDG_STATE_HOME", "")
    base = pathlib.Path(state) if os.path.isabs(state) else pathlib.Path.home() / ".local" / "state"
    return base / "wix-refunds" / "journals" / f"{site_id.lower()}.sqlite3"


def _to_path(value: str | os.PathLike[str]) -> pathlib.Path:
    import pathlib

    return pathlib.Path(value).absolute()


_LOCKS_SCHEMA = """
CREATE TABLE IF NOT EXISTS wix_refunds_locks (
    key     TEXT PRIMARY KEY,
    holder  TEXT NOT NULL,
    pid     INTEGER NOT NULL,
    started TEXT
)
"""


def _start_time(pid: int) -> str | None:
    """Return when process ``pid`` started (Linux's ``/proc``), to tell it from a later one with its PID."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            return stat.read().rpartition(")")[2].split()[19]
    except (OSError, IndexError):
        return None


def _alive(pid: int, started: str | None) -> bool:
    """Return whether the process that took a lock lives (or may: one of another user's)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    now = _start_time(pid)
    return started is None or now is None or now == started


@attrs.frozen
class _RowLock:
    """An order lock held as a row of the journal's file; it lasts while its process lives."""

    key: str
    holder: str

    def check(self) -> None:
        """Return: only its holder's end frees the row, and the holder is this process."""

    async def check_async(self) -> None:
        """Return: only its holder's end frees the row, and the holder is this process."""


@attrs.frozen(eq=False)
class SqliteJournal(SharesLimit):
    """A journal in one SQLite file, shared by every process and user of the host that points at it.

    WAL mode; an intent is fsynced (``synchronous = FULL``) before ``intend()``
    returns. The order locks are rows of the same file naming their process; a lock
    whose process has ended (however it ended) is taken over at once by the next
    worker of the host. Keep the file on a local disk (SQLite is not safe on NFS);
    for several hosts use ``PostgresJournal``.

    Args:
        path: the journal file; it and its folder are created when missing.
        wait: seconds a second holder of an order waits before ``LockUnavailable`` (> 0).
        lock_dir: take the order locks as ``flock`` s on files in this folder instead
            (``FileLocks``), to exclude workers that lock with ``FileLocks`` there.

    Raises:
        JournalError: the file cannot be opened as a journal.
    """

    path: pathlib.Path = attrs.field(converter=_to_path)
    wait: float = attrs.field(default=DEFAULT_WAIT, kw_only=True, converter=float, validator=_check_wait)
    lock_dir: pathlib.Path | None = attrs.field(
        default=None, kw_only=True, converter=attrs.converters.optional(_to_path)
    )
    _file: SqliteFile = attrs.field(init=False, repr=False)
    # Threads of this process queue here rather than all polling the file.
    _threads: _ThreadLocks = attrs.field(factory=_ThreadLocks, init=False, repr=False)

    @_file.default
    def _file_of_path(self) -> SqliteFile:
        return SqliteFile(self.path, (SCHEMA, _LOCKS_SCHEMA), what=f"the journal {self.path}", wait=self.wait)

    @property
    def name(self) -> str:
        """Return ``sqlite:<absolute path>``."""
        return f"sqlite:{self.path}"

    def hold(self, key: str) -> contextlib.AbstractContextManager[HeldLock]:
        """Return a context manager that holds ``key`` for every process of this host while its block runs.

        Raises:
            LockUnavailable: another worker held ``key`` for the whole wait, or the file failed.
        """
        if self.lock_dir is not None:
            return FileLocks(self.lock_dir, wait=self.wait).hold(key)
        return self._hold(key)

    def hold_async(self, key: str) -> contextlib.AbstractAsyncContextManager[HeldLock]:
        """Return an async context manager that holds ``key`` for every process of this host.

        Raises:
            LockUnavailable: another worker held ``key`` for the whole wait, or the file failed.
        """
        if self.lock_dir is not None:
            return FileLocks(self.lock_dir, wait=self.wait).hold_async(key)
        return self._hold_async(key)

    @contextlib.contextmanager
    def _hold(self, key: str) -> Iterator[HeldLock]:
        patience, lock = _Patience(key, self.wait), _RowLock(key, os.urandom(16).hex())
        with self._threads.hold(key, patience):
            while not self._take(lock, patience):
                time.sleep(patience.next_delay())
            try:
                yield lock
            finally:
                self._release(lock)

    @contextlib.asynccontextmanager
    async def _hold_async(self, key: str) -> AsyncIterator[HeldLock]:
        import asyncio

        patience, lock = _Patience(key, self.wait), _RowLock(key, os.urandom(16).hex())
        async with self._threads.hold_async(key, patience):
            while not await in_thread(self._take, lock, patience):
                await asyncio.sleep(patience.next_delay())
            try:
                yield lock
            finally:
                await asyncio.shield(in_thread(self._release, lock))

    def _take(self, lock: _RowLock, patience: _Patience) -> bool:
        """Return whether ``lock`` was taken: its row is new, or its last holder's process has ended."""
        try:
            # A lock row need not survive a power cut: its process would not either.
            with self._file.transaction(durable=False) as execute:
                rows = execute("SELECT holder, pid, started FROM wix_refunds_locks WHERE key = ?", (lock.key,))
                if rows:
                    other, pid, started = rows[0]
                    if _alive(int(pid), started):
                        return False
                    execute("DELETE FROM wix_refunds_locks WHERE key = ? AND holder = ?", (lock.key, other))
                pid = os.getpid()
                row = (lock.key, lock.holder, pid, _start_time(pid))
                execute("INSERT INTO wix_refunds_locks (key, holder, pid, started) VALUES (?, ?, ?, ?)", row)
                return True
        except JournalError as exc:
            raise patience.unavailable(str(exc)) from None

    def _release(self, lock: _RowLock) -> None:
        with contextlib.suppress(JournalError), self._file.transaction(durable=False) as execute:
            execute("DELETE FROM wix_refunds_locks WHERE key = ? AND holder = ?", (lock.key, lock.holder))

    def entries(self, site_id: str, order_id: str) -> tuple[JournalEntry, ...]:
        """Return the entries of one order."""
        return tuple(entry_of(row) for row in self._file.read(SELECT_ORDER, store_key(site_id, order_id)))

    def intend(self, entry: JournalEntry, held: HeldLock, seen: frozenset[tuple[str, int]]) -> JournalEntry:
        """Record ``entry`` durably (fsynced) before its write leaves; return it as recorded.

        Raises:
            LockLost: ``held`` (a lock row) is no longer this holder's; nothing is recorded.
        """
        with self._file.transaction(durable=True) as execute:
            if isinstance(held, _RowLock) and not execute(
                "SELECT 1 FROM wix_refunds_locks WHERE key = ? AND holder = ?", (held.key, held.holder)
            ):
                raise LockLost(f"the lock of {held.key} is no longer this worker's", key=held.key)
            return intend_in(execute, entry, self.name, seen)

    def settle(self, entry: JournalEntry) -> None:
        """Record how ``entry``'s write ended (committed without waiting for the disk).

        Only an intent must be on disk before the write leaves: an outcome lost to a
        power cut leaves its entry SENT, and the next run waits it out.
        """
        with self._file.transaction(durable=False) as execute:
            execute(SETTLE, settle_params(entry))

    def store_entries(self, site_id: str, since: float | None = None) -> tuple[JournalEntry, ...]:
        """Return the entries of one store sent at or after ``since``, oldest first."""
        return store_entries_of(self._file.read(SELECT_STORE, store_params(site_id, since)))

    def _limit_place(self, key: str, requests: int, per: float) -> LimitPlace:
        """Return where this journal keeps a store's limit: a row of its file."""
        path = self.path
        return f"sqlite:{path}", lambda: SqliteLimit(path, key, requests, per)

    def close(self) -> None:
        """Close this process's connection to the file (it is opened again when next needed)."""
        self._file.close()
