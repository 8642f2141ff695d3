"""Three processes on one store, each told the full limit: one shared limit against one each.

FakeWix runs in its own process on loopback and enforces a small limit in a short window
(30 requests per 5 s, Wix's 200 a minute compressed); three worker processes refund the
store's standard orders in batches (``refund_orders_async``, 30 orders each), started
together, each told the full limit:

1. ``own``: each process its own in-process limiter (before issue 25);
2. ``sqlite``: the store's limit shared through one ``SqliteJournal`` file (one host);
3. ``postgres``: three "hosts" (separate state folders and processes), the limit shared
   through one ``PostgresJournal`` on a server the benchmark starts (``tests/pg_server.py``).

Goal (2 and 3): 0 answers 429, and at least 90% of the limit used over the run: the
requests Wix answered against what its window allows in the run's time (a full window at
the start, then the limit per window).
Run: python benchmarks/shared_limit.py [--orders 30] [--rate 30/5] [--modes sqlite postgres] (add own: about 4 minutes)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _common import machine
from _server import served

ROOT = Path(__file__).resolve().parent.parent


async def _work(info: dict[str, Any], mode: str, target: str, ids: list[str], limit: tuple[int, float]) -> int:
    from wix_refunds import AsyncWixClient, RetryPolicy, WixCredentials, refund_orders_async

    credentials = WixCredentials(api_key=info["api_key"], account_id=info["account_id"], site_id=info["site_id"])
    rate: Any = limit
    journal: Any = None
    if mode == "sqlite":
        from wix_refunds import SqliteJournal

        journal = SqliteJournal(target)
    elif mode == "postgres":
        from wix_refunds.journal.postgres import PostgresJournal

        journal = PostgresJournal(target)
    if journal is not None:
        rate = journal.shared_limit(credentials, limit)
    policy = RetryPolicy(deadline=120, backoff=0.2, max_backoff=2.0)
    failed = 0
    async with AsyncWixClient(credentials, base_url=info["base_url"], rate_limit=rate, retry=policy) as client:
        items = [(oid, None) for oid in ids]
        async for outcome in refund_orders_async(client, items, journal=journal, concurrency=4):
            failed += outcome.error is not None
    return failed


def worker(args: list[str]) -> None:
    info, mode, target, ids_path, start, count, gate, requests, per = args
    ids = Path(ids_path).read_text().split()[int(start) : int(start) + int(count)]
    Path(gate, f"ready-{os.getpid()}").touch()
    while not Path(gate, "go").exists():
        time.sleep(0.002)
    failed = asyncio.run(_work(json.loads(info), mode, target, ids, (int(requests), float(per))))
    print(json.dumps({"failed": failed}), flush=True)


def run(mode: str, target: str, orders: int, rate: tuple[int, float]) -> dict[str, Any]:
    """Return what FakeWix saw while three workers refunded ``orders`` each, and how long it took."""
    arguments = ("--orders", str(3 * orders), "--rate", f"{rate[0]}/{rate[1]}", "--mix", "standard")
    with served(*arguments) as info, tempfile.TemporaryDirectory() as gate:
        processes = []
        for index in range(3):
            # Each "host" has a state folder of its own.
            state = Path(gate, f"state-{index}")
            state.mkdir()
            env = {**os.environ, "PYTHONPATH": str(ROOT), "XDG_STATE_HOME": str(state)}
            command = [sys.executable, __file__, "--worker", json.dumps(info), mode, target, info["ids"]]
            command += [str(index * orders), str(orders), gate, str(rate[0]), str(rate[1])]
            processes.append(subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True))
        while len(list(Path(gate).glob("ready-*"))) < 3:
            time.sleep(0.01)
        started = time.monotonic()
        Path(gate, "go").touch()
        failed = sum(json.loads(p.communicate()[0])["failed"] for p in processes)
        took = time.monotonic() - started
    stats = info["stats"]
    answered = stats["requests"] - stats["429"]
    allowed = rate[0] * (1 + took / rate[1])
    return {
        "mode": mode,
        "seconds": round(took, 1),
        "requests": stats["requests"],
        "429": stats["429"],
        "refunds": stats["writes"].get("refund", 0),
        "failed": failed,
        "per_window": round(answered / (took / rate[1]), 1),
        "used": round(answered / allowed, 3),
    }


def main() -> None:
    if sys.argv[1:2] == ["--worker"]:
        worker(sys.argv[2:])
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=30, help="orders per process")
    parser.add_argument("--rate", default="30/5", help="REQUESTS/SECONDS, enforced by the fake and told to each")
    parser.add_argument("--modes", nargs="+", default=["sqlite", "postgres"], choices=["own", "sqlite", "postgres"])
    args = parser.parse_args()
    requests, per = args.rate.split("/")
    rate = (int(requests), float(per))
    print(machine())
    with contextlib.ExitStack() as stack:
        for mode in args.modes:
            if mode == "postgres":
                from tests import pg_server

                server = stack.enter_context(pg_server.running())
                target = server.dsn()
            else:
                target = str(Path(stack.enter_context(tempfile.TemporaryDirectory()), "journal.sqlite3"))
            result = run(mode, target, args.orders, rate)
            print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
