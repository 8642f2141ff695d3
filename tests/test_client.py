from __future__ import annotations

import asyncio
import json
import logging
import traceback
from decimal import Decimal
from typing import Any

import httpx
import pytest

from wix_refunds import (
    AsyncWixClient,
    InvalidRequest,
    WixAPIError,
    WixAuthError,
    WixClient,
    WixNotFound,
    WixOutcomeUnknown,
)
from wix_refunds.core import (
    InvalidOrderData,
    Order,
    OrderTransactions,
    PaymentRefund,
    Refundability,
    WixConnectionError,
    WixInvalidResponse,
    WixPreconditionFailed,
    WixRateLimited,
    WixServerError,
)

from .clients import ACCOUNT_ID, CANARY_KEY, CREDENTIALS, SITE_ID, Sleeps, fast_policy, recording, run_call
from .factories import ORDER_ID, order_json

KINDS = ["sync", "async"]
FID = "e443df78-9558-467f-9ba9-1faf7a024204"
PID = "17e0aa3c-0398-4ca8-aa7e-9d498c778ea6"

TRANSACTIONS = {
    "orderTransactions": {
        "orderId": ORDER_ID,
        "payments": [
            {
                "id": PID,
                "amount": {"amount": "35.0"},
                "refundDisabled": False,
                "regularPaymentDetails": {"offlinePayment": True, "status": "APPROVED", "paymentMethod": "Cash"},
            }
        ],
        "refunds": [
            {
                "id": "9d2a3b7e-0000-4000-8000-000000000001",
                "createdDate": "2024-06-01T12:00:00.000Z",
                "transactions": [
                    {"paymentId": PID, "amount": {"amount": "10"}, "refundStatus": "SUCCEEDED", "externalRefund": True},
                    {"paymentId": PID, "amount": {"amount": "5.00"}, "refundStatus": "FAILED", "externalRefund": True},
                ],
                "details": {"reason": "damaged [ref:t-1]"},
            }
        ],
    }
}
FULFILLMENTS = {
    "orderWithFulfillments": {
        "orderId": ORDER_ID,
        "fulfillments": [{"id": FID, "createdDate": "2024-03-01T10:00:00Z", "lineItems": [{"id": "x", "quantity": 1}]}],
    }
}

# method, args, kwargs, answer, (http method, path, body or None)
CALLS: list[tuple[str, tuple[Any, ...], dict[str, Any], Any, tuple[str, str, Any]]] = [
    ("get_order", (ORDER_ID,), {}, order_json(), ("GET", f"/ecom/v1/orders/{ORDER_ID}", None)),
    (
        "list_fulfillments",
        (ORDER_ID,),
        {},
        FULFILLMENTS,
        ("GET", f"/ecom/v1/fulfillments/orders/{ORDER_ID}", None),
    ),
    (
        "delete_fulfillment",
        (ORDER_ID, FID),
        {},
        {"orderWithFulfillments": {"orderId": ORDER_ID, "fulfillments": []}},
        ("DELETE", f"/ecom/v1/fulfillments/{FID}/orders/{ORDER_ID}", None),
    ),
    (
        "cancel_order",
        (ORDER_ID,),
        {"restock": True, "notify_customer": False, "message": "sorry"},
        order_json(status="CANCELED"),
        (
            "POST",
            f"/ecom/v1/orders/{ORDER_ID}/cancel",
            {"sendOrderCanceledEmail": False, "restockAllItems": True, "customMessage": "sorry"},
        ),
    ),
    (
        "cancel_order",
        (ORDER_ID,),
        {},
        order_json(status="CANCELED"),
        ("POST", f"/ecom/v1/orders/{ORDER_ID}/cancel", {"sendOrderCanceledEmail": False, "restockAllItems": False}),
    ),
    ("list_transactions", (ORDER_ID,), {}, TRANSACTIONS, ("GET", f"/ecom/v1/payments/orders/{ORDER_ID}", None)),
    (
        "get_refundability",
        (ORDER_ID,),
        {},
        {"payments": [{"paymentId": PID, "manuallyRefundable": {"reason": "OFFLINE"}}]},
        ("POST", "/ecom/v1/order-billing/get-order-refundability", {"orderId": ORDER_ID}),
    ),
    (
        "refund_payments",
        (ORDER_ID, [PaymentRefund(payment_id=PID, amount=Decimal("10.50"), external=True)]),
        {"reason": "damaged [ref:t-1]", "notify_customer": True},
        {"refund": TRANSACTIONS["orderTransactions"]["refunds"][0], **TRANSACTIONS},
        (
            "POST",
            "/ecom/v1/order-billing/refund-payments",
            {
                "orderId": ORDER_ID,
                "paymentRefunds": [{"paymentId": PID, "amount": {"amount": "10.50"}, "externalRefund": True}],
                "sideEffects": {"notifications": {"sendCustomerEmail": True}},
                "customerReason": "damaged [ref:t-1]",
            },
        ),
    ),
]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("method", "args", "kwargs", "answer", "expected"), CALLS)
def test_each_call_sends_wix_method_path_headers_and_body(
    kind: str, method: str, args: tuple[Any, ...], kwargs: dict[str, Any], answer: Any, expected: tuple[str, str, Any]
) -> None:
    transport, seen = recording(lambda request: httpx.Response(200, json=answer))
    run_call(kind, transport, method, *args, **kwargs)
    (request,) = seen
    http_method, path, body = expected
    assert (request.method, request.url.path, request.url.host) == (http_method, path, "www.wixapis.com")
    assert request.headers["authorization"] == CANARY_KEY
    assert request.headers["wix-site-id"] == SITE_ID
    assert "wix-account-id" not in request.headers
    assert request.headers["accept"] == "application/json"
    assert request.headers["user-agent"].startswith("wix-refunds/")
    if body is None:
        assert request.content == b""
    else:
        assert request.headers["content-type"] == "application/json"
        assert json.loads(request.content) == body


