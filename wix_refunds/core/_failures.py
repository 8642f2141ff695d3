"""What each failure means, in two tables: for a call (``ROWS``: retry or not) and for a write (``ON_FAILURE``).

One row per kind of failure: the HTTP status or httpx failure it comes from, the
exception it is raised as, whether a read may be sent again, whether a write may
be sent again, and whether a write that failed so may have been applied anyway
(its outcome is then unknown: re-read, never resend). Three places read it:
``wix._errors.error_from_response`` (status to exception: the one status map),
``is_retryable`` below and the client's ``_unknown_if_write``. No I/O, no httpx
import: httpx failures are named by class name.

    kind                      exception               retry read  retry write  write unknown
    401                       WixAuthError            no          no           no
    403                       WixAuthError            no          no           no
    404                       WixNotFound             no          no           no
    428                       WixPreconditionFailed   no          no           no
    429                       WixRateLimited          yes         no           yes
    5xx                       WixServerError          yes         no           yes
    other status              WixAPIError             no          no           no
    2xx, unreadable body      WixInvalidResponse      no          no           yes
    payload not as documented InvalidWixData          no          no           yes
    httpx, never sent         WixConnectionError      yes         yes          no
    httpx, maybe sent         WixConnectionError      yes         no           yes

A 429 on a write leaves its outcome unknown: Wix documents 429 as "resource usage was
exhausted" and says a throttled app's calls "will fail", but nowhere that a 429 is
answered before any work is done (https://dev.wix.com/docs/rest/articles/getting-started/errors,
https://dev.wix.com/docs/rest/articles/get-started/rate-limits). So the write is not resent;
the flow re-reads Wix first, as after any write whose fate is unknown.

What a failed write then means for the refund is the second table, ``ON_FAILURE``: one
row per write action and error class (the client's ``WixOutcomeUnknown`` for the rows
above whose write is unknown, ``WixPreconditionFailed``, ``WixNotFound``), saying how the
outcome records it and what the call reads again. Any other error ends the call.
"""

from __future__ import annotations

from typing import Literal

import attrs

from ._actions import Cancel, DeleteOne, Failure, Observed, Progress, Refund, Wait, Write
from ._errors import (
    InvalidWixData,
    WixAPIError,
    WixAuthError,
    WixConnectionError,
    WixInvalidResponse,
    WixNotFound,
    WixOutcomeUnknown,
    WixPreconditionFailed,
    WixRateLimited,
    WixRefundError,
    WixServerError,
)
from ._refund_rows import settle_delay, unknown_outcome
from ._routing import RefundPlan

__all__ = [
    "NEVER_SENT",
    "ON_FAILURE",
    "ROWS",
    "Meaning",
    "OnFailure",
    "after_failure",
    "after_read_failure",
    "is_retryable",
    "may_still_land",
    "meaning_of",
    "on_failure",
    "status_error",
]

#: The httpx failures (class names, their subclasses included) raised before a request left.
NEVER_SENT = frozenset({"ConnectError", "ConnectTimeout", "PoolTimeout"})


# Positional like ``OnFailure`` below: each row of ``ROWS`` reads as a line of the table above.
@attrs.frozen
class Meaning:
    """One row: a kind of failure, its exception, and what it means for a read and a write."""

    kind: str
    error: type[Exception]
    retry_read: bool
    retry_write: bool
    write_unknown: bool
    #: The HTTP status the row stands for (``None``: not an error status, or any other).
    status: int | None = attrs.field(default=None, kw_only=True)
    #: For a connection failure: whether the request may have reached Wix.
    request_sent: bool | None = attrs.field(default=None, kw_only=True)


# Most specific first: an exception's meaning is its first row it is an instance of.
ROWS: tuple[Meaning, ...] = (
    Meaning("401", WixAuthError, False, False, False, status=401),
    Meaning("403", WixAuthError, False, False, False, status=403),
    Meaning("404", WixNotFound, False, False, False, status=404),
    Meaning("428", WixPreconditionFailed, False, False, False, status=428),
    Meaning("429", WixRateLimited, True, False, True, status=429),
    Meaning("5xx", WixServerError, True, False, True, status=500),
    Meaning("2xx, unreadable body", WixInvalidResponse, False, False, True),
    Meaning("other status", WixAPIError, False, False, False),
    Meaning("payload not as documented", InvalidWixData, False, False, True),
    Meaning("httpx, never sent", WixConnectionError, True, True, False, request_sent=False),
    Meaning("httpx, maybe sent", WixConnectionError, True, False, True, request_sent=True),
)

_BY_STATUS = {row.status: row for row in ROWS if row.status is not None}
_OTHER_STATUS = next(row for row in ROWS if row.kind == "other status")


def status_error(status: int) -> type[WixAPIError]:
    """Return the exception class of an HTTP error status."""
    row = _BY_STATUS.get(500 if status >= 500 else status, _OTHER_STATUS)
    assert issubclass(row.error, WixAPIError)
    return row.error


def meaning_of(exc: BaseException) -> Meaning | None:
    """Return the row of a failure, or None for one the table does not know (never retried)."""
    for row in ROWS:
        if not isinstance(exc, row.error):
            continue
        if isinstance(exc, WixConnectionError) and bool(exc.request_sent) is not row.request_sent:
            continue
        return row
    return None


