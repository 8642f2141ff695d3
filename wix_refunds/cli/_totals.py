"""The money of a command's summary: sent now apart from done already, moved apart from recorded.

Every figure comes from outcomes, that is from Wix's books as the run last read them (or,
for a row a batch skipped, from its report record, written from its outcome), per currency::

    this run        rows whose refund this run sent (COMPLETED, or a write sent now); the
                    money of those still PENDING is counted under pending only
    already done    rows found done on Wix or in the journal, or skipped as done in the
                    report: nothing was sent for them now
    pending         rows whose refund Wix holds but has not settled (PENDING): never counted
                    as refunded, whoever sent it
    to refund       what a dry run would send
    file            (a batch) everything the file's rows hold on Wix so far: this run, done
                    already and pending, across every resumed run

Within each, money moved through Wix (``through_wix``) is apart from money only recorded
on Wix (``outside_wix``: offline and manual payments the merchant pays back).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from decimal import Decimal, InvalidOperation
from typing import Any

import attrs

from ..core._money import format_money
from ..core._routing import ROUTES, CancelOrder, RefundRoute
from ..run._execute import OutcomeStatus, RefundOutcome

__all__ = ["CANCEL_NOTE", "Bucket", "Totals", "cancels"]

CANCEL_NOTE = (
    "a cancel moves no money on Wix: the shopper's money is returned outside Wix "
    "(Violet learns of the cancel from Wix and returns it)"
)
_OUTSIDE_NOTE = "(Wix moved no money: the merchant pays it back)"


# What is printed of a route is read from its row of core's ROUTES, never from its name,
# so that a new route needs no change here.
def cancels(route: RefundRoute | None) -> bool:
    """Return whether ``route`` cancels the order (the cancel note goes with it)."""
    return route is not None and CancelOrder in ROUTES[route].steps


def _route(value: object) -> RefundRoute | None:
    try:
        return RefundRoute(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _amount(value: object) -> Decimal:
    """Return an amount a report record holds as text (0 if it holds none that reads)."""
    try:
        return Decimal(value) if isinstance(value, str) else Decimal(0)
    except InvalidOperation:
        return Decimal(0)


def _sent_now(outcome: RefundOutcome) -> bool:
    """Return whether this run sent a write that Wix took or may have taken (not one Wix refused)."""
    if outcome.status is OutcomeStatus.COMPLETED:
        return True
    if outcome.status in (OutcomeStatus.ALREADY_DONE, OutcomeStatus.DRY_RUN):
        return False
    return any(step.attempts and not step.result.startswith("refused") for step in outcome.steps)


def _money(totals: dict[str, Decimal]) -> dict[str, str]:
    return {currency: format_money(amount, currency, code=False) for currency, amount in sorted(totals.items())}


def _text(totals: dict[str, Decimal]) -> str:
    return ", ".join(format_money(amount, currency) for currency, amount in sorted(totals.items()))


def _plural(count: int, word: str = "row") -> str:
    return f"{count} {word}{'s' if count != 1 else ''}"


@attrs.define
class Bucket:
    """Rows of one kind and the money they hold on Wix, per currency."""

    rows: int = 0
    through_wix: defaultdict[str, Decimal] = attrs.Factory(lambda: defaultdict(Decimal))
    outside_wix: defaultdict[str, Decimal] = attrs.Factory(lambda: defaultdict(Decimal))
    cancelled: int = 0

    def add(self, currency: str, through: Decimal, outside: Decimal, *, row: bool = True, cancel: bool = False) -> None:
        """Count one row (``row``) and the money it holds."""
        self.rows += row
        self.cancelled += cancel
        if through:
            self.through_wix[currency] += through
        if outside:
            self.outside_wix[currency] += outside

    def record(self) -> dict[str, Any]:
        """Return the bucket as JSON-ready data: rows, through_wix, outside_wix (text per currency), cancelled."""
        return {
            "rows": self.rows,
            "through_wix": _money(self.through_wix),
            "outside_wix": _money(self.outside_wix),
            "cancelled": self.cancelled,
        }

    def money_lines(self, *, moved: str = "refunded through Wix") -> list[str]:
        """Return the bucket's money and cancels as indented lines (none when it holds nothing)."""
        lines = []
        if self.through_wix:
            lines.append(f"  {moved}: {_text(self.through_wix)}")
        if self.outside_wix:
            lines.append(f"  recorded as refunded outside Wix: {_text(self.outside_wix)} {_OUTSIDE_NOTE}")
        if self.cancelled:
            lines.append(f"  orders cancelled: {self.cancelled}; {CANCEL_NOTE}")
        return lines


