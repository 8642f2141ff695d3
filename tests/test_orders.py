from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from wix_refunds.core import FulfillmentStatus, InvalidOrderData, Order, OrderStatus, PaymentStatus
from wix_refunds.wix import parse_order

from .factories import ORDER_ID, order_json
from .reference_reader import read_order_plainly


def test_order_is_read_from_a_get_order_response() -> None:
    order = parse_order(order_json())
    assert order.id == ORDER_ID
    assert order.number == "10126"
    assert order.created_at.isoformat() == "2024-05-02T08:28:58.917000+00:00"
    assert order.status is OrderStatus.APPROVED
    assert order.payment_status is PaymentStatus.PAID
    assert order.fulfillment_status is FulfillmentStatus.NOT_FULFILLED
    assert order.currency == "USD"
    assert order.total == Decimal("35.00")
    assert order.archived is False
    assert [(i.id, i.quantity) for i in order.line_items] == [("00000000-0000-0000-0000-000000000001", 2)]


def test_bare_order_object_reads_the_same_as_the_wrapped_response() -> None:
    wrapped = order_json()
    assert parse_order(wrapped["order"]) == parse_order(wrapped)


def test_integer_order_number_is_kept_as_text() -> None:
    assert parse_order(order_json(number=10126)).number == "10126"


@pytest.mark.parametrize("amount", ["2.0", "0", "85.00", "215.66", 35])
def test_unnormalised_amounts_parse_as_exact_decimals(amount: object) -> None:
    order = parse_order(order_json(priceSummary={"total": {"amount": amount}}))
    assert order.total == Decimal(str(amount))
    assert isinstance(order.total, Decimal)


@pytest.mark.parametrize("text", ["35.50", " 35.50 ", "3.550E1", "+35.5", "35.5000"])
def test_every_decimal_text_of_one_amount_reads_as_the_same_total(text: str) -> None:
    order = parse_order(order_json(priceSummary={"total": {"amount": text}}))
    assert order.total == Decimal("35.5")


@pytest.mark.parametrize("text", ["35.5.0", "1e", "", "-", "NaN", "Infinity", "35,50"])
def test_a_total_that_is_not_a_finite_decimal_is_refused_naming_the_field(text: str) -> None:
    with pytest.raises(InvalidOrderData) as caught:
        parse_order(order_json(priceSummary={"total": {"amount": text}}))
    assert caught.value.field == "order.priceSummary.total.amount"


@pytest.mark.parametrize(
    "created",
    [
        "2024-03-01T10:00:00.000Z",
        "2024-03-01T12:00:00+02:00",
        "2024-03-01T10:00:00+0000",
    ],
)
def test_placed_instants_read_in_utc_whatever_offset_wix_wrote(created: str) -> None:
    placed = parse_order(order_json(createdDate=created)).created_at
    assert placed == datetime(2024, 3, 1, 10, tzinfo=timezone.utc)
    assert placed.utcoffset() == timedelta(0)


@pytest.mark.parametrize("number", [35.5, Decimal("35.5")])
def test_an_amount_wix_sends_as_a_json_number_reads_as_an_exact_decimal(number: object) -> None:
    order = parse_order(order_json(priceSummary={"total": {"amount": number}}))
    assert order.total == Decimal("35.5")
    assert isinstance(order.total, Decimal)


def test_wix_2023_order_without_total_reads_the_deprecated_total_price() -> None:
    order = parse_order(order_json(priceSummary={"totalPrice": {"amount": "12.5"}}))
    assert order.total == Decimal("12.5")


@pytest.mark.parametrize("status", ["PENDING_MERCHANT", "CANCELED", "DECLINED"])
def test_newer_payment_statuses_are_known(status: str) -> None:
    assert parse_order(order_json(paymentStatus=status)).payment_status is PaymentStatus(status)


def test_unknown_enum_values_parse_as_unknown_and_keep_what_wix_sent() -> None:
    order = parse_order(order_json(status="ON_HOLD", paymentStatus="REVERSED", fulfillmentStatus="CANCELED"))
    assert order.status is OrderStatus.UNKNOWN
    assert order.payment_status is PaymentStatus.UNKNOWN
    assert order.fulfillment_status is FulfillmentStatus.UNKNOWN
    assert (order.raw_status, order.raw_payment_status, order.raw_fulfillment_status) == (
        "ON_HOLD",
        "REVERSED",
        "CANCELED",
    )


def test_order_is_frozen() -> None:
    order = parse_order(order_json())
    with pytest.raises(AttributeError):
        order.status = OrderStatus.CANCELED  # type: ignore[misc]


