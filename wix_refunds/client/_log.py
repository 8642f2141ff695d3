"""The ``wix_refunds`` logger, and the fields every record of it carries.

Each record has the same ``extra`` attributes, so that a service can filter and index
on them: ``order_id``, ``route``, ``step`` (the Wix call: a request's operation, or a
write action's kind), ``attempt``, ``reference`` (the refund's), ``request_id`` (Wix's ``x-wix-request-id``) and
``status`` (the HTTP status of Wix's answer). A field that does not apply is None.
The message stays a sentence a person reads. Never the API key, never buyer data.
"""

from __future__ import annotations

import logging

__all__ = ["FIELDS", "LOG", "log_event"]

LOG = logging.getLogger("wix_refunds")
FIELDS = ("order_id", "route", "step", "attempt", "reference", "request_id", "status")


def log_event(
    level: int,
    message: str,
    *args: object,
    order_id: str | None = None,
    route: str | None = None,
    step: str | None = None,
    attempt: int | None = None,
    reference: str | None = None,
    request_id: str | None = None,
    status: int | None = None,
) -> None:
    """Log ``message % args`` at ``level`` with every field of ``FIELDS`` in ``extra``."""
    if not LOG.isEnabledFor(level):
        return
    extra = {
        "order_id": order_id,
        "route": route,
        "step": step,
        "attempt": attempt,
        "reference": reference,
        "request_id": request_id,
        "status": status,
    }
    LOG.log(level, message, *args, extra=extra, stacklevel=2)
