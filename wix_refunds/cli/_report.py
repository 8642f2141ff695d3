"""The batch report: one JSON line per row as it finishes, read back to resume a batch."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

from ._batch_file import DONE_STATUSES, BatchFileError

__all__ = ["Report"]


class Report:
    """The JSON-lines report of a batch: the rows it shows done, and a handle to append to.

    A last line cut short by an interruption is moved aside to ``<report>.torn-<n>`` before
    anything is appended, so that the report stays readable line by line.
    """

    def __init__(self, path: str, *, warn: Callable[[str], None]) -> None:
        self.path = path
        #: The report's record of each row it shows done, by row key.
        self.done: dict[str, dict[str, Any]] = {}
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
            if record.get("type") == "order" and isinstance(key, str) and record.get("status") in DONE_STATUSES:
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

    def write(self, record: dict[str, Any]) -> None:
        """Append one record as a line, flushed at once."""
        self._handle.write(json.dumps(record) + "\n")
        self._handle.flush()

    def close(self) -> None:
        """Close the report."""
        self._handle.close()
