"""FakeWix checked through raw httpx requests, so that it can be trusted as a reference."""

from __future__ import annotations

import threading
import time
from decimal import Decimal
from typing import Any

import httpx
import pytest

from wix_refunds import WixClient, WixOutcomeUnknown
from wix_refunds.core import PaymentRefund, Refundability
from wix_refunds.testing import FakeWix
from wix_refunds.testing._answers import CANCEL_REFUSED_CODE, UNKNOWN_RESOURCE_CODE

OLD = "2024-03-01T10:00:00.000Z"


class Raw:
    """Raw requests to a fake, with its credentials unless told otherwise."""

    def __init__(self, fake: FakeWix, http: httpx.Client) -> None:
        self.fake = fake
        self.http = http

    def headers(self, **extra: str | None) -> dict[str, str]:
        base: dict[str, str | None] = {"Authorization": self.fake.api_key, "wix-site-id": self.fake.site_id}
        base.update(extra)
        return {k: v for k, v in base.items() if v is not None}

    def get(self, path: str, **headers: str | None) -> httpx.Response:
        return self.http.get(path, headers=self.headers(**headers))

    def post(self, path: str, body: Any, **headers: str | None) -> httpx.Response:
        return self.http.post(path, json=body, headers=self.headers(**headers))

    def delete(self, path: str) -> httpx.Response:
        return self.http.delete(path, headers=self.headers())

    def refund(self, order_id: str, *parts: tuple[str, str, bool], reason: str | None = None) -> httpx.Response:
        body: dict[str, Any] = {
            "orderId": order_id,
            "paymentRefunds": [{"paymentId": p, "amount": {"amount": a}, "externalRefund": e} for p, a, e in parts],
        }
        if reason is not None:
            body["customerReason"] = reason
        return self.post("/ecom/v1/order-billing/refund-payments", body)


@pytest.fixture
def fake() -> FakeWix:
    return FakeWix()


@pytest.fixture
def raw(fake: FakeWix) -> Any:
    with httpx.Client(transport=fake.transport(), base_url=FakeWix.BASE_URL) as http:
        yield Raw(fake, http)


def _code(response: httpx.Response) -> str:
    return str(response.json()["details"]["applicationError"]["code"])


def test_get_order_has_wix_shape_with_unnormalised_price_strings(fake: FakeWix, raw: Raw) -> None:
    oid = fake.add_order(total="35.00", created=OLD)
    response = raw.get(f"/ecom/v1/orders/{oid}")
    assert response.status_code == 200
    order = response.json()["order"]
    assert order["id"] == oid
    assert isinstance(order["number"], str)
    assert order["createdDate"] == OLD
    assert order["priceSummary"]["total"] == {"amount": "35.0", "formattedAmount": "$35.00"}
    assert order["paymentStatus"] == "PAID"
    assert order["fulfillmentStatus"] == "NOT_FULFILLED"


def test_unknown_order_is_404_and_malformed_id_is_400_with_validation_error(fake: FakeWix, raw: Raw) -> None:
    missing = raw.get("/ecom/v1/orders/0c87cd5d-4059-4e86-8f6e-d185b1e4a1bd")
    assert missing.status_code == 404
    assert "applicationError" in missing.json()["details"]
    bad = raw.get("/ecom/v1/orders/not-a-guid")
    assert bad.status_code == 400
    assert bad.json()["details"]["validationError"]["fieldViolations"][0]["field"] == "id"


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"Authorization": None}, 401),
        ({"Authorization": "IST.someone-else"}, 401),
        ({"wix-site-id": None}, 403),
        ({"wix-site-id": "0c87cd5d-4059-4e86-8f6e-d185b1e4a1bd"}, 403),
        ({"wix-account-id": "0c87cd5d-4059-4e86-8f6e-d185b1e4a1bd"}, 400),
    ],
)
def test_auth_gate_on_site_level_routes(fake: FakeWix, raw: Raw, headers: dict[str, str | None], status: int) -> None:
    oid = fake.add_order()
    assert raw.get(f"/ecom/v1/orders/{oid}", **headers).status_code == status


def test_key_without_a_scope_or_site_gets_403(fake: FakeWix, raw: Raw) -> None:
    oid = fake.add_order()
    fake.add_key("IST.read-only-key-000000000", scopes=["orders.read"])
    fake.add_key("IST.other-site-key-00000000", sites=["0c87cd5d-4059-4e86-8f6e-d185b1e4a1bd"])
    assert raw.get(f"/ecom/v1/orders/{oid}", Authorization="IST.read-only-key-000000000").status_code == 200
    cancel = raw.http.post(
        f"/ecom/v1/orders/{oid}/cancel", json={}, headers=raw.headers(Authorization="IST.read-only-key-000000000")
    )
    assert cancel.status_code == 403
    assert _code(cancel) == "PERMISSION_DENIED"
    assert raw.get(f"/ecom/v1/orders/{oid}", Authorization="IST.other-site-key-00000000").status_code == 403
    assert fake.orders[oid]["status"] == "APPROVED"


def test_cancel_sets_canceled_restocks_when_asked_and_never_refunds(fake: FakeWix, raw: Raw) -> None:
    oid = fake.add_order(created=OLD, line_items=2)
    response = raw.post(f"/ecom/v1/orders/{oid}/cancel", {"restockAllItems": True, "sendOrderCanceledEmail": False})
    assert response.status_code == 200
    order = response.json()["order"]
    assert order["status"] == "CANCELED"
    assert [i["restockQuantity"] for i in order["lineItems"]] == [1, 1]
    assert order["paymentStatus"] == "PAID"
    assert fake.refunds[oid] == []
    again = raw.post(f"/ecom/v1/orders/{oid}/cancel", {})
    assert again.status_code == 428
    assert _code(again) == CANCEL_REFUSED_CODE


def test_cancel_of_a_fulfilled_order_is_refused_with_428(fake: FakeWix, raw: Raw) -> None:
    oid = fake.add_order(created=OLD, fulfillments=1)
    refused = raw.post(f"/ecom/v1/orders/{oid}/cancel", {})
    assert (refused.status_code, _code(refused)) == (428, CANCEL_REFUSED_CODE)
    assert fake.orders[oid]["status"] == "APPROVED"


