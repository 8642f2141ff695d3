"""Shared reads: what the list calls show seeds each run; orders they leave out, and refused calls, are read alone."""

from __future__ import annotations

import logging
from collections.abc import Generator
from decimal import Decimal
from typing import Any

import attrs
import httpx
import pytest

from wix_refunds import OutcomeStatus, RefundNotSupported, RefundRequest, WixClient
from wix_refunds.core import STANDARD_REFUND_CUTOFF
from wix_refunds.core._engine import Observed, first_read
from wix_refunds.journal import EntryState, JournalEntry
from wix_refunds.run._execute import _Run
from wix_refunds.run._run_journal import Intend, LoadEntries
from wix_refunds.testing import FakeWix
from wix_refunds.wix import _wire

from .runner import run_refund
from .test_batch import FULFILLMENTS, SEARCH, TRANSACTIONS, batch, counts, mixed
from .test_execute import OLD


@pytest.mark.parametrize(
    ("status", "payment_status"), [("PENDING", None), ("REJECTED", None), ("INITIALIZED", "NOT_PAID")]
)
def test_an_order_search_leaves_out_is_read_with_get_order_and_ends_as_a_single_refund_would(
    status: str, payment_status: str | None
) -> None:
    fake = FakeWix()
    hidden = fake.add_order(status=status, payment_status=payment_status)
    shown = fake.add_order()
    outcomes = {o.order_id: o for o in batch(fake, [(hidden, None), (shown, None)])}
    assert fake.calls(method="GET", path=f"/ecom/v1/orders/{hidden}")
    assert not fake.calls(method="GET", path=f"/ecom/v1/orders/{shown}")
    with pytest.raises(RefundNotSupported) as single:
        run_refund("async", fake, hidden)
    assert outcomes[hidden].status is OutcomeStatus.FAILED
    assert str(outcomes[hidden].error) == str(single.value)
    assert outcomes[shown].status is OutcomeStatus.COMPLETED


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_seeded_run_whose_reads_grew_old_reads_them_again_before_it_writes() -> None:
    fake = FakeWix()
    oid = fake.add_order(total="100")
    with httpx.Client(transport=fake.transport()) as http:
        client = WixClient(fake.credentials, base_url=FakeWix.BASE_URL, http_client=http, rate_limit=None)
        order, transactions = client.get_order(oid), client.list_transactions(oid)
        refundability = client.send(_wire.get_refundability(oid))
    clock = Clock()
    run = _Run(
        oid, RefundRequest(amount=Decimal("10")), dry_run=False, cutoff=STANDARD_REFUND_CUTOFF, settle=120, clock=clock
    )
    run.seed(Observed(order=order, transactions=transactions), at=0.0, max_age=10.0)
    answers = {"get_order": order, "list_transactions": transactions, "get_refundability": refundability}
    flow = run.flow()
    asked = [call(past_the_journal(flow, next(flow)))]
    clock.now = 11.0  # the refundability read took long: the shared reads are now too old
    while asked[-1].operation != "refund_payments":
        asked.append(call(past_the_journal(flow, flow.send(_Answer(answers[asked[-1].operation])))))
    assert [c.operation for c in asked] == [
        "get_refundability",
        "get_order",
        "list_transactions",
        "refund_payments",
    ]


def past_the_journal(flow: Generator[Any, Any, Any], ask: object) -> object:
    """Return the first ask of ``flow`` from ``ask`` on that is not the journal's: an empty journal answers those."""
    while isinstance(ask, (LoadEntries, Intend)):
        if isinstance(ask, LoadEntries):
            ask = flow.send(((), 0.0))
        else:
            entry = JournalEntry(
                site_id="s",
                order_id="o",
                reference=ask.reference,
                asked=ask.asked,
                state=EntryState.SENT,
                holder="test",
                sent_at=0.0,
                settle=ask.settle,
            )
            ask = flow.send(entry)
    return ask


