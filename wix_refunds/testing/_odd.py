"""Odd values: an answer served with one field replaced, as a Wix that sent odd money would.

Wix's types state no range for a Price's ``amount`` (``docs/wix-api.md`` item 40), so a
test must be able to show the library a negative refund part, a negative ``maxRefund``,
``1E+999``, ``NaN`` or an amount finer than its currency. The fake's own books are left
as they are: only the text of the matching answers changes.
"""

from __future__ import annotations

import copy
import fnmatch
import re
from typing import Any

import attrs

from ._routes import _Routes

_STEP = re.compile(r"([^.\[\]]+)|\[([0-9]+)\]")


@attrs.define
class _Odd:
    method: str
    path: str
    field: str
    value: object
    remaining: int | None


def _replace(data: Any, field: str, value: object) -> bool:
    """Set ``field`` (``a.b[0].c``) of ``data`` to ``value``; return False when the answer lacks it."""
    steps: list[str | int] = [int(index) if index else key for key, index in _STEP.findall(field)]
    target = data
    for step in steps[:-1]:
        try:
            target = target[step]
        except (KeyError, IndexError, TypeError):
            return False
    last = steps[-1]
    if isinstance(target, dict) and isinstance(last, str) and last in target:
        target[last] = value
        return True
    if isinstance(target, list) and isinstance(last, int) and last < len(target):
        target[last] = value
        return True
    return False


class _OddValues(_Routes):
    """``serve_odd``: answers with one field replaced, the books unchanged."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # Kept apart from _State's attributes: only serve_odd and _dispatch use it.
        self._odd: list[_Odd] = []

    def serve_odd(
        self, field: str, value: object, *, path: str = "*", method: str = "*", times: int | None = None
    ) -> None:
        """Serve ``value`` at ``field`` of the answers to requests matching ``method`` and glob ``path``.

        ``field`` is written as the library names fields in its errors, from the top of
        the answer: ``orderTransactions.refunds[0].transactions[1].amount.amount``,
        ``payments[0].payment.monetary.maxRefund.amount``, ``order.priceSummary.total.amount``.
        ``value`` is any JSON value (``"-10.00"``, ``"1E+999"``, ``float("nan")`` for a bare
        ``NaN``). An answer without ``field`` is left alone; ``times`` counts the answers
        changed (``None``: every one). The fake's books, and so its own checks of a
        refund, keep the values it holds.
        """
        with self._lock:
            self._odd.append(_Odd(method, path, field, value, times))

    def _dispatch(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, Any]:
        status, data = super()._dispatch(method, path, headers, body)
        rules = [r for r in self._odd if r.method in ("*", method) and fnmatch.fnmatchcase(path, r.path)]
        if not rules:
            return status, data
        # The answer may hold the fake's own dicts: the books must not change with it.
        data = copy.deepcopy(data)
        for rule in rules:
            if _replace(data, rule.field, rule.value) and rule.remaining is not None:
                rule.remaining -= 1
                if rule.remaining <= 0:
                    self._odd.remove(rule)
        return status, data
