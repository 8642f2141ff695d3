"""RefundOutcome and its parts: what one refund call did, as frozen values and typed dicts."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, TypedDict

import attrs

from ._errors import WixAPIError, WixRefundError
from ._failures import is_retryable
from ._items import Calculation
from ._money import format_money
from ._orders import Fulfillment, LineItem, Order, OrderStatus, PaymentStatus, RefundRecord, _TextEnum
from ._request import RefundRequest
from ._routing import RefundPlan, RefundRoute

__all__ = [
    "ErrorDict",
    "FulfillmentDict",
    "OutcomeDict",
    "OutcomeStatus",
    "RefundOutcome",
    "RequestDict",
    "StepDict",
    "StepRecord",
]


class OutcomeStatus(_TextEnum):
    """How a refund ended."""

    COMPLETED = "COMPLETED"
    ALREADY_DONE = "ALREADY_DONE"
    #: This call's refund is on Wix, but some part of it is not settled yet (PENDING,
    #: SCHEDULED, STARTED, or a status the library does not know): follow it with
    #: ``refund_status``; the provider may still decline it.
    PENDING = "PENDING"
    DRY_RUN = "DRY_RUN"
    FAILED = "FAILED"


def books_of(
    own: list[RefundRecord], order: Order | None
) -> tuple[Decimal, Decimal, tuple[LineItem, ...], tuple[LineItem, ...]]:
    """Return what a reference's refunds hold on Wix: money moved, recorded outside Wix, lines refunded, restocked.

    Money counts every part that did not fail (in-flight parts too: the status says
    whether they settled). Lines come from Wix's refund records, never from the request;
    restocked lines from the order's ``restockQuantity`` (as last read), at most what the
    reference refunded of each line.
    """
    moved = outside = Decimal(0)
    refunded: dict[str, int] = {}
    for refund in own:
        for t in refund.transactions:
            if t.counted and t.external:
                outside += t.amount
            elif t.counted:
                moved += t.amount
        if refund.counted:
            for line in refund.line_items:
                refunded[line.id] = refunded.get(line.id, 0) + line.quantity
    back = {} if order is None else {line.id: line.quantity for line in order.restocked}
    restocked = tuple(
        LineItem(id=line, quantity=min(back[line], count)) for line, count in refunded.items() if back.get(line)
    )
    return moved, outside, tuple(LineItem(id=line, quantity=n) for line, n in refunded.items()), restocked


@attrs.frozen(kw_only=True)
class StepRecord:
    """One write action the refund made (or, in a dry run, would make), to carry out a plan step.

    Attributes:
        action: the kind of write, which is also the Wix call it made and the log field
            ``step``: ``delete_fulfillment`` (for ``DeleteFulfillments``, or a fulfilment
            that appeared before a cancel), ``cancel_order`` (``CancelOrder``),
            ``refund_payments`` (``RefundPayments``).
        target: the ID it acted on (the order, or the fulfilment).
        attempts: how many times it was sent (0 in a dry run).
        result: what came of it (``done``, ``outcome unknown; re-reading``, ...).
        amount: for a refund, what it names in all.
        outside_wix: for a refund, the part only recorded on Wix (``externalRefund``),
            which the merchant pays back.
    """

    action: str
    target: str
    attempts: int
    result: str
    amount: Decimal | None = None
    outside_wix: Decimal | None = None


class StepDict(TypedDict):
    """``StepRecord`` as JSON-ready data; amounts in their currency's digits."""

    action: str
    target: str
    attempts: int
    result: str
    amount: str | None
    outside_wix: str | None


class RequestDict(TypedDict):
    """The request an outcome answers, as JSON-ready data (``amount`` None: a full refund)."""

    amount: str | None
    reason: str | None
    reference: str | None
    restock: bool
    notify_customer: bool


class TrackingDict(TypedDict):
    """A deleted fulfilment's tracking details."""

    tracking_number: str | None
    shipping_provider: str | None
    tracking_link: str | None


class FulfillmentLineDict(TypedDict):
    """One line item and a quantity (shipped by a deleted fulfilment, or refunded, or restocked)."""

    id: str
    quantity: int


class FulfillmentDict(TypedDict):
    """A fulfilment the refund deleted, kept because Wix discards it."""

    id: str
    line_items: list[FulfillmentLineDict]
    tracking: TrackingDict | None


class ErrorDict(TypedDict):
    """Why an outcome FAILED: the error's type and message, and Wix's details when it answered."""

    type: str
    message: str
    status: int | None
    code: str | None
    request_id: str | None
    retryable: bool
    reference: str | None


class OutcomeDict(TypedDict):
    """``RefundOutcome.to_dict()``: every field of the outcome as JSON-ready data."""

    order_id: str
    status: str
    route: str | None
    reason: str | None
    reference: str | None
    request: RequestDict | None
    context: Any
    steps: list[StepDict]
    refunded: str | None
    refunded_outside_wix: str | None
    currency: str | None
    final_status: str | None
    final_payment_status: str | None
    deleted_fulfillments: list[FulfillmentDict]
    items_refunded: list[FulfillmentLineDict]
    items_restocked: list[FulfillmentLineDict]
    error: ErrorDict | None
    plan_steps: list[str]


