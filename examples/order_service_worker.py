"""An order service's refund worker: requests from a queue, one refund each, logs as JSON lines.

python examples/order_service_worker.py      # runs against a FakeWix on loopback

A queue may deliver a message twice and several workers may take messages for one
order: each message carries the service's refund request ID, used as the refund's
reference, so a repeat finds the refund already made.

The workers share a PostgreSQL refund journal (set WIX_REFUNDS_JOURNAL to its DSN). Why
PostgreSQL: a service runs on several hosts and is redeployed, killed and scaled while
refunds are in flight. The journal records each refund's intent before its write leaves
Wix's way; a worker that takes over an order, on any host, after the first one died or
lost its database session, finds that record and waits for the write to land instead of
paying again. A lock alone cannot do that (it goes away with its holder); an in-memory
journal dies with the process; a SQLite file serves one host only. Without a DSN this
demo uses a SQLite journal in a temporary folder. Refunds that Wix holds pending are
followed later with refund_status_async.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
import tempfile
from decimal import Decimal
from typing import Any

from wix_refunds import (
    AsyncWixClient,
    Journal,
    RefundRequest,
    RefundState,
    SqliteJournal,
    refund_order_async,
    refund_status_async,
)
from wix_refunds.client import LOG_FIELDS


class JsonLines(logging.Formatter):
    """One JSON object per record: the sentence plus the fields wix_refunds puts on every record."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {"level": record.levelname, "logger": record.name, "message": record.getMessage()}
        data.update({name: getattr(record, name, None) for name in LOG_FIELDS})
        return json.dumps(data)


def journal() -> Journal:
    """Return the fleet's PostgreSQL journal when a DSN is set, else a SQLite file (one host: the demo)."""
    dsn = os.environ.get("WIX_REFUNDS_JOURNAL")
    if dsn:
        from wix_refunds.journal.postgres import PostgresJournal

        return PostgresJournal(dsn)
    return SqliteJournal(os.path.join(tempfile.mkdtemp(prefix="order-service-"), "refunds.sqlite3"))


async def worker(name: str, client: AsyncWixClient, queue: asyncio.Queue[dict[str, Any]], shared: Journal) -> None:
    """Take refund messages until the queue is empty; print one result line each."""
    while True:
        try:
            message = queue.get_nowait()
        except asyncio.QueueEmpty:
            return
        request = RefundRequest(
            amount=None if message["amount"] is None else Decimal(message["amount"]),
            reason=message["reason"],
            reference=message["refund_request_id"],
        )
        try:
            outcome = await refund_order_async(
                client, message["order_id"], request, journal=shared, context={"message_id": message["message_id"]}
            )
            print(json.dumps({"worker": name, **outcome.to_dict()}))
        except Exception as exc:  # a worker reports and goes on; the message can be retried safely
            print(json.dumps({"worker": name, "order_id": message["order_id"], "error": str(exc)}))
        finally:
            queue.task_done()


async def main() -> None:
    from wix_refunds.testing import FakeWix

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLines())
    logging.getLogger("wix_refunds").addHandler(handler)
    logging.getLogger("wix_refunds").setLevel(logging.INFO)

    fake = FakeWix()
    fake.refund_status = "PENDING"  # this provider settles refunds later
    paid = fake.add_order(total="80")
    old = fake.add_order(created="2024-01-15T12:00:00Z", fulfillments=1)
    messages = [
        {"message_id": 1, "order_id": paid, "amount": "20", "reason": "Damaged", "refund_request_id": "rr-501"},
        {"message_id": 2, "order_id": paid, "amount": "20", "reason": "Damaged", "refund_request_id": "rr-501"},
        {"message_id": 3, "order_id": old, "amount": None, "reason": "Returned", "refund_request_id": "rr-502"},
    ]
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    for message in messages:
        queue.put_nowait(message)
    shared = journal()
    with fake.serve() as base_url:
        async with AsyncWixClient(fake.credentials, base_url=base_url) as client:
            await asyncio.gather(*(worker(f"w{i}", client, queue, shared) for i in range(2)))
            fake.finish_refunds(paid)  # later, the provider settles
            report = await refund_status_async(client, paid, "rr-501")
            print(json.dumps({"followed": report.to_dict()}))
            assert report.state is RefundState.SUCCEEDED


if __name__ == "__main__":
    asyncio.run(main())
