"""The batch report: one JSON line per row as it finishes, read back to resume a batch.

Each record is a row's outcome (``order_record``) with where the row is (``file``,
``line``, ``row_key``), the order's number (``order_number``, when Wix was read) and when
it was written (``recorded_at``, UTC ISO 8601). A row's record is appended again only when
its outcome changed: a re-run that fails a row the same way adds nothing. Reports written
before ``order_number`` and ``recorded_at`` existed are read the same way.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from ._batch_file import DONE_STATUSES, BatchFileError

__all__ = ["Report", "recorded_at"]

# What tells two records of one row apart: anything else (the time, Wix's request ID,
# how many attempts) changes from run to run without the outcome changing.
_ERROR_FIELDS = ("type", "message", "status", "code")
_OUTCOME_FIELDS = ("status", "route", "reference", "refunded", "refunded_outside_wix", "currency", "final_status",
                   "final_payment_status", "items_refunded", "items_restocked")  # fmt: skip


def recorded_at(now: datetime | None = None) -> str:
    """Return the time stamp of a record: UTC, ISO 8601, to the second (``2024-06-01T12:00:00Z``)."""
    now = now or datetime.now(timezone.utc)
    return now.astimezone(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _same_outcome(record: dict[str, Any], last: dict[str, Any]) -> bool:
    """Return whether ``record`` says what ``last`` (the row's latest record) says of the row's outcome."""
    if any(record.get(field) != last.get(field) for field in _OUTCOME_FIELDS):
        return False
    error, before = record.get("error"), last.get("error")
    if isinstance(error, dict) and isinstance(before, dict):
        return all(error.get(field) == before.get(field) for field in _ERROR_FIELDS)
    return error == before


class Report:
    """The JSON-lines report of a batch: the rows it shows done, and a handle to append to.

    A last line cut short by an interruption is moved aside to ``<report>.torn-<n>`` before
    anything is appended, so that the report stays readable line by line.
    """

    def __init__(self, path: str, *, warn: Callable[[str], None]) -> None:
        self.path = path
        #: The report's record of each row it shows done, by row key.
        self.done: dict[str, dict[str, Any]] = {}
        # The latest record of each row, done or not, by row key: a record that says the same is not appended.
        self._last: dict[str, dict[str, Any]] = {}
        self._read(warn)
        try:
            self._handle = open(path, "a", encoding="utf-8")  # noqa: SIM115 (closed by close())
        except OSError as exc:
            raise BatchFileError(
                f"the report {path} cannot be written: {exc.strerror or exc}; choose another --report path"
            ) from None

    def _read(self, warn: Callable[[str], None]) -> None:
        try:
            with open(self.path, "rb") as handle:
                data = handle.read()
        except FileNotFoundError:
            return
        except OSError as exc:
            raise BatchFileError(
                f"the report {self.path} cannot be read: {exc.strerror or exc}; choose another --report path"
            ) from None
        if data and not data.endswith(b"\n"):
            data = self._mend_tail(data, warn)
        for number, raw in enumerate(data.splitlines(), 1):
            try:
                record = json.loads(raw)
            except ValueError:
                warn(f"{self.path}:{number}: not a JSON line; ignored")
                continue
            if not isinstance(record, dict):
                warn(f"{self.path}:{number}: not a JSON object; ignored")
                continue
            key = record.get("row_key")
            if record.get("type") != "order" or not isinstance(key, str):
                continue
            self._last[key] = record
            if record.get("status") in DONE_STATUSES:
                self.done[key] = record

    def _mend_tail(self, data: bytes, warn: Callable[[str], None]) -> bytes:
        cut = data.rfind(b"\n") + 1
        tail = data[cut:]
        try:
            whole = isinstance(json.loads(tail), dict)
        except ValueError:
            whole = False
        try:
            if whole:
                # Only the line break was lost: the line itself is good.
                with open(self.path, "ab") as handle:
                    handle.write(b"\n")
                return data + b"\n"
            number = 1
            while os.path.exists(f"{self.path}.torn-{number}"):
                number += 1
            aside = f"{self.path}.torn-{number}"
            with open(aside, "xb") as handle:
                handle.write(tail)
            with open(self.path, "r+b") as handle:
                handle.truncate(cut)
        except OSError as exc:
            raise BatchFileError(
                f"the report {self.path} ends in a line cut short, and it cannot be mended: "
                f"{exc.strerror or exc}; move the report aside and run again"
            ) from None
        line = data[:cut].count(b"\n") + 1
        warn(f"{self.path}:{line}: the last line was cut short (an interrupted run); moved it to {aside}")
        return data[:cut]

    def write(self, record: dict[str, Any]) -> bool:
        """Append one record as a line, flushed at once; return False when it was not (nothing changed).

        A row's record is left out when the row's latest record says the same of its outcome.
        """
        key = record.get("row_key")
        if isinstance(key, str):
            last = self._last.get(key)
            if last is not None and _same_outcome(record, last):
                return False
            self._last[key] = record
        self._handle.write(json.dumps(record) + "\n")
        self._handle.flush()
        return True

    def close(self) -> None:
        """Close the report."""
        self._handle.close()
