"""Review findings on the journal and truthful outcomes (issues 21 and 22), each over FakeWix.

Wix's books (``refunded_total``, ``count_writes``) are the judge: every test names the
behaviour that failed before its fix.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest

from wix_refunds import (
    InvalidRequest,
    MemoryJournal,
    OutcomeStatus,
    RefundDeclined,
    RefundRequest,
    RetryPolicy,
    WixOutcomeUnknown,
)
from wix_refunds.testing import FakeWix

from .clients import Sleeps
from .runner import Crash, ScriptedTransport, run_refund

REFUND = "/ecom/v1/order-billing/refund-payments"
FORTY = Decimal("40")


def real_policy(settle: float = 5.0) -> RetryPolicy:
    """A policy that really waits (late writes land on a timer), with short backoffs."""
    return RetryPolicy(backoff=0.01, max_backoff=0.05, settle=settle)


def declined_once(fake: FakeWix, reference: str, amount: Decimal | None = FORTY) -> str:
    """Return an order paid 20.00 + 80.00 whose refund under ``reference`` had its part of the 80.00 declined."""
    oid = fake.add_order(total="100", payments=[("20", "online"), ("80", "online")])
    second = fake.payments[oid][1]["id"]
    fake.decline_payment(second)
    with pytest.raises(RefundDeclined):
        run_refund("sync", fake, oid, RefundRequest(amount=amount, reference=reference))
    fake.decline_payment(second, "never")
    return oid


class DiesAfterSending(httpx.BaseTransport):
    """FakeWix's transport; the process dies once its next refund write has reached Wix."""

    def __init__(self, fake: FakeWix) -> None:
        self.inner = fake.transport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/refund-payments"):
            try:
                self.inner.handle_request(request)
            finally:
                raise Crash()
        return self.inner.handle_request(request)


@pytest.mark.parametrize("amount", [FORTY, None])
def test_a_rerun_whose_own_write_is_lost_never_reports_done_on_the_declined_refund(amount: Any) -> None:
    fake = FakeWix()
    oid = declined_once(fake, "lost-1", amount)
    asked = FORTY if amount is not None else Decimal("100")
    fake.apply_late_next("POST", REFUND, after=0.3)
    outcome = run_refund("sync", fake, oid, RefundRequest(amount=amount, reference="lost-1"), policy=real_policy())
    fake.settle()
    assert fake.refunded_total(oid) == asked
    assert (outcome.status, outcome.refunded) == (OutcomeStatus.COMPLETED, asked), (
        f"Wix holds {fake.refunded_total(oid)}; the outcome says {outcome.status} {outcome.refunded}"
    )


def test_a_rerun_whose_own_write_never_reaches_wix_is_unknown_not_done() -> None:
    fake = FakeWix()
    oid = declined_once(fake, "lost-2")
    sleeps = Sleeps()
    with pytest.raises(WixOutcomeUnknown):
        run_refund(
            "sync",
            fake,
            oid,
            RefundRequest(amount=FORTY, reference="lost-2"),
            transport=ScriptedTransport(fake, writes=["503"]),
            sleeps=sleeps,
        )
    assert fake.refunded_total(oid) == Decimal("20")
    assert sum(sleeps) >= 120  # nothing showed in the whole settle window, waited on the test's clock


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_a_late_write_with_a_declined_part_is_declined_not_completed(kind: str) -> None:
    fake = FakeWix()
    oid = fake.add_order(total="50", payments=[("20", "online"), ("30", "online")])
    fake.decline_payment(fake.payments[oid][1]["id"])
    fake.apply_late_next("POST", REFUND, after=0.3)
    with pytest.raises(RefundDeclined):
        run_refund(kind, fake, oid, RefundRequest(amount=FORTY, reference="late-1"), policy=real_policy())
    assert fake.refunded_total(oid) == Decimal("20")


def test_a_rerun_after_a_process_died_paying_the_rest_waits_for_that_write() -> None:
    fake = FakeWix()
    oid = declined_once(fake, "died-1")
    # Wix commits the dead process's write 0.4 s after it came: the re-run, started at once, waits for it.
    fake.apply_late_next("POST", REFUND, after=0.4)
    with pytest.raises(Crash):
        run_refund("sync", fake, oid, RefundRequest(amount=FORTY, reference="died-1"), transport=DiesAfterSending(fake))
    again = run_refund("sync", fake, oid, RefundRequest(amount=FORTY, reference="died-1"), policy=real_policy())
    fake.settle()
    assert fake.refunded_total(oid) == FORTY, f"Wix holds {fake.refunded_total(oid)} for 40.00 asked"
    assert again.status in (OutcomeStatus.COMPLETED, OutcomeStatus.ALREADY_DONE)


def test_another_amount_under_a_twice_declined_reference_is_refused_not_paid_past_the_first_ask() -> None:
    fake = FakeWix()
    oid = fake.add_order(total="100", payments=[("20", "online"), ("80", "online")])
    second = fake.payments[oid][1]["id"]
    fake.decline_payment(second)
    for _ in range(2):
        with pytest.raises(RefundDeclined):
            run_refund("sync", fake, oid, RefundRequest(amount=FORTY, reference="twice-1"))
    fake.decline_payment(second, "never")
    MemoryJournal().clear()  # a restarted service: the library's default journal is in memory
    with pytest.raises(InvalidRequest, match=r"first asked 40\.00 USD"):
        run_refund("sync", fake, oid, RefundRequest(amount=Decimal("60"), reference="twice-1"))
    assert fake.refunded_total(oid) == Decimal("20"), f"Wix holds {fake.refunded_total(oid)} for 40.00 asked"
    again = run_refund("sync", fake, oid, RefundRequest(amount=FORTY, reference="twice-1"))
    assert (again.status, fake.refunded_total(oid)) == (OutcomeStatus.COMPLETED, FORTY)
