"""Refund every order listed in a CSV file (columns order_id, amount), 8 at a time.

python examples/batch_from_csv.py orders.csv   # with WIX_* set
python examples/batch_from_csv.py              # against a FakeWix, with a CSV it writes
"""

from __future__ import annotations

import asyncio
import csv
import os
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal

from wix_refunds import AsyncWixClient, RefundRequest, WixCredentials, refund_orders_async


def read_rows(path: str) -> Iterator[tuple[str, RefundRequest | None]]:
    """Yield (order_id, request) pairs lazily, so that a long file costs no memory."""
    with open(path, newline="") as handle:
        for row in csv.DictReader(handle):
            amount = row.get("amount") or None
            yield row["order_id"], RefundRequest(amount=Decimal(amount) if amount else None)


async def refund_file(credentials: WixCredentials, base_url: str, path: str) -> Counter[str]:
    counts: Counter[str] = Counter()
    async with AsyncWixClient(credentials, base_url=base_url) as client:
        async for outcome in refund_orders_async(client, read_rows(path), concurrency=8):
            counts[outcome.status.value] += 1
            print(outcome.order_id, outcome.status, outcome.error or "")
    return counts


def main(argv: list[str]) -> Counter[str]:
    if os.environ.get("WIX_API_KEY"):
        return asyncio.run(refund_file(WixCredentials.from_env(), "https://www.wixapis.com", argv[0]))
    from wix_refunds.testing import FakeWix

    fake = FakeWix()
    ids = [fake.add_order(created="2024-01-05T10:00:00Z", fulfillments=i % 2) for i in range(5)]
    ids += [fake.add_order() for _ in range(5)]
    with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False, newline="") as handle:
        handle.write("order_id,amount\n" + "".join(f"{oid},\n" for oid in ids))
    try:
        with fake.serve() as base_url:
            counts = asyncio.run(refund_file(fake.credentials, base_url, handle.name))
    finally:
        os.unlink(handle.name)
    print(dict(counts))
    return counts


if __name__ == "__main__":
    main(sys.argv[1:])
