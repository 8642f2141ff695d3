"""Outcomes that tell Wix's truth (issue 22): pending is not done, a declined part is not done.

Every case runs through FakeWix, whose books are the judge: what an outcome says must be
what Wix holds, and a re-run with the same reference must converge on what was asked,
never pass it.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from wix_refunds import (
    InvalidRequest,
    MemoryJournal,
    OutcomeStatus,
    RefundDeclined,
    RefundItem,
    RefundRequest,
    WixClient,
    reconcile,
)
from wix_refunds.testing import FakeWix

from .command import cli, records, write_csv
from .runner import run_refund

FORTY = Decimal("40")


def two_payments(fake: FakeWix) -> tuple[str, str, str]:
    """Return an order paid 20.00 + 30.00 online, and its two payment IDs."""
    oid = fake.add_order(total="50", payments=[("20", "online"), ("30", "online")])
    first, second = (p["id"] for p in fake.payments[oid])
    return oid, first, second


@pytest.mark.parametrize("kind", ["sync", "async"])
@pytest.mark.parametrize("status", ["PENDING", "SCHEDULED", "STARTED"])
def test_a_refund_wix_has_not_settled_is_pending_not_completed(kind: str, status: str) -> None:
    fake = FakeWix()
    oid = fake.add_order(total="100")
    fake.refund_status = status
    outcome = run_refund(kind, fake, oid, RefundRequest(amount=Decimal("10"), reference="p-1"))
    assert outcome.status is OutcomeStatus.PENDING
    assert outcome.refunded == Decimal("10")
    fake.finish_refunds(oid)
    again = run_refund(kind, fake, oid, RefundRequest(amount=Decimal("10"), reference="p-1"))
    assert again.status is OutcomeStatus.ALREADY_DONE
    assert fake.count_writes("refund", oid) == 1


@pytest.mark.parametrize("when", ["now", "later"])
def test_a_declined_part_is_not_done_and_the_rerun_pays_exactly_what_is_owed(when: str) -> None:
    fake = FakeWix()
    oid, _, second = two_payments(fake)
    fake.decline_payment(second, when)
    request = RefundRequest(amount=FORTY, reference="d-1")
    if when == "now":
        with pytest.raises(RefundDeclined) as caught:
            run_refund("sync", fake, oid, request)
        assert caught.value.refunded is not None
        assert caught.value.declined is not None
        assert caught.value.refunded + caught.value.declined == FORTY
        assert "pays only what is still owed" in str(caught.value)
    else:
        assert run_refund("sync", fake, oid, request).status is OutcomeStatus.PENDING
    held = fake.refunded_total(oid)
    assert held < FORTY or when == "later"
    fake.decline_payment(second, "never")
    again = run_refund("sync", fake, oid, request)
    assert again.status is OutcomeStatus.COMPLETED
    assert fake.refunded_total(oid) == FORTY, f"Wix holds {fake.refunded_total(oid)} for 40.00 asked"
    third = run_refund("sync", fake, oid, request)
    assert third.status is OutcomeStatus.ALREADY_DONE
    assert third.refunded == FORTY
    assert fake.count_writes("refund", oid) == 2


def test_a_full_refund_with_a_declined_part_is_finished_by_a_rerun_and_never_passed() -> None:
    fake = FakeWix()
    oid, _, second = two_payments(fake)
    fake.decline_payment(second)
    with pytest.raises(RefundDeclined):
        run_refund("sync", fake, oid, RefundRequest(reference="full-1"))
    assert fake.refunded_total(oid) == Decimal("20")
    fake.decline_payment(second, "never")
    again = run_refund("sync", fake, oid, RefundRequest(reference="full-1"))
    assert again.status is OutcomeStatus.COMPLETED
    assert fake.refunded_total(oid) == Decimal("50")
    third = run_refund("sync", fake, oid, RefundRequest(reference="full-1"))
    assert third.status is OutcomeStatus.ALREADY_DONE
    assert fake.count_writes("refund", oid) == 2


def test_a_rerun_with_another_amount_than_the_declined_refund_asked_is_refused() -> None:
    fake = FakeWix()
    oid, _, second = two_payments(fake)
    fake.decline_payment(second)
    with pytest.raises(RefundDeclined):
        run_refund("sync", fake, oid, RefundRequest(amount=FORTY, reference="d-2"))
    fake.decline_payment(second, "never")
    with pytest.raises(Exception, match="nothing was sent"):
        run_refund("sync", fake, oid, RefundRequest(amount=Decimal("45"), reference="d-2"))
    assert fake.count_writes("refund", oid) == 1


def test_a_declined_item_refund_is_paid_by_amount_on_the_rerun_when_wix_no_longer_offers_the_items() -> None:
    fake = FakeWix()
    oid = fake.add_order(total="35", line_items=[3])
    line = fake.orders[oid]["lineItems"][0]["id"]
    (payment,) = (p["id"] for p in fake.payments[oid])
    request = RefundRequest(items=(RefundItem(line_item_id=line, quantity=1, restock=True),), reference="it-1")
    fake.decline_payment(payment)
    with pytest.raises(RefundDeclined):
        run_refund("sync", fake, oid, request)
    fake.decline_payment(payment, "never")
    again = run_refund("sync", fake, oid, request)
    assert again.status is OutcomeStatus.COMPLETED
    assert fake.refunded_total(oid) == Decimal("11.67"), f"Wix holds {fake.refunded_total(oid)} for one of 3 units"
    assert run_refund("sync", fake, oid, request).status is OutcomeStatus.ALREADY_DONE
    assert fake.count_writes("refund", oid) == 2


def test_the_command_prints_a_pending_refund_as_pending_and_the_batch_counts_it_apart(
    fake: FakeWix, served: str, tmp_path: Path
) -> None:
    oid = fake.add_order(total="100")
    fake.refund_status = "PENDING"
    one = cli(fake, served, "refund", oid, "--amount", "10", "--yes")
    assert one.returncode == 0, one.stderr
    assert "PENDING" in one.stdout
    assert "pending on Wix: 10.00 USD not settled yet" in one.stdout
    others = [fake.add_order(total="100") for _ in range(2)]
    path = write_csv(tmp_path / "in.csv", [f"{o},5,," for o in others])
    batch = cli(fake, served, "--json", "batch", str(path), "--yes")
    summary = records(batch.stdout)[-1]
    assert summary["statuses"] == {"PENDING": 2}
    assert summary["pending"] == {"USD": "10.00"}
    assert summary["refunded"] == {}


def test_items_refunded_and_restocked_come_from_wixs_books_not_the_request() -> None:
    fake = FakeWix()
    oid = fake.add_order(total="35", line_items=[3])
    line = fake.orders[oid]["lineItems"][0]["id"]
    request = RefundRequest(items=(RefundItem(line_item_id=line, quantity=2, restock=1),), reference="ib-1")
    outcome = run_refund("sync", fake, oid, request)
    assert outcome.status is OutcomeStatus.COMPLETED
    assert [(i.id, i.quantity) for i in outcome.items_refunded] == [(line, 2)]
    assert [(i.id, i.quantity) for i in outcome.items_restocked] == [(line, 1)]
    again = run_refund("sync", fake, oid, request)
    assert (again.status, again.items_refunded, again.items_restocked) == (
        OutcomeStatus.ALREADY_DONE,
        outcome.items_refunded,
        outcome.items_restocked,
    )


def test_the_same_reference_with_other_items_is_refused_and_nothing_is_sent() -> None:
    fake = FakeWix()
    oid = fake.add_order(total="35", line_items=[3, 2])
    first, second = (line["id"] for line in fake.orders[oid]["lineItems"])
    run_refund("sync", fake, oid, RefundRequest(items=(RefundItem(line_item_id=first, quantity=1),), reference="io-1"))
    other = RefundRequest(items=(RefundItem(line_item_id=second, quantity=1),), reference="io-1")
    with pytest.raises(InvalidRequest, match=r"asking 1 x line .*1\b.* but this request asks 1 x line .*2\b"):
        run_refund("sync", fake, oid, other)  # the journal names both
    MemoryJournal().clear()  # a journal that never saw it: Wix's books name the items
    with pytest.raises(InvalidRequest, match="with the items 1 x"):
        run_refund("sync", fake, oid, other)
    assert fake.count_writes("refund", oid) == 1


def test_reconcile_holds_a_declined_item_refund_paid_again_by_amount_as_matching() -> None:
    fake = FakeWix()
    oid = fake.add_order(total="35", line_items=[3])
    line = fake.orders[oid]["lineItems"][0]["id"]
    (payment,) = (p["id"] for p in fake.payments[oid])
    request = RefundRequest(items=(RefundItem(line_item_id=line, quantity=1),), reference="rc-1")
    journal = MemoryJournal()
    fake.decline_payment(payment)
    with pytest.raises(RefundDeclined):
        run_refund("sync", fake, oid, request, journal=journal)
    with httpx.Client(transport=fake.transport()) as http:
        client = WixClient(fake.credentials, base_url=FakeWix.BASE_URL, http_client=http, rate_limit=None)
        assert [m.kind.value for m in reconcile(client, journal).mismatches] == ["FAILED"]
        fake.decline_payment(payment, "never")
        assert run_refund("sync", fake, oid, request, journal=journal).status is OutcomeStatus.COMPLETED
        assert reconcile(client, journal).mismatches == ()
