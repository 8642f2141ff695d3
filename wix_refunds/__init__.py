"""Refund Wix store orders correctly, exactly once, whatever the network does."""

import logging as _logging

from ._client import AsyncWixClient, PermissionCheck, VerifyReport, WixClient
from ._credentials import WixCredentials
from ._errors import (
    InvalidCredentials,
    InvalidOrderData,
    InvalidRequest,
    InvalidWixData,
    LockLost,
    LockUnavailable,
    RefundDeclined,
    RefundNotSupported,
    WixAPIError,
    WixAuthError,
    WixConnectionError,
    WixInvalidResponse,
    WixNotFound,
    WixOutcomeUnknown,
    WixPreconditionFailed,
    WixRateLimited,
    WixRefundError,
    WixServerError,
)
from ._execute import (
    OutcomeStatus,
    RefundOutcome,
    StepRecord,
    refund_order,
    refund_order_async,
    refund_orders_async,
)
from ._money import MINOR_UNITS, format_money
from ._orders import (
    Fulfillment,
    FulfillmentStatus,
    LineItem,
    Order,
    OrderStatus,
    OrderTransactions,
    Payment,
    PaymentRefundability,
    PaymentStatus,
    Refundability,
    RefundRecord,
    RefundStatus,
    RefundTransaction,
)
from ._retry import RetryPolicy
from ._routing import (
    STANDARD_REFUND_CUTOFF,
    CancelOrder,
    DeleteFulfillments,
    RefundPayments,
    RefundPlan,
    RefundRequest,
    RefundRoute,
    decide_refund,
)
from ._version import __version__
from ._wire import PaymentRefund

# A library logs; the application decides where logs go.
_logging.getLogger("wix_refunds").addHandler(_logging.NullHandler())

__all__ = [
    "AsyncWixClient",
    "CancelOrder",
    "DeleteFulfillments",
    "Fulfillment",
    "FulfillmentStatus",
    "InvalidCredentials",
    "InvalidOrderData",
    "InvalidRequest",
    "InvalidWixData",
    "LineItem",
    "LockLost",
    "LockUnavailable",
    "MINOR_UNITS",
    "Order",
    "OrderStatus",
    "OrderTransactions",
    "OutcomeStatus",
    "Payment",
    "PaymentRefund",
    "PaymentRefundability",
    "PaymentStatus",
    "PermissionCheck",
    "RefundDeclined",
    "RefundNotSupported",
    "RefundOutcome",
    "RefundPayments",
    "RefundPlan",
    "RefundRecord",
    "RefundRequest",
    "RefundRoute",
    "RefundStatus",
    "RefundTransaction",
    "Refundability",
    "RetryPolicy",
    "STANDARD_REFUND_CUTOFF",
    "StepRecord",
    "VerifyReport",
    "WixAPIError",
    "WixAuthError",
    "WixClient",
    "WixConnectionError",
    "WixCredentials",
    "WixInvalidResponse",
    "WixNotFound",
    "WixOutcomeUnknown",
    "WixPreconditionFailed",
    "WixRateLimited",
    "WixRefundError",
    "WixServerError",
    "__version__",
    "decide_refund",
    "format_money",
    "refund_order",
    "refund_order_async",
    "refund_orders_async",
]
