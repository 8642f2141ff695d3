"""_books: Wix's books of many orders read in shared requests, each order alone when a list fails."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest

from wix_refunds import AsyncWixClient, InvalidRequest, WixAuthError, WixClient
from wix_refunds.run._books import OrderBooks, books_of, books_of_async
from wix_refunds.testing import FakeWix

SEARCH, LIST_BY_IDS = "/ecom/v1/orders/search", "/ecom/v1/payments/list-by-ids"


def _read(fake: FakeWix, order_ids: list[str]) -> dict[str, OrderBooks]:
    with httpx.Client(transport=fake.transport()) as http:
        return books_of(WixClient(fake.credentials, http_client=http, rate_limit=None), order_ids)


def test_the_books_of_many_orders_take_one_search_and_one_list_per_hundred_orders() -> None:
    fake = FakeWix()
    ids = [fake.add_order(total="20", currency="EUR") for _ in range(101)]
    fake.add_foreign_refund(ids[0], 5)
    books = _read(fake, [*ids, ids[0].upper()])
    assert [r.path for r in fake.requests] == [SEARCH, LIST_BY_IDS, SEARCH, LIST_BY_IDS]
    assert set(books) == {oid.lower() for oid in ids}
    assert books[ids[0]].currency == "EUR"
    assert [r.amount for r in books[ids[0]].transactions.refunds] == [5]


def test_each_order_is_read_alone_when_wix_refuses_the_list_calls_and_the_same_books_come_back() -> None:
    shared, alone = FakeWix(seed=7), FakeWix(seed=7, list_calls=False)
    for fake in (shared, alone):
        oid = fake.add_order(total="30")
        fake.add_foreign_refund(oid, 3, reason="[ref:r-1]")
    [oid] = list(alone.orders)
    # Each fake stamps its refund with its own clock: one instant for both, or a tick apart
    # between the two calls above would tell the books apart.
    alone.refunds[oid][0]["createdDate"] = shared.refunds[oid][0]["createdDate"]
    assert _read(alone, [oid]) == _read(shared, [oid])
    assert [r.method + " " + r.path for r in alone.requests if r.path not in (SEARCH, LIST_BY_IDS)] == [
        f"GET /ecom/v1/orders/{oid}",
        f"GET /ecom/v1/payments/orders/{oid}",
    ]


def test_an_order_wix_does_not_have_is_left_out_of_the_books() -> None:
    fake = FakeWix()
    here, missing = fake.add_order(), str(uuid.uuid4())
    assert set(_read(fake, [here, missing])) == {here.lower()}


def test_a_malformed_order_id_is_refused_before_any_request() -> None:
    fake = FakeWix()
    with pytest.raises(InvalidRequest, match="order_id"):
        _read(fake, [fake.add_order(), "../orders"])
    assert fake.requests == []


def test_a_read_alone_that_fails_other_than_by_404_is_raised() -> None:
    fake = FakeWix(list_calls=False)
    oid = fake.add_order()
    fake.fail_next("GET", f"/ecom/v1/orders/{oid}", 403)
    with pytest.raises(WixAuthError):
        _read(fake, [oid])


def test_the_async_twin_reads_the_same_books() -> None:
    fake = FakeWix()
    ids = [fake.add_order() for _ in range(3)]

    async def read() -> dict[str, OrderBooks]:
        async with httpx.AsyncClient(transport=fake.transport()) as http:
            return await books_of_async(AsyncWixClient(fake.credentials, http_client=http, rate_limit=None), ids)

    assert asyncio.run(read()) == _read(fake, ids)
