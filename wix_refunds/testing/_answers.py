"""What every part of the fake shares: Wix's Price objects and error bodies, the GUID check, the answer sent.

The fake writes Wix's JSON itself; nothing here comes from the library's ``_wire``, so that
one mistake cannot hide in both.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import attrs

_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


@attrs.define
class _Answer:
    status: int
    body: bytes = b""
    headers: dict[str, str] = attrs.Factory(dict)
    lose: bool = False
    refuse: bool = False
    hold: float = 0.0


class _Error(Exception):
    def __init__(self, status: int, body: dict[str, Any]) -> None:
        self.status = status
        self.body = body


def _app_error(status: int, code: str, message: str) -> _Error:
    return _Error(
        status,
        {"message": message, "details": {"applicationError": {"code": code, "description": message, "data": {}}}},
    )


def _invalid(field: str, description: str) -> _Error:
    return _Error(
        400,
        {
            "message": f"{field}: {description}",
            "details": {
                "validationError": {
                    "fieldViolations": [
                        {"field": field, "description": description, "violatedRule": "FORMAT", "ruleName": "INVALID"}
                    ]
                }
            },
        },
    )


def _money(amount: Decimal) -> dict[str, str]:
    """A Price object with the kind of unnormalised amount text Wix sends ("35.0", "0", "2.5")."""
    text = format(amount.normalize(), "f")
    if "." not in text and amount != 0:
        text += ".0"
    return {"amount": text, "formattedAmount": f"${amount:.2f}"}


def _dec(value: Decimal | int | str) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))
