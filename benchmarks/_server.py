"""FakeWix served from its own process, so that a benchmark's client has a core to itself.

Prints one JSON line (base URL, credentials, a file of order IDs), serves until its
standard input closes, then prints one JSON line of what it saw.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent.parent))

from wix_refunds.testing import FakeWix

OLD = "2024-03-01T10:00:00Z"
# One of each kind, in turn (add_order keywords): old unfulfilled, old with 2 fulfilments,
# new online, new offline, new split online + offline.
MIXES: dict[str, list[dict[str, Any]]] = {
    "mixed": [
        {"created": OLD},
        {"created": OLD, "fulfillments": 2},
        {},
        {"payments": "offline"},
        {"payments": [("20", "online"), ("15", "offline")]},
    ],
    # Standard refunds only: new orders paid online, offline, or both.
    "standard": [{}, {"payments": "offline"}, {"payments": [("20", "online"), ("15", "offline")]}],
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=0)
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--rate", type=str, default="", help="REQUESTS/SECONDS")
    parser.add_argument("--mix", choices=sorted(MIXES), default="mixed")
    args = parser.parse_args()
    fake = FakeWix()
    fake.latency = args.latency
    if args.rate:
        requests, per = args.rate.split("/")
        fake.set_rate_limit(int(requests), float(per))
    with tempfile.NamedTemporaryFile("w", suffix=".ids", delete=False) as ids:
        for index in range(args.orders):
            mix = MIXES[args.mix]
            ids.write(fake.add_order(**mix[index % len(mix)]) + "\n")
    with fake.serve() as base_url:
        print(
            json.dumps(
                {
                    "base_url": base_url,
                    "api_key": fake.api_key,
                    "account_id": fake.account_id,
                    "site_id": fake.site_id,
                    "ids": ids.name,
                }
            ),
            flush=True,
        )
        sys.stdin.read()
    statuses = Counter(r.status for r in fake.requests)
    writes = Counter(op for op, _, _ in fake.writes)
    print(json.dumps({"requests": len(fake.requests), "429": statuses[429], "writes": writes}), flush=True)
    Path(ids.name).unlink()


@contextmanager
def served(*args: str) -> Iterator[dict[str, Any]]:
    """Start a served FakeWix process; yield its details; ``stats`` holds what it saw, after."""
    process = subprocess.Popen(
        [sys.executable, __file__, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    assert process.stdin is not None
    info: dict[str, Any] = json.loads(process.stdout.readline())
    try:
        yield info
    finally:
        process.stdin.close()
        info["stats"] = json.loads(process.stdout.readline() or "{}")
        process.wait(timeout=60)


if __name__ == "__main__":
    main()
