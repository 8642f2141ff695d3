"""Batch throughput at Wix's rate limit: shared reads against one read per order, and memory.

FakeWix runs in its own process on loopback, adds 20 ms to every request and enforces
Wix's limit time-compressed 75x (200 requests per 0.8 s instead of per 60 s); the client
keeps the same limit, and its freshness bound (max_age) is compressed alike. At the limit
a batch's speed is its request count, so the figure is orders per (compressed) Wix
minute. Each batch runs in a fresh client process, so that its peak memory is its own.

1. A standard-refund batch (new orders paid online, offline, or both), read one by one
   (group_size=1) and with shared reads (the default), same run. Goal: at least 1.8x the
   orders per minute with shared reads.
2. Mixed orders (old unfulfilled, old with 2 fulfilments, new online, new offline, new
   split) with shared reads, 600 and 6,000. Goals: no 429 reaching the caller; client
   peak memory for 6,000 within 1.2x of that for 600.
Run: python benchmarks/batch_throughput.py [--orders 600 6000] [--standard 600]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from _common import machine
from _server import served

LATENCY = 0.020
RATE = (200, 0.8)
# Compressed seconds per second of Wix time.
SCALE = RATE[1] / 60.0
CONCURRENCY = 10
SHARED, ONE_BY_ONE = 100, 1


def _ids(path: str) -> Iterator[tuple[str, None]]:
    with open(path) as lines:
        for line in lines:
            yield line.strip(), None


async def _client(info: dict[str, Any]) -> dict[str, object]:
    import httpx

    from wix_refunds import AsyncWixClient, RetryPolicy, WixCredentials, refund_orders_async
    from wix_refunds.core import WixRateLimited
    from wix_refunds.run._execute import DEFAULT_MAX_AGE

    credentials = WixCredentials(api_key=info["api_key"], account_id=info["account_id"], site_id=info["site_id"])
    statuses: Counter[str] = Counter()
    limited = 0
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    async with httpx.AsyncClient(limits=limits) as http:
        client = AsyncWixClient(
            credentials, base_url=info["base_url"], http_client=http, rate_limit=RATE, retry=RetryPolicy(deadline=120)
        )
        started = time.perf_counter()
        async for outcome in refund_orders_async(
            client,
            _ids(info["ids"]),
            concurrency=CONCURRENCY,
            group_size=info["group_size"],
            max_age=DEFAULT_MAX_AGE * SCALE,
        ):
            statuses[outcome.status.value] += 1
            limited += isinstance(outcome.error, WixRateLimited)
        elapsed = time.perf_counter() - started
    return {
        "elapsed": elapsed,
        "statuses": dict(statuses),
        "limited": limited,
        "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "cpu_s": resource.getrusage(resource.RUSAGE_SELF).ru_utime + resource.getrusage(resource.RUSAGE_SELF).ru_stime,
    }


def run(orders: int, mix: str, group_size: int) -> dict[str, Any]:
    """Return what one batch did: its time, outcomes, memory and the requests the fake saw."""
    rate = f"{RATE[0]}/{RATE[1]}"
    with served("--orders", str(orders), "--latency", str(LATENCY), "--rate", rate, "--mix", mix) as info:
        asked = {**info, "group_size": group_size}
        result = subprocess.run(
            [sys.executable, __file__, "--client", json.dumps(asked)], capture_output=True, text=True, check=True
        )
    report: dict[str, Any] = json.loads(result.stdout)
    report["server"] = info["stats"]
    return report


def show(label: str, orders: int, report: dict[str, Any]) -> float:
    """Print one batch's figures; return its orders per Wix minute."""
    stats = report["server"]
    per_minute = orders * RATE[1] / float(report["elapsed"])
    requests = (stats["requests"] - stats["429"]) / orders
    print(
        f"  {label:<28} {per_minute:6.1f} orders/min  {requests:.2f} requests/order  "
        f"{float(report['elapsed']):5.1f} s  {report['statuses']}  429s: {stats['429']} answered, "
        f"{report['limited']} reaching the caller  peak RSS {report['rss_mib']:.1f} MiB"
    )
    return per_minute


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, nargs="+", default=[600, 6000])
    parser.add_argument("--standard", type=int, default=600)
    parser.add_argument("--client")
    args = parser.parse_args()
    if args.client:
        print(json.dumps(asyncio.run(_client(json.loads(args.client)))))
        return
    print(f"machine: {machine()}")
    print(
        f"Wix's limit {RATE[0]} requests/min, compressed to {RATE[0]} per {RATE[1]} s; {LATENCY * 1e3:.0f} ms per "
        f"request; concurrency {CONCURRENCY}; orders per minute are per compressed Wix minute"
    )
    print(f"\n{args.standard} standard refunds:")
    alone = show("one by one (group_size=1)", args.standard, run(args.standard, "standard", ONE_BY_ONE))
    shared = show("shared reads (group_size=100)", args.standard, run(args.standard, "standard", SHARED))
    print(f"  shared reads: {shared / alone:.2f}x the orders per minute (goal >= 1.8x)")
    peaks, limited = [], 0
    print("\nmixed orders, shared reads:")
    for orders in args.orders:
        report = run(orders, "mixed", SHARED)
        show(f"{orders} orders", orders, report)
        peaks.append(float(report["rss_mib"]))
        limited += int(report["limited"])
    print(f"  429s reaching the caller: {limited} (goal 0)")
    if len(peaks) == 2:
        print(f"  peak memory {args.orders[1]} vs {args.orders[0]} orders: {peaks[1] / peaks[0]:.2f}x (goal <= 1.2x)")


if __name__ == "__main__":
    main()
