"""What each kind of failure means, in one table beside the error tree (``_errors``).

One row per kind of failure: the HTTP status or httpx failure it comes from, the
exception it is raised as, whether a read may be sent again, whether a write may
be sent again, and whether a write that failed so may have been applied anyway
(its outcome is then unknown: re-read, never resend). Three places read it:
``_wire.error_from_response`` (status to exception), ``_retry.is_retryable`` and
the client's ``unknown_if_write``. No I/O, no httpx import: httpx failures are
named by class name.

    kind                      exception               retry read  retry write  write unknown
    401                       WixAuthError            no          no           no
    403                       WixAuthError            no          no           no
    404                       WixNotFound             no          no           no
    428                       WixPreconditionFailed   no          no           no
    429                       WixRateLimited          yes         yes          no
    5xx                       WixServerError          yes         no           yes
    other status              WixAPIError             no          no           no
    2xx, unreadable body      WixInvalidResponse      no          no           yes
    payload not as documented InvalidWixData          no          no           yes
    httpx, never sent         WixConnectionError      yes         yes          no
    httpx, maybe sent         WixConnectionError      yes         no           yes
"""

from __future__ import annotations

import attrs

from ._errors import (
    InvalidWixData,
    WixAPIError,
    WixAuthError,
    WixConnectionError,
    WixInvalidResponse,
    WixNotFound,
    WixPreconditionFailed,
    WixRateLimited,
    WixServerError,
)

__all__ = ["NEVER_SENT", "ROWS", "Meaning", "meaning_of", "status_error"]

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
    _row("429", WixRateLimited, True, True, False, status=429),
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
