from __future__ import annotations

import pytest

from wix_refunds import (
    WixAPIError,
    WixAuthError,
    WixConnectionError,
    WixInvalidResponse,
    WixNotFound,
    WixPreconditionFailed,
    WixRateLimited,
    WixServerError,
)
from wix_refunds._error_table import ROWS, meaning_of, status_error


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, WixAPIError),
        (401, WixAuthError),
        (403, WixAuthError),
        (404, WixNotFound),
        (409, WixAPIError),
        (428, WixPreconditionFailed),
        (429, WixRateLimited),
        (500, WixServerError),
        (503, WixServerError),
        (302, WixAPIError),
    ],
)
def test_each_error_status_maps_to_its_exception_class(status: int, error: type[WixAPIError]) -> None:
    assert status_error(status) is error


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (WixConnectionError("x", request_sent=False), "httpx, never sent"),
        (WixConnectionError("x", request_sent=True), "httpx, maybe sent"),
        (WixServerError("x", status=502), "5xx"),
        (WixInvalidResponse("x", status=200), "2xx, unreadable body"),
        (WixAPIError("x", status=400), "other status"),
    ],
)
def test_a_failure_is_read_from_its_row(error: Exception, kind: str) -> None:
    meaning = meaning_of(error)
    assert meaning is not None
    assert meaning.kind == kind


def test_a_failure_the_table_does_not_know_has_no_row() -> None:
    assert meaning_of(ValueError("a bug")) is None


def test_only_a_write_that_may_have_reached_wix_is_unknown_and_never_resent() -> None:
    for row in ROWS:
        assert not (row.write_unknown and row.retry_write), row.kind
