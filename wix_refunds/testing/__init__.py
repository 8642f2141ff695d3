"""FakeWix: a stateful, strict fake of the Wix endpoints wix_refunds uses.

Use it in your own tests::

    from wix_refunds.testing import FakeWix

    fake = FakeWix()
    order_id = fake.add_order(created="2024-03-01T10:00:00Z", fulfillments=2)
    with httpx.Client(transport=fake.transport()) as http:
        client = WixClient(fake.credentials, base_url=FakeWix.BASE_URL, http_client=http)
        refund_order(client, order_id)

The fake is a model of Wix, not of this library: it writes and reads Wix's JSON
itself and shares no wire-format code with the client, so that one mistake
cannot hide in both. Like Wix it has no idempotency: the same partial refund
sent twice refunds twice.

It answers as Wix's SDK types describe (``docs/wix-api.md``, the contract): refunds with
``summary``, ``details.items`` and, when FAILED, ``refundStatusInfo``; Calculate Refund
errors that name their item; orders with ``priceSummary.total``; and only error codes an
SDK type names. Choices the Wix docs leave open are made here as the library makes them;
in particular a request that sends both ``wix-site-id`` and ``wix-account-id`` is answered
400 (undocumented on Wix). Three refusals no SDK type names are the fake's own choices,
named in ``_answers``: a refund of an order created before the cutoff
(``OLD_ORDER_REFUND_REFUSAL``: 428 ``PAYMENT_NOT_REFUNDABLE``, reason ``FORBIDDEN``), a
cancel of an order already canceled or fulfilled (``CANCEL_REFUSED_CODE``) and the delete
of an unknown fulfilment (``UNKNOWN_RESOURCE_CODE``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

# Re-exported for tests that write Wix's Price objects as the fake does.
from ._answers import _money as _money
from ._faults import _Faults
from ._odd import _OddValues
from ._seeding import _Seeding
from ._server import serve_fake
from ._state import ALL_SCOPES, LoggedRequest
from ._transports import _FakeTransport

__all__ = ["ALL_SCOPES", "FakeWix", "LoggedRequest"]


# Every attribute is set in one place, _State (_state.py), with the rules that keep the
# books consistent; each base on top adds one job: _Seeding the set-up, _Billing and
# _Routes the endpoints, _Faults the scripted faults and handle(), which the in-process
# transport (_transports.py) and the loopback server (_server.py) both call; _OddValues
# serves answers with one field replaced (serve_odd).
class FakeWix(_Seeding, _OddValues, _Faults):
    """A stateful fake of Wix's orders, fulfilments, billing and credential endpoints.

    Args:
        api_key, account_id, site_id: the credentials it accepts (generated when omitted;
            the site ID is new for every fake, as every Wix site is a store of its own).
        cutoff: orders created before it are old: not refundable through Wix billing.
        seed: seeds the generated IDs (but the site ID), so that a test sees the same IDs every run.
        sticky_fulfilled: keep ``fulfillmentStatus`` FULFILLED after fulfilments are
            deleted (a quirk reported on Wix's forum).
        over_refund_status: 400 or 428, the status for a refund above what is left.
        cancel_error_code: the ``applicationError.code`` of a refused cancel that Wix's
            types name no code for (already canceled, fulfilled); a pending or rejected
            order is refused with Wix's ``ORDER_IS_PENDING`` / ``ORDER_IS_REJECTED``.
        refundability_shape: ``"sdk"`` (Wix's shape, the default: the payment under
            ``payment`` with ``monetary.maxRefund``, ``refundable: true``), or the older
            forms the library tolerates: ``"legacy"`` (``paymentId`` at the top, states as
            objects) and ``"status"`` (``refundabilityStatus``).
        list_reasons: False lists refunds without ``details.reason`` (so tags cannot be read).
        legacy_payment_status: also write the deprecated ``regularPaymentDetails.status``.
        list_calls: False refuses every call that reads many orders at once, as a Wix that
            does not offer them would: Search Orders with a filter on ``id`` answers 400, both
            ``list-by-ids`` calls answer 404. ``refused_lists`` (a set of ``"search_by_id"``,
            ``"transactions"``, ``"fulfillments"``) refuses them one by one.
        refund_items_shape: where a refund's items are written: ``"sdk"`` (``details.items``,
            Wix's current field, the default), ``"legacy"`` (the older ``details.lineItems``
            only) or ``"both"``.
        leave_out: fields Wix's types mark optional that the fake then leaves out:
            ``"refundStatus"`` (refund transactions without a status) and
            ``"fulfillmentQuantity"`` (fulfilment line items with ``quantity: null``).
    """

    BASE_URL = "http://127.0.0.1:9"
    """A base URL for ``transport()`` clients; no socket is ever opened to it."""

    def transport(self) -> _FakeTransport:
        """Return an in-process httpx transport (sync and async) that talks to this fake."""
        return _FakeTransport(self)

    @contextlib.contextmanager
    def serve(self, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
        """Serve this fake over HTTP on loopback in a background thread; yield its base URL."""
        with serve_fake(self, host, port) as url:
            yield url
