"""The wire contract (docs/wix-api.md) held against Wix's examples, its SDK types and FakeWix.

Three promises are checked here:

* every response example Wix documents (``tests/fixtures/``) is read by the library;
* every request the library builds fits the schema taken from Wix's SDK types
  (``tests/schemas/``) and uses the keys and JSON types of Wix's request example;
* every answer FakeWix gives fits the response schema, so the fake cannot drift from Wix.

A case marked ``xfail(strict=True)`` is a known gap between the library (or FakeWix) and
the contract; its reason says what is wrong today. Remove the marker with the fix.
"""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import attrs
import httpx
import pytest

from wix_refunds import ALL_LEFT, FeeRefund, InvalidRequest, RefundItem, RefundRequest, WixClient, refund_order
from wix_refunds.core._actions import WRITES, Cancel, DeleteOne, ItemsAsked, Observed, PaymentRefund, Refund, Write
from wix_refunds.core._references import customer_reason, reference_of
from wix_refunds.testing import FakeWix
from wix_refunds.wix import _more_calls, _parse, _read, _wire

from .contract import SCHEMAS, fixture, fixture_bytes, fixture_names, schema, schema_errors, shape, validate

ORDER_ID = "0c87cd5d-4059-4e86-8f6e-d185b1e4a1bd"
PAYMENT_ID = "7206d5d6-74a5-4f2c-8e53-3b0ef2f0bd1e"
OTHER_PAYMENT_ID = "b2215acc-4222-49a6-96ab-41f83272d603"
SITE_ID = "eb1167b3-67a9-4378-bc65-c1e582e2e662"
OLD = "2024-03-01T10:00:00.000Z"

# --- the schemas themselves ------------------------------------------------------------------

SCHEMA_NAMES = sorted(path.stem for path in SCHEMAS.glob("*.json"))


def test_there_is_a_schema_for_every_body_sent_and_every_answer_read() -> None:
    wanted = {schema_name for schema_name, _ in BODIES.values() if schema_name}
    wanted |= {name for _, name, _ in ANSWERS.values()}
    assert wanted <= set(SCHEMA_NAMES)