@pytest.mark.parametrize(("status", "code"), [("PENDING", "ORDER_IS_PENDING"), ("REJECTED", "ORDER_IS_REJECTED")])
def test_cancel_of_a_pending_or_rejected_order_answers_cancel_orders_documented_code(
    fake: FakeWix, raw: Raw, status: str, code: str
) -> None:
    oid = fake.add_order(created=OLD, status=status)
    refused = raw.post(f"/ecom/v1/orders/{oid}/cancel", {})
    assert (refused.status_code, _code(refused)) == (428, code)


# Codes the SDK types name (docs/wix-api.md 2.1, 2.3, section 8), and the fake's named choices.
_SDK_CODES = {
    "ORDER_NOT_FOUND",
    "ORDER_HAS_AUTHORIZED_TRANSACTION",
    "ORDER_IS_PENDING",
    "ORDER_IS_REJECTED",
    "PAYMENT_NOT_FOUND",
    "LINE_ITEM_NOT_FOUND",
    "ADDITIONAL_FEE_NOT_FOUND",
    "SHIPPING_NOT_FOUND",
    "INVALID_PAYMENT_REFUND_AMOUNT",
    "INVALID_ADDITIONAL_FEE_REFUND_AMOUNT",
    "INVALID_SHIPPING_REFUND_AMOUNT",
    "INVALID_LINE_ITEM_REFUND_QUANTITY",
    "INVALID_LINE_ITEM_RESTOCK_QUANTITY",
    "PARTIAL_REFUND_FOR_MULTIPLE_LOCATIONS_NOT_ALLOWED",
    "PAYMENT_NOT_REFUNDABLE",
    "EXTERNAL_REFUND_EXPECTED",
}
# The gRPC status names the fake answers where no business rule is named (auth, rate limit,
# unknown endpoint) or where its choices say so.
_STATUS_NAMES = {"UNAUTHENTICATED", "PERMISSION_DENIED", "NOT_FOUND", "METHOD_NOT_ALLOWED", "RESOURCE_EXHAUSTED"}


def test_every_refusal_answers_a_code_an_sdk_type_names_or_a_named_choice(fake: FakeWix, raw: Raw) -> None:
    old = fake.add_order(created=OLD, fulfillments=1)
    new = fake.add_order()
    pid = fake.payments[new][0]["id"]
    fid = fake.fulfillments[old][0]["id"]
    answers = [
        raw.get("/ecom/v1/orders/00000000-0000-4000-8000-000000000000"),
        raw.post(f"/ecom/v1/orders/{old}/cancel", {}),
        raw.delete(f"/ecom/v1/fulfillments/{fid}/orders/{new}"),
        raw.refund(old, (fake.payments[old][0]["id"], "5", False)),
        raw.refund(new, (pid, "99", False)),
        raw.refund(new, ("00000000-0000-4000-8000-000000000000", "5", False)),
    ]
    codes = [_code(answer) for answer in answers]
    assert codes[2] == UNKNOWN_RESOURCE_CODE
    assert set(codes) <= _SDK_CODES | _STATUS_NAMES | {CANCEL_REFUSED_CODE, UNKNOWN_RESOURCE_CODE}
    for invented in ("ORDER_NOT_REFUNDABLE", "ORDER_CANNOT_BE_CANCELED", "FULFILLMENT_NOT_FOUND"):
        assert invented not in codes


def test_a_refund_of_an_old_order_is_refused_as_a_payment_not_refundable_forbidden(fake: FakeWix, raw: Raw) -> None:
    oid = fake.add_order(created=OLD)
    pid = fake.payments[oid][0]["id"]
    refused = raw.refund(oid, (pid, "5", False))
    error = refused.json()["details"]["applicationError"]
    assert (refused.status_code, error["code"]) == (428, "PAYMENT_NOT_REFUNDABLE")
    assert error["data"] == {"paymentId": pid, "nonRefundableReason": "FORBIDDEN"}
    assert fake.refunds[oid] == []


def test_deleting_fulfilments_recomputes_the_fulfilment_status(fake: FakeWix, raw: Raw) -> None:
    oid = fake.add_order(created=OLD, fulfillments=2)
    listed = raw.get(f"/ecom/v1/fulfillments/orders/{oid}").json()["orderWithFulfillments"]
    assert listed["orderId"] == oid
    first, second = (f["id"] for f in listed["fulfillments"])
    after = raw.delete(f"/ecom/v1/fulfillments/{first}/orders/{oid}").json()["orderWithFulfillments"]
    assert [f["id"] for f in after["fulfillments"]] == [second]
    assert fake.orders[oid]["fulfillmentStatus"] == "PARTIALLY_FULFILLED"
    last = raw.delete(f"/ecom/v1/fulfillments/{second}/orders/{oid}").json()
    assert last == {"orderWithFulfillments": {"orderId": oid, "fulfillments": []}}
    assert fake.orders[oid]["fulfillmentStatus"] == "NOT_FULFILLED"
    assert raw.delete(f"/ecom/v1/fulfillments/{second}/orders/{oid}").status_code == 404


def test_partly_fulfilled_order_and_sticky_fulfilled_quirk() -> None:
    fake = FakeWix(sticky_fulfilled=True)
    partly = fake.add_order(created=OLD, fulfillments=1, partially_fulfilled=True)
    assert fake.orders[partly]["fulfillmentStatus"] == "PARTIALLY_FULFILLED"
    sticky = fake.add_order(created=OLD, fulfillments=1)
    with httpx.Client(transport=fake.transport(), base_url=FakeWix.BASE_URL) as http:
        raw = Raw(fake, http)
        (fid,) = (f["id"] for f in fake.fulfillments[sticky])
        assert raw.delete(f"/ecom/v1/fulfillments/{fid}/orders/{sticky}").status_code == 200
    assert fake.orders[sticky]["fulfillmentStatus"] == "FULFILLED"


def test_list_by_ids_returns_the_wrapper_for_many_orders(fake: FakeWix, raw: Raw) -> None:
    one, two = fake.add_order(fulfillments=1), fake.add_order()
    answer = raw.post("/ecom/v1/fulfillments/list-by-ids", {"orderIds": [one, two]}).json()
    assert [(o["orderId"], len(o["fulfillments"])) for o in answer["ordersWithFulfillments"]] == [(one, 1), (two, 0)]