def _without(key: str) -> dict[str, Any]:
    data = order_json()
    del data["order"][key]
    return data


MALFORMED: list[tuple[str, object, str]] = [
    ("not an object", [], "order"),
    ("a string", "order", "order"),
    ("order is null", {"order": None}, "order"),
    ("order is a list", {"order": []}, "order"),
    ("no id", _without("id"), "order.id"),
    ("id not a GUID", order_json(id="1234"), "order.id"),
    ("id a path", order_json(id="../orders"), "order.id"),
    ("id a number", order_json(id=5), "order.id"),
    ("no number", _without("number"), "order.number"),
    ("number a float", order_json(number=1.5), "order.number"),
    ("number a bool", order_json(number=True), "order.number"),
    ("number empty", order_json(number=""), "order.number"),
    ("no createdDate", _without("createdDate"), "order.createdDate"),
    ("naive createdDate", order_json(createdDate="2024-05-02T08:28:58.917"), "order.createdDate"),
    ("date only", order_json(createdDate="2024-05-02"), "order.createdDate"),
    ("createdDate garbage", order_json(createdDate="last week"), "order.createdDate"),
    ("createdDate epoch number", order_json(createdDate=1714638538), "order.createdDate"),
    ("no status", _without("status"), "order.status"),
    ("status a number", order_json(status=2), "order.status"),
    ("no paymentStatus", _without("paymentStatus"), "order.paymentStatus"),
    ("paymentStatus null", order_json(paymentStatus=None), "order.paymentStatus"),
    ("no fulfillmentStatus", _without("fulfillmentStatus"), "order.fulfillmentStatus"),
    ("fulfillmentStatus object", order_json(fulfillmentStatus={}), "order.fulfillmentStatus"),
    ("no currency", _without("currency"), "order.currency"),
    ("currency lower case", order_json(currency="usd"), "order.currency"),
    ("no priceSummary", _without("priceSummary"), "order.priceSummary"),
    ("priceSummary a list", order_json(priceSummary=[]), "order.priceSummary"),
    ("no total", order_json(priceSummary={"subtotal": {"amount": "1"}}), "order.priceSummary.total"),
    ("total not a Price", order_json(priceSummary={"total": "35.00"}), "order.priceSummary.total"),
    (
        "total amount missing",
        order_json(priceSummary={"total": {"formattedAmount": "$1"}}),
        "order.priceSummary.total.amount",
    ),
    ("total amount words", order_json(priceSummary={"total": {"amount": "thirty"}}), "order.priceSummary.total.amount"),
    ("total amount NaN", order_json(priceSummary={"total": {"amount": "NaN"}}), "order.priceSummary.total.amount"),
    (
        "total amount Infinity",
        order_json(priceSummary={"total": {"amount": "Infinity"}}),
        "order.priceSummary.total.amount",
    ),
    ("total negative", order_json(priceSummary={"total": {"amount": "-1.00"}}), "order.priceSummary.total.amount"),
    ("archived a string", order_json(archived="no"), "order.archived"),
    ("lineItems an object", order_json(lineItems={}), "order.lineItems"),
    ("line item a string", order_json(lineItems=["x"]), "order.lineItems[0]"),
    ("line item without id", order_json(lineItems=[{"quantity": 1}]), "order.lineItems[0].id"),
    ("line item quantity text", order_json(lineItems=[{"id": "a", "quantity": "2"}]), "order.lineItems[0].quantity"),
    ("line item quantity negative", order_json(lineItems=[{"id": "a", "quantity": -1}]), "order.lineItems[0].quantity"),
]


@pytest.mark.parametrize(("case", "payload", "field"), MALFORMED, ids=[c[0] for c in MALFORMED])
def test_malformed_order_payload_is_refused_naming_the_field(case: str, payload: object, field: str) -> None:
    with pytest.raises(InvalidOrderData) as info:
        parse_order(payload)
    assert info.value.field == field
    assert field in str(info.value)


# Whatever Wix sends, the one order reader returns an order or names the field it cannot read.
_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5),
    st.floats(allow_nan=True),
    st.sampled_from(["", "USD", "usd", "U1D", "35.0", "-1", "NaN", "APPROVED", "2024-04-22T00:00:00+0000"]),
    st.just([]),
    st.just({}),
)
_KEYS = st.sampled_from(
    ["id", "number", "createdDate", "status", "paymentStatus", "fulfillmentStatus", "currency", "archived", "lineItems"]
)