@pytest.mark.parametrize("name", SCHEMA_NAMES)
def test_every_schema_names_the_sdk_package_version_and_interfaces_it_was_taken_from(name: str) -> None:
    loaded = schema(name)
    assert loaded["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert loaded["$id"].endswith(f"/{name}.json")
    assert "@wix/auto_sdk_ecom_" in loaded["$comment"]
    assert "@1.0." in loaded["$comment"]


@pytest.mark.parametrize("name", [n for n in SCHEMA_NAMES if n.endswith("-request")])
def test_request_schemas_refuse_a_key_wix_does_not_define(name: str) -> None:
    assert schema(name)["additionalProperties"] is False
    assert any("'madeUp' was unexpected" in e for e in schema_errors(name, {"madeUp": True}))


@pytest.mark.parametrize("name", [n for n in SCHEMA_NAMES if n.endswith("-response")])
def test_response_schemas_accept_a_key_wix_may_add_later(name: str) -> None:
    assert schema(name).get("additionalProperties", True) is not False


# --- Wix's examples are read by the library ------------------------------------------------


def _each(key: str, parse: Callable[[object], Any]) -> Callable[[object], list[Any]]:
    """Return a reader of a list answer that also reads each item with ``parse``."""

    def read(data: object) -> list[Any]:
        return [parse(item) for item in _parse.parse_list(key)(data)]

    return read


def _transactions_each(data: object) -> list[Any]:
    items = _parse.parse_list("orderTransactions")(data)
    return [_parse.parse_transactions({"orderTransactions": item}) for item in items]


def _event_transactions(data: Any) -> Any:
    return _parse.parse_transactions(data["actionEvent"]["bodyAsJson"])


# fixture -> (the library's reader, the response schema it must also fit, or None)
READERS: dict[str, tuple[Callable[[Any], Any], str | None]] = {
    "cancel-order-response-1.json": (_parse.parse_order, "cancel-order-response"),
    "delete-fulfillment-response-1.json": (_parse.parse_fulfillments, "delete-fulfillment-response"),
    "delete-fulfillment-response-2.json": (_parse.parse_fulfillments, "delete-fulfillment-response"),
    "get-order-response-1.json": (_parse.parse_order, "get-order-response"),
    "get-order-response-2.json": (_parse.parse_order, "get-order-response"),
    "list-currencies-response-1.json": (_parse.parse_list("currencies"), None),
    "list-fulfillments-response-1.json": (_parse.parse_fulfillments, "list-fulfillments-response"),
    "list-transactions-multiple-response-1.json": (_transactions_each, "list-transactions-multiple-response"),
    "list-transactions-multiple-response-2.json": (_transactions_each, "list-transactions-multiple-response"),
    "list-transactions-response-1.json": (_parse.parse_transactions, "list-transactions-response"),
    "list-transactions-response-2.json": (_parse.parse_transactions, "list-transactions-response"),
    "list-transactions-response-3.json": (_parse.parse_transactions, "list-transactions-response"),
    "query-sites-response-1.json": (_parse.parse_sites, None),
    "query-sites-response-2.json": (_parse.parse_sites, None),
    "refund-created-event-response-1.json": (_event_transactions, None),
    "search-orders-response-1.json": (_each("orders", _parse.parse_order), "search-orders-response"),
    "search-orders-response-2.json": (_each("orders", _parse.parse_order), "search-orders-response"),
    "site-properties-response-1.json": (_parse.parse_site_properties, None),
    "site-properties-response-2.json": (_parse.parse_site_properties, None),
    "site-properties-response-3.json": (_parse.parse_site_properties, None),
    "site-properties-response-4.json": (_parse.parse_site_properties, None),
    "site-properties-response-5.json": (_parse.parse_site_properties, None),
}
# Request examples, checked against what the library sends (below).
REQUEST_EXAMPLES = {
    "calculate-refund-request-1.json": "calculate-refund-request",
    "cancel-order-request-1.json": "cancel-order-request",
    "list-transactions-multiple-request-1.json": "list-transactions-multiple-request",
    "query-sites-request-1.json": None,
    "search-orders-request-1.json": "search-orders-request",
    "search-orders-request-2.json": "search-orders-request",
}
NOT_READ = {
    "calculate-refund-response-1.json.txt": "cut short in Wix's source: not JSON, kept as found",
}
# fixture -> why the library cannot read it yet (a strict xfail until fixed)
READER_GAPS: dict[str, str] = {}


def test_every_fixture_is_checked_by_one_table() -> None:
    tables = [set(READERS), set(REQUEST_EXAMPLES), set(NOT_READ)]
    assert set(fixture_names()) == set().union(*tables)
    assert sum(len(t) for t in tables) == len(fixture_names())


def _reader_case(name: str) -> Any:
    marks = [pytest.mark.xfail(strict=True, reason=READER_GAPS[name])] if name in READER_GAPS else []
    return pytest.param(name, marks=marks, id=name)


@pytest.mark.parametrize("name", [_reader_case(n) for n in READERS])
def test_every_wix_response_example_is_read_by_the_library(name: str) -> None:
    read, _ = READERS[name]
    assert read(_wire.decode_json(fixture_bytes(name))) is not None


@pytest.mark.parametrize("name", [n for n, (_, s) in READERS.items() if s is not None])
def test_every_wix_response_example_fits_its_schema(name: str) -> None:
    schema_name = READERS[name][1]
    assert schema_name is not None
    validate(schema_name, fixture(name))


@pytest.mark.parametrize("name", ["search-orders-response-1.json", "search-orders-response-2.json"])
def test_a_search_page_of_wixs_examples_gives_its_orders_and_the_next_pages_cursor(name: str) -> None:
    data = fixture(name)
    page = _read.parse_search_page(data)
    assert [o.id for o in page.orders] == [o["id"] for o in data["orders"]]
    assert page.next_cursor == data["metadata"]["cursors"]["next"]


def test_the_list_examples_for_many_orders_are_read_by_order() -> None:
    data = fixture("list-transactions-multiple-response-1.json")
    read = _parse.parse_transactions_by_ids(data)
    assert set(read) == {item["orderId"].lower() for item in data["orderTransactions"]}


def test_the_refund_in_wixs_refund_created_event_fits_the_transactions_schema() -> None:
    validate("list-transactions-response", fixture("refund-created-event-response-1.json")["actionEvent"]["bodyAsJson"])


@pytest.mark.parametrize("name", [n for n, s in REQUEST_EXAMPLES.items() if s and not n.startswith("search-")])
def test_wix_request_examples_fit_the_request_schemas(name: str) -> None:
    schema_name = REQUEST_EXAMPLES[name]
    assert schema_name is not None
    validate(schema_name, fixture(name))


@pytest.mark.parametrize("name", ["search-orders-request-1.json", "search-orders-request-2.json"])
def test_search_examples_differ_from_the_sdk_types_only_in_spelling_cursor_paging(name: str) -> None:
    example = fixture(name)
    assert schema_errors("search-orders-request", example) == [
        "search: Additional properties are not allowed ('cursor_paging' was unexpected)"
    ]
    example["search"]["cursorPaging"] = example["search"].pop("cursor_paging")
    validate("search-orders-request", example)


# --- shapes the reader accepts where Wix has no example -------------------------------------

# Get Order Refundability: no Wix example exists. The SDK shape (PaymentRefundability in
# @wix/auto_sdk_ecom_order-billing@1.0.110) and the older forms the contract tolerates.
SDK_REFUNDABILITY = {
    "refundable": (
        {
            "refundable": True,
            "payment": {
                "paymentId": PAYMENT_ID,
                "paymentMethod": "CreditCard",
                "offlinePayment": False,
                "monetary": {
                    "paid": {"amount": "35.00"},
                    "refunded": {"amount": "0"},
                    "refundPending": {"amount": "0"},
                    "maxRefund": {"amount": "35.00", "formattedAmount": "$35.00"},
                },
            },
        },
        "REFUNDABLE",
        None,
    ),
    "manually_refundable": (
        {"manuallyRefundable": {"reason": "OFFLINE"}, "payment": {"paymentId": PAYMENT_ID, "offlinePayment": True}},
        "MANUALLY_REFUNDABLE",
        "OFFLINE",
    ),
    "non_refundable": (
        {"nonRefundable": {"reason": "ALREADY_REFUNDED"}, "payment": {"paymentId": PAYMENT_ID}},
        "NON_REFUNDABLE",
        "ALREADY_REFUNDED",
    ),
    "membership": (
        {
            "refundable": True,
            "payment": {
                "paymentId": PAYMENT_ID,
                "membership": {"paidLineItemIds": ["00000000-0000-0000-0000-000000000001"]},
            },
        },
        "REFUNDABLE",
        None,
    ),
}
OLDER_REFUNDABILITY = {
    "payment_id_at_the_top_state_as_object": ({"paymentId": PAYMENT_ID, "refundable": {}}, "REFUNDABLE"),
    "payment_id_at_the_top_state_as_boolean": ({"paymentId": PAYMENT_ID, "refundable": True}, "REFUNDABLE"),
    "refundability_status_manual": (
        {"paymentId": PAYMENT_ID, "refundabilityStatus": "MANUAL", "manuallyRefundableReason": "OFFLINE"},
        "MANUALLY_REFUNDABLE",
    ),
    "refundability_status_not_refundable": (
        {"paymentId": PAYMENT_ID, "refundabilityStatus": "NOT_REFUNDABLE", "nonRefundableReason": "NOT_PAID"},
        "NON_REFUNDABLE",
    ),
}


@pytest.mark.parametrize("case", list(SDK_REFUNDABILITY))
def test_sdk_shaped_refundability_samples_fit_the_schema(case: str) -> None:
    entry, _, _ = SDK_REFUNDABILITY[case]
    validate("get-order-refundability-response", {"payments": [entry]})


@pytest.mark.parametrize("case", list(SDK_REFUNDABILITY))
def test_refundability_in_wixs_sdk_shape_is_read(case: str) -> None:
    entry, kind, reason = SDK_REFUNDABILITY[case]
    (read,) = _parse.parse_refundability({"payments": [entry]})
    assert (read.payment_id, read.refundability.value, read.reason) == (PAYMENT_ID, kind, reason)


@pytest.mark.parametrize("case", list(OLDER_REFUNDABILITY))
def test_older_refundability_forms_are_still_read(case: str) -> None:
    entry, kind = OLDER_REFUNDABILITY[case]
    (read,) = _parse.parse_refundability({"payments": [entry]})
    assert (read.payment_id, read.refundability.value) == (PAYMENT_ID, kind)


def test_the_guessed_refundability_shape_does_not_fit_wixs_types() -> None:
    guessed = {"payments": [{"paymentId": PAYMENT_ID, "refundable": {}}]}
    errors = schema_errors("get-order-refundability-response", guessed)
    assert "payments/0: 'payment' is a required property" in errors
    assert "payments/0/refundable: {} is not of type 'boolean'" in errors


@pytest.mark.parametrize(
    "entry",
    [
        {"payment": {"paymentId": PAYMENT_ID}},
        {"refundable": True, "nonRefundable": {"reason": "NOT_PAID"}, "payment": {"paymentId": PAYMENT_ID}},
    ],
    ids=["no_state", "two_states"],
)
def test_refundability_needs_exactly_one_state(entry: dict[str, Any]) -> None:
    assert schema_errors("get-order-refundability-response", {"payments": [entry]})


def test_a_membership_payment_without_amount_fits_the_transactions_schema() -> None:
    validate("list-transactions-response", _membership_transactions())


def _membership_transactions() -> dict[str, Any]:
    payment = {
        "id": PAYMENT_ID,
        "status": "APPROVED",
        "membershipPaymentDetails": {"membershipId": "m-1", "lineItemId": "00000000-0000-0000-0000-000000000001"},
    }
    return {"orderTransactions": {"orderId": ORDER_ID, "payments": [payment], "refunds": []}}


def test_a_payment_without_amount_is_read_as_holding_nothing_refundable_by_amount() -> None:
    (payment,) = _parse.parse_transactions(_membership_transactions()).payments
    assert (payment.id, payment.amount, payment.membership) == (PAYMENT_ID, Decimal(0), True)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("35", Decimal("35")),
        ("35.10", Decimal("35.10")),
        ("0.1", Decimal("0.1")),
    ],
)
def test_an_amount_sent_as_a_json_number_is_read_exactly(text: str, expected: Decimal) -> None:
    order = fixture("get-order-response-2.json")
    order["order"]["priceSummary"]["total"] = {"amount": "AMOUNT", "formattedAmount": "$35.10"}
    body = json.dumps(order).replace('"AMOUNT"', text).encode()
    data = _wire.decode_json(body)
    validate("get-order-response", data)
    assert _parse.parse_order(data).total == expected


