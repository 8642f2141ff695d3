"""The I/O-free core of WixClient and AsyncWixClient.

It builds each request, turns a response (or an httpx failure) into a value or a
typed error, and decides what a failure means for the caller; the two clients in
``_client`` only send, sleep and await.
"""

from __future__ import annotations

import ipaddress
import logging
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any, Generic, NoReturn, TypeVar

import attrs
import httpx

from .._version import __version__
from ..core._errors import (
    InvalidRequest,
    InvalidWixData,
    WixAPIError,
    WixConnectionError,
    WixInvalidResponse,
    WixOutcomeUnknown,
    WixRefundError,
)
from ..core._failures import NEVER_SENT, is_retryable, meaning_of
from ..wix import _wire
from ..wix._errors import error_from_response
from ..wix._wire import WireCall
from ._credentials import WixCredentials
from ._log import log_event
from ._retry import RateLimiter, RequestLimiter, RetryPolicy, parse_retry_after
from ._tracing import span

__all__ = ["ClientCore", "Sent"]

T = TypeVar("T")
# The httpx client a client sends with: httpx.Client or httpx.AsyncClient.
H = TypeVar("H", httpx.Client, httpx.AsyncClient)

DEFAULT_TIMEOUT = httpx.Timeout(15.0, connect=5.0)
DEFAULT_RATE_LIMIT = (200, 60.0)
_LOOPBACK_NAMES = {"localhost"}


def _check_base_url(base_url: str) -> str:
    url = httpx.URL(base_url)
    host = url.host
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host in _LOOPBACK_NAMES
    if url.scheme == "https" or (url.scheme == "http" and loopback):
        return str(url).rstrip("/")
    raise InvalidRequest("base_url", f"{base_url!r} must use https (plain http only on a loopback host)")


def _without_sniffio_lookups() -> None:
    """Make httpcore's per-request ``import sniffio`` cheap when sniffio is not installed.

    httpcore imports sniffio on every async request and, when it is missing, falls
    back to asyncio; a failed import is not cached, so each request searched every
    folder of sys.path again (measured: async throughput halved). The dependency list
    is fixed (attrs, httpx, python-dateutil, tenacity), so instead of requiring
    sniffio the library records it as absent: the import then fails at once, with the
    same asyncio fallback. Nothing changes when sniffio is installed.
    """
    import importlib.util

    if "sniffio" not in sys.modules and importlib.util.find_spec("sniffio") is None:
        sys.modules["sniffio"] = None  # type: ignore[assignment]


def _limiter_of(rate_limit: tuple[int, float] | RequestLimiter | None) -> RequestLimiter | None:
    """Return the limiter a client asks before each request: its own for a (requests, seconds) pair."""
    if rate_limit is None or isinstance(rate_limit, RequestLimiter):
        return rate_limit
    if isinstance(rate_limit, tuple) and len(rate_limit) == 2:
        return RateLimiter(*rate_limit)
    raise InvalidRequest("rate_limit", "takes (requests, seconds), a limiter (journal.shared_limit(...)) or None")


def _error_fields(exc: WixRefundError) -> dict[str, Any]:
    """Return the log and span fields of a failed call: attempts, and Wix's status and request ID."""
    api = exc if isinstance(exc, WixAPIError) else None
    return {
        "attempt": exc.attempts,
        "status": None if api is None else api.status,
        "request_id": None if api is None else api.request_id,
    }


def _connection_error(exc: httpx.HTTPError, call: WireCall[Any]) -> WixConnectionError:
    """Return the WixConnectionError for an httpx failure. The one place httpx errors are translated."""
    never_sent = any(kind.__name__ in NEVER_SENT for kind in type(exc).__mro__)
    stage = "before sending" if never_sent else "after the request may have reached Wix"
    return WixConnectionError(
        f"{call.operation} ({call.method} {call.path}) failed {stage}: {type(exc).__name__}: {exc}",
        request_sent=not never_sent,
    )


class _Replay:
    """Hands the first attempt's failure to tenacity as its attempt 1, then counts real attempts.

    The first attempt runs outside tenacity, since most calls succeed at once;
    when it fails retryably, tenacity takes over exactly as if it had made it.
    """

    def __init__(self, first: WixRefundError) -> None:
        self.first: WixRefundError | None = first
        self.attempts = 1

    def next(self) -> None:
        """Raise the first failure once; afterwards count the attempt about to be made."""
        if self.first is not None:
            first, self.first = self.first, None
            raise first
        self.attempts += 1


@attrs.frozen
class Sent:
    """A call's parsed answer and how many attempts it took."""

    value: Any
    attempts: int


