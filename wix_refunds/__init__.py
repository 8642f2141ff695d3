"""Refund Wix store orders correctly, exactly once, whatever the network does.

The names a service or a refund script needs are here. Everything else public lives in
its layer: ``wix_refunds.core`` (orders, plans, the rules, every exception),
``wix_refunds.wix`` (reading Wix's JSON), ``wix_refunds.client`` (limiters, log fields),
``wix_refunds.journal`` (locks, journal entries; ``wix_refunds.journal.postgres`` for a
fleet), ``wix_refunds.run``, ``wix_refunds.testing`` (FakeWix) and ``wix_refunds.cli``.
"""

import logging as _logging

from ._version import __version__
from .client import AsyncWixClient, RetryPolicy, WixClient, WixCredentials
from .core import (
    ALL_LEFT,
    FeeRefund,
    InvalidCredentials,
    InvalidRequest,
    LockUnavailable,
    OutcomeDict,
    OutcomeStatus,
    RefundDeclined,
    RefundItem,
    RefundNotSupported,
    RefundOutcome,
    RefundRequest,
    RefundRoute,
    WixAPIError,
    WixAuthError,
    WixNotFound,
    WixOutcomeUnknown,
    WixRefundError,
    new_reference,
)
from .journal import Journal, MemoryJournal, SqliteJournal
from .run import (
    Mismatch,
    MismatchKind,
    ReconcileReport,
    RefundState,
    RefundStatusReport,
    reconcile,
    reconcile_async,
    refund_order,
    refund_order_async,
    refund_orders_async,
    refund_status,
    refund_status_async,
)

# A library logs; the application decides where logs go.
_logging.getLogger("wix_refunds").addHandler(_logging.NullHandler())

# What an order service or a refund script uses: the clients and their settings, the calls
# (one order, a batch, status, reconcile), the request, the results, the journals, and the
# errors a caller handles apart; at most 40 (tests/test_exports.py).
__all__ = [
    "ALL_LEFT",
    "AsyncWixClient",
    "FeeRefund",
    "InvalidCredentials",
    "InvalidRequest",
    "Journal",
    "LockUnavailable",
    "MemoryJournal",
    "Mismatch",
    "MismatchKind",
    "OutcomeDict",
    "OutcomeStatus",
    "ReconcileReport",
    "RefundDeclined",
    "RefundItem",
    "RefundNotSupported",
    "RefundOutcome",
    "RefundRequest",
    "RefundRoute",
    "RefundState",
    "RefundStatusReport",
    "RetryPolicy",
    "SqliteJournal",
    "WixAPIError",
    "WixAuthError",
    "WixClient",
    "WixCredentials",
    "WixNotFound",
    "WixOutcomeUnknown",
    "WixRefundError",
    "__version__",
    "new_reference",
    "reconcile",
    "reconcile_async",
    "refund_order",
    "refund_order_async",
    "refund_orders_async",
    "refund_status",
    "refund_status_async",
]
