"""PostgreSQL for a fleet: ``PostgresJournal`` (use this) and the older ``PostgresLocks``.

Needs psycopg 3: ``pip install 'wix-refunds[postgres]'``. Importing
``wix_refunds`` never imports psycopg; importing this module does.

``PostgresJournal`` (in ``_pg_journal``) is the refund journal of a fleet: every
refund's intent is committed before its write leaves, so a worker that takes an
order over, on any host, after the first one died or lost its session, waits for
that write instead of paying again.

``PostgresLocks`` only excludes: each held lock is a session-level advisory lock
on a connection of its own. A lock is not a record: when its holder's session
ends (terminated, a server restart, ``idle_session_timeout``) or the holder dies
while its write is in flight, the next worker takes the lock and cannot know the
write may still land. Passed as ``locks=``, it runs with an in-memory journal,
which covers only its own process; pass ``journal=PostgresJournal(dsn)`` instead.

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
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any, TypeVar

import attrs

from ..client._log import log_event
from ..core._errors import InvalidRequest, LockLost
from ._locks import DEFAULT_WAIT, HeldLock, _check_wait, _Patience

try:
    import psycopg
    from psycopg import conninfo
except ImportError as exc:  # pragma: no cover - exercised by a test in a clean module table
    raise ImportError(
        "wix_refunds.journal.postgres needs psycopg 3, which is not installed: pip install 'wix-refunds[postgres]'"
    ) from exc

# After the check above: the journal needs psycopg too.
from ._pg_journal import PostgresJournal

__all__ = ["PostgresJournal", "PostgresLocks", "advisory_lock_id"]


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

    @contextlib.contextmanager
    def hold(self, key: str) -> Iterator[HeldLock]:
        """Return a context manager that holds ``key`` for every worker of the database while its block runs.

        Raises:
            LockUnavailable: another worker held ``key`` for the whole wait, or
                PostgreSQL could not be reached; nothing was locked.
        """
        attempt = _Attempt(self, key)
        with attempt.failing("connecting"):
            connection = psycopg.Connection.connect(self._dsn, **self._connect_args())
        try:
            with attempt.failing("locking"):
                connection.execute(_SET_KEEPALIVES, _SERVER_KEEPALIVES)
                while not _ask(connection, _TRY_LOCK, attempt.ids):
                    time.sleep(attempt.patience.next_delay())
            try:
                yield attempt.locked(_Session(key, attempt.lock_id, connection.info.backend_pid, connection))
            finally:
                if attempt.session_lives(connection.broken):
                    with attempt.unlocking():
                        attempt.unlocked(_ask(connection, _UNLOCK, attempt.ids))
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

        attempt = _Attempt(self, key)
        with attempt.failing("connecting"):
            connection = await psycopg.AsyncConnection.connect(self._dsn, **self._connect_args())
        try:
            with attempt.failing("locking"):
                await connection.execute(_SET_KEEPALIVES, _SERVER_KEEPALIVES)
                while not await _ask_async(connection, _TRY_LOCK, attempt.ids):
                    await asyncio.sleep(attempt.patience.next_delay())
            try:
                yield attempt.locked(_AsyncSession(key, attempt.lock_id, connection.info.backend_pid, connection))
            finally:
                if attempt.session_lives(connection.broken):
                    with attempt.unlocking():
                        attempt.unlocked(await _ask_async(connection, _UNLOCK, attempt.ids))
        finally:
            await connection.close()


# The one query hold() and check() send, and the one hold_async() and check_async() send:
# everything else they do is written once, in _Attempt and _SessionLock.
def _ask(connection: psycopg.Connection[Any], query: str, params: Mapping[str, Any]) -> bool:
    """Return the first value of the first row ``query`` gives, as a bool (False without a row)."""
    return _first(connection.execute(query, params).fetchone())


async def _ask_async(connection: psycopg.AsyncConnection[Any], query: str, params: Mapping[str, Any]) -> bool:
    """Return the first value of the first row ``query`` gives, as a bool (False without a row)."""
    return _first(await (await connection.execute(query, params)).fetchone())


class _Attempt:
    """One holder's try at one key: the lock's ID, the wait, and what to log or raise at each turn (no I/O)."""

    def __init__(self, locks: PostgresLocks, key: str) -> None:
        self.locks = locks
        self.key = key
        self.lock_id = advisory_lock_id(key)
        self.ids = {"id": self.lock_id}
        self.patience = _Patience(key, locks.wait, max_delay=_MAX_DELAY)
        self.order_id = _order_of(key)
        self.pid = 0

    @contextlib.contextmanager
    def failing(self, doing: str) -> Iterator[None]:
        """Return a context manager that turns a ``psycopg.Error`` in its block into ``LockUnavailable``.

        The error's text, without the DSN's secrets, goes into the message; the error is
        its cause unless its text held a secret.
        """
        try:
            yield
        except psycopg.Error as exc:
            text, cause = self.locks._scrub(exc)
            reason = f"PostgreSQL failed while {doing} ({self.locks.masked_dsn}): {text}"
            raise self.patience.unavailable(reason) from cause

    def locked(self, held: _S) -> _S:
        """Return ``held``, the lock just taken, having logged how long it took."""
        self.pid = held.pid
        message = "locked %s in PostgreSQL session %d after %.3fs"
        log_event(
            logging.DEBUG, message, self.key, held.pid, self.patience.waited(), order_id=self.order_id, step="lock"
        )
        return held

    def session_lives(self, broken: bool) -> bool:
        """Return whether the lock's session is there to unlock it; log a session that ended while held."""
        if broken:
            message = "lock %s: its PostgreSQL session %d ended while held"
            log_event(logging.WARNING, message, self.key, self.pid, order_id=self.order_id, step="lock")
        return not broken

    @contextlib.contextmanager
    def unlocking(self) -> Iterator[None]:
        """Return a context manager that logs a failed unlock and goes on: closing the session frees the lock."""
        try:
            yield
        except psycopg.Error as exc:
            message = "lock %s: unlock failed (%s); closing the session frees it"
            log_event(
                logging.WARNING, message, self.key, self.locks._scrub(exc)[0], order_id=self.order_id, step="lock"
            )

    def unlocked(self, was_held: bool) -> None:
        """Log if the session no longer held the lock it just unlocked."""
        if not was_held:
            message = "lock %s was no longer held by its session when released"
            log_event(logging.WARNING, message, self.key, order_id=self.order_id, step="lock")


