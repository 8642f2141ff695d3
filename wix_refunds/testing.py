"""FakeWix: a stateful, strict fake of the Wix endpoints wix_refunds uses.

Use it in your own tests::

    from wix_refunds.testing import FakeWix

    fake = FakeWix()
    order_id = fake.add_order(created="2024-03-01T10:00:00Z", fulfillments=2)
    with httpx.Client(transport=fake.transport()) as http:
        client = WixClient(fake.credentials, base_url=FakeWix.BASE_URL, http_client=http)
        refund_order(client, order_id)

The fake is a model of Wix, not of this library: it writes and reads Wix's JSON
itself and shares no wire-format code with the client, so that one mistake
cannot hide in both. Like Wix it has no idempotency: the same partial refund
sent twice refunds twice.

Choices the Wix docs leave open (``docs/wix-api.md``, the contract) are made here as the
library makes them; in particular a request that sends both ``wix-site-id`` and
``wix-account-id`` is answered 400 (undocumented on Wix).
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import http.server
import json
import random
import re
import socket
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

import attrs
import httpx

from ._credentials import WixCredentials
from ._routing import STANDARD_REFUND_CUTOFF

__all__ = ["ALL_SCOPES", "FakeWix", "LoggedRequest"]

ALL_SCOPES = frozenset({"orders.read", "orders.manage", "sites.read", "business-info.read", "currencies.manage"})
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_G = r"([^/]+)"

# (method, path pattern, handler name, scope, site-level?)
_ROUTES: tuple[tuple[str, re.Pattern[str], str, str, bool], ...] = tuple(
    (method, re.compile(f"^{pattern}$"), handler, scope, site_level)
    for method, pattern, handler, scope, site_level in (
        ("GET", f"/ecom/v1/orders/{_G}", "get_order", "orders.read", True),
        ("POST", "/ecom/v1/orders/search", "search_orders", "orders.read", True),
        ("POST", f"/ecom/v1/orders/{_G}/cancel", "cancel_order", "orders.manage", True),
        ("GET", f"/ecom/v1/fulfillments/orders/{_G}", "list_fulfillments", "orders.read", True),
        ("POST", "/ecom/v1/fulfillments/list-by-ids", "list_fulfillments_by_ids", "orders.read", True),
        ("DELETE", f"/ecom/v1/fulfillments/{_G}/orders/{_G}", "delete_fulfillment", "orders.manage", True),
        ("GET", f"/ecom/v1/payments/orders/{_G}", "list_transactions", "orders.read", True),
        ("POST", "/ecom/v1/payments/list-by-ids", "list_transactions_by_ids", "orders.read", True),
        ("POST", "/ecom/v1/order-billing/get-order-refundability", "get_refundability", "orders.manage", True),
        ("POST", "/ecom/v1/order-billing/refund-payments", "refund_payments", "orders.manage", True),
        ("POST", "/ecom/v1/order-billing/calculate-refund", "calculate_refund", "orders.manage", True),
        ("GET", "/site-properties/v4/properties", "site_properties", "business-info.read", True),
        ("POST", "/site-list/v2/sites/query", "query_sites", "sites.read", False),
        ("GET", "/currency_converter/v1/currencies", "list_currencies", "currencies.manage", True),
    )
)


@attrs.frozen(kw_only=True)
class LoggedRequest:
    """One request the fake received; the API key is masked."""

    method: str
    path: str
    headers: dict[str, str]
    json: Any
    status: int | None
    outcome: str = "answered"


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


@attrs.define
class _Answer:
    status: int
    body: bytes = b""
    headers: dict[str, str] = attrs.Factory(dict)
    lose: bool = False
    refuse: bool = False
    hold: float = 0.0


class _Error(Exception):
    def __init__(self, status: int, body: dict[str, Any]) -> None:
        self.status = status
        self.body = body


def _app_error(status: int, code: str, message: str) -> _Error:
    return _Error(
        status,
        {"message": message, "details": {"applicationError": {"code": code, "description": message, "data": {}}}},
    )


def _invalid(field: str, description: str) -> _Error:
    return _Error(
        400,
        {
            "message": f"{field}: {description}",
            "details": {
                "validationError": {
                    "fieldViolations": [
                        {"field": field, "description": description, "violatedRule": "FORMAT", "ruleName": "INVALID"}
                    ]
                }
            },
        },
    )


def _order_of(path: str, body: Any) -> str | None:
    """The order a request is about: ``orderId`` in its body, or the GUID after ``/orders/``."""
    if isinstance(body, dict) and isinstance(body.get("orderId"), str):
        return str(body["orderId"])
    match = re.search(r"/orders/([^/]+)", path)
    return match.group(1) if match else None


def _money(amount: Decimal) -> dict[str, str]:
    """A Price object with the kind of unnormalised amount text Wix sends ("35.0", "0", "2.5")."""
    text = format(amount.normalize(), "f")
    if "." not in text and amount != 0:
        text += ".0"
    return {"amount": text, "formattedAmount": f"${amount:.2f}"}


# What FakeWix(list_calls=False) refuses: the filter on id and the two list-by-ids calls.
_LIST_CALLS = ("search_by_id", "transactions", "fulfillments")
# Search Orders leaves these out unless its filter asks for a status (INITIALIZED always).
_SEARCH_HIDES = ("PENDING", "REJECTED")
# The fields and operators the fake's Search Orders filter understands; anything else is a 400.
_FILTER_FIELDS = ("id", "status", "paymentStatus", "fulfillmentStatus", "archived")
_FILTER_OPERATORS = ("$eq", "$ne", "$in", "$nin")

# The fake's own short list of currencies whose minor unit is not 2 (ISO 4217).
_CURRENCY_DIGITS = {"JPY": 0, "KRW": 0, "CLP": 0, "ISK": 0, "VND": 0, "KWD": 3, "BHD": 3, "JOD": 3, "OMR": 3, "TND": 3}


def _matches(order: dict[str, Any], where: dict[str, Any]) -> bool:
    """Return whether ``order`` meets every condition of a Search Orders filter (checked already)."""
    for field, condition in where.items():
        value = order.get(field)
        operator, operand = next(iter(condition.items())) if isinstance(condition, dict) else ("$eq", condition)
        if operator in ("$in", "$nin"):
            inside = isinstance(operand, list) and value in operand
            if inside != (operator == "$in"):
                return False
        elif (value == operand) != (operator == "$eq"):
            return False
    return True


def _dec(value: Decimal | int | str) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


class FakeWix:
    """A stateful fake of Wix's orders, fulfilments, billing and credential endpoints.

    Args:
        api_key, account_id, site_id: the credentials it accepts (generated when omitted).
        cutoff: orders created before it are old: not refundable through Wix billing.
        seed: seeds the generated IDs, so that a test sees the same IDs every run.
        sticky_fulfilled: keep ``fulfillmentStatus`` FULFILLED after fulfilments are
            deleted (a quirk reported on Wix's forum).
        over_refund_status: 400 or 428, the status for a refund above what is left.
        cancel_error_code: the ``applicationError.code`` of a refused cancel.
        refundability_shape: ``"sdk"`` (Wix's shape, the default: the payment under
            ``payment`` with ``monetary.maxRefund``, ``refundable: true``), or the older
            forms the library tolerates: ``"legacy"`` (``paymentId`` at the top, states as
            objects) and ``"status"`` (``refundabilityStatus``).
        list_reasons: False lists refunds without ``details.reason`` (so tags cannot be read).
        legacy_payment_status: also write the deprecated ``regularPaymentDetails.status``.
        list_calls: False refuses every call that reads many orders at once, as a Wix that
            does not offer them would: Search Orders with a filter on ``id`` answers 400, both
            ``list-by-ids`` calls answer 404. ``refused_lists`` (a set of ``"search_by_id"``,
            ``"transactions"``, ``"fulfillments"``) refuses them one by one.
    """

    BASE_URL = "http://127.0.0.1:9"
    """A base URL for ``transport()`` clients; no socket is ever opened to it."""

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
        cancel_error_code: str = "ORDER_CANNOT_BE_CANCELED",
        refundability_shape: str = "sdk",
        list_reasons: bool = True,
        legacy_payment_status: bool = False,
        list_calls: bool = True,
    ) -> None:
        if refundability_shape not in ("sdk", "legacy", "status"):
            raise ValueError(f"refundability_shape={refundability_shape!r}: use 'sdk', 'legacy' or 'status'")
        self._random = random.Random(seed)
        self.api_key = api_key or "IST.fake-" + uuid.UUID(int=self._random.getrandbits(128)).hex
        self.account_id = account_id or self._new_id()
        self.site_id = site_id or self._new_id()
        self.cutoff = cutoff
        self.sticky_fulfilled = sticky_fulfilled
        self.over_refund_status = over_refund_status
        self.cancel_error_code = cancel_error_code
        self.refundability_shape = refundability_shape
        self.list_reasons = list_reasons
        self.legacy_payment_status = legacy_payment_status
        self.refused_lists: set[str] = set() if list_calls else set(_LIST_CALLS)
        # None: refunds succeed; "now": every new refund FAILED; "later": PENDING, then
        # FAILED when the transactions are next read.
        self.decline: str | None = None
        # The refundStatus of a refund that is not declined: SUCCEEDED, PENDING, SCHEDULED or STARTED.
        self.refund_status = "SUCCEEDED"
        self._hidden: dict[str, int] = {}
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
        self._faults: list[_Fault] = []
        self._rate: tuple[int, float, bool] | None = None
        self._recent: list[float] = []
        self._lock = threading.RLock()
        self._number = 10000
        # Search Orders' cursors: the IDs the search matched, and where the next page starts.
        self._cursors: dict[str, tuple[list[str], int]] = {}

    # --- seeding -------------------------------------------------------------------

    @property
    def credentials(self) -> WixCredentials:
        """Return credentials this fake accepts."""
        return WixCredentials(api_key=self.api_key, account_id=self.account_id, site_id=self.site_id)

    def _new_id(self) -> str:
        return str(uuid.UUID(int=self._random.getrandbits(128), version=4))

    def add_key(
        self, api_key: str, *, scopes: Sequence[str] = tuple(ALL_SCOPES), sites: Sequence[str] | None = None
    ) -> None:
        """Accept another key, with only ``scopes`` and (if given) only ``sites``."""
        self.keys[api_key] = (frozenset(scopes), None if sites is None else frozenset(sites))

    def add_order(
        self,
        *,
        created: datetime | str = "2024-06-01T12:00:00.000Z",
        total: Decimal | int | str = "35.00",
        currency: str = "USD",
        fulfillments: int = 0,
        payments: str | Sequence[tuple[Decimal | int | str, str] | tuple[Decimal | int | str, str, str]] = "online",
        status: str = "APPROVED",
        payment_status: str | None = None,
        fulfillment_status: str | None = None,
        partially_fulfilled: bool = False,
        refunded: Decimal | int | str | None = None,
        line_items: int | Sequence[int] | None = None,
        shipping: Decimal | int | str | None = None,
        fees: Sequence[Decimal | int | str] = (),
        archived: bool = False,
        channel: str = "WEB",
        order_id: str | None = None,
    ) -> str:
        """Add an order and return its ID.

        Args:
            created: ``createdDate``, a datetime or ISO text (written out as Wix writes it).
            fulfillments: how many fulfilment records; each covers its own line item, so
                more than zero makes the order FULFILLED (PARTIALLY_FULFILLED with
                ``partially_fulfilled``, which adds one line item no fulfilment covers).
            payments: ``"online"``, ``"offline"``, ``"refund_disabled"``, ``"gift_card"``,
                ``"membership"``, ``"manual"`` (a provider Wix cannot refund through),
                ``"none"``, or a list of ``(amount, kind)`` or ``(amount, kind, status)``
                tuples with those kinds; ``status`` is the payment's own (``APPROVED``
                by default; ``DECLINED``, ``AUTHORIZED``, ``VOIDED``... hold nothing).
            refunded: an amount already refunded from the first payment.
            line_items: how many lines of one unit each, or each line's quantity; the
                total less shipping and fees is priced evenly across the units.
            shipping, fees: a shipping amount and additional fees, part of ``total``.
            payment_status, fulfillment_status: override what is derived.
        """
        with self._lock:
            oid = order_id or self._new_id()
            total_d = _dec(total)
            if isinstance(created, datetime):
                if created.tzinfo is None or created.utcoffset() is None:
                    raise ValueError(f"created={created!r} is naive: give an aware datetime (Wix's times are UTC)")
                created_text = (
                    created.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
                )
            else:
                created_text = created
            if line_items is None:
                line_items = max(1, fulfillments) + (1 if partially_fulfilled else 0)
            quantities = [1] * line_items if isinstance(line_items, int) else list(line_items)
            shipping_d = Decimal(0) if shipping is None else _dec(shipping)
            fees_d = [_dec(fee) for fee in fees]
            goods = total_d - shipping_d - sum(fees_d, Decimal(0))
            unit = (goods / sum(quantities)).quantize(Decimal("0.01")) if sum(quantities) else goods
            items = [
                {
                    "id": f"00000000-0000-0000-0000-{i + 1:012d}",
                    "quantity": quantity,
                    "refundQuantity": 0,
                    "restockQuantity": 0,
                    "productName": {"original": f"Item {i + 1}", "translated": f"Item {i + 1}"},
                    "price": _money(unit),
                    "itemType": {"preset": "PHYSICAL"},
                    "paymentOption": "FULL_PAYMENT_ONLINE",
                }
                for i, quantity in enumerate(quantities)
            ]
            self._number += 1
            self.fulfillments[oid] = [
                {
                    "id": self._new_id(),
                    "createdDate": created_text,
                    "lineItems": [{"id": items[i % len(items)]["id"], "quantity": 1}],
                    "trackingInfo": {"trackingNumber": f"TRACK{i}", "shippingProvider": "ups"},
                    "completed": True,
                }
                for i in range(fulfillments)
            ]
            if isinstance(payments, str):
                plan: list[tuple[Decimal, str, str]] = [] if payments == "none" else [(total_d, payments, "APPROVED")]
            else:
                plan = [(_dec(p[0]), p[1], p[2] if len(p) > 2 else "APPROVED") for p in payments]
            self.payments[oid] = [self._payment(amount, kind, created_text, st) for amount, kind, st in plan]
            self.refunds[oid] = []
            self.orders[oid] = {
                "id": oid,
                "number": str(self._number),
                "createdDate": created_text,
                "updatedDate": created_text,
                "status": status,
                "paymentStatus": "NOT_PAID",
                "fulfillmentStatus": "NOT_FULFILLED",
                "currency": currency,
                "archived": archived,
                "channelInfo": {"type": channel},
                "taxIncludedInPrices": False,
                "priceSummary": {
                    "subtotal": _money(goods),
                    "shipping": _money(shipping_d),
                    "tax": _money(Decimal(0)),
                    "discount": _money(Decimal(0)),
                    "total": _money(total_d),
                    "totalPrice": _money(total_d),
                },
                "balanceSummary": {"balance": _money(Decimal(0)), "refunded": _money(Decimal(0))},
                "lineItems": items,
                "additionalFees": [
                    {"id": self._new_id(), "name": f"Fee {i + 1}", "price": _money(fee), "priceAfterTax": _money(fee)}
                    for i, fee in enumerate(fees_d)
                ],
                "activities": [{"createdDate": created_text, "type": "ORDER_PLACED"}],
            }
            self.item_refunds[oid] = {"shipping": Decimal(0), "fees": {}}
            self._recompute_fulfillment(oid)
            if refunded is not None and self.payments[oid]:
                self._record_refund(
                    oid, [(self.payments[oid][0]["id"], _dec(refunded), False)], "refunded before the test"
                )
            self._recompute_payment(oid)
            if payment_status is not None:
                self.orders[oid]["paymentStatus"] = payment_status
            if fulfillment_status is not None:
                self.orders[oid]["fulfillmentStatus"] = fulfillment_status
            return oid

    def _payment(self, amount: Decimal, kind: str, created: str, status: str = "APPROVED") -> dict[str, Any]:
        kinds = {"online", "offline", "refund_disabled", "gift_card", "membership", "manual"}
        if kind not in kinds:
            raise ValueError(f"payment kind {kind!r} is not one of {sorted(kinds)}")
        # Wix's Payment: the payment's own status is top-level (regularPaymentDetails.status
        # is deprecated); gift cards and memberships are stored value.
        payment: dict[str, Any] = {
            "id": self._new_id(),
            "createdDate": created,
            "updatedDate": created,
            "amount": _money(amount),
            "refundDisabled": kind == "refund_disabled",
            "status": status,
        }
        if kind == "gift_card":
            payment["giftcardPaymentDetails"] = {
                "giftCardPaymentId": self._new_id(),
                "giftCardId": self._new_id(),
                "appId": self._new_id(),
                "voided": status == "VOIDED",
            }
        elif kind == "membership":
            payment["membershipPaymentDetails"] = {
                "membershipId": self._new_id(),
                "lineItemId": "00000000-0000-0000-0000-000000000001",
                "status": "CHARGED",
                "name": {"original": "Gold plan"},
            }
        else:
            payment["regularPaymentDetails"] = {
                "offlinePayment": kind == "offline",
                "paymentMethod": {"manual": "Square", "offline": "Cash"}.get(kind, "Stripe"),
                "gatewayTransactionId": self._new_id(),
            }
            if self.legacy_payment_status:
                payment["regularPaymentDetails"]["status"] = status
        if kind == "manual":
            self.manual_payments.add(payment["id"])
        return payment

    # --- inspecting ----------------------------------------------------------------

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

    # --- faults --------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        path: str,
        status: int = 503,
        *,
        times: int = 1,
        retry_after: float | str | None = None,
        html: bool = False,
    ) -> None:
        """Answer the next ``times`` requests matching ``method`` and glob ``path`` with ``status``, unapplied."""
        with self._lock:
            after = None if retry_after is None else str(retry_after)
            self._faults.append(_Fault(method, path, "fail", times, status, after, html))

    def lose_response_next(self, method: str, path: str, *, times: int = 1) -> None:
        """Apply the next matching requests, then lose the answer (the client sees a network error)."""
        with self._lock:
            self._faults.append(_Fault(method, path, "lose", times))

    def refuse_connections(self, *, times: int | None = 1, method: str = "*", path: str = "*") -> None:
        """Refuse the next ``times`` connections (``None``: until ``clear_faults``).

        In-process (``transport()``) this is ``httpx.ConnectError``; over ``serve()``
        the connection is closed before the request is read.
        """
        with self._lock:
            self._faults.append(_Fault(method, path, "refuse", times))

    def apply_late_next(self, method: str, path: str, *, after: float, times: int = 1) -> None:
        """Take the next matching writes, lose their answer, and apply them ``after`` seconds later.

        The client gives up (a timeout) while Wix still works on the request and
        commits it later: a re-read right after shows nothing yet.
        """
        with self._lock:
            self._faults.append(_Fault(method, path, "late", times, delay=after))

    def hide_new_refund_next(self, *, reads: int = 1) -> None:
        """Apply the next refund, but leave it out of its answer's transactions and of the next ``reads`` listings."""
        with self._lock:
            self._faults.append(_Fault("POST", "/ecom/v1/order-billing/refund-payments", "hide", 1, reads=reads))

    def foreign_refund_next(self, method: str, path: str, amount: Decimal | int | str) -> None:
        """Just before the next matching request, someone else refunds ``amount`` from the order's first payment."""
        with self._lock:
            self._faults.append(_Fault(method, path, "foreign", 1, amount=_dec(amount)))

    def add_foreign_refund(self, order_id: str, amount: Decimal | int | str, reason: str | None = None) -> None:
        """Refund ``amount`` from the order's first payment as someone else would (the dashboard, another tool)."""
        with self._lock:
            self._record_refund(order_id, [(self.payments[order_id][0]["id"], _dec(amount), False)], reason)
            self._recompute_payment(order_id)

    def finish_refunds(self, order_id: str, status: str = "SUCCEEDED") -> None:
        """Settle every refund part of an order that Wix still holds in flight as ``status`` (SUCCEEDED or FAILED)."""
        with self._lock:
            for refund in self.refunds[order_id]:
                for t in refund["transactions"]:
                    if t["refundStatus"] in ("PENDING", "SCHEDULED", "STARTED"):
                        t["refundStatus"] = status
            self._recompute_payment(order_id)

    def settle(self) -> None:
        """Wait for every late write to be applied."""
        for timer in list(self._timers):
            timer.join()

    def clear_faults(self) -> None:
        """Remove every scripted fault."""
        with self._lock:
            self._faults.clear()

    def set_rate_limit(self, requests: int | None, per: float = 60.0, *, retry_after: bool = True) -> None:
        """Answer 429 past ``requests`` per ``per`` seconds (``None`` turns it off)."""
        with self._lock:
            self._rate = None if requests is None else (requests, per, retry_after)
            self._recent.clear()

    # --- handling ------------------------------------------------------------------

    def handle(self, method: str, path: str, headers: dict[str, str], body: bytes) -> _Answer:
        """Return the answer to one request (applying it, faults and all)."""
        headers = {k.lower(): v for k, v in headers.items()}
        with self._lock:
            foreign = self._take_fault(method, path, foreign=True)
            fault = self._take_fault(method, path)
            parsed: Any = None
            if body:
                try:
                    parsed = json.loads(body)
                except ValueError:
                    parsed = body.decode("utf-8", "replace")
            masked = {k: ("***" if k == "authorization" else v) for k, v in headers.items()}
            if fault is not None and fault.kind == "refuse":
                self.requests.append(
                    LoggedRequest(method=method, path=path, headers=masked, json=parsed, status=None, outcome="refused")
                )
                return _Answer(0, refuse=True)
            if foreign is not None:
                order_id = _order_of(path, parsed)
                if order_id in self.orders and self.payments[order_id] and foreign.amount is not None:
                    self._record_refund(order_id, [(self.payments[order_id][0]["id"], foreign.amount, False)], None)
                    self._recompute_payment(order_id)
            if fault is not None and fault.kind == "late":
                timer = threading.Timer(fault.delay, self._apply_late, args=(method, path, headers, body))
                timer.daemon = True
                self._timers.append(timer)
                timer.start()
                self.requests.append(
                    LoggedRequest(method=method, path=path, headers=masked, json=parsed, status=None, outcome="late")
                )
                return _Answer(0, lose=True, hold=fault.delay)
            answer = self._answer(method, path, headers, body, fault)
            outcome = "lost" if answer.lose else "answered"
            self.requests.append(
                LoggedRequest(
                    method=method, path=path, headers=masked, json=parsed, status=answer.status, outcome=outcome
                )
            )
            return answer

    def _apply_late(self, method: str, path: str, headers: dict[str, str], body: bytes) -> None:
        with self._lock, contextlib.suppress(_Error):
            self._dispatch(method, path, headers, body)

    def _take_fault(self, method: str, path: str, *, foreign: bool = False) -> _Fault | None:
        # Someone else's refund lands beside whatever else happens to the request.
        for fault in self._faults:
            if fault.matches(method, path) and (fault.kind == "foreign") == foreign:
                if fault.remaining is not None:
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                return fault
        return None

    def _answer(self, method: str, path: str, headers: dict[str, str], body: bytes, fault: _Fault | None) -> _Answer:
        if fault is not None and fault.kind == "fail":
            return self._fault_answer(fault)
        if self._rate is not None:
            limit, per, send_after = self._rate
            now = time.monotonic()
            self._recent = [t for t in self._recent if now - t < per]
            if len(self._recent) >= limit:
                wait = per - (now - self._recent[0])
                extra = {"Retry-After": f"{max(wait, 0.001):.3f}"} if send_after else {}
                return self._error_answer(_app_error(429, "RESOURCE_EXHAUSTED", "Too many requests"), extra)
            self._recent.append(now)
        try:
            self._hide_next = fault.reads if fault is not None and fault.kind == "hide" else None
            status, data = self._dispatch(method, path, headers, body)
        except _Error as exc:
            return self._error_answer(exc)
        finally:
            self._hide_next = None
        answer = _Answer(
            status,
            json.dumps(data).encode(),
            {"Content-Type": "application/json", "x-wix-request-id": self._new_id()},
        )
        answer.lose = fault is not None and fault.kind == "lose"
        return answer

    def _fault_answer(self, fault: _Fault) -> _Answer:
        headers = {"x-wix-request-id": self._new_id()}
        if fault.retry_after is not None:
            headers["Retry-After"] = fault.retry_after
        if fault.html:
            headers["Content-Type"] = "text/html"
            page = f"<html><head><title>{fault.status} Bad Gateway</title></head><body>cloudflare</body></html>"
            return _Answer(fault.status, page.encode(), headers)
        if fault.status >= 500:
            headers["Content-Type"] = "application/json"
            return _Answer(fault.status, b'{"message": "", "details": {}}', headers)
        code = {429: "RESOURCE_EXHAUSTED", 428: "FAILED_PRECONDITION", 404: "NOT_FOUND"}.get(fault.status, "ERROR")
        return self._error_answer(_app_error(fault.status, code, f"scripted {fault.status}"), headers)

    def _error_answer(self, exc: _Error, extra: dict[str, str] | None = None) -> _Answer:
        headers = {"Content-Type": "application/json", "x-wix-request-id": self._new_id(), **(extra or {})}
        return _Answer(exc.status, json.dumps(exc.body).encode(), headers)

    def _dispatch(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, Any]:
        for route_method, pattern, handler, scope, site_level in _ROUTES:
            match = pattern.match(path)
            if match and route_method == method:
                self._authorize(headers, scope, site_level)
                for value in match.groups():
                    if not _GUID.match(value):
                        raise _invalid("id", f"{value!r} is not a valid GUID")
                data: Any = {}
                if method in ("POST", "PATCH"):
                    if headers.get("content-type", "").split(";")[0].strip() != "application/json":
                        raise _invalid("body", "expected Content-Type: application/json")
                    try:
                        data = json.loads(body or b"{}")
                    except ValueError:
                        raise _invalid("body", "is not valid JSON") from None
                    if not isinstance(data, dict):
                        raise _invalid("body", "must be a JSON object")
                result: tuple[int, Any] = getattr(self, "_h_" + handler)(data, *match.groups())
                return result
        if any(p.match(path) for _, p, *_ in _ROUTES):
            raise _app_error(405, "METHOD_NOT_ALLOWED", f"{method} is not allowed on {path}")
        raise _app_error(404, "NOT_FOUND", f"no such endpoint: {path}")

    def _authorize(self, headers: dict[str, str], scope: str, site_level: bool) -> None:
        key = headers.get("authorization")
        if not key or key not in self.keys:
            raise _app_error(401, "UNAUTHENTICATED", "Unauthenticated: the API key is missing or invalid")
        scopes, sites = self.keys[key]
        site_header, account_header = headers.get("wix-site-id"), headers.get("wix-account-id")
        if site_header and account_header:
            raise _invalid("headers", "send wix-site-id or wix-account-id, not both")
        if site_level:
            if not site_header:
                raise _app_error(403, "PERMISSION_DENIED", "wix-site-id header is required")
            if site_header != self.site_id or (sites is not None and site_header not in sites):
                raise _app_error(403, "PERMISSION_DENIED", "the key cannot access this site")
        else:
            if not account_header:
                raise _app_error(403, "PERMISSION_DENIED", "wix-account-id header is required")
            if account_header != self.account_id:
                raise _app_error(403, "PERMISSION_DENIED", "the key does not belong to this account")
        if scope not in scopes:
            raise _app_error(403, "PERMISSION_DENIED", f"the key lacks the {scope} permission")

    # --- state rules -----------------------------------------------------------------

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

    def _refundability_entry(self, order_id: str, payment: dict[str, Any]) -> dict[str, Any]:
        kind, reason = self._refundability(order_id, payment)
        if self.refundability_shape == "legacy":
            return {"paymentId": payment["id"], kind: {} if reason is None else {"reason": reason}}
        if self.refundability_shape == "status":
            status = {"refundable": "REFUNDABLE", "manuallyRefundable": "MANUAL", "nonRefundable": "NOT_REFUNDABLE"}
            entry = {"paymentId": payment["id"], "refundabilityStatus": status[kind]}
            if kind == "manuallyRefundable":
                entry["manuallyRefundableReason"] = reason
            return entry
        paid = Decimal(payment["amount"]["amount"])
        refunded = sum(
            (
                Decimal(t["amount"]["amount"])
                for r in self.refunds[order_id]
                for t in r["transactions"]
                if t["paymentId"] == payment["id"] and t["refundStatus"] == "SUCCEEDED"
            ),
            Decimal(0),
        )
        pending = self._refunded_for(order_id, payment["id"]) - refunded
        regular = payment.get("regularPaymentDetails") or {}
        info: dict[str, Any] = {
            "paymentId": payment["id"],
            "paymentMethod": regular.get("paymentMethod", "GiftCard" if "giftcardPaymentDetails" in payment else ""),
            "offlinePayment": bool(regular.get("offlinePayment", False)),
        }
        member = payment.get("membershipPaymentDetails")
        if member is not None:
            # PaymentInfo holds one summary: a membership's is its line items, not money.
            left = self._max_refund(order_id, payment) > 0
            info["membership"] = {
                "paidLineItemIds": [member["lineItemId"]],
                "refundedLineItemIds": [] if left else [member["lineItemId"]],
                "refundableLineItemIds": [member["lineItemId"]] if left else [],
            }
        else:
            info["monetary"] = {
                "paid": _money(paid),
                "refunded": _money(refunded),
                "refundPending": _money(pending),
                "maxRefund": _money(self._max_refund(order_id, payment)),
            }
        state: Any = True if kind == "refundable" else {"reason": reason}
        return {kind: state, "payment": info}

    def _transactions(self, order_id: str, *, hide: str | None = None) -> dict[str, Any]:
        refunds = []
        for refund in self.refunds[order_id]:
            if refund["id"] == hide or self._hidden.get(refund["id"], 0) > 0:
                continue
            if not self.list_reasons:
                refund = {**refund, "details": {k: v for k, v in refund["details"].items() if k != "reason"}}
            refunds.append(refund)
        return {"orderId": order_id, "payments": self.payments[order_id], "refunds": refunds}

    def _read_transactions(self, order_id: str) -> dict[str, Any]:
        """One List Transactions answer: pending declines fail now, lagging refunds stay hidden."""
        for refund in self.refunds[order_id]:
            if refund["id"] in self._fail_later:
                self._fail_later.discard(refund["id"])
                for t in refund["transactions"]:
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
                {"paymentId": pid, "amount": _money(amount), "refundStatus": status, "externalRefund": external}
                for pid, amount, external in parts
            ],
            "details": {"reason": reason} if reason else {},
        }
        self.refunds[order_id].append(refund)
        return refund

    # --- endpoints -------------------------------------------------------------------

    def _h_get_order(self, _: Any, order_id: str) -> tuple[int, Any]:
        return 200, {"order": self._order(order_id)}

    def _h_search_orders(self, data: dict[str, Any]) -> tuple[int, Any]:
        search = data.get("search")
        if not isinstance(search, dict):
            raise _invalid("search", "is required")
        paging = search.get("cursorPaging") or {}
        limit = paging.get("limit", 100)
        if not isinstance(limit, int) or not 0 <= limit <= 100:
            raise _invalid("search.cursorPaging.limit", "must be 0 to 100")
        cursor = paging.get("cursor")
        if cursor is not None:
            # The cursor carries the filter and sort of the first page, as on Wix.
            if set(search) - {"cursorPaging"}:
                raise _invalid("search", "a page after the first sends only cursorPaging")
            if cursor not in self._cursors:
                raise _invalid("search.cursorPaging.cursor", "is not a cursor this search gave")
            matched, start = self._cursors[cursor]
        else:
            matched, start = self._search(search.get("filter") or {}), 0
        page = [self.orders[i] for i in matched[start : start + limit] if i in self.orders]
        following = None
        if start + limit < len(matched):
            following = uuid.UUID(int=self._random.getrandbits(128)).hex
            self._cursors[following] = (matched, start + limit)
            if len(self._cursors) > 1000:  # the oldest cursors expire, as Wix's do
                del self._cursors[next(iter(self._cursors))]
        return 200, {
            "orders": page,
            "metadata": {"count": len(page), "cursors": {"next": following}, "hasNext": following is not None},
        }

    def _search(self, where: Any) -> list[str]:
        """Return the IDs of the orders ``where`` matches, newest first, as Search Orders lists them."""
        if not isinstance(where, dict):
            raise _invalid("search.filter", "must be an object")
        for field, condition in where.items():
            if field not in _FILTER_FIELDS:
                raise _invalid(f"search.filter.{field}", "cannot be filtered on")
            if isinstance(condition, dict) and (len(condition) != 1 or next(iter(condition)) not in _FILTER_OPERATORS):
                raise _invalid(f"search.filter.{field}", f"takes one of {', '.join(_FILTER_OPERATORS)}")
        if "id" in where and "search_by_id" in self.refused_lists:
            raise _invalid("search.filter.id", "filtering on id is not supported")
        ids = where.get("id")
        if isinstance(ids, dict) and set(ids) <= {"$in", "$eq"}:
            wanted = ids.get("$in", [ids.get("$eq")])
            if not isinstance(wanted, list) or len(wanted) > 100:
                raise _invalid("search.filter.id.$in", "must be a list of at most 100 IDs")
            candidates = [self.orders[i] for i in dict.fromkeys(wanted) if isinstance(i, str) and i in self.orders]
        else:
            candidates = list(self.orders.values())
        hidden = ("INITIALIZED",) if "status" in where else ("INITIALIZED", *_SEARCH_HIDES)
        found = [o for o in candidates if o["status"] not in hidden and _matches(o, where)]
        found.sort(key=self._created, reverse=True)
        return [o["id"] for o in found]

    def _h_cancel_order(self, data: dict[str, Any], order_id: str) -> tuple[int, Any]:
        order = self._order(order_id)
        for field in ("sendOrderCanceledEmail", "restockAllItems"):
            if field in data and not isinstance(data[field], bool):
                raise _invalid(field, "must be a boolean")
        if "customMessage" in data and (
            not isinstance(data["customMessage"], str) or not 1 <= len(data["customMessage"]) <= 1000
        ):
            raise _invalid("customMessage", "must be a string of 1 to 1000 characters")
        if order["status"] == "CANCELED":
            raise _app_error(428, self.cancel_error_code, "Order is already canceled")
        if order["fulfillmentStatus"] in ("FULFILLED", "PARTIALLY_FULFILLED"):
            raise _app_error(428, self.cancel_error_code, "Cannot cancel an order that is fulfilled")
        if order["status"] != "APPROVED":
            raise _app_error(428, self.cancel_error_code, f"Cannot cancel an order in status {order['status']}")
        order["status"] = "CANCELED"
        if data.get("restockAllItems"):
            for item in order["lineItems"]:
                item["restockQuantity"] = item["quantity"]
        order["activities"].append({"type": "ORDER_CANCELED"})
        self.writes.append(("cancel", order_id, order_id))
        return 200, {"order": order}

    def _h_list_fulfillments(self, _: Any, order_id: str) -> tuple[int, Any]:
        self._order(order_id)
        return 200, {"orderWithFulfillments": {"orderId": order_id, "fulfillments": self.fulfillments[order_id]}}

    def _h_list_fulfillments_by_ids(self, data: dict[str, Any]) -> tuple[int, Any]:
        ids = self._list_ids(data, "fulfillments")
        return 200, {
            "ordersWithFulfillments": [
                {"orderId": i, "fulfillments": self.fulfillments.get(i, [])} for i in ids if i in self.orders
            ]
        }

    def _list_ids(self, data: dict[str, Any], which: str) -> list[str]:
        """Return the ``orderIds`` of a list-by-ids call (1 to 100 GUIDs); 404 when that call is refused."""
        if which in self.refused_lists:
            raise _app_error(404, "NOT_FOUND", "no such endpoint")
        ids = data.get("orderIds")
        if not isinstance(ids, list) or not all(isinstance(i, str) and _GUID.match(i) for i in ids):
            raise _invalid("orderIds", "must be a list of GUIDs")
        if not 1 <= len(ids) <= 100:
            raise _invalid("orderIds", "must hold 1 to 100 IDs")
        return ids

    def _h_delete_fulfillment(self, _: Any, fulfillment_id: str, order_id: str) -> tuple[int, Any]:
        self._order(order_id)
        remaining = [f for f in self.fulfillments[order_id] if f["id"] != fulfillment_id]
        if len(remaining) == len(self.fulfillments[order_id]):
            raise _app_error(404, "FULFILLMENT_NOT_FOUND", f"fulfillment {fulfillment_id} not found")
        self.fulfillments[order_id] = remaining
        self._recompute_fulfillment(order_id)
        self.writes.append(("delete_fulfillment", order_id, fulfillment_id))
        return 200, {"orderWithFulfillments": {"orderId": order_id, "fulfillments": remaining}}

    def _h_list_transactions(self, _: Any, order_id: str) -> tuple[int, Any]:
        self._order(order_id)
        return 200, {"orderTransactions": self._read_transactions(order_id)}

    def _h_list_transactions_by_ids(self, data: dict[str, Any]) -> tuple[int, Any]:
        ids = self._list_ids(data, "transactions")
        return 200, {"orderTransactions": [self._read_transactions(i) for i in ids if i in self.orders]}

    def _h_get_refundability(self, data: dict[str, Any]) -> tuple[int, Any]:
        order_id = data.get("orderId")
        if not isinstance(order_id, str) or not _GUID.match(order_id):
            raise _invalid("orderId", "must be a GUID")
        self._order(order_id)
        answer: dict[str, Any] = {
            "payments": [self._refundability_entry(order_id, p) for p in self.payments[order_id]],
            "lineItems": [
                {
                    "lineItemId": line["id"],
                    "originalQuantity": line["quantity"],
                    "refundedQuantity": line["refundQuantity"],
                    "availableRefundQuantity": line["quantity"] - line["refundQuantity"],
                }
                for line in self._order(order_id)["lineItems"]
            ],
            "additionalFees": [
                {
                    "additionalFeeId": fee["id"],
                    "amount": fee["price"],
                    "refundedAmount": _money(self._fee_refunded(order_id, fee["id"])),
                    "availableRefundAmount": _money(self._fee_left(order_id, fee["id"])),
                }
                for fee in self._order(order_id)["additionalFees"]
            ],
        }
        shipping = Decimal(self._order(order_id)["priceSummary"]["shipping"]["amount"])
        if shipping > 0:  # only when the order has shipping
            refunded = self.item_refunds[order_id]["shipping"]
            answer["shipping"] = {
                "amount": _money(shipping),
                "refundedAmount": _money(refunded),
                "availableRefundAmount": _money(shipping - refunded),
            }
        return 200, answer

    def _fee_refunded(self, order_id: str, fee_id: str) -> Decimal:
        refunded: Decimal = self.item_refunds[order_id]["fees"].get(fee_id, Decimal(0))
        return refunded

    def _fee_left(self, order_id: str, fee_id: str) -> Decimal:
        fee = next(f for f in self._order(order_id)["additionalFees"] if f["id"] == fee_id)
        return Decimal(fee["price"]["amount"]) - self._fee_refunded(order_id, fee_id)

    def _priced_items(self, order_id: str, body: Any) -> tuple[dict[str, Any], list[tuple[int, str, str]]]:
        """Read ``refundItems`` (400 when malformed) and price it; return the pricing and Wix's objections.

        An objection is (HTTP status, Wix's code, message), in Wix's names for Refund Payments.
        """
        if body is None:
            return {"lines": [], "fees": [], "shipping": None, "total": Decimal(0)}, []
        if not isinstance(body, dict) or set(body) - {"lineItems", "additionalFees", "shipping"}:
            raise _invalid("refundItems", "must be an object with lineItems, additionalFees or shipping")
        order = self._order(order_id)
        lines_by_id = {line["id"]: line for line in order["lineItems"]}
        fees_by_id = {fee["id"]: fee for fee in order["additionalFees"]}
        problems: list[tuple[int, str, str]] = []
        priced: dict[str, Any] = {"lines": [], "fees": [], "shipping": None, "total": Decimal(0)}
        raw_lines = body.get("lineItems", [])
        if not isinstance(raw_lines, list) or len(raw_lines) > 300:
            raise _invalid("refundItems.lineItems", "must be a list of at most 300 entries")
        for index, entry in enumerate(raw_lines):
            where = f"refundItems.lineItems[{index}]"
            if not isinstance(entry, dict) or set(entry) - {"lineItemId", "quantity"}:
                raise _invalid(where, "must be {lineItemId, quantity}")
            quantity = entry.get("quantity")
            if (
                not isinstance(entry.get("lineItemId"), str)
                or not isinstance(quantity, int)
                or not 1 <= quantity <= 100000
            ):
                raise _invalid(where, "lineItemId must be a string and quantity 1 to 100000")
            line = lines_by_id.get(entry["lineItemId"])
            if line is None:
                problems.append((404, "LINE_ITEM_NOT_FOUND", f"line item {entry['lineItemId']} not found"))
                continue
            if quantity > line["quantity"] - line["refundQuantity"]:
                problems.append(
                    (400, "INVALID_LINE_ITEM_REFUND_QUANTITY", f"line item {line['id']}: {quantity} is more than left")
                )
                continue
            amount = Decimal(line["price"]["amount"]) * quantity
            priced["lines"].append((line["id"], quantity, amount))
            priced["total"] += amount
        raw_fees = body.get("additionalFees", [])
        if not isinstance(raw_fees, list) or len(raw_fees) > 100:
            raise _invalid("refundItems.additionalFees", "must be a list of at most 100 entries")
        for index, entry in enumerate(raw_fees):
            where = f"refundItems.additionalFees[{index}]"
            if not isinstance(entry, dict) or set(entry) - {"additionalFeeId", "amount"}:
                raise _invalid(where, "must be {additionalFeeId, amount?}")
            fee = fees_by_id.get(entry.get("additionalFeeId"))
            if fee is None:
                problems.append(
                    (404, "ADDITIONAL_FEE_NOT_FOUND", f"additional fee {entry.get('additionalFeeId')} not found")
                )
                continue
            left = self._fee_left(order_id, fee["id"])
            amount = left if entry.get("amount") is None else Decimal(entry["amount"]["amount"])
            if amount <= 0 or amount > left:
                problems.append((400, "INVALID_ADDITIONAL_FEE_REFUND_AMOUNT", f"fee {fee['id']}: {amount} of {left}"))
                continue
            priced["fees"].append((fee["id"], amount))
            priced["total"] += amount
        if "shipping" in body:
            entry = body["shipping"]
            if not isinstance(entry, dict) or set(entry) - {"amount"}:
                raise _invalid("refundItems.shipping", "must be {amount?}")
            shipping = Decimal(order["priceSummary"]["shipping"]["amount"])
            left = shipping - self.item_refunds[order_id]["shipping"]
            amount = left if entry.get("amount") is None else Decimal(entry["amount"]["amount"])
            if shipping <= 0:
                problems.append((404, "SHIPPING_NOT_FOUND", "this order has no shipping"))
            elif amount <= 0 or amount > left:
                problems.append((400, "INVALID_SHIPPING_REFUND_AMOUNT", f"shipping: {amount} of {left}"))
            else:
                priced["shipping"] = amount
                priced["total"] += amount
        return priced, problems

    def _restock_lines(self, side_effects: Any, priced: dict[str, Any]) -> dict[str, int]:
        """Return ``sideEffects.restock.lineItems`` as line -> quantity, never above what this refund refunds."""
        restock = ((side_effects or {}).get("restock") or {}).get("lineItems") or []
        if not isinstance(restock, list):
            raise _invalid("sideEffects.restock.lineItems", "must be a list")
        refunded = {lid: qty for lid, qty, _ in priced["lines"]}
        result: dict[str, int] = {}
        for entry in restock:
            if not isinstance(entry, dict) or not isinstance(entry.get("quantity"), int):
                raise _invalid("sideEffects.restock.lineItems", "entries must be {lineItemId, quantity}")
            if entry["quantity"] > refunded.get(entry.get("lineItemId"), 0):
                raise _app_error(
                    400,
                    "INVALID_LINE_ITEM_RESTOCK_QUANTITY",
                    f"restock of {entry.get('lineItemId')} is more than this refund refunds",
                )
            result[entry["lineItemId"]] = entry["quantity"]
        return result

    def _apply_items(
        self, order_id: str, refund: dict[str, Any], priced: dict[str, Any], restock: dict[str, int]
    ) -> None:
        order = self._order(order_id)
        lines = {line["id"]: line for line in order["lineItems"]}
        for lid, quantity, _ in priced["lines"]:
            lines[lid]["refundQuantity"] += quantity
            lines[lid]["restockQuantity"] += restock.get(lid, 0)
        for fid, amount in priced["fees"]:
            fees = self.item_refunds[order_id]["fees"]
            fees[fid] = fees.get(fid, Decimal(0)) + amount
        if priced["shipping"] is not None:
            self.item_refunds[order_id]["shipping"] += priced["shipping"]
        details = refund["details"]
        if priced["lines"]:
            details["lineItems"] = [{"lineItemId": lid, "quantity": qty} for lid, qty, _ in priced["lines"]]
        if priced["fees"]:
            details["additionalFees"] = [{"additionalFeeId": fid, "amount": _money(a)} for fid, a in priced["fees"]]
        if priced["shipping"] is not None:
            details["shipping"] = {"amount": _money(priced["shipping"])}
            details["shippingIncluded"] = True

    def _h_calculate_refund(self, data: dict[str, Any]) -> tuple[int, Any]:
        order_id = data.get("orderId")
        if not isinstance(order_id, str) or not _GUID.match(order_id):
            raise _invalid("orderId", "must be a GUID")
        priced, problems = self._priced_items(order_id, data.get("refundItems"))
        if problems:
            errors = [
                {"error": {"applicationError": {"code": code, "description": message, "data": {}}}}
                for _, code, message in problems
            ]
            return 200, {"notAvailable": {"errors": errors}}

        def summary(amount: Decimal) -> dict[str, Any]:
            zero = _money(Decimal(0))
            return {"total": _money(amount), "tax": zero, "discount": zero, "subtotal": _money(amount)}

        calculated: dict[str, Any] = {
            "lineItems": [
                {"item": {"lineItemId": lid, "quantity": qty}, "summary": summary(amount)}
                for lid, qty, amount in priced["lines"]
            ],
            "additionalFees": [
                {"additionalFee": {"additionalFeeId": fid, "amount": _money(amount)}, "summary": summary(amount)}
                for fid, amount in priced["fees"]
            ],
        }
        if priced["shipping"] is not None:
            calculated["shipping"] = {
                "shipping": {"amount": _money(priced["shipping"])},
                "summary": summary(priced["shipping"]),
            }
        return 200, {"available": True, "summary": summary(priced["total"]), "calculatedRefundItems": calculated}

    def _h_refund_payments(self, data: dict[str, Any]) -> tuple[int, Any]:
        order_id = data.get("orderId")
        if not isinstance(order_id, str) or not _GUID.match(order_id):
            raise _invalid("orderId", "must be a GUID")
        refunds = data.get("paymentRefunds")
        if not isinstance(refunds, list) or not 1 <= len(refunds) <= 50:
            raise _invalid("paymentRefunds", "must hold 1 to 50 entries")
        reason = data.get("customerReason")
        if reason is not None and (not isinstance(reason, str) or len(reason) > 200):
            raise _invalid("customerReason", "must be a string of at most 200 characters")
        order = self._order(order_id)
        if self._created(order) < self.cutoff:
            raise _app_error(
                428, "ORDER_NOT_REFUNDABLE", "orders created before the billing migration cannot be refunded"
            )
        payments = {p["id"]: p for p in self.payments[order_id]}
        parts: list[tuple[str, Decimal, bool]] = []
        for index, entry in enumerate(refunds):
            where = f"paymentRefunds[{index}]"
            if not isinstance(entry, dict):
                raise _invalid(where, "must be an object")
            unknown = set(entry) - {"paymentId", "amount", "externalRefund"}
            if unknown:
                raise _invalid(where, f"unknown fields {sorted(unknown)}")
            pid = entry.get("paymentId")
            if not isinstance(pid, str) or not _GUID.match(pid):
                raise _invalid(f"{where}.paymentId", "must be a GUID")
            external = entry.get("externalRefund", False)
            if not isinstance(external, bool):
                raise _invalid(f"{where}.externalRefund", "must be a boolean")
            if pid not in payments:
                raise _app_error(404, "PAYMENT_NOT_FOUND", f"payment {pid} not found on order {order_id}")
            payment = payments[pid]
            stored = "giftcardPaymentDetails" in payment or "membershipPaymentDetails" in payment
            money = entry.get("amount")
            if stored:
                # Wix refunds a gift card's or membership's whole credit; amount does not apply.
                if money is not None:
                    raise _app_error(
                        400, "INVALID_PAYMENT_REFUND_AMOUNT", f"payment {pid} is stored value: send no amount"
                    )
                amount = self._max_refund(order_id, payment)
            else:
                if not isinstance(money, dict) or not isinstance(money.get("amount"), str):
                    raise _invalid(f"{where}.amount", "must be a Price object with a decimal string amount")
                try:
                    amount = Decimal(money["amount"])
                except ArithmeticError:
                    raise _invalid(f"{where}.amount.amount", "is not a decimal") from None
                digits = _CURRENCY_DIGITS.get(order["currency"], 2)
                if not amount.is_finite() or amount <= 0 or amount != amount.quantize(Decimal(1).scaleb(-digits)):
                    raise _app_error(
                        400,
                        "INVALID_PAYMENT_REFUND_AMOUNT",
                        f"{money['amount']} is not a valid {order['currency']} amount",
                    )
            kind, why = self._refundability(order_id, payment)
            if kind == "manuallyRefundable" and not external:
                raise _app_error(428, "EXTERNAL_REFUND_EXPECTED", f"payment {pid} must be refunded outside Wix ({why})")
            if kind == "nonRefundable" and why != "ALREADY_REFUNDED":
                raise _app_error(428, "PAYMENT_NOT_REFUNDABLE", f"payment {pid} is not refundable ({why})")
            already = self._refunded_for(order_id, pid) + sum((a for p, a, _ in parts if p == pid), Decimal(0))
            if amount <= 0 or already + amount > Decimal(payment["amount"]["amount"]):
                raise _app_error(
                    self.over_refund_status,
                    "INVALID_PAYMENT_REFUND_AMOUNT",
                    f"amount exceeds what payment {pid} has left",
                )
            parts.append((pid, amount, external))
        priced, problems = self._priced_items(order_id, data.get("refundItems"))
        if problems:
            status_code, code, message = problems[0]
            raise _app_error(status_code, code, message)
        restock = self._restock_lines(data.get("sideEffects"), priced)
        status = {"now": "FAILED", "later": "PENDING"}.get(self.decline or "", self.refund_status)
        refund = self._record_refund(order_id, parts, reason, status)
        self._apply_items(order_id, refund, priced, restock)
        if self.decline == "later":
            self._fail_later.add(refund["id"])
        self._recompute_payment(order_id)
        self.writes.append(("refund", order_id, refund["id"]))
        hide = None
        if self._hide_next is not None:
            hide = refund["id"]
            if self._hide_next > 0:
                self._hidden[refund["id"]] = self._hide_next
        answer = refund if self.list_reasons else {**refund, "details": {}}
        return 200, {"refund": answer, "orderTransactions": self._transactions(order_id, hide=hide)}

    def _h_site_properties(self, _: Any) -> tuple[int, Any]:
        return 200, {
            "version": "3",
            "properties": {
                "businessName": "Fake Shop",
                "paymentCurrency": "USD",
                "locale": {"languageCode": "en", "country": "US"},
                "timeZone": "UTC",
            },
        }

    def _h_query_sites(self, data: dict[str, Any]) -> tuple[int, Any]:
        query = data.get("query") or {}
        wanted = (((query.get("filter") or {}).get("id") or {}).get("$in")) or [self.site_id]
        sites = [{"id": self.site_id, "displayName": "Fake Shop", "premium": True}] if self.site_id in wanted else []
        return 200, {"sites": sites, "metadata": {"count": len(sites)}}

    def _h_list_currencies(self, _: Any) -> tuple[int, Any]:
        return 200, {"currencies": [{"code": "USD", "symbol": "$"}, {"code": "EUR", "symbol": "€"}]}

    # --- transports ------------------------------------------------------------------

    def transport(self) -> _FakeTransport:
        """Return an in-process httpx transport (sync and async) that talks to this fake."""
        return _FakeTransport(self)

    @contextlib.contextmanager
    def serve(self, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
        """Serve this fake over HTTP on loopback in a background thread; yield its base URL."""
        fake = self

        class Handler(_Handler):
            pass

        Handler.fake = fake
        server = _Server((host, port), Handler)
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        thread.start()
        try:
            yield f"http://{host}:{server.server_address[1]}"
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)


