"""Run refund_order (sync) or refund_order_async against a FakeWix, in-process."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from wix_refunds import (
    AsyncWixClient,
    RefundOutcome,
    RefundRequest,
    RetryPolicy,
    WixClient,
    refund_order,
    refund_order_async,
)
from wix_refunds.testing import FakeWix

from .clients import Sleeps, fast_policy


class Crash(BaseException):
    """The process stops: nothing in the library may catch this."""


class ScriptedTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """FakeWix's transport, with a fault for each of the next requests from a script.

    ``writes``, if given, scripts the writes apart from the reads. ``ok`` passes;
    ``refuse`` never reaches Wix; ``503``/``429`` are answered without
    being applied; ``lose`` is applied and its answer lost; ``applied429`` is applied and
    answered 429 (Retry-After: 1); ``crash`` stops the process
    before sending; ``crash_after`` stops it after Wix applied the request.
    """

    def __init__(self, fake: FakeWix, script: list[str] | None = None, *, writes: list[str] | None = None) -> None:
        self.fake = fake
        self.inner = fake.transport()
        self.script = list(script or [])
        self.writes = list(writes or [])

    def _fault(self, request: httpx.Request) -> tuple[str, httpx.Response | None]:
        path = request.url.path
        is_write = request.method == "DELETE" or path.endswith(("/cancel", "/refund-payments"))
        queue = self.writes if is_write and self.writes else self.script
        kind = queue.pop(0) if queue else "ok"
        if kind == "crash":
            raise Crash()
        if kind == "refuse":
            raise httpx.ConnectError("refused", request=request)
        if kind in ("503", "429"):
            headers = {"Retry-After": "1"} if kind == "429" else {}
            return kind, httpx.Response(int(kind), headers=headers, content=b"", request=request)
        return kind, None

    def _after(self, kind: str, request: httpx.Request, response: httpx.Response) -> httpx.Response:
        if kind == "lose":
            raise httpx.ReadTimeout("lost", request=request)
        if kind == "crash_after":
            raise Crash()
        if kind == "applied429":
            return httpx.Response(429, headers={"Retry-After": "1"}, content=b"", request=request)
        return response

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        kind, early = self._fault(request)
        if early is not None:
            return early
        return self._after(kind, request, self.inner.handle_request(request))

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        kind, early = self._fault(request)
        if early is not None:
            return early
        return self._after(kind, request, await self.inner.handle_async_request(request))


def run_refund(
    kind: str,
    fake: FakeWix,
    order_id: str,
    request: RefundRequest | None = None,
    *,
    transport: Any = None,
    sleeps: Sleeps | None = None,
    policy: RetryPolicy | None = None,
    **kwargs: Any,
) -> RefundOutcome:
    transport = transport or fake.transport()
    policy = policy or fast_policy(sleeps if sleeps is not None else Sleeps())
    if kind == "sync":
        with httpx.Client(transport=transport) as http:
            client = WixClient(
                fake.credentials, base_url=FakeWix.BASE_URL, http_client=http, retry=policy, rate_limit=None
            )
            return refund_order(client, order_id, request, **kwargs)

    async def go() -> RefundOutcome:
        async with httpx.AsyncClient(transport=transport) as http:
            client = AsyncWixClient(
                fake.credentials, base_url=FakeWix.BASE_URL, http_client=http, retry=policy, rate_limit=None
            )
            return await refund_order_async(client, order_id, request, **kwargs)

    return asyncio.run(go())
