"""The exception tree of wix_refunds.

Every error the library raises on purpose is a ``WixRefundError``::

    WixRefundError
    ├── InvalidWixData            a Wix payload that cannot be read (names the field);
    │                             ``InvalidOrderData`` is its older name
    ├── InvalidRequest            a RefundRequest or ID the library refuses to send
    ├── InvalidCredentials        a pasted credential that is malformed (names the field)
    ├── RefundNotSupported        the refund rules refuse this order (says why)
    ├── RefundDeclined            Wix or the payment provider declined this call's refund
    ├── LockUnavailable           another worker held the order's lock for longer than the wait
    ├── LockLost                  the order's lock was lost; nothing more was sent
    ├── JournalError              the refund journal cannot be read or written, or it
    │                             holds a write that may still land; nothing was sent
    ├── WixConnectionError        the network failed; ``request_sent`` says if Wix may have it
    ├── WixOutcomeUnknown         a write may or may not have happened: re-read, never resend
    └── WixAPIError               Wix answered with an error status
        ├── WixAuthError          401 / 403: key, scope or site access
        ├── WixNotFound           404
        ├── WixPreconditionFailed 428: a state change Wix refused
        ├── WixRateLimited        429, with the ``retry_after`` Wix asked for
        ├── WixServerError        5xx
        └── WixInvalidResponse    a 2xx whose body is not the JSON Wix documents (names the
                                  field; also an InvalidWixData)

API errors carry the HTTP status, Wix's error code and message and the
``x-wix-request-id``; none of them ever holds the API key. What each failure
means (its status, whether it is retried, whether a write's outcome is then
unknown) is the table in ``_error_table``.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "InvalidCredentials",
    "InvalidOrderData",
    "InvalidRequest",
    "InvalidWixData",
    "JournalError",
    "LockLost",
    "LockUnavailable",
    "RefundDeclined",
    "RefundNotSupported",
    "WixAPIError",
    "WixAuthError",
    "WixConnectionError",
    "WixInvalidResponse",
    "WixNotFound",
    "WixOutcomeUnknown",
    "WixPreconditionFailed",
    "WixRateLimited",
    "WixRefundError",
    "WixServerError",
]


class WixRefundError(Exception):
    """Base class of every error wix_refunds raises on purpose."""

    #: How many attempts the failing call made (set by the client).
    attempts: int = 1
    #: The reference of the refund call that failed, when there was one: re-run with it.
    reference: str | None = None

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class _FieldError(WixRefundError):
    """An error about one named field: ``field`` and what is wrong with it, ``problem``."""

    template = "invalid {field}: {problem}"

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(self.template.format(field=field, problem=problem))
        self.field = field
        self.problem = problem


class InvalidWixData(_FieldError):
    """A Wix payload is missing a field or holds a value that cannot be read."""

    template = "invalid Wix data at {field!r}: {problem}"


InvalidOrderData = InvalidWixData
"""The older name of ``InvalidWixData``, kept so that existing ``except`` clauses still match."""


class InvalidRequest(_FieldError):
    """A value given to the library is refused before anything is sent."""


class InvalidCredentials(_FieldError):
    """A credential is malformed; the message never repeats the API key."""


class RefundNotSupported(WixRefundError):
    """The refund rules (or Wix's refundability) refuse this refund."""

    def __init__(self, message: str, *, order_id: str | None = None) -> None:
        super().__init__(message)
        self.order_id = order_id


class RefundDeclined(WixRefundError):
    """Wix or the payment provider declined this call's refund (its transaction FAILED).

    Nothing more is sent in the same call: a decline is an answer, not a glitch.
    """

    def __init__(
        self,
        message: str,
        *,
        order_id: str,
        payment_id: str,
        status: str,
        reference: str | None = None,
        refunded: Any = None,
        declined: Any = None,
    ) -> None:
        super().__init__(message)
        self.order_id = order_id
        self.payment_id = payment_id
        self.status = status
        self.reference = reference
        #: What this reference's refunds hold on Wix that did not fail, and what was declined
        #: (``Decimal`` amounts in the order's currency; None where unknown).
        self.refunded = refunded
        self.declined = declined


class LockUnavailable(WixRefundError):
    """Another worker held the order's lock for longer than this one may wait; nothing was sent."""

    def __init__(self, message: str, *, key: str, waited: float) -> None:
        super().__init__(message)
        self.key = key
        self.waited = waited


class LockLost(WixRefundError):
    """The order's lock was lost (a PostgreSQL session ended, say); no further write was sent."""

    def __init__(self, message: str, *, key: str) -> None:
        super().__init__(message)
        self.key = key


class JournalError(WixRefundError):
    """The refund journal could not be read or written, or it holds a write that may still land.

    Raised before a write, it means nothing was sent for it.
    """


class WixConnectionError(WixRefundError):
    """The request failed in the network.

    ``request_sent`` is False only when Wix surely never received the request
    (connection refused, connect or pool timeout).
    """

    def __init__(self, message: str, *, request_sent: bool) -> None:
        super().__init__(message)
        self.request_sent = request_sent


class WixOutcomeUnknown(WixRefundError):
    """A write may have been applied by Wix: re-read Wix before doing anything else."""

    def __init__(
        self,
        message: str,
        *,
        operation: str,
        order_id: str | None = None,
        reference: str | None = None,
        rerun_safe: bool = True,
    ) -> None:
        super().__init__(message)
        self.operation = operation
        self.order_id = order_id
        self.reference = reference
        #: Whether running again with ``reference`` is safe: False when Wix lists refunds
        #: without their reasons, so that a re-run could not recognise the refund.
        self.rerun_safe = rerun_safe


class WixAPIError(WixRefundError):
    """Wix answered with an error status."""

    def __init__(
        self,
        message: str,
        *,
        status: int,
        code: str | None = None,
        wix_message: str | None = None,
        request_id: str | None = None,
        operation: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        WixRefundError.__init__(self, message)
        self.status = status
        self.code = code
        self.wix_message = wix_message
        self.request_id = request_id
        self.operation = operation
        #: The wait Wix asked for in ``Retry-After``, on any status, if it sent one.
        self.retry_after = retry_after


class WixAuthError(WixAPIError):
    """401 or 403: the key is refused, lacks a permission, or cannot reach the site."""


class WixNotFound(WixAPIError):
    """404: the order, fulfilment or payment does not exist for this site."""


class WixPreconditionFailed(WixAPIError):
    """428: Wix refused a state change (for example cancelling a fulfilled order)."""


class WixRateLimited(WixAPIError):
    """429: too many requests; ``retry_after`` is the wait Wix asked for, if any."""

    def __init__(self, message: str, *, status: int = 429, **fields: Any) -> None:
        super().__init__(message, status=status, **fields)


class WixServerError(WixAPIError):
    """5xx: Wix (or a proxy in front of it) failed."""


class WixInvalidResponse(WixAPIError, InvalidWixData):
    """A successful status whose body is not the JSON Wix documents.

    ``field`` names what could not be read (None when the body is not JSON at all).
    It is also an ``InvalidWixData``, so that ``except InvalidOrderData`` still catches it.
    """

    def __init__(
        self, message: str, *, status: int, field: str | None = None, problem: str = "", **fields: Any
    ) -> None:
        WixAPIError.__init__(self, message, status=status, **fields)
        self.field = field or ""
        self.problem = problem
