"""Refund every order listed in a CSV file (columns order_id, amount, optional reference), 8 at a time.

python examples/batch_from_csv.py orders.csv   # with WIX_* set
python examples/batch_from_csv.py              # against a FakeWix, with a CSV it writes, run twice

Every row's refund carries a reference: the file's ``reference`` column, or one derived
from the row (the order, the amount and how many earlier rows ask the same). So running
the same file again, after a crash or by mistake, finds each refund already made on Wix
(``ALREADY_DONE``) instead of making it twice. Without references every run would be new
refunds. To refund an order the same amount again on purpose, give that row a reference.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import os
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal

from wix_refunds import AsyncWixClient, RefundRequest, WixCredentials, refund_orders_async


def row_reference(order_id: str, amount: Decimal | None, occurrence: int) -> str:
    """Return the reference of a row: the same row, in any file, names the same refund on Wix."""
    # 12.5 and 12.50 are one amount; the reason is left out, so fixing a typo in it is no new refund.
    asked = "full" if amount is None else format(amount.normalize(), "f")
    text = "\0".join(["batch_from_csv", order_id.lower(), asked, str(occurrence)])
    return "csv-" + hashlib.sha256(text.encode()).hexdigest()[:20]


def read_rows(path: str) -> Iterator[tuple[str, RefundRequest | None]]:
    """Yield (order_id, request) pairs lazily, so that a long file costs no memory."""
    seen: Counter[tuple[str, Decimal | None]] = Counter()
    with open(path, newline="") as handle:
        for row in csv.DictReader(handle):
            text = row.get("amount") or None
            amount = Decimal(text) if text else None
            order_id = row["order_id"]
            reference = row.get("reference") or None
            if reference is None:
                # The second row asking the same of an order is a second refund, not a repeat.
                identity = (order_id.lower(), None if amount is None else amount.normalize())
                reference = row_reference(order_id, amount, seen[identity])
                seen[identity] += 1
            yield order_id, RefundRequest(amount=amount, reference=reference)


async def refund_file(credentials: WixCredentials, base_url: str, path: str) -> Counter[str]:
    counts: Counter[str] = Counter()
    async with AsyncWixClient(credentials, base_url=base_url) as client:
        async for outcome in refund_orders_async(client, read_rows(path), concurrency=8):
            counts[outcome.status.value] += 1
            print(outcome.order_id, outcome.status, outcome.reference, outcome.error or "")
    return counts


def main(argv: list[str]) -> list[Counter[str]]:
    if os.environ.get("WIX_API_KEY"):
        return [asyncio.run(refund_file(WixCredentials.from_env(), "https://www.wixapis.com", argv[0]))]
    from wix_refunds.testing import FakeWix

    fake = FakeWix()
    old = [fake.add_order(created="2024-01-05T10:00:00Z", fulfillments=i % 2) for i in range(5)]
    new = [fake.add_order(total="50") for _ in range(5)]
    # Old orders are cancelled whole; new ones are refunded 10.00 each, the first one twice.
    lines = [f"{oid}," for oid in old] + [f"{oid},10" for oid in new] + [f"{new[0]},10"]
    with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False, newline="") as handle:
        handle.write("order_id,amount\n" + "".join(line + "\n" for line in lines))
    runs = []
    try:
        with fake.serve() as base_url:
            # The same file twice: the second run finds every refund made by the first.
            for _ in range(2):
                runs.append(asyncio.run(refund_file(fake.credentials, base_url, handle.name)))
                print(dict(runs[-1]))
    finally:
        os.unlink(handle.name)
    print("refunded on Wix:", [f"{fake.refunded_total(oid):.2f}" for oid in new])
    return runs


if __name__ == "__main__":
    main(sys.argv[1:])