@pytest.mark.parametrize("kind", KINDS)
def test_responses_are_parsed_into_frozen_values_with_decimal_amounts(kind: str) -> None:
    transport, _ = recording(lambda request: httpx.Response(200, json=TRANSACTIONS))
    transactions = run_call(kind, transport, "list_transactions", ORDER_ID)
    assert isinstance(transactions, OrderTransactions)
    (payment,) = transactions.payments
    assert payment.amount == Decimal("35.0")
    assert payment.offline is True
    assert transactions.refunded_for(PID) == Decimal("10")  # the FAILED 5.00 does not count
    assert transactions.refunds[0].reason == "damaged [ref:t-1]"

    transport, _ = recording(lambda request: httpx.Response(200, json=order_json()))
    assert isinstance(run_call(kind, transport, "get_order", ORDER_ID), Order)

    answer = {"payments": [{"paymentId": PID, "manuallyRefundable": {"reason": "OFFLINE"}}]}
    transport, _ = recording(lambda request: httpx.Response(200, json=answer))
    (entry,) = run_call(kind, transport, "get_refundability", ORDER_ID)
    assert (entry.refundability, entry.reason) == (Refundability.MANUALLY_REFUNDABLE, "OFFLINE")


@pytest.mark.parametrize("kind", KINDS)
def test_verify_reports_each_permission_and_what_to_fix(kind: str) -> None:
    def respond(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/site-list/v2/sites/query":
            assert request.headers["wix-account-id"] == ACCOUNT_ID
            assert "wix-site-id" not in request.headers
            assert json.loads(request.content)["query"]["filter"] == {"id": {"$in": [SITE_ID]}}
            return httpx.Response(200, json={"sites": [{"id": SITE_ID}]})
        if request.url.path == "/currency_converter/v1/currencies":
            return httpx.Response(
                403, json={"message": "denied", "details": {"applicationError": {"code": "PERMISSION_DENIED"}}}
            )
        if request.url.path == "/ecom/v1/orders/search":
            assert json.loads(request.content) == {"search": {"cursorPaging": {"limit": 1}}}
            return httpx.Response(200, json={"orders": []})
        if request.url.path.endswith("/cancel") or "fulfillments" in request.url.path or "refund" in request.url.path:
            return httpx.Response(404, json={"message": "no such order", "details": {}})
        return httpx.Response(200, json={"version": "1", "properties": {"businessName": "Shop"}})

    transport, _ = recording(respond)
    report = run_call(kind, transport, "verify", retry=fast_policy(Sleeps()))
    assert [(c.name, c.passed) for c in report.checks] == [
        ("Business Info", True),
        ("Sites", True),
        ("Wix Stores (read orders)", True),
        ("Wix Stores (cancel orders)", True),
        ("Wix Stores (refund payments)", True),
        ("Wix Stores (delete fulfilments)", True),
        ("Wix Currencies", False),
    ]
    assert report.ok is False
    assert "Account Settings > API Keys" in str(report)
    assert "Wix Currencies" in str(report).splitlines()[-2]
    assert CANARY_KEY not in str(report)
    # Each line names Wix's permission ID beside the dashboard's label, where the types name one.
    assert [c.permission_id for c in report.checks] == [
        None,
        None,
        "ECOM.READ_ORDERS",
        "ECOM.MODIFY_ORDERS",
        "ECOM.ORDER_BILLING_REFUND_PAYMENTS",
        "ECOM.MODIFY_FULFILLMENTS",
        None,
    ]
    assert "[ok  ] Wix Stores (refund payments) [ECOM.ORDER_BILLING_REFUND_PAYMENTS]: " in str(report)


@pytest.mark.parametrize("kind", KINDS)
def test_verify_names_wixs_permission_id_in_the_fix_for_a_refused_write(kind: str) -> None:
    def respond(request: httpx.Request) -> httpx.Response:
        if "refund-payments" in request.url.path:
            return httpx.Response(403, json={"message": "denied", "details": {}})
        if request.url.path.endswith("/cancel") or "fulfillments" in request.url.path:
            return httpx.Response(404, json={"message": "no such order", "details": {}})
        if request.url.path == "/site-list/v2/sites/query":
            return httpx.Response(200, json={"sites": [{"id": SITE_ID}]})
        return httpx.Response(200, json={"orders": [], "currencies": [], "properties": {}})

    transport, _ = recording(respond)
    report = run_call(kind, transport, "verify", retry=fast_policy(Sleeps()))
    (failed,) = [c for c in report.checks if not c.passed]
    assert failed.name == "Wix Stores (refund payments)"
    assert failed.fix is not None
    assert "ECOM.ORDER_BILLING_REFUND_PAYMENTS" in failed.fix
    assert "[FAIL] Wix Stores (refund payments) [ECOM.ORDER_BILLING_REFUND_PAYMENTS]" in str(report)


@pytest.mark.parametrize("kind", KINDS)
def test_verify_fails_sites_when_the_site_is_not_in_the_account(kind: str) -> None:
    def respond(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/site-list/v2/sites/query":
            return httpx.Response(200, json={"sites": []})
        if request.url.path.endswith("/cancel") or "fulfillments" in request.url.path or "refund" in request.url.path:
            return httpx.Response(404, json={"message": "no such order", "details": {}})
        return httpx.Response(200, json={"properties": {}, "orders": [], "currencies": []})

    transport, _ = recording(respond)
    report = run_call(kind, transport, "verify")
    assert [c.name for c in report.checks if not c.passed] == ["Sites"]
    assert "not in account" in str(report)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("bad", ["../x", "12", "", "0c87cd5d-4059-4e86-8f6e-d185b1e4a1bd/../../x", None])
def test_bad_id_is_refused_before_anything_is_sent(kind: str, bad: Any) -> None:
    transport, seen = recording(lambda request: httpx.Response(200, json={}))
    with pytest.raises(InvalidRequest, match="order_id"):
        run_call(kind, transport, "get_order", bad)
    with pytest.raises(InvalidRequest, match="fulfillment_id"):
        run_call(kind, transport, "delete_fulfillment", ORDER_ID, bad)
    assert seen == []


@pytest.mark.parametrize("url", ["http://www.wixapis.com", "ftp://127.0.0.1", "http://10.0.0.1:8080"])
def test_non_https_base_url_is_refused_unless_loopback(url: str) -> None:
    transport, _ = recording(lambda request: httpx.Response(200, json=order_json()))
    with pytest.raises(InvalidRequest, match="base_url"):
        run_call("sync", transport, "get_order", ORDER_ID, base_url=url)


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8080", "http://localhost:1", "http://[::1]:80", "https://proxy.example"]
)
def test_loopback_http_and_any_https_base_url_are_accepted(url: str) -> None:
    transport, seen = recording(lambda request: httpx.Response(200, json=order_json()))
    run_call("sync", transport, "get_order", ORDER_ID, base_url=url)
    assert seen[0].url.path == f"/ecom/v1/orders/{ORDER_ID}"


def _error_body(code: str, message: str) -> dict[str, Any]:
    return {"message": message, "details": {"applicationError": {"code": code, "description": message, "data": {}}}}


ERRORS: list[tuple[int, dict[str, str], bytes, type[Exception], str]] = [
    (401, {}, json.dumps(_error_body("UNAUTHENTICATED", "bad key")).encode(), WixAuthError, "refused the API key"),
    (403, {}, json.dumps(_error_body("PERMISSION_DENIED", "no scope")).encode(), WixAuthError, "Wix Stores"),
    (404, {}, json.dumps(_error_body("NOT_FOUND", "order not found")).encode(), WixNotFound, "order not found"),
    (428, {}, json.dumps(_error_body("X", "cannot cancel")).encode(), WixPreconditionFailed, "cannot cancel"),
    (429, {"retry-after": "7"}, b"", WixRateLimited, "wait 7s"),
    (500, {}, b'{"message": "", "details": {}}', WixServerError, "HTTP 500"),
    (502, {"content-type": "text/html"}, b"<html><title>502 Bad Gateway</title></html>", WixServerError, "HTML page"),
    (503, {}, b"", WixServerError, "empty body"),
    (
        400,
        {},
        json.dumps(
            {
                "message": "bad",
                "details": {
                    "validationError": {"fieldViolations": [{"field": "orderId", "description": "not a GUID"}]}
                },
            }
        ).encode(),
        WixAPIError,
        "orderId: not a GUID",
    ),
]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("status", "headers", "body", "error", "text"), ERRORS)
def test_error_statuses_become_typed_errors_with_request_id(
    kind: str, status: int, headers: dict[str, str], body: bytes, error: type[Exception], text: str
) -> None:
    answer = {"x-wix-request-id": "req-123", **headers}
    transport, _ = recording(lambda request: httpx.Response(status, headers=answer, content=body))
    with pytest.raises(error, match=text) as info:
        run_call(kind, transport, "get_order", ORDER_ID, retry=fast_policy(Sleeps(), max_attempts=1))
    assert isinstance(info.value, WixAPIError)
    assert info.value.status == status
    assert info.value.request_id == "req-123"
    assert "req-123" in str(info.value)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("body", [b"<html>ok</html>", b"", b"{not json"])