def _first(row: tuple[Any, ...] | None) -> bool:
    return bool(row and row[0])


def _first_line(error: psycopg.Error) -> str:
    # The server's or libpq's words about a live session: they never quote the DSN.
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


def _lost(key: str, why: str) -> LockLost:
    return LockLost(f"lock {key} lost: {why}; the refund stops before its next write", key=key)


@attrs.frozen
class _SessionLock:
    """A lock held by a PostgreSQL session: what to ask it, and what its answer means."""

    key: str
    lock_id: int = attrs.field(repr=False)
    pid: int

    def _holds(self) -> dict[str, int]:
        """Return the parameters of ``_HOLDS`` for this lock."""
        return {"pid": self.pid, **_pg_locks_columns(self.lock_id)}

    @contextlib.contextmanager
    def _asking(self) -> Iterator[None]:
        """Return a context manager that turns a ``psycopg.Error`` in its block into ``LockLost``."""
        try:
            yield
        except psycopg.Error as exc:
            raise _lost(self.key, f"its PostgreSQL session {self.pid} ended ({_first_line(exc)})") from exc

    def _judge(self, holds: bool) -> None:
        """Return if the session answered that it holds the lock; raise ``LockLost`` if not."""
        if not holds:
            raise _lost(self.key, f"PostgreSQL session {self.pid} no longer holds it")


_S = TypeVar("_S", bound=_SessionLock)


@attrs.frozen
class _Session(_SessionLock):
    """A lock held by a ``psycopg.Connection``'s session."""

    connection: psycopg.Connection[Any] = attrs.field(repr=False)

    def check(self) -> None:
        """Return if the session still holds the lock.

        Raises:
            LockLost: the session ended, or no longer holds the lock.
        """
        with self._asking():
            holds = _ask(self.connection, _HOLDS, self._holds())
        self._judge(holds)

    async def check_async(self) -> None:
        """Return if the session still holds the lock (``check()`` in a thread)."""
        import asyncio

        await asyncio.to_thread(self.check)


@attrs.frozen
class _AsyncSession(_SessionLock):
    """A lock held by a ``psycopg.AsyncConnection``'s session."""

    connection: psycopg.AsyncConnection[Any] = attrs.field(repr=False)

    def check(self) -> None:
        """Raise ``RuntimeError``: a lock taken with ``hold_async()`` is checked with ``check_async()``."""
        raise RuntimeError(f"lock {self.key} was taken with hold_async(): check it with await check_async()")

    async def check_async(self) -> None:
        """Return if the session still holds the lock.

        Raises:
            LockLost: the session ended, or no longer holds the lock.
        """
        with self._asking():
            holds = await _ask_async(self.connection, _HOLDS, self._holds())
        self._judge(holds)
