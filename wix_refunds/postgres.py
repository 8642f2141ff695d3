"""PostgresLocks: one lock per order for every worker, on every host, that reaches one database.

Needs psycopg 3: ``pip install 'wix-refunds[postgres]'``. Importing
``wix_refunds`` never imports psycopg; importing this module does.

Each held lock is a PostgreSQL session-level advisory lock on a connection of
its own (autocommit). The server releases it when the session ends, so a worker
that dies, or a host that vanishes, frees its orders; and a holder that lost its
session finds out from ``check()``, which raises ``LockLost``: a lost PostgreSQL
session stops the refund before its next write. ``check()`` narrows that window
but cannot close it (the session may end just after); re-reading Wix before
each write, which the refund does anyway, covers the rest.

Connect directly or through a pooler in *session* mode: a pooler in
transaction mode (pgbouncer's default) hands the session to others between
statements, and advisory locks with it.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import math
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import attrs

from ._errors import InvalidRequest, LockLost, LockUnavailable
from ._locks import DEFAULT_WAIT, HeldLock, _check_wait, _Patience
from ._log import log_event

try:
    import psycopg
    from psycopg import conninfo
except ImportError as exc:  # pragma: no cover - exercised by a test in a clean module table
    raise ImportError(
        "wix_refunds.postgres needs psycopg 3, which is not installed: pip install 'wix-refunds[postgres]'"
    ) from exc

__all__ = ["PostgresLocks", "advisory_lock_id"]


def _order_of(key: str) -> str:
    """Return the order GUID of a lock key (``site:order``), for the log's ``order_id`` field."""
    return key.rpartition(":")[2]


# The DSN's secrets: the server password, and the one of the client's SSL key.
_SECRETS = ("password", "sslpassword")

# A waiter asks the server again after 1 ms, 2 ms, ... then every 200 ms: quick
# when the holder is about to finish, one cheap query per waiter when it is not.
_MAX_DELAY = 0.2

# The server's TCP keepalives, set by each lock's session for itself: a worker host
# that vanishes is noticed, and its locks freed, within about a minute rather than
# the OS default of two hours. Ignored on Unix-domain sockets.
_SERVER_KEEPALIVES = {"tcp_keepalives_idle": "30", "tcp_keepalives_interval": "10", "tcp_keepalives_count": "3"}
# And the client's, so that check() on a dead network fails within a minute
# instead of hanging; a setting the DSN gives wins.
_CLIENT_KEEPALIVES = {"keepalives": "1", "keepalives_idle": "30", "keepalives_interval": "10", "keepalives_count": "3"}

_SET_KEEPALIVES = (
    "SELECT set_config('tcp_keepalives_idle', %(tcp_keepalives_idle)s, false),"
    " set_config('tcp_keepalives_interval', %(tcp_keepalives_interval)s, false),"
    " set_config('tcp_keepalives_count', %(tcp_keepalives_count)s, false)"
)
_TRY_LOCK = "SELECT pg_try_advisory_lock(%(id)s::bigint)"
_UNLOCK = "SELECT pg_advisory_unlock(%(id)s::bigint)"
# Whether this very session still holds the lock.
_HOLDS = """
SELECT pg_backend_pid() = %(pid)s AND EXISTS (
    SELECT 1 FROM pg_locks
    WHERE locktype = 'advisory' AND granted AND pid = pg_backend_pid()
      AND classid = %(classid)s::bigint::oid AND objid = %(objid)s::bigint::oid AND objsubid = 1
)
"""


def advisory_lock_id(key: str) -> int:
    """Return the advisory lock ID of ``key``: the first 8 bytes of its SHA-256, as a signed 64-bit integer.

    Stable across processes, hosts and versions (Python's ``hash()`` is not).
    The same in SQL, to find a lock in ``pg_locks`` or take it by hand::

        ('x' || left(encode(sha256(convert_to(key, 'UTF8')), 'hex'), 16))::bit(64)::bigint
    """
    return int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:8], "big", signed=True)


def _pg_locks_columns(lock_id: int) -> dict[str, int]:
    # pg_locks shows a bigint advisory key as its high and low 32 bits, objsubid 1.
    unsigned = lock_id & 0xFFFF_FFFF_FFFF_FFFF
    return {"classid": unsigned >> 32, "objid": unsigned & 0xFFFF_FFFF}


def _parse_dsn(dsn: str) -> dict[str, Any]:
    try:
        return dict(conninfo.conninfo_to_dict(dsn))
    except psycopg.Error:
        # libpq's message quotes the text around the fault, which may be the password.
        raise InvalidRequest("dsn", "is not a PostgreSQL connection string (libpq's reason is not shown)") from None


