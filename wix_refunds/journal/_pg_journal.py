"""PostgresJournal: the refund journal in one PostgreSQL database, for every host of a fleet.

Imported by ``wix_refunds.journal.postgres`` (psycopg 3, the ``postgres`` extra). The entries
are rows of ``wix_refunds_journal`` (the schema and statements of ``_journal_sql``);
an intent is committed before its write leaves, so it outlives the session, the
process and the host that wrote it.

The order locks are leases, rows of ``wix_refunds_locks``: a holder's row names it
and expires ``lease`` seconds after it was last renewed. A thread renews every lease
the journal holds (one statement for all of them) every third of ``lease``; a holder
that dies stops renewing and its orders are free when its leases expire, or at once
for a waiter on the same host that finds the holder's process gone. No session is
held per order: a small pool of ``pool_size`` connections serves every lock and
entry, so hundreds of orders in flight need a handful of connections.

``intend()`` checks, in the transaction that records the intent, that the lease is
still this holder's: a worker whose lease was taken over never sends. A lease that
expires while its holder lives is safe: the holder's intent was recorded before its
write, and the next holder waits it out.
"""

from __future__ import annotations

import contextlib
import math
import os
import queue
import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, TypeVar

import attrs
import psycopg
from psycopg import conninfo

from ..core._errors import InvalidRequest, JournalError, LockLost
from . import _journal_sql
from ._journal import JournalEntry, in_thread
from ._journal_sql import SCHEMA, SELECT_ORDER, SETTLE, entry_of, intend_in, settle_params
from ._locks import DEFAULT_WAIT, HeldLock, _check_wait, _Patience
from ._pg_limit import SCHEMA_LOCK, PostgresLimit
from ._shared_limit import LimitPlace, SharesLimit

__all__ = ["PostgresJournal"]

_T = TypeVar("_T")

_SECRETS = ("password", "sslpassword")

LOCKS_TABLE = "wix_refunds_locks"
_LOCKS_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS {LOCKS_TABLE} (
    key        TEXT PRIMARY KEY,
    holder     TEXT NOT NULL,
    host       TEXT NOT NULL,
    pid        INTEGER NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
)
"""
_TAKE = f"""
INSERT INTO {LOCKS_TABLE} (key, holder, host, pid, expires_at)
VALUES (%s, %s, %s, %s, now() + make_interval(secs => %s))
ON CONFLICT (key) DO UPDATE SET
    holder = excluded.holder, host = excluded.host, pid = excluded.pid, expires_at = excluded.expires_at
