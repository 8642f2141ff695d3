"""The fake's state (orders, payments, refunds, keys, the request log) and the rules that keep it consistent."""

from __future__ import annotations

import fnmatch
import random
import threading
import time
import uuid
from collections.abc import Collection
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

import attrs

from ..client._credentials import WixCredentials
from ..core._routing import STANDARD_REFUND_CUTOFF
from ._answers import CANCEL_REFUSED_CODE, _app_error, _money

ALL_SCOPES = frozenset({"orders.read", "orders.manage", "sites.read", "business-info.read", "currencies.manage"})

# What FakeWix(list_calls=False) refuses: the filter on id and the two list-by-ids calls.
_LIST_CALLS = ("search_by_id", "transactions", "fulfillments")
# What FakeWix(leave_out=...) can leave out: fields Wix's SDK types mark optional, that the
# fake otherwise always writes (RefundTransaction.refundStatus, FulfillmentLineItem.quantity).
_OPTIONAL_FIELDS = ("refundStatus", "fulfillmentQuantity")
# How FakeWix(refund_items_shape=...) writes a refund's items: Wix's current details.items,
# the older details.lineItems alone, or both.
_REFUND_ITEMS_SHAPES = ("sdk", "legacy", "both")
# Refund statuses still in flight (RefundStatus in the billing types).
_IN_FLIGHT = ("PENDING", "SCHEDULED", "STARTED")


# A declined payment's part of a new refund: FAILED at once, or PENDING until next listed.
_DECLINED = {"now": "FAILED", "later": "PENDING"}


@attrs.frozen(kw_only=True)
class LoggedRequest:
    """One request the fake received; the API key is masked."""

    method: str
    path: str
    headers: dict[str, str]
    json: Any
    status: int | None
    outcome: str = "answered"