def test_transactions_and_refundability_for_each_kind_of_payment(fake: FakeWix, raw: Raw) -> None:
    oid = fake.add_order(
        total="50",
        payments=[
            ("10", "online"),
            ("10", "offline"),
            ("10", "gift_card"),
            ("10", "refund_disabled"),
            ("10", "manual"),
        ],
    )
    transactions = raw.get(f"/ecom/v1/payments/orders/{oid}").json()["orderTransactions"]
    payments = transactions["payments"]
    assert transactions["refunds"] == []
    assert payments[0]["regularPaymentDetails"]["offlinePayment"] is False
    assert payments[1]["regularPaymentDetails"]["offlinePayment"] is True
    assert "giftcardPaymentDetails" in payments[2]
    assert payments[3]["refundDisabled"] is True
    assert [p["status"] for p in payments] == ["APPROVED"] * 5  # the payment's own, top-level status
    answer = raw.post("/ecom/v1/order-billing/get-order-refundability", {"orderId": oid}).json()
    # Wix's shape (SDK PaymentRefundability): one state key, the payment under "payment".
    kinds = [next(k for k in entry if k != "payment") for entry in answer["payments"]]
    assert kinds == ["refundable", "manuallyRefundable", "refundable", "nonRefundable", "manuallyRefundable"]
    assert [e["payment"]["paymentId"] for e in answer["payments"]] == [p["id"] for p in payments]
    assert answer["payments"][0]["refundable"] is True
    assert answer["payments"][1]["manuallyRefundable"] == {"reason": "OFFLINE"}
    assert answer["payments"][3]["nonRefundable"] == {"reason": "DISABLED_BY_PROVIDER"}
    assert answer["payments"][0]["payment"]["monetary"]["maxRefund"]["amount"] == "10.0"


@pytest.mark.parametrize(
    ("shape", "first"),
    [
        ("legacy", {"paymentId": "*", "refundable": {}}),
        ("status", {"paymentId": "*", "refundabilityStatus": "REFUNDABLE"}),
    ],
)
def test_refundability_can_answer_in_the_older_shapes_the_library_tolerates(shape: str, first: Any) -> None:
    fake = FakeWix(refundability_shape=shape)
    oid = fake.add_order()
    with httpx.Client(transport=fake.transport()) as http:
        client = WixClient(fake.credentials, base_url=FakeWix.BASE_URL, http_client=http, rate_limit=None)
        (entry,) = client.get_refundability(oid)
    assert entry.payment_id == fake.payments[oid][0]["id"]
    assert entry.refundability is Refundability.REFUNDABLE


def test_a_declined_or_uncaptured_payment_is_not_refundable(fake: FakeWix, raw: Raw) -> None:
    oid = fake.add_order(total="30", payments=[("10", "online", "DECLINED"), ("20", "online", "AUTHORIZED")])
    answer = raw.post("/ecom/v1/order-billing/get-order-refundability", {"orderId": oid}).json()
    assert [e["nonRefundable"]["reason"] for e in answer["payments"]] == ["NOT_PAID", "NOT_PAID"]
    assert [e["payment"]["monetary"]["maxRefund"]["amount"] for e in answer["payments"]] == ["0", "0"]


def test_stored_value_is_refunded_whole_and_refuses_an_amount(fake: FakeWix, raw: Raw) -> None:
    oid = fake.add_order(total="30", payments=[("20", "gift_card"), ("10", "membership")])
    gift, member = (p["id"] for p in fake.payments[oid])
    refused = raw.post(
        "/ecom/v1/order-billing/refund-payments",
        {"orderId": oid, "paymentRefunds": [{"paymentId": gift, "amount": {"amount": "5"}}]},
    )
    assert (refused.status_code, refused.json()["details"]["applicationError"]["code"]) == (
        400,
        "INVALID_PAYMENT_REFUND_AMOUNT",
    )
    whole = raw.post(
        "/ecom/v1/order-billing/refund-payments",
        {"orderId": oid, "paymentRefunds": [{"paymentId": gift}, {"paymentId": member}]},
    ).json()
    assert [t["amount"]["amount"] for t in whole["refund"]["transactions"]] == ["20.0", "10.0"]
    assert fake.orders[oid]["paymentStatus"] == "FULLY_REFUNDED"


def test_refund_errors_use_wix_code_names(fake: FakeWix, raw: Raw) -> None:
    oid = fake.add_order(total="30", payments=[("20", "online"), ("10", "manual")])
    online, manual = (p["id"] for p in fake.payments[oid])
    cases = [
        ((manual, "5", False), 428, "EXTERNAL_REFUND_EXPECTED"),
        ((online, "25", False), 400, "INVALID_PAYMENT_REFUND_AMOUNT"),
        ((online, "1.005", False), 400, "INVALID_PAYMENT_REFUND_AMOUNT"),
        ((online, "-5", False), 400, "INVALID_PAYMENT_REFUND_AMOUNT"),
    ]
    for entry, status, code in cases:
        answer = raw.refund(oid, entry)
        assert (answer.status_code, answer.json()["details"]["applicationError"]["code"]) == (status, code)
    assert fake.refunds[oid] == []


def test_a_late_write_is_applied_after_the_client_gave_up(fake: FakeWix) -> None:
    oid = fake.add_order()
    pid = fake.payments[oid][0]["id"]
    fake.apply_late_next("POST", "/ecom/v1/order-billing/refund-payments", after=0.2)
    with httpx.Client(transport=fake.transport()) as http:
        client = WixClient(fake.credentials, base_url=FakeWix.BASE_URL, http_client=http, rate_limit=None)
        with pytest.raises(WixOutcomeUnknown):
            client.refund_payments(oid, [PaymentRefund(payment_id=pid, amount=Decimal("5"))], reason="x [ref:a]")
        assert client.list_transactions(oid).refunds == ()
        fake.settle()
        assert len(client.list_transactions(oid).refunds) == 1


