"""Calls per refund: FakeWix's request log, one order at a time and in a batch with shared reads.

1. One order per call (refund_order), the happy path of each route. Goal: the minimum
   and no more: CANCEL 2, UNFULFILL_THEN_CANCEL 3 + one per fulfilment, STANDARD_REFUND 4
   (tests/test_execute.py fails if a route makes more).
2. A batch of 1,000 mixed orders (refund_orders_async), read one by one (group_size=1,
   today's batch) and with shared reads (the default groups of 100), side by side. Each
   request counts for the order it names; a shared read (Search Orders, a list-by-ids
   call) counts a share for each order it names. Goal with shared reads, requests per
   order: STANDARD_REFUND at most 2.05, CANCEL 1.05, UNFULFILL_THEN_CANCEL 1.05 + one per
   fulfilment (against 4, 2 and 3 + n one by one).
Run: python benchmarks/calls_per_refund.py [--orders 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).parent))

from _common import machine

from wix_refunds import AsyncWixClient, WixClient, refund_order, refund_orders_async
from wix_refunds.testing import FakeWix, LoggedRequest

OLD = "2024-03-01T10:00:00Z"
CASES = [
    ("CANCEL", {"created": OLD}, 2),
    ("UNFULFILL_THEN_CANCEL, 1 fulfilment", {"created": OLD, "fulfillments": 1}, 4),
    ("UNFULFILL_THEN_CANCEL, 3 fulfilments", {"created": OLD, "fulfillments": 3}, 6),
    ("STANDARD_REFUND, 1 payment", {}, 4),
    ("STANDARD_REFUND, 3 payments", {"payments": [("10", "online"), ("15", "offline"), ("10", "manual")]}, 4),
    ("NOTHING_TO_DO (already cancelled)", {"created": OLD, "status": "CANCELED"}, 1),
]
# The batch's mix, one of each in turn: (route, add_order keywords, fulfilments, goal with shared reads)
MIX: list[tuple[str, dict[str, Any], int, float | None]] = [
    ("CANCEL", {"created": OLD}, 0, 1.05),
    ("UNFULFILL_THEN_CANCEL", {"created": OLD, "fulfillments": 1}, 1, 1.05),
    ("UNFULFILL_THEN_CANCEL", {"created": OLD, "fulfillments": 3}, 3, 1.05),
    ("STANDARD_REFUND", {}, 0, 2.05),
    ("STANDARD_REFUND", {"payments": [("10", "online"), ("15", "offline"), ("10", "manual")]}, 0, 2.05),
    ("NOTHING_TO_DO", {"created": OLD, "status": "CANCELED"}, 0, None),
]
ROUTES = ["STANDARD_REFUND", "CANCEL", "UNFULFILL_THEN_CANCEL", "NOTHING_TO_DO"]
TODAY = {"STANDARD_REFUND": "4", "CANCEL": "2", "UNFULFILL_THEN_CANCEL": "3 + n", "NOTHING_TO_DO": "1"}


def single_orders() -> None:
    print(f"{'route':<40} {'calls':>5} {'goal':>5}  calls made")
    worst = 0.0
    for name, keywords, goal in CASES:
        fake = FakeWix()
        order_id = fake.add_order(**keywords)  # type: ignore[arg-type]
        with httpx.Client(transport=fake.transport()) as http:
            refund_order(WixClient(fake.credentials, base_url=FakeWix.BASE_URL, http_client=http), order_id)
        calls = [f"{r.method} {r.path.split('/')[3]}" for r in fake.requests]
        worst = max(worst, len(fake.requests) / goal)
        print(f"{name:<40} {len(fake.requests):>5} {goal:>5}  {', '.join(calls)}")
    print(f"ratio (calls / goal, worst route): {worst:.2f}x (goal 1.00x)")


def shares(requests: Iterable[LoggedRequest]) -> dict[str, float]:
    """Return each order's requests: its own, plus its share of every shared read that named it."""
    spent: dict[str, float] = defaultdict(float)
    searched: list[str] = []
    for request in requests:
        body = request.json if isinstance(request.json, dict) else {}
        if request.path.endswith("/list-by-ids"):
            named = list(body["orderIds"])
        elif request.path.endswith("/orders/search"):
            search = body.get("search", {})
            # A later page (cursor only) belongs to the search before it.
            searched = search.get("filter", {}).get("id", {}).get("$in", searched)
            named = searched
        elif isinstance(body.get("orderId"), str):
            named = [body["orderId"]]
        else:
            parts = request.path.split("/")
            named = [parts[parts.index("orders") + 1]]
        for order_id in named:
            spent[order_id] += 1 / len(named)
    return spent


def run_batch(orders: int, group_size: int) -> tuple[dict[str, float], dict[str, tuple[str, int, float | None]], int]:
    """Return each order's requests, its route, fulfilments and goal, and all requests, for one batch."""
    fake = FakeWix()
    kinds = {}
    for index in range(orders):
        route, keywords, fulfilments, goal = MIX[index % len(MIX)]
        kinds[fake.add_order(**keywords)] = (route, fulfilments, goal)

    async def go() -> None:
        async with httpx.AsyncClient(transport=fake.transport()) as http:
            client = AsyncWixClient(fake.credentials, base_url=FakeWix.BASE_URL, http_client=http, rate_limit=None)
            async for outcome in refund_orders_async(client, ((oid, None) for oid in kinds), group_size=group_size):
                assert outcome.error is None, outcome.error

    asyncio.run(go())
    return shares(fake.requests), kinds, len(fake.requests)


def batch(orders: int) -> bool:
    runs = {size: run_batch(orders, size) for size in (1, 100)}
    print(f"\n{orders} mixed orders in one batch ({len(MIX)} kinds in turn), requests per order:")
    print(f"{'route':<24} {'orders':>6} {'one by one':>11} {'shared reads':>13} {'goal':>13} {'today':>6}")
    met = True
    for route in ROUTES:
        figures = []
        for size in (1, 100):
            spent, kinds, _ = runs[size]
            ids = [oid for oid, kind in kinds.items() if kind[0] == route]
            # Deletes are one per fulfilment on either path: the goal is "+ n".
            figures.append(sum(spent[oid] - kinds[oid][1] for oid in ids) / len(ids))
        goal = MIX[[m[0] for m in MIX].index(route)][3]
        plus = " + n" if route == "UNFULFILL_THEN_CANCEL" else ""
        met = met and (goal is None or figures[1] <= goal)
        wanted = "-" if goal is None else f"<= {goal:.2f}{plus}"
        print(
            f"{route:<24} {len(ids):>6} {figures[0]:>7.2f}{plus:<4} {figures[1]:>9.3f}{plus:<4} "
            f"{wanted:>13} {TODAY[route]:>6}"
        )
    total = {size: runs[size][2] for size in runs}
    print(
        f"all requests: {total[1]} one by one, {total[100]} with shared reads "
        f"({total[1] / total[100]:.2f}x fewer); goals {'met' if met else 'NOT met'}"
    )
    return met


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=1000)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    single_orders()
    batch(args.orders)


if __name__ == "__main__":
    main()
