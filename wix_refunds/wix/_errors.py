"""Wix's error answers read into typed errors: the class from ``core._failures``, the message from the body."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from ..core._errors import (
    WixAPIError,
)
from ..core._failures import status_error
from ._wire import REQUEST_ID_HEADER, WireCall

__all__ = ["error_from_response"]


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
