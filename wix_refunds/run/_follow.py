"""refund_status(): where a refund this library made stands on Wix, found by its reference.

Wix may answer a refund as pending and settle it later (``SUCCEEDED`` or ``FAILED``).
A service that refunded from a queue asks again later with the reference the outcome
carried, instead of running the refund again.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TypedDict

import attrs

from ..client._client import AsyncWixClient, WixClient
from ..core._engine import tagged_refunds
from ..core._money import format_money
from ..core._orders import OrderTransactions, RefundRecord, RefundStatus, _TextEnum
from ..core._request import RefundRequest
from ..wix import _wire

__all__ = ["RefundState", "RefundStatusDict", "RefundStatusReport", "refund_status", "refund_status_async"]


class RefundState(_TextEnum):
    """Where the refunds carrying one reference stand."""

    NOT_FOUND = "NOT_FOUND"
    PENDING = "PENDING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


class RefundStatusDict(TypedDict):
    """``RefundStatusReport.to_dict()``: amounts in their currency's digits."""

    order_id: str
    reference: str
    state: str
    refund_ids: list[str]
    succeeded: str
    pending: str
    failed: str
    outside_wix: str
    currency: str


_IN_FLIGHT = frozenset({RefundStatus.PENDING, RefundStatus.SCHEDULED, RefundStatus.STARTED, RefundStatus.UNKNOWN})


@attrs.frozen(kw_only=True)
class RefundStatusReport:
    """The refunds on Wix that carry ``reference``, and where they stand.

    Attributes:
        state: ``PENDING`` while any part is in flight; else ``SUCCEEDED`` if any part
            succeeded; ``FAILED`` if every part failed; ``NOT_FOUND`` if none carries it.
        refunds: the refunds carrying the reference, as Wix lists them.
        succeeded, pending, failed: what their parts hold in each state.
        outside_wix: the part of ``succeeded`` only recorded on Wix (``externalRefund``).
    """

    order_id: str
    reference: str
    currency: str
    state: RefundState
    refunds: tuple[RefundRecord, ...] = ()
    succeeded: Decimal = Decimal(0)
    pending: Decimal = Decimal(0)
    failed: Decimal = Decimal(0)
    outside_wix: Decimal = Decimal(0)

    def to_dict(self) -> RefundStatusDict:
        """Return the report as JSON-ready data."""
        return {
            "order_id": self.order_id,
            "reference": self.reference,
            "state": self.state.value,
            "refund_ids": [r.id for r in self.refunds],
            "succeeded": format_money(self.succeeded, self.currency, code=False),
            "pending": format_money(self.pending, self.currency, code=False),
            "failed": format_money(self.failed, self.currency, code=False),
            "outside_wix": format_money(self.outside_wix, self.currency, code=False),
            "currency": self.currency,
        }


def follow(order_id: str, currency: str, transactions: OrderTransactions, reference: str) -> RefundStatusReport:
    """Return where the refunds carrying ``reference`` stand in ``transactions``. No I/O."""
    refunds = tuple(tagged_refunds(transactions, reference))
    parts = [t for r in refunds for t in r.transactions]
    succeeded = sum((t.amount for t in parts if t.status is RefundStatus.SUCCEEDED), Decimal(0))
    pending = sum((t.amount for t in parts if t.status in _IN_FLIGHT), Decimal(0))
    failed = sum((t.amount for t in parts if t.status is RefundStatus.FAILED), Decimal(0))
    outside = sum((t.amount for t in parts if t.status is RefundStatus.SUCCEEDED and t.external), Decimal(0))
    if not parts:
        state = RefundState.NOT_FOUND
    elif any(t.status in _IN_FLIGHT for t in parts):
        state = RefundState.PENDING
    elif any(t.status is RefundStatus.SUCCEEDED for t in parts):
        state = RefundState.SUCCEEDED
    else:
        state = RefundState.FAILED
    return RefundStatusReport(
        order_id=order_id,
        reference=reference,
        currency=currency,
        state=state,
        refunds=refunds,
        succeeded=succeeded,
        pending=pending,
        failed=failed,
        outside_wix=outside,
    )


def _checked(order_id: str, reference: str) -> None:
    _wire.check_id(order_id, field="order_id")
    RefundRequest(reference=reference)  # the same rules as a reference given to a refund


def refund_status(client: WixClient, order_id: str, reference: str) -> RefundStatusReport:
    """Return where the refunds carrying ``reference`` stand on Wix (two reads, no write).

    Raises:
        InvalidRequest: the order ID or the reference is malformed.
        WixNotFound, WixAuthError, WixConnectionError, ...: the typed failure.
    """
    _checked(order_id, reference)
    order = client.get_order(order_id)
    return follow(order_id, order.currency, client.list_transactions(order_id), reference)


async def refund_status_async(client: AsyncWixClient, order_id: str, reference: str) -> RefundStatusReport:
    """Return where the refunds carrying ``reference`` stand on Wix (the async twin of ``refund_status``)."""
    _checked(order_id, reference)
    order = await client.get_order(order_id)
    return follow(order_id, order.currency, await client.list_transactions(order_id), reference)
