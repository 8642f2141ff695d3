"""The one derivation of a reference from what is asked, shared by batch rows and ``wix-refunds refund``."""

from __future__ import annotations

from decimal import Decimal

import pytest

from wix_refunds import ALL_LEFT, FeeRefund, RefundItem, RefundRequest
from wix_refunds.core._references import derive_reference

A = "3f2a6c1e-8b1d-4c55-9a3e-2d6f0b7c9e41"
B = "0c87cd5d-4059-4e86-8f6e-d185b1e4a1bd"
L1 = RefundItem(line_item_id="L-1", quantity=2, restock=True)
L2 = RefundItem(line_item_id="L-2", quantity=1)


def test_a_derived_reference_depends_on_the_row_not_on_the_reason_or_the_case_of_the_order() -> None:
    ref = derive_reference(A, RefundRequest(amount=Decimal("12.50"), reason="late"), 0)
    assert ref == derive_reference(A.upper(), RefundRequest(amount=Decimal("12.5"), reason="damaged"), 0)
    assert ref == derive_reference(A, RefundRequest(amount="12.5", notify_customer=True))
    assert ref.startswith("b-")
    assert len(ref) == 22
    assert ref != derive_reference(A, RefundRequest(amount=Decimal("12.50")), 1)
    assert ref != derive_reference(A, RefundRequest(), 0)
    assert ref != derive_reference(B, RefundRequest(amount=Decimal("12.50")), 0)


def test_references_derived_before_the_command_shared_the_derivation_are_unchanged() -> None:
    # Batch files run before keep finding their refunds on Wix: these are the old values.
    assert derive_reference(A, RefundRequest(amount=Decimal("12.50"))) == "b-435e60718e04aea1ff71"
    assert derive_reference(A, RefundRequest(), 1) == "b-4c4a513738302f097e5a"
    assert derive_reference(A, RefundRequest(items=[L1, L2])) == "b-1644410afa2aeb783623"


def test_items_derive_one_reference_whatever_their_order() -> None:
    assert derive_reference(A, RefundRequest(items=[L1, L2])) == derive_reference(A, RefundRequest(items=[L2, L1]))


@pytest.mark.parametrize(
    "other",
    [
        RefundRequest(items=[RefundItem(line_item_id="L-1", quantity=2), L2]),
        RefundRequest(items=[RefundItem(line_item_id="L-1", quantity=2, restock=1), L2]),
        RefundRequest(items=[L1]),
        RefundRequest(items=[L1, L2], amount=Decimal("3")),
        RefundRequest(items=[L1, L2], shipping=ALL_LEFT),
        RefundRequest(items=[L1, L2], fees=[FeeRefund(fee_id="f-1")]),
        RefundRequest(items=[L1, L2], restock=True),
    ],
    ids=["no restock", "restock one", "one line", "an amount", "shipping", "a fee", "restock flag"],
)
def test_every_part_of_what_is_asked_changes_the_reference_of_an_item_refund(other: RefundRequest) -> None:
    assert derive_reference(A, other) != derive_reference(A, RefundRequest(items=[L1, L2]))


@pytest.mark.parametrize(
    ("one", "other"),
    [
        (RefundRequest(shipping=ALL_LEFT), RefundRequest(shipping=Decimal("4"))),
        (RefundRequest(shipping=Decimal("4")), RefundRequest(shipping=Decimal("5"))),
        (RefundRequest(fees=[FeeRefund(fee_id="f-1")]), RefundRequest(fees=[FeeRefund(fee_id="f-2")])),
        (RefundRequest(fees=[FeeRefund(fee_id="f-1")]), RefundRequest(fees=[FeeRefund(fee_id="f-1", amount="1")])),
        (RefundRequest(), RefundRequest(restock=True)),
        (RefundRequest(amount=Decimal("3")), RefundRequest(amount=Decimal("3"), restock=True)),
    ],
)
def test_shipping_fees_and_restock_each_change_the_reference(one: RefundRequest, other: RefundRequest) -> None:
    assert derive_reference(A, one) != derive_reference(A, other)


def test_the_same_shipping_written_two_ways_derives_one_reference() -> None:
    assert derive_reference(A, RefundRequest(shipping=Decimal("4.50"))) == derive_reference(
        A, RefundRequest(shipping=Decimal("4.5"))
    )


def test_a_second_item_refund_of_the_same_items_is_told_apart_by_its_occurrence() -> None:
    asked = RefundRequest(items=[L1])
    assert derive_reference(A, asked, 1) != derive_reference(A, asked, 0)