@attrs.frozen(eq=False, repr=False)
class PostgresLocks:
    """One lock per key for every worker that reaches one PostgreSQL database.

    A session-level advisory lock on a connection of its own per held key
    (keys map to IDs by ``advisory_lock_id``). A second holder polls
    ``pg_try_advisory_lock`` with growing sleeps for up to ``wait`` seconds.
    Polling rather than ``pg_advisory_lock`` under ``lock_timeout``: no query
    ever blocks in the server, so a waiter that gives up or is cancelled
    (Ctrl-C, task cancellation) leaves nothing queued there, and the wait is
    measured by the same clock as the other locks; the price is up to 0.2 s of
    delay after a release, which a refund taking seconds does not feel.

    ``hold()`` uses a ``psycopg.Connection``, ``hold_async()`` a
    ``psycopg.AsyncConnection``. Check a lock from the side that took it:
    ``check()`` for ``hold()``, ``await check_async()`` for ``hold_async()``
    (``check_async()`` of a ``hold()`` lock runs ``check()`` in a thread; ``check()``
    of a ``hold_async()`` lock raises ``RuntimeError``).

    The password (and ``sslpassword``) never appears in a repr, a log line or
    an error message: ``masked_dsn`` is the DSN with it replaced by ``***``. A server-side
    ``idle_session_timeout`` shorter than a refund ends the session, and the
    refund then stops with ``LockLost``.

    Args:
        dsn: a libpq connection string or URL (``postgresql://user:pw@host/db``).
        wait: seconds a second holder waits before ``LockUnavailable`` (> 0).
        connect_timeout: seconds to wait for a connection (> 0; libpq rounds up to whole seconds).

    Raises:
        InvalidRequest: ``dsn`` cannot be parsed, or a number is not > 0.
    """

    _dsn: str = attrs.field()
    wait: float = attrs.field(default=DEFAULT_WAIT, kw_only=True, converter=float, validator=_check_wait)
    connect_timeout: float = attrs.field(default=10.0, kw_only=True, converter=float, validator=_check_wait)
    _params: dict[str, Any] = attrs.field(
        init=False, default=attrs.Factory(lambda self: _parse_dsn(self._dsn), takes_self=True)
    )

    @property
    def masked_dsn(self) -> str:
        """Return the DSN in libpq's ``key=value`` form, with the passwords replaced by ``***``."""
        shown = {k: "***" if k in _SECRETS else v for k, v in self._params.items()}
        return conninfo.make_conninfo("", **shown)

    def __repr__(self) -> str:
        return f"PostgresLocks(dsn={self.masked_dsn!r}, wait={self.wait!r}, connect_timeout={self.connect_timeout!r})"

    def _scrub(self, error: BaseException) -> tuple[str, BaseException | None]:
        """Return the text of ``error`` without the DSN's secrets, and ``error`` as a cause unless it held one."""
        text = scrubbed = str(error)
        for secret in (str(self._params.get(name) or "") for name in _SECRETS):
            if secret:
                scrubbed = scrubbed.replace(secret, "***")
        return (text, error) if scrubbed == text else (scrubbed, None)

    def _connect_args(self) -> dict[str, Any]:
        args: dict[str, Any] = {k: v for k, v in _CLIENT_KEEPALIVES.items() if k not in self._params}
        # libpq counts whole seconds.
        args.update(autocommit=True, connect_timeout=math.ceil(self.connect_timeout))
        return args

    def _unavailable(
        self, patience: _Patience, doing: str, error: psycopg.Error
    ) -> tuple[LockUnavailable, BaseException | None]:
        """Return the error for a lock PostgreSQL failed to give, and its cause (None if that held the password)."""
        text, cause = self._scrub(error)
        return patience.unavailable(f"PostgreSQL failed while {doing} ({self.masked_dsn}): {text}"), cause

    def _released(self, key: str, unlock: Any) -> None:
        """Log what went wrong in letting go of ``key``, if anything; ``unlock`` is the unlock's row or error."""
        if isinstance(unlock, psycopg.Error):
            log_event(
                logging.WARNING,
                "lock %s: unlock failed (%s); closing the session frees it",
                key,
                self._scrub(unlock)[0],
                order_id=_order_of(key),
                step="lock",
            )
        elif not _first(unlock):
            log_event(
                logging.WARNING,
                "lock %s was no longer held by its session when released",
                key,
                order_id=_order_of(key),
                step="lock",
            )

    @contextlib.contextmanager
    def hold(self, key: str) -> Iterator[HeldLock]:
        """Return a context manager that holds ``key`` for every worker of the database while its block runs.

        Raises:
            LockUnavailable: another worker held ``key`` for the whole wait, or
                PostgreSQL could not be reached; nothing was locked.
        """
        patience = _Patience(key, self.wait, max_delay=_MAX_DELAY)
        lock_id = advisory_lock_id(key)
        try:
            connection = psycopg.Connection.connect(self._dsn, **self._connect_args())
        except psycopg.Error as exc:
            failure, cause = self._unavailable(patience, "connecting", exc)
            raise failure from cause
        try:
            try:
                connection.execute(_SET_KEEPALIVES, _SERVER_KEEPALIVES)
                while not _first(connection.execute(_TRY_LOCK, {"id": lock_id}).fetchone()):
                    time.sleep(patience.next_delay())
            except psycopg.Error as exc:
                failure, cause = self._unavailable(patience, "locking", exc)
                raise failure from cause
            held = _Session(key=key, lock_id=lock_id, pid=connection.info.backend_pid, connection=connection)
            log_event(
                logging.DEBUG,
                "locked %s in PostgreSQL session %d after %.3fs",
                key,
                held.pid,
                patience.waited(),
                order_id=_order_of(key),
                step="lock",
            )
            try:
                yield held
            finally:
                if connection.broken:
                    log_event(
                        logging.WARNING,
                        "lock %s: its PostgreSQL session %d ended while held",
                        key,
                        held.pid,
                        order_id=_order_of(key),
                        step="lock",
                    )
                else:
                    try:
                        unlock: Any = connection.execute(_UNLOCK, {"id": lock_id}).fetchone()
                    except psycopg.Error as exc:
                        unlock = exc
                    self._released(key, unlock)
        finally:
            connection.close()

    @contextlib.asynccontextmanager
    async def hold_async(self, key: str) -> AsyncIterator[HeldLock]:
        """Return an async context manager that holds ``key`` for every worker of the database.

        Raises:
            LockUnavailable: another worker held ``key`` for the whole wait, or
                PostgreSQL could not be reached; nothing was locked.
        """
        import asyncio

        patience = _Patience(key, self.wait, max_delay=_MAX_DELAY)
        lock_id = advisory_lock_id(key)
        try:
            connection = await psycopg.AsyncConnection.connect(self._dsn, **self._connect_args())
        except psycopg.Error as exc:
            failure, cause = self._unavailable(patience, "connecting", exc)
            raise failure from cause
        try:
            try:
                await connection.execute(_SET_KEEPALIVES, _SERVER_KEEPALIVES)
                while not _first(await (await connection.execute(_TRY_LOCK, {"id": lock_id})).fetchone()):
                    await asyncio.sleep(patience.next_delay())
            except psycopg.Error as exc:
                failure, cause = self._unavailable(patience, "locking", exc)
                raise failure from cause
            held = _AsyncSession(key=key, lock_id=lock_id, pid=connection.info.backend_pid, connection=connection)
            log_event(
                logging.DEBUG,
                "locked %s in PostgreSQL session %d after %.3fs",
                key,
                held.pid,
                patience.waited(),
                order_id=_order_of(key),
                step="lock",
            )
            try:
                yield held
            finally:
                if connection.broken:
                    log_event(
                        logging.WARNING,
                        "lock %s: its PostgreSQL session %d ended while held",
                        key,
                        held.pid,
                        order_id=_order_of(key),
                        step="lock",
                    )
                else:
                    try:
                        unlock: Any = await (await connection.execute(_UNLOCK, {"id": lock_id})).fetchone()
                    except psycopg.Error as exc:
                        unlock = exc
                    self._released(key, unlock)
        finally:
            await connection.close()


