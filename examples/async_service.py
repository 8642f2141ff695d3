"""Use the library inside an async service: one AsyncWixClient per store, shared by requests.

python examples/async_service.py      # runs against a FakeWix on loopback
"""

from __future__ import annotations

import asyncio
from decimal import Decimal

from wix_refunds import (
    AsyncWixClient,
    RefundNotSupported,
    RefundOutcome,
    RefundRequest,
    WixCredentials,
    WixRefundError,
    refund_order_async,
)


class RefundService:
    """What an order service keeps: one client (one connection pool, one rate limiter) per store."""

    def __init__(self, credentials: WixCredentials, base_url: str = "https://www.wixapis.com") -> None:
        self.client = AsyncWixClient(credentials, base_url=base_url)

    async def close(self) -> None:
        await self.client.aclose()

    async def refund(self, order_id: str, amount: Decimal | None, ticket: str) -> dict[str, object]:
        """Refund an order for a support ticket; safe to call again for the same ticket."""
        request = RefundRequest(amount=amount, reason=f"Support ticket {ticket}", reference=ticket)
        try:
            outcome: RefundOutcome = await refund_order_async(self.client, order_id, request)
        except RefundNotSupported as exc:
            return {"order_id": order_id, "refused": str(exc)}
        except WixRefundError as exc:  # network, auth, Wix errors: retry the call later, it is safe
            return {"order_id": order_id, "error": type(exc).__name__, "retry": True}
        return dict(outcome.to_dict())


async def main() -> list[dict[str, object]]:
    from wix_refunds.testing import FakeWix

    fake = FakeWix()
    new = fake.add_order(total="60")
    old = fake.add_order(created="2024-02-10T09:00:00+01:00")
    with fake.serve() as base_url:
        service = RefundService(fake.credentials, base_url)
        try:
            results = await asyncio.gather(
                service.refund(new, Decimal("15"), "T-100"),
                service.refund(new, Decimal("15"), "T-100"),  # the same ticket twice: refunded once
                service.refund(old, None, "T-101"),
            )
        finally:
            await service.close()
    for result in results:
        print(result["order_id"], result.get("status") or result)
    return list(results)


if __name__ == "__main__":
    asyncio.run(main())
