"""The order-billing endpoints: refundability, calculate refund and refund payments, with item pricing."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from ._answers import _GUID, OLD_ORDER_REFUND_REFUSAL, _app_error, _invalid, _money
from ._state import _State

# One objection to an item of refundItems: (HTTP status, Wix's code, message, (CalculationError key, entry)).
_Objection = tuple[int, str, str, tuple[str, dict[str, Any]]]

# The fake's own short list of currencies whose minor unit is not 2 (ISO 4217).
_CURRENCY_DIGITS = {"JPY": 0, "KRW": 0, "CLP": 0, "ISK": 0, "VND": 0, "KWD": 3, "BHD": 3, "JOD": 3, "OMR": 3, "TND": 3}


def _entries(body: dict[str, Any], key: str, most: int, *fields: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield each entry of ``refundItems.<key>`` and where it stands; 400 when the list or an entry is malformed.

    ``fields`` are the keys an entry may hold (a trailing ``?``: optional, said so in the message).
    """
    entries = body.get(key, [])
    if not isinstance(entries, list) or len(entries) > most:
        raise _invalid(f"refundItems.{key}", f"must be a list of at most {most} entries")
    for index, entry in enumerate(entries):
        where = f"refundItems.{key}[{index}]"
        if not isinstance(entry, dict) or set(entry) - {field.rstrip("?") for field in fields}:
            raise _invalid(where, "must be {" + ", ".join(fields) + "}")
        yield where, entry


