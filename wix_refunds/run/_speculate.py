"""The async refund's first round trip: the order, its transactions and its refundability at once.

Which route an order takes is known only once its date is read, and a standard refund
(an order from the cutoff on) needs all three reads before its write. So the async
driver reads them side by side, speculatively: a standard refund then waits two round
trips (these reads, then the write) instead of three, for the same four requests. For
any other route (an order from before the cutoff, one to cancel, one with nothing to
do) the two speculative answers are not used, and a speculative read that failed
fails nothing: the route is decided from the order alone, exactly as without them.
The sync driver sends one request at a time, so it reads the order alone first; a
batch, whose speed is its request count, reads the order alone too (or shares it).
"""

from __future__ import annotations

import logging
from collections.abc import Generator
from typing import Any

import attrs

from ..client._log import log_event
from ..core._errors import WixRefundError
from ..core._orders import Order
from ..core._routing import ROUTES, RefundPlan
from ..wix import _wire
from ..wix._wire import WireCall

__all__ = ["Together", "first_reads", "speculated"]

# What a standard refund reads besides the order, in the order the answers are kept.
_SPECULATIVE = ("transactions", "refundability")


@attrs.frozen
class Together:
    """Reads to send side by side, each answered by its ``Sent`` or by its own ``WixRefundError``.

    Unlike a tuple of reads (whose first failure fails them all), a failure here is an
    answer: a speculative read may fail without harm.
    """

    calls: tuple[WireCall[Any], ...]


def first_reads(order_id: str, *, speculate: bool) -> Generator[Any, Any, tuple[Order, dict[str, Any]]]:
    """Yield the first reads; return the order and, when ``speculate``, the other answers by name.

    Raises:
        WixRefundError: the order could not be read.
    """
    order_call = _wire.get_order(order_id)
    if not speculate:
        sent = yield order_call
        return sent.value, {}
    others = (_wire.list_transactions(order_id), _wire.get_refundability(order_id))
    answers = yield Together((order_call, *others))
    if isinstance(answers[0], WixRefundError):
        raise answers[0]
    return answers[0].value, dict(zip(_SPECULATIVE, answers[1:]))


def speculated(plan: RefundPlan, answers: dict[str, Any]) -> dict[str, Any]:
    """Return the speculative answers ``plan`` uses (those its route reads first, ``Route.reads``), as values.

    Raises:
        WixRefundError: a read the route needs failed (as it would have read alone).
    """
    used = ROUTES[plan.route].reads
    unused = [name for name in answers if name not in used]
    if unused:
        failed = [name for name in unused if isinstance(answers[name], WixRefundError)]
        log_event(
            logging.DEBUG,
            "order %s route %s: the speculative reads are not used%s",
            plan.order_id,
            plan.route.value,
            f" ({', '.join(failed)} failed)" if failed else "",
            order_id=plan.order_id,
            route=plan.route.value,
        )
    kept = {name: answer for name, answer in answers.items() if name in used}
    for answer in kept.values():
        if isinstance(answer, WixRefundError):
            raise answer
    return {name: answer.value for name, answer in kept.items()}
