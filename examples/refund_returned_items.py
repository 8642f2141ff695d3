"""Refund what came back: one of three mugs, restocked, and the shipping, priced by Wix.

python examples/refund_returned_items.py      # runs against a FakeWix on loopback

Wix's Calculate Refund prices the items; the plan (a dry run) shows it before anything is
written; the refund names the line so that Wix marks the mug refunded and restocks it.
Running it again with the same reference finds the refund and changes nothing.
"""

from __future__ import annotations

from wix_refunds import ALL_LEFT, RefundItem, RefundRequest, WixClient, refund_order
from wix_refunds.testing import FakeWix


def main() -> None:
    fake = FakeWix()
    # Three mugs at 10.00 and shipping 5.00.
    order_id = fake.add_order(total="35", line_items=[3], shipping="5")
    mug = fake.orders[order_id]["lineItems"][0]["id"]
    request = RefundRequest(
        items=[RefundItem(line_item_id=mug, quantity=1, restock=True)],
        shipping=ALL_LEFT,
        reason="Returned: chipped mug",
        reference="return-2207",
    )
    with fake.serve() as base_url, WixClient(fake.credentials, base_url=base_url) as client:
        plan = refund_order(client, order_id, request, dry_run=True)
        print("plan:", plan.plan.steps[0].describe() if plan.plan else "-", "->", plan.steps[0].amount)
        outcome = refund_order(client, order_id, request)
        print("refund:", outcome.status, outcome.refunded, [(i.id, i.quantity) for i in outcome.items_restocked])
        again = refund_order(client, order_id, request)
        print("again:", again.status)
    line = fake.orders[order_id]["lineItems"][0]
    print("on Wix: refunded", line["refundQuantity"], "restocked", line["restockQuantity"])


if __name__ == "__main__":
    main()
