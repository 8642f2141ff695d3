"""Refund one order synchronously.

    WIX_API_KEY=... WIX_ACCOUNT_ID=... WIX_SITE_ID=... python examples/refund_one_order.py ORDER_ID [AMOUNT]

Without WIX_API_KEY it runs against a FakeWix on loopback, with an order it makes.
"""

from __future__ import annotations

import os
import sys
from decimal import Decimal

from wix_refunds import RefundNotSupported, RefundRequest, WixClient, WixCredentials, refund_order


def refund(credentials: WixCredentials, base_url: str, order_id: str, amount: Decimal | None) -> int:
    with WixClient(credentials, base_url=base_url) as client:
        try:
            outcome = refund_order(
                client, order_id, RefundRequest(amount=amount, reason="Refund requested by the buyer")
            )
        except RefundNotSupported as exc:
            print(f"not refunded: {exc}")
            return 4
    print(f"{outcome.order_id}: {outcome.status} via {outcome.route}")
    print(f"  {outcome.reason}")
    for step in outcome.steps:
        print(f"  {step.action} {step.target}: {step.result}")
    return 0


def main(argv: list[str]) -> int:
    amount = Decimal(argv[1]) if len(argv) > 1 else None
    if os.environ.get("WIX_API_KEY"):
        return refund(WixCredentials.from_env(), "https://www.wixapis.com", argv[0], amount)
    from wix_refunds.testing import FakeWix

    fake = FakeWix()
    order_id = argv[0] if argv else fake.add_order(created="2024-03-01T10:00:00Z", fulfillments=2)
    with fake.serve() as base_url:
        return refund(fake.credentials, base_url, order_id, amount)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
