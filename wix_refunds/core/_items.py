"""Refunds by item: line items, restock, shipping and fees, priced by Wix. No I/O.

A request names what came back (``RefundItem``), shipping and additional fees
(``FeeRefund``), each an amount or ``ALL_LEFT``. Wix's Get Order Refundability says
what is left of each (``ItemAvailability``) and Calculate Refund prices them
(``Calculation``); ``check_items`` refuses, before any write, whatever Wix could not
refund, naming the line.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from decimal import Decimal
from typing import Any, Union

import attrs

from ._errors import InvalidRequest, RefundNotSupported
from ._money import check_read_amount, format_money, parse_amount

__all__ = [
    "ALL_LEFT",
    "MAX_FEES",
    "MAX_LINES",
    "MAX_QUANTITY",
    "AllLeft",
    "Calculation",
    "FeeAvailability",
    "FeeRefund",
    "ItemAvailability",
    "LineAvailability",
    "RefundItem",
    "check_items",
]

# Wix's limits on Refund Payments' refundItems (docs/wix-api.md, SDK RefundItems).
MAX_LINES = 300
MAX_FEES = 100
MAX_QUANTITY = 100_000


class AllLeft(enum.Enum):
    """All that is left of a fee or of the shipping (sent to Wix without an amount)."""

    ALL = "ALL"

    def __repr__(self) -> str:
        return "ALL_LEFT"


ALL_LEFT = AllLeft.ALL
"""Refund all that is left of the shipping or of a fee."""

Portion = Union[Decimal, AllLeft]


def _to_portion(value: Decimal | int | str | AllLeft | None) -> Portion | None:
    if value is None or isinstance(value, AllLeft):
        return value
    amount = parse_amount(value)
    if amount <= 0:
        raise InvalidRequest("amount", f"{amount} is not above zero")
    return amount


def _check_quantity(item: RefundItem, attribute: attrs.Attribute[int], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_QUANTITY:
        raise InvalidRequest(
            "quantity", f"line {item.line_item_id}: {value!r} is not a whole number 1 to {MAX_QUANTITY}"
        )


def _check_restock(item: RefundItem, attribute: attrs.Attribute[Any], value: int | bool) -> None:
    count = item.quantity if value is True else int(value)
    if not 0 <= count <= item.quantity:
        raise InvalidRequest(
            "restock",
            f"line {item.line_item_id}: restocking {value!r} is more than the {item.quantity} refunded "
            "(restock at most what is refunded)",
        )


def _check_line_id(item: RefundItem, attribute: attrs.Attribute[str], value: str) -> None:
    if not isinstance(value, str) or not value.strip() or len(value) > 100:
        raise InvalidRequest("line_item_id", f"{value!r} is not a line item ID (see `wix-refunds plan ORDER`)")


@attrs.frozen(kw_only=True)
class RefundItem:
    """A line item that came back: ``quantity`` units, and how many to restock.

    ``restock`` is True (all ``quantity``), False (none) or a count up to ``quantity``.
    """

    line_item_id: str = attrs.field(validator=_check_line_id)
    quantity: int = attrs.field(validator=_check_quantity)
    restock: int | bool = attrs.field(default=False, validator=_check_restock)

    @property
    def restock_quantity(self) -> int:
        """Return how many units to restock."""
        return self.quantity if self.restock is True else int(self.restock)


@attrs.frozen(kw_only=True)
class FeeRefund:
    """An additional fee of the order to refund: an amount, or ``ALL_LEFT``."""

    fee_id: str
    amount: Portion = attrs.field(default=ALL_LEFT, converter=_to_portion)


def check_request_items(items: tuple[RefundItem, ...], fees: tuple[FeeRefund, ...]) -> None:
    """Raise ``InvalidRequest`` for more lines or fees than Wix takes, or a line or fee named twice."""
    if len(items) > MAX_LINES:
        raise InvalidRequest("items", f"Wix takes at most {MAX_LINES} lines in one refund, got {len(items)}")
    if len(fees) > MAX_FEES:
        raise InvalidRequest("fees", f"Wix takes at most {MAX_FEES} fees in one refund, got {len(fees)}")
    for name, ids in (("items", [i.line_item_id for i in items]), ("fees", [f.fee_id for f in fees])):
        twice = sorted({i for i in ids if ids.count(i) > 1})
        if twice:
            raise InvalidRequest(name, f"{', '.join(twice)} named twice: give each once, with its whole quantity")


@attrs.frozen(kw_only=True)
class LineAvailability:
    """What is left to refund of one line (Get Order Refundability ``lineItems[]``)."""

    line_item_id: str
    original: int
    refunded: int
    available: int


@attrs.frozen(kw_only=True)
class FeeAvailability:
    """What is left to refund of a fee, or of the shipping (``fee_id`` None)."""

    fee_id: str | None
    amount: Decimal
    refunded: Decimal
    available: Decimal


@attrs.frozen(kw_only=True)
class ItemAvailability:
    """What Wix says is left to refund of each line, the shipping and each fee."""

    lines: tuple[LineAvailability, ...] = ()
    shipping: FeeAvailability | None = None
    fees: tuple[FeeAvailability, ...] = ()


@attrs.frozen(kw_only=True)
class Calculation:
    """Calculate Refund's answer: Wix's price for the items, or why it cannot refund them.

    ``lines`` and ``fees`` map each line item or fee ID to Wix's total for it.
    """

    available: bool
    total: Decimal = Decimal(0)
    lines: tuple[tuple[str, Decimal], ...] = ()
    fees: tuple[tuple[str, Decimal], ...] = ()
    shipping: Decimal | None = None
    errors: tuple[str, ...] = ()


def _refused(order: str, problems: Iterable[str]) -> RefundNotSupported:
    listed = "; ".join(problems)
    return RefundNotSupported(f"order {order}: the items cannot be refunded as asked: {listed}; nothing was sent")


def check_items(
    order: str,
    currency: str,
    items: tuple[RefundItem, ...],
    shipping: Portion | None,
    fees: tuple[FeeRefund, ...],
    availability: ItemAvailability,
) -> None:
    """Raise ``RefundNotSupported`` naming every line, fee or shipping Wix has not that much left of.

    Raises:
        InvalidWixData: an amount of the shipping or a fee is finer than ``currency``.
        RefundNotSupported: as above.
    """
    # The reader bounded these without the currency (at most 4 decimal places).
    for path, left in [("shipping", availability.shipping)] + [
        (f"additionalFees[{i}]", fee) for i, fee in enumerate(availability.fees)
    ]:
        if left is not None:
            for key, amount in (("amount", left.amount), ("refundedAmount", left.refunded)):
                check_read_amount(amount, f"{path}.{key}.amount", currency)
            check_read_amount(left.available, f"{path}.availableRefundAmount.amount", currency)
    problems = []
    lines = {line.line_item_id: line for line in availability.lines}
    for item in items:
        line = lines.get(item.line_item_id)
        if line is None:
            known = ", ".join(lines) or "none"
            problems.append(f"line {item.line_item_id} is not a line of this order (its lines: {known})")
        elif item.quantity > line.available:
            problems.append(
                f"line {item.line_item_id}: {item.quantity} asked but only {line.available} of {line.original} "
                f"left to refund ({line.refunded} refunded already)"
            )
    known_fees = {fee.fee_id: fee for fee in availability.fees}
    for fee in fees:
        left = known_fees.get(fee.fee_id)
        if left is None:
            problems.append(f"fee {fee.fee_id} is not an additional fee of this order")
        elif isinstance(fee.amount, Decimal) and fee.amount > left.available:
            problems.append(
                f"fee {fee.fee_id}: {format_money(fee.amount, currency)} asked but only "
                f"{format_money(left.available, currency)} left"
            )
    if shipping is not None:
        if availability.shipping is None:
            problems.append("shipping: this order has no shipping to refund")
        elif isinstance(shipping, Decimal) and shipping > availability.shipping.available:
            problems.append(
                f"shipping: {format_money(shipping, currency)} asked but only "
                f"{format_money(availability.shipping.available, currency)} left"
            )
    if problems:
        raise _refused(order, problems)


def check_calculation(order: str, calculation: Calculation, currency: str | None = None) -> None:
    """Raise ``RefundNotSupported`` with Wix's per-item errors when Calculate Refund says ``notAvailable``.

    Raises:
        InvalidWixData: Wix's total (``summary.total.amount``) is finer than ``currency``.
    """
    if not calculation.available:
        raise _refused(order, calculation.errors or ("Wix's Calculate Refund answered notAvailable",))
    if currency is not None:
        # The reader bounded it without the currency; the total may become the refund's amount.
        check_read_amount(calculation.total, "summary.total.amount", currency)
