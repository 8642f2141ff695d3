from __future__ import annotations

import pytest

from wix_refunds import WixAPIError, WixAuthError, WixNotFound
from wix_refunds.core import (
    WixConnectionError,
    WixInvalidResponse,
    WixPreconditionFailed,
    WixRateLimited,
    WixServerError,
)
from wix_refunds.core._actions import ItemsAsked, PaymentRefund
from wix_refunds.core._failures import ROWS, meaning_of, status_error
from wix_refunds.wix import _more_calls, _wire
from wix_refunds.wix._errors import error_from_response


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, WixAPIError),
        (401, WixAuthError),
        (403, WixAuthError),
        (404, WixNotFound),
        (409, WixAPIError),
        (428, WixPreconditionFailed),
        (429, WixRateLimited),
        (500, WixServerError),
        (503, WixServerError),
        (302, WixAPIError),
    ],
)
def test_each_error_status_maps_to_its_exception_class(status: int, error: type[WixAPIError]) -> None:
    assert status_error(status) is error


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (WixConnectionError("x", request_sent=False), "httpx, never sent"),
        (WixConnectionError("x", request_sent=True), "httpx, maybe sent"),
        (WixServerError("x", status=502), "5xx"),
        (WixInvalidResponse("x", status=200), "2xx, unreadable body"),
        (WixAPIError("x", status=400), "other status"),
    ],
)
def test_a_failure_is_read_from_its_row(error: Exception, kind: str) -> None:
    meaning = meaning_of(error)
    assert meaning is not None
    assert meaning.kind == kind


def test_a_failure_the_table_does_not_know_has_no_row() -> None:
    assert meaning_of(ValueError("a bug")) is None


def test_only_a_write_that_may_have_reached_wix_is_unknown_and_never_resent() -> None:
    for row in ROWS:
        assert not (row.write_unknown and row.retry_write), row.kind


_FORBIDDEN = b'{"message": "denied", "details": {"applicationError": {"code": "PERMISSION_DENIED"}}}'
ORDER = "0c87cd5d-4059-4e86-8f6e-d185b1e4a1bd"
OTHER = "7206d5d6-74a5-4f2c-8e53-3b0ef2f0bd1e"


@pytest.mark.parametrize(
    ("call", "label", "permission_id"),
    [
        (_wire.get_order(ORDER), "Wix Stores (Read Orders)", "ECOM.READ_ORDERS"),
        (_wire.list_transactions(ORDER), "Wix Stores (Read Orders)", "ECOM.READ_TRANSACTIONS"),
        (_wire.list_fulfillments(ORDER), "Wix Stores (Read Orders)", "ECOM.READ_FULFILLMENTS"),
        (_wire.cancel_order(ORDER), "Wix Stores (Manage Orders)", "ECOM.MODIFY_ORDERS"),
        (_wire.delete_fulfillment(ORDER, OTHER), "Wix Stores (Manage Orders)", "ECOM.MODIFY_FULFILLMENTS"),
        (_wire.get_refundability(ORDER), "Wix Stores (Manage Orders)", "ECOM.ORDER_BILLING_GET_ORDER_REFUNDABILITY"),
        (
            _wire.calculate_refund(ORDER, ItemsAsked()),
            "Wix Stores (Manage Orders)",
            "ECOM.ORDER_BILLING_CALCULATE_REFUND",
        ),
        (
            _wire.refund_payments(ORDER, [PaymentRefund(payment_id=OTHER, amount=None)]),
            "Wix Stores (Manage Orders)",
            "ECOM.ORDER_BILLING_REFUND_PAYMENTS",
        ),
        (
            _more_calls.probe_write("refund", ORDER, OTHER),
            "Wix Stores (Manage Orders)",
            "ECOM.ORDER_BILLING_REFUND_PAYMENTS",
        ),
        (_more_calls.list_transactions_by_ids([ORDER]), "Wix Stores (Read Orders)", "ECOM.READ_TRANSACTIONS"),
        (_more_calls.search_orders_by_ids([ORDER]), "Wix Stores (Read Orders)", "ECOM.READ_ORDERS"),
    ],
    ids=lambda value: getattr(value, "operation", None),
)
def test_a_403_names_the_dashboard_label_and_wixs_permission_id(
    call: _wire.WireCall[object], label: str, permission_id: str
) -> None:
    error = error_from_response(403, {}, _FORBIDDEN, call, site_id=ORDER)
    assert isinstance(error, WixAuthError)
    assert f"lacks the {label} ({permission_id}) permission" in str(error)


def test_a_403_on_a_call_whose_types_name_no_permission_id_names_the_label_alone() -> None:
    error = error_from_response(403, {}, _FORBIDDEN, _more_calls.list_currencies(), site_id=ORDER)
    assert "lacks the Wix Currencies permission" in str(error)
    assert "ECOM." not in str(error)


def test_every_permission_id_is_one_wixs_sdk_types_tag_a_method_with() -> None:
    # docs/wix-api.md revision 4 item 43: the @permissionId tags of the methods used.
    assert set(_wire.PERMISSION_IDS.values()) == {
        "ECOM.READ_ORDERS",
        "ECOM.READ_TRANSACTIONS",
        "ECOM.READ_FULFILLMENTS",
        "ECOM.ORDER_BILLING_GET_ORDER_REFUNDABILITY",
        "ECOM.ORDER_BILLING_CALCULATE_REFUND",
        "ECOM.ORDER_BILLING_REFUND_PAYMENTS",
        "ECOM.MODIFY_ORDERS",
        "ECOM.MODIFY_FULFILLMENTS",
    }
