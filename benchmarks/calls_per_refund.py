"""Calls per refund: FakeWix's request log on the happy path of each route.

Goal: the minimum and no more: CANCEL 2, UNFULFILL_THEN_CANCEL 3 + one per fulfilment,
STANDARD_REFUND 4. (tests/test_execute.py fails if a route makes more.)
Run: python benchmarks/calls_per_refund.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))

from _common import machine

from wix_refunds import WixClient, refund_order
from wix_refunds.testing import FakeWix

OLD = "2024-03-01T10:00:00Z"
CASES = [
    ("CANCEL", {"created": OLD}, 2),
    ("UNFULFILL_THEN_CANCEL, 1 fulfilment", {"created": OLD, "fulfillments": 1}, 4),
    ("UNFULFILL_THEN_CANCEL, 3 fulfilments", {"created": OLD, "fulfillments": 3}, 6),
    ("STANDARD_REFUND, 1 payment", {}, 4),
    ("STANDARD_REFUND, 3 payments", {"payments": [("10", "online"), ("15", "offline"), ("10", "manual")]}, 4),
    ("NOTHING_TO_DO (already cancelled)", {"created": OLD, "status": "CANCELED"}, 1),
]


def main() -> None:
    print(f"machine: {machine()}")
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


if __name__ == "__main__":
    main()
