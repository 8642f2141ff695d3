from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from decimal import Decimal

import httpx
import pytest

from wix_refunds import RefundRequest, RetryPolicy, WixAPIError, WixOutcomeUnknown
from wix_refunds.client._retry import RateLimiter, parse_retry_after
from wix_refunds.core import WixConnectionError, WixRateLimited, WixServerError
from wix_refunds.core._failures import is_retryable
from wix_refunds.testing import FakeWix

from .clients import Sleeps, fast_policy, recording, run_call
from .factories import ORDER_ID, order_json
from .runner import ScriptedTransport, run_refund

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
    (WixRateLimited("x"), True, False),  # a 429 on a write: its outcome is unknown
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
        ("0", 0.0),
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
    assert limiter.reserve() == 10.5  # the 4th waits until the 1st is a window (and GUARD) old
    clock.now += 4.0
    assert limiter.reserve() == 6.5
    clock.now += 30.0
    assert limiter.reserve() == 0.0


def test_limiter_backlog_says_how_long_the_next_request_would_wait_without_reserving() -> None:
    clock = FakeClock()
    limiter = RateLimiter(2, 10.0, clock=clock)
    assert limiter.backlog() == 0.0
    limiter.reserve()
    limiter.reserve()
    assert limiter.backlog() == 10.5
    assert limiter.backlog() == 10.5  # asking reserves nothing
    assert limiter.reserved == 2
    clock.now += 10.5
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
    expected = [0.0] * 10 + [n * 1.05 for n in range(1, 4) for _ in range(10)]
    assert sorted(delays) == pytest.approx(sorted(expected))


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
    assert 62.0 < sleeps[0] <= 63.0  # a minute and its GUARD


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
    assert limiter.reserve() == 10.5


def test_a_deadline_under_a_second_is_allowed() -> None:
    assert RetryPolicy(deadline=0.5).deadline == 0.5


def test_retry_after_zero_retries_at_once_instead_of_backing_off() -> None:
    answers = iter([httpx.Response(429, headers={"Retry-After": "0"}), httpx.Response(200, json=order_json())])
    sleeps = Sleeps()
    policy = fast_policy(sleeps)
    run_call("sync", httpx.MockTransport(lambda request: next(answers)), "get_order", ORDER_ID, retry=policy)
    assert sleeps == [0.0]


def test_retry_after_can_be_capped_under_a_second() -> None:
    answers = iter([httpx.Response(429, headers={"Retry-After": "30"}), httpx.Response(200, json=order_json())])
    sleeps = Sleeps()
    policy = fast_policy(sleeps, max_retry_after=0.5)
    run_call("sync", httpx.MockTransport(lambda request: next(answers)), "get_order", ORDER_ID, retry=policy)
    assert sleeps == [0.5]


def test_a_policy_of_one_attempt_sends_a_failing_call_once_and_never_waits() -> None:
    transport, seen = recording(lambda request: httpx.Response(503))
    sleeps = Sleeps()
    with pytest.raises(WixServerError):
        run_call("sync", transport, "get_order", ORDER_ID, retry=fast_policy(sleeps, max_attempts=1))
    assert (len(seen), sleeps) == (1, [])


def test_retry_policy_settings_are_passed_by_name_only() -> None:
    # RetryPolicy(3, 10.0) would read as attempts and deadline to one reader, seconds to another.
    with pytest.raises(TypeError):
        RetryPolicy(3)  # type: ignore[call-arg]


def test_a_settle_window_of_zero_reports_an_unknown_outcome_after_one_read_without_waiting() -> None:
    fake = FakeWix()
    oid = fake.add_order(total="100")
    sleeps = Sleeps()
    with pytest.raises(WixOutcomeUnknown, match="did not show on Wix within 0s"):
        run_refund(
            "sync",
            fake,
            oid,
            RefundRequest(amount=Decimal("10")),
            policy=fast_policy(sleeps, settle=0.0),
            transport=ScriptedTransport(fake, writes=["503"]),
        )
    assert sleeps == []


def _refused(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("refused", request=request)


@pytest.mark.parametrize(
    ("first", "request_id", "status"),
    [
        (lambda request: httpx.Response(503, headers={"x-wix-request-id": "req-7"}), "req-7", 503),
        (_refused, None, None),
    ],
    ids=["wix-answered", "never-reached-wix"],
)
def test_a_retry_is_logged_with_wix_request_id_and_status_when_wix_answered(
    first: Callable[[httpx.Request], httpx.Response],
    request_id: str | None,
    status: int | None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    answers: Iterator[Callable[[httpx.Request], httpx.Response]] = iter(
        [first, lambda request: httpx.Response(200, json=order_json())]
    )
    transport = httpx.MockTransport(lambda request: next(answers)(request))
    with caplog.at_level(logging.WARNING, logger="wix_refunds"):
        run_call("sync", transport, "get_order", ORDER_ID, retry=fast_policy(Sleeps()))
    (record,) = [r for r in caplog.records if r.name == "wix_refunds"]
    fields = ("order_id", "step", "attempt", "request_id", "status")
    assert tuple(getattr(record, f) for f in fields) == (ORDER_ID, "get_order", 1, request_id, status)


def test_a_clock_that_steps_back_never_lets_a_request_start_before_one_reserved_earlier() -> None:
    clock = FakeClock()
    limiter = RateLimiter(5, 10.0, clock=clock)
    assert limiter.reserve() == 0.0
    clock.now = 104.0
    assert limiter.reserve() == 0.0
    clock.now = 102.0  # the clock steps back (a wall clock corrected, say)
    assert limiter.backlog() == 2.0
    assert limiter.reserve() == 2.0
