"""Refund Wix store orders correctly, exactly once, whatever the network does."""

import logging as _logging

from ._version import __version__
from .client._client import AsyncWixClient, PermissionCheck, VerifyReport, WixClient
from .client._credentials import WixCredentials
from .client._retry import RateLimiter, RequestLimiter, RetryPolicy
from .core._actions import PaymentRefund
from .core._errors import (
    InvalidCredentials,
    InvalidOrderData,
    InvalidRequest,
    InvalidWixData,
    JournalError,
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
from .core._items import ALL_LEFT, FeeRefund, RefundItem
from .core._money import MINOR_UNITS, format_money
from .core._orders import (
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
from .core._outcome import OutcomeDict
from .core._references import new_reference
from .core._request import RefundRequest
from .core._routing import (
    STANDARD_REFUND_CUTOFF,
    CancelOrder,
    DeleteFulfillments,
    RefundPayments,
    RefundPlan,
    RefundRoute,
    decide_refund,
)
from .journal._journal import EntryState, Journal, JournalEntry, MemoryJournal
from .journal._journal_sql import SqliteJournal, default_journal_path
from .journal._locks import FileLocks, HeldLock, InProcessLocks, OrderLocks, default_lock_dir, lock_key
from .run._execute import (
    OutcomeStatus,
    RefundOutcome,
    StepRecord,
    refund_order,
    refund_order_async,
    refund_orders_async,
)
from .run._follow import RefundState, RefundStatusReport, refund_status, refund_status_async
from .run._reconcile import Mismatch, MismatchKind, ReconcileReport, reconcile, reconcile_async
from .wix._read import parse_order

# A library logs; the application decides where logs go.
_logging.getLogger("wix_refunds").addHandler(_logging.NullHandler())

__all__ = [
    "ALL_LEFT",
    "AsyncWixClient",
    "CancelOrder",
    "DeleteFulfillments",
    "EntryState",
    "FeeRefund",
    "FileLocks",
    "Fulfillment",
    "FulfillmentStatus",
    "HeldLock",
    "InProcessLocks",
    "InvalidCredentials",
    "InvalidOrderData",
    "InvalidRequest",
    "InvalidWixData",
    "Journal",
    "JournalEntry",
    "JournalError",
    "LineItem",
    "LockLost",
    "LockUnavailable",
    "MINOR_UNITS",
    "MemoryJournal",
    "Mismatch",
    "MismatchKind",
    "Order",
    "OrderLocks",
    "OrderStatus",
    "OrderTransactions",
    "OutcomeDict",
    "OutcomeStatus",
    "Payment",
    "PaymentRecordStatus",
    "PaymentRefund",
    "PaymentRefundability",
    "PaymentStatus",
    "PermissionCheck",
    "RateLimiter",
    "ReconcileReport",
    "RefundDeclined",
    "RefundItem",
    "RefundNotSupported",
    "RefundOutcome",
    "RefundPayments",
    "RefundPlan",
    "RefundRecord",
    "RefundRequest",
    "RefundRoute",
    "RefundState",
    "RefundStatus",
    "RefundStatusReport",
    "RefundTransaction",
    "Refundability",
    "RequestLimiter",
    "RetryPolicy",
    "STANDARD_REFUND_CUTOFF",
    "SqliteJournal",
    "StepRecord",
    "TrackingInfo",
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
    "default_journal_path",
    "default_lock_dir",
    "format_money",
    "lock_key",
    "new_reference",
    "parse_order",
    "reconcile",
    "reconcile_async",
    "refund_order",
    "refund_order_async",
    "refund_orders_async",
    "refund_status",
    "refund_status_async",
]