def test_a_hidden_refund_is_left_out_of_its_answer_and_the_next_listing(fake: FakeWix, raw: Raw) -> None:
    oid = fake.add_order()
    fake.hide_new_refund_next(reads=1)
    answer = raw.refund(oid, (fake.payments[oid][0]["id"], "5", False)).json()
    assert answer["refund"]["id"]
    assert answer["orderTransactions"]["refunds"] == []
    assert raw.get(f"/ecom/v1/payments/orders/{oid}").json()["orderTransactions"]["refunds"] == []
    assert len(raw.get(f"/ecom/v1/payments/orders/{oid}").json()["orderTransactions"]["refunds"]) == 1


def test_someone_else_refund_and_declines_and_reasonless_listings() -> None:
    fake = FakeWix(list_reasons=False)
    with httpx.Client(transport=fake.transport(), base_url=FakeWix.BASE_URL) as http:
        _someone_else_refund_and_declines(fake, Raw(fake, http))


def _someone_else_refund_and_declines(fake: FakeWix, raw: Raw) -> None:
    oid = fake.add_order(total="50")
    fake.foreign_refund_next("GET", "/ecom/v1/payments/orders/*", "7")
    listed = raw.get(f"/ecom/v1/payments/orders/{oid}").json()["orderTransactions"]["refunds"]
    assert [r["transactions"][0]["amount"]["amount"] for r in listed] == ["7.0"]
    fake.decline = "now"
    answer = raw.refund(oid, (fake.payments[oid][0]["id"], "5", False)).json()
    assert answer["refund"]["transactions"][0]["refundStatus"] == "FAILED"
    assert "reason" not in answer["refund"]["details"]
    fake.decline = "later"
    answer = raw.refund(oid, (fake.payments[oid][0]["id"], "5", False)).json()
    assert answer["refund"]["transactions"][0]["refundStatus"] == "PENDING"
    listed = raw.get(f"/ecom/v1/payments/orders/{oid}").json()["orderTransactions"]["refunds"]
    assert listed[-1]["transactions"][0]["refundStatus"] == "FAILED"


def test_old_orders_are_non_refundable_and_refund_payments_answers_428(fake: FakeWix, raw: Raw) -> None:
    oid = fake.add_order(created=OLD)
    answer = raw.post("/ecom/v1/order-billing/get-order-refundability", {"orderId": oid}).json()
    assert "nonRefundable" in answer["payments"][0]
    pid = fake.payments[oid][0]["id"]
    assert raw.refund(oid, (pid, "35", False)).status_code == 428
    assert fake.refunds[oid] == []


def test_refunds_move_payment_status_and_same_partial_refund_twice_refunds_twice(fake: FakeWix, raw: Raw) -> None:
    oid = fake.add_order(total="30")
    pid = fake.payments[oid][0]["id"]
    first = raw.refund(oid, (pid, "10.00", False), reason="late")
    assert first.status_code == 200
    body = first.json()
    assert body["refund"]["transactions"][0]["refundStatus"] == "SUCCEEDED"
    assert body["refund"]["details"]["reason"] == "late"
    assert len(body["orderTransactions"]["refunds"]) == 1
    assert fake.orders[oid]["paymentStatus"] == "PARTIALLY_REFUNDED"
    assert raw.refund(oid, (pid, "10.00", False), reason="late").status_code == 200
    assert fake.refunded_total(oid) == Decimal("20.00")
    assert raw.refund(oid, (pid, "10.01", False)).status_code == 400  # more than is left
    assert raw.refund(oid, (pid, "10", False)).status_code == 200
    assert fake.orders[oid]["paymentStatus"] == "FULLY_REFUNDED"
    assert fake.count_writes("refund", oid) == 3


def test_manual_payments_need_external_refund(fake: FakeWix, raw: Raw) -> None:
    oid = fake.add_order(payments="offline")
    pid = fake.payments[oid][0]["id"]
    assert raw.refund(oid, (pid, "35", False)).status_code == 428
    response = raw.refund(oid, (pid, "35", True))
    assert response.status_code == 200
    assert response.json()["refund"]["transactions"][0]["externalRefund"] is True


def _entry(pid: str, amount: Any = None) -> dict[str, Any]:
    return {"paymentId": pid, "amount": amount if amount is not None else {"amount": "1"}}


BAD_BODIES: list[tuple[Any, str]] = [
    (lambda oid, pid: {"orderId": "nope", "paymentRefunds": [_entry(pid)]}, "orderId"),
    (lambda oid, pid: {"paymentRefunds": [_entry(pid)]}, "orderId"),
    (lambda oid, pid: {"orderId": oid, "paymentRefunds": []}, "paymentRefunds"),
    (lambda oid, pid: {"orderId": oid, "paymentRefunds": [_entry(pid, "5")]}, "paymentRefunds[0].amount"),
    (lambda oid, pid: {"orderId": oid, "paymentRefunds": [_entry("x")]}, "paymentRefunds[0].paymentId"),
    (lambda oid, pid: {"orderId": oid, "paymentRefunds": [_entry(pid)] * 51}, "paymentRefunds"),
    (lambda oid, pid: {"orderId": oid, "paymentRefunds": [_entry(pid)], "customerReason": "x" * 201}, "customerReason"),
]


@pytest.mark.parametrize(("make_body", "field"), BAD_BODIES)
def test_refund_payments_validates_its_body_with_400(fake: FakeWix, raw: Raw, make_body: Any, field: str) -> None:
    oid = fake.add_order()
    pid = fake.payments[oid][0]["id"]
    response = raw.post("/ecom/v1/order-billing/refund-payments", make_body(oid, pid))
    assert response.status_code == 400
    assert response.json()["details"]["validationError"]["fieldViolations"][0]["field"] == field
    assert fake.refunds[oid] == []


def test_search_never_returns_initialized_orders_and_sorts_newest_first(fake: FakeWix, raw: Raw) -> None:
    old = fake.add_order(created=OLD)
    new = fake.add_order(created="2025-01-01T00:00:00Z")
    fake.add_order(status="INITIALIZED", payments="none")
    orders = raw.post("/ecom/v1/orders/search", {"search": {}}).json()["orders"]
    assert [o["id"] for o in orders] == [new, old]
    one = raw.post("/ecom/v1/orders/search", {"search": {"cursorPaging": {"limit": 1}}}).json()["orders"]
    assert [o["id"] for o in one] == [new]


def _search(raw: Raw, search: dict[str, Any]) -> httpx.Response:
    return raw.post("/ecom/v1/orders/search", {"search": search})


