"""The money of a command's summary: this run apart from done already, moved apart from recorded, pending apart."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from wix_refunds.cli._totals import Totals
from wix_refunds.core._outcome import OutcomeStatus, RefundOutcome, StepRecord
from wix_refunds.core._routing import RefundRoute


def _outcome(
    status: OutcomeStatus,
    *,
    moved: str = "0",
    outside: str = "0",
    currency: str = "USD",
    steps: tuple[StepRecord, ...] = (),
    route: RefundRoute = RefundRoute.STANDARD_REFUND,
) -> RefundOutcome:
    return RefundOutcome(
        order_id="o-1",
        status=status,
        route=route,
        refunded=Decimal(moved),
        refunded_outside_wix=Decimal(outside),
        currency=currency,
        steps=steps,
    )


REFUSED, UNKNOWN = "refused by Wix; re-reading", "outcome unknown; re-reading"


def _refund(result: str = "done", attempts: int = 1, amount: str = "10", outside: str = "0") -> StepRecord:
    return StepRecord(
        action="refund_payments",
        target="o-1",
        attempts=attempts,
        result=result,
        amount=Decimal(amount),
        outside_wix=Decimal(outside),
    )


def _buckets(totals: Totals) -> dict[str, Any]:
    data = totals.record(batch=True)
    return {kind: (data[kind]["rows"], data[kind]["through_wix"], data[kind]["outside_wix"]) for kind in data}


@pytest.mark.parametrize(
    ("outcome", "kind"),
    [
        (_outcome(OutcomeStatus.COMPLETED, moved="10", outside="5", steps=(_refund(),)), "this_run"),
        (_outcome(OutcomeStatus.ALREADY_DONE, moved="10", outside="5"), "already_done"),
        # A write Wix refused (428), then found done on a re-read: nothing was sent that landed.
        (_outcome(OutcomeStatus.ALREADY_DONE, moved="10", outside="5", steps=(_refund(REFUSED),)), "already_done"),
        # A refund found by a dry run has nothing left to send: it was done before.
        (_outcome(OutcomeStatus.DRY_RUN, moved="10", outside="5"), "already_done"),
        (_outcome(OutcomeStatus.FAILED, moved="10", outside="5", steps=(_refund(UNKNOWN),)), "this_run"),
        (_outcome(OutcomeStatus.FAILED, moved="10", outside="5"), "already_done"),
    ],
    ids=["completed", "already-done", "refused-then-found", "dry-run-found", "failed-after-a-send", "failed-held"],
)
def test_an_outcomes_money_is_counted_once_where_it_was_sent(outcome: RefundOutcome, kind: str) -> None:
    totals = Totals()
    totals.add(outcome)
    buckets = _buckets(totals)
    assert buckets[kind][1:] == ({"USD": "10.00"}, {"USD": "5.00"})
    others = {name for name in ("this_run", "already_done", "pending", "to_refund") if name != kind}
    assert all(buckets[name][1:] == ({}, {}) for name in others)
    assert buckets["file"][1:] == ({"USD": "10.00"}, {"USD": "5.00"})


def test_a_pending_refund_sent_now_is_a_row_of_this_run_but_its_money_is_pending_only() -> None:
    totals = Totals()
    totals.add(_outcome(OutcomeStatus.PENDING, moved="10", steps=(_refund(),)))
    totals.add(_outcome(OutcomeStatus.PENDING, moved="7"))  # sent by an earlier run
    data = totals.record(batch=True)
    assert (data["this_run"]["rows"], data["this_run"]["rows_pending"], data["this_run"]["through_wix"]) == (1, 1, {})
    assert (data["pending"]["rows"], data["pending"]["through_wix"]) == (2, {"USD": "17.00"})
    assert (data["file"]["rows"], data["file"]["through_wix"], data["file"]["pending"]) == (2, {}, {"USD": "17.00"})
    lines = totals.lines(summary=True)
    assert "this run (sent now): 1 row, 1 of them pending on Wix (below)" in lines
    assert "  through Wix, not settled: 17.00 USD" in lines
    assert not any(line.strip().startswith("refunded through Wix") for line in lines)


def test_a_dry_run_plans_money_moved_apart_from_money_only_recorded_per_currency() -> None:
    totals = Totals()
    totals.add(_outcome(OutcomeStatus.DRY_RUN, steps=(_refund(amount="35", outside="35", attempts=0),)))
    totals.add(_outcome(OutcomeStatus.DRY_RUN, steps=(_refund(amount="40", outside="10", attempts=0),)))
    totals.add(_outcome(OutcomeStatus.DRY_RUN, currency="JPY", steps=(_refund(amount="1000", attempts=0),)))
    assert totals.lines() == [
        "to refund through Wix: 1 order, 1000 JPY",
        "to refund through Wix: 1 order, 30.00 USD",
        "to record as refunded outside Wix: 2 orders, 45.00 USD (Wix moves no money: the merchant pays it back)",
    ]


def test_a_report_record_counts_as_done_already_with_the_money_it_holds() -> None:
    totals = Totals()
    totals.add_done({"status": "COMPLETED", "currency": "USD", "refunded": "12.50", "refunded_outside_wix": "0.00"})
    totals.add_done({"status": "ALREADY_DONE", "currency": "USD", "refunded": "0.00", "refunded_outside_wix": "35.00"})
    totals.add_done({"status": "COMPLETED", "route": "CANCEL", "currency": "EUR", "refunded": "0.00"})
    totals.add_done({"status": "COMPLETED", "refunded": "not money"})  # read, never trusted
    assert _buckets(totals)["already_done"] == (4, {"USD": "12.50"}, {"USD": "35.00"})
    assert totals.already_done.cancelled == 1
    assert totals.lines(summary=True)[0] == "this run (sent now): nothing sent"
