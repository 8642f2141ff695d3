"""Wix's wire format: the endpoints, the request builders and one reader per answer.

``parse_order`` reads an order as Wix's API returns it, for ``decide_refund`` without I/O.
"""

from ._read import parse_order

__all__ = ["parse_order"]