def call(ask: object) -> _wire.WireCall[Any]:
    """Return ``ask`` if it is one Wix call (not a pair of reads, not a wait)."""
    assert isinstance(ask, _wire.WireCall), ask
    return ask


@attrs.frozen
class _Answer:
    value: Any
    attempts: int = 1


def test_a_seeded_run_still_fresh_starts_where_the_shared_read_left_it() -> None:
    fake = FakeWix()
    oid = fake.add_order(created=OLD, fulfillments=1)
    with httpx.Client(transport=fake.transport()) as http:
        client = WixClient(fake.credentials, base_url=FakeWix.BASE_URL, http_client=http, rate_limit=None)
        order, fulfillments = client.get_order(oid), client.list_fulfillments(oid)
    run = _Run(oid, None, dry_run=False, cutoff=STANDARD_REFUND_CUTOFF, settle=120, clock=Clock())
    assert first_read(order, run.request, cutoff=run.cutoff) == "fulfillments"
    run.seed(Observed(order=order, fulfillments=fulfillments), at=0.0, max_age=10.0)
    assert call(next(run.flow())).operation == "delete_fulfillment"


def test_a_wix_without_list_calls_gets_one_read_per_order_and_the_batch_completes(
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake = FakeWix(list_calls=False)
    orders = mixed(fake)
    with caplog.at_level(logging.DEBUG, logger="wix_refunds"):
        outcomes = batch(fake, [(oid, None) for ids in orders.values() for oid in ids], group_size=3)
    assert all(o.status in (OutcomeStatus.COMPLETED, OutcomeStatus.ALREADY_DONE) for o in outcomes)
    assert counts(fake)[SEARCH] == 1  # refused once, then never asked again in this batch
    assert counts(fake)["GET /ecom/v1/orders/*"] == 7
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1
    assert (warnings[0].__dict__["step"], warnings[0].__dict__["status"]) == ("search_orders", 400)
    assert "reads each order on its own" in warnings[0].getMessage()


@pytest.mark.parametrize(("refused", "endpoint"), [("transactions", TRANSACTIONS), ("fulfillments", FULFILLMENTS)])
def test_a_refused_list_by_ids_call_is_tried_once_and_only_that_part_is_read_per_order(
    refused: str, endpoint: str, caplog: pytest.LogCaptureFixture
) -> None:
    fake = FakeWix()
    fake.refused_lists.add(refused)
    orders = mixed(fake)
    with caplog.at_level(logging.WARNING, logger="wix_refunds"):
        outcomes = batch(fake, [(oid, None) for ids in orders.values() for oid in ids], group_size=4)
    assert all(o.status in (OutcomeStatus.COMPLETED, OutcomeStatus.ALREADY_DONE) for o in outcomes)
    calls = counts(fake)
    assert calls[endpoint] == 1
    assert calls[SEARCH] == 2
    single = "GET /ecom/v1/payments/orders/*" if refused == "transactions" else "GET /ecom/v1/fulfillments/orders/*"
    assert calls[single] == 2
    assert [r.__dict__["status"] for r in caplog.records] == [404]


def test_a_shared_read_that_keeps_failing_leaves_its_group_to_read_alone(caplog: pytest.LogCaptureFixture) -> None:
    fake = FakeWix()
    orders = mixed(fake)
    fake.fail_next("POST", "/ecom/v1/orders/search", 503, times=5)  # every attempt of the first search
    with caplog.at_level(logging.INFO, logger="wix_refunds"):
        outcomes = batch(fake, [(oid, None) for ids in orders.values() for oid in ids], group_size=4)
    assert all(o.status in (OutcomeStatus.COMPLETED, OutcomeStatus.ALREADY_DONE) for o in outcomes)
    assert counts(fake)[SEARCH] == 6  # five failed attempts for the first group, one for the second
    assert any("read on their own" in r.getMessage() for r in caplog.records if r.levelno == logging.INFO)
