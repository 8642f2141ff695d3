"""What a failed write means, by step and failure: one table. No I/O, no clock."""

from __future__ import annotations

from typing import Any, Literal

import attrs

from ._errors import WixNotFound, WixOutcomeUnknown, WixPreconditionFailed
from ._steps import Cancel, DeleteOne, Failure, Observed, Progress, Refund

__all__ = ["FAILURE_KINDS", "FAILURE_TEXT", "after_failure"]

# The kind of each failure of a write that the table below knows; any other ends the call.
FAILURE_KINDS: dict[type, Any] = {
    WixOutcomeUnknown: "unknown",
    WixPreconditionFailed: "refused",
    WixNotFound: "not_found",
}
FAILURE_TEXT = {"unknown": "outcome unknown", "refused": "refused by Wix", "not_found": "already gone"}


_Forget = Literal["all", "fulfillments", "all_once", "settle", "raise"]

# What a failed write means, by step and failure. "unknown": it may have been applied
# (timeout, reset, 5xx after sending); "refused": Wix answered 428; "not_found": 404.
# fmt: off
_ON_FAILURE: dict[tuple[type, str], _Forget] = {
    # step       failure       what to do
    (DeleteOne, "unknown"):   "all",           # re-read: a delete applied twice answers 404
    (DeleteOne, "not_found"): "fulfillments",  # gone already is fine: list them again
    (DeleteOne, "refused"):   "all_once",
    (Cancel,    "unknown"):   "all",           # re-read: a cancelled order is not cancelled again
    (Cancel,    "refused"):   "all_once",      # never branch on a 428's code: re-read, once
    (Cancel,    "not_found"): "raise",
    (Refund,    "unknown"):   "settle",        # never resend while it may still land
    (Refund,    "refused"):   "all_once",      # a 428 is an answer: nothing was refunded
    (Refund,    "not_found"): "raise",
}
# fmt: on


def after_failure(progress: Progress, failure: Failure) -> Progress:
    """Return what the call knows after a failed write, by the ``_ON_FAILURE`` table.

    Raises:
        WixRefundError: the failure itself, when the table says it ends the call (a
            second 428 for the same step: Wix will not move).
    """
    rule = _ON_FAILURE[type(failure.action), failure.kind]
    wrote = progress.wrote or failure.kind == "unknown"
    if rule == "raise" or (rule == "all_once" and progress.refused == failure.action):
        raise failure.error
    if rule == "fulfillments":
        return attrs.evolve(progress, seen=attrs.evolve(progress.seen, fulfillments=None), wrote=True)
    if rule == "settle":
        seen = attrs.evolve(progress.seen, transactions=None)
        return attrs.evolve(progress, seen=seen, wrote=True, unknown_for=0.0, settle_reads=0)
    refused = failure.action if rule == "all_once" else progress.refused
    return attrs.evolve(progress, seen=Observed(), wrote=wrote, refused=refused)
