"""WixClient and AsyncWixClient: send ``_wire`` calls over httpx with the retry policy.

Everything but the sending lives in ``_client_core`` (no I/O); the two send loops
below differ only where they await, and each convenience method (``get_order``,
``cancel_order``, ...) is written once, as a ``_Call`` both clients share.
"""

from __future__ import annotations

import functools
import inspect
import time
from collections.abc import Callable, Coroutine
from types import TracebackType
from typing import Any, Generic, ParamSpec, TypeVar, overload

import attrs
import httpx

from ..core._errors import WixRateLimited, WixRefundError
from ..core._orders import PaymentRefundability
from ..wix import _wire
from ..wix._parse import parse_refundability_answer
from ..wix._wire import WireCall
from ._client_core import DEFAULT_RATE_LIMIT as DEFAULT_RATE_LIMIT
from ._client_core import ClientCore, Sent
from ._verify import PermissionCheck, VerifyReport, verify_calls, verify_report

__all__ = ["AsyncWixClient", "PermissionCheck", "VerifyReport", "WixClient"]

T = TypeVar("T")
P = ParamSpec("P")
H = TypeVar("H", httpx.Client, httpx.AsyncClient)


def _payments(data: object) -> tuple[PaymentRefundability, ...]:
    return parse_refundability_answer(data).payments


def _refundability(order_id: str) -> WireCall[tuple[PaymentRefundability, ...]]:
    """Return the Get Order Refundability call, read down to its payments."""
    call: WireCall[Any] = _wire.get_refundability(order_id)
    return attrs.evolve(call, parse=_payments)


class _Call(Generic[P, T]):
    """A client method written once: build a ``WireCall`` and return the client's ``send`` of it.

    On a ``WixClient`` the method returns the answer; on an ``AsyncWixClient`` it
    returns the coroutine of the answer.
    """

    def __init__(self, build: Callable[P, WireCall[T]], doc: str) -> None:
        self.build = build
        self.__doc__ = doc

        # What the class shows (help(), a debugger): a method with the call's signature.
        @functools.wraps(build)
        def unbound(client: WixClient | AsyncWixClient, /, *args: P.args, **kwargs: P.kwargs) -> Any:
            return client.send(build(*args, **kwargs))

        unbound.__doc__ = doc
        # It returns the call's answer (a WireCall[X] is sent, X comes back).
        signature = inspect.signature(build)
        answer = signature.return_annotation
        if isinstance(answer, str) and answer.startswith("WireCall[") and answer.endswith("]"):
            unbound.__signature__ = signature.replace(return_annotation=answer[len("WireCall[") : -1])  # type: ignore[attr-defined]
        self.unbound = unbound

    def __set_name__(self, owner: type, name: str) -> None:
        self.unbound.__name__ = name
        self.unbound.__qualname__ = f"{owner.__name__}.{name}"

    @overload
    def __get__(self, client: None, owner: type) -> Callable[..., Any]: ...
    @overload
    def __get__(self, client: WixClient, owner: type) -> Callable[P, T]: ...
    @overload
    def __get__(self, client: AsyncWixClient, owner: type) -> Callable[P, Coroutine[Any, Any, T]]: ...
    def __get__(self, client: WixClient | AsyncWixClient | None, owner: type) -> Any:
        if client is None:
            return self.unbound
        build, send = self.build, client.send

        @functools.wraps(build)
        def method(*args: P.args, **kwargs: P.kwargs) -> Any:
            return send(build(*args, **kwargs))

        method.__doc__ = self.__doc__
        return method


class _Calls(ClientCore[H]):
    """The convenience methods of both clients, each one ``WireCall`` sent."""

    get_order = _Call(_wire.get_order, "Return the order ``order_id``.")
    list_fulfillments = _Call(_wire.list_fulfillments, "Return the fulfilments of an order.")
    delete_fulfillment = _Call(_wire.delete_fulfillment, "Delete one fulfilment; return the fulfilments that remain.")
    cancel_order = _Call(_wire.cancel_order, "Cancel an order; return it as Wix has it after the cancel.")
    list_transactions = _Call(_wire.list_transactions, "Return an order's payments and refunds.")
    get_refundability = _Call(_refundability, "Return how Wix can refund each payment of an order.")
    refund_payments = _Call(
        _wire.refund_payments, "Refund payments of an order (no idempotency on Wix!); return the refund Wix made."
    )


