"""``wix-refunds demo``: the main job on a bundled fake Wix, through the real client over loopback."""

from __future__ import annotations

import asyncio

from ..client._client import AsyncWixClient
from ..core._request import RefundRequest
from ..run._execute import RefundOutcome, refund_orders_async
from ._cli_output import describe_outcome, order_record
from ._cli_run import EXIT_OK, Context, say

__all__ = ["cmd_demo"]


def cmd_demo(ctx: Context) -> int:
    """Refund one order of each kind on a FakeWix served on loopback; print what was done; return 0."""
    from ..testing import FakeWix

    fake = FakeWix()
    old = "2024-03-01T10:00:00.000Z"
    orders = [
        ("old order, not fulfilled", fake.add_order(created=old), None),
        ("old order, two fulfilments", fake.add_order(created=old, fulfillments=2), RefundRequest(restock=True)),
        ("old order, already cancelled", fake.add_order(created=old, status="CANCELED"), None),
        ("new order, paid online", fake.add_order(total="42.50"), None),
        ("new order, paid offline", fake.add_order(payments="offline"), None),
        (
            "new order, partial refund",
            fake.add_order(total="80"),
            RefundRequest(amount="20", reason="late delivery", reference="demo-1"),
        ),
        (
            "new order, gift card and card",
            fake.add_order(total="50", payments=[("20", "gift_card"), ("30", "online")]),
            None,
        ),
        ("new order, refunds disabled by the provider (refused)", fake.add_order(payments="refund_disabled"), None),
    ]
    labels = {oid: label for label, oid, _ in orders}

    async def run() -> list[RefundOutcome]:
        with fake.serve() as base_url:
            async with AsyncWixClient(fake.credentials, base_url=base_url) as client:
                pairs = [(oid, request) for _, oid, request in orders]
                return [o async for o in refund_orders_async(client, pairs, concurrency=4)]

    outcomes = sorted(asyncio.run(run()), key=lambda o: list(labels).index(o.order_id))
    for outcome in outcomes:
        ctx.tally.add(outcome)
        ctx.emit(order_record(outcome, kind=labels[outcome.order_id]))
    if ctx.args.json:
        return EXIT_OK
    say(
        ctx.out, f"wix-refunds demo: {len(orders)} orders on a fake Wix at loopback, refunded through the real client\n"
    )
    for outcome in outcomes:
        say(ctx.out, f"[{labels[outcome.order_id]}]")
        say(ctx.out, "\n".join(describe_outcome(outcome)) + "\n")
    writes = [op for op, _, _ in fake.writes]
    say(
        ctx.out,
        f"Wix saw {len(fake.requests)} requests: {writes.count('cancel')} cancels, "
        f"{writes.count('delete_fulfillment')} fulfilment deletes, {writes.count('refund')} refunds.",
    )
    return EXIT_OK
