"""Journal overhead: the time a durable journal adds to each refund, and the Wix calls it costs (none).

Standard refunds of 10.00 through ``refund_order`` against FakeWix in-process, one
order per refund, each backend's refunds in interleaved rounds (medians of the
rounds' means) in one run:

- ``MemoryJournal``: the baseline (the default; no I/O);
- ``SqliteJournal``: a file on the local disk (WAL; the intent fsynced, ``synchronous = FULL``);
- ``PostgresJournal``: a server on 127.0.0.1 started by this benchmark from the
  distribution's binaries (``tests/pg_server.py``), with ``fsync`` on.

Goals (issue 21): at most 2 ms added per refund with SQLite, 5 ms with PostgreSQL;
Wix calls per refund unchanged (4, the floor of a standard refund).
Run: python benchmarks/journal_overhead.py [--number 40] [--rounds 7]
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent))

from _common import machine

from wix_refunds import Journal, MemoryJournal, RefundRequest, SqliteJournal, WixClient, refund_order
from wix_refunds.testing import FakeWix

GOALS = {"memory": None, "sqlite": 0.002, "postgres": 0.005}


class Refunds:
    """One backend's refunds: its own FakeWix with fresh orders, and the journal it writes."""

    def __init__(self, journal: Journal, orders: int) -> None:
        self.journal = journal
        self.fake = FakeWix()
        self.orders = [self.fake.add_order(total="100") for _ in range(orders)]
        self.http = httpx.Client(transport=self.fake.transport())
        self.client = WixClient(
            self.fake.credentials, base_url=FakeWix.BASE_URL, http_client=self.http, rate_limit=None
        )
        self.done = 0
        self.times: list[float] = []

    def run(self, number: int) -> None:
        """Refund the next ``number`` orders; keep the mean seconds per refund."""
        started = time.perf_counter()
        for order_id in self.orders[self.done : self.done + number]:
            request = RefundRequest(amount=Decimal("10"), reference=f"bench-{order_id[:8]}")
            refund_order(self.client, order_id, request, journal=self.journal)
        self.times.append((time.perf_counter() - started) / number)
        self.done += number

    def calls_per_refund(self) -> float:
        return len(self.fake.requests) / self.done


@contextlib.contextmanager
def postgres_journal() -> Iterator[Journal | None]:
    """Yield a PostgresJournal on a server of this benchmark's own, or None (saying why) without one."""
    try:
        from tests import pg_server
        from wix_refunds.journal.postgres import PostgresJournal
    except ImportError as exc:
        print(f"PostgreSQL skipped: {exc}")
        yield None
        return
    try:
        with pg_server.running(fsync=True) as server:
            journal = PostgresJournal(server.dsn())
            try:
                yield journal
            finally:
                journal.close()
    except pg_server.ServerUnavailable as exc:
        print(f"PostgreSQL skipped: {exc}")
        yield None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--number", type=int, default=40, help="refunds per backend per round")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    # The SQLite file on the disk of the repository (not a tmpfs): its fsyncs are real.
    with tempfile.TemporaryDirectory(dir=Path(__file__).parent) as folder, postgres_journal() as pg:
        sqlite = SqliteJournal(Path(folder) / "journal.sqlite3")
        journals: dict[str, Journal] = {"memory": MemoryJournal(), "sqlite": sqlite}
        if pg is not None:
            journals["postgres"] = pg
        total = args.number * (args.rounds + 1)
        backends = {name: Refunds(journal, total) for name, journal in journals.items()}
        for refunds in backends.values():  # a warm-up round each: imports, tables, connections
            refunds.run(args.number)
            refunds.times.clear()
        for round_ in range(args.rounds):
            # The order alternates from round to round, as in _common.compare.
            names = list(backends) if round_ % 2 == 0 else list(reversed(backends))
            for name in names:
                backends[name].run(args.number)
        sqlite.close()
        for refunds in backends.values():
            refunds.http.close()
    base = statistics.median(backends["memory"].times)
    print(f"{args.rounds} rounds of {args.number} standard refunds per backend, interleaved; medians of round means")
    print(f"{'journal':<10} {'per refund':>11} {'added':>9} {'goal':>9} {'calls/refund':>13}")
    met = True
    for name, refunds in backends.items():
        median = statistics.median(refunds.times)
        added = median - base
        goal = GOALS[name]
        met = met and (goal is None or added <= goal) and refunds.calls_per_refund() == 4
        wanted = "-" if goal is None else f"<= {goal * 1000:.0f} ms"
        calls = refunds.calls_per_refund()
        print(f"{name:<10} {median * 1000:>8.2f} ms {added * 1000:>+6.2f} ms {wanted:>9} {calls:>13.2f}")
    print(f"goals {'met' if met else 'NOT met'}")


if __name__ == "__main__":
    main()
