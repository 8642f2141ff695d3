"""One rate limit per store, kept in the journal's backend and drawn from by every process that refunds it.

Wix counts requests per store (site and key), not per process: three processes each told
the full limit spend it three times over, and every 429 they draw spends it too. So the
limit lives where the journal lives, one row per store and key::

    wix_refunds_rate(key, starts, not_before)

``key`` is the site ID and a fingerprint of the API key (a hash: the key is never
stored); ``starts`` the start times of the requests of the last window (milliseconds,
oldest first); ``not_before`` the time before which no request of the store may start
(Wix's ``Retry-After`` on a 429, recorded by whichever process drew it). Each request
reserves its start in one short transaction: a sliding window like Wix's, so a burst of
up to the limit goes at once and the rate holds over any window. The window is taken
5 % longer than Wix's (``GUARD``), so that requests that leave a little late (a busy
host, a slow event loop) still arrive under the limit.

    MemoryJournal     one limiter per store and key in this process
    SqliteJournal     a row of the journal's file: the processes of one host
    PostgresJournal   a row of the journal's database: a fleet (its clock is the database's)

A client asks a ``RequestLimiter`` (``AsyncWixClient(..., rate_limit=journal.shared_limit(
credentials))``); the in-process ``RateLimiter`` is one too. When the backend cannot be
reached, a shared limiter falls back to an in-process one and says so once (WARNING).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import math
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from ..client._log import log_event
from ..client._retry import GUARD, RateLimiter, RequestLimiter
from ..core._errors import InvalidRequest, JournalError
from ._sqlite_file import Execute, SqliteFile

if TYPE_CHECKING:
    import pathlib

    from ..client._credentials import WixCredentials

__all__ = [
    "DEFAULT_LIMIT",
    "GUARD",
    "LimitPlace",
    "SharesLimit",
    "SqliteLimit",
    "StoredLimit",
    "key_fingerprint",
    "limit_key",
    "plan_start",
    "shared_limit",
]

#: Wix's documented limit: 200 requests a minute per site.
DEFAULT_LIMIT = (200, 60.0)

TABLE = "wix_refunds_rate"
SCHEMA = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    key        TEXT PRIMARY KEY,
    starts     TEXT NOT NULL,
    not_before DOUBLE PRECISION NOT NULL
)
"""
_ENSURE = f"INSERT INTO {TABLE} (key, starts, not_before) VALUES (?, '', 0) ON CONFLICT (key) DO NOTHING"
_SELECT = f"SELECT starts, not_before FROM {TABLE} WHERE key = ?"
_UPDATE = f"UPDATE {TABLE} SET starts = ?, not_before = ? WHERE key = ?"

_log = logging.getLogger("wix_refunds")


def key_fingerprint(api_key: str) -> str:
    """Return a fingerprint of an API key that names its limit: a SHA-256 hash, never the key."""
    return hashlib.sha256(b"wix-refunds rate limit\0" + api_key.encode()).hexdigest()[:32]


def limit_key(site_id: str, fingerprint: str) -> str:
    """Return the row key of a store's limit: its site ID (lower-cased) and key fingerprint."""
    return f"{site_id.strip().lower()}:{fingerprint}"


def check_limit(requests: int, per: float) -> None:
    """Raise ``InvalidRequest`` unless ``requests >= 1`` and ``per > 0``."""
    if isinstance(requests, bool) or not isinstance(requests, int) or requests < 1 or not per > 0:
        raise InvalidRequest("rate_limit", f"takes (requests >= 1, seconds > 0), got ({requests}, {per})")


def plan_start(
    starts: Sequence[float], now: float, not_before: float, requests: int, per: float
) -> tuple[float, list[float]]:
    """Return when the next request may start and the starts to keep (the last window's, and it).

    No request starts before ``not_before`` or before the one reserved before it; and
    within any window of ``per * (1 + GUARD)`` seconds at most ``requests`` start.
    """
    window = per * (1 + GUARD)
    kept = [start for start in starts if start > now - window]
    start = max(now, not_before, kept[-1] if kept else now)
    if len(kept) >= requests:
        start = max(start, kept[-requests] + window)
    kept.append(start)
    return start, kept


def _decode(text: str) -> list[float]:
    return [int(part) / 1000 for part in text.split(",") if part]


def _read_row(starts: Any, not_before: Any, now: float, requests: int) -> tuple[list[float], float, bool]:
    """Return a row's starts (oldest first) and ``not_before``; a row that cannot be read counts as a full window now.

    A corrupted row must neither stop every request (an error) nor free a burst: its
    store waits one window, as if ``requests`` had just started, and the row is rewritten.
    """
    try:
        kept, held = sorted(_decode(str(starts))), float(not_before)
        if math.isfinite(held) and all(math.isfinite(start) for start in kept):
            return kept, held, True
    except (TypeError, ValueError):
        pass
    log_event(logging.WARNING, "the shared rate limit's row cannot be read: holding its requests back one window")
    return [now] * requests, now, False


def _encode(starts: Sequence[float]) -> str:
    # Rounded up to the millisecond: a later start only ever spaces requests more.
    return ",".join(str(math.ceil(start * 1000)) for start in starts)


def draw_in(
    execute: Execute, key: str, clock: Callable[[], float], requests: int, per: float, *, lock: str = ""
) -> float:
    """Return the wait before the next request of ``key``, its start reserved, in an open transaction."""
    execute(_ENSURE, (key,))
    ((starts, not_before),) = execute(_SELECT + lock, (key,))
    now = clock()
    known, held, _ = _read_row(starts, not_before, now, requests)
    start, kept = plan_start(known, now, held, requests, per)
    execute(_UPDATE, (_encode(kept), held, key))
    return start - now