def test_success_with_a_body_that_is_not_json_is_a_typed_error(kind: str, body: bytes) -> None:
    transport, _ = recording(lambda request: httpx.Response(200, content=body))
    with pytest.raises(WixInvalidResponse, match="not JSON"):
        run_call(kind, transport, "get_order", ORDER_ID)


@pytest.mark.parametrize("kind", KINDS)
def test_success_with_the_wrong_json_shape_names_the_field(kind: str) -> None:
    answer = httpx.Response(200, json={"order": {"id": ORDER_ID}}, headers={"x-wix-request-id": "req-9"})
    transport, _ = recording(lambda request: answer)
    with pytest.raises(WixInvalidResponse, match=r"order\.number") as info:
        run_call(kind, transport, "get_order", ORDER_ID)
    assert (info.value.status, info.value.request_id, info.value.field) == (200, "req-9", "order.number")
    assert "req-9" in str(info.value)
    assert isinstance(info.value, InvalidOrderData)  # the older name still catches it


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_retry_after_is_honoured_on_every_retryable_status(kind: str, status: int) -> None:
    answers = iter([httpx.Response(status, headers={"retry-after": "3"}), httpx.Response(200, json=order_json())])
    transport, _ = recording(lambda request: next(answers))
    sleeps = Sleeps()
    run_call(kind, transport, "get_order", ORDER_ID, retry=fast_policy(sleeps))
    assert sleeps == [3.0]


