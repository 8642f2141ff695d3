"""The pure core: requests, orders, the refund rules, plans, outcomes, money and the exception tree.

Nothing here does I/O or reads a clock. The names a service uses most are also
re-exported from ``wix_refunds``; the exception tree is drawn in ``_errors``.
"""

from . import _errors
from ._actions import PaymentRefund
from ._decide import decide_refund
from ._errors import *  # noqa: F403  (the whole exception tree: its __all__)
from ._items import ALL_LEFT, FeeRefund, RefundItem
from ._money import MINOR_UNITS, format_money
from ._orders import (
    Fulfillment,
    FulfillmentStatus,
    LineItem,
    Order,
    OrderStatus,
    OrderTransactions,
    Payment,
    PaymentRecordStatus,
    PaymentRefundability,
    PaymentStatus,
    Refundability,
    RefundRecord,
    RefundStatus,
    RefundTransaction,
    TrackingInfo,
)
from ._outcome import OutcomeDict, OutcomeStatus, RefundOutcome, StepRecord
from ._references import new_reference
from ._request import RefundRequest
from ._routing import STANDARD_REFUND_CUTOFF, CancelOrder, DeleteFulfillments, RefundPayments, RefundPlan, RefundRoute

__all__ = [
    "ALL_LEFT",
    "CancelOrder",
    "DeleteFulfillments",
    "FeeRefund",
    "Fulfillment",
    "FulfillmentStatus",
    "LineItem",
    "MINOR_UNITS",
    "Order",
    "OrderStatus",
    "OrderTransactions",
    "OutcomeDict",
    "OutcomeStatus",
    "Payment",
    "PaymentRecordStatus",
    "PaymentRefund",
    "PaymentRefundability",
    "PaymentStatus",
    "RefundItem",
    "RefundOutcome",
    "RefundPayments",
    "RefundPlan",
    "RefundRecord",
    "RefundRequest",
    "RefundRoute",
    "RefundStatus",
    "RefundTransaction",
    "Refundability",
    "STANDARD_REFUND_CUTOFF",
    "StepRecord",
    "TrackingInfo",
    "decide_refund",
    "format_money",
    "new_reference",
]
# ... and the whole exception tree, in one sorted list.
__all__ += _errors.__all__
__all__.sort()
