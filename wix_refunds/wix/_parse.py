"""Reading Wix's answers into values: fulfilments, transactions, refundability, prices. No I/O.

Orders (one, or a search page) and Calculate Refund are read in ``_read``; each reader here
fails with ``InvalidWixData`` naming the field it could not read (``docs/wix-api.md`` lists
every shape accepted).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, TypeVar

import attrs

from ..core._dates import parse_timestamp
from ..core._errors import InvalidOrderData
from ..core._items import FeeAvailability, ItemAvailability, LineAvailability
from ..core._orders import (
    MISSING_REFUND_STATUS,
    Fulfillment,
    LineItem,
    OrderTransactions,
    Payment,
    PaymentRecordStatus,
    PaymentRefundability,
    Refundability,
    RefundRecord,
    RefundStatus,
    RefundTransaction,
    TrackingInfo,
)
from ._json import _bool, _count, _decimal, _enum_text, _get, _id, _kind, _list, _obj, _opt_str, _price, _str
from ._read import parse_calculation, parse_order

T = TypeVar("T")

__all__ = [
    "RefundAnswer",
    "RefundabilityAnswer",
    "parse_calculation",
    "parse_fulfillments",
    "parse_fulfillments_by_ids",
    "parse_list",
    "parse_order",
    "parse_refund_answer",
    "parse_refundability",
    "parse_refundability_answer",
    "parse_site_properties",
    "parse_sites",
    "parse_transactions",
    "parse_transactions_by_ids",
]


def parse_fulfillments(data: object) -> tuple[Fulfillment, ...]:
    """Return the fulfilments in an ``{"orderWithFulfillments": ...}`` answer (list or delete)."""
    top = _obj(data, "response")
    wrapper = _obj(_get(top, "orderWithFulfillments", ""), "orderWithFulfillments")
    result = []
    for index, raw in enumerate(_list(wrapper, "fulfillments", "orderWithFulfillments")):
        path = f"orderWithFulfillments.fulfillments[{index}]"
        item = _obj(raw, path)
        created = item.get("createdDate")
        lines, unknown = [], []
        for l_index, raw_line in enumerate(_list(item, "lineItems", path)):
            l_path = f"{path}.lineItems[{l_index}]"
            line = _obj(raw_line, l_path)
            line_id = _str(line, "id", l_path)
            quantity = line.get("quantity")
            if quantity is None:
                # number | null in Wix's types: unknown, which does not stop the delete.
                unknown.append(line_id)
                continue
            if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
                raise InvalidOrderData(f"{l_path}.quantity", f"expected a whole number >= 0 or null, got {quantity!r}")
            lines.append(LineItem(id=line_id, quantity=quantity))
        tracking = None
        raw_tracking = item.get("trackingInfo")
        if raw_tracking is not None:
            t = _obj(raw_tracking, f"{path}.trackingInfo")
            t_path = f"{path}.trackingInfo"
            tracking = TrackingInfo(
                tracking_number=_opt_str(t, "trackingNumber", t_path),
                shipping_provider=_opt_str(t, "shippingProvider", t_path),
                tracking_link=_opt_str(t, "trackingLink", t_path),
            )
        result.append(
            Fulfillment(
                id=_id(item, "id", path),
                created_at=None if created is None else parse_timestamp(created, field=f"{path}.createdDate"),
                line_items=tuple(lines),
                tracking=tracking,
                unknown_quantity=tuple(unknown),
            )
        )
    return tuple(result)


def parse_transactions(data: object) -> OrderTransactions:
    """Return the payments and refunds in an ``{"orderTransactions": ...}`` object."""
    top = _obj(data, "response")
    body = _obj(_get(top, "orderTransactions", ""), "orderTransactions")
    return _transactions(body, "orderTransactions")


def _payment(item: Mapping[str, Any], p_path: str) -> Payment:
    regular = item.get("regularPaymentDetails")
    regular = _obj(regular, f"{p_path}.regularPaymentDetails") if regular is not None else {}
    gift = item.get("giftcardPaymentDetails")
    gift = _obj(gift, f"{p_path}.giftcardPaymentDetails") if gift is not None else None
    # The payment's own status is top-level in Wix's types; regularPaymentDetails.status
    # is deprecated (and may be gone). A voided gift card holds nothing.
    raw_status = _opt_str(item, "status", p_path) or _opt_str(regular, "status", f"{p_path}.regularPaymentDetails")
    if raw_status is None and gift is not None:
        raw_status = "VOIDED" if _bool(gift, "voided", f"{p_path}.giftcardPaymentDetails") else "APPROVED"
    method = _opt_str(item, "paymentMethod", p_path) or _opt_str(
        regular, "paymentMethod", f"{p_path}.regularPaymentDetails"
    )
    # A payment without an amount holds nothing the library can refund by amount.
    amount = _price(item, "amount", p_path) if item.get("amount") is not None else Decimal(0)
    return Payment(
        id=_id(item, "id", p_path),
        amount=amount,
        status=PaymentRecordStatus.parse(raw_status or ""),
        raw_status=raw_status or "",
        refund_disabled=_bool(item, "refundDisabled", p_path),
        offline=_bool(regular, "offlinePayment", f"{p_path}.regularPaymentDetails"),
        gift_card=gift is not None,
        membership=item.get("membershipPaymentDetails") is not None,
        method=method,
    )


def _status_info(t: Mapping[str, Any], t_path: str) -> str | None:
    """Return ``refundStatusInfo`` as one text (the description, the gateway's code in brackets), or None."""
    raw, path = t.get("refundStatusInfo"), f"{t_path}.refundStatusInfo"
    info = _obj(raw, path) if raw is not None else {}
    code = _opt_str(info, "paymentGatewayReasonCode", path)
    text = " ".join(p for p in (_opt_str(info, "description", path), f"[{code}]" if code else None) if p)
    return text or None


def _refunded_lines(details: Mapping[str, Any], path: str) -> tuple[LineItem, ...]:
    """Return the line items a refund refunded: ``details.items`` (Wix's current field), else ``details.lineItems``."""
    key = "items" if details.get("items") is not None else "lineItems"
    lines = []
    for index, raw in enumerate(_list(details, key, path)):
        l_path = f"{path}.{key}[{index}]"
        line = _obj(raw, l_path)
        lines.append(LineItem(id=_str(line, "lineItemId", l_path), quantity=_count(line, "quantity", l_path)))
    return tuple(lines)


def _refund_record(item: Mapping[str, Any], r_path: str) -> RefundRecord:
    transactions = []
    for t_index, raw_t in enumerate(_list(item, "transactions", r_path)):
        t_path = f"{r_path}.transactions[{t_index}]"
        t = _obj(raw_t, t_path)
        transactions.append(
            RefundTransaction(
                payment_id=_str(t, "paymentId", t_path),
                amount=_price(t, "amount", t_path) if t.get("amount") is not None else Decimal(0),
                # Optional in Wix's types; a missing one is the named choice, never SUCCEEDED.
                status=MISSING_REFUND_STATUS
                if t.get("refundStatus") is None
                else RefundStatus.parse(_enum_text(t, "refundStatus", t_path)),
                external=_bool(t, "externalRefund", t_path),
                status_info=_status_info(t, t_path),
            )
        )
    details = item.get("details")
    details = _obj(details, f"{r_path}.details") if details is not None else {}
    created = item.get("createdDate")
    lines = _refunded_lines(details, f"{r_path}.details")
    return RefundRecord(
        id=_str(item, "id", r_path),
        transactions=tuple(transactions),
        line_items=lines,
        reason=_opt_str(details, "reason", f"{r_path}.details"),
        created_at=None if created is None else parse_timestamp(created, field=f"{r_path}.createdDate"),
    )


def _transactions(body: Mapping[str, Any], path: str) -> OrderTransactions:
    payments = [
        _payment(_obj(raw, f"{path}.payments[{index}]"), f"{path}.payments[{index}]")
        for index, raw in enumerate(_list(body, "payments", path))
    ]
    refunds = [
        _refund_record(_obj(raw, f"{path}.refunds[{index}]"), f"{path}.refunds[{index}]")
        for index, raw in enumerate(_list(body, "refunds", path))
    ]
    return OrderTransactions(order_id=_str(body, "orderId", path), payments=tuple(payments), refunds=tuple(refunds))


def _by_order(items: list[Any], read: Callable[[Any], tuple[str, T]]) -> dict[str, T]:
    """Return what ``read`` finds in each item, by lower-cased order ID.

    An item that cannot be read, and an order listed twice, are left out: the batch
    then reads that order on its own, which fails closed naming the field.
    """
    found: dict[str, T] = {}
    twice: set[str] = set()
    for item in items:
        try:
            order_id, value = read(item)
        except InvalidOrderData:
            continue
        key = order_id.lower()
        if key in found:
            twice.add(key)
        found[key] = value
    return {key: value for key, value in found.items() if key not in twice}


def _order_transactions(item: object) -> tuple[str, OrderTransactions]:
    transactions = _transactions(_obj(item, "orderTransactions[]"), "orderTransactions[]")
    return transactions.order_id, transactions


def _order_fulfillments(item: object) -> tuple[str, tuple[Fulfillment, ...]]:
    order_id = _str(_obj(item, "ordersWithFulfillments[]"), "orderId", "ordersWithFulfillments[]")
    return order_id, parse_fulfillments({"orderWithFulfillments": item})


def parse_transactions_by_ids(data: object) -> dict[str, OrderTransactions]:
    """Return each order's payments and refunds in a List Transactions For Multiple Orders answer.

    Keyed by lower-cased order ID; an entry that cannot be read, or an order listed
    twice, is left out (``_by_order``).
    """
    return _by_order(_list(_obj(data, "response"), "orderTransactions", ""), _order_transactions)


def parse_fulfillments_by_ids(data: object) -> dict[str, tuple[Fulfillment, ...]]:
    """Return each order's fulfilments in a List Fulfillments For Multiple Orders answer.

    Keyed by lower-cased order ID; left out as in ``parse_transactions_by_ids``.
    """
    return _by_order(_list(_obj(data, "response"), "ordersWithFulfillments", ""), _order_fulfillments)


@attrs.frozen(kw_only=True)
class RefundAnswer:
    """Refund Payments' answer: the refund it created and the order's transactions after it."""

    refund: RefundRecord
    transactions: OrderTransactions | None = None


def parse_refund_answer(data: object) -> RefundAnswer:
    """Return the refund (required: it settles the step) and transactions in a Refund Payments answer."""
    top = _obj(data, "response")
    refund = _refund_record(_obj(_get(top, "refund", ""), "refund"), "refund")
    body = top.get("orderTransactions")
    transactions = None if body is None else _transactions(_obj(body, "orderTransactions"), "orderTransactions")
    return RefundAnswer(refund=refund, transactions=transactions)


_REFUNDABILITY_KEYS = (
    ("refundable", Refundability.REFUNDABLE),
    ("manuallyRefundable", Refundability.MANUALLY_REFUNDABLE),
    ("nonRefundable", Refundability.NON_REFUNDABLE),
)
# The older Order Transactions form: refundabilityStatus instead of one key per state.
_REFUNDABILITY_STATUS = {
    "REFUNDABLE": Refundability.REFUNDABLE,
    "MANUAL": Refundability.MANUALLY_REFUNDABLE,
    "NOT_REFUNDABLE": Refundability.NON_REFUNDABLE,
}


@attrs.frozen(kw_only=True)
class RefundabilityAnswer:
    """Get Order Refundability's answer: each payment's refundability, and what is left of each item."""

    payments: tuple[PaymentRefundability, ...]
    items: ItemAvailability = attrs.field(factory=ItemAvailability)


def _fee_availability(data: Mapping[str, Any], path: str, fee_id: str | None) -> FeeAvailability:
    def money(key: str) -> Decimal:
        return _price(data, key, path) if data.get(key) is not None else Decimal(0)

    return FeeAvailability(
        fee_id=fee_id,
        amount=money("amount"),
        refunded=money("refundedAmount"),
        available=money("availableRefundAmount"),
    )


def parse_refundability_answer(data: object) -> RefundabilityAnswer:
    """Return the whole Get Order Refundability answer: payments, lines, shipping and fees."""
    top = _obj(data, "response")
    lines = []
    for index, raw in enumerate(_list(top, "lineItems", "")):
        path = f"lineItems[{index}]"
        line = _obj(raw, path)
        lines.append(
            LineAvailability(
                line_item_id=_str(line, "lineItemId", path),
                original=_count(line, "originalQuantity", path),
                refunded=_count(line, "refundedQuantity", path),
                available=_count(line, "availableRefundQuantity", path),
            )
        )
    shipping = top.get("shipping")
    fees = [
        _fee_availability(
            _obj(raw, f"additionalFees[{i}]"),
            f"additionalFees[{i}]",
            _str(_obj(raw, "fee"), "additionalFeeId", f"additionalFees[{i}]"),
        )
        for i, raw in enumerate(_list(top, "additionalFees", ""))
    ]
    items = ItemAvailability(
        lines=tuple(lines),
        shipping=None if shipping is None else _fee_availability(_obj(shipping, "shipping"), "shipping", None),
        fees=tuple(fees),
    )
    return RefundabilityAnswer(payments=parse_refundability(data), items=items)


def parse_refundability(data: object) -> tuple[PaymentRefundability, ...]:
    """Return each payment's refundability from a Get Order Refundability answer.

    Wix's shape first (``docs/wix-api.md``): each entry holds exactly one of
    ``refundable: <bool>``, ``manuallyRefundable: {"reason"}``, ``nonRefundable:
    {"reason"}``, the payment under ``payment`` with ``monetary.maxRefund``. Older
    forms are tolerated: ``paymentId`` at the entry's top, a state given as an object
    (possibly with an ``amount`` cap), or ``refundabilityStatus``. A missing or
    contradictory state raises, naming the field, before anything is written.
    """
    top = _obj(data, "response")
    return tuple(
        _payment_refundability(_obj(raw, f"payments[{index}]"), f"payments[{index}]")
        for index, raw in enumerate(_list(top, "payments", ""))
    )


def _payment_refundability(item: Mapping[str, Any], path: str) -> PaymentRefundability:
    payment = item.get("payment")
    payment = _obj(payment, f"{path}.payment") if payment is not None else {}
    if payment.get("paymentId") is not None:
        payment_id = _id(payment, "paymentId", f"{path}.payment")
    elif item.get("paymentId") is not None:
        payment_id = _id(item, "paymentId", path)
    else:
        raise InvalidOrderData(f"{path}.payment.paymentId", "missing (nor is there a paymentId beside it)")
    states: list[tuple[Refundability, Mapping[str, Any]]] = []
    for key, kind in _REFUNDABILITY_KEYS:
        value = item.get(key)
        if value is None or value is False:
            continue
        if value is not True and not isinstance(value, dict):
            raise InvalidOrderData(f"{path}.{key}", f"expected true or an object, got {_kind(value)}")
        states.append((kind, value if isinstance(value, dict) else {}))
    if not states and item.get("refundable") is False:
        # refundable: false with no other state: Wix cannot refund it and gives no reason.
        states.append((Refundability.NON_REFUNDABLE, {}))
    status = item.get("refundabilityStatus")
    if status is not None:
        if not isinstance(status, str) or status not in _REFUNDABILITY_STATUS:
            raise InvalidOrderData(
                f"{path}.refundabilityStatus", f"{status!r} is not a refundability the library knows"
            )
        if states and states[0][0] is not _REFUNDABILITY_STATUS[status]:
            raise InvalidOrderData(f"{path}.refundabilityStatus", f"{status} contradicts {states[0][0]}")
        if not states:
            reason = item.get("manuallyRefundableReason") or item.get("nonRefundableReason")
            states.append((_REFUNDABILITY_STATUS[status], {"reason": reason} if isinstance(reason, str) else {}))
    if len(states) != 1:
        found = ", ".join(str(kind) for kind, _ in states) or "none"
        raise InvalidOrderData(
            path, f"expected exactly one of refundable, manuallyRefundable, nonRefundable; found {found}"
        )
    kind, detail = states[0]
    raw_reason = detail.get("reason")
    max_refund = None
    monetary = payment.get("monetary")
    if monetary is not None:
        monetary = _obj(monetary, f"{path}.payment.monetary")
        if monetary.get("maxRefund") is not None:
            max_refund = _price(monetary, "maxRefund", f"{path}.payment.monetary")
    if max_refund is None and detail.get("amount") is not None:
        cap = detail["amount"]
        max_refund = (
            _price(detail, "amount", f"{path}.{kind}") if isinstance(cap, dict) else _decimal(cap, f"{path}.amount")
        )
    return PaymentRefundability(
        payment_id=payment_id,
        refundability=kind,
        reason=raw_reason if isinstance(raw_reason, str) else None,
        max_refund=max_refund,
    )


def parse_sites(data: object) -> tuple[str, ...]:
    """Return the site IDs in a Query Sites answer."""
    top = _obj(data, "response")
    return tuple(_str(_obj(s, f"sites[{i}]"), "id", f"sites[{i}]") for i, s in enumerate(_list(top, "sites", "")))


def parse_site_properties(data: object) -> Mapping[str, Any]:
    """Return the ``properties`` object of Get Site Properties."""
    return _obj(_get(_obj(data, "response"), "properties", ""), "properties")


def parse_list(key: str) -> Callable[[object], list[Any]]:
    """Return a parser that reads the array under ``key`` of an answer."""

    def parse(data: object) -> list[Any]:
        return _list(_obj(data, "response"), key, "")

    return parse
