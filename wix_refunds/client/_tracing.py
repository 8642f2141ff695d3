"""Optional OpenTelemetry spans: a span per refund and per Wix call, when the API is installed.

``pip install 'wix-refunds[otel]'`` brings ``opentelemetry-api``. Without it nothing is
imported and a span costs one attribute lookup: whether the API is there is asked of the
import system once, on the first span, never at import time.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

__all__ = ["Span", "span"]

_UNSET: Any = object()
_tracer: Any = _UNSET


class Span:
    """The span in progress (or a stand-in when tracing is off): attributes can be added."""

    def __init__(self, inner: Any = None) -> None:
        self._inner = inner

    def set(self, **attributes: object) -> None:
        """Set ``wix_refunds.<name>`` attributes; None values are left out."""
        if self._inner is not None:
            for name, value in attributes.items():
                if value is not None:
                    self._inner.set_attribute(f"wix_refunds.{name}", value if isinstance(value, int) else str(value))


def _get_tracer() -> Any:
    global _tracer
    if _tracer is _UNSET:
        import importlib.util

        if importlib.util.find_spec("opentelemetry") is None:
            _tracer = None
        else:
            import opentelemetry.trace

            from .._version import __version__

            _tracer = opentelemetry.trace.get_tracer("wix_refunds", __version__)
    return _tracer


@contextlib.contextmanager
def span(name: str, **attributes: object) -> Iterator[Span]:
    """Return a context manager for the span ``wix_refunds.<name>`` with ``attributes``."""
    tracer = _get_tracer()
    if tracer is None:
        yield Span()
        return
    import opentelemetry.trace

    inner = tracer.start_span(f"wix_refunds.{name}")
    if not inner.get_span_context().is_valid:
        # The API's no-op tracer (no SDK set up): nothing would be recorded or passed on,
        # so the span is not made current (attaching it costs more than the rest of it).
        yield Span()
        return
    with opentelemetry.trace.use_span(inner, end_on_exit=True):
        current = Span(inner)
        current.set(**attributes)
        yield current
