"""What the wix-refunds command prints: JSON records, text for people, the progress line.

One JSON schema serves ``plan``, ``refund``, ``batch`` and ``demo`` (JSON lines, one object
per line): a record ``{"type": "order", ...}`` per order, built from
``RefundOutcome.to_dict()`` so that every field the library adds appears; ``"row_error"``
and ``"row_skipped"`` records for a batch's refused and skipped rows; and one final
``{"type": "summary", ...}``. Errors are objects with ``type``, ``message``, ``status``,
``code``, ``request_id``, ``retryable`` and, when set, ``reference``. Amounts are text with
their currency's digits.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Callable
from decimal import Decimal
from typing import Any, TextIO

from ..client._retry import RequestLimiter
from ..core._errors import WixRefundError
from ..core._money import format_money
from ..core._outcome import error_dict as outcome_error_dict
from ..core._routing import ROUTES, RefundRoute
from ..run._execute import OutcomeStatus, RefundOutcome
from ._batch_file import BatchRow, RowError
from ._time_left import Sample, seconds_left
from ._totals import CANCEL_NOTE, Totals
from ._totals import cancels as _cancels

__all__ = [
    "CANCEL_NOTE",
    "Progress",
    "Tally",
    "derived_reference_hint",
    "describe_outcome",
    "describe_plan",
    "error_dict",
    "order_record",
]


def _moves_money(route: RefundRoute | None) -> bool:
    """Return whether ``route`` refunds through Wix under the call's reference (its ``tagged``)."""
    return route is not None and ROUTES[route].tagged


def error_dict(exc: BaseException) -> dict[str, Any]:
    """Return an error as JSON-ready data: type, message, status, code, request_id, retryable, reference.

    The library's errors are written as in ``RefundOutcome.to_dict()``; the command's own
    (a usage error, missing credentials) have the same keys, empty where they do not apply.
    """
    if isinstance(exc, WixRefundError):
        return dict(outcome_error_dict(exc))
    return {
        "type": type(exc).__name__,
        "message": str(exc),
        "status": None,
        "code": None,
        "request_id": None,
        "retryable": False,
        "reference": None,
    }


def order_record(outcome: RefundOutcome, **extra: Any) -> dict[str, Any]:
    """Return the ``"type": "order"`` record of an outcome: its ``to_dict()`` and ``extra``."""
    record: dict[str, Any] = {"type": "order", **outcome.to_dict(), **extra}
    if _cancels(outcome.route):
        record["note"] = CANCEL_NOTE
    return record


def _planned(outcome: RefundOutcome) -> tuple[Decimal, Decimal]:
    """Return what a dry run would refund: in all, and the part only recorded outside Wix."""
    amount = outside = Decimal(0)
    for step in outcome.steps:
        if step.action == "refund_payments" and step.amount is not None:
            amount += step.amount
            outside += step.outside_wix or 0
    return amount, outside


def describe_plan(preview: RefundOutcome) -> list[str]:
    """Return a dry run's plan as lines: route, reason, steps, and the first write it would send."""
    plan = preview.plan
    assert plan is not None
    lines = [f"order #{plan.order_number} ({plan.order_id}): {plan.route}", f"  {plan.reason}"]
    lines += [f"  {i}. {step.describe()}" for i, step in enumerate(plan.steps, 1)]
    if plan.line_items:
        lines.append("  line items: " + ", ".join(f"{item.id} x{item.quantity}" for item in plan.line_items))
    if preview.prices is not None and preview.prices.available:
        currency = preview.currency
        lines += [
            f"  Wix's price for line {lid}: {format_money(amount, currency)}" for lid, amount in preview.prices.lines
        ]
        lines += [
            f"  Wix's price for fee {fid}: {format_money(amount, currency)}" for fid, amount in preview.prices.fees
        ]
        if preview.prices.shipping is not None:
            lines.append(f"  Wix's price for the shipping: {format_money(preview.prices.shipping, currency)}")
        lines.append(f"  Wix's total for the items: {format_money(preview.prices.total, currency)}")
    for step in preview.steps:
        amount = f" {format_money(step.amount, preview.currency)}" if step.amount is not None else ""
        if step.outside_wix:
            amount += (
                f" (of which {format_money(step.outside_wix, preview.currency)} only recorded: paid back outside Wix)"
            )
        lines.append(f"  first write: {step.action} {step.target}{amount}")
    if not plan.steps:
        lines.append("  nothing to do")
    elif not preview.steps:
        lines.append("  nothing left to do: Wix shows it done already")
    elif _cancels(plan.route):
        lines.append(f"  {CANCEL_NOTE}")
    return lines