# --- what the library sends ------------------------------------------------------------------

# Every endpoint the library calls, as Wix's SDK metadata names it (build/cjs/meta.js of each
# package: the www.wixapis.com prefix /ecom plus the method's path).
ENDPOINTS = {
    "get_order": ("GET", "/ecom/v1/orders/{id}"),
    "search_orders": ("POST", "/ecom/v1/orders/search"),
    "cancel_order": ("POST", "/ecom/v1/orders/{id}/cancel"),
    "list_fulfillments": ("GET", "/ecom/v1/fulfillments/orders/{orderId}"),
    "list_fulfillments_by_ids": ("POST", "/ecom/v1/fulfillments/list-by-ids"),
    "delete_fulfillment": ("DELETE", "/ecom/v1/fulfillments/{fulfillmentId}/orders/{orderId}"),
    "list_transactions": ("GET", "/ecom/v1/payments/orders/{orderId}"),
    "list_transactions_by_ids": ("POST", "/ecom/v1/payments/list-by-ids"),
    "get_refundability": ("POST", "/ecom/v1/order-billing/get-order-refundability"),
    "calculate_refund": ("POST", "/ecom/v1/order-billing/calculate-refund"),
    "refund_payments": ("POST", "/ecom/v1/order-billing/refund-payments"),
    "get_site_properties": ("GET", "/site-properties/v4/properties"),
    "query_sites": ("POST", "/site-list/v2/sites/query"),
    "list_currencies": ("GET", "/currency_converter/v1/currencies"),
}
# The request schema and documented request examples of each endpoint with a body (a
# body must use the keys and types of one of them).
BODIES: dict[str, tuple[str | None, str | tuple[str, ...] | None]] = {
    "search_orders": ("search-orders-request", ("search-orders-request-1.json", "search-orders-request-2.json")),
    "cancel_order": ("cancel-order-request", "cancel-order-request-1.json"),
    "list_fulfillments_by_ids": ("list-fulfillments-multiple-request", None),
    "list_transactions_by_ids": ("list-transactions-multiple-request", "list-transactions-multiple-request-1.json"),
    "get_refundability": ("get-order-refundability-request", None),
    "calculate_refund": ("calculate-refund-request", "calculate-refund-request-1.json"),
    "refund_payments": ("refund-payments-request", None),
    "query_sites": (None, "query-sites-request-1.json"),
}
FULFILLMENT_ID = "80f939c8-cdc4-44fe-a058-b54d506af170"
OTHER_ORDER_ID = "6ae38b2e-455b-4e20-b418-01fca82edaa8"
# Each request builder of _wire, called as the library calls it.
CALLS: dict[str, list[Callable[[], _wire.WireCall[Any]]]] = {
    "get_order": [lambda: _wire.get_order(ORDER_ID)],
    "list_fulfillments": [lambda: _wire.list_fulfillments(ORDER_ID)],
    "delete_fulfillment": [lambda: _wire.delete_fulfillment(ORDER_ID, FULFILLMENT_ID)],
    "cancel_order": [
        lambda: _wire.cancel_order(ORDER_ID),
        lambda: _wire.cancel_order(ORDER_ID, restock=True, notify_customer=True, message="Sold out, sorry"),
    ],
    "list_transactions": [lambda: _wire.list_transactions(ORDER_ID)],
    "get_refundability": [lambda: _wire.get_refundability(ORDER_ID)],
    "refund_payments": [
        lambda: _wire.refund_payments(
            ORDER_ID, [PaymentRefund(payment_id=PAYMENT_ID, amount=Decimal("10.5"))], reason="[ref:inv-1]"
        ),
        lambda: _wire.refund_payments(
            ORDER_ID,
            [
                PaymentRefund(payment_id=PAYMENT_ID, amount=Decimal("20.00")),
                PaymentRefund(payment_id=OTHER_PAYMENT_ID, amount=Decimal("0.01"), external=True),
            ],
            reason="Damaged in transit [ref:inv-2]",
            notify_customer=True,
        ),
        lambda: _wire.refund_payments(
            ORDER_ID,
            [PaymentRefund(payment_id=PAYMENT_ID, amount=Decimal("23.00"))],
            reason="Returned [ref:inv-3]",
            currency="USD",
            items=ItemsAsked(
                items=(RefundItem(line_item_id="00000000-0000-0000-0000-000000000001", quantity=2, restock=1),),
                fees=(FeeRefund(fee_id="d3d9cafb-9e2d-4dae-8129-091df0a6c24f", amount=ALL_LEFT),),
                shipping=Decimal("3.00"),
            ),
        ),
    ],
    "probe_write": [
        lambda what=what: _more_calls.probe_write(  # type: ignore[misc]
            what, "5a0c2d1e-4b3f-4c8a-9d7e-6f5a4b3c2d1e", "6b1d3e2f-5c4a-4d9b-8e7f-7a6b5c4d3e2f"
        )
        for what in ("cancel", "refund", "delete")
    ],
    "calculate_refund": [
        lambda: _wire.calculate_refund(
            ORDER_ID,
            ItemsAsked(
                items=(RefundItem(line_item_id="00000000-0000-0000-0000-000000000001", quantity=1),),
                fees=(FeeRefund(fee_id="d3d9cafb-9e2d-4dae-8129-091df0a6c24f", amount=Decimal("1")),),
            ),
            currency="USD",
        )
    ],
    "get_site_properties": [lambda: _more_calls.get_site_properties()],
    "query_sites": [lambda: _more_calls.query_sites(SITE_ID)],
    "search_one_order": [lambda: _more_calls.search_one_order()],
    "search_orders_by_ids": [
        lambda: _more_calls.search_orders_by_ids([ORDER_ID, OTHER_ORDER_ID]),
        lambda: _more_calls.search_orders_by_ids(
            [ORDER_ID, OTHER_ORDER_ID], cursor="74bb42d4afd5d41e98b120b7ea54538c4ee3ea34"
        ),
    ],
    "search_orders_by_numbers": [
        lambda: _more_calls.search_orders_by_numbers(10005, 10005),
        lambda: _more_calls.search_orders_by_numbers(10005, 10042),
        lambda: _more_calls.search_orders_by_numbers(10005, 10042, cursor="74bb42d4afd5d41e98b120b7ea54538c4ee3ea34"),
    ],
    "list_transactions_by_ids": [lambda: _more_calls.list_transactions_by_ids([ORDER_ID, OTHER_ORDER_ID])],
    "list_fulfillments_by_ids": [lambda: _more_calls.list_fulfillments_by_ids([ORDER_ID, OTHER_ORDER_ID])],
    "list_currencies": [lambda: _more_calls.list_currencies()],
}
_ITEMS = ItemsAsked(
    items=(RefundItem(line_item_id="00000000-0000-0000-0000-000000000001", quantity=2, restock=1),),
    shipping=Decimal("3.00"),
)
# One write action of each kind, the order's currency, and the call its own builder makes for it.
WRITE_ACTIONS: list[tuple[Write, str | None, Callable[[], _wire.WireCall[Any]]]] = [
    (DeleteOne(fulfillment_id=FULFILLMENT_ID), None, CALLS["delete_fulfillment"][0]),
    (
        Cancel(restock=True, notify_customer=False),
        None,
        lambda: _wire.cancel_order(ORDER_ID, restock=True, notify_customer=False),
    ),
    (
        Refund(
            payment_refunds=(PaymentRefund(payment_id=PAYMENT_ID, amount=Decimal("23.00")),),
            reason="Returned [ref:inv-3]",
            notify_customer=True,
            items=_ITEMS,
        ),
        "USD",
        lambda: _wire.refund_payments(
            ORDER_ID,
            [PaymentRefund(payment_id=PAYMENT_ID, amount=Decimal("23.00"))],
            reason="Returned [ref:inv-3]",
            notify_customer=True,
            currency="USD",
            items=_ITEMS,
        ),
    ),
]
CALLS["write_call"] = [
    lambda action=action, currency=currency: _wire.write_call(ORDER_ID, action, currency=currency)  # type: ignore[misc]
    for action, currency, _ in WRITE_ACTIONS
]


