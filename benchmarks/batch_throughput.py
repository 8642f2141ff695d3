"""Batch throughput and memory: refund_orders_async over mixed orders against FakeWix.

FakeWix runs in its own process on loopback, adds 20 ms to every request and enforces
a time-compressed rate limit (200 requests per 0.8 s instead of per 60 s); the client
keeps the same limit. The bound on refunds per second is

    min(concurrency / per-call time, rate limit) / calls per refund

with per-call time = the added latency + the fake's own service time (measured).
Goal: at least 90% of the bound, no 429 reaching the caller; peak memory (client
process RSS) for 6,000 orders within 1.2x of that for 600.
Run: python benchmarks/batch_throughput.py [--orders 600 6000]
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

sys.path.insert(0, str(Path(__file__).parent))

from _common import machine
from _server import served

LATENCY = 0.020
RATE = (200, 0.8)
CONCURRENCY = 10


def _ids(path: str) -> Iterator[tuple[str, None]]:
    with open(path) as lines:
        for line in lines:
            yield line.strip(), None


async def _client(info: dict[str, str]) -> dict[str, object]:
    import httpx

    from wix_refunds import AsyncWixClient, RetryPolicy, WixCredentials, WixRateLimited, refund_orders_async

    credentials = WixCredentials(api_key=info["api_key"], account_id=info["account_id"], site_id=info["site_id"])
    statuses: Counter[str] = Counter()
    limited = 0
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    async with httpx.AsyncClient(limits=limits) as http:
        client = AsyncWixClient(
            credentials, base_url=info["base_url"], http_client=http, rate_limit=RATE, retry=RetryPolicy(deadline=120)
        )
        # one unlimited call first: the per-call service time of the fake, without the added latency
        started = time.perf_counter()
        async for outcome in refund_orders_async(client, _ids(info["ids"]), concurrency=CONCURRENCY):
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


def _service_time() -> float:
    """Return the fake's own time per request on loopback (no added latency), one connection."""
    import httpx

    with served("--orders", "5") as info, httpx.Client() as http:
        order_id = Path(info["ids"]).read_text().split()[0]
        url = f"{info['base_url']}/ecom/v1/orders/{order_id}"
        headers = {"Authorization": info["api_key"], "wix-site-id": info["site_id"]}
        for _ in range(20):
            http.get(url, headers=headers)
        started = time.perf_counter()
        for _ in range(200):
            http.get(url, headers=headers)
        return (time.perf_counter() - started) / 200


def run(orders: int) -> dict[str, object]:
    with served("--orders", str(orders), "--latency", str(LATENCY), "--rate", f"{RATE[0]}/{RATE[1]}") as info:
        # The client runs in a fresh process, so that its peak memory is its own.
        result = subprocess.run(
            [sys.executable, __file__, "--client", json.dumps(info)], capture_output=True, text=True, check=True
        )
    report: dict[str, object] = json.loads(result.stdout)
    report["server"] = info["stats"]
    return report


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, nargs="+", default=[600, 6000])
    parser.add_argument("--client")
    args = parser.parse_args()
    if args.client:
        print(json.dumps(asyncio.run(_client(json.loads(args.client)))))
        return
    service = _service_time()
    print(f"machine: {machine()}")
    print(f"fake service time per request (no added latency): {service * 1e3:.2f} ms")
    peaks = []
    for orders in args.orders:
        report = run(orders)
        stats = report["server"]
        assert isinstance(stats, dict)
        # The minimum calls: 429s answered by the fake were retried, and count against us.
        calls_per_refund = (stats["requests"] - stats["429"]) / orders
        per_call = LATENCY + service
        bound_calls = min(CONCURRENCY / per_call, RATE[0] / RATE[1])
        bound = bound_calls / calls_per_refund
        rate = orders / float(report["elapsed"])  # type: ignore[arg-type]
        peaks.append(float(report["rss_mib"]))  # type: ignore[arg-type]
        print(f"\n{orders} orders: {report['statuses']} in {float(report['elapsed']):.1f} s")  # type: ignore[arg-type]
        print(
            f"  calls per refund {calls_per_refund:.2f} (+{stats['429'] / orders:.2f} retried 429s); "
            f"429s answered by the fake {stats['429']}, reaching the caller {report['limited']}"
        )
        print(
            f"  bound: min({CONCURRENCY} / {per_call * 1e3:.1f} ms, {RATE[0]} / {RATE[1]} s) "
            f"= {bound_calls:.0f} calls/s = {bound:.1f} refunds/s"
        )
        print(f"  measured {rate:.1f} refunds/s = {rate / bound:.0%} of the bound (goal >= 90%)")
        print(f"  client peak RSS {report['rss_mib']:.1f} MiB, client CPU {report['cpu_s']:.1f} s")
    if len(peaks) == 2:
        print(f"\npeak memory {args.orders[1]} vs {args.orders[0]} orders: {peaks[1] / peaks[0]:.2f}x (goal <= 1.2x)")


if __name__ == "__main__":
    main()
