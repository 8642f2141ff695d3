"""Scripted faults, and ``handle``: the one entry point that answers a request with them applied.

The faults: failed and lost answers, refused connections, late writes, hidden and foreign
refunds, a rate limit, listings that lag behind committed refunds (``lag_listing``), and
one payment's part of a refund declined while the others succeed (``decline_payment``).
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
import time
from decimal import Decimal
from typing import Any

from ._answers import _Answer, _app_error, _dec, _Error
from ._routes import _Routes
from ._state import LoggedRequest, _Fault


def _order_of(path: str, body: Any) -> str | None:
    """The order a request is about: ``orderId`` in its body, or the GUID after ``/orders/``."""
    if isinstance(body, dict) and isinstance(body.get("orderId"), str):
        return str(body["orderId"])
    match = re.search(r"/orders/([^/]+)", path)
    return match.group(1) if match else None


class _Faults(_Routes):
    """What a test scripts to go wrong, and the one entry point that answers a request."""

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

    def decline_payment(self, payment_id: str, when: str = "now") -> None:
        """Decline the part of every new refund that goes back to ``payment_id``; the other parts succeed.

        ``when``: ``"now"`` (the part is FAILED in the Refund Payments answer), ``"later"``
        (PENDING in the answer, FAILED from the next listing on), or ``"never"`` (stop declining).
        """
        if when not in ("now", "later", "never"):
            raise ValueError(f"when={when!r}: use 'now', 'later' or 'never'")
        with self._lock:
            if when == "never":
                self.declined_payments.pop(payment_id, None)
            else:
                self.declined_payments[payment_id] = when

    def lag_listing(self, seconds: float) -> None:
        """Leave every refund out of the listings until ``seconds`` after it was committed (0 turns it off).

        List Transactions (one order or many) and the ``orderTransactions`` that Refund
        Payments answers with lag behind the books, as Wix's listing can: a refund
        committed less than ``seconds`` ago is not listed yet, while the order
        (``balanceSummary``, ``paymentStatus``), the refundability and the ``refund``
        in the write's own answer already show it. Every refund lags, the library's and
        everyone else's; a late write (``apply_late_next``) counts from when it is applied.
        Timed by ``time.monotonic()``, like the rate limit; no test clock stands in for it.
        """
        if seconds < 0:
            raise ValueError(f"seconds={seconds!r}: a lag is 0 or more seconds")
        with self._lock:
            self._listing_lag = float(seconds)

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
