"""Double refunds that benchmarks/fault_soak.py found, each reduced to its smallest schedule.

Each failed on the code the soak ran against and passes now. Each ends the way the soak's
caller does: after a typed error it runs again at once with the reference from the error,
and then there must be one refund of the amount asked.
"""

from __future__ import annotations

import contextlib
from decimal import Decimal

import pytest

from wix_refunds import OutcomeStatus, RefundDeclined, RefundRequest, WixOutcomeUnknown, WixRefundError
from wix_refunds.testing import FakeWix

from .runner import ScriptedTransport, run_refund

TEN = Decimal("10")


def test_with_reasonless_listings_an_unknown_outcome_does_not_promise_a_safe_rerun() -> None:
    # Wix lists refunds without reasons, so no later call could read this refund's tag:
    # the error must not invite the blind re-run that refunded twice in the soak.
    fake = FakeWix(list_reasons=False)
    oid = fake.add_order(total="100")
    request = RefundRequest(amount=TEN, reference="r-1")
    fake.lose_response_next("POST", "/ecom/v1/order-billing/refund-payments")
    with pytest.raises(WixOutcomeUnknown, match="check the order on Wix before refunding again") as caught:
        run_refund("sync", fake, oid, request)
    assert caught.value.rerun_safe is False
    assert "is safe" not in str(caught.value)
    assert fake.refunded_total(oid) == TEN


def test_read_failures_during_the_settle_window_do_not_invite_a_second_refund() -> None:
    fake = FakeWix()
    oid = fake.add_order(total="100")
    request = RefundRequest(amount=TEN, reference="s-1")
    # Wix applies the refund, the answer is lost, and the listing lags two reads behind
    # (as when Wix commits late); meanwhile every read of the settle window gets a 503.
    fake.hide_new_refund_next(reads=2)
    transport = ScriptedTransport(fake, ["ok"] * 3 + ["503"] * 5, writes=["lose"])
    with contextlib.suppress(WixRefundError):
        run_refund("sync", fake, oid, request, transport=transport)
    with contextlib.suppress(WixRefundError):
        run_refund("sync", fake, oid, request)
    assert fake.refunded_total(oid) == TEN


def test_an_earlier_declined_refund_is_not_taken_for_this_calls_unknown_one() -> None:
    fake = FakeWix()
    oid = fake.add_order(total="100")
    request = RefundRequest(amount=TEN, reference="d-2")
    fake.decline = "now"
    with pytest.raises(RefundDeclined):
        run_refund("sync", fake, oid, request)
    fake.decline = None
    # The new refund succeeds, its answer is lost, and the listing lags two reads behind.
    fake.hide_new_refund_next(reads=2)
    with contextlib.suppress(WixRefundError):
        run_refund("sync", fake, oid, request, transport=ScriptedTransport(fake, writes=["lose"]))
    with contextlib.suppress(WixRefundError):
        run_refund("sync", fake, oid, request)
    assert fake.refunded_total(oid) == TEN


def test_a_declined_refund_kept_in_the_journal_and_not_listed_yet_does_not_block_the_retry() -> None:
    # Soak schedule 8 (seed 1): Wix answers the refund FAILED and the journal keeps that
    # answer; the listing leaves the failed refund out for a read. The decline invites a
    # re-run with the same reference, which must try again, not ask a person to check Wix:
    # a refund Wix answered FAILED moves no money and will never land.
    fake = FakeWix()
    oid = fake.add_order(total="100")
    request = RefundRequest(amount=TEN, reference="d-3")
    fake.decline = "now"
    fake.hide_new_refund_next(reads=1)
    with pytest.raises(RefundDeclined):
        run_refund("sync", fake, oid, request)
    fake.decline = None
    outcome = run_refund("sync", fake, oid, request)
    assert outcome.status is OutcomeStatus.COMPLETED
    assert fake.refunded_total(oid) == TEN
    assert fake.count_writes("refund", oid) == 2
