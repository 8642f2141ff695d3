"""Routing cost: parse_order + decide_refund against json.loads of the same order text.

Goal: at most 0.5x.    Run: python benchmarks/routing.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _common import compare, machine

from wix_refunds import RefundRequest
from wix_refunds.core import decide_refund
from wix_refunds.testing import FakeWix
from wix_refunds.wix import parse_order


def order_texts() -> list[str]:
    """Return realistic 2-3 KB Get Order answers: Wix's shape with buyer, billing and shipping details."""
    fake = FakeWix()
    kinds = [
        {"created": "2024-03-01T10:00:00.000Z", "fulfillments": 2},
        {"created": "2024-06-01T12:00:00.123+02:00"},
        {"created": "2024-04-21T20:00:00-04:00", "line_items": 3},
        {"created": "2025-01-15T08:30:00+0000", "payments": "offline"},
    ]
    texts = []
    for kind in kinds:
        order = fake.orders[fake.add_order(**kind)]  # type: ignore[arg-type]
        order["buyerInfo"] = {
            "contactId": "6d3a5a41-0000-4000-8000-000000000001",
            "email": "buyer@example.com",
            "visitorId": "9f2b1c3d-0000-4000-8000-000000000002",
        }
        address = {
            "country": "US",
            "subdivision": "US-NY",
            "city": "New York",
            "postalCode": "10011",
            "addressLine1": "235 W 23rd St",
        }
        contact = {"firstName": "Jane", "lastName": "Doe", "phone": "+1 555 0100"}
        order["billingInfo"] = {"address": address, "contactDetails": contact}
        order["shippingInfo"] = {
            "title": "Standard",
            "logistics": {"shippingDestination": {"address": address, "contactDetails": contact}},
            "cost": {"price": {"amount": "5.0", "formattedAmount": "$5.00"}},
        }
        for item in order["lineItems"]:
            item.update(
                {
                    "catalogReference": {"catalogItemId": "df19c1f7-07d8-a265-42f8-e8dfa824cc6e", "appId": "215238eb"},
                    "physicalProperties": {"sku": "SKU-1", "shippable": True, "weight": 0.5},
                    "totalPriceBeforeTax": item["price"],
                    "totalPriceAfterTax": item["price"],
                    "totalDiscount": {"amount": "0", "formattedAmount": "$0.00"},
                }
            )
        texts.append(json.dumps({"order": order}))
    return texts


def main() -> None:
    texts = order_texts()
    parsed = [json.loads(t) for t in texts]
    request = RefundRequest()

    def load() -> None:
        for text in texts:
            json.loads(text)

    def route() -> None:
        for data in parsed:
            decide_refund(parse_order(data), request)

    route_s, load_s = compare(route, load, number=2000, rounds=7)
    sizes = ", ".join(f"{len(t)} B" for t in texts)
    per = len(texts)
    print(f"machine: {machine()}")
    print(f"order texts: {sizes}")
    print(f"json.loads:                     {load_s / per * 1e6:8.2f} us per order")
    print(f"parse_order + decide_refund:    {route_s / per * 1e6:8.2f} us per order")
    print(f"ratio: {route_s / load_s:.2f}x (goal <= 0.50x)")


if __name__ == "__main__":
    main()
