"""Seeding the fake: keys, and orders with their line items, fees, fulfilments and payments."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from ._answers import _dec, _money
from ._state import ALL_SCOPES, _State


class _Seeding(_State):
    """``add_key`` and ``add_order``: what a test sets up before it runs."""

    def add_key(
        self, api_key: str, *, scopes: Sequence[str] = tuple(ALL_SCOPES), sites: Sequence[str] | None = None
    ) -> None:
        """Accept another key, with only ``scopes`` and (if given) only ``sites``."""
        self.keys[api_key] = (frozenset(scopes), None if sites is None else frozenset(sites))

    def add_order(
        self,
        *,
        created: datetime | str = "2024-06-01T12:00:00.000Z",
        total: Decimal | int | str = "35.00",
        currency: str = "USD",
        fulfillments: int = 0,
        payments: str | Sequence[tuple[Decimal | int | str, str] | tuple[Decimal | int | str, str, str]] = "online",
        status: str = "APPROVED",
        payment_status: str | None = None,
        fulfillment_status: str | None = None,
        partially_fulfilled: bool = False,
        refunded: Decimal | int | str | None = None,
        line_items: int | Sequence[int] | None = None,
        shipping: Decimal | int | str | None = None,
        fees: Sequence[Decimal | int | str] = (),
        archived: bool = False,
        channel: str = "WEB",
        order_id: str | None = None,
    ) -> str:
        """Add an order and return its ID.

        Args:
            created: ``createdDate``, a datetime or ISO text (written out as Wix writes it).
            fulfillments: how many fulfilment records; each covers its own line item, so
                more than zero makes the order FULFILLED (PARTIALLY_FULFILLED with
                ``partially_fulfilled``, which adds one line item no fulfilment covers).
            payments: ``"online"``, ``"offline"``, ``"refund_disabled"``, ``"gift_card"``,
                ``"membership"``, ``"manual"`` (a provider Wix cannot refund through),
                ``"none"``, or a list of ``(amount, kind)`` or ``(amount, kind, status)``
                tuples with those kinds; ``status`` is the payment's own (``APPROVED``
                by default; ``DECLINED``, ``AUTHORIZED``, ``VOIDED``... hold nothing).
            refunded: an amount already refunded from the first payment.
            line_items: how many lines of one unit each, or each line's quantity; the
                total less shipping and fees is priced evenly across the units.
            shipping, fees: a shipping amount and additional fees, part of ``total``.
            payment_status, fulfillment_status: override what is derived.
        """
        with self._lock:
            oid = order_id or self._new_id()
            total_d = _dec(total)
            if isinstance(created, datetime):
                if created.tzinfo is None or created.utcoffset() is None:
                    raise ValueError(f"created={created!r} is naive: give an aware datetime (Wix's times are UTC)")
                created_text = (
                    created.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
                )
            else:
                created_text = created
            if line_items is None:
                line_items = max(1, fulfillments) + (1 if partially_fulfilled else 0)
            quantities = [1] * line_items if isinstance(line_items, int) else list(line_items)
            shipping_d = Decimal(0) if shipping is None else _dec(shipping)
            fees_d = [_dec(fee) for fee in fees]
            goods = total_d - shipping_d - sum(fees_d, Decimal(0))
            unit = (goods / sum(quantities)).quantize(Decimal("0.01")) if sum(quantities) else goods
            items = [
                {
                    "id": f"00000000-0000-0000-0000-{i + 1:012d}",
                    "quantity": quantity,
                    "refundQuantity": 0,
                    "restockQuantity": 0,
                    "productName": {"original": f"Item {i + 1}", "translated": f"Item {i + 1}"},
                    "price": _money(unit),
                    "itemType": {"preset": "PHYSICAL"},
                    "paymentOption": "FULL_PAYMENT_ONLINE",
                }
                for i, quantity in enumerate(quantities)
            ]
            self._number += 1
            self.fulfillments[oid] = [
                {
                    "id": self._new_id(),
                    "createdDate": created_text,
                    "lineItems": [{"id": items[i % len(items)]["id"], "quantity": 1}],
                    "trackingInfo": {"trackingNumber": f"TRACK{i}", "shippingProvider": "ups"},
                    "completed": True,
                }
                for i in range(fulfillments)
            ]
            if isinstance(payments, str):
                plan: list[tuple[Decimal, str, str]] = [] if payments == "none" else [(total_d, payments, "APPROVED")]
            else:
                plan = [(_dec(p[0]), p[1], p[2] if len(p) > 2 else "APPROVED") for p in payments]
            self.payments[oid] = [self._payment(amount, kind, created_text, st) for amount, kind, st in plan]
            self.refunds[oid] = []
            self.orders[oid] = {
                "id": oid,
                "number": str(self._number),
                "createdDate": created_text,
                "updatedDate": created_text,
                "status": status,
                "paymentStatus": "NOT_PAID",
                "fulfillmentStatus": "NOT_FULFILLED",
                "currency": currency,
                "archived": archived,
                "channelInfo": {"type": channel},
                "taxIncludedInPrices": False,
                "priceSummary": {
                    "subtotal": _money(goods),
                    "shipping": _money(shipping_d),
                    "tax": _money(Decimal(0)),
                    "discount": _money(Decimal(0)),
                    "total": _money(total_d),
                },
                "balanceSummary": {"balance": _money(Decimal(0)), "refunded": _money(Decimal(0))},
                "lineItems": items,
                "additionalFees": [
                    {"id": self._new_id(), "name": f"Fee {i + 1}", "price": _money(fee), "priceAfterTax": _money(fee)}
                    for i, fee in enumerate(fees_d)
                ],
                "activities": [{"createdDate": created_text, "type": "ORDER_PLACED"}],
            }
            self.item_refunds[oid] = {"shipping": Decimal(0), "fees": {}}
            self._recompute_fulfillment(oid)
            if refunded is not None and self.payments[oid]:
                self._record_refund(
                    oid, [(self.payments[oid][0]["id"], _dec(refunded), False)], "refunded before the test"
                )
            self._recompute_payment(oid)
            if payment_status is not None:
                self.orders[oid]["paymentStatus"] = payment_status
            if fulfillment_status is not None:
                self.orders[oid]["fulfillmentStatus"] = fulfillment_status
            return oid

    def _payment(self, amount: Decimal, kind: str, created: str, status: str = "APPROVED") -> dict[str, Any]:
        kinds = {"online", "offline", "refund_disabled", "gift_card", "membership", "manual"}
        if kind not in kinds:
            raise ValueError(f"payment kind {kind!r} is not one of {sorted(kinds)}")
        # Wix's Payment: the payment's own status is top-level (regularPaymentDetails.status
        # is deprecated); gift cards and memberships are stored value.
        payment: dict[str, Any] = {
            "id": self._new_id(),
            "createdDate": created,
            "updatedDate": created,
            "amount": _money(amount),
            "refundDisabled": kind == "refund_disabled",
            "status": status,
        }
        if kind == "gift_card":
            payment["giftcardPaymentDetails"] = {
                "giftCardPaymentId": self._new_id(),
                "giftCardId": self._new_id(),
                "appId": self._new_id(),
                "voided": status == "VOIDED",
            }
        elif kind == "membership":
            payment["membershipPaymentDetails"] = {
                "membershipId": self._new_id(),
                "lineItemId": "00000000-0000-0000-0000-000000000001",
                "status": "CHARGED",
                "name": {"original": "Gold plan"},
            }
        else:
            payment["regularPaymentDetails"] = {
                "offlinePayment": kind == "offline",
                "paymentMethod": {"manual": "Square", "offline": "Cash"}.get(kind, "Stripe"),
                "gatewayTransactionId": self._new_id(),
            }
            if self.legacy_payment_status:
                payment["regularPaymentDetails"]["status"] = status
        if kind == "manual":
            self.manual_payments.add(payment["id"])
        return payment
