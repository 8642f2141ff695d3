"""The reference a refund is tagged with when the person asking gave none. No I/O.

One derivation for every way the command asks for a refund: a batch row
(``_batch_file``) and ``wix-refunds refund`` without ``--reference`` (``cli``). The
reference is built from what is asked only (the order, the amount or the items and
their restocking, the shipping and fees, the restock flag) and the row's occurrence,
never from the reason, a file's name or a line number. So the same refund asked again,
from the same file, another file or the command line, names the same refund on Wix and
finds it already made.

The text hashed for a plain amount and for items is the one batch files have always
used, so that files run before the command derived references still find their refunds;
what later requests can add (shipping, fees, restock, an occurrence of an item refund)
is appended only when present.
"""

from __future__ import annotations

import hashlib
import re
from decimal import Decimal

from ._items import AllLeft, Portion
from ._request import RefundRequest

__all__ = [
    "MAX_CUSTOMER_REASON",
    "REFERENCE_TAG",
    "customer_reason",
    "derive_reference",
    "new_reference",
    "reference_of",
]

#: How a derived reference starts: ``b-`` and 20 hex digits of the request's identity.
_PREFIX = "b-"


def derive_reference(order_id: str, request: RefundRequest, occurrence: int = 0) -> str:
    """Return the reference for ``request`` on ``order_id``: ``b-`` and 20 hex digits.

    Args:
        order_id: the order (its case does not matter).
        request: what is asked; its ``reason``, ``reference`` and ``notify_customer`` are
            left out on purpose: correcting a typo in a reason must not turn a refund
            already made into a new one.
        occurrence: how many earlier requests of the same identity the caller has (the
            second of two equal batch rows is 1); 0 for the command line.
    """
    amount = _amount_key(request.amount)
    if request.by_item:
        lines = sorted(f"{i.line_item_id}:{i.quantity}:{i.restock_quantity}" for i in request.items)
        parts = ["wix-refunds batch items", order_id.lower(), amount, *lines]
        if occurrence:
            parts.append(f"occurrence:{occurrence}")
    else:
        parts = ["wix-refunds batch row", order_id.lower(), amount, str(occurrence)]
    if request.shipping is not None:
        parts.append(f"shipping:{_portion_key(request.shipping)}")
    parts += sorted(f"fee:{fee.fee_id}:{_portion_key(fee.amount)}" for fee in request.fees)
    if request.restock:
        parts.append("restock")
    return _PREFIX + hashlib.sha256("\0".join(parts).encode()).hexdigest()[:20]


def _amount_key(amount: Decimal | None) -> str:
    # 12.5 and 12.50 are one amount; "full" is a refund of everything left.
    return "full" if amount is None else format(amount.normalize(), "f")


def _portion_key(portion: Portion) -> str:
    return "all" if isinstance(portion, AllLeft) else format(portion.normalize(), "f")


REFERENCE_TAG = " [ref:{reference}]"
# The tag ends the reason and starts it or follows a space (``x[ref:t-1]`` is someone
# else's text, not a tag); a reference is 1 to 64 of these characters (see _routing).
_TAG_AT_END = re.compile(r"(?:\A| )\[ref:([A-Za-z0-9._:/#@+-]{1,64})\]\Z")
MAX_CUSTOMER_REASON = 200


def customer_reason(reason: str | None, reference: str) -> str:
    """Return the ``customerReason`` text: the reason, shortened so that the reference tag always fits."""
    tag = REFERENCE_TAG.format(reference=reference)
    text = (reason or "").strip()
    room = MAX_CUSTOMER_REASON - len(tag)
    if len(text) > room:
        text = text[: max(room - 1, 0)].rstrip() + "…" if room > 0 else ""
    return (text + tag).strip()


def reference_of(reason: str | None) -> str | None:
    """Return the reference in the tag that ends ``reason``, or None.

    Only a whole tag counts: at the end of the reason, and either the whole reason or
    after a space (the shapes ``customer_reason`` writes).
    """
    if not reason:
        return None
    match = _TAG_AT_END.search(reason)
    return match.group(1) if match else None


def new_reference() -> str:
    """Return a fresh reference for a refund whose caller gave none (``wr-`` and 20 random hex digits)."""
    import secrets  # here, not at the top: it loads hmac, and most imports never make a reference

    return "wr-" + secrets.token_hex(10)