def test_search_by_id_pages_with_a_cursor_that_carries_the_filter(fake: FakeWix, raw: Raw) -> None:
    ids = [fake.add_order(created=f"2024-06-0{day}T00:00:00Z") for day in range(1, 6)]
    fake.add_order()  # not asked for
    pages, cursor = [], None
    search: dict[str, Any] = {"filter": {"id": {"$in": ids[:4]}}, "cursorPaging": {"limit": 3}}
    while True:
        page = _search(raw, search).json()
        pages.append([o["id"] for o in page["orders"]])
        cursor = page["metadata"]["cursors"]["next"]
        assert page["metadata"]["hasNext"] is (cursor is not None)
        if cursor is None:
            break
        search = {"cursorPaging": {"limit": 3, "cursor": cursor}}
    assert pages == [[ids[3], ids[2], ids[1]], [ids[0]]]


def test_search_hides_pending_and_rejected_orders_unless_the_filter_asks_for_a_status(fake: FakeWix, raw: Raw) -> None:
    shown = fake.add_order()
    pending, rejected = fake.add_order(status="PENDING"), fake.add_order(status="REJECTED")
    initialized = fake.add_order(status="INITIALIZED", payments="none")
    every = [shown, pending, rejected, initialized]
    found = _search(raw, {"filter": {"id": {"$in": every}}}).json()["orders"]
    assert [o["id"] for o in found] == [shown]
    asked = _search(raw, {"filter": {"id": {"$in": every}, "status": {"$in": ["PENDING", "REJECTED", "INITIALIZED"]}}})
    assert {o["id"] for o in asked.json()["orders"]} == {pending, rejected}


def test_search_filters_on_the_order_number_alone_or_a_range_under_and(fake: FakeWix, raw: Raw) -> None:
    ids = [fake.add_order() for _ in range(4)]  # numbers 10001 to 10004

    def found(where: dict[str, Any]) -> list[str]:
        return sorted(o["id"] for o in _search(raw, {"filter": where}).json()["orders"])

    assert found({"number": {"$eq": 10002}}) == [ids[1]]
    assert found({"number": 10003}) == [ids[2]]
    assert found({"$and": [{"number": {"$gte": 10002}}, {"number": {"$lte": 10003}}]}) == sorted(ids[1:3])
    assert found({"number": {"$gt": 10003}}) == [ids[3]]


@pytest.mark.parametrize(
    ("search", "field"),
    [
        ({"filter": {"buyerInfo.email": "a@b.c"}}, "search.filter.buyerInfo.email"),
        ({"filter": {"id": {"$regex": "x"}}}, "search.filter.id"),
        ({"filter": {"id": {"$in": ["x"]}}, "cursorPaging": {"cursor": "made-up"}}, "search"),
        ({"cursorPaging": {"cursor": "made-up"}}, "search.cursorPaging.cursor"),
        # Wix's table of supported filters: number takes $eq, $ne and the range operators, no $in.
        ({"filter": {"number": {"$in": [10001]}}}, "search.filter.number"),
        ({"filter": {"number": {"$gte": 10001, "$lte": 10002}}}, "search.filter.number"),
        ({"filter": {"number": "10001"}}, "search.filter.number"),
        ({"filter": {"$and": {"number": 10001}}}, "search.filter.$and"),
    ],
)
def test_search_refuses_a_filter_or_cursor_it_does_not_know_with_400(raw: Raw, search: Any, field: str) -> None:
    response = _search(raw, search)
    assert response.status_code == 400
    assert response.json()["details"]["validationError"]["fieldViolations"][0]["field"] == field


def test_list_calls_off_refuses_the_id_filter_and_both_list_by_ids_calls() -> None:
    fake = FakeWix(list_calls=False)
    oid = fake.add_order()
    with httpx.Client(transport=fake.transport(), base_url=FakeWix.BASE_URL) as http:
        raw = Raw(fake, http)
        assert _search(raw, {"filter": {"id": {"$in": [oid]}}}).status_code == 400
        assert _search(raw, {"cursorPaging": {"limit": 1}}).status_code == 200
        assert raw.post("/ecom/v1/payments/list-by-ids", {"orderIds": [oid]}).status_code == 404
        assert raw.post("/ecom/v1/fulfillments/list-by-ids", {"orderIds": [oid]}).status_code == 404
        fake.refused_lists.clear()
        assert raw.post("/ecom/v1/payments/list-by-ids", {"orderIds": [oid]}).status_code == 200


def test_list_by_ids_takes_one_to_a_hundred_orders(fake: FakeWix, raw: Raw) -> None:
    oid = fake.add_order()
    for path in ("/ecom/v1/payments/list-by-ids", "/ecom/v1/fulfillments/list-by-ids"):
        assert raw.post(path, {"orderIds": []}).status_code == 400
        assert raw.post(path, {"orderIds": [oid] * 101}).status_code == 400


def test_a_lagging_refund_counts_down_only_on_listings_of_its_own_order(fake: FakeWix, raw: Raw) -> None:
    oid, other = fake.add_order(total="100"), fake.add_order()
    pid = fake.payments[oid][0]["id"]
    fake.hide_new_refund_next(reads=1)
    assert raw.refund(oid, (pid, "10", False)).status_code == 200
    many = raw.post("/ecom/v1/payments/list-by-ids", {"orderIds": [other, other]}).json()["orderTransactions"]
    assert [t["orderId"] for t in many] == [other, other]
    assert raw.get(f"/ecom/v1/payments/orders/{oid}").json()["orderTransactions"]["refunds"] == []
    assert len(raw.get(f"/ecom/v1/payments/orders/{oid}").json()["orderTransactions"]["refunds"]) == 1