_Then = Literal["all", "fulfillments", "all_once", "settle", "raise"]


@attrs.frozen
class OnFailure:
    """One row of ``ON_FAILURE``: how the outcome records a failed write, and what the call does next."""

    #: What the outcome's record of the write says came of it (then "; re-reading").
    says: str
    #: Whether the call now counts as having written (COMPLETED rather than ALREADY_DONE).
    wrote: bool
    #: What the call forgets and reads again: everything ("all"), the fulfilments, everything
    #: but only once for the same write ("all_once": a second refusal ends the call), only the
    #: transactions, waiting out the settle window ("settle"), or nothing: the error ends the call.
    then: _Then


_UNKNOWN, _REFUSED, _GONE = "outcome unknown", "refused by Wix", "already gone"

# What a failed write means, by the write and the error it failed with; any other error
# ends the call. WixOutcomeUnknown: it may have been applied (a timeout, a reset, or a 5xx
# or 429 after sending: the client raises it by the rows above); WixPreconditionFailed:
# Wix answered 428; WixNotFound: 404.
# fmt: off
ON_FAILURE: dict[tuple[type[Write], type[WixRefundError]], OnFailure] = {
    # write     error                                 recorded as  wrote  then
    # re-read: a delete applied twice answers 404; one gone already is fine: list them again
    (DeleteOne, WixOutcomeUnknown):     OnFailure(_UNKNOWN, True,  "all"),
    (DeleteOne, WixNotFound):           OnFailure(_GONE,    True,  "fulfillments"),
    (DeleteOne, WixPreconditionFailed): OnFailure(_REFUSED, False, "all_once"),
    # re-read: a cancelled order is not cancelled again; never branch on a 428's code: re-read, once
    (Cancel,    WixOutcomeUnknown):     OnFailure(_UNKNOWN, True,  "all"),
    (Cancel,    WixPreconditionFailed): OnFailure(_REFUSED, False, "all_once"),
    (Cancel,    WixNotFound):           OnFailure(_GONE,    False, "raise"),
    # never resend a refund while it may still land; a 428 is an answer: nothing was refunded
    (Refund,    WixOutcomeUnknown):     OnFailure(_UNKNOWN, True,  "settle"),
    (Refund,    WixPreconditionFailed): OnFailure(_REFUSED, False, "all_once"),
    (Refund,    WixNotFound):           OnFailure(_GONE,    False, "raise"),
}
# fmt: on


def on_failure(action: Write, error: BaseException) -> OnFailure | None:
    """Return the row for ``action`` failing with ``error`` (its class or a base class); None: it ends the call."""
    for cls in error.__class__.__mro__:
        row = ON_FAILURE.get((action.__class__, cls))
        if row is not None:
            return row
    return None


def after_failure(progress: Progress, failure: Failure) -> Progress:
    """Return what the call knows after a failed write, by the ``ON_FAILURE`` table.

    Raises:
        WixRefundError: the failure itself, when the table says it ends the call (no row,
            "raise", or a second 428 for the same write: Wix will not move).
    """
    row = on_failure(failure.action, failure.error)
    if row is None or row.then == "raise" or (row.then == "all_once" and progress.refused == failure.action):
        raise failure.error
    wrote = progress.wrote or row.wrote
    if row.then == "fulfillments":
        return attrs.evolve(progress, seen=attrs.evolve(progress.seen, fulfillments=None), wrote=wrote)
    if row.then == "settle":
        seen = attrs.evolve(progress.seen, transactions=None)
        return attrs.evolve(progress, seen=seen, wrote=wrote, unknown_for=0.0, settle_reads=0)
    refused = failure.action if row.then == "all_once" else progress.refused
    return attrs.evolve(progress, seen=Observed(), wrote=wrote, refused=refused)


def may_still_land(error: BaseException) -> bool:
    """Return whether a write that failed with ``error`` may still be applied by Wix (its outcome is unknown)."""
    return isinstance(error, WixOutcomeUnknown)


def after_read_failure(plan: RefundPlan, progress: Progress, error: WixRefundError, unknown_for: float | None) -> Wait:
    """Return the wait before reading again after a read failed with ``error``.

    A read that fails while this call's refund may still land (``unknown_for``: for how
    long, measured by the shell; None when none may) proves nothing: the settle window
    is waited out all the same, unless the read cannot be retried.

    Raises:
        WixRefundError: ``error``, when no write of this call may still land.
        WixOutcomeUnknown: the window is over, or the read cannot succeed by retrying.
    """
    if unknown_for is None:
        raise error
    if unknown_for >= progress.settle or not is_retryable(error, write=False):
        why = f"reading Wix to find it failed ({type(error).__name__}: {error})"
        raise unknown_outcome(plan, progress, why) from error
    return Wait(min(settle_delay(progress.settle_reads), progress.settle - unknown_for))


def is_retryable(exc: BaseException, *, write: bool) -> bool:
    """Return whether a failed call may be sent again.

    Reads retry on network errors, timeouts, 429 and 5xx. A write is resent
    only when Wix surely never received it (connection refused, connect or pool
    timeout); any other failure, a 429 included, leaves its outcome unknown.
    The answer is read from ``_error_table.ROWS``.
    """
    meaning = meaning_of(exc)
    if meaning is None:
        return False
    return meaning.retry_write if write else meaning.retry_read