class WixClient(_Calls[httpx.Client]):
    """A synchronous Wix client; a context manager that reuses one connection pool.

    Pass ``http_client`` to use your own ``httpx.Client`` (proxies, transports such
    as ``httpx.MockTransport`` or ``FakeWix.transport()``); it is then yours to close.
    """

    _http_class = httpx.Client

    def __enter__(self) -> WixClient:
        return self

    def __exit__(
        self, *exc_info: tuple[type[BaseException] | None, BaseException | None, TracebackType | None]
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool, if this client created it."""
        if self._owns_http:
            self._http.close()

    def _attempt(self, call: WireCall[T]) -> T:
        delay = self._rate_delay()
        if delay > 0:
            self.retry.sleep(delay)
        with self._sending(call):
            response = self._http.request(**self._request_args(call))
        try:
            return self._read(call, response)
        except WixRateLimited as exc:
            # Wix's Retry-After slows every request of the store, not only this one.
            if self.limiter is not None and exc.retry_after is not None:
                self.limiter.hold_off(exc.retry_after)
            raise

    def send_counted(self, call: WireCall[T]) -> Sent:
        """Return the call's parsed answer and its attempt count, retrying by the policy.

        Raises:
            WixOutcomeUnknown: a write may have been applied; re-read before anything else.
            WixRefundError: any other failure, typed.
        """
        with self._traced(call) as done:
            started = time.monotonic()
            try:
                return done(self._sent(call, self._attempt(call), 1))
            except WixRefundError as exc:
                replay = self._first_failed(call, exc)

            def attempt() -> T:
                replay.next()
                return self._attempt(call)

            try:
                value: T = self.retry.retrying(call.operation, **self._retry_args(call, started))(attempt)
            except WixRefundError as exc:
                self._fail(call, exc, replay.attempts)
            return done(self._sent(call, value, replay.attempts))

    def send(self, call: WireCall[T]) -> T:
        """Return the call's parsed answer (see ``send_counted``)."""
        value: T = self.send_counted(call).value
        return value

    def verify(self) -> VerifyReport:
        """Return the onboarding check: one entry per permission the library needs (no write is made)."""
        results = []
        for name, call in verify_calls(self.credentials.site_id):
            try:
                result, error = self.send(call), None
            except WixRefundError as exc:
                result, error = None, exc
            results.append((name, call, result, error))
        return verify_report(self.credentials, results)


class AsyncWixClient(_Calls[httpx.AsyncClient]):
    """The asynchronous twin of ``WixClient`` (an ``httpx.AsyncClient`` inside)."""

    _http_class = httpx.AsyncClient

    async def __aenter__(self) -> AsyncWixClient:
        return self

    async def __aexit__(
        self, *exc_info: tuple[type[BaseException] | None, BaseException | None, TracebackType | None]
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool, if this client created it."""
        if self._owns_http:
            await self._http.aclose()

    async def _attempt(self, call: WireCall[T]) -> T:
        delay = await self._rate_delay_async()
        if delay > 0:
            await self.retry.async_sleep(delay)
        with self._sending(call):
            response = await self._http.request(**self._request_args(call))
        try:
            return self._read(call, response)
        except WixRateLimited as exc:
            if self.limiter is not None and exc.retry_after is not None:
                await self.limiter.hold_off_async(exc.retry_after)
            raise

    async def send_counted(self, call: WireCall[T]) -> Sent:
        """Return the call's parsed answer and its attempt count (see ``WixClient.send_counted``)."""
        with self._traced(call) as done:
            started = time.monotonic()
            try:
                first: T = await self._attempt(call)
                return done(self._sent(call, first, 1))
            except WixRefundError as exc:
                replay = self._first_failed(call, exc)

            async def attempt() -> T:
                replay.next()
                return await self._attempt(call)

            try:
                value: T = await self.retry.async_retrying(call.operation, **self._retry_args(call, started))(attempt)
            except WixRefundError as exc:
                self._fail(call, exc, replay.attempts)
            return done(self._sent(call, value, replay.attempts))

    async def send(self, call: WireCall[T]) -> T:
        """Return the call's parsed answer."""
        value: T = (await self.send_counted(call)).value
        return value

    async def verify(self) -> VerifyReport:
        """Return the onboarding check: one entry per permission the library needs (no write is made)."""
        results = []
        for name, call in verify_calls(self.credentials.site_id):
            try:
                result, error = await self.send(call), None
            except WixRefundError as exc:
                result, error = None, exc
            results.append((name, call, result, error))
        return verify_report(self.credentials, results)