class _Billing(_State):
    """What Wix's order billing answers, and how a refund of line items, fees and shipping is priced."""

    def _refundability_entry(self, order_id: str, payment: dict[str, Any]) -> dict[str, Any]:
        kind, reason = self._refundability(order_id, payment)
        if self.refundability_shape == "legacy":
            return {"paymentId": payment["id"], kind: {} if reason is None else {"reason": reason}}
        if self.refundability_shape == "status":
            status = {"refundable": "REFUNDABLE", "manuallyRefundable": "MANUAL", "nonRefundable": "NOT_REFUNDABLE"}
            entry = {"paymentId": payment["id"], "refundabilityStatus": status[kind]}
            if kind == "manuallyRefundable":
                entry["manuallyRefundableReason"] = reason
            return entry
        paid = Decimal(payment["amount"]["amount"])
        refunded = sum(
            (
                Decimal(t["amount"]["amount"])
                for r in self.refunds[order_id]
                for t in r["transactions"]
                if t["paymentId"] == payment["id"] and t["refundStatus"] == "SUCCEEDED"
            ),
            Decimal(0),
        )
        pending = self._refunded_for(order_id, payment["id"]) - refunded
        regular = payment.get("regularPaymentDetails") or {}
        info: dict[str, Any] = {
            "paymentId": payment["id"],
            "paymentMethod": regular.get("paymentMethod", "GiftCard" if "giftcardPaymentDetails" in payment else ""),
            "offlinePayment": bool(regular.get("offlinePayment", False)),
        }
        member = payment.get("membershipPaymentDetails")
        if member is not None:
            # PaymentInfo holds one summary: a membership's is its line items, not money.
            left = self._max_refund(order_id, payment) > 0
            info["membership"] = {
                "paidLineItemIds": [member["lineItemId"]],
                "refundedLineItemIds": [] if left else [member["lineItemId"]],
                "refundableLineItemIds": [member["lineItemId"]] if left else [],
            }
        else:
            info["monetary"] = {
                "paid": _money(paid),
                "refunded": _money(refunded),
                "refundPending": _money(pending),
                "maxRefund": _money(self._max_refund(order_id, payment)),
            }
        state: Any = True if kind == "refundable" else {"reason": reason}
        return {kind: state, "payment": info}

    def _h_get_refundability(self, data: dict[str, Any]) -> tuple[int, Any]:
        order_id = data.get("orderId")
        if not isinstance(order_id, str) or not _GUID.match(order_id):
            raise _invalid("orderId", "must be a GUID")
        self._order(order_id)
        answer: dict[str, Any] = {
            "payments": [self._refundability_entry(order_id, p) for p in self.payments[order_id]],
            "lineItems": [
                {
                    "lineItemId": line["id"],
                    "originalQuantity": line["quantity"],
                    "refundedQuantity": line["refundQuantity"],
                    "availableRefundQuantity": line["quantity"] - line["refundQuantity"],
                }
                for line in self._order(order_id)["lineItems"]
            ],
            "additionalFees": [
                {
                    "additionalFeeId": fee["id"],
                    "amount": fee["price"],
                    "refundedAmount": _money(self._fee_refunded(order_id, fee["id"])),
                    "availableRefundAmount": _money(self._fee_left(order_id, fee["id"])),
                }
                for fee in self._order(order_id)["additionalFees"]
            ],
        }
        shipping = Decimal(self._order(order_id)["priceSummary"]["shipping"]["amount"])
        if shipping > 0:  # only when the order has shipping
            refunded = self.item_refunds[order_id]["shipping"]
            answer["shipping"] = {
                "amount": _money(shipping),
                "refundedAmount": _money(refunded),
                "availableRefundAmount": _money(shipping - refunded),
            }
        return 200, answer

    def _fee_refunded(self, order_id: str, fee_id: str) -> Decimal:
        refunded: Decimal = self.item_refunds[order_id]["fees"].get(fee_id, Decimal(0))
        return refunded

    def _fee_left(self, order_id: str, fee_id: str) -> Decimal:
        fee = next(f for f in self._order(order_id)["additionalFees"] if f["id"] == fee_id)
        return Decimal(fee["price"]["amount"]) - self._fee_refunded(order_id, fee_id)

    def _priced_items(self, order_id: str, body: Any) -> tuple[dict[str, Any], list[_Objection]]:
        """Read ``refundItems`` (400 when malformed) and price it; return the pricing and Wix's objections.

        An objection is (HTTP status, Wix's code, message, the item it is about), in Wix's
        names for Refund Payments; the item is Calculate Refund's ``CalculationError`` key
        (``lineItem``, ``additionalFee`` or ``shipping``) and the entry as asked.
        """
        if body is None:
            return {"lines": [], "fees": [], "shipping": None, "total": Decimal(0)}, []
        if not isinstance(body, dict) or set(body) - {"lineItems", "additionalFees", "shipping"}:
            raise _invalid("refundItems", "must be an object with lineItems, additionalFees or shipping")
        order = self._order(order_id)
        lines_by_id = {line["id"]: line for line in order["lineItems"]}
        fees_by_id = {fee["id"]: fee for fee in order["additionalFees"]}
        problems: list[_Objection] = []
        priced: dict[str, Any] = {"lines": [], "fees": [], "shipping": None, "total": Decimal(0)}
        for where, entry in _entries(body, "lineItems", 300, "lineItemId", "quantity"):
            quantity = entry.get("quantity")
            if (
                not isinstance(entry.get("lineItemId"), str)
                or not isinstance(quantity, int)
                or not 1 <= quantity <= 100000
            ):
                raise _invalid(where, "lineItemId must be a string and quantity 1 to 100000")
            line = lines_by_id.get(entry["lineItemId"])
            subject = ("lineItem", dict(entry))
            if line is None:
                problems.append((404, "LINE_ITEM_NOT_FOUND", f"line item {entry['lineItemId']} not found", subject))
                continue
            if quantity > line["quantity"] - line["refundQuantity"]:
                problems.append(
                    (
                        400,
                        "INVALID_LINE_ITEM_REFUND_QUANTITY",
                        f"line item {line['id']}: {quantity} is more than left",
                        subject,
                    )
                )
                continue
            amount = Decimal(line["price"]["amount"]) * quantity
            priced["lines"].append((line["id"], quantity, amount))
            priced["total"] += amount
        for _, entry in _entries(body, "additionalFees", 100, "additionalFeeId", "amount?"):
            fee = fees_by_id.get(entry.get("additionalFeeId"))
            subject = ("additionalFee", dict(entry))
            if fee is None:
                problems.append(
                    (
                        404,
                        "ADDITIONAL_FEE_NOT_FOUND",
                        f"additional fee {entry.get('additionalFeeId')} not found",
                        subject,
                    )
                )
                continue
            left = self._fee_left(order_id, fee["id"])
            amount = left if entry.get("amount") is None else Decimal(entry["amount"]["amount"])
            if amount <= 0 or amount > left:
                problems.append(
                    (400, "INVALID_ADDITIONAL_FEE_REFUND_AMOUNT", f"fee {fee['id']}: {amount} of {left}", subject)
                )
                continue
            priced["fees"].append((fee["id"], amount))
            priced["total"] += amount
        if "shipping" in body:
            entry = body["shipping"]
            if not isinstance(entry, dict) or set(entry) - {"amount"}:
                raise _invalid("refundItems.shipping", "must be {amount?}")
            shipping = Decimal(order["priceSummary"]["shipping"]["amount"])
            left = shipping - self.item_refunds[order_id]["shipping"]
            amount = left if entry.get("amount") is None else Decimal(entry["amount"]["amount"])
            subject = ("shipping", dict(entry))
            if shipping <= 0:
                problems.append((404, "SHIPPING_NOT_FOUND", "this order has no shipping", subject))
            elif amount <= 0 or amount > left:
                problems.append((400, "INVALID_SHIPPING_REFUND_AMOUNT", f"shipping: {amount} of {left}", subject))
            else:
                priced["shipping"] = amount
                priced["total"] += amount
        return priced, problems

    def _restock_lines(self, side_effects: Any, priced: dict[str, Any]) -> dict[str, int]:
        """Return ``sideEffects.restock.lineItems`` as line -> quantity, never above what this refund refunds."""
        restock = ((side_effects or {}).get("restock") or {}).get("lineItems") or []
        if not isinstance(restock, list):
            raise _invalid("sideEffects.restock.lineItems", "must be a list")
        refunded = {lid: qty for lid, qty, _ in priced["lines"]}
        result: dict[str, int] = {}
        for entry in restock:
            if not isinstance(entry, dict) or not isinstance(entry.get("quantity"), int):
                raise _invalid("sideEffects.restock.lineItems", "entries must be {lineItemId, quantity}")
            if entry["quantity"] > refunded.get(entry.get("lineItemId"), 0):
                raise _app_error(
                    400,
                    "INVALID_LINE_ITEM_RESTOCK_QUANTITY",
                    f"restock of {entry.get('lineItemId')} is more than this refund refunds",
                )
            result[entry["lineItemId"]] = entry["quantity"]
        return result

    def _apply_items(
        self, order_id: str, refund: dict[str, Any], priced: dict[str, Any], restock: dict[str, int]
    ) -> None:
        order = self._order(order_id)
        lines = {line["id"]: line for line in order["lineItems"]}
        for lid, quantity, _ in priced["lines"]:
            lines[lid]["refundQuantity"] += quantity
            lines[lid]["restockQuantity"] += restock.get(lid, 0)
        for fid, amount in priced["fees"]:
            fees = self.item_refunds[order_id]["fees"]
            fees[fid] = fees.get(fid, Decimal(0)) + amount
        if priced["shipping"] is not None:
            self.item_refunds[order_id]["shipping"] += priced["shipping"]
        details = refund["details"]
        if priced["lines"]:
            # Kept in Wix's current form; _refund_view writes the older lineItems when asked.
            details["items"] = [{"lineItemId": lid, "quantity": qty} for lid, qty, _ in priced["lines"]]
            self._line_amounts[refund["id"]] = [(lid, amount) for lid, _, amount in priced["lines"]]
        if priced["fees"]:
            details["additionalFees"] = [{"additionalFeeId": fid, "amount": _money(a)} for fid, a in priced["fees"]]
        if priced["shipping"] is not None:
            details["shipping"] = {"amount": _money(priced["shipping"])}
            details["shippingIncluded"] = True

    def _h_calculate_refund(self, data: dict[str, Any]) -> tuple[int, Any]:
        order_id = data.get("orderId")
        if not isinstance(order_id, str) or not _GUID.match(order_id):
            raise _invalid("orderId", "must be a GUID")
        priced, problems = self._priced_items(order_id, data.get("refundItems"))
        if problems:
            # Each CalculationError names its item (a @oneof of lineItem, additionalFee, shipping).
            errors = [
                {key: item, "error": {"applicationError": {"code": code, "description": message, "data": {}}}}
                for _, code, message, (key, item) in problems
            ]
            return 200, {"notAvailable": {"errors": errors}}

        def summary(amount: Decimal) -> dict[str, Any]:
            zero = _money(Decimal(0))
            return {"total": _money(amount), "tax": zero, "discount": zero, "subtotal": _money(amount)}

        calculated: dict[str, Any] = {
            "lineItems": [
                {"item": {"lineItemId": lid, "quantity": qty}, "summary": summary(amount)}
                for lid, qty, amount in priced["lines"]
            ],
            "additionalFees": [
                {"additionalFee": {"additionalFeeId": fid, "amount": _money(amount)}, "summary": summary(amount)}
                for fid, amount in priced["fees"]
            ],
        }
        if priced["shipping"] is not None:
            calculated["shipping"] = {
                "shipping": {"amount": _money(priced["shipping"])},
                "summary": summary(priced["shipping"]),
            }
        return 200, {"available": True, "summary": summary(priced["total"]), "calculatedRefundItems": calculated}

    def _h_refund_payments(self, data: dict[str, Any]) -> tuple[int, Any]:
        order_id = data.get("orderId")
        if not isinstance(order_id, str) or not _GUID.match(order_id):
            raise _invalid("orderId", "must be a GUID")
        refunds = data.get("paymentRefunds")
        if not isinstance(refunds, list) or not 1 <= len(refunds) <= 50:
            raise _invalid("paymentRefunds", "must hold 1 to 50 entries")
        reason = data.get("customerReason")
        if reason is not None and (not isinstance(reason, str) or len(reason) > 200):
            raise _invalid("customerReason", "must be a string of at most 200 characters")
        order = self._order(order_id)
        payments = {p["id"]: p for p in self.payments[order_id]}
        if self._created(order) < self.cutoff:
            # The fake's choice (OLD_ORDER_REFUND_REFUSAL): no SDK type limits refunds by date.
            refusal_status, refusal_code, refusal_reason = OLD_ORDER_REFUND_REFUSAL
            first = next((e.get("paymentId") for e in refunds if isinstance(e, dict)), None)
            raise _app_error(
                refusal_status,
                refusal_code,
                "orders created before the billing migration cannot be refunded",
                {"paymentId": first, "nonRefundableReason": refusal_reason},
            )
        parts: list[tuple[str, Decimal, bool]] = []
        for index, entry in enumerate(refunds):
            where = f"paymentRefunds[{index}]"
            if not isinstance(entry, dict):
                raise _invalid(where, "must be an object")
            unknown = set(entry) - {"paymentId", "amount", "externalRefund"}
            if unknown:
                raise _invalid(where, f"unknown fields {sorted(unknown)}")
            pid = entry.get("paymentId")
            if not isinstance(pid, str) or not _GUID.match(pid):
                raise _invalid(f"{where}.paymentId", "must be a GUID")
            external = entry.get("externalRefund", False)
            if not isinstance(external, bool):
                raise _invalid(f"{where}.externalRefund", "must be a boolean")
            if pid not in payments:
                raise _app_error(404, "PAYMENT_NOT_FOUND", f"payment {pid} not found on order {order_id}")
            payment = payments[pid]
            stored = "giftcardPaymentDetails" in payment or "membershipPaymentDetails" in payment
            money = entry.get("amount")
            if stored:
                # Wix refunds a gift card's or membership's whole credit; amount does not apply.
                if money is not None:
                    raise _app_error(
                        400, "INVALID_PAYMENT_REFUND_AMOUNT", f"payment {pid} is stored value: send no amount"
                    )
                amount = self._max_refund(order_id, payment)
            else:
                if not isinstance(money, dict) or not isinstance(money.get("amount"), str):
                    raise _invalid(f"{where}.amount", "must be a Price object with a decimal string amount")
                try:
                    amount = Decimal(money["amount"])
                except ArithmeticError:
                    raise _invalid(f"{where}.amount.amount", "is not a decimal") from None
                digits = _CURRENCY_DIGITS.get(order["currency"], 2)
                if not amount.is_finite() or amount <= 0 or amount != amount.quantize(Decimal(1).scaleb(-digits)):
                    raise _app_error(
                        400,
                        "INVALID_PAYMENT_REFUND_AMOUNT",
                        f"{money['amount']} is not a valid {order['currency']} amount",
                    )
            kind, why = self._refundability(order_id, payment)
            if kind == "manuallyRefundable" and not external:
                raise _app_error(428, "EXTERNAL_REFUND_EXPECTED", f"payment {pid} must be refunded outside Wix ({why})")
            if kind == "nonRefundable" and why != "ALREADY_REFUNDED":
                raise _app_error(
                    428,
                    "PAYMENT_NOT_REFUNDABLE",
                    f"payment {pid} is not refundable ({why})",
                    {"paymentId": pid, "nonRefundableReason": why},
                )
            already = self._refunded_for(order_id, pid) + sum((a for p, a, _ in parts if p == pid), Decimal(0))
            if amount <= 0 or already + amount > Decimal(payment["amount"]["amount"]):
                raise _app_error(
                    self.over_refund_status,
                    "INVALID_PAYMENT_REFUND_AMOUNT",
                    f"amount exceeds what payment {pid} has left",
                )
            parts.append((pid, amount, external))
        priced, problems = self._priced_items(order_id, data.get("refundItems"))
        if problems:
            status_code, code, message, _ = problems[0]
            raise _app_error(status_code, code, message)
        restock = self._restock_lines(data.get("sideEffects"), priced)
        status = {"now": "FAILED", "later": "PENDING"}.get(self.decline or "", self.refund_status)
        refund = self._record_refund(order_id, parts, reason, status)
        self._apply_items(order_id, refund, priced, restock)
        if self.decline == "later":
            self._fail_later.add(refund["id"])
        self._recompute_payment(order_id)
        self.writes.append(("refund", order_id, refund["id"]))
        hide = None
        if self._hide_next is not None:
            hide = refund["id"]
            if self._hide_next > 0:
                self._hidden[refund["id"]] = self._hide_next
        return 200, {"refund": self._refund_view(refund), "orderTransactions": self._transactions(order_id, hide=hide)}
