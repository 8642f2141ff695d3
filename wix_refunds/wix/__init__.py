"""Wix's wire format: what is sent to Wix and how its answers are read. No I/O.

The one place that knows Wix's paths, headers, JSON keys and amount text
(``docs/wix-api.md`` is the contract):

- ``_wire``: the endpoint table (``ENDPOINTS``: method, path, permission, reader, write,
  account level), ``WireCall`` and its builder ``wire_call``, the headers, the request
  bodies of the calls on one order;
- ``_more_calls``: the calls that read many orders at once, and ``verify``'s checks;
- ``_read``: the order, Search Orders and Calculate Refund answers; ``_parse``: every other answer;
- ``_json``: the JSON field readers they share; ``_errors``: Wix's error answers.

``parse_order`` reads an order as Wix's API returns it, for ``decide_refund`` without I/O.
"""

from ._read import parse_order

__all__ = ["parse_order"]
