"""RefundRequest: what the caller asks for, checked when it is built. No I/O."""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal

import attrs

from ._errors import InvalidRequest
from ._items import FeeRefund, Portion, RefundItem, _to_portion, check_request_items
from ._money import parse_amount

__all__ = ["MAX_REASON", "MAX_REFERENCE", "RefundRequest"]

MAX_REASON = 200
MAX_REFERENCE = 64
_REFERENCE = re.compile(r"[A-Za-z0-9._:/#@+-]+")


def _check_amount(_: object, attribute: attrs.Attribute[Decimal | None], value: Decimal | None) -> None:
    if value is None:
        return
    # _to_amount has made it a Decimal already.
    if not value.is_finite():
        raise InvalidRequest("amount", f"{value} is not a finite amount")
    if value <= 0:
        raise InvalidRequest("amount", f"{value} is not above zero")


def _check_reason(_: object, attribute: attrs.Attribute[str | None], value: str | None) -> None:
    if value is not None and len(value) > MAX_REASON:
        raise InvalidRequest("reason", f"at most {MAX_REASON} characters, got {len(value)}")
    if value is not None and "[ref:" in value:
        raise InvalidRequest(
            "reason", "may not contain '[ref:': the library writes the refund's reference tag itself (use reference=)"
        )


def _check_flag(_: object, attribute: attrs.Attribute[bool], value: bool) -> None:
    # A flag read as truthy would restock everything of a cancelled order: only True or False.
    if type(value) is not bool:
        raise InvalidRequest(attribute.name, f"must be True or False, got {value!r}")


def _check_reference(_: object, attribute: attrs.Attribute[str | None], value: str | None) -> None:
    if value is None:
        return
    if not _REFERENCE.fullmatch(value) or len(value) > MAX_REFERENCE:
        raise InvalidRequest(
            "reference",
            f"{value!r}: use 1 to {MAX_REFERENCE} letters, digits or ._:/#@+- (it is written into Wix's refund reason)",
        )


def _to_amount(value: Decimal | int | str | None) -> Decimal | None:
    # Plain decimal text only: no 1e1, 1_0 or 12,50 (see _money.parse_amount).
    return None if value is None else parse_amount(value)


def _to_items(value: Iterable[RefundItem]) -> tuple[RefundItem, ...]:
    return tuple(value)


def _to_fees(value: Iterable[FeeRefund]) -> tuple[FeeRefund, ...]:
    return tuple(value)


def _check_items(request: RefundRequest, attribute: attrs.Attribute[tuple[RefundItem, ...]], value: object) -> None:
    check_request_items(request.items, request.fees)


@attrs.frozen(kw_only=True)
class RefundRequest:
    """What the caller asks for. ``amount=None`` means everything still refundable.

    ``reference`` is the caller's own ID for this refund; it is written into the
    refund's reason on Wix, so that a re-run recognises a refund already made.

    ``restock`` restocks everything of an order placed before the cutoff (it is
    cancelled); a standard refund restocks only the items it names
    (``RefundItem(..., restock=True)``), and refuses ``restock=True`` rather than
    restock nothing.

    ``items`` (``RefundItem``: line, quantity, restock), ``shipping`` and ``fees``
    (``FeeRefund``; each an amount or ``ALL_LEFT``) refund what came back, by item:
    without ``amount`` the money is Wix's Calculate Refund total for them; with an
    ``amount`` (your own fees taken off) it is sent as given, if not above Wix's total.
    """

    amount: Decimal | None = attrs.field(default=None, converter=_to_amount, validator=_check_amount)
    reason: str | None = attrs.field(default=None, validator=_check_reason)
    reference: str | None = attrs.field(default=None, validator=_check_reference)
    restock: bool = attrs.field(default=False, validator=_check_flag)
    notify_customer: bool = attrs.field(default=False, validator=_check_flag)
    items: tuple[RefundItem, ...] = attrs.field(default=(), converter=_to_items, validator=_check_items)
    shipping: Portion | None = attrs.field(default=None, converter=_to_portion)
    fees: tuple[FeeRefund, ...] = attrs.field(default=(), converter=_to_fees)

    @property
    def by_item(self) -> bool:
        """Return whether this refunds items, shipping or fees (priced by Wix), not just an amount."""
        return bool(self.items or self.fees) or self.shipping is not None
