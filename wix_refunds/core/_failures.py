"""What each failure means, in two tables: for a call (retry or not) and for a write (what is known after it).

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
"""

from __future__ import annotations

from typing import Any, Literal

import attrs

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
    WixServerError,
)
from ._steps import Cancel, DeleteOne, Failure, Observed, Progress, Refund

__all__ = [
    "FAILURE_KINDS",
    "FAILURE_TEXT",
    "NEVER_SENT",
    "ROWS",
    "Meaning",
    "after_failure",
    "is_retryable",
    "meaning_of",
    "status_error",
]

#: The httpx failures (class names, their subclasses included) raised before a request left.
NEVER_SENT = frozenset({"ConnectError", "ConnectTimeout", "PoolTimeout"})


@attrs.frozen(kw_only=True)
class Meaning:
    """One row: a kind of failure, its exception, and what it means for a read and a write."""

    kind: str
    error: type[Exception]
    retry_read: bool
    retry_write: bool
    write_unknown: bool
    #: The HTTP status the row stands for (``None``: not an error status, or any other).
    status: int | None = None
    #: For a connection failure: whether the request may have reached Wix.
    request_sent: bool | None = None


def _row(
    kind: str,
    error: type[Exception],
    read: bool,
    write: bool,
    unknown: bool,
    *,
    status: int | None = None,
    request_sent: bool | None = None,
) -> Meaning:
    return Meaning(
        kind=kind,
        error=error,
        retry_read=read,
        retry_write=write,
        write_unknown=unknown,
        status=status,
        request_sent=request_sent,
    )


# Most specific first: an exception's meaning is its first row it is an instance of.
ROWS: tuple[Meaning, ...] = (
    _row("401", WixAuthError, False, False, False, status=401),
    _row("403", WixAuthError, False, False, False, status=403),
    _row("404", WixNotFound, False, False, False, status=404),
    _row("428", WixPreconditionFailed, False, False, False, status=428),
    _row("429", WixRateLimited, True, False, True, status=429),
    _row("5xx", WixServerError, True, False, True, status=500),
    _row("2xx, unreadable body", WixInvalidResponse, False, False, True),
    _row("other status", WixAPIError, False, False, False),
    _row("payload not as documented", InvalidWixData, False, False, True),
    _row("httpx, never sent", WixConnectionError, True, True, False, request_sent=False),
    _row("httpx, maybe sent", WixConnectionError, True, False, True, request_sent=True),
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
