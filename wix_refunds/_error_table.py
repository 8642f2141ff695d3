"""What each kind of failure means, in one table beside the error tree (``_errors``).

One row per kind of failure: the HTTP status or httpx failure it comes from, the
exception it is raised as, whether a read may be sent again, whether a write may
be sent again, and whether a write that failed so may have been applied anyway
(its outcome is then unknown: re-read, never resend). Three places read it:
``error_from_response`` below (status to exception: the one status map),
``_retry.is_retryable`` and the client's ``_unknown_if_write``. No I/O, no httpx
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

import json
import re
from collections.abc import Mapping
from typing import Any

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
from ._wire import REQUEST_ID_HEADER, WireCall

__all__ = ["NEVER_SENT", "ROWS", "Meaning", "error_from_response", "meaning_of", "status_error"]

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


def _describe_body(body: bytes, content_type: str) -> tuple[str | None, str | None]:
    """Return Wix's error (code, message) from an error body, or a description of a non-JSON one."""
    if not body.strip():
        return None, "empty body"
    try:
        data = json.loads(body)
    except ValueError:
        text = body[:2000].decode("utf-8", "replace")
        title = re.search(r"<title[^>]*>(.*?)</title>", text, re.I | re.S)
        if "html" in content_type.lower() or text.lstrip().startswith("<"):
            shown = title.group(1).strip() if title else "no title"
            return None, f"an HTML page, not JSON ({shown[:80]!r}), probably from a proxy"
        return None, f"a body that is not JSON ({text[:80]!r})"
    if not isinstance(data, dict):
        return None, "a JSON body that is not an object"
    message = data.get("message") if isinstance(data.get("message"), str) else None
    details = data.get("details") if isinstance(data.get("details"), dict) else {}
    assert isinstance(details, dict)
    app = details.get("applicationError")
    if isinstance(app, dict):
        code = app.get("code") if isinstance(app.get("code"), str) else None
        description = app.get("description") if isinstance(app.get("description"), str) else None
        return code, description or message
    validation = details.get("validationError")
    if isinstance(validation, dict):
        violations = validation.get("fieldViolations")
        parts = []
        if isinstance(violations, list):
            for v in violations:
                if isinstance(v, dict):
                    parts.append(f"{v.get('field')}: {v.get('description')}")
        return "INVALID_ARGUMENT", "; ".join(parts) or message
    return None, message or None


_HINTS = {
    401: "Wix refused the API key (revoked, mistyped or expired). Create or copy the key again in "
    "Account Settings > API Keys.",
}


def error_from_response(
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    call: WireCall[Any],
    *,
    site_id: str,
    retry_after: float | None = None,
) -> WixAPIError:
    """Return the typed error for an HTTP error status: its class from ``ROWS``, its message from Wix's body."""
    code, wix_message = _describe_body(body, headers.get("content-type", ""))
    request_id = headers.get(REQUEST_ID_HEADER)
    detail = f"{wix_message}" if wix_message else "no message"
    prefix = f"{call.operation} ({call.method} {call.path}) got HTTP {status}"
    fields: dict[str, Any] = {
        "status": status,
        "code": code,
        "wix_message": wix_message,
        "request_id": request_id,
        "operation": call.operation,
        "retry_after": retry_after,
    }
    suffix = f" [request id {request_id}]" if request_id else ""
    error = status_error(status)
    if status == 401:
        text = f"{prefix}: {_HINTS[401]} Wix said: {detail}"
    elif status == 403:
        where = "the account" if call.account_level else f"site {site_id}"
        text = (
            f"Wix refused the API key for {where} ({call.operation}, HTTP 403): the key likely lacks the "
            f"{call.permission_text} permission or cannot reach this site. Edit the key in Account Settings > "
            f"API Keys. Wix said: {detail}"
        )
    elif status == 404:
        text = f"{prefix}: not found. Wix said: {detail}"
    elif status == 428:
        text = f"{prefix}: Wix refused the change. Wix said: {detail}"
    elif status == 429:
        wait = f"; Wix asked to wait {retry_after:g}s" if retry_after is not None else ""
        text = f"{prefix}: too many requests{wait}. Wix said: {detail}"
    elif status >= 500:
        text = f"{prefix}: Wix or a proxy failed; {detail}"
    else:
        text = f"{prefix}: {detail}"
    return error(text + suffix, **fields)
