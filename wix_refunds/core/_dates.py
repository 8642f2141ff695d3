"""Timestamps in, aware UTC datetimes out. No clock is read here."""

from __future__ import annotations

from datetime import datetime, timezone

from ._errors import InvalidOrderData

__all__ = ["format_instant", "parse_timestamp"]


def parse_timestamp(value: object, *, field: str) -> datetime:
    """Return the instant an ISO 8601 timestamp with an offset names, in UTC.

    ``datetime.fromisoformat`` reads the common forms fast; ``dateutil``'s
    ``isoparse`` is the fallback for what it cannot read (``Z`` and ``+0000`` on
    Python 3.10, more than six fractional digits).

    Raises:
        InvalidOrderData: the value is not a string, not ISO 8601, or has no
            offset (a local time is never guessed).
    """
    if not isinstance(value, str):
        raise InvalidOrderData(field, f"expected an ISO 8601 timestamp string, got {type(value).__name__}")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        # dateutil's parser is loaded only for what Python's cannot read.
        from dateutil.parser import isoparse

        try:
            parsed = isoparse(value)
        except (ValueError, OverflowError) as exc:
            raise InvalidOrderData(field, f"{value!r} is not an ISO 8601 timestamp") from exc
    if parsed.tzinfo is timezone.utc:  # ``Z``, Wix's own form, read by Python 3.11 and newer
        return parsed
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise InvalidOrderData(field, f"{value!r} has no UTC offset; a local time is never guessed")
    try:
        return parsed.astimezone(timezone.utc)
    except OverflowError:  # 0001-01-01T00:00:00+01:00 is before the first instant Python has
        raise InvalidOrderData(field, f"{value!r} is outside the years 1 to 9999 in UTC") from None


def format_instant(moment: datetime) -> str:
    """Return ``moment`` as UTC ISO 8601 text ending in ``Z`` (seconds precision)."""
    # isoformat, not strftime: strftime does not pad a year below 1000 to four digits.
    return moment.astimezone(timezone.utc).replace(microsecond=0, tzinfo=None).isoformat() + "Z"