class _State:
    """Every attribute of a FakeWix, set in one place, and the rules that keep orders, payments and refunds in step."""

    def __init__(
        self,
        *,
        api_key: str | None = None,
        account_id: str | None = None,
        site_id: str | None = None,
        cutoff: datetime = STANDARD_REFUND_CUTOFF,
        seed: int | None = 0,
        sticky_fulfilled: bool = False,
        over_refund_status: int = 400,
        cancel_error_code: str = CANCEL_REFUSED_CODE,
        refundability_shape: str = "sdk",
        list_reasons: bool = True,
        legacy_payment_status: bool = False,
        list_calls: bool = True,
        refund_items_shape: str = "sdk",
        leave_out: Collection[str] = (),
    ) -> None:
        if refundability_shape not in ("sdk", "legacy", "status"):
            raise ValueError(f"refundability_shape={refundability_shape!r}: use 'sdk', 'legacy' or 'status'")
        if refund_items_shape not in _REFUND_ITEMS_SHAPES:
            raise ValueError(f"refund_items_shape={refund_items_shape!r}: use 'sdk', 'legacy' or 'both'")
        unknown = set(leave_out) - set(_OPTIONAL_FIELDS)
        if unknown:
            raise ValueError(f"leave_out={sorted(unknown)!r}: the fake can leave out only {list(_OPTIONAL_FIELDS)}")
        self._random = random.Random(seed)
        self.api_key = api_key or "IST.fake-" + uuid.UUID(int=self._random.getrandbits(128)).hex
        self.account_id = account_id or self._new_id()
        # Every fake is a store of its own, as every Wix site is: a journal that outlives
        # one fake (the process's in-memory one, say) never mistakes its orders, whose
        # seeded IDs repeat, for another fake's.
        self.site_id = site_id or str(uuid.uuid4())
        self.cutoff = cutoff
        self.sticky_fulfilled = sticky_fulfilled
        self.over_refund_status = over_refund_status
        self.cancel_error_code = cancel_error_code
        self.refundability_shape = refundability_shape
        self.list_reasons = list_reasons
        self.legacy_payment_status = legacy_payment_status
        self.refused_lists: set[str] = set() if list_calls else set(_LIST_CALLS)
        self.refund_items_shape = refund_items_shape
        self.leave_out = frozenset(leave_out)
        # What a FAILED refund transaction's refundStatusInfo says (both fields are free text
        # to Wix; the code is at most 10 characters).
        self.decline_info = {"paymentGatewayReasonCode": "DECLINED", "description": "The provider declined the refund"}
        # Per refund: each line item's share of the money, for summary.breakdown.
        self._line_amounts: dict[str, list[tuple[str, Decimal]]] = {}
        # None: refunds succeed; "now": every new refund FAILED; "later": PENDING, then
        # FAILED when the transactions are next read.
        self.decline: str | None = None
        # decline_payment(): the parts of new refunds that go back to these payments are
        # declined ("now": FAILED at once; "later": PENDING, then FAILED when next listed),
        # while the other parts of the same refund succeed.
        self.declined_payments: dict[str, str] = {}
        self._fail_later_parts: set[tuple[str, str]] = set()
        # The refundStatus of a refund that is not declined: SUCCEEDED, PENDING, SCHEDULED or STARTED.
        self.refund_status = "SUCCEEDED"
        self._hidden: dict[str, int] = {}
        # lag_listing: listings leave out refunds committed less than this many seconds ago,
        # by the time.monotonic() each refund was committed at.
        self._listing_lag = 0.0
        self._committed: dict[str, float] = {}
        self._hide_next: int | None = None
        self._fail_later: set[str] = set()
        # Per order: the shipping and each fee refunded so far (line items keep their own counts).
        self.item_refunds: dict[str, dict[str, Any]] = {}
        self._timers: list[threading.Timer] = []
        self.keys: dict[str, tuple[frozenset[str], frozenset[str] | None]] = {self.api_key: (ALL_SCOPES, None)}
        self.orders: dict[str, dict[str, Any]] = {}
        self.fulfillments: dict[str, list[dict[str, Any]]] = {}
        self.payments: dict[str, list[dict[str, Any]]] = {}
        self.refunds: dict[str, list[dict[str, Any]]] = {}
        self.manual_payments: set[str] = set()
        self.requests: list[LoggedRequest] = []
        self.writes: list[tuple[str, str, str]] = []
        self.latency = 0.0
        #: The site's business name, as Get Site Properties and Query Sites answer it (settable).
        self.business_name = "Fake Shop"
        self._faults: list[_Fault] = []
        self._rate: tuple[int, float, bool] | None = None
        self._recent: list[float] = []
        self._lock = threading.RLock()
        self._number = 10000
        # Search Orders' cursors: the IDs the search matched, and where the next page starts.
        self._cursors: dict[str, tuple[list[str], int]] = {}

    @property
    def credentials(self) -> WixCredentials:
        """Return credentials this fake accepts."""
        return WixCredentials(api_key=self.api_key, account_id=self.account_id, site_id=self.site_id)

    def _new_id(self) -> str:
        return str(uuid.UUID(int=self._random.getrandbits(128), version=4))

    def refunded_total(self, order_id: str) -> Decimal:
        """Return what has been refunded on an order (every refund transaction not FAILED)."""
        with self._lock:
            return sum(
                (
                    Decimal(t["amount"]["amount"])
                    for r in self.refunds[order_id]
                    for t in r["transactions"]
                    if t["refundStatus"] != "FAILED"
                ),
                Decimal(0),
            )

    def count_writes(self, operation: str, order_id: str | None = None) -> int:
        """Return how many times a write (``cancel``, ``delete_fulfillment``, ``refund``) was applied."""
        with self._lock:
            return sum(1 for op, oid, _ in self.writes if op == operation and (order_id is None or oid == order_id))

    def calls(self, *, method: str | None = None, path: str = "*") -> list[LoggedRequest]:
        """Return the logged requests matching ``method`` and a glob ``path``."""
        with self._lock:
            return [
                r for r in self.requests if (method is None or r.method == method) and fnmatch.fnmatchcase(r.path, path)
            ]

    def _order(self, order_id: str) -> dict[str, Any]:
        order = self.orders.get(order_id)
        if order is None:
            raise _app_error(404, "ORDER_NOT_FOUND", f"order {order_id} not found")
        return order

    def _created(self, order: dict[str, Any]) -> datetime:
        return datetime.fromisoformat(order["createdDate"].replace("Z", "+00:00"))

    def _recompute_fulfillment(self, order_id: str) -> None:
        order = self.orders[order_id]
        if self.sticky_fulfilled and order["fulfillmentStatus"] == "FULFILLED":
            return
        covered: dict[str, int] = {}
        for f in self.fulfillments[order_id]:
            for item in f["lineItems"]:
                covered[item["id"]] = covered.get(item["id"], 0) + item["quantity"]
        if not covered:
            order["fulfillmentStatus"] = "NOT_FULFILLED"
        elif all(covered.get(i["id"], 0) >= i["quantity"] for i in order["lineItems"]):
            order["fulfillmentStatus"] = "FULFILLED"
        else:
            order["fulfillmentStatus"] = "PARTIALLY_FULFILLED"

    def _paid(self, order_id: str) -> Decimal:
        return sum((Decimal(p["amount"]["amount"]) for p in self.payments[order_id]), Decimal(0))

    def _recompute_payment(self, order_id: str) -> None:
        order = self.orders[order_id]
        total = Decimal(order["priceSummary"]["total"]["amount"])
        paid, refunded = self._paid(order_id), self.refunded_total(order_id)
        if refunded > 0:
            order["paymentStatus"] = "FULLY_REFUNDED" if refunded >= total else "PARTIALLY_REFUNDED"
        elif paid <= 0:
            order["paymentStatus"] = "NOT_PAID"
        else:
            order["paymentStatus"] = "PAID" if paid >= total else "PARTIALLY_PAID"
        order["balanceSummary"]["refunded"] = _money(refunded)

    def _refunded_for(self, order_id: str, payment_id: str) -> Decimal:
        return sum(
            (
                Decimal(t["amount"]["amount"])
                for r in self.refunds[order_id]
                for t in r["transactions"]
                if t["paymentId"] == payment_id and t["refundStatus"] != "FAILED"
            ),
            Decimal(0),
        )

    def _refundability(self, order_id: str, payment: dict[str, Any]) -> tuple[str, str | None]:
        """Wix's state for one payment and its reason (Wix's enums, rev 3 of the contract)."""
        order = self.orders[order_id]
        if self._created(order) < self.cutoff:
            return "nonRefundable", "FORBIDDEN"
        if order["status"] == "PENDING":
            return "nonRefundable", "ORDER_IS_PENDING"
        if order["status"] == "REJECTED":
            return "nonRefundable", "ORDER_IS_REJECTED"
        if order["paymentStatus"] in ("NOT_PAID", "PENDING") or order["status"] == "INITIALIZED":
            return "nonRefundable", "NOT_PAID"
        if payment["status"] not in ("APPROVED", "PARTIALLY_REFUNDED", "REFUNDED"):
            return "nonRefundable", "NOT_PAID"
        if payment["refundDisabled"]:
            return "nonRefundable", "DISABLED_BY_PROVIDER"
        if self._max_refund(order_id, payment) <= 0:
            return "nonRefundable", "ALREADY_REFUNDED"
        if "regularPaymentDetails" in payment and payment["regularPaymentDetails"]["offlinePayment"]:
            return "manuallyRefundable", "OFFLINE"
        if payment["id"] in self.manual_payments:
            return "manuallyRefundable", "NOT_SUPPORTED"
        return "refundable", None

    def _max_refund(self, order_id: str, payment: dict[str, Any]) -> Decimal:
        if payment["status"] not in ("APPROVED", "PARTIALLY_REFUNDED", "REFUNDED"):
            return Decimal(0)
        return max(Decimal(payment["amount"]["amount"]) - self._refunded_for(order_id, payment["id"]), Decimal(0))

    def _transactions(self, order_id: str, *, hide: str | None = None) -> dict[str, Any]:
        refunds = []
        listed_before = time.monotonic() - self._listing_lag
        for refund in self.refunds[order_id]:
            if refund["id"] == hide or self._hidden.get(refund["id"], 0) > 0:
                continue
            if self._listing_lag and self._committed.get(refund["id"], listed_before) > listed_before:
                continue
            refunds.append(self._refund_view(refund))
        return {"orderId": order_id, "payments": self.payments[order_id], "refunds": refunds}

    def _refund_view(self, refund: dict[str, Any]) -> dict[str, Any]:
        """One refund as Wix answers it (``Refund`` in the billing types), from what the fake keeps.

        Its ``summary`` follows the transactions' statuses now; a FAILED transaction carries
        ``refundStatusInfo``; the items are at ``details.items`` (and/or the older
        ``details.lineItems``, by ``refund_items_shape``); what ``leave_out`` and
        ``list_reasons`` ask to leave out is left out.
        """
        transactions = []
        for t in refund["transactions"]:
            shown = dict(t)
            if t["refundStatus"] == "FAILED":
                shown.setdefault("refundStatusInfo", dict(self.decline_info))
            if "refundStatus" in self.leave_out:
                del shown["refundStatus"]
            transactions.append(shown)
        details = {k: v for k, v in refund["details"].items() if k != "items"}
        items = refund["details"].get("items")
        if items:
            if self.refund_items_shape in ("sdk", "both"):
                details["items"] = items
            if self.refund_items_shape in ("legacy", "both"):
                details["lineItems"] = items
        if not self.list_reasons:
            details.pop("reason", None)
        return {**refund, "transactions": transactions, "details": details, "summary": self._refund_summary(refund)}

    def _refund_summary(self, refund: dict[str, Any]) -> dict[str, Any]:
        def total(statuses: tuple[str, ...] | None) -> Decimal:
            return sum(
                (
                    Decimal(t["amount"]["amount"])
                    for t in refund["transactions"]
                    if statuses is None or t["refundStatus"] in statuses
                ),
                Decimal(0),
            )

        in_flight = any(t["refundStatus"] in _IN_FLIGHT for t in refund["transactions"])
        summary: dict[str, Any] = {
            "requestedRefund": _money(total(None)),
            "pendingRefund": _money(total(_IN_FLIGHT)),
            "refunded": _money(total(("SUCCEEDED",))),
            "failedRefundAmount": _money(total(("FAILED",))),
            "pending": in_flight,
        }
        lines = self._line_amounts.get(refund["id"])
        if lines and not in_flight:  # "available only after refund is complete"
            summary["breakdown"] = {
                "lineItems": [{"lineItemId": lid, "totalRefundedAmount": _money(amount)} for lid, amount in lines]
            }
        return summary

    def _fulfillments_view(self, order_id: str) -> list[dict[str, Any]]:
        """An order's fulfilments as Wix lists them; ``leave_out`` may null each line's quantity."""
        if "fulfillmentQuantity" not in self.leave_out:
            return self.fulfillments[order_id]
        return [
            {**f, "lineItems": [{**line, "quantity": None} for line in f["lineItems"]]}
            for f in self.fulfillments[order_id]
        ]

    def _read_transactions(self, order_id: str) -> dict[str, Any]:
        """One List Transactions answer: pending declines fail now, lagging refunds stay hidden."""
        for refund in self.refunds[order_id]:
            if refund["id"] in self._fail_later:
                self._fail_later.discard(refund["id"])
                for t in refund["transactions"]:
                    t["refundStatus"] = "FAILED"
            for t in refund["transactions"]:
                if (refund["id"], t["paymentId"]) in self._fail_later_parts:
                    self._fail_later_parts.discard((refund["id"], t["paymentId"]))
                    t["refundStatus"] = "FAILED"
        self._recompute_payment(order_id)
        answer = self._transactions(order_id)
        # Only this order's lagging refunds come one listing closer to showing.
        for refund in self.refunds[order_id]:
            if refund["id"] in self._hidden:
                self._hidden[refund["id"]] -= 1
                if self._hidden[refund["id"]] <= 0:
                    del self._hidden[refund["id"]]
        return answer

    def _record_refund(
        self, order_id: str, parts: list[tuple[str, Decimal, bool]], reason: str | None, status: str = "SUCCEEDED"
    ) -> dict[str, Any]:
        refund: dict[str, Any] = {
            "id": self._new_id(),
            "createdDate": datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "transactions": [
                {
                    "paymentId": pid,
                    "amount": _money(amount),
                    "refundStatus": _DECLINED.get(self.declined_payments.get(pid, ""), status),
                    "externalRefund": external,
                }
                for pid, amount, external in parts
            ],
            "details": {"reason": reason} if reason else {},
        }
        self.refunds[order_id].append(refund)
        self._committed[refund["id"]] = time.monotonic()
        self._fail_later_parts.update(
            (refund["id"], pid) for pid, _, _ in parts if self.declined_payments.get(pid) == "later"
        )
        return refund


@attrs.define
class _Fault:
    method: str
    path: str
    kind: str
    remaining: int | None
    status: int = 503
    retry_after: str | None = None
    html: bool = False
    delay: float = 0.0
    amount: Decimal | None = None
    reads: int = 0

    def matches(self, method: str, path: str) -> bool:
        return (self.method in ("*", method)) and fnmatch.fnmatchcase(path, self.path)