def hold_in(execute: Execute, key: str, clock: Callable[[], float], seconds: float, *, lock: str = "") -> None:
    """Record, in an open transaction, that no request of ``key`` may start sooner than ``seconds`` from now."""
    execute(_ENSURE, (key,))
    ((starts, not_before),) = execute(_SELECT + lock, (key,))
    now = clock()
    known, held, readable = _read_row(starts, not_before, now, 1)
    execute(_UPDATE, (starts if readable else _encode(known), max(held, now + seconds), key))


class StoredLimit:
    """A ``RequestLimiter`` whose window is a row of a database; ``_draw`` and ``_hold`` are the backend's."""

    def __init__(self, where: str, key: str, requests: int, per: float) -> None:
        check_limit(requests, per)
        self.where, self.key, self.requests, self.per = where, key, requests, float(per)
        self.reserved = 0
        self._until = 0.0
        self._guard = threading.Lock()
        # Used only while the backend cannot be reached.
        self._fallback = RateLimiter(requests, per)
        self._warned = False

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.where!r}, requests={self.requests}, per={self.per:g})"

    def _draw(self) -> float:
        raise NotImplementedError

    def _hold(self, seconds: float) -> None:
        raise NotImplementedError

    def _unreachable(self, exc: JournalError) -> None:
        if not self._warned:
            self._warned = True
            log_event(
                logging.WARNING,
                "the shared rate limit in %s cannot be used (%s): this process limits itself alone",
                self.where,
                exc,
            )

    def reserve(self) -> float:
        """Return how long to wait before sending, having reserved that start in the shared window."""
        try:
            wait = max(self._draw(), 0.0)
        except JournalError as exc:
            self._unreachable(exc)
            wait = self._fallback.reserve()
        with self._guard:
            self.reserved += 1
            self._until = max(self._until, time.monotonic() + wait)
        return wait

    async def reserve_async(self) -> float:
        """``reserve`` in a worker thread, so the event loop runs on."""
        import asyncio

        return await asyncio.to_thread(self.reserve)

    def hold_off(self, seconds: float) -> None:
        """Start no request of the store, in any process sharing the row, sooner than ``seconds`` from now."""
        self._fallback.hold_off(seconds)
        try:
            self._hold(seconds)
        except JournalError as exc:
            self._unreachable(exc)

    async def hold_off_async(self, seconds: float) -> None:
        """``hold_off`` in a worker thread."""
        import asyncio

        await asyncio.to_thread(self.hold_off, seconds)

    def backlog(self) -> float:
        """Return how long this process's last reserved start is still ahead (0.0: none)."""
        with self._guard:
            return max(self._until - time.monotonic(), 0.0)


class SqliteLimit(StoredLimit):
    """A store's limit as a row of a SQLite journal file: shared by the processes of one host."""

    def __init__(self, path: pathlib.Path, key: str, requests: int, per: float) -> None:
        super().__init__(f"sqlite:{path}", key, requests, per)
        self.path = path
        self._file = SqliteFile(path, (SCHEMA,), what=str(path), wait=60.0)

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[Execute]:
        # The window need not survive a power cut: nothing sent then is in flight after it.
        with self._file.transaction(durable=False) as execute:
            yield execute

    def _draw(self) -> float:
        with self._transaction() as execute:
            return draw_in(execute, self.key, time.time, self.requests, self.per)

    def _hold(self, seconds: float) -> None:
        with self._transaction() as execute:
            hold_in(execute, self.key, time.time, seconds)


# One limiter per store, key, limit and place in this process: its clients share it.
_LIMITERS: dict[tuple[str, str, int, float], RequestLimiter] = {}
_LIMITERS_GUARD = threading.Lock()


def shared_limit(
    journal: object, site_id: str, fingerprint: str, limit: tuple[int, float] = DEFAULT_LIMIT
) -> RequestLimiter:
    """Return the rate limit of a store (site and key fingerprint) kept where ``journal`` keeps its entries.

    Each journal says where (``_limit_place``): a name for the place, and how to make its
    limiter; one limiter per place, store and limit is made in a process.

    Raises:
        InvalidRequest: the limit is not (requests >= 1, seconds > 0), or ``journal``
            is not one of the library's journals.
    """
    requests, per = limit
    check_limit(requests, per)
    key = limit_key(site_id, fingerprint)
    place = getattr(journal, "_limit_place", None)
    if place is None:
        raise InvalidRequest("journal", f"{type(journal).__name__} keeps no shared rate limit")
    where, make = place(key, requests, per)
    with _LIMITERS_GUARD:
        found = _LIMITERS.get((where, key, requests, float(per)))
        if found is None:
            found = _LIMITERS[where, key, requests, float(per)] = make()
        return found


# Where a journal keeps a store's limit: a name for the place, and how to make its limiter.
LimitPlace = tuple[str, Callable[[], RequestLimiter]]


class SharesLimit:
    """Gives a journal ``shared_limit``: the rate limit of a store, kept in the journal's backend.

    A journal says where with ``_limit_place(key, requests, per)``.
    """

    __slots__ = ()

    def shared_limit(self, credentials: WixCredentials, limit: tuple[int, float] = DEFAULT_LIMIT) -> RequestLimiter:
        """Return the rate limit of ``credentials``' store (site and key), shared by every user of this journal.

        Pass it as a client's ``rate_limit``: every process (SQLite: of this host;
        PostgreSQL: of the fleet) whose client draws from it stays, together, under
        ``limit`` = (requests, seconds), and a 429's ``Retry-After`` slows all of them.
        Tell each the full limit. The API key is never stored: a hash of it names the row.

        Raises:
            InvalidRequest: the limit is not (requests >= 1, seconds > 0).
        """
        return shared_limit(self, credentials.site_id, key_fingerprint(credentials.api_key), limit)