def describe_outcome(outcome: RefundOutcome) -> list[str]:
    """Return an outcome as lines: status and route, each step, the money, the reference."""
    head = f"order {outcome.order_id}: {outcome.status}"
    if outcome.route is not None:
        head += f" ({outcome.route})"
    lines = [head]
    if outcome.reason:
        lines.append(f"  {outcome.reason}")
    for step in outcome.steps:
        amount = f" {format_money(step.amount, outcome.currency)}" if step.amount is not None else ""
        if step.outside_wix:
            amount += f" (of which {format_money(step.outside_wix, outcome.currency)} recorded outside Wix)"
        plural = "" if step.attempts == 1 else "s"
        lines.append(f"  - {step.action} {step.target}{amount}: {step.result} ({step.attempts} attempt{plural})")
    if outcome.error is not None:
        lines.append(f"  error: {outcome.error}")
    elif outcome.status is not OutcomeStatus.DRY_RUN:
        status = outcome.final_status.value if outcome.final_status else "?"
        payment = outcome.final_payment_status.value if outcome.final_payment_status else "?"
        if _moves_money(outcome.route) and outcome.status is OutcomeStatus.PENDING:
            lines.append(
                f"  pending on Wix: {format_money(outcome.refunded, outcome.currency)} not settled yet (the provider "
                f"may still decline it); follow it with: wix-refunds status {outcome.order_id} {outcome.reference}"
            )
        elif _moves_money(outcome.route):
            lines.append(
                f"  refunded through Wix: {format_money(outcome.refunded, outcome.currency)}; payment {payment}"
            )
            if outcome.refunded_outside_wix:
                lines.append(
                    "  recorded as refunded outside Wix: "
                    f"{format_money(outcome.refunded_outside_wix, outcome.currency)} "
                    "(Wix moved no money: the merchant pays it back)"
                )
        elif _cancels(outcome.route):
            lines.append(f"  the order was cancelled (order {status}, payment {payment}); {CANCEL_NOTE}")
        else:
            lines.append(f"  order {status}, payment {payment}")
        for f in outcome.deleted_fulfillments:
            tracking = f.tracking
            kept = (
                "no tracking"
                if tracking is None
                else " ".join(
                    str(part)
                    for part in (tracking.shipping_provider, tracking.tracking_number, tracking.tracking_link)
                    if part
                )
            )
            lines.append(f"  deleted fulfilment {f.id}: {kept}")
    if outcome.reference is not None and _moves_money(outcome.route):
        lines.append(f"  reference {outcome.reference} (running again with --reference {outcome.reference} is safe)")
    return lines


def derived_reference_hint(outcome: RefundOutcome) -> str | None:
    """Return what to do to refund again on purpose when a derived reference found its refund made; else None.

    ``wix-refunds refund`` without ``--reference`` derives the reference from the order and
    what is asked, so the same command twice is one refund; a second refund is a new reference.
    """
    if outcome.status is not OutcomeStatus.ALREADY_DONE or not _moves_money(outcome.route):
        return None
    return (
        f"this refund was made before: its reference {outcome.reference} is derived from the order and "
        "what is asked, so the same command finds it; to refund the same again on purpose, run it with "
        "a new --reference"
    )


def _amounts(totals: dict[str, Decimal]) -> dict[str, str]:
    return {currency: format_money(amount, currency, code=False) for currency, amount in sorted(totals.items())}