def _raise(exc_type: type[httpx.TransportError]) -> Any:
    def respond(request: httpx.Request) -> httpx.Response:
        raise exc_type("boom", request=request)

    return respond


def _status(code: int, **headers: str) -> Any:
    return lambda request: httpx.Response(code, headers=headers, content=b"")


# failure, is it a write?, retried?, final error
RETRY_TABLE: list[tuple[str, Any, bool, bool, type[Exception]]] = [
    ("connect error, read", _raise(httpx.ConnectError), False, True, WixConnectionError),
    ("connect error, write", _raise(httpx.ConnectError), True, True, WixConnectionError),
    ("connect timeout, write", _raise(httpx.ConnectTimeout), True, True, WixConnectionError),
    ("pool timeout, write", _raise(httpx.PoolTimeout), True, True, WixConnectionError),
    ("read timeout, read", _raise(httpx.ReadTimeout), False, True, WixConnectionError),
    ("read timeout, write", _raise(httpx.ReadTimeout), True, False, WixOutcomeUnknown),
    ("reset, write", _raise(httpx.ReadError), True, False, WixOutcomeUnknown),
    ("server closed, write", _raise(httpx.RemoteProtocolError), True, False, WixOutcomeUnknown),
    ("write timeout, write", _raise(httpx.WriteTimeout), True, False, WixOutcomeUnknown),
    ("429, read", _status(429), False, True, WixRateLimited),
    ("429, write", _status(429), True, False, WixOutcomeUnknown),
    ("500, read", _status(500), False, True, WixServerError),
    ("503, read", _status(503), False, True, WixServerError),
    ("500, write", _status(500), True, False, WixOutcomeUnknown),
    ("503, write", _status(503), True, False, WixOutcomeUnknown),
    ("400, read", _status(400), False, False, WixAPIError),
    ("401, read", _status(401), False, False, WixAuthError),
    ("403, write", _status(403), True, False, WixAuthError),
    ("404, read", _status(404), False, False, WixNotFound),
    ("428, write", _status(428), True, False, WixPreconditionFailed),
]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("case", "respond", "write", "retried", "error"), RETRY_TABLE, ids=[r[0] for r in RETRY_TABLE])
def test_retry_rules(kind: str, case: str, respond: Any, write: bool, retried: bool, error: type[Exception]) -> None:
    transport, seen = recording(respond)
    sleeps = Sleeps()
    method, args = ("cancel_order", (ORDER_ID,)) if write else ("get_order", (ORDER_ID,))
    with pytest.raises(error) as info:
        run_call(kind, transport, method, *args, retry=fast_policy(sleeps, max_attempts=3))
    assert len(seen) == (3 if retried else 1)
    assert len(sleeps) == (2 if retried else 0)
    assert info.value.attempts == len(seen)  # type: ignore[attr-defined]


