"""The in-process httpx transport, sync and async: each request goes straight to ``FakeWix.handle``."""

from __future__ import annotations

import asyncio
import time

import httpx

from ._answers import _Answer
from ._faults import _Faults


class _FakeTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    def __init__(self, fake: _Faults) -> None:
        self.fake = fake

    def _respond(self, request: httpx.Request, answer: _Answer) -> httpx.Response:
        if answer.refuse:
            raise httpx.ConnectError("[Errno 111] Connection refused", request=request)
        if answer.lose:
            raise httpx.ReadTimeout("the response was lost", request=request)
        return httpx.Response(answer.status, headers=answer.headers, content=answer.body, request=request)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        if self.fake.latency:
            time.sleep(self.fake.latency)
        return self._respond(request, self.fake.handle(request.method, request.url.path, dict(request.headers), body))

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        if self.fake.latency:
            await asyncio.sleep(self.fake.latency)
        return self._respond(request, self.fake.handle(request.method, request.url.path, dict(request.headers), body))
