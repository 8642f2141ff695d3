"""Refunding: one order (sync or async), a batch, a refund's status, and reconciling a journal with Wix."""

from ._drivers import BatchItem
from ._execute import refund_order, refund_order_async, refund_orders_async
from ._follow import RefundState, RefundStatusDict, RefundStatusReport, refund_status, refund_status_async
from ._reconcile import Mismatch, MismatchKind, ReconcileReport, reconcile, reconcile_async

__all__ = [
    "BatchItem",
    "Mismatch",
    "MismatchKind",
    "ReconcileReport",
    "RefundState",
    "RefundStatusDict",
    "RefundStatusReport",
    "reconcile",
    "reconcile_async",
    "refund_order",
    "refund_order_async",
    "refund_orders_async",
    "refund_status",
    "refund_status_async",
]