def _builders() -> list[str]:
    """Return the name of every function in _wire and _more_calls that builds a WireCall for one endpoint.

    ``wire_call`` builds any row of the endpoint table; the rows are held to the contract below.
    """
    return sorted(
        name
        for module in (_wire, _more_calls)
        for name, function in inspect.getmembers(module, inspect.isfunction)
        if function.__module__ == module.__name__
        and not name.startswith("_")
        and name != "wire_call"
        and str(inspect.signature(function).return_annotation).startswith("WireCall")
    )


def test_every_request_builder_of_the_library_is_in_the_contract_table() -> None:
    missing = [name for name in _builders() if name not in CALLS]
    assert not missing, f"add these _wire builders to CALLS in tests/test_contract.py: {missing}"


def test_every_write_action_and_every_write_endpoint_has_one_row_of_the_write_table() -> None:
    kinds = {write.kind for write in WRITES}
    assert set(_wire.WRITE_CALLS) == kinds == {name for name, row in _wire.ENDPOINTS.items() if row.write}
    assert {type(action) for action, _, _ in WRITE_ACTIONS} == set(WRITES)


@pytest.mark.parametrize(("action", "currency", "direct"), WRITE_ACTIONS, ids=[a.kind for a, _, _ in WRITE_ACTIONS])
def test_a_write_action_is_sent_exactly_as_its_own_builder_sends_it(
    action: Write, currency: str | None, direct: Callable[[], _wire.WireCall[Any]]
) -> None:
    call = _wire.write_call(ORDER_ID, action, currency=currency)
    assert call == direct()
    assert (call.operation, call.write, call.content) == (action.kind, True, direct().content)


