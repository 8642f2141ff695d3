"""Wix-shaped JSON for tests, written out by hand (not by the library's _wire)."""

from __future__ import annotations

import copy
from typing import Any

ORDER_ID = "0c87cd5d-4059-4e86-8f6e-d185b1e4a1bd"


def order_json(**changes: Any) -> dict[str, Any]:
    """Return a realistic Get Order response; ``changes`` replace top-level order keys."""
    order: dict[str, Any] = {
        "id": ORDER_ID,
        "number": "10126",
        "createdDate": "2024-05-02T08:28:58.917Z",
        "updatedDate": "2024-05-02T08:29:10.001Z",
        "status": "APPROVED",
        "paymentStatus": "PAID",
        "fulfillmentStatus": "NOT_FULFILLED",
        "currency": "USD",
        "taxIncludedInPrices": False,
        "weightUnit": "KG",
        "archived": False,
        "seenByAHuman": True,
        "channelInfo": {"type": "WEB"},
        "buyerInfo": {"contactId": "6d3a5a41-0000-4000-8000-000000000001", "email": "buyer@example.com"},
        "priceSummary": {
            "subtotal": {"amount": "30.0", "formattedAmount": "$30.00"},
            "shipping": {"amount": "5", "formattedAmount": "$5.00"},
            "tax": {"amount": "0", "formattedAmount": "$0.00"},
            "discount": {"amount": "0", "formattedAmount": "$0.00"},
            "total": {"amount": "35.00", "formattedAmount": "$35.00"},
        },
        "balanceSummary": {"balance": {"amount": "0", "formattedAmount": "$0.00"}},
        "lineItems": [
            {
                "id": "00000000-0000-0000-0000-000000000001",
                "quantity": 2,
                "refundQuantity": 0,
                "restockQuantity": 0,
                "productName": {"original": "Mug", "translated": "Mug"},
                "catalogReference": {
                    "catalogItemId": "df19c1f7-07d8-a265-42f8-e8dfa824cc6e",
                    "appId": "215238eb-22a5-4c36-9e7b-e7c08025e04e",
                },
                "price": {"amount": "15.0", "formattedAmount": "$15.00"},
                "itemType": {"preset": "PHYSICAL"},
                "physicalProperties": {"sku": "MUG-1", "shippable": True},
                "paymentOption": "FULL_PAYMENT_ONLINE",
            }
        ],
        "activities": [{"createdDate": "2024-05-02T08:28:58.917Z", "type": "ORDER_PLACED"}],
    }
    order.update(copy.deepcopy(changes))
    return {"order": order}
