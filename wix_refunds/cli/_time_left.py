"""How long a batch has left: from the rates measured once its first rows finished, and Wix's limit.

The first rows of a batch are slow to finish and dear in requests: a group's shared reads
come first, and every run in progress has asked for something. Rates taken from the start
put the end 2 to 5 times too far. So the rates are measured from a baseline, the first
moment a row had finished; before that, only a wait on the rate limit is estimated, with a
prior for the requests a row takes.
"""

from __future__ import annotations

import math

import attrs

from ..client._retry import GUARD, RequestLimiter

__all__ = ["Sample", "seconds_left"]


@attrs.frozen(kw_only=True)
class Sample:
    """Where a batch stood at one moment: its clock, rows finished and requests reserved."""

    at: float
    done: int
    used: int


def seconds_left(
    total: int,
    start: Sample,
    baseline: Sample | None,
    now: Sample,
    limiter: RequestLimiter | None,
    *,
    per_row: float,
) -> float | None:
    """Return the seconds a batch has left, or None while there is nothing to go on.

    Args:
        total: rows in the batch.
        start, baseline, now: where the batch stood when it started, when its first row had
            finished (None: none has yet), and now.
        limiter: the rate limit the batch's requests wait on (None: no limit).
        per_row: the requests a row is taken to cost until some are measured.
    """
    remaining = total - now.done
    if remaining <= 0:
        return 0.0
    observed: float | None = None
    if baseline is not None and now.done > baseline.done and now.at > baseline.at:
        rows = now.done - baseline.done
        observed = remaining * (now.at - baseline.at) / rows
        per_row = max((now.used - baseline.used) / rows, 0.0)
    if limiter is None:
        return observed
    by_limit = _by_limit(limiter, now.used - start.used, remaining * per_row, now.at - start.at)
    if observed is None and not by_limit:
        return None  # nothing to go on yet
    return max(observed or 0.0, by_limit)


def _by_limit(limiter: RequestLimiter, used: float, needed: float, elapsed: float) -> float:
    """Return how long ``needed`` more requests wait on the limit, ``used`` having gone in ``elapsed`` seconds.

    A sliding window lets ``requests`` through at once: the requests beyond the first
    window go as whole windows later, not one by one.
    """
    window = limiter.per * (1 + GUARD)
    windows = math.ceil((used + needed) / limiter.requests) - 1
    if windows <= 0:
        return 0.0
    return max(limiter.backlog(), windows * window - elapsed)
