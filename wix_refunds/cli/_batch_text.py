"""Reading a batch file's bytes as text: UTF-8, or UTF-16 with a byte order mark; a sentence otherwise."""

from __future__ import annotations

import codecs

__all__ = ["BatchFileError", "read_text"]


class BatchFileError(Exception):
    """The batch file (or its report) cannot be used at all; the message says what to do."""


def read_text(path: str) -> str:
    """Return the text of the file at ``path``.

    Raises:
        BatchFileError: it cannot be read, or is neither UTF-8 nor UTF-16 with a BOM.
    """
    return _decode(path, _read_bytes(path))


def _read_bytes(path: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        raise BatchFileError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise BatchFileError(f"{path} is a folder, not a CSV file") from None
    except PermissionError:
        raise BatchFileError(f"{path} cannot be read: permission denied") from None
    except OSError as exc:
        raise BatchFileError(f"{path} cannot be read: {exc.strerror or exc}") from None


def _decode(path: str, data: bytes) -> str:
    # Excel's "Unicode text" is UTF-16 with a byte order mark; anything else must be UTF-8.
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise BatchFileError(f"{path} starts like UTF-16 text but is not; save it as CSV UTF-8") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise BatchFileError(
            f"{path}:{line}: the file is not UTF-8 text (byte 0x{data[exc.start]:02x} cannot be read); "
            "save it as UTF-8 (Excel: Save As > CSV UTF-8; LibreOffice: character set Unicode (UTF-8)) "
            "and run again"
        ) from None
