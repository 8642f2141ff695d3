"""A refunded line item as a person writes it: one reader, one set of words, for both ways in.

``--item LINE_ID:QTY[:RESTOCK]`` and a batch row's ``line_item_id``, ``quantity`` and
``restock`` columns are read by ``parse_item``, so the command takes the same words
whichever way the item is given.
"""

from __future__ import annotations

from ..core._errors import InvalidRequest
from ..core._items import RefundItem

__all__ = ["ITEM_OPTION", "RESTOCK_WORDS", "parse_item", "parse_item_option"]

_RESTOCK_ALL = frozenset({"yes", "true", "restock"})
_RESTOCK_NONE = frozenset({"", "no", "false"})
#: The restock words, as ``--help`` and the error messages say them (any case).
RESTOCK_WORDS = "yes, true or restock (all), no or false (none), or how many to restock"
#: How ``--item`` is written.
ITEM_OPTION = "LINE_ID:QTY[:RESTOCK]"


def parse_item(line_item_id: str, quantity: str, restock: str = "") -> RefundItem:
    """Return the item a person wrote: the line, how many units came back, and how many to restock.

    ``restock`` is one of ``RESTOCK_WORDS``: a word for all or none, or a count (``0`` is none).

    Raises:
        InvalidRequest: the quantity or the restock count is not a whole number, the
            restock word is not one of ``RESTOCK_WORDS``, or ``RefundItem`` refuses the item.
    """
    count = quantity.strip()
    # isdecimal, not isdigit: "²" is a digit that int() refuses.
    if not count.isdecimal():
        raise InvalidRequest("quantity", f"{count!r} is not a whole number: write how many units came back, 1")
    word = restock.strip().lower()
    again: int | bool
    if word in _RESTOCK_ALL:
        again = True
    elif word in _RESTOCK_NONE:
        again = False
    elif word.isdecimal():
        again = int(word)
    else:
        raise InvalidRequest("restock", f"{restock.strip()!r}: write {RESTOCK_WORDS}")
    return RefundItem(line_item_id=line_item_id.strip(), quantity=int(count), restock=again)


def parse_item_option(text: str) -> RefundItem:
    """Return the item of an ``--item`` option, ``LINE_ID:QTY`` or ``LINE_ID:QTY:RESTOCK``.

    Raises:
        InvalidRequest: the text has not two or three parts, or ``parse_item`` refuses them.
    """
    parts = text.split(":")
    if len(parts) not in (2, 3):
        raise InvalidRequest("item", f"write {ITEM_OPTION}, with RESTOCK {RESTOCK_WORDS}")
    return parse_item(*parts)
