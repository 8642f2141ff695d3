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

# --- the fake's own choices: refusals Wix's SDK types name no error code for ----------------------
# Every other refusal answers a code an SDK type names (docs/wix-api.md section 8): Refund
# Payments' codes, Cancel Order's ORDER_IS_PENDING and ORDER_IS_REJECTED, Get Order's
# ORDER_NOT_FOUND. These three are refusals the fake must make although no type names them;
# each is a project choice, kept here so that none hides in a handler as if it were Wix's.

#: Choice: Refund Payments on an order created before the cutoff. No SDK type limits refunds
#: by date (the limit comes from Violet's guide); the fake refuses with the code and reason
#: Wix's types do name for a payment it will not refund (``PAYMENT_NOT_REFUNDABLE``, data
#: ``{paymentId, nonRefundableReason: FORBIDDEN}``), as its refundability says of such a payment.
OLD_ORDER_REFUND_REFUSAL = (428, "PAYMENT_NOT_REFUNDABLE", "FORBIDDEN")

#: Choice: the code of a refused cancel that Wix's types do not name (an order already
#: canceled, fulfilled, or in a status cancel does not take). The gRPC status name of a 428
#: names no business rule, so no test can come to depend on an invented one; the library
#: never branches on a cancel's code (it re-reads the order). ``FakeWix(cancel_error_code=...)``
#: changes it.
CANCEL_REFUSED_CODE = "FAILED_PRECONDITION"

#: Choice: Delete Fulfillment of a fulfilment the order does not have. Wix documents no custom
#: error for it; the fake answers 404 with the status's gRPC name, as for any unknown resource.
UNKNOWN_RESOURCE_CODE = "NOT_FOUND"


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


def _app_error(status: int, code: str, message: str, data: dict[str, Any] | None = None) -> _Error:
    return _Error(
        status,
        {
            "message": message,
            "details": {"applicationError": {"code": code, "description": message, "data": data or {}}},
        },
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