def test_a_lagging_listing_shows_a_refund_only_once_the_lag_has_passed_while_the_order_shows_it_at_once(
    fake: FakeWix, raw: Raw
) -> None:
    oid, other = fake.add_order(total="100"), fake.add_order(total="100")
    fake.add_foreign_refund(other, "3")
    fake.lag_listing(0.5)
    pid = fake.payments[oid][0]["id"]
    answer = raw.refund(oid, (pid, "10", False), reason="x [ref:a]").json()
    committed = time.monotonic()
    assert answer["refund"]["details"]["reason"] == "x [ref:a]"
    assert answer["orderTransactions"]["refunds"] == []
    assert raw.get(f"/ecom/v1/payments/orders/{oid}").json()["orderTransactions"]["refunds"] == []
    # The lag counts from each refund's commit, whoever made it and whenever the lag was set.
    many = raw.post("/ecom/v1/payments/list-by-ids", {"orderIds": [oid, other]}).json()["orderTransactions"]
    assert [len(t["refunds"]) for t in many] == [0, 0]
    order = raw.get(f"/ecom/v1/orders/{oid}").json()["order"]
    assert (order["paymentStatus"], order["balanceSummary"]["refunded"]["amount"]) == ("PARTIALLY_REFUNDED", "10.0")
    time.sleep(max(committed + 0.5 - time.monotonic(), 0) + 0.05)
    listed = raw.get(f"/ecom/v1/payments/orders/{oid}").json()["orderTransactions"]["refunds"]
    assert [r["id"] for r in listed] == [answer["refund"]["id"]]
    many = raw.post("/ecom/v1/payments/list-by-ids", {"orderIds": [oid, other]}).json()["orderTransactions"]
    assert [len(t["refunds"]) for t in many] == [1, 1]
    fake.lag_listing(0)
    fake.add_foreign_refund(oid, "1")
    assert len(raw.get(f"/ecom/v1/payments/orders/{oid}").json()["orderTransactions"]["refunds"]) == 2


def test_a_listing_lag_is_not_negative(fake: FakeWix) -> None:
    with pytest.raises(ValueError, match="0 or more seconds"):
        fake.lag_listing(-1)


def test_credential_check_endpoints(fake: FakeWix, raw: Raw) -> None:
    assert raw.get("/site-properties/v4/properties").json()["properties"]["businessName"]
    assert raw.get("/currency_converter/v1/currencies").json()["currencies"]
    account = {"wix-site-id": None, "wix-account-id": fake.account_id}
    query = {"query": {"filter": {"id": {"$in": [fake.site_id]}}, "cursorPaging": {"limit": 1}}}
    assert raw.post("/site-list/v2/sites/query", query, **account).json()["sites"][0]["id"] == fake.site_id
    other = {"query": {"filter": {"id": {"$in": ["0c87cd5d-4059-4e86-8f6e-d185b1e4a1bd"]}}}}
    assert raw.post("/site-list/v2/sites/query", other, **account).json()["sites"] == []
    assert raw.post("/site-list/v2/sites/query", query).status_code == 403  # site header on an account call


def test_fail_next_answers_unapplied_with_status_retry_after_or_html(fake: FakeWix, raw: Raw) -> None:
    oid = fake.add_order(created=OLD)
    fake.fail_next("POST", "/ecom/v1/orders/*/cancel", 503, times=2)
    fake.fail_next("GET", "/ecom/v1/orders/*", 429, retry_after=3)
    fake.fail_next("GET", "/ecom/v1/payments/*", 502, html=True)
    for _ in range(2):
        failed = raw.post(f"/ecom/v1/orders/{oid}/cancel", {})
        assert failed.status_code == 503
        assert failed.json() == {"message": "", "details": {}}
    assert fake.orders[oid]["status"] == "APPROVED"
    limited = raw.get(f"/ecom/v1/orders/{oid}")
    assert (limited.status_code, limited.headers["retry-after"]) == (429, "3")
    page = raw.get(f"/ecom/v1/payments/orders/{oid}")
    assert page.status_code == 502
    assert page.headers["content-type"] == "text/html"
    assert raw.post(f"/ecom/v1/orders/{oid}/cancel", {}).status_code == 200


def test_lost_response_is_applied_then_the_client_sees_a_network_error(fake: FakeWix, raw: Raw) -> None:
    oid = fake.add_order()
    pid = fake.payments[oid][0]["id"]
    fake.lose_response_next("POST", "/ecom/v1/order-billing/refund-payments")
    with pytest.raises(httpx.ReadTimeout):
        raw.refund(oid, (pid, "5", False))
    assert fake.refunded_total(oid) == Decimal("5")
    assert fake.requests[-1].outcome == "lost"


def test_refused_connections_reach_nothing(fake: FakeWix, raw: Raw) -> None:
    oid = fake.add_order(created=OLD)
    fake.refuse_connections(times=1)
    with pytest.raises(httpx.ConnectError):
        raw.post(f"/ecom/v1/orders/{oid}/cancel", {})
    assert fake.orders[oid]["status"] == "APPROVED"
    assert raw.post(f"/ecom/v1/orders/{oid}/cancel", {}).status_code == 200


