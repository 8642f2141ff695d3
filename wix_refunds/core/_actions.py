"""Actions: the one Wix call or wait the engine asks next; and what the call has seen and done. No I/O.

Two words, one meaning each. A *plan step* (``_routing``: delete the fulfilments, cancel,
refund the payments) is what the plan says will happen; an *action* (here) is the one
thing the engine asks for next: ``Read`` a part of the order, one write (``Write``:
``DeleteOne``, ``Cancel``, ``Refund``), ``Wait``, or ``Finish``. ``_engine`` derives each
action from the plan's steps; ``run._run`` performs it. Every value is frozen, so an
action can be compared, printed and tested without a network.
"""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar, Literal, Union, get_args

import attrs

from ._errors import WixRefundError
from ._items import Calculation, FeeRefund, ItemAvailability, Portion, RefundItem
from ._orders import Fulfillment, Order, OrderTransactions, PaymentRefundability, RefundRecord

__all__ = [
    "ItemsAsked",
    "PaymentRefund",
    "Action",
    "Part",
    "WRITES",
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
    "Shared",
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


#: A part of the order's state on Wix that a ``Read`` reads (``refundability`` fills both
#: ``Observed.refundability`` and ``Observed.availability``).
Part = Literal["order", "fulfillments", "transactions", "refundability", "calculation"]


@attrs.frozen
class Read:
    """Read one part of the order's state from Wix."""

    what: Part


@attrs.frozen
class DeleteOne:
    """Delete one fulfilment."""

    #: The kind of plan step this write carries out (also its Wix call): outcome records and logs name it.
    kind: ClassVar[str] = "delete_fulfillment"

    fulfillment_id: str


@attrs.frozen
class Cancel:
    """Cancel the order."""

    kind: ClassVar[str] = "cancel_order"

    restock: bool
    notify_customer: bool


@attrs.frozen
class Refund:
    """Refund these payments in one Refund Payments call, tagged with the call's reference."""

    kind: ClassVar[str] = "refund_payments"

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

    planned: Write | None = None


#: The write actions: the one place they are listed (an action that changes the order on Wix).
Write = Union[DeleteOne, Cancel, Refund]
#: ``Write`` as a tuple of classes, for ``isinstance``.
WRITES: tuple[type[Write], ...] = get_args(Write)
Action = Union[Read, Write, Wait, Finish]


@attrs.frozen(kw_only=True)
class Failure:
    """A write that failed, and the error it failed with (``_failures.ON_FAILURE`` says what that means)."""

    action: Write
    error: WixRefundError


@attrs.frozen(kw_only=True)
class Shared:
    """What a batch's shared reads showed of one order (``seen``), when, and how long it may be relied on.

    ``at`` is the shell's clock when the batch read it; ``max_age`` the seconds a write may rely on it.
    """

    seen: Observed
    at: float
    max_age: float

    def fresh(self, now: float) -> bool:
        """Return whether it may still be relied on at ``now`` (the shell's clock)."""
        return now - self.at <= self.max_age


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
