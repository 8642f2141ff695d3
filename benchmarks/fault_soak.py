"""Fault soak: 10,000 random fault schedules against every route, counting violations.

Each schedule: an order of one kind (tests/test_execute.py CASES), a sync or async
client, and up to four refund attempts, each with random faults on its reads and
writes (refused connections, 503, 429, lost answers, the process stopping before or
after Wix applies a request). Then a clean run. A violation is a double refund, a
refund total other than what was asked, a second cancel, a fulfilment deleted twice,
or a cancel before every fulfilment was deleted. Goal: 0 violations.
Run: python benchmarks/fault_soak.py [--schedules 10000] [--seed 1]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent))
sys.path.insert(0, str(Path(__file__).parent))

from _common import machine

from tests.runner import Crash, ScriptedTransport, run_refund
from tests.test_execute import CASES, KINDS, assert_done_exactly_once, expected_refund
from wix_refunds import WixRefundError
from wix_refunds.testing import FakeWix

FAULTS = ["ok", "refuse", "503", "429", "lose", "crash", "crash_after"]


def check_never_twice(fake: FakeWix, order_id: str, asked: object) -> None:
    assert fake.refunded_total(order_id) <= asked  # type: ignore[operator]
    assert fake.count_writes("cancel", order_id) <= 1
    deleted = [t for op, o, t in fake.writes if op == "delete_fulfillment" and o == order_id]
    assert len(deleted) == len(set(deleted))
    if fake.count_writes("cancel", order_id):
        assert fake.fulfillments[order_id] == []


def one(rng: random.Random) -> str | None:
    """Run one schedule; return what was violated, or None."""
    name = rng.choice(list(CASES))
    kind = rng.choice(KINDS)
    keywords, request, route, _ = CASES[name]
    fake = FakeWix(seed=rng.randrange(1 << 30))
    order_id = fake.add_order(**keywords)
    asked = expected_refund(fake, order_id, request)
    try:
        for _ in range(rng.randint(1, 4)):
            reads = [rng.choice(FAULTS) for _ in range(rng.randint(0, 6))]
            writes = [rng.choice(FAULTS) for _ in range(rng.randint(1, 4))]
            try:
                run_refund(kind, fake, order_id, request, transport=ScriptedTransport(fake, reads, writes=writes))
            except (Crash, WixRefundError):
                pass
            check_never_twice(fake, order_id, asked)
        run_refund(kind, fake, order_id, request)
        assert_done_exactly_once(fake, order_id, route, request)
    except AssertionError:
        return f"{name}/{kind}"
    return None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--schedules", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    violations: Counter[str] = Counter()
    started = time.perf_counter()
    for _ in range(args.schedules):
        violated = one(rng)
        if violated:
            violations[violated] += 1
    elapsed = time.perf_counter() - started
    print(f"machine: {machine()}")
    print(f"{args.schedules} schedules (seed {args.seed}) in {elapsed:.1f} s ({args.schedules / elapsed:.0f}/s)")
    print(f"violations: {sum(violations.values())} (goal 0) {dict(violations) or ''}")


if __name__ == "__main__":
    main()
