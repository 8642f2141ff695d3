"""Who and where: the store a command acts on (its business name, site ID and store profile).

``plan``, the confirmations, ``verify`` and the JSON summary name it, so that someone with
several stores sees where the money goes. The name is Wix's business name (Get Site
Properties), read once per command; when it cannot be read the command says so and goes on.
"""

from __future__ import annotations

import argparse
from typing import Any

import attrs

from ..client._client import AsyncWixClient, WixClient
from ..core._errors import WixRefundError
from ..wix import _more_calls

__all__ = ["UNAVAILABLE", "Store", "read_store", "read_store_async", "store_of"]

UNAVAILABLE = "store name unavailable"


@attrs.frozen(kw_only=True)
class Store:
    """The store a command acts on: Wix's business name (None: unavailable), site ID, store profile."""

    name: str | None
    site_id: str
    #: The store's name in the stores file (``--store``), when one is used.
    profile: str | None = None

    def line(self) -> str:
        """Return the store as people read it: ``store: Fake Shop (site ID, profile shop-eu)``."""
        profile = f", profile {self.profile}" if self.profile else ""
        return f"store: {self.name or UNAVAILABLE} (site {self.site_id}{profile})"

    def record(self) -> dict[str, Any]:
        """Return the store as JSON-ready data: name (None: unavailable), site_id, profile."""
        return {"name": self.name, "site_id": self.site_id, "profile": self.profile}


def store_of(args: argparse.Namespace, site_id: str, name: str | None) -> Store:
    """Return the store of this command, named ``name``, and remember it for the rest of the command."""
    store = Store(name=name, site_id=site_id, profile=getattr(args, "store", None))
    args.store_in_use = store
    return store


def _known(args: argparse.Namespace, site_id: str) -> Store | None:
    known: Store | None = getattr(args, "store_in_use", None)
    return known if known is not None and known.site_id == site_id else None


def read_store(args: argparse.Namespace, client: WixClient) -> Store:
    """Return the store ``client`` acts on, reading its business name once per command (never raises)."""
    site_id = client.credentials.site_id
    known = _known(args, site_id)
    if known is not None:
        return known
    try:
        name = _more_calls.business_name_of(client.send(_more_calls.get_site_properties()))
    except WixRefundError:
        name = None
    return store_of(args, site_id, name)


async def read_store_async(args: argparse.Namespace, client: AsyncWixClient) -> Store:
    """Return the store ``client`` acts on (the async twin of ``read_store``)."""
    site_id = client.credentials.site_id
    known = _known(args, site_id)
    if known is not None:
        return known
    try:
        name = _more_calls.business_name_of(await client.send(_more_calls.get_site_properties()))
    except WixRefundError:
        name = None
    return store_of(args, site_id, name)
