"""Orders named by number or by an ID in any case: reading them, the ranges searched, and the lookup."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import httpx
import pytest

from wix_refunds import InvalidRequest, WixClient, WixRefundError
from wix_refunds.cli._order_numbers import OrderRef, UnknownOrderNumber, _search, order_number, resolve_orders
from wix_refunds.testing import FakeWix
from wix_refunds.wix._more_calls import number_spans, search_orders_by_numbers
from wix_refunds.wix._read import SearchPage


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("10005", 10005),
        ("#10005", 10005),
        (" # 10005 ", 10005),
        ("0", None),
        ("#", None),
        ("10005a", None),
        ("12.5", None),
        ("-10005", None),
        ("3f2a6c1e-8b1d-4c55-9a3e-2d6f0b7c9e41", None),
        ("1" * 16, None),
    ],
)
def test_an_order_number_is_digits_with_or_without_a_hash(text: str, number: int | None) -> None:
    assert order_number(text) == number


@pytest.mark.parametrize(
    ("numbers", "spans"),
    [
        ([], []),
        ([10005], [(10005, 10005)]),
        ([10007, 10005, 10005], [(10005, 10007)]),
        ([10000, 10099, 10100], [(10000, 10099), (10100, 10100)]),
        ([1, 500, 502, 9000], [(1, 1), (500, 502), (9000, 9000)]),
    ],
)
def test_numbers_are_searched_as_the_fewest_ranges_of_at_most_100_in_order(
    numbers: list[int], spans: list[tuple[int, int]]
) -> None:
    assert number_spans(numbers) == spans
    assert all(high - low < 100 for low, high in spans)


@pytest.mark.parametrize(("lowest", "highest"), [(0, 0), (10, 9), (1, 101)])
def test_a_search_by_numbers_wider_than_a_page_or_empty_is_never_sent(lowest: int, highest: int) -> None:
    with pytest.raises(InvalidRequest):
        search_orders_by_numbers(lowest, highest)


def test_a_later_page_of_a_search_by_numbers_sends_only_its_cursor() -> None:
    call = search_orders_by_numbers(10001, 10050, "c-1")
    assert call.body == {"search": {"cursorPaging": {"limit": 100, "cursor": "c-1"}}}


def test_resolving_orders_lower_cases_ids_and_looks_numbers_up_in_shared_searches(fake: FakeWix) -> None:
    ids = [fake.add_order() for _ in range(150)]  # numbers 10001 to 10150
    guid = ids[0].upper()
    with WixClient(
        fake.credentials,
        base_url=FakeWix.BASE_URL,
        http_client=httpx.Client(transport=fake.transport()),
        rate_limit=None,
    ) as client:
        refs = resolve_orders(client, [guid, "#10002", "10150", "10002", "nope", "#20000", "10050"])
    searches = fake.calls(method="POST", path="/ecom/v1/orders/search")
    # 10002 and 10050 in one range; 10150 and 20000 too far for it, one search each.
    assert [call.json["search"]["filter"] for call in searches] == [
        {"$and": [{"number": {"$gte": 10002}}, {"number": {"$lte": 10050}}]},
        {"number": {"$eq": 10150}},
        {"number": {"$eq": 20000}},
    ]
    assert refs[:5] == [
        OrderRef(written=guid, order_id=ids[0]),
        OrderRef(written="#10002", order_id=ids[1], number=10002),
        OrderRef(written="10150", order_id=ids[149], number=10150),
        OrderRef(written="10002", order_id=ids[1], number=10002),
        OrderRef(written="nope", order_id="nope"),
    ]
    assert refs[6] == OrderRef(written="10050", order_id=ids[49], number=10050)
    assert isinstance(refs[5], UnknownOrderNumber)
    assert "order number #20000 is not on Wix" in str(refs[5])
    assert OrderRef(written="#10002", order_id=ids[1], number=10002).shown == f"#10002 ({ids[1]})"


def _client(fake: FakeWix) -> WixClient:
    return WixClient(
        fake.credentials,
        base_url=FakeWix.BASE_URL,
        http_client=httpx.Client(transport=fake.transport()),
        rate_limit=None,
    )


def test_a_number_shared_with_an_order_that_cannot_be_read_names_no_order(fake: FakeWix) -> None:
    readable, unreadable = fake.add_order(), fake.add_order()
    fake.orders[unreadable]["number"] = fake.orders[readable]["number"]  # two orders, one number
    fake.orders[unreadable]["priceSummary"] = "not an object"  # left out of the search page
    number = fake.orders[readable]["number"]
    with _client(fake) as client:
        refs = resolve_orders(client, [f"#{number}", "10002"])
    assert isinstance(refs[0], UnknownOrderNumber)
    assert "also listed an order that cannot be read" in str(refs[0])
    # The unreadable order says its number, so only that number is in doubt: 10002 is simply not on Wix.
    assert isinstance(refs[1], UnknownOrderNumber)
    assert "order number #10002 is not on Wix" in str(refs[1])


def _send_pages(search: Generator[Any, SearchPage, Any], page: SearchPage, times: int) -> None:
    for _ in range(times):
        search.send(page)


def test_a_search_that_keeps_paging_is_an_error_not_a_first_page_guess() -> None:
    search = _search([10001])
    next(search)
    with pytest.raises(WixRefundError, match="still paging after 20 pages"):
        _send_pages(search, SearchPage(orders=(), next_cursor="again"), 25)


def test_fakewix_leaves_an_order_without_a_number_out_of_a_search_by_number(fake: FakeWix) -> None:
    numbered, bare = fake.add_order(), fake.add_order()
    del fake.orders[bare]["number"]
    with _client(fake) as client:
        refs = resolve_orders(client, [str(fake.orders[numbered]["number"])])
    assert refs == [OrderRef(written=str(fake.orders[numbered]["number"]), order_id=numbered, number=10001)]