def _first(row: tuple[Any, ...] | None) -> bool:
    return bool(row and row[0])


def _first_line(error: psycopg.Error) -> str:
    # The server's or libpq's words about a live session: they never quote the DSN.
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


def _lost(key: str, why: str) -> LockLost:
    return LockLost(f"lock {key} lost: {why}; the refund stops before its next write", key=key)


@attrs.frozen
class _Session:
    """A lock held by a ``psycopg.Connection``'s session."""

    key: str
    lock_id: int = attrs.field(repr=False)
    pid: int
    connection: psycopg.Connection[Any] = attrs.field(repr=False)

    def check(self) -> None:
        """Return if the session still holds the lock.

        Raises:
            LockLost: the session ended, or no longer holds the lock.
        """
        try:
            cursor = self.connection.execute(_HOLDS, {"pid": self.pid, **_pg_locks_columns(self.lock_id)})
            holds = _first(cursor.fetchone())
        except psycopg.Error as exc:
            raise _lost(self.key, f"its PostgreSQL session {self.pid} ended ({_first_line(exc)})") from exc
        if not holds:
            raise _lost(self.key, f"PostgreSQL session {self.pid} no longer holds it")

    async def check_async(self) -> None:
        """Return if the session still holds the lock (``check()`` in a thread)."""
        import asyncio

        await asyncio.to_thread(self.check)


@attrs.frozen
class _AsyncSession:
    """A lock held by a ``psycopg.AsyncConnection``'s session."""

    key: str
    lock_id: int = attrs.field(repr=False)
    pid: int
    connection: psycopg.AsyncConnection[Any] = attrs.field(repr=False)

    def check(self) -> None:
        """Raise ``RuntimeError``: a lock taken with ``hold_async()`` is checked with ``check_async()``."""
        raise RuntimeError(f"lock {self.key} was taken with hold_async(): check it with await check_async()")

    async def check_async(self) -> None:
        """Return if the session still holds the lock.

        Raises:
            LockLost: the session ended, or no longer holds the lock.
        """
        try:
            cursor = await self.connection.execute(_HOLDS, {"pid": self.pid, **_pg_locks_columns(self.lock_id)})
            holds = _first(await cursor.fetchone())
        except psycopg.Error as exc:
            raise _lost(self.key, f"its PostgreSQL session {self.pid} ended ({_first_line(exc)})") from exc
        if not holds:
            raise _lost(self.key, f"PostgreSQL session {self.pid} no longer holds it")