@attrs.define
class Totals:
    """The money a command's rows hold, by kind (see the module's docstring)."""

    this_run: Bucket = attrs.Factory(Bucket)
    already_done: Bucket = attrs.Factory(Bucket)
    pending: Bucket = attrs.Factory(Bucket)
    to_refund: Bucket = attrs.Factory(Bucket)
    #: Orders a dry run would refund through Wix, and record outside Wix, per currency.
    to_refund_orders: Counter[str] = attrs.Factory(Counter)
    to_record_orders: Counter[str] = attrs.Factory(Counter)
    #: How many dry-run outcomes were counted (a dry run sends nothing, and does not say so).
    dry_runs: int = 0
    #: How many of this run's rows are PENDING on Wix (counted in ``this_run.rows``, their money in ``pending``).
    sent_pending: int = 0

    def add(self, outcome: RefundOutcome) -> None:
        """Count one outcome: in this run, already done or pending by its status, and a dry run's plan."""
        currency = outcome.currency or ""
        moved, outside = outcome.refunded, outcome.refunded_outside_wix
        cancelled = cancels(outcome.route)
        status = outcome.status
        self.dry_runs += status is OutcomeStatus.DRY_RUN
        if status is OutcomeStatus.PENDING:
            self.pending.add(currency, moved, outside)
            if _sent_now(outcome):
                self.this_run.rows += 1
                self.sent_pending += 1
        elif status is OutcomeStatus.FAILED:
            # A failed row rarely holds money; when it does, it is counted where it was sent.
            if moved or outside:
                (self.this_run if _sent_now(outcome) else self.already_done).add(currency, moved, outside)
        elif status is OutcomeStatus.DRY_RUN and outcome.steps:
            self._plan(outcome, currency, cancelled)
            # Money an earlier refund under the reference holds, if any, is done already.
            self.already_done.add(currency, moved, outside, row=False)
        else:
            bucket = self.this_run if _sent_now(outcome) else self.already_done
            bucket.add(currency, moved, outside, cancel=cancelled and status is not OutcomeStatus.DRY_RUN)

    def _plan(self, outcome: RefundOutcome, currency: str, cancelled: bool) -> None:
        through = outside = Decimal(0)
        for step in outcome.steps:
            if step.action == "refund_payments" and step.amount is not None:
                outside += step.outside_wix or 0
                through += step.amount - (step.outside_wix or 0)
        self.to_refund.add(currency, through, outside, cancel=cancelled)
        self.to_refund_orders[currency] += bool(through)
        self.to_record_orders[currency] += bool(outside)

    def add_done(self, record: dict[str, Any]) -> None:
        """Count a row a batch skipped as done in its report, from the record the report holds of it."""
        currency = record.get("currency")
        self.already_done.add(
            currency if isinstance(currency, str) else "",
            _amount(record.get("refunded")),
            _amount(record.get("refunded_outside_wix")),
            cancel=cancels(_route(record.get("route"))),
        )

    def file(self) -> tuple[Bucket, dict[str, Decimal]]:
        """Return everything the rows hold on Wix so far: settled or recorded, and apart what is pending."""
        # This run's pending rows are in ``pending`` too: counted once.
        whole = Bucket(rows=-self.sent_pending)
        for bucket in (self.this_run, self.already_done, self.pending):
            whole.rows += bucket.rows
            whole.cancelled += bucket.cancelled
            for currency, amount in bucket.outside_wix.items():
                whole.outside_wix[currency] += amount
        for bucket in (self.this_run, self.already_done):
            for currency, amount in bucket.through_wix.items():
                whole.through_wix[currency] += amount
        return whole, self.pending.through_wix

    def record(self, *, batch: bool) -> dict[str, Any]:
        """Return the totals as JSON-ready data, one object per kind (``file`` in a batch only)."""
        data = {
            "this_run": {**self.this_run.record(), "rows_pending": self.sent_pending},
            "already_done": self.already_done.record(),
            "pending": self.pending.record(),
            "to_refund": self.to_refund.record(),
        }
        if batch:
            whole, pending = self.file()
            data["file"] = {**whole.record(), "pending": _money(pending)}
        return data

    def lines(self, *, summary: bool = False) -> list[str]:
        """Return the money as text: this run, already done, pending, what a dry run would do.

        ``summary`` (a batch's summary): say when this run sent nothing, and end with the file's total.
        """
        lines = []
        if self.this_run.rows or self.this_run.money_lines():
            of_them = f", {self.sent_pending} of them pending on Wix (below)" if self.sent_pending else ""
            lines.append(f"this run (sent now): {_plural(self.this_run.rows)}{of_them}")
            lines += self.this_run.money_lines()
        elif summary and (self.already_done.rows or self.pending.rows) and not self.dry_runs:
            lines.append("this run (sent now): nothing sent")
        if self.already_done.rows or self.already_done.money_lines():
            lines.append("already done before this run (nothing sent now): " + _plural(self.already_done.rows))
            lines += self.already_done.money_lines()
        if self.pending.rows:
            lines.append(
                f"pending on Wix (not settled yet; the provider may still decline it): {_plural(self.pending.rows)}"
            )
            lines += self.pending.money_lines(moved="through Wix, not settled")
        lines += self._plan_lines()
        whole, unsettled = self.file()
        if summary and (whole.money_lines() or unsettled):
            lines.append("whole file so far (its rows in this run and earlier ones, as Wix holds them):")
            lines += whole.money_lines()
            if unsettled:
                lines.append(f"  pending on Wix (not settled yet): {_text(unsettled)}")
        return lines

    def _plan_lines(self) -> list[str]:
        lines = []
        for currency, amount in sorted(self.to_refund.through_wix.items()):
            count = self.to_refund_orders[currency]
            lines.append(f"to refund through Wix: {_plural(count, 'order')}, {format_money(amount, currency)}")
        for currency, amount in sorted(self.to_refund.outside_wix.items()):
            count = self.to_record_orders[currency]
            lines.append(
                f"to record as refunded outside Wix: {_plural(count, 'order')}, {format_money(amount, currency)} "
                "(Wix moves no money: the merchant pays it back)"
            )
        if self.to_refund.cancelled:
            lines.append(f"to cancel: {_plural(self.to_refund.cancelled, 'order')}; {CANCEL_NOTE}")
        return lines