def test_rate_limit_answers_429_with_retry_after_then_recovers(fake: FakeWix, raw: Raw) -> None:
    oid = fake.add_order()
    fake.set_rate_limit(3, per=0.5)
    statuses = [raw.get(f"/ecom/v1/orders/{oid}").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    limited = raw.get(f"/ecom/v1/orders/{oid}")
    wait = float(limited.headers["retry-after"])
    assert 0 < wait <= 0.5
    assert _code(limited) == "RESOURCE_EXHAUSTED"
    time.sleep(wait + 0.01)
    assert raw.get(f"/ecom/v1/orders/{oid}").status_code == 200


def test_request_log_masks_the_key_and_keeps_body_and_status(fake: FakeWix, raw: Raw) -> None:
    oid = fake.add_order(created=OLD)
    raw.post(f"/ecom/v1/orders/{oid}/cancel", {"restockAllItems": False})
    (logged,) = fake.calls(method="POST", path="/ecom/v1/orders/*/cancel")
    assert logged.headers["authorization"] == "***"
    assert logged.json == {"restockAllItems": False}
    assert logged.status == 200
    assert fake.api_key not in repr(fake.requests)


def test_served_fake_speaks_http_on_loopback_and_stops_cleanly(fake: FakeWix) -> None:
    oid = fake.add_order(total="100")
    pid = fake.payments[oid][0]["id"]
    with fake.serve() as base_url:
        assert base_url.startswith("http://127.0.0.1:")

        def refund_one() -> None:
            with httpx.Client(base_url=base_url) as http:
                response = Raw(fake, http).refund(oid, (pid, "1.00", False))
                assert response.status_code == 200

        threads = [threading.Thread(target=refund_one) for _ in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        fake.lose_response_next("GET", "/ecom/v1/orders/*")
        with httpx.Client(base_url=base_url) as http, pytest.raises(httpx.RemoteProtocolError):
            Raw(fake, http).get(f"/ecom/v1/orders/{oid}")
    assert fake.refunded_total(oid) == Decimal("20.00")
    assert len(fake.refunds[oid]) == 20
    with pytest.raises(httpx.ConnectError), httpx.Client(base_url=base_url) as http:
        http.get("/")


def test_latency_is_added_to_each_request(fake: FakeWix, raw: Raw) -> None:
    oid = fake.add_order()
    fake.latency = 0.05
    started = time.monotonic()
    raw.get(f"/ecom/v1/orders/{oid}")
    assert time.monotonic() - started >= 0.05


def test_credentials_are_accepted_by_the_fake(fake: FakeWix) -> None:
    creds = fake.credentials
    assert (creds.api_key, creds.account_id, creds.site_id) == (fake.api_key, fake.account_id, fake.site_id)


def test_two_fakes_with_one_seed_share_order_ids_but_are_two_stores() -> None:
    # A journal that outlives a fake must never take one fake's orders for another's.
    one, other = FakeWix(seed=7), FakeWix(seed=7)
    assert one.add_order() == other.add_order()
    assert one.site_id != other.site_id


def test_add_order_takes_an_aware_datetime_and_refuses_a_naive_one(fake: FakeWix) -> None:
    from datetime import datetime, timedelta, timezone

    oid = fake.add_order(created=datetime(2024, 4, 21, 20, tzinfo=timezone(timedelta(hours=-4))))
    assert fake.orders[oid]["createdDate"] == "2024-04-22T00:00:00.000Z"
    with pytest.raises(ValueError, match="naive"):
        fake.add_order(created=datetime(2024, 4, 21, 20))


def test_item_refunds_are_checked_with_wixs_named_errors(fake: FakeWix, raw: Raw) -> None:
    oid = fake.add_order(total="30", line_items=[3])
    pid = fake.payments[oid][0]["id"]
    line = fake.orders[oid]["lineItems"][0]["id"]

    def refund(items: Any, restock: Any = None) -> httpx.Response:
        body: dict[str, Any] = {
            "orderId": oid,
            "paymentRefunds": [{"paymentId": pid, "amount": {"amount": "10.00"}}],
            "refundItems": {"lineItems": items},
        }
        if restock is not None:
            body["sideEffects"] = {"restock": {"lineItems": restock}}
        return raw.post("/ecom/v1/order-billing/refund-payments", body)

    cases = [
        (refund([{"lineItemId": "nope", "quantity": 1}]), 404, "LINE_ITEM_NOT_FOUND"),
        (refund([{"lineItemId": line, "quantity": 4}]), 400, "INVALID_LINE_ITEM_REFUND_QUANTITY"),
        (
            refund([{"lineItemId": line, "quantity": 1}], [{"lineItemId": line, "quantity": 2}]),
            400,
            "INVALID_LINE_ITEM_RESTOCK_QUANTITY",
        ),
    ]
    for answer, status, code in cases:
        assert (answer.status_code, _code(answer)) == (status, code)
    assert fake.refunds[oid] == []
    ok = refund([{"lineItemId": line, "quantity": 1}], [{"lineItemId": line, "quantity": 1}])
    assert ok.status_code == 200
    assert (
        fake.orders[oid]["lineItems"][0]["refundQuantity"],
        fake.orders[oid]["lineItems"][0]["restockQuantity"],
    ) == (
        1,
        1,
    )
    left = raw.post("/ecom/v1/order-billing/get-order-refundability", {"orderId": oid}).json()["lineItems"][0]
    assert (left["refundedQuantity"], left["availableRefundQuantity"]) == (1, 2)


def test_calculate_refund_prices_the_items_or_says_why_not(fake: FakeWix, raw: Raw) -> None:
    oid = fake.add_order(total="35", line_items=[3], shipping="5")
    line = fake.orders[oid]["lineItems"][0]["id"]
    answer = raw.post(
        "/ecom/v1/order-billing/calculate-refund",
        {"orderId": oid, "refundItems": {"lineItems": [{"lineItemId": line, "quantity": 2}], "shipping": {}}},
    ).json()
    assert answer["available"] is True
    assert answer["summary"]["total"]["amount"] == "25.0"
    refused = raw.post(
        "/ecom/v1/order-billing/calculate-refund",
        {"orderId": oid, "refundItems": {"lineItems": [{"lineItemId": line, "quantity": 9}]}},
    ).json()
    assert "available" not in refused
    assert refused["notAvailable"]["errors"][0]["error"]["applicationError"]["code"] == (
        "INVALID_LINE_ITEM_REFUND_QUANTITY"
    )


def test_serve_odd_changes_the_answer_not_the_books(fake: FakeWix, raw: Raw) -> None:
    oid = fake.add_order(total="35")
    path = f"/ecom/v1/payments/orders/{oid}"
    fake.serve_odd("orderTransactions.payments[0].amount.amount", "-1", path="/ecom/v1/payments/*", times=1)
    fake.serve_odd("orderTransactions.payments[5].amount.amount", "9", path="/ecom/v1/payments/*")
    assert raw.get(path).json()["orderTransactions"]["payments"][0]["amount"]["amount"] == "-1"
    assert fake.payments[oid][0]["amount"]["amount"] == "35.0"
    # times=1 is spent; a field the answer lacks is left alone.
    payments = raw.get(path).json()["orderTransactions"]["payments"]
    assert [p["amount"]["amount"] for p in payments] == ["35.0"]


# --- answers shaped as Wix's SDK types describe them (docs/wix-api.md 2.4, 2.8, 7) -----------------


def test_orders_carry_price_summary_total_and_not_the_older_total_price(fake: FakeWix, raw: Raw) -> None:
    oid = fake.add_order(total="35.00")
    summary = raw.get(f"/ecom/v1/orders/{oid}").json()["order"]["priceSummary"]
    assert summary["total"]["amount"] == "35.0"
    assert "totalPrice" not in summary


def test_a_refund_carries_its_summary_and_its_items_at_details_items(fake: FakeWix, raw: Raw) -> None:
    oid = fake.add_order(total="20.00", line_items=[2])
    line = fake.orders[oid]["lineItems"][0]["id"]
    body = {
        "orderId": oid,
        "paymentRefunds": [{"paymentId": fake.payments[oid][0]["id"], "amount": {"amount": "10.00"}}],
        "refundItems": {"lineItems": [{"lineItemId": line, "quantity": 1}]},
    }
    refund = raw.post("/ecom/v1/order-billing/refund-payments", body).json()["refund"]
    assert refund["details"]["items"] == [{"lineItemId": line, "quantity": 1}]
    assert "lineItems" not in refund["details"]
    summary = refund["summary"]
    assert {k: Decimal(v["amount"]) for k, v in summary.items() if isinstance(v, dict) and "amount" in v} == {
        "requestedRefund": 10,
        "pendingRefund": 0,
        "refunded": 10,
        "failedRefundAmount": 0,
    }
    assert summary["pending"] is False
    (share,) = summary["breakdown"]["lineItems"]
    assert (share["lineItemId"], Decimal(share["totalRefundedAmount"]["amount"])) == (line, Decimal(10))
    listed = raw.get(f"/ecom/v1/payments/orders/{oid}").json()["orderTransactions"]["refunds"][0]
    assert (listed["details"]["items"], listed["summary"]) == (refund["details"]["items"], summary)


@pytest.mark.parametrize(("shape", "keys"), [("legacy", {"lineItems"}), ("both", {"items", "lineItems"})])
def test_refund_items_shape_writes_the_older_details_line_items_when_asked(shape: str, keys: set[str]) -> None:
    fake = FakeWix(refund_items_shape=shape)
    oid = fake.add_order(total="20.00", line_items=[2])
    line = fake.orders[oid]["lineItems"][0]["id"]
    with httpx.Client(transport=fake.transport(), base_url=FakeWix.BASE_URL) as http:
        raw = Raw(fake, http)
        body = {
            "orderId": oid,
            "paymentRefunds": [{"paymentId": fake.payments[oid][0]["id"], "amount": {"amount": "10.00"}}],
            "refundItems": {"lineItems": [{"lineItemId": line, "quantity": 1}]},
        }
        details = raw.post("/ecom/v1/order-billing/refund-payments", body).json()["refund"]["details"]
    assert keys == set(details) & {"items", "lineItems"}
    assert all(details[key] == [{"lineItemId": line, "quantity": 1}] for key in keys)


def test_a_failed_refund_says_why_in_refund_status_info_and_its_summary(fake: FakeWix, raw: Raw) -> None:
    oid = fake.add_order(total="30")
    fake.decline = "now"
    refund = raw.refund(oid, (fake.payments[oid][0]["id"], "5", False)).json()["refund"]
    (transaction,) = refund["transactions"]
    assert transaction["refundStatus"] == "FAILED"
    assert transaction["refundStatusInfo"] == fake.decline_info
    summary = refund["summary"]
    assert (Decimal(summary["failedRefundAmount"]["amount"]), Decimal(summary["refunded"]["amount"])) == (
        Decimal(5),
        Decimal(0),
    )


def test_a_pending_refund_summary_says_pending_until_it_settles(fake: FakeWix, raw: Raw) -> None:
    oid = fake.add_order(total="30")
    fake.refund_status = "PENDING"
    refund = raw.refund(oid, (fake.payments[oid][0]["id"], "5", False)).json()["refund"]
    assert (refund["summary"]["pending"], Decimal(refund["summary"]["pendingRefund"]["amount"])) == (True, Decimal(5))
    assert "refundStatusInfo" not in refund["transactions"][0]
    fake.finish_refunds(oid)
    listed = raw.get(f"/ecom/v1/payments/orders/{oid}").json()["orderTransactions"]["refunds"][0]
    assert (listed["summary"]["pending"], Decimal(listed["summary"]["refunded"]["amount"])) == (False, Decimal(5))


def test_calculate_refund_errors_each_name_their_item(fake: FakeWix, raw: Raw) -> None:
    oid = fake.add_order(total="20.00", line_items=[1])
    unknown_line = "00000000-0000-0000-0000-000000000099"
    unknown_fee = "00000000-0000-4000-8000-000000000099"
    body = {
        "orderId": oid,
        "refundItems": {
            "lineItems": [{"lineItemId": unknown_line, "quantity": 1}],
            "additionalFees": [{"additionalFeeId": unknown_fee}],
            "shipping": {},
        },
    }
    errors = raw.post("/ecom/v1/order-billing/calculate-refund", body).json()["notAvailable"]["errors"]
    assert [(set(e) - {"error"}, e["error"]["applicationError"]["code"]) for e in errors] == [
        ({"lineItem"}, "LINE_ITEM_NOT_FOUND"),
        ({"additionalFee"}, "ADDITIONAL_FEE_NOT_FOUND"),
        ({"shipping"}, "SHIPPING_NOT_FOUND"),
    ]
    assert errors[0]["lineItem"] == {"lineItemId": unknown_line, "quantity": 1}
    assert errors[1]["additionalFee"] == {"additionalFeeId": unknown_fee}


def test_leave_out_drops_the_fields_wixs_types_mark_optional() -> None:
    fake = FakeWix(leave_out=["refundStatus", "fulfillmentQuantity"])
    oid = fake.add_order(created=OLD, fulfillments=1)
    new = fake.add_order()
    with httpx.Client(transport=fake.transport(), base_url=FakeWix.BASE_URL) as http:
        raw = Raw(fake, http)
        (fulfillment,) = raw.get(f"/ecom/v1/fulfillments/orders/{oid}").json()["orderWithFulfillments"]["fulfillments"]
        refund = raw.refund(new, (fake.payments[new][0]["id"], "5", False)).json()["refund"]
    assert [line["quantity"] for line in fulfillment["lineItems"]] == [None]
    assert "refundStatus" not in refund["transactions"][0]
    # The fake still keeps the status: only what it writes leaves it out.
    assert fake.refunds[new][0]["transactions"][0]["refundStatus"] == "SUCCEEDED"
    with pytest.raises(ValueError, match="leave out only"):
        FakeWix(leave_out=["amount"])