class _FakeTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    def __init__(self, fake: FakeWix) -> None:
        self.fake = fake

    def _respond(self, request: httpx.Request, answer: _Answer) -> httpx.Response:
        if answer.refuse:
            raise httpx.ConnectError("[Errno 111] Connection refused", request=request)
        if answer.lose:
            raise httpx.ReadTimeout("the response was lost", request=request)
        return httpx.Response(answer.status, headers=answer.headers, content=answer.body, request=request)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        if self.fake.latency:
            time.sleep(self.fake.latency)
        return self._respond(request, self.fake.handle(request.method, request.url.path, dict(request.headers), body))

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        if self.fake.latency:
            await asyncio.sleep(self.fake.latency)
        return self._respond(request, self.fake.handle(request.method, request.url.path, dict(request.headers), body))


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    # socketserver's backlog of 5 resets connections when many clients connect at once.
    request_queue_size = 256


class _Handler(http.server.BaseHTTPRequestHandler):
    fake: FakeWix
    protocol_version = "HTTP/1.1"
    # One write per response, sent at once: headers and body in separate small
    # segments would wait on delayed ACKs (about 40 ms each on Linux).
    wbufsize = 1 << 16
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if self.fake.latency:
            time.sleep(self.fake.latency)
        answer = self.fake.handle(self.command, self.path.split("?")[0], dict(self.headers.items()), body)
        if answer.hold:
            # Over a socket a late write keeps the client waiting until Wix applies it
            # (a client whose timeout is shorter gives up first), then gets no answer.
            time.sleep(answer.hold)
        if answer.refuse or answer.lose:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.send_response(answer.status)
        for name, value in answer.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(answer.body)))
        self.end_headers()
        self.wfile.write(answer.body)

    do_GET = do_POST = do_DELETE = do_PATCH = _serve