@given(st.dictionaries(_KEYS, _VALUES, max_size=3), st.booleans())
def test_any_payload_reads_as_an_order_or_an_error_naming_its_field(changes: dict[str, Any], wrapped: bool) -> None:
    data = order_json(**changes)
    payload = data if wrapped else data["order"]
    field: str | None = None
    try:
        order = parse_order(payload)
    except InvalidOrderData as exc:
        field = exc.field
    if field is None:
        assert isinstance(order.total, Decimal)
        assert order.created_at.utcoffset() == timedelta(0)
    else:
        assert field.startswith("order"), field
        assert field.split(".")[1].split("[")[0] in {*changes, "priceSummary"}, (field, changes)


def _order_or_field(read: Callable[[object], Order], payload: object) -> object:
    """Return what ``read`` makes of ``payload``: the order, or the field its error names."""
    try:
        return read(payload)
    except InvalidOrderData as exc:
        return exc.field


# The one reader's inline checks must agree with the plain reader (tests/reference_reader.py)
# on every input: the same order, or an error naming the same field.
@given(st.dictionaries(_KEYS, _VALUES, max_size=3), st.booleans())
def test_fast_and_careful_parsing_agree(changes: dict[str, Any], wrapped: bool) -> None:
    data = order_json(**changes)
    payload = data if wrapped else data["order"]
    assert _order_or_field(parse_order, payload) == _order_or_field(read_order_plainly, payload)


_ODD = st.one_of(
    _VALUES,
    st.sampled_from(["EUR", "JPY", "XYZ", "XTS", " 35.0", "3.5E1", "+1", "1.", ".5", "0x10", "35,0", "-0.00"]),
    st.sampled_from([Decimal("35.5"), Decimal("-1"), Decimal("NaN"), Decimal("Infinity"), 35.5, 10**30]),
    st.fixed_dictionaries({}, optional={"id": st.sampled_from([ORDER_ID, "", 7]), "quantity": st.integers(-2, 3)}),
    st.fixed_dictionaries({"amount": st.sampled_from(["35.50", " 35.5", "3.55E1", "1e", "NaN", "-0.01", 35, True])}),
)


@given(
    st.one_of(st.none(), _ODD, st.dictionaries(st.sampled_from(["total", "totalPrice"]), st.one_of(_ODD, st.none()))),
    st.lists(st.one_of(_ODD, st.fixed_dictionaries({"id": _ODD, "quantity": _ODD})), max_size=3),
    st.sampled_from(["USD", "JPY", "XYZ", "usd", "", "EURO"]),
)
@example({"total": {"amount": "35.50"}}, [], "JPY")  # finer than yen: both refuse it
def test_fast_and_careful_parsing_agree_on_totals_lines_and_currencies(
    summary: object, lines: list[object], currency: str
) -> None:
    payload = order_json(priceSummary=summary, lineItems=lines, currency=currency)
    assert _order_or_field(parse_order, payload) == _order_or_field(read_order_plainly, payload)


_VALID_ORDERS = given(
    st.datetimes(timezones=st.integers(-720, 840).map(lambda m: timezone(timedelta(minutes=m)))),
    st.decimals(min_value=0, max_value=10**9, places=2),
    st.integers(0, 5),
)


def _valid_order(created: datetime, total: Decimal, items: int) -> dict[str, Any]:
    """Return a Get Order answer placed at ``created`` for ``total``, with ``items`` lines of 0, 1, 2... units."""
    return order_json(
        createdDate=created.isoformat(),
        priceSummary={"total": {"amount": str(total)}},
        lineItems=[{"id": f"00000000-0000-0000-0000-{i:012d}", "quantity": i} for i in range(items)],
    )


@_VALID_ORDERS
def test_valid_orders_read_their_instant_total_and_lines_exactly(created: Any, total: Decimal, items: int) -> None:
    data = _valid_order(created, total, items)
    order = parse_order(data)
    assert order.created_at == created
    assert order.total == total
    assert [(line.id, line.quantity) for line in order.line_items] == [
        (f"00000000-0000-0000-0000-{i:012d}", i) for i in range(items)
    ]


@_VALID_ORDERS
def test_fast_and_careful_parsing_agree_on_valid_orders(created: Any, total: Decimal, items: int) -> None:
    data = _valid_order(created, total, items)
    assert parse_order(data) == read_order_plainly(data)


class _Text(str):
    """A str subclass, as a caller's own objects may hold (JSON never makes one)."""


@pytest.mark.parametrize("field", ["number", "currency", "status", "id"])
def test_text_in_a_str_subclass_reads_as_the_same_text(field: str) -> None:
    plain = order_json()
    payload = order_json(**{field: _Text(plain["order"][field])})
    assert _order_or_field(parse_order, payload) == _order_or_field(read_order_plainly, payload)
    assert parse_order(payload) == parse_order(plain)