class Tally:
    """What a command did so far, for its summary (text or JSON), also when it is interrupted."""

    def __init__(self, command: str) -> None:
        self.command = command
        self.statuses: Counter[str] = Counter()
        self.refunded: defaultdict[str, Decimal] = defaultdict(Decimal)
        # Money of refunds Wix holds but has not settled: counted apart, never as refunded.
        self.pending: defaultdict[str, Decimal] = defaultdict(Decimal)
        self.outside: defaultdict[str, Decimal] = defaultdict(Decimal)
        self.to_refund: defaultdict[str, Decimal] = defaultdict(Decimal)
        self.to_refund_orders: Counter[str] = Counter()
        self.cancelled = self.to_cancel = 0
        self.failed: list[tuple[str | None, str, str]] = []
        self.row_errors: list[RowError] = []
        #: The rows a batch skipped as done in its report, each with the report's record of it.
        self.skipped: list[tuple[BatchRow, dict[str, Any]]] = []
        self.totals = Totals()

    def add(self, outcome: RefundOutcome, where: str | None = None) -> None:
        """Count one order's outcome (``where`` is its ``FILE:LINE`` in a batch)."""
        self.statuses[outcome.status.value] += 1
        self.totals.add(outcome)
        currency = outcome.currency or ""
        if outcome.refunded and outcome.status is OutcomeStatus.PENDING:
            self.pending[currency] += outcome.refunded
        elif outcome.refunded:
            self.refunded[currency] += outcome.refunded
        if outcome.refunded_outside_wix:
            self.outside[currency] += outcome.refunded_outside_wix
        if outcome.status is OutcomeStatus.FAILED:
            self.failed.append((where, outcome.order_id, str(outcome.error)))
        cancels = _cancels(outcome.route)
        if outcome.status is OutcomeStatus.COMPLETED and cancels:
            self.cancelled += 1
        if outcome.status is OutcomeStatus.DRY_RUN and outcome.steps:
            self.to_cancel += cancels
            amount, _ = _planned(outcome)
            if amount:
                self.to_refund[currency] += amount
                self.to_refund_orders[currency] += 1

    def skip(self, row: BatchRow, record: dict[str, Any]) -> None:
        """Count a row a batch skipped as done in its report (``record``: the report's record of it)."""
        self.skipped.append((row, record))
        self.totals.add_done(record)

    @property
    def orders(self) -> int:
        """Return how many orders (rows, in a batch) were run."""
        return sum(self.statuses.values())

    def record(self, exit_code: int, **extra: Any) -> dict[str, Any]:
        """Return the final ``"type": "summary"`` record."""
        return {
            "type": "summary",
            "command": self.command,
            "exit_code": exit_code,
            "orders": self.orders,
            "statuses": dict(sorted(self.statuses.items())),
            "refunded": _amounts(self.refunded),
            "pending": _amounts(self.pending),
            "refunded_outside_wix": _amounts(self.outside),
            "cancelled": self.cancelled,
            "to_refund": _amounts(self.to_refund),
            "to_cancel": self.to_cancel,
            "failed": len(self.failed),
            "row_errors": len(self.row_errors),
            "skipped": len(self.skipped),
            "totals": self.totals.record(batch=self.command == "batch"),
            **extra,
        }

    def totals_lines(self, *, summary: bool = False) -> list[str]:
        """Return the money lines: this run, already done, pending, or for a dry run what would be.

        ``summary``: a batch's summary, which ends with the whole file's total so far.
        """
        return self.totals.lines(summary=summary)

    def lines(self, report: str | None = None) -> list[str]:
        """Return a batch's text summary: a count per status, the skipped rows, the money, then refused and failed rows.

        The failed rows come last, so that they stay on the screen.
        """
        lines = ["status             rows"]
        for status in ("COMPLETED", "ALREADY_DONE", "PENDING", "DRY_RUN", "FAILED"):
            if self.statuses[status]:
                lines.append(f"{status:<16} {self.statuses[status]:>6}")
        if self.row_errors:
            lines.append(f"{'BAD ROWS':<16} {len(self.row_errors):>6}")
        if len(lines) == 1:
            lines = []  # every row was skipped: no table of none
        if self.skipped:
            count = len(self.skipped)
            lines.append(f"{count} row{'s' if count != 1 else ''} already done in an earlier run ({report}): skipped")
        lines += self.totals_lines(summary=True)
        if self.row_errors:
            lines.append("refused rows (nothing sent):")
            lines += [f"  {e.where} order {e.order_id or '(none)'}: {e.message}" for e in self.row_errors]
        if self.failed:
            lines.append("failed:")
            lines += [f"  {where + ' ' if where else ''}order {order}: {why}" for where, order, why in self.failed]
        return lines


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def limit_text(limiter: RequestLimiter) -> str:
    """Return a limit as people say it: ``200 requests a minute``."""
    if limiter.per == 60:
        return f"{limiter.requests} requests a minute"
    return f"{limiter.requests} requests every {limiter.per:g} s"