def test_a_writes_answer_replaces_a_part_the_run_keeps_or_is_the_refund() -> None:
    shows = {kind: row.shows for kind, row in _wire.WRITE_CALLS.items()}
    assert [kind for kind, part in shows.items() if part is None] == [Refund.kind]
    assert all(part in attrs.fields_dict(Observed) for part in shows.values() if part is not None)
    assert (shows[DeleteOne.kind], shows[Cancel.kind]) == ("fulfillments", "order")


def _any_id(template: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", template)


def test_every_row_of_the_endpoint_table_is_the_method_and_path_wix_documents() -> None:
    assert set(_wire.ENDPOINTS) == set(ENDPOINTS)
    for name, row in _wire.ENDPOINTS.items():
        method, template = ENDPOINTS[name]
        assert (row.method, _any_id(row.path)) == (method, _any_id(template)), name


def test_every_row_of_the_endpoint_table_is_called_by_a_builder_of_the_contract_table() -> None:
    built = {make().operation.removeprefix("probe_") for makes in CALLS.values() for make in makes}
    assert built == set(_wire.ENDPOINTS)


def test_a_call_built_from_the_table_checks_its_ids_before_filling_the_path() -> None:
    call = _wire.wire_call("delete_fulfillment", order_id=ORDER_ID, fulfillment_id=FULFILLMENT_ID)
    assert call.path == f"/ecom/v1/fulfillments/{FULFILLMENT_ID}/orders/{ORDER_ID}"
    assert (call.target, call.order_id, call.write) == (FULFILLMENT_ID, ORDER_ID, True)
    with pytest.raises(InvalidRequest, match="order_id"):
        _wire.wire_call("get_order", order_id="../orders/search")


def _calls() -> list[Any]:
    return [
        pytest.param(make, id=f"{name}-{index}") for name, makes in CALLS.items() for index, make in enumerate(makes)
    ]


def _endpoint(call: _wire.WireCall[Any]) -> str:
    """Return the contract's name for the endpoint ``call`` goes to."""
    for operation, (method, template) in ENDPOINTS.items():
        pattern = "[^/]+".join(re.escape(part) for part in re.split(r"\{[^}]+\}", template))
        if call.method == method and re.fullmatch(pattern, call.path):
            return operation
    raise AssertionError(f"{call.method} {call.path} is not an endpoint of the contract")


@pytest.mark.parametrize("make", _calls())
def test_every_request_goes_to_an_endpoint_wix_documents(make: Callable[[], _wire.WireCall[Any]]) -> None:
    call = make()
    operation = _endpoint(call)
    assert (call.body is not None) == (operation in BODIES)


@pytest.mark.parametrize("make", [p for p in _calls() if _endpoint(p.values[0]()) in BODIES])
def test_every_request_body_fits_its_schema_and_wixs_example(make: Callable[[], _wire.WireCall[Any]]) -> None:
    call = make()
    schema_name, example_name = BODIES[_endpoint(call)]
    if schema_name is not None:
        validate(schema_name, call.body)
    names = (example_name,) if isinstance(example_name, str) else example_name or ()
    examples = [fixture(name) for name in names]
    for example in examples:
        _camel_case_paging(example)
    assert not examples or any(_fits(call.body, example) for example in examples), (
        f"{shape(call.body)} uses keys or types not in {' or '.join(names)}"
    )


def _camel_case_paging(example: Any) -> None:
    # Wix's Search Orders examples spell cursor_paging; its types (CursorSearch) and the
    # library spell cursorPaging.
    search = example.get("search") if isinstance(example, dict) else None
    if isinstance(search, dict) and "cursor_paging" in search:
        search["cursorPaging"] = search.pop("cursor_paging")


def _fits(sent: object, example: object) -> bool:
    """Return whether every key ``sent`` uses is in ``example`` with the same JSON type (filters are opaque)."""
    if isinstance(sent, dict) and isinstance(example, dict):
        return all(
            key in example and ((key == "filter" and isinstance(example[key], dict)) or _fits(value, example[key]))
            for key, value in sent.items()
        )
    if isinstance(sent, list) and isinstance(example, list):
        return not sent or not example or all(_fits(item, example[0]) for item in sent)
    return shape(sent) == shape(example)


def test_the_example_check_notices_a_key_or_type_wix_does_not_use() -> None:
    example = fixture("cancel-order-request-1.json")
    assert _fits({"restockAllItems": True}, example)
    assert not _fits({"restockAllItems": "true"}, example)
    assert not _fits({"restock": True}, example)


# --- FakeWix answers as Wix does ---------------------------------------------------------------

KINDS: dict[str, dict[str, Any]] = {
    "online": {"payments": "online"},
    "offline": {"payments": "offline"},
    "gift_card": {"payments": "gift_card"},
    "membership": {"payments": "membership"},
    "manual": {"payments": "manual"},
    "refund_disabled": {"payments": "refund_disabled"},
    "fulfilled_old": {"created": OLD, "fulfillments": 2},
    "refunded": {"refunded": "35.00"},
}


class Wix:
    """Raw requests to a FakeWix with its own credentials, as a client of Wix would send them."""

    def __init__(self, fake: FakeWix, http: httpx.Client) -> None:
        self.fake = fake
        self.http = http

    def send(self, method: str, path: str, body: object = None) -> Any:
        response = self.http.request(method, path, json=body)
        assert response.status_code == 200, f"{method} {path} answered {response.status_code}: {response.text}"
        return response.json()


def _cancel(wix: Wix, oid: str) -> Any:
    for fulfillment in wix.fake.fulfillments[oid]:
        wix.send("DELETE", f"/ecom/v1/fulfillments/{fulfillment['id']}/orders/{oid}")
    return wix.send("POST", f"/ecom/v1/orders/{oid}/cancel", {"sendOrderCanceledEmail": False, "restockAllItems": True})


def _delete_fulfillment(wix: Wix, oid: str) -> Any:
    fulfillment = wix.fake.fulfillments[oid][0]
    return wix.send("DELETE", f"/ecom/v1/fulfillments/{fulfillment['id']}/orders/{oid}")


def _refund(wix: Wix, oid: str) -> Any:
    payment = wix.fake.payments[oid][0]
    regular = payment.get("regularPaymentDetails")
    manual = regular is not None and (regular["offlinePayment"] or payment["id"] in wix.fake.manual_payments)
    entry: dict[str, Any] = {"paymentId": payment["id"], "externalRefund": manual}
    if regular is not None:
        # Stored value (a gift card, a membership) is refunded whole, in an entry without amount.
        entry["amount"] = {"amount": "10.00"}
    body = {"orderId": oid, "paymentRefunds": [entry], "customerReason": "Too small [ref:contract-1]"}
    validate("refund-payments-request", body)
    return wix.send("POST", "/ecom/v1/order-billing/refund-payments", body)


def _search_by_ids(wix: Wix, oid: str) -> Any:
    """Search two orders by ID a page of one at a time; check the first page, return the second."""
    other = wix.fake.add_order()
    first = wix.send(
        "POST",
        "/ecom/v1/orders/search",
        {"search": {"filter": {"id": {"$in": [oid, other]}}, "cursorPaging": {"limit": 1}}},
    )
    validate("search-orders-response", first)
    cursor = first["metadata"]["cursors"]["next"]
    return wix.send("POST", "/ecom/v1/orders/search", {"search": {"cursorPaging": {"limit": 1, "cursor": cursor}}})


# endpoint -> (what to send, the response schema, the kinds it applies to)
def _calculate(wix: Wix, oid: str) -> Any:
    line = wix.fake.orders[oid]["lineItems"][0]["id"]
    body = {"orderId": oid, "refundItems": {"lineItems": [{"lineItemId": line, "quantity": 1}]}}
    validate("calculate-refund-request", body)
    return wix.send("POST", "/ecom/v1/order-billing/calculate-refund", body)


def _calculate_unknown_line(wix: Wix, oid: str) -> Any:
    body = {"orderId": oid, "refundItems": {"lineItems": [{"lineItemId": "no-such-line", "quantity": 1}]}}
    return wix.send("POST", "/ecom/v1/order-billing/calculate-refund", body)


ANSWERS: dict[str, tuple[Callable[[Wix, str], Any], str, tuple[str, ...]]] = {
    "calculate_refund": (_calculate, "calculate-refund-response", ("online", "offline")),
    "calculate_refund_not_available": (_calculate_unknown_line, "calculate-refund-response", ("online",)),
    "get_order": (lambda w, oid: w.send("GET", f"/ecom/v1/orders/{oid}"), "get-order-response", tuple(KINDS)),
    "search_orders": (
        lambda w, oid: w.send("POST", "/ecom/v1/orders/search", {"search": {"cursorPaging": {"limit": 100}}}),
        "search-orders-response",
        tuple(KINDS),
    ),
    "search_orders_by_ids": (_search_by_ids, "search-orders-response", tuple(KINDS)),
    "list_fulfillments": (
        lambda w, oid: w.send("GET", f"/ecom/v1/fulfillments/orders/{oid}"),
        "list-fulfillments-response",
        tuple(KINDS),
    ),
    "list_fulfillments_by_ids": (
        lambda w, oid: w.send("POST", "/ecom/v1/fulfillments/list-by-ids", {"orderIds": [oid]}),
        "list-fulfillments-multiple-response",
        tuple(KINDS),
    ),
    "list_transactions": (
        lambda w, oid: w.send("GET", f"/ecom/v1/payments/orders/{oid}"),
        "list-transactions-response",
        tuple(KINDS),
    ),
    "list_transactions_by_ids": (
        lambda w, oid: w.send("POST", "/ecom/v1/payments/list-by-ids", {"orderIds": [oid]}),
        "list-transactions-multiple-response",
        tuple(KINDS),
    ),
    "get_refundability": (
        lambda w, oid: w.send("POST", "/ecom/v1/order-billing/get-order-refundability", {"orderId": oid}),
        "get-order-refundability-response",
        tuple(KINDS),
    ),
    "cancel_order": (_cancel, "cancel-order-response", tuple(KINDS)),
    "delete_fulfillment": (_delete_fulfillment, "delete-fulfillment-response", ("fulfilled_old",)),
    "refund_payments": (
        _refund,
        "refund-payments-response",
        ("online", "offline", "manual", "gift_card", "membership"),
    ),
}
# endpoint, or endpoint-kind -> what FakeWix gets wrong today (a strict xfail until fixed)
FAKE_GAPS: dict[str, str] = {}


def _answer_cases() -> list[Any]:
    cases = []
    for endpoint, (_, _, kinds) in ANSWERS.items():
        for kind in kinds:
            reason = FAKE_GAPS.get(f"{endpoint}-{kind}") or FAKE_GAPS.get(endpoint)
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            cases.append(pytest.param(endpoint, kind, marks=marks, id=f"{endpoint}-{kind}"))
    return cases


@pytest.fixture
def wix() -> Any:
    fake = FakeWix()
    credentials = fake.credentials
    headers = {"Authorization": credentials.api_key, "wix-site-id": credentials.site_id}
    with httpx.Client(transport=fake.transport(), base_url=FakeWix.BASE_URL, headers=headers) as http:
        yield Wix(fake, http)


@pytest.mark.parametrize(("endpoint", "kind"), _answer_cases())
def test_every_fakewix_answer_fits_wixs_response_schema(wix: Wix, endpoint: str, kind: str) -> None:
    send, schema_name, _ = ANSWERS[endpoint]
    oid = wix.fake.add_order(**KINDS[kind])
    validate(schema_name, send(wix, oid))


# --- the refunds the library sends, end to end ---------------------------------------------------

TAG = re.compile(r"(?:^|.* )\[ref:([A-Za-z0-9._:/#@+-]+)\]")


@pytest.fixture
def client(wix: Wix) -> WixClient:
    return WixClient(wix.fake.credentials, base_url=FakeWix.BASE_URL, http_client=wix.http, rate_limit=None)


def _refund_bodies(fake: FakeWix) -> list[Any]:
    return [r.json for r in fake.calls(method="POST", path="/ecom/v1/order-billing/refund-payments")]


@pytest.mark.parametrize("kind", ["online", "offline", "manual"])
def test_every_refund_the_library_sends_fits_the_schema_and_ends_with_its_tag(
    wix: Wix, client: WixClient, kind: str
) -> None:
    oid = wix.fake.add_order(payments=kind)
    refund_order(client, oid, RefundRequest(amount=Decimal("10.00"), reason="Too small", reference="inv-7"))
    (body,) = _refund_bodies(wix.fake)
    validate("refund-payments-request", body)
    tagged = TAG.fullmatch(body["customerReason"])
    assert tagged is not None
    assert tagged.group(1) == "inv-7"
    assert body["customerReason"] == "Too small [ref:inv-7]"


@pytest.mark.parametrize(
    ("reason", "reference"),
    [
        ("[ref:t-1]", "t-1"),
        ("damaged [ref:t-1]", "t-1"),
        ("damaged … [ref:t-1]", "t-1"),
        ("a [ref:x] then [ref:t-1]", "t-1"),
        ("x[ref:t-1]", None),
        ("damaged:[ref:t-1]", None),
        ("[ref:t-1] and more", None),
        ("[ref:t-1] ", None),
        ("[ref:]", None),
        ("[ref:" + "r" * 65 + "]", None),
        ("[ref:t 1]", None),
        ("", None),
        (None, None),
    ],
)
def test_a_reason_names_a_reference_only_by_a_whole_tag_at_its_start_or_after_a_space(
    reason: str | None, reference: str | None
) -> None:
    assert reference_of(reason) == reference


def test_every_reason_the_library_writes_reads_back_as_its_reference() -> None:
    for reason in (None, "", "damaged", "x" * 300, "late:"):
        assert reference_of(customer_reason(reason, "inv-7")) == "inv-7"


def test_a_refund_without_a_callers_reference_is_tagged_with_one_the_call_made(wix: Wix, client: WixClient) -> None:
    oid = wix.fake.add_order(payments="online")
    refund_order(client, oid, RefundRequest(amount=Decimal("10.00")))
    (body,) = _refund_bodies(wix.fake)
    validate("refund-payments-request", body)
    assert TAG.fullmatch(body.get("customerReason") or "") is not None


def test_a_full_refund_returns_a_gift_card_whole_in_an_entry_without_amount(wix: Wix, client: WixClient) -> None:
    oid = wix.fake.add_order(total="35.00", payments=[("20.00", "online"), ("15.00", "gift_card")])
    online, gift = (p["id"] for p in wix.fake.payments[oid])
    refund_order(client, oid)
    entries = {e["paymentId"]: e for body in _refund_bodies(wix.fake) for e in body["paymentRefunds"]}
    for body in _refund_bodies(wix.fake):
        validate("refund-payments-request", body)
    assert "amount" not in entries[gift]
    assert Decimal(entries[online]["amount"]["amount"]) == Decimal("20.00")


def test_headers_name_the_site_or_the_account_never_both_and_json_only_with_a_body() -> None:
    who = {"api_key": "KEY", "site_id": SITE_ID, "account_id": "ACCOUNT", "user_agent": "wix-refunds/1"}
    site = _wire.headers_of(_wire.get_refundability(ORDER_ID), **who)
    assert list(site.items()) == [
        ("Authorization", "KEY"),
        ("Accept", "application/json"),
        ("User-Agent", "wix-refunds/1"),
        ("wix-site-id", SITE_ID),
        ("Content-Type", "application/json"),
    ]
    no_body = _wire.headers_of(_more_calls.get_site_properties(), **who)
    assert "Content-Type" not in no_body
    assert "wix-account-id" not in no_body
    query = _wire.headers_of(_more_calls.query_sites(SITE_ID), **who)
    assert (query.get("wix-account-id"), query.get("wix-site-id")) == ("ACCOUNT", None)