class ClientCore(Generic[H]):
    """What the sync and async clients share: requests, responses, errors, retry decisions (no I/O)."""

    #: The httpx client class this client creates when none is passed.
    _http_class: type[H]

    def __init__(
        self,
        credentials: WixCredentials,
        *,
        base_url: str = _wire.DEFAULT_BASE_URL,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        rate_limit: tuple[int, float] | RequestLimiter | None = DEFAULT_RATE_LIMIT,
        http_client: H | None = None,
    ) -> None:
        if not isinstance(credentials, WixCredentials):
            raise InvalidRequest("credentials", "expected WixCredentials")
        self.credentials = credentials
        self.base_url = _check_base_url(base_url)
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.limiter = _limiter_of(rate_limit)
        if self._http_class is httpx.AsyncClient:
            _without_sniffio_lookups()
        self._owns_http = http_client is None
        self._http: H = http_client if http_client is not None else self._http_class(timeout=timeout)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(site_id={self.credentials.site_id!r}, base_url={self.base_url!r})"

    def _request_args(self, call: WireCall[Any]) -> dict[str, Any]:
        """Return the keywords of ``httpx.Client.request`` for ``call``, as ``_wire`` writes it."""
        credentials = self.credentials
        headers = _wire.headers_of(
            call,
            api_key=credentials.api_key,
            site_id=credentials.site_id,
            account_id=credentials.account_id,
            user_agent=f"wix-refunds/{__version__}",
        )
        args: dict[str, Any] = {"method": call.method, "url": self.base_url + call.path, "headers": headers}
        if call.body is not None:
            args["content"] = call.content
        return args

    def _read(self, call: WireCall[T], response: httpx.Response) -> T:
        """Return the parsed answer of a response, or raise its typed error."""
        status = response.status_code
        if status >= 400 or status < 200:
            retry_after = parse_retry_after(response.headers.get("retry-after"), now=datetime.now(timezone.utc))
            raise error_from_response(
                status,
                response.headers,
                response.content,
                call,
                site_id=self.credentials.site_id,
                retry_after=retry_after,
            )
        request_id = response.headers.get(_wire.REQUEST_ID_HEADER)
        try:
            data = _wire.decode_json(response.content)
        except ValueError as exc:
            raise WixInvalidResponse(
                f"{call.operation} got HTTP {status} with a body that is not JSON",
                status=status,
                request_id=request_id,
                operation=call.operation,
            ) from exc
        try:
            return call.parse(data)
        except InvalidWixData as exc:
            suffix = f" [request id {request_id}]" if request_id else ""
            raise WixInvalidResponse(
                f"{call.operation} got HTTP {status} with a body Wix does not document: {exc}{suffix}",
                status=status,
                field=exc.field,
                problem=exc.problem,
                request_id=request_id,
                operation=call.operation,
            ) from exc

    def _unknown_if_write(self, call: WireCall[Any], exc: WixRefundError) -> WixRefundError:
        """Return WixOutcomeUnknown for a write that may have been applied (by ``_error_table``); otherwise ``exc``."""
        meaning = meaning_of(exc)
        if not call.write or meaning is None or not meaning.write_unknown:
            return exc
        return WixOutcomeUnknown(
            f"{call.operation} on {call.target} may or may not have been applied by Wix ({exc}); "
            "re-read the order before doing anything else",
            operation=call.operation,
        )

    def _sent(self, call: WireCall[Any], value: object, attempts: int) -> Sent:
        log_event(
            logging.DEBUG,
            "%s %s done after %d attempt(s)",
            call.operation,
            call.target or "",
            attempts,
            order_id=call.order_id,
            step=call.operation,
            attempt=attempts,
        )
        return Sent(value, attempts)

    def _fail(self, call: WireCall[Any], exc: WixRefundError, attempts: int) -> NoReturn:
        """Raise the final error of a call: WixOutcomeUnknown for a write that may have landed."""
        final = self._unknown_if_write(call, exc)
        final.attempts = attempts
        if final is exc:
            raise exc
        raise final from exc

    def _fail_unless_retryable(self, call: WireCall[Any], exc: WixRefundError) -> None:
        if self.retry.max_attempts <= 1 or not is_retryable(exc, write=call.write):
            self._fail(call, exc, 1)

    @staticmethod
    @contextmanager
    def _sending(call: WireCall[Any]) -> Iterator[None]:
        """Run the block that sends ``call``, its httpx failure raised as WixConnectionError (``_connection_error``)."""
        try:
            yield
        except httpx.HTTPError as exc:
            raise _connection_error(exc, call) from exc

    def _rate_delay(self) -> float:
        """Return how long to wait before the next request, by the rate limiter (0: none)."""
        return 0.0 if self.limiter is None else self.limiter.reserve()

    async def _rate_delay_async(self) -> float:
        """Return how long to wait before the next request, by the rate limiter, without blocking the loop."""
        return 0.0 if self.limiter is None else await self.limiter.reserve_async()

    def _first_failed(self, call: WireCall[Any], exc: WixRefundError) -> _Replay:
        """Raise the final error of a first attempt that may not be retried; else return its replay."""
        self._fail_unless_retryable(call, exc)
        return _Replay(exc)

    def _retry_args(self, call: WireCall[Any], started: float) -> dict[str, Any]:
        """Return the arguments of ``RetryPolicy.retrying`` for a call started at ``started`` (monotonic)."""
        return {"write": call.write, "elapsed": time.monotonic() - started, "order_id": call.order_id}

    @staticmethod
    @contextmanager
    def _traced(call: WireCall[Any]) -> Iterator[Callable[[Sent], Sent]]:
        """Trace one call in a span; yield the function that records its success."""
        with span(call.operation, order_id=call.order_id, step=call.operation) as current:

            def done(sent: Sent) -> Sent:
                current.set(attempt=sent.attempts)
                return sent

            try:
                yield done
            except WixRefundError as exc:
                current.set(**_error_fields(exc))
                raise
