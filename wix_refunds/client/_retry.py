"""The one retry policy (tenacity) and the client-side rate limiter.

What is retryable is a pure predicate, ``is_retryable``; how long to wait is
``RetryPolicy.wait_seconds``. Nothing here relies on tenacity's defaults.
"""

from __future__ import annotations

import collections
import logging
import random
import threading
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import attrs

from ..core._errors import InvalidRequest, WixAPIError
from ..core._failures import is_retryable
from ._log import log_event

if TYPE_CHECKING:
    import tenacity

__all__ = ["GUARD", "RateLimiter", "RequestLimiter", "RetryPolicy", "parse_retry_after"]


def parse_retry_after(value: str | None, *, now: datetime) -> float | None:
    """Return the seconds a ``Retry-After`` header asks for (seconds or an HTTP date), or None."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            return None
        return max((when - now).total_seconds(), 0.0)
    if seconds != seconds or seconds < 0:  # NaN or negative
        return None
    return seconds


async def _async_sleep(seconds: float) -> None:
    # asyncio is imported by whoever runs the event loop; importing it here, not at
    # the top, spares synchronous callers its import time.
    import asyncio

    await asyncio.sleep(seconds)


def _full_jitter() -> float:
    return random.random()


@attrs.frozen(kw_only=True)
class RetryPolicy:
    """How often and how long to retry a Wix call.

    Stops after ``max_attempts`` or before ``deadline`` seconds, whichever comes
    first; a wait that would end past the deadline raises at once instead of
    sleeping. Waits honour ``Retry-After`` (capped at ``max_retry_after``),
    otherwise full-jitter exponential backoff from ``backoff`` up to ``max_backoff``.
    """

    max_attempts: int = attrs.field(default=5, validator=attrs.validators.ge(1))
    deadline: float = attrs.field(default=60.0, validator=attrs.validators.gt(0))
    backoff: float = attrs.field(default=0.5, validator=attrs.validators.ge(0))
    max_backoff: float = attrs.field(default=8.0, validator=attrs.validators.ge(0))
    max_retry_after: float = attrs.field(default=60.0, validator=attrs.validators.ge(0))
    #: How long to keep re-reading after a refund whose outcome is unknown before
    #: reporting it unknown (never resending meanwhile). Wix may still commit a
    #: request after the client gave up; 120 s is eight times the client's default
    #: 15 s read timeout, well past how long Wix works on one request.
    settle: float = attrs.field(default=120.0, validator=attrs.validators.ge(0))
    sleep: Callable[[float], None] = time.sleep
    async_sleep: Callable[[float], Awaitable[None]] = _async_sleep
    jitter: Callable[[], float] = _full_jitter

    def wait_seconds(self, attempt: int, exc: BaseException | None) -> float:
        """Return how long to wait after failed attempt number ``attempt`` (1-based)."""
        # Retry-After is honoured on every retryable status that carries it, capped.
        if isinstance(exc, WixAPIError) and exc.retry_after is not None:
            return min(exc.retry_after, self.max_retry_after)
        ceiling = min(self.max_backoff, self.backoff * 2.0 ** (attempt - 1))
        return ceiling * self.jitter()

    def _tenacity_kwargs(self, operation: str, write: bool, elapsed: float, order_id: str | None) -> dict[str, Any]:
        # tenacity is imported on the first retry: most calls succeed at once, and a
        # process that never retries (a script, a command) does not pay to load it.
        import tenacity

        def wait(state: tenacity.RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            return self.wait_seconds(state.attempt_number, exc)

        def before_sleep(state: tenacity.RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            api = exc if isinstance(exc, WixAPIError) else None
            log_event(
                logging.WARNING,
                "retrying %s: attempt %d failed, waiting %.2fs: %s",
                operation,
                state.attempt_number,
                state.upcoming_sleep,
                exc,
                order_id=order_id,
                step=operation,
                attempt=state.attempt_number,
                request_id=None if api is None else api.request_id,
                status=None if api is None else api.status,
            )

        return {
            "retry": tenacity.retry_if_exception(lambda exc: is_retryable(exc, write=write)),
            "stop": tenacity.stop_after_attempt(self.max_attempts)
            | tenacity.stop_before_delay(max(self.deadline - elapsed, 0.0)),
            "wait": wait,
            "before_sleep": before_sleep,
            "reraise": True,
        }

    def retrying(
        self, operation: str, *, write: bool, elapsed: float = 0.0, order_id: str | None = None
    ) -> tenacity.Retrying:
        """Return a tenacity controller for one synchronous call, ``elapsed`` seconds into it."""
        import tenacity

        return tenacity.Retrying(sleep=self.sleep, **self._tenacity_kwargs(operation, write, elapsed, order_id))

    def async_retrying(
        self, operation: str, *, write: bool, elapsed: float = 0.0, order_id: str | None = None
    ) -> tenacity.AsyncRetrying:
        """Return a tenacity controller for one asynchronous call, ``elapsed`` seconds into it."""
        import tenacity

        return tenacity.AsyncRetrying(
            sleep=self.async_sleep, **self._tenacity_kwargs(operation, write, elapsed, order_id)
        )


#: How much longer than Wix's window a limiter's window is taken: a request that leaves a
#: little late (a busy host, a slow event loop) then still arrives under Wix's limit, where
#: a 429 would cost a write its certainty (``_error_table``).
@runtime_checkable
class RequestLimiter(Protocol):
    """What a client asks before each request, and tells after a 429: ``RateLimiter`` or a shared one."""

    #: The limit: ``requests`` per ``per`` seconds.
    requests: int
    per: float
    #: How many requests this limiter reserved a start for (progress estimates).
    reserved: int

    def reserve(self) -> float:
        """Return how long to wait before sending, having reserved that start."""
        ...

    async def reserve_async(self) -> float:
        """Return how long to wait before sending, having reserved that start (without blocking the loop)."""
        ...

    def hold_off(self, seconds: float) -> None:
        """Start no request of the store sooner than ``seconds`` from now (Wix's ``Retry-After``)."""
        ...

    async def hold_off_async(self, seconds: float) -> None:
        """``hold_off`` without blocking the loop."""
        ...

    def backlog(self) -> float:
        """Return how long a request reserved now would wait, as far as this process knows."""
        ...


GUARD = 0.05


class RateLimiter:
    """Keeps one client under ``requests`` per ``per`` seconds, shared by threads and tasks.

    A sliding window: a request may start once the request ``requests`` places
    before it started at least ``per`` seconds ago (5 % more: ``GUARD``), and not before a ``hold_off``
    (Wix's ``Retry-After``) ends. It holds for this process only: processes or hosts
    that refund one store share a journal's limit instead (``journal.shared_limit``).
    """

    def __init__(self, requests: int, per: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        if requests < 1 or not per > 0:
            raise InvalidRequest("rate_limit", f"takes (requests >= 1, seconds > 0), got ({requests}, {per})")
        self.requests = requests
        self.per = per
        self._clock = clock
        self._starts: collections.deque[float] = collections.deque(maxlen=requests)
        self._lock = threading.Lock()
        #: How many requests have reserved a slot so far (for progress and time-left estimates).
        self.reserved = 0
        self._not_before = 0.0

    def _next_start(self, now: float) -> float:
        start = max(now, self._not_before)
        if len(self._starts) == self.requests:
            start = max(now, self._starts[0] + self.per * (1 + GUARD))
        if self._starts and start < self._starts[-1]:
            start = self._starts[-1]
        return start

    def reserve(self) -> float:
        """Return how long to wait before sending, reserving the slot it waits for."""
        with self._lock:
            now = self._clock()
            start = self._next_start(now)
            self._starts.append(start)
            self.reserved += 1
            return start - now

    async def reserve_async(self) -> float:
        """Return how long to wait before sending, reserving the slot it waits for (``reserve``)."""
        return self.reserve()

    def hold_off(self, seconds: float) -> None:
        """Start no request sooner than ``seconds`` from now (Wix asked to wait so long)."""
        with self._lock:
            self._not_before = max(self._not_before, self._clock() + seconds)

    async def hold_off_async(self, seconds: float) -> None:
        """Start no request sooner than ``seconds`` from now (``hold_off``)."""
        self.hold_off(seconds)

    def backlog(self) -> float:
        """Return how long a request reserved now would wait (0.0 under the limit); reserves nothing."""
        with self._lock:
            now = self._clock()
            return self._next_start(now) - now