@pytest.mark.parametrize("kind", KINDS)
def test_transient_failures_then_success_returns_the_answer(kind: str) -> None:
    answers = iter(
        [httpx.Response(503), httpx.Response(429, headers={"retry-after": "2"}), httpx.Response(200, json=order_json())]
    )
    transport, seen = recording(lambda request: next(answers))
    sleeps = Sleeps()
    order = run_call(kind, transport, "get_order", ORDER_ID, retry=fast_policy(sleeps))
    assert order.id == ORDER_ID
    assert len(seen) == 3
    assert sleeps == [0.5, 2.0]  # backoff for the 503, Retry-After for the 429


@pytest.mark.parametrize("kind", KINDS)
def test_retry_after_as_an_http_date_is_honoured(kind: str) -> None:
    from datetime import datetime, timedelta, timezone
    from email.utils import format_datetime

    when = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=30), usegmt=True)
    answers = iter([httpx.Response(429, headers={"retry-after": when}), httpx.Response(200, json=order_json())])
    transport, _ = recording(lambda request: next(answers))
    sleeps = Sleeps()
    run_call(kind, transport, "get_order", ORDER_ID, retry=fast_policy(sleeps))
    assert len(sleeps) == 1
    assert 25 <= sleeps[0] <= 30


@pytest.mark.parametrize("kind", KINDS)
def test_retry_after_is_capped(kind: str) -> None:
    answers = iter([httpx.Response(429, headers={"retry-after": "30"}), httpx.Response(200, json=order_json())])
    transport, _ = recording(lambda request: next(answers))
    sleeps = Sleeps()
    run_call(kind, transport, "get_order", ORDER_ID, retry=fast_policy(sleeps, max_retry_after=5.0))
    assert sleeps == [5.0]


@pytest.mark.parametrize("kind", KINDS)
def test_wait_past_the_deadline_raises_at_once_without_sleeping(kind: str) -> None:
    transport, seen = recording(_status(429, **{"retry-after": "50"}))
    sleeps = Sleeps()
    with pytest.raises(WixRateLimited) as info:
        run_call(kind, transport, "get_order", ORDER_ID, retry=fast_policy(sleeps, deadline=10.0))
    assert sleeps == []
    assert len(seen) == 1
    assert info.value.retry_after == 50


