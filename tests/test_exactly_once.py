"""Exactly once for partial refunds: each finding of the exactly-once issue, over FakeWix.

Every test here failed on the main branch before the books decided (a refund is done
when its tagged refund is on Wix), and passes now.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import httpx
import pytest

from wix_refunds import (
    AsyncWixClient,
    InvalidRequest,
    OutcomeStatus,
    RefundDeclined,
    RefundNotSupported,
    RefundRequest,
    RetryPolicy,
    WixClient,
    WixOutcomeUnknown,
    refund_order,
    refund_order_async,
)
from wix_refunds.testing import FakeWix

from .clients import Sleeps, fast_policy
from .runner import Crash, ScriptedTransport, run_refund

KINDS = ["sync", "async"]
REFUND = "/ecom/v1/order-billing/refund-payments"
TEN = Decimal("10")


def real_policy(settle: float = 5.0) -> RetryPolicy:
    """A policy that really waits (late writes land on a timer), with short backoffs."""
    return RetryPolicy(backoff=0.01, max_backoff=0.05, settle=settle)


def tagged(fake: FakeWix, order_id: str, reference: str) -> list[dict[str, object]]:
    tag = f"[ref:{reference}]"
    reasons = [(r, str(r["details"].get("reason", ""))) for r in fake.refunds[order_id]]
    return [r for r, reason in reasons if reason == tag or reason.endswith(" " + tag)]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("reference", [None, "case-1"])
def test_refund_wix_commits_after_the_client_gave_up_is_not_sent_again(kind: str, reference: str | None) -> None:
    fake = FakeWix()
    oid = fake.add_order(total="100")
    fake.apply_late_next("POST", REFUND, after=0.3)
    outcome = run_refund(kind, fake, oid, RefundRequest(amount=TEN, reference=reference), policy=real_policy())
    fake.settle()
    assert fake.refunded_total(oid) == TEN
    assert fake.count_writes("refund", oid) == 1
    assert (outcome.status, outcome.refunded) == (OutcomeStatus.COMPLETED, TEN)
    assert outcome.reference == (reference or outcome.reference)
    assert len(tagged(fake, oid, outcome.reference or "")) == 1


def test_served_refund_that_outlasts_the_client_timeout_is_not_sent_again() -> None:
    fake = FakeWix()
    oid = fake.add_order(total="100")
    # Wix commits it 0.6 s after it came, past the client's 0.4 s timeout: the re-read that
    # follows the timeout finds nothing yet; the next, 0.5 s later, finds it.
    fake.apply_late_next("POST", REFUND, after=0.6)
    policy = real_policy()
    with fake.serve() as url, WixClient(fake.credentials, base_url=url, timeout=0.4, retry=policy) as c:
        outcome = refund_order(c, oid, RefundRequest(amount=TEN))
    fake.settle()
    assert (outcome.status, fake.refunded_total(oid), fake.count_writes("refund", oid)) == (
        OutcomeStatus.COMPLETED,
        TEN,
        1,
    )


def test_a_refund_that_never_shows_in_the_settle_window_is_reported_with_its_reference() -> None:
    fake = FakeWix()
    oid = fake.add_order(total="100")
    sleeps = Sleeps()
    with pytest.raises(WixOutcomeUnknown, match="Running again with reference") as caught:
        run_refund(
            "sync",
            fake,
            oid,
            RefundRequest(amount=TEN),
            sleeps=sleeps,
            transport=ScriptedTransport(fake, writes=["503"]),
        )
    assert fake.count_writes("refund", oid) == 0
    assert sum(sleeps) >= 120  # the whole default settle window was waited out
    assert caught.value.order_id == oid
    reference = caught.value.reference
    assert reference is not None
    again = run_refund("sync", fake, oid, RefundRequest(amount=TEN, reference=reference))
    assert (again.status, fake.refunded_total(oid)) == (OutcomeStatus.COMPLETED, TEN)


@pytest.mark.parametrize("kind", KINDS)
def test_someone_elses_refund_of_the_same_amount_is_not_taken_for_ours(kind: str) -> None:
    fake = FakeWix()
    oid = fake.add_order(total="100")
    # Our refund answers 503 (not applied); someone else's 10 lands before the re-read.
    fake.fail_next("POST", REFUND, 503)
    fake.foreign_refund_next("POST", REFUND, "10")
    with pytest.raises(WixOutcomeUnknown) as caught:
        run_refund(kind, fake, oid, RefundRequest(amount=TEN))
    assert fake.count_writes("refund", oid) == 0
    assert "lists no reason" in str(caught.value)


def test_someone_elses_tagged_refund_of_the_same_amount_does_not_complete_ours() -> None:
    fake = FakeWix()
    oid = fake.add_order(total="100")
    fake.fail_next("POST", REFUND, 503)
    fake.add_foreign_refund(oid, "10", reason="dashboard refund [ref:someone-else]")
    with pytest.raises(WixOutcomeUnknown):
        run_refund("sync", fake, oid, RefundRequest(amount=TEN, reference="mine"))
    assert tagged(fake, oid, "mine") == []


@pytest.mark.parametrize("kind", KINDS)
def test_a_2xx_answer_whose_transactions_lag_does_not_cause_a_second_refund(kind: str) -> None:
    fake = FakeWix()
    oid = fake.add_order(total="100")
    fake.hide_new_refund_next(reads=3)
    outcome = run_refund(kind, fake, oid, RefundRequest(amount=TEN))
    assert (outcome.status, outcome.refunded) == (OutcomeStatus.COMPLETED, TEN)
    assert fake.count_writes("refund", oid) == 1


@pytest.mark.parametrize("kind", KINDS)
def test_a_provider_that_declines_at_once_ends_the_call_after_one_request(kind: str) -> None:
    fake = FakeWix()
    oid = fake.add_order(total="100")
    fake.decline = "now"
    with pytest.raises(RefundDeclined, match="FAILED") as caught:
        run_refund(kind, fake, oid, RefundRequest(amount=TEN, reference="d-1"))
    assert len(fake.calls(method="POST", path=REFUND)) == 1
    assert caught.value.payment_id == fake.payments[oid][0]["id"]
    assert caught.value.reference == "d-1"


def test_a_refund_declined_later_is_retried_only_by_a_new_call() -> None:
    fake = FakeWix()
    oid = fake.add_order(total="100")
    fake.decline = "later"
    request = RefundRequest(amount=TEN, reference="p-1")
    assert run_refund("sync", fake, oid, request).status is OutcomeStatus.PENDING
    fake.decline = None
    again = run_refund("sync", fake, oid, request)  # the listing now shows it FAILED
    assert again.status is OutcomeStatus.COMPLETED
    assert fake.refunded_total(oid) == TEN
    assert fake.count_writes("refund", oid) == 2


def test_a_paid_order_whose_transactions_list_no_payment_is_refused_not_already_done() -> None:
    fake = FakeWix()
    oid = fake.add_order(payments="none", payment_status="PAID")
    with pytest.raises(RefundNotSupported, match="lists no captured payment"):
        run_refund("sync", fake, oid)
    assert fake.writes == []


@pytest.mark.parametrize("reason", ["goodwill [ref:T-2] extra", "[ref:T-20]", "x[ref:xT-2]", "x[ref:T-2]"])
def test_a_tag_inside_another_reason_does_not_make_a_reference_look_done(reason: str) -> None:
    fake = FakeWix()
    oid = fake.add_order(total="100")
    fake.add_foreign_refund(oid, "10", reason=reason)
    outcome = run_refund("sync", fake, oid, RefundRequest(amount=TEN, reference="T-2"))
    assert outcome.status is OutcomeStatus.COMPLETED
    assert len(tagged(fake, oid, "T-2")) == 1


def test_same_reference_with_another_amount_is_refused_and_nothing_is_sent() -> None:
    fake = FakeWix()
    oid = fake.add_order(total="100")
    run_refund("sync", fake, oid, RefundRequest(amount=TEN, reference="T-3"))
    with pytest.raises(InvalidRequest, match=r"10\.00 USD|10 USD") as caught:
        run_refund("sync", fake, oid, RefundRequest(amount=Decimal("12"), reference="T-3"))
    assert "12" in str(caught.value)
    assert fake.count_writes("refund", oid) == 1


def test_a_reason_carrying_a_tag_of_its_own_is_refused() -> None:
    with pytest.raises(InvalidRequest, match=r"\[ref:"):
        RefundRequest(reason="refund [ref:x]")


@pytest.mark.parametrize("kind", KINDS)
def test_reasonless_listings_after_a_lost_answer_never_refund_on_top(kind: str) -> None:
    fake = FakeWix(list_reasons=False)
    oid = fake.add_order(total="100")
    fake.lose_response_next("POST", REFUND)
    with pytest.raises(WixOutcomeUnknown, match="lists no reason"):
        run_refund(kind, fake, oid, RefundRequest(amount=TEN))
    assert fake.count_writes("refund", oid) == 1


def test_outcome_counts_only_this_calls_refund() -> None:
    fake = FakeWix()
    oid = fake.add_order(total="100", refunded="30")
    outcome = run_refund("sync", fake, oid, RefundRequest(amount=TEN))
    assert outcome.refunded == TEN


def test_twenty_tasks_with_a_late_write_still_give_one_refund() -> None:
    fake = FakeWix()
    oid = fake.add_order(total="100")
    fake.apply_late_next("POST", REFUND, after=0.2)
    request = RefundRequest(amount=TEN, reference="same")

    async def go() -> list[OutcomeStatus]:
        async with httpx.AsyncClient(transport=fake.transport()) as http:
            client = AsyncWixClient(
                fake.credentials, base_url=FakeWix.BASE_URL, http_client=http, retry=real_policy(), rate_limit=None
            )
            outcomes = await asyncio.gather(*(refund_order_async(client, oid, request) for _ in range(20)))
            return [o.status for o in outcomes]

    statuses = asyncio.run(go())
    fake.settle()
    assert fake.count_writes("refund", oid) == 1
    assert statuses.count(OutcomeStatus.COMPLETED) == 1
    _ = fast_policy  # the fast policy is for tests whose waits need not pass


@pytest.mark.parametrize("status", ["PENDING", "SCHEDULED", "STARTED"])
def test_a_refund_wix_holds_in_flight_counts_and_is_never_sent_twice(status: str) -> None:
    fake = FakeWix()
    oid = fake.add_order(total="100")
    fake.refund_status = status
    request = RefundRequest(amount=TEN, reference="f-1")
    first = run_refund("sync", fake, oid, request)
    again = run_refund("sync", fake, oid, request)
    assert (first.status, first.refunded, again.status) == (OutcomeStatus.PENDING, TEN, OutcomeStatus.PENDING)
    assert fake.count_writes("refund", oid) == 1


def test_a_lost_postgres_session_stops_the_refund_before_its_write(postgres: Any) -> None:
    import psycopg

    from wix_refunds import MemoryJournal
    from wix_refunds.core import LockLost
    from wix_refunds.journal.postgres import PostgresLocks

    fake = FakeWix()
    oid = fake.add_order(total="100")
    dsn = postgres.dsn()

    class EndSessionsOnRefundability(httpx.BaseTransport):
        """Wix's transport, but the lock's PostgreSQL session dies as refundability is read."""

        def __init__(self) -> None:
            self.inner = fake.transport()

        def handle_request(self, request: httpx.Request) -> httpx.Response:
            if request.url.path.endswith("get-order-refundability"):
                with psycopg.connect(dsn, autocommit=True) as admin:
                    admin.execute(
                        "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' "
                        "AND pid <> pg_backend_pid()"
                    )
            return self.inner.handle_request(request)

    with httpx.Client(transport=EndSessionsOnRefundability()) as http:
        client = WixClient(fake.credentials, base_url=FakeWix.BASE_URL, http_client=http, rate_limit=None)
        with pytest.raises(LockLost):
            refund_order(client, oid, RefundRequest(amount=TEN), journal=MemoryJournal(locks=PostgresLocks(dsn)))
        assert fake.writes == []
        # locks=PostgresLocks stands for the PostgreSQL journal, whose locks are rows that
        # outlive a session: the refund goes on, once.
        outcome = refund_order(client, oid, RefundRequest(amount=TEN), locks=PostgresLocks(dsn))
    assert outcome.status is OutcomeStatus.COMPLETED
    assert fake.count_writes("refund", oid) == 1


def test_reads_failing_until_the_settle_window_ends_report_the_outcome_unknown_with_the_reference() -> None:
    fake = FakeWix()
    oid = fake.add_order(total="100")
    transport = ScriptedTransport(fake, ["ok"] * 3 + ["503"] * 400, writes=["503"])
    with pytest.raises(WixOutcomeUnknown, match="Running again with reference u-1 is safe") as caught:
        run_refund("sync", fake, oid, RefundRequest(amount=TEN, reference="u-1"), transport=transport)
    assert caught.value.reference == "u-1"
    assert fake.count_writes("refund", oid) == 0


def test_an_unknown_outcome_says_whether_a_rerun_with_its_reference_is_safe() -> None:
    readable = FakeWix()
    oid = readable.add_order(total="100")
    with pytest.raises(WixOutcomeUnknown) as caught:
        run_refund(
            "sync", readable, oid, RefundRequest(amount=TEN), transport=ScriptedTransport(readable, writes=["503"])
        )
    assert caught.value.rerun_safe is True
    reasonless = FakeWix(list_reasons=False)
    oid = reasonless.add_order(total="100")
    reasonless.lose_response_next("POST", "/ecom/v1/order-billing/refund-payments")
    with pytest.raises(WixOutcomeUnknown, match="check the order on Wix before refunding again") as caught:
        run_refund("sync", reasonless, oid, RefundRequest(amount=TEN))
    assert caught.value.rerun_safe is False


def test_where_no_refund_lists_a_reason_a_referenced_partial_is_not_sent_on_top_of_a_lookalike() -> None:
    # A process stopped after Wix applied its refund; Wix lists no reasons, so the re-run
    # cannot read the tag: it must not refund the same payments and amounts again.
    fake = FakeWix(list_reasons=False)
    oid = fake.add_order(total="100")
    request = RefundRequest(amount=TEN, reference="w-1")
    with pytest.raises(Crash):
        run_refund("sync", fake, oid, request, transport=ScriptedTransport(fake, writes=["crash_after"]))
    with pytest.raises(WixOutcomeUnknown, match="may be an earlier run of reference w-1") as caught:
        run_refund("sync", fake, oid, request)
    assert caught.value.rerun_safe is False
    assert fake.refunded_total(oid) == TEN


def test_where_reasons_are_listed_a_reasonless_refund_is_someone_elses_and_does_not_block() -> None:
    fake = FakeWix()
    oid = fake.add_order(total="100")
    run_refund("sync", fake, oid, RefundRequest(amount=Decimal("5"), reference="w-2"))  # listed with its reason
    fake.add_foreign_refund(oid, "10")  # a dashboard refund without a reason
    outcome = run_refund("sync", fake, oid, RefundRequest(amount=TEN, reference="w-3"))
    assert (outcome.status, fake.refunded_total(oid)) == (OutcomeStatus.COMPLETED, Decimal("25"))
