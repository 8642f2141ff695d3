from __future__ import annotations

import asyncio
import threading
from datetime import datetime, timezone

import pytest

from wix_refunds import RetryPolicy, WixAPIError, WixConnectionError, WixRateLimited, WixServerError
from wix_refunds._retry import RateLimiter, is_retryable, parse_retry_after

NOW = datetime(2026, 1, 1, 12, 0, 0, tzinfo=timezone.utc)


def _api(cls: type[WixAPIError], status: int) -> WixAPIError:
    return cls("x", status=status)


# error, write?, retryable?
TABLE = [
    (WixConnectionError("x", request_sent=False), False, True),
    (WixConnectionError("x", request_sent=False), True, True),
    (WixConnectionError("x", request_sent=True), False, True),
    (WixConnectionError("x", request_sent=True), True, False),
    (WixRateLimited("x"), False, True),
    (WixRateLimited("x"), True, True),
    (_api(WixServerError, 503), False, True),
    (_api(WixServerError, 500), True, False),
    (_api(WixAPIError, 400), False, False),
    (ValueError("a bug"), False, False),
]


@pytest.mark.parametrize(("error", "write", "retryable"), TABLE)
def test_is_retryable_table(error: Exception, write: bool, retryable: bool) -> None:
    assert is_retryable(error, write=write) is retryable


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("7", 7.0),
        (" 0.25 ", 0.25),
        ("Thu, 01 Jan 2026 12:00:30 GMT", 30.0),
        ("Thu, 01 Jan 2026 11:59:00 GMT", 0.0),
        ("soon", None),
        ("-3", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after_reads_seconds_and_http_dates(header: str | None, seconds: float | None) -> None:
    assert parse_retry_after(header, now=NOW) == seconds


def test_backoff_is_exponential_with_full_jitter_up_to_the_cap() -> None:
    policy = RetryPolicy(backoff=0.5, max_backoff=4.0, jitter=lambda: 1.0)
    assert [policy.wait_seconds(n, None) for n in range(1, 6)] == [0.5, 1.0, 2.0, 4.0, 4.0]
    half = RetryPolicy(backoff=0.5, max_backoff=4.0, jitter=lambda: 0.5)
    assert half.wait_seconds(3, None) == 1.0


def test_retry_after_beats_backoff_and_is_capped() -> None:
    policy = RetryPolicy(max_retry_after=10.0, jitter=lambda: 1.0)
    assert policy.wait_seconds(1, WixRateLimited("x", retry_after=3.0)) == 3.0
    assert policy.wait_seconds(1, WixRateLimited("x", retry_after=99.0)) == 10.0


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_limiter_lets_a_burst_through_then_spaces_requests_by_the_window() -> None:
    clock = FakeClock()
    limiter = RateLimiter(3, 10.0, clock=clock)
    assert [limiter.reserve() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.reserve() == 10.0  # the 4th waits until the 1st is a window old
    clock.now += 4.0
    assert limiter.reserve() == 6.0
    clock.now += 30.0
    assert limiter.reserve() == 0.0


def test_limiter_backlog_says_how_long_the_next_request_would_wait_without_reserving() -> None:
    clock = FakeClock()
    limiter = RateLimiter(2, 10.0, clock=clock)
    assert limiter.backlog() == 0.0
    limiter.reserve()
    limiter.reserve()
    assert limiter.backlog() == 10.0
    assert limiter.backlog() == 10.0  # asking reserves nothing
    assert limiter.reserved == 2
    clock.now += 10.0
    assert limiter.backlog() == 0.0


def test_limiter_never_allows_more_than_its_rate_in_any_window() -> None:
    clock = FakeClock()
    limiter = RateLimiter(5, 1.0, clock=clock)
    starts = []
    for step in range(40):
        clock.now = 100.0 + step * 0.07
        starts.append(clock.now + limiter.reserve())
    starts.sort()
    for i, start in enumerate(starts):
        assert sum(1 for s in starts[i:] if s < start + 1.0 - 1e-9) <= 5


def test_limiter_is_shared_by_threads_without_losing_reservations() -> None:
    clock = FakeClock()
    limiter = RateLimiter(10, 1.0, clock=clock)
    delays: list[float] = []
    lock = threading.Lock()

    def take() -> None:
        for _ in range(5):
            delay = limiter.reserve()
            with lock:
                delays.append(delay)

    threads = [threading.Thread(target=take) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(delays) == sorted([0.0] * 10 + [float(n) for n in range(1, 4) for _ in range(10)])


def test_async_client_waits_for_the_limiter_without_blocking_the_loop() -> None:
    import httpx

    from wix_refunds import AsyncWixClient

    from .clients import CREDENTIALS, Sleeps, fast_policy
    from .factories import ORDER_ID, order_json

    sleeps = Sleeps()

    async def go() -> None:
        transport = httpx.MockTransport(lambda request: httpx.Response(200, json=order_json()))
        async with httpx.AsyncClient(transport=transport) as http:
            client = AsyncWixClient(CREDENTIALS, http_client=http, retry=fast_policy(sleeps), rate_limit=(2, 60.0))
            await asyncio.gather(*(client.get_order(ORDER_ID) for _ in range(3)))

    asyncio.run(go())
    assert len(sleeps) == 1
    assert 59.0 < sleeps[0] <= 60.0


@pytest.mark.parametrize("kwargs", [{"max_attempts": 0}, {"deadline": 0}, {"backoff": -1}])
def test_a_retry_policy_that_could_not_work_is_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("limit", [(0, 60.0), (10, 0.0), (10, float("nan"))])
def test_a_rate_limit_that_could_not_work_is_refused(limit: tuple[int, float]) -> None:
    from wix_refunds import InvalidRequest

    with pytest.raises(InvalidRequest, match="rate_limit"):
        RateLimiter(*limit)


def test_the_default_policy_is_five_attempts_within_a_minute_and_a_two_minute_settle_window() -> None:
    policy = RetryPolicy()
    assert (policy.max_attempts, policy.deadline, policy.settle) == (5, 60.0, 120.0)
    assert (policy.backoff, policy.max_backoff, policy.max_retry_after) == (0.5, 8.0, 60.0)


def test_a_limiter_of_one_request_per_window_is_allowed() -> None:
    clock = iter([0.0, 0.0]).__next__
    limiter = RateLimiter(1, 10.0, clock=clock)
    assert limiter.reserve() == 0.0
    assert limiter.reserve() == 10.0


def test_a_deadline_under_a_second_is_allowed() -> None:
    assert RetryPolicy(deadline=0.5).deadline == 0.5
