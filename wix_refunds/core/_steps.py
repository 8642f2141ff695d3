"""The vocabulary of a refund's steps: what was observed, what to do next, what failed. No I/O.

``_engine`` decides with these values; ``_run`` performs them. They are frozen, so a
step can be compared, printed and tested without a network.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal, Union

import attrs

from ._errors import WixRefundError
from ._items import Calculation, FeeRefund, ItemAvailability, Portion, RefundItem
from ._orders import Fulfillment, Order, OrderTransactions, PaymentRefundability, RefundRecord

__all__ = [
    "ItemsAsked",
    "PaymentRefund",
    "Action",
    "Cancel",
    "DeleteOne",
    "Failure",
    "Finish",
    "InFlight",
    "Unconfirmed",
    "Observed",
    "Progress",
    "Read",
    "Refund",
    "Wait",
    "Write",
]


@attrs.frozen(kw_only=True)
class Observed:
    """What was last seen on Wix; ``None`` means not read (or no longer trusted)."""

    order: Order | None = None
    fulfillments: tuple[Fulfillment, ...] | None = None
    transactions: OrderTransactions | None = None
    refundability: tuple[PaymentRefundability, ...] | None = None
    availability: ItemAvailability | None = None
    calculation: Calculation | None = None


@attrs.frozen
class Read:
    """Read one part of the order's state from Wix."""

    what: Literal["order", "fulfillments", "transactions", "refundability", "calculation"]


@attrs.frozen
class DeleteOne:
    """Delete one fulfilment."""

    fulfillment_id: str


@attrs.frozen
class Cancel:
    """Cancel the order."""

    restock: bool
    notify_customer: bool


@attrs.frozen
class Refund:
    """Refund these payments in one Refund Payments call, tagged with the call's reference."""

    payment_refunds: tuple[PaymentRefund, ...]
    reason: str
    notify_customer: bool
    items: ItemsAsked | None = None

    @property
    def amount(self) -> Decimal:
        """Return the total of the amounts this refund names (stored value, refunded whole, is not in it)."""
        return sum((p.amount for p in self.payment_refunds if p.amount is not None), Decimal(0))


@attrs.frozen
class Wait:
    """Wait ``seconds``, then read the transactions again (a refund may still land)."""

    seconds: float


@attrs.frozen
class Finish:
    """Nothing is left to do; ``planned`` is the write a dry run stopped before."""

    planned: DeleteOne | Cancel | Refund | None = None


Write = Union[DeleteOne, Cancel, Refund]
Action = Union[Read, DeleteOne, Cancel, Refund, Wait, Finish]


@attrs.frozen(kw_only=True)
class Failure:
    """A write that failed: ``kind`` is what the shell knows of its effect on Wix."""

    action: Write
    kind: Literal["unknown", "refused", "not_found"]
    error: WixRefundError


@attrs.frozen(kw_only=True)
class InFlight:
    """A write the journal holds that may still land: its reference, who sent it, how long ago.

    ``age`` (seconds since it was sent) is measured by the shell; ``settle`` is the
    window its sender gave it; ``attempts`` counts the writes made under the reference.
    """

    reference: str
    holder: str
    age: float
    settle: float
    #: Which write under the reference it is (1 for the first).
    attempts: int = 1

    @property
    def left(self) -> float:
        """Return the seconds of its window still to wait (never negative)."""
        return max(self.settle - self.age, 0.0)


@attrs.frozen(kw_only=True)
class Unconfirmed:
    """Wix's answer to this reference's write, kept in the journal by an earlier run.

    ``age`` is seconds since that write was sent (measured by the shell).
    """

    answer: RefundRecord
    age: float
    settle: float


@attrs.frozen(kw_only=True)
class Progress:
    """One call's knowledge: what it saw, what it sent, and what came of it.

    ``unknown_for`` is how long (seconds, measured by the shell) the outcome of the
    refund this call sent has been unknown; ``before`` holds the IDs of the refunds
    that were on Wix before it was sent. ``in_flight`` holds the writes the journal
    says may still land on the order (this reference's own earlier one included).
    """

    reference: str
    seen: Observed = attrs.field(factory=Observed)
    dry_run: bool = False
    settle: float = 120.0
    wrote: bool = False
    sent: Refund | None = None
    answer: RefundRecord | None = None
    before: frozenset[str] | None = None
    unknown_for: float | None = None
    settle_reads: int = 0
    refused: Write | None = None
    in_flight: tuple[InFlight, ...] = ()
    unconfirmed: Unconfirmed | None = None


@attrs.frozen(kw_only=True)
class PaymentRefund:
    """One entry of a Refund Payments call: how much goes back to one payment.

    ``amount`` is None for a stored-value payment (gift card, membership), whose
    whole credit Wix refunds; ``external`` records a refund made outside Wix.
    """

    payment_id: str
    amount: Decimal | None
    external: bool = False


@attrs.frozen(kw_only=True)
class ItemsAsked:
    """The line items, fees and shipping one refund names (Wix's ``refundItems``)."""

    items: tuple[RefundItem, ...] = ()
    shipping: Portion | None = None
    fees: tuple[FeeRefund, ...] = ()

    @property
    def any(self) -> bool:
        """Return whether it names anything."""
        return bool(self.items or self.fees) or self.shipping is not None
