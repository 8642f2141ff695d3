"""The time a batch has left: measured after its first rows, against the truth (issue 24)."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest

from wix_refunds.cli import _cli_output
from wix_refunds.client._retry import RateLimiter
from wix_refunds.run._execute import OutcomeStatus, RefundOutcome
from wix_refunds.testing import FakeWix

from .command import cli, write_csv


def test_the_time_left_of_a_batch_on_a_served_fake_is_within_a_factor_of_two_of_the_truth(
    fake: FakeWix, served: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    samples: list[tuple[float, int, float | None]] = []
    tick = _cli_output.Progress.tick

    def sampled(progress: _cli_output.Progress) -> None:
        now = time.monotonic()
        samples.append((now, progress.done, progress._left(now)))
        tick(progress)

    monkeypatch.setattr(_cli_output.Progress, "tick", sampled)
    ids = [fake.add_order() for _ in range(60)]
    fake.latency = 0.05
    path = write_csv(tmp_path / "in.csv", [f"{o},1,," for o in ids])
    result = cli(fake, served, "batch", str(path), "--yes", "--concurrency", "4")
    end = time.monotonic()
    assert result.returncode == 0, result.stderr
    judged = [(left, end - at) for at, done, left in samples if done and end - at > 0.5]
    assert judged, samples
    for left, truth in judged:
        assert left is not None
        assert truth / 2 <= left <= truth * 2, (left, truth, samples)


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