WHERE {LOCKS_TABLE}.expires_at < now()
RETURNING holder
"""
_HOLDER = f"SELECT holder, host, pid FROM {LOCKS_TABLE} WHERE key = %s"
_DROP_DEAD = f"DELETE FROM {LOCKS_TABLE} WHERE key = %s AND holder = %s"
_RENEW_ONE = f"UPDATE {LOCKS_TABLE} SET expires_at = now() + make_interval(secs => %s) WHERE key = %s AND holder = %s"
_RENEW_ALL = f"UPDATE {LOCKS_TABLE} SET expires_at = now() + make_interval(secs => %s) WHERE holder = ANY(%s)"
_STILL_MINE = f"SELECT 1 FROM {LOCKS_TABLE} WHERE key = %s AND holder = %s AND expires_at > now() FOR UPDATE"
_RELEASE = f"DELETE FROM {LOCKS_TABLE} WHERE key = %s AND holder = %s"


def _alive(pid: int) -> bool:
    """Return whether a process ``pid`` of this host lives (or may: one of another user's)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class _Pool:
    """At most ``size`` connections, each used by one transaction at a time; a broken one is dropped."""

    def __init__(self, connect: Callable[[], psycopg.Connection[Any]], size: int, wait: float) -> None:
        self._connect, self._wait = connect, wait
        self._slots = threading.BoundedSemaphore(size)
        self._idle: queue.LifoQueue[psycopg.Connection[Any]] = queue.LifoQueue()
        self._pid = os.getpid()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[psycopg.Connection[Any]]:
        """Return a context manager giving a connection inside a transaction, committed as the block ends."""
        with self._slot():
            stack = contextlib.ExitStack()
            connection = self._begin(stack)
            with self._returning(connection), stack:
                yield connection

    def statement(self, run: Callable[[psycopg.Connection[Any]], _T]) -> _T:
        """Return what ``run`` (one statement, autocommitted, safe to repeat) returns on a pooled connection."""
        with self._slot():
            while True:
                connection, idle = self._take()
                try:
                    with self._returning(connection):
                        return run(connection)
                except psycopg.OperationalError:
                    # An idle session the server ended since its last use fails on its first
                    # statement; the statement is safe to repeat on the next one.
                    if not idle:
                        raise

    @contextlib.contextmanager
    def _slot(self) -> Iterator[None]:
        """Return a context manager holding one of the pool's ``size`` slots while its block runs."""
        if os.getpid() != self._pid:
            # A connection made before a fork belongs to the parent.
            self._idle, self._pid = queue.LifoQueue(), os.getpid()
        if not self._slots.acquire(timeout=self._wait):
            raise JournalError(f"no PostgreSQL connection of the journal's pool was free for {self._wait:g}s")
        try:
            yield
        finally:
            self._slots.release()

    @contextlib.contextmanager
    def _returning(self, connection: psycopg.Connection[Any]) -> Iterator[None]:
        """Return a context manager that gives ``connection`` back to the pool as its block ends, if it lives."""
        try:
            yield
        finally:
            if connection.broken or connection.closed:
                connection.close()
            else:
                self._idle.put(connection)

    def _begin(self, stack: contextlib.ExitStack) -> psycopg.Connection[Any]:
        """Return a connection whose transaction ``stack`` has begun (and ends)."""
        while True:
            connection, idle = self._take()
            try:
                stack.enter_context(connection.transaction())
                return connection
            except psycopg.OperationalError:
                connection.close()
                # An idle session the server ended since its last use (terminated, timed
                # out, a restart) fails at BEGIN, before the caller sent anything in it:
                # take the next one. A new connection that cannot begin is the error.
                if not idle:
                    raise

    def _take(self) -> tuple[psycopg.Connection[Any], bool]:
        """Return an idle connection (and True), else a new one (and False)."""
        while True:
            try:
                connection = self._idle.get_nowait()
            except queue.Empty:
                return self._connect(), False
            if not (connection.broken or connection.closed):
                return connection, True

    def close(self) -> None:
        """Close every idle connection."""
        while True:
            try:
                self._idle.get_nowait().close()
            except queue.Empty:
                return


@attrs.frozen(eq=False)
class _Lease:
    """One order lock held as a lease; ``check()`` renews it or raises ``LockLost``."""

    journal: PostgresJournal
    key: str
    holder: str

    def check(self) -> None:
        """Return if the lease is still this holder's (renewing it); raise ``LockLost`` if not."""
        self.journal._renew(self)

    async def check_async(self) -> None:
        """Return if the lease is still this holder's (renewing it); raise ``LockLost`` if not (async)."""
        await in_thread(self.journal._renew, self)


@attrs.frozen(eq=False, repr=False)
class PostgresJournal(SharesLimit):
    """The refund journal and order locks in one PostgreSQL database, shared by a fleet.

    The tables are created when first used. The password (and ``sslpassword``) never
    appears in a repr, a log line, an error or ``name``. Works through a pooler in
    transaction mode too: nothing outlives a transaction but rows.

    Args:
        dsn: a libpq connection string or URL (``postgresql://user:pw@host/db``).
        wait: seconds a second holder of an order waits before ``LockUnavailable`` (> 0).
        pool_size: the most connections this journal opens at once (>= 1).
        lease: seconds an order lock outlives its holder's last renewal (> 0).
        connect_timeout: seconds to wait for a connection (> 0).

    Raises:
        InvalidRequest: ``dsn`` cannot be parsed, or a number is out of range.
    """

    _dsn: str = attrs.field()
    wait: float = attrs.field(default=DEFAULT_WAIT, kw_only=True, converter=float, validator=_check_wait)
    pool_size: int = attrs.field(default=4, kw_only=True)
    lease: float = attrs.field(default=30.0, kw_only=True, converter=float, validator=_check_wait)
    connect_timeout: float = attrs.field(default=10.0, kw_only=True, converter=float, validator=_check_wait)
    _params: dict[str, Any] = attrs.field(init=False)
    _pool: _Pool = attrs.field(init=False)
    _token: str = attrs.field(init=False, factory=lambda: uuid.uuid4().hex)
    _held: set[str] = attrs.field(init=False, factory=set)
    _guard: threading.Lock = attrs.field(init=False, factory=threading.Lock)
    _ready: list[bool] = attrs.field(init=False, factory=list)
    _renewer: list[threading.Thread] = attrs.field(init=False, factory=list)

    @pool_size.validator
    def _check_pool(self, attribute: attrs.Attribute[int], value: int) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InvalidRequest("pool_size", f"must be a whole number >= 1, got {value!r}")

    def __attrs_post_init__(self) -> None:
        try:
            params = dict(conninfo.conninfo_to_dict(self._dsn))
        except psycopg.Error:
            # libpq's message quotes the text around the fault, which may be the password.
            raise InvalidRequest("dsn", "is not a PostgreSQL connection string (libpq's reason is not shown)") from None
        object.__setattr__(self, "_params", params)
        object.__setattr__(self, "_pool", _Pool(self._connect, self.pool_size, self.wait))

    @property
    def masked_dsn(self) -> str:
        """Return the DSN in libpq's ``key=value`` form, with the passwords replaced by ``***``."""
        return conninfo.make_conninfo("", **{k: "***" if k in _SECRETS else v for k, v in self._params.items()})

    @property
    def name(self) -> str:
        """Return ``postgresql:`` and where the database is (user, host, port, database; no password)."""
        shown = {k: v for k, v in self._params.items() if k in ("user", "host", "port", "dbname")}
        return "postgresql:" + conninfo.make_conninfo("", **shown)

    def __repr__(self) -> str:
        return f"PostgresJournal(dsn={self.masked_dsn!r}, pool_size={self.pool_size!r}, lease={self.lease!r})"

    # --- connections --------------------------------------------------------------

    def _connect(self) -> psycopg.Connection[Any]:
        try:
            # libpq counts whole seconds.
            timeout = math.ceil(self.connect_timeout)
            # Only an intent must be on disk before its statement returns (intend() asks for it):
            # a lost outcome leaves its entry SENT (the next run waits), a lost lock row is
            # found missing by intend(). So the session's other commits do not wait for a flush.
            options = "-c synchronous_commit=off"
            return psycopg.Connection.connect(self._dsn, autocommit=True, connect_timeout=timeout, options=options)
        except psycopg.Error as exc:
            raise JournalError(f"cannot connect to the journal {self.name}: {self._scrub(exc)}") from None

    def _scrub(self, error: BaseException) -> str:
        text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        for secret in (str(self._params.get(name) or "") for name in _SECRETS):
            if secret:
                text = text.replace(secret, "***")
        return text

    @contextlib.contextmanager
    def _transaction(self, doing: str) -> Iterator[psycopg.Connection[Any]]:
        """Return a context manager giving a connection in a transaction; psycopg's errors become JournalError."""
        try:
            with self._pool.transaction() as connection:
                if not self._ready:
                    connection.execute(SCHEMA_LOCK)
                    connection.execute(SCHEMA)
                    connection.execute(_LOCKS_SCHEMA)
                yield connection
            self._ready[:] = [True]
        except psycopg.Error as exc:
            raise JournalError(f"{doing} in the journal {self.name} failed: {self._scrub(exc)}") from None

    def _statement(self, doing: str, sql: str, params: tuple[Any, ...]) -> tuple[list[Any], int]:
        """Return the rows and row count of one autocommitted statement (``?`` or ``%s`` placeholders)."""
        if not self._ready:
            with self._transaction(doing):
                pass

        def run(connection: psycopg.Connection[Any]) -> tuple[list[Any], int]:
            cursor = connection.execute(sql.replace("?", "%s"), params)
            return (cursor.fetchall() if cursor.description is not None else []), cursor.rowcount

        try:
            return self._pool.statement(run)
        except psycopg.Error as exc:
            raise JournalError(f"{doing} in the journal {self.name} failed: {self._scrub(exc)}") from None

    def _execute(self, connection: psycopg.Connection[Any], sql: str, params: tuple[Any, ...]) -> list[Any]:
        cursor = connection.execute(sql.replace("?", "%s"), params)
        return cursor.fetchall() if cursor.description is not None else []

    # --- the journal ----------------------------------------------------------------

    def entries(self, site_id: str, order_id: str) -> tuple[JournalEntry, ...]:
        """Return the entries of one order."""
        rows, _ = self._statement("reading entries", SELECT_ORDER, (site_id.lower(), order_id.lower()))
        return tuple(entry_of(row) for row in rows)

    def intend(self, entry: JournalEntry, held: HeldLock, seen: frozenset[tuple[str, int]]) -> JournalEntry:
        """Commit ``entry`` before its write leaves, if ``held`` is still this holder's lease; return it as recorded.

        Raises:
            LockLost: the lease expired and another worker took it; nothing is recorded.
            JournalError: another write for the order may still land, or the database failed.
        """
        with self._transaction("recording an intent") as connection:
            connection.execute("SET LOCAL synchronous_commit TO on")
            if isinstance(held, _Lease) and not self._execute(connection, _STILL_MINE, (held.key, held.holder)):
                raise LockLost(f"the lock of {held.key} expired and was taken by another worker", key=held.key)
            return intend_in(lambda sql, params: self._execute(connection, sql, params), entry, self.name, seen)

    def settle(self, entry: JournalEntry) -> None:
        """Record how ``entry``'s write ended."""
        self._statement("recording an outcome", SETTLE, settle_params(entry))

    def store_entries(self, site_id: str, since: float | None = None) -> tuple[JournalEntry, ...]:
        """Return the entries of one store sent at or after ``since``, oldest first."""
        params = _journal_sql.store_params(site_id, since)
        rows, _ = self._statement("reading a store's entries", _journal_sql.SELECT_STORE, params)
        return _journal_sql.store_entries_of(rows)

    # --- the order locks ------------------------------------------------------------

    def _try_take(self, key: str, holder: str) -> bool:
        """Return whether ``holder`` took the lease of ``key`` (freeing it first if its holder here is dead)."""
        doing = "taking an order lock"
        args = (key, holder, socket.gethostname(), os.getpid(), self.lease)
        if self._statement(doing, _TAKE, args)[0]:
            return True
        row, _ = self._statement(doing, _HOLDER, (key,))
        if not row:
            return False
        other, host, pid = row[0]
        if host != socket.gethostname() or _alive(int(pid)):
            return False
        # Only that holder's row goes: one another worker took meanwhile stays.
        self._statement(doing, _DROP_DEAD, (key, other))
        return bool(self._statement(doing, _TAKE, args)[0])

    def _renew(self, lease: _Lease) -> None:
        try:
            _, renewed = self._statement("renewing an order lock", _RENEW_ONE, (self.lease, lease.key, lease.holder))
        except JournalError as exc:
            raise LockLost(f"the lock of {lease.key} could not be checked: {exc}", key=lease.key) from None
        if renewed != 1:
            raise LockLost(f"the lock of {lease.key} expired and was taken by another worker", key=lease.key)

    def _renew_all(self, stop: threading.Event) -> None:
        """Renew every lease this journal holds, every third of ``lease``, until none is held."""
        while not stop.wait(self.lease / 3):
            with self._guard:
                holders = list(self._held)
                if not holders:
                    self._renewer.clear()
                    return
            with contextlib.suppress(JournalError):
                self._statement("renewing order locks", _RENEW_ALL, (self.lease, holders))

    def _started(self, key: str) -> str:
        holder = f"{self._token}:{uuid.uuid4().hex[:12]}"
        with self._guard:
            self._held.add(holder)
            if not self._renewer:
                thread = threading.Thread(target=self._renew_all, args=(threading.Event(),), daemon=True)
                self._renewer.append(thread)
                thread.start()
        return holder

    def _ended(self, key: str, holder: str) -> None:
        with self._guard:
            self._held.discard(holder)
        with contextlib.suppress(JournalError):
            self._statement("releasing an order lock", _RELEASE, (key, holder))

    @contextlib.contextmanager
    def hold(self, key: str) -> Iterator[HeldLock]:
        """Return a context manager that holds ``key`` for every worker of the database while its block runs.

        Raises:
            LockUnavailable: another worker held ``key`` for the whole wait, or the database failed.
        """
        patience = _Patience(key, self.wait, max_delay=0.2)
        holder = self._started(key)
        try:
            while not self._taking(key, holder, patience):
                time.sleep(patience.next_delay())
            yield _Lease(self, key, holder)
        finally:
            self._ended(key, holder)

    @contextlib.asynccontextmanager
    async def hold_async(self, key: str) -> AsyncIterator[HeldLock]:
        """Return an async context manager that holds ``key`` for every worker of the database.

        Raises:
            LockUnavailable: another worker held ``key`` for the whole wait, or the database failed.
        """
        import asyncio

        patience = _Patience(key, self.wait, max_delay=0.2)
        holder = self._started(key)
        try:
            while not await in_thread(self._taking, key, holder, patience):
                await asyncio.sleep(patience.next_delay())
            yield _Lease(self, key, holder)
        finally:
            await asyncio.shield(in_thread(self._ended, key, holder))

    def _taking(self, key: str, holder: str, patience: _Patience) -> bool:
        try:
            return self._try_take(key, holder)
        except JournalError as exc:
            raise patience.unavailable(str(exc)) from None

    def _limit_place(self, key: str, requests: int, per: float) -> LimitPlace:
        """Return where this journal keeps a store's limit: a row of its database."""
        return f"postgresql:{id(self)}", lambda: PostgresLimit(self, key, requests, per)

    def close(self) -> None:
        """Close the pool's idle connections (they are opened again when next needed)."""
        self._pool.close()
