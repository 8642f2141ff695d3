"""One standard refund against a Wix that takes 0.3 s per request: its time and its requests.

FakeWix is served on loopback (a thread per request) and adds 0.3 s to every request.
One async standard refund (``refund_order_async``), partial and full, on a fresh order
each time: the path of issue 25 (the order, transactions and refundability read at once)
and, in the same run, the path before it (the order, then transactions and refundability
together, then the write), with the sync client (``refund_order``) beside them. Medians of
``--rounds`` interleaved rounds.

Goal (the async path): at most 2 round trips' time plus 10% (0.66 s), at most 4 requests;
the sync path no slower than before.
Run: python benchmarks/round_trips.py [--rounds 5] [--latency 0.3]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _common import machine

from wix_refunds import AsyncWixClient, RefundRequest, WixClient, refund_order, refund_order_async
from wix_refunds.core import STANDARD_REFUND_CUTOFF
from wix_refunds.journal import lock_key
from wix_refunds.run._drivers import _drive_async, journal_of
from wix_refunds.run._run import _Run
from wix_refunds.testing import FakeWix


async def _before(client: AsyncWixClient, order_id: str, request: RefundRequest) -> Any:
    """Refund as refund_order_async did before issue 25: the order read alone first."""
    run = _Run(order_id, request, dry_run=False, cutoff=STANDARD_REFUND_CUTOFF, settle=120.0, parallel=True)
    book = journal_of(None, None)
    async with book.hold_async(lock_key(client.credentials.site_id, order_id)) as held:
        return await _drive_async(client, run, held, book)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--latency", type=float, default=0.3)
    args = parser.parse_args()
    fake = FakeWix()
    fake.latency = args.latency
    requests = {"partial": RefundRequest(amount=Decimal("10")), "full": RefundRequest()}
    times: dict[str, list[float]] = {}
    counts: dict[str, set[int]] = {}

    def note(name: str, started: float, before: int) -> None:
        times.setdefault(name, []).append(time.perf_counter() - started)
        counts.setdefault(name, set()).add(len(fake.requests) - before)

    with fake.serve() as base_url:

        async def rounds() -> None:
            async with AsyncWixClient(fake.credentials, base_url=base_url) as client:
                for _ in range(args.rounds):
                    for kind, request in requests.items():
                        for path in ("async now", "async before"):
                            oid = fake.add_order(total="100")
                            before, started = len(fake.requests), time.perf_counter()
                            if path == "async now":
                                outcome = await refund_order_async(client, oid, request)
                            else:
                                outcome = await _before(client, oid, request)
                            assert outcome.error is None
                            assert fake.count_writes("refund", oid) == 1
                            note(f"{path} {kind}", started, before)

        asyncio.run(rounds())
        with WixClient(fake.credentials, base_url=base_url) as client:
            for _ in range(args.rounds):
                for kind, request in requests.items():
                    oid = fake.add_order(total="100")
                    before, started = len(fake.requests), time.perf_counter()
                    refund_order(client, oid, request)
                    note(f"sync {kind}", started, before)
    print(machine())
    goal = 2 * args.latency * 1.1
    for name, seconds in times.items():
        median = statistics.median(seconds)
        print(
            f"{name:20} {median:.3f} s ({median / args.latency:.2f} round trips), "
            f"requests {sorted(counts[name])}" + (f", goal {goal:.2f} s" if name.startswith("async now") else "")
        )


if __name__ == "__main__":
    main()