# Requests one row is taken to cost before any has finished: in a batch its refundability
# and its write, the group's shared reads spread over its rows (then measured instead).
_REQUESTS_PER_ROW = 2.0


class Progress:
    """Rows done of the total, failures, rate, time left and any wait on the rate limit.

    On a terminal the one line is rewritten in place (``\\r`` and erase-line first); else a
    line is written every few seconds and whenever a wait on the rate limit starts.
    """

    def __init__(
        self,
        total: int,
        err: TextIO,
        limiter: RequestLimiter | None,
        *,
        verb: str = "done",
        enabled: bool = True,
        per_row: float = _REQUESTS_PER_ROW,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.total, self.err, self.limiter, self.verb = total, err, limiter, verb
        self.enabled = enabled and total > 0
        self.done = self.failed = 0
        self.clock = clock
        self.started = clock()
        self.shown = 0.0
        self.reserved_at_start = limiter.reserved if limiter else 0
        # Requests a row is taken to cost until rows finish; then measured (``_time_left``).
        self.per_row = per_row
        self.start = Sample(at=self.started, done=0, used=0)
        self.baseline: Sample | None = None
        self.waiting = False
        self.tty = err.isatty()

    def add(self, outcome: RefundOutcome) -> None:
        """Count one finished row."""
        self.done += 1
        self.failed += outcome.status is OutcomeStatus.FAILED
        if self.baseline is None:
            self.baseline = self._sample(self.clock())

    def _sample(self, now: float) -> Sample:
        used = self.limiter.reserved - self.reserved_at_start if self.limiter else 0
        return Sample(at=now, done=self.done, used=used)

    def _left(self, now: float) -> float | None:
        return seconds_left(
            self.total, self.start, self.baseline, self._sample(now), self.limiter, per_row=self.per_row
        )

    def text(self, now: float) -> str:
        """Return the progress line."""
        elapsed = max(now - self.started, 1e-9)
        text = f"{self.done}/{self.total} rows {self.verb}, {self.failed} failed, {self.done / elapsed:.1f} rows/s"
        if self.waiting and self.limiter is not None:
            text += f", waiting on Wix's {limit_text(self.limiter)}"
        left = self._left(now)
        if left is not None and self.done < self.total:
            text += f", about {_duration(left)} left"
        return text

    def tick(self) -> None:
        """Show the line again if it is due: often on a terminal, else every few seconds or on a new wait."""
        if not self.enabled:
            return
        now = self.clock()
        was_waiting = self.waiting
        self.waiting = self.limiter is not None and self.limiter.backlog() > 0.5
        if self.tty or now - self.shown >= 5.0 or (self.waiting and not was_waiting):
            self._write(self.text(now), final=False)

    def finish(self) -> None:
        """Show the last line."""
        if self.enabled:
            self.waiting = False
            self._write(self.text(self.clock()), final=True)

    def clear(self) -> None:
        """Erase the line on a terminal, before other text is written there."""
        if self.enabled and self.tty and self.shown:
            self.err.write("\r\x1b[K")
            self.err.flush()

    def _write(self, text: str, *, final: bool) -> None:
        self.shown = self.clock()
        if self.tty:
            self.err.write("\r\x1b[K" + text + ("\n" if final else ""))
        else:
            self.err.write(text + "\n")
        self.err.flush()