def _text(amount: Decimal | None, currency: str | None) -> str | None:
    if amount is None:
        return None
    return format_money(amount, currency, code=False)


def _fulfillment_dict(f: Fulfillment) -> FulfillmentDict:
    tracking = f.tracking
    return {
        "id": f.id,
        "line_items": [{"id": item.id, "quantity": item.quantity} for item in f.line_items],
        "tracking": None
        if tracking is None
        else {
            "tracking_number": tracking.tracking_number,
            "shipping_provider": tracking.shipping_provider,
            "tracking_link": tracking.tracking_link,
        },
    }


def error_dict(error: WixRefundError) -> ErrorDict:
    """Return an error as JSON-ready data: its type and message, and Wix's status, code and request ID."""
    api = error if isinstance(error, WixAPIError) else None
    return {
        "type": type(error).__name__,
        "message": str(error),
        "status": None if api is None else api.status,
        "code": None if api is None else api.code,
        "request_id": None if api is None else api.request_id,
        "retryable": is_retryable(error, write=False),
        "reference": error.reference,
    }


@attrs.frozen(kw_only=True)
class RefundOutcome:
    """What ``refund_order`` did to one order.

    Attributes:
        order_id: the order, as asked.
        status: ``COMPLETED`` (this call wrote), ``ALREADY_DONE`` (Wix shows it done),
            ``DRY_RUN`` or ``FAILED`` (in a batch; ``error`` says why).
        route: how the order is refunded (None if it could not be read).
        reason: the rule applied, as a sentence.
        reference: the reference of this call's refund: the request's, or the one the
            call made when it had none; re-run with it to find the refund again.
        request: the request this outcome answers, as the caller gave it.
        context: the caller's own value (a request ID, a ticket), returned untouched.
        steps: each write made (or, in a dry run, planned).
        refunded: money Wix moved back to the buyer for this call's refund.
        refunded_outside_wix: what was only recorded on Wix (``externalRefund``: offline or
            manual payments) and must be paid back by the merchant.
        currency: the order's currency.
        final_status, final_payment_status: the order as last seen on Wix.
        deleted_fulfillments: each fulfilment deleted, with its line items and tracking
            details, which Wix discards.
        items_refunded, items_restocked: the line items (and quantities) this call's
            refund refunded and restocked, for a refund by item.
        prices: Wix's Calculate Refund answer for the items asked (a refund by item).
        error: why the outcome FAILED.
        plan: the plan the call followed.
    """

    order_id: str
    status: OutcomeStatus
    route: RefundRoute | None = None
    reason: str | None = None
    reference: str | None = None
    request: RefundRequest | None = None
    context: Any = None
    steps: tuple[StepRecord, ...] = ()
    refunded: Decimal = Decimal(0)
    refunded_outside_wix: Decimal = Decimal(0)
    currency: str | None = None
    final_status: OrderStatus | None = None
    final_payment_status: PaymentStatus | None = None
    deleted_fulfillments: tuple[Fulfillment, ...] = ()
    items_refunded: tuple[LineItem, ...] = ()
    items_restocked: tuple[LineItem, ...] = ()
    prices: Calculation | None = attrs.field(default=None, repr=False)
    error: WixRefundError | None = None
    plan: RefundPlan | None = attrs.field(default=None, repr=False)

    def to_dict(self) -> OutcomeDict:
        """Return the outcome as plain JSON-ready data (``context`` as the caller gave it)."""
        request = self.request
        return {
            "order_id": self.order_id,
            "status": self.status.value,
            "route": None if self.route is None else self.route.value,
            "reason": self.reason,
            "reference": self.reference,
            "request": None
            if request is None
            else {
                "amount": _text(request.amount, self.currency),
                "reason": request.reason,
                "reference": request.reference,
                "restock": request.restock,
                "notify_customer": request.notify_customer,
            },
            "context": self.context,
            "steps": [
                {
                    "action": s.action,
                    "target": s.target,
                    "attempts": s.attempts,
                    "result": s.result,
                    "amount": _text(s.amount, self.currency),
                    "outside_wix": _text(s.outside_wix, self.currency),
                }
                for s in self.steps
            ],
            "refunded": _text(self.refunded, self.currency),
            "refunded_outside_wix": _text(self.refunded_outside_wix, self.currency),
            "currency": self.currency,
            "final_status": None if self.final_status is None else self.final_status.value,
            "final_payment_status": None if self.final_payment_status is None else self.final_payment_status.value,
            "deleted_fulfillments": [_fulfillment_dict(f) for f in self.deleted_fulfillments],
            "items_refunded": [{"id": i.id, "quantity": i.quantity} for i in self.items_refunded],
            "items_restocked": [{"id": i.id, "quantity": i.quantity} for i in self.items_restocked],
            "error": None if self.error is None else error_dict(self.error),
            "plan_steps": [] if self.plan is None else [step.describe() for step in self.plan.steps],
        }
