"""The time a batch has left: measured after its first rows, against the truth (issue 24)."""

from __future__ import annotations

import io

from wix_refunds.cli import _cli_output
from wix_refunds.client._retry import RateLimiter
from wix_refunds.run._execute import OutcomeStatus, RefundOutcome


def test_the_time_left_waiting_on_the_limit_counts_whole_windows_not_requests_one_by_one() -> None:
    # 150 rows of two requests each at 60 requests a 6 s window (a fake clock): the limit
    # lets a window's worth through at once, so the requests go in bursts a window apart.
    clock = [0.0]
    limiter = RateLimiter(60, 6.0, clock=lambda: clock[0])
    progress = _cli_output.Progress(150, io.StringIO(), limiter, clock=lambda: clock[0])
    row = RefundOutcome(order_id="o", status=OutcomeStatus.COMPLETED)
    estimates = []
    for done in range(1, 151):
        for _ in range(2):
            clock[0] += limiter.reserve()
        progress.add(row)
        if done in (5, 40, 75, 120):
            estimates.append((clock[0], progress._left(clock[0])))
    end = clock[0]
    for at, left in estimates:
        assert left is not None
        assert (end - at) / 1.5 <= left <= (end - at) * 1.5, (at, left, end)


def test_the_time_left_of_rows_finishing_at_a_steady_pace_is_the_pace_times_the_rows_left() -> None:
    # 60 rows, one every 0.2 s on the test's clock, well under the limit: after the first
    # rows the estimate is what is left at the measured pace (the prior of 2 requests a row
    # at 200 a minute would say 0.6 s a row, three times too slow).
    clock = [0.0]
    limiter = RateLimiter(200, 60.0, clock=lambda: clock[0])
    progress = _cli_output.Progress(60, io.StringIO(), limiter, clock=lambda: clock[0])
    row = RefundOutcome(order_id="o", status=OutcomeStatus.COMPLETED)
    for done in range(1, 61):
        clock[0] += 0.2
        progress.add(row)
        if done in (10, 30, 50):
            left = progress._left(clock[0])
            assert left is not None
            truth = (60 - done) * 0.2
            assert truth * 0.8 <= left <= truth * 1.25, (done, left, truth)
