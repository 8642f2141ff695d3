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
    WixAuthError,
    WixConnectionError,
    WixInvalidResponse,
    WixNotFound,
    WixOutcomeUnknown,
    WixRateLimited,
    WixRefundError,
)
from ..core._failures import NEVER_SENT, is_retryable, meaning_of
from ..wix import _more_calls, _wire
from ..wix._errors import error_from_response
from ..wix._wire import WireCall
from ._credentials import WixCredentials
from ._log import log_event
from ._retry import RateLimiter, RequestLimiter, RetryPolicy, parse_retry_after
from ._tracing import span

__all__ = ["ClientCore", "PermissionCheck", "Sent", "VerifyReport"]

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


def _random_guid() -> str:
    """Return a fresh random version-4 GUID (no order has it)."""
    import uuid

    return str(uuid.uuid4())


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


@attrs.frozen(kw_only=True)
class PermissionCheck:
    """One line of the onboarding check: a permission, whether it passed, and what to fix."""

    name: str
    passed: bool
    detail: str
    fix: str | None = None
    #: False when Wix could not be asked (network, 5xx): the permission is unknown, not missing.
    reachable: bool = True
    #: Wix's ID of the permission checked (``ECOM.ORDER_BILLING_REFUND_PAYMENTS``...), when its types name one.
    permission_id: str | None = None

    def __str__(self) -> str:
        mark = "ok  " if self.passed else "FAIL"
        name = self.name if self.permission_id is None else f"{self.name} [{self.permission_id}]"
        line = f"[{mark}] {name}: {self.detail}"
        return line if self.fix is None else f"{line}\n       fix: {self.fix}"


@attrs.frozen(kw_only=True)
class VerifyReport:
    """The result of ``verify()``: one check per permission the library needs."""

    site_id: str
    checks: tuple[PermissionCheck, ...]

    @property
    def ok(self) -> bool:
        """Return whether every check passed."""
        return all(check.passed for check in self.checks)

    @property
    def reachable(self) -> bool:
        """Return whether Wix answered every check (False: try again later, nothing is known missing)."""
        return all(check.reachable for check in self.checks)

    def __str__(self) -> str:
        head = f"Wix site {self.site_id}: " + ("all permissions present" if self.ok else "some checks failed")
        return "\n".join([head, *(str(check) for check in self.checks)])


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


_FIX = "Edit the API key in Wix: Account Settings > API Keys, and tick the {permission} permission."
_FIX_ID = (
    "Edit the API key in Wix: Account Settings > API Keys, and tick the {permission} permission "
    "(Wix's permission ID {permission_id})."
)


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

    def _verify_calls(self) -> list[tuple[str, WireCall[Any]]]:
        # The write checks write to an order that does not exist (fresh random GUIDs): they
        # cannot change anything; 404 means the key may make that write, 403 that it may not.
        return [
            ("Business Info", _more_calls.get_site_properties()),
            ("Sites", _more_calls.query_sites(self.credentials.site_id)),
            ("Wix Stores (read orders)", _more_calls.search_one_order()),
            *(
                (f"Wix Stores ({label})", _more_calls.probe_write(what, _random_guid(), _random_guid()))
                for what, label in (
                    ("cancel", "cancel orders"),
                    ("refund", "refund payments"),
                    ("delete", "delete fulfilments"),
                )
            ),
            ("Wix Currencies", _more_calls.list_currencies()),
        ]

    def _report(self, results: list[tuple[str, WireCall[Any], Any, WixRefundError | None]]) -> VerifyReport:
        if any(isinstance(error, WixAuthError) and error.status == 401 for *_, error in results):
            # A wrong key fails every check alike: one line, one fix, not a permission list.
            bad_key = PermissionCheck(
                name="API key",
                passed=False,
                detail="Wix refused the key itself (HTTP 401): it is revoked, mistyped or expired",
                fix="Create or copy the key again in Wix: Account Settings > API Keys, and set WIX_API_KEY.",
            )
            return VerifyReport(site_id=self.credentials.site_id, checks=(bad_key,))
        checks = tuple(self._check(name, call, result, error) for name, call, result, error in results)
        return VerifyReport(site_id=self.credentials.site_id, checks=checks)

    def _check(self, name: str, call: WireCall[Any], result: Any, error: WixRefundError | None) -> PermissionCheck:
        checked = self._checked(name, call, result, error)
        return attrs.evolve(checked, permission_id=call.permission_id)

    def _checked(self, name: str, call: WireCall[Any], result: Any, error: WixRefundError | None) -> PermissionCheck:
        pid = call.permission_id
        fix = _FIX.format(permission=name) if pid is None else _FIX_ID.format(permission=name, permission_id=pid)
        probe = call.operation.startswith("probe_")
        if probe and isinstance(error, WixNotFound):
            return PermissionCheck(name=name, passed=True, detail="a write to an order that does not exist: 404")
        if probe and error is None:
            return PermissionCheck(
                name=name, passed=False, detail="the write check was answered 2xx for an order that does not exist"
            )
        if error is None:
            if call.operation == "query_sites" and self.credentials.site_id not in (result or ()):
                return PermissionCheck(
                    name=name,
                    passed=False,
                    detail=f"site {self.credentials.site_id} is not in account {self.credentials.account_id}",
                    fix="Check the account ID (API Keys Manager) and the site ID (the GUID after /dashboard/ "
                    "in the site's dashboard URL), and give the key access to this site.",
                )
            return PermissionCheck(name=name, passed=True, detail=f"{call.operation} answered")
        if isinstance(error, WixAPIError) and error.status in (401, 403):
            return PermissionCheck(name=name, passed=False, detail=f"Wix refused ({error.status})", fix=fix)
        return PermissionCheck(name=name, passed=False, detail=f"could not check: {error}", fix=None, reachable=False)

    _connection_error = staticmethod(_connection_error)

    def _rate_delay(self) -> float:
        """Return how long to wait before the next request, by the rate limiter (0: none)."""
        return 0.0 if self.limiter is None else self.limiter.reserve()

    async def _rate_delay_async(self) -> float:
        """Return how long to wait before the next request, by the rate limiter, without blocking the loop."""
        return 0.0 if self.limiter is None else await self.limiter.reserve_async()

    def _wait_asked(self, exc: WixRateLimited) -> float | None:
        """Return how long a 429 asks every request of the store to wait, when there is a limiter to tell."""
        return None if self.limiter is None else exc.retry_after

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
