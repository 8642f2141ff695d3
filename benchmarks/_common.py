"""Shared helpers for the benchmarks: timing by interleaved repeats and medians."""

from __future__ import annotations

import platform
import statistics
import time
from collections.abc import Callable


def machine() -> str:
    """Return a one-line description of the machine the figures come from."""
    import os

    return (
        f"{platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} cores, {platform.machine()}"
    )


def per_call(function: Callable[[], object], number: int) -> float:
    """Return the mean seconds per call over ``number`` calls."""
    started = time.perf_counter()
    for _ in range(number):
        function()
    return (time.perf_counter() - started) / number


def compare(a: Callable[[], object], b: Callable[[], object], *, number: int, rounds: int) -> tuple[float, float]:
    """Return the median seconds per call of ``a`` and of ``b``, measured in interleaved rounds.

    The order alternates from round to round: whichever runs first in a round is
    otherwise favoured by a few percent.
    """
    first: list[float] = []
    second: list[float] = []
    for round_ in range(rounds):
        if round_ % 2:
            second.append(per_call(b, number))
            first.append(per_call(a, number))
        else:
            first.append(per_call(a, number))
            second.append(per_call(b, number))
    return statistics.median(first), statistics.median(second)
