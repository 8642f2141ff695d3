"""Run the same client call on WixClient and AsyncWixClient, for tests of both."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx

from wix_refunds import AsyncWixClient, RetryPolicy, WixClient, WixCredentials

CANARY_KEY = "IST.CANARY-KEY-must-never-leak-0123456789"
ACCOUNT_ID = "f728b4fa-4248-4e3a-8a5d-2f346baa9455"
SITE_ID = "eb1167b3-67a9-4378-bc65-c1e582e2e662"
CREDENTIALS = WixCredentials(api_key=CANARY_KEY, account_id=ACCOUNT_ID, site_id=SITE_ID)


class Sleeps(list[float]):
    """Records the waits a retry policy asks for, without waiting."""

    def sleep(self, seconds: float) -> None:
        self.append(seconds)

    async def async_sleep(self, seconds: float) -> None:
        self.append(seconds)


def fast_policy(sleeps: Sleeps, **kwargs: Any) -> RetryPolicy:
    return RetryPolicy(sleep=sleeps.sleep, async_sleep=sleeps.async_sleep, jitter=lambda: 1.0, **kwargs)


def run_call(
    kind: str,
    transport: httpx.BaseTransport | httpx.AsyncBaseTransport | httpx.MockTransport,
    method: str,
    *args: Any,
    retry: RetryPolicy | None = None,
    base_url: str = "https://www.wixapis.com",
    credentials: WixCredentials = CREDENTIALS,
    **kwargs: Any,
) -> Any:
    """Call ``method`` on a sync or async client over ``transport`` and return its result."""
    if kind == "sync":
        with httpx.Client(transport=transport) as http:  # type: ignore[arg-type]
            client = WixClient(credentials, base_url=base_url, http_client=http, retry=retry, rate_limit=None)
            return getattr(client, method)(*args, **kwargs)

    async def go() -> Any:
        async with httpx.AsyncClient(transport=transport) as http:  # type: ignore[arg-type]
            client = AsyncWixClient(credentials, base_url=base_url, http_client=http, retry=retry, rate_limit=None)
            return await getattr(client, method)(*args, **kwargs)

    return asyncio.run(go())


def recording(responder: Callable[[httpx.Request], httpx.Response]) -> tuple[httpx.MockTransport, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        request.read()
        seen.append(request)
        return responder(request)

    return httpx.MockTransport(handler), seen