@pytest.mark.parametrize("kind", KINDS)
def test_attempts_stop_at_the_configured_number(kind: str) -> None:
    transport, seen = recording(_status(503))
    with pytest.raises(WixServerError):
        run_call(kind, transport, "get_order", ORDER_ID, retry=fast_policy(Sleeps(), max_attempts=4))
    assert len(seen) == 4


@pytest.mark.parametrize("kind", KINDS)
def test_each_retry_is_logged_at_warning_with_call_attempt_and_cause(
    kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    answers = iter([httpx.Response(503), httpx.Response(200, json=order_json())])
    transport, _ = recording(lambda request: next(answers))
    with caplog.at_level(logging.WARNING, logger="wix_refunds"):
        run_call(kind, transport, "get_order", ORDER_ID, retry=fast_policy(Sleeps()))
    (record,) = [r for r in caplog.records if r.name == "wix_refunds"]
    assert record.levelno == logging.WARNING
    assert "get_order" in record.getMessage()
    assert "attempt 1" in record.getMessage()
    assert "503" in record.getMessage()


@pytest.mark.parametrize("kind", KINDS)
def test_canary_key_appears_in_no_log_repr_message_or_traceback(kind: str, caplog: pytest.LogCaptureFixture) -> None:
    failures = [_status(401), _status(403), _status(503), _raise(httpx.ReadTimeout), _raise(httpx.ConnectError)]
    texts: list[str] = []
    with caplog.at_level(logging.DEBUG):
        for respond in failures:
            for method in ("get_order", "cancel_order"):
                transport, _ = recording(respond)
                try:
                    run_call(kind, transport, method, ORDER_ID, retry=fast_policy(Sleeps(), max_attempts=2))
                except Exception as exc:
                    texts += [str(exc), repr(exc), "".join(traceback.format_exception(exc))]
                    cause = exc.__cause__
                    while cause is not None:
                        texts += [str(cause), repr(cause)]
                        cause = cause.__cause__
                else:
                    pytest.fail("the call should have failed")
    texts += [r.getMessage() for r in caplog.records] + [caplog.text]
    from .clients import CREDENTIALS

    texts += [repr(CREDENTIALS), str(CREDENTIALS)]
    assert len(texts) > 40
    assert not [t for t in texts if CANARY_KEY in t]


@pytest.mark.parametrize("kind", KINDS)
def test_both_clients_wait_what_the_rate_limiter_asks_before_sending(kind: str) -> None:
    transport, seen = recording(lambda request: httpx.Response(200, json=order_json()))
    sleeps = Sleeps()
    policy = fast_policy(sleeps)

    async def go_async() -> None:
        async with httpx.AsyncClient(transport=transport) as http:
            client = AsyncWixClient(CREDENTIALS, http_client=http, retry=policy, rate_limit=(1, 30.0))
            await client.get_order(ORDER_ID)
            await client.get_order(ORDER_ID)

    if kind == "sync":
        with httpx.Client(transport=transport) as http:
            client = WixClient(CREDENTIALS, http_client=http, retry=policy, rate_limit=(1, 30.0))
            client.get_order(ORDER_ID)
            client.get_order(ORDER_ID)
    else:
        asyncio.run(go_async())
    assert len(seen) == 2
    assert len(sleeps) == 1
    assert 31.0 < sleeps[0] <= 31.5  # the second request waited out the window (and its GUARD)


def test_clients_keep_under_wixs_200_requests_a_minute_by_default() -> None:
    with WixClient(CREDENTIALS) as client:
        assert client.limiter is not None
        assert (client.limiter.requests, client.limiter.per) == (200, 60.0)


@pytest.mark.parametrize("client_class", [WixClient, AsyncWixClient])
def test_a_clients_repr_never_shows_the_key(client_class: Any) -> None:
    client = client_class(CREDENTIALS)
    try:
        assert CANARY_KEY not in repr(client)
        assert CANARY_KEY not in str(client)
        assert SITE_ID in repr(client)
    finally:
        if isinstance(client, WixClient):
            client.close()
        else:
            asyncio.run(client.aclose())


def test_help_shows_each_client_call_as_a_method_with_its_signature_and_answer() -> None:
    import pydoc

    for client in (WixClient, AsyncWixClient):
        text = pydoc.render_doc(client, renderer=pydoc.plaintext)  # type: ignore[attr-defined]
        assert "_Call object" not in text
        assert "get_order(order_id: 'str') -> 'Order'" in text
        assert "Return the order ``order_id``." in text
