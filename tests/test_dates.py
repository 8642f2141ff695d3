from __future__ import annotations

from datetime import datetime, timezone

import pytest

from wix_refunds.core import InvalidOrderData
from wix_refunds.core._dates import format_instant, parse_timestamp

UTC = timezone.utc


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-04-22T00:00:00Z", datetime(2024, 4, 22, tzinfo=UTC)),
        ("2024-04-22T00:00:00+00:00", datetime(2024, 4, 22, tzinfo=UTC)),
        ("2024-04-22T00:00:00+0000", datetime(2024, 4, 22, tzinfo=UTC)),
        ("2024-04-22T00:00:00.917Z", datetime(2024, 4, 22, 0, 0, 0, 917000, tzinfo=UTC)),
        ("2024-04-22T00:00:00.123456789Z", datetime(2024, 4, 22, 0, 0, 0, 123456, tzinfo=UTC)),
        ("2024-04-21T20:00:00-04:00", datetime(2024, 4, 22, tzinfo=UTC)),
        ("2024-04-22T01:00:00+02:00", datetime(2024, 4, 21, 23, tzinfo=UTC)),
    ],
)
def test_timestamps_with_an_offset_become_the_same_instant_in_utc(text: str, expected: datetime) -> None:
    parsed = parse_timestamp(text, field="createdDate")
    assert parsed == expected
    assert parsed.tzinfo is UTC


@pytest.mark.parametrize("text", ["2024-04-22T00:00:00", "2024-04-22", "2024-04-22T00:00:00.5"])
def test_timestamp_without_an_offset_is_refused_not_guessed(text: str) -> None:
    with pytest.raises(InvalidOrderData, match="no UTC offset") as info:
        parse_timestamp(text, field="order.createdDate")
    assert info.value.field == "order.createdDate"


@pytest.mark.parametrize("value", ["yesterday", "", "2024-13-01T00:00:00Z", 1713744000, None])
def test_unreadable_timestamp_names_the_field(value: object) -> None:
    with pytest.raises(InvalidOrderData) as info:
        parse_timestamp(value, field="order.createdDate")
    assert info.value.field == "order.createdDate"


def test_format_instant_writes_utc_with_z() -> None:
    assert format_instant(datetime(2024, 4, 21, 20, tzinfo=UTC)) == "2024-04-21T20:00:00Z"


@pytest.mark.parametrize("text", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_an_instant_outside_the_years_python_holds_in_utc_is_a_typed_error_naming_the_field(text: str) -> None:
    with pytest.raises(InvalidOrderData, match="outside the years 1 to 9999") as caught:
        parse_timestamp(text, field="order.createdDate")
    assert caught.value.field == "order.createdDate"


def test_format_instant_writes_four_digit_years_and_drops_fractions() -> None:
    assert format_instant(datetime(1, 1, 1, tzinfo=UTC)) == "0001-01-01T00:00:00Z"
    assert format_instant(datetime(2024, 4, 22, 1, 2, 3, 999999, tzinfo=UTC)) == "2024-04-22T01:02:03Z"
