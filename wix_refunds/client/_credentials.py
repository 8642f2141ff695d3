"""WixCredentials: clean up pasted values, validate them, never show the key."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

import attrs

from ..core._errors import InvalidCredentials
from ..wix._json import is_guid

__all__ = ["WixCredentials"]

# Spaces people paste along with a value: ordinary, non-breaking, zero-width, BOM.
_INVISIBLE = " \t\r\n\u00a0\u2007\u202f\u200b\u200c\u200d\u2060\ufeff"
_QUOTES = "\"'`\u201c\u201d\u2018\u2019\u00ab\u00bb"
_DASHBOARD = re.compile(r"/dashboard/([0-9a-fA-F-]{36})(?:[/?#]|$)")
_KEY_CHARS = re.compile(r"[\x21-\x7e]+")


def clean_pasted(value: object, *, field: str) -> str:
    """Return ``value`` without the spaces, invisible characters and quotes pasted around it."""
    if not isinstance(value, str):
        raise InvalidCredentials(field, f"expected text, got {type(value).__name__}")
    previous = None
    while previous != value:
        previous = value
        value = value.strip(_INVISIBLE).strip(_QUOTES)
    if not value:
        raise InvalidCredentials(field, "is empty")
    return value


def _clean_key(value: object) -> str:
    key = clean_pasted(value, field="api_key")
    if not _KEY_CHARS.fullmatch(key):
        # Never echo the key: say only what kind of character is wrong.
        raise InvalidCredentials("api_key", "contains spaces, line breaks or non-ASCII characters; copy it again")
    if len(key) < 20:
        raise InvalidCredentials("api_key", f"is {len(key)} characters long, too short to be a Wix API key")
    return key


def _clean_account_id(value: object) -> str:
    account_id = clean_pasted(value, field="account_id")
    if not is_guid(account_id):
        raise InvalidCredentials(
            "account_id", f"{account_id[:80]!r} is not a GUID; copy the account ID shown in the API Keys Manager"
        )
    return account_id.lower()


def _clean_site_id(value: object) -> str:
    site_id = clean_pasted(value, field="site_id")
    if is_guid(site_id):
        return site_id.lower()
    match = _DASHBOARD.search(site_id)
    if match and is_guid(match.group(1)):
        return match.group(1).lower()
    raise InvalidCredentials(
        "site_id",
        f"{site_id[:120]!r} is neither a GUID nor a dashboard URL such as "
        "https://manage.wix.com/dashboard/<site-id>/home",
    )


@attrs.frozen(kw_only=True)
class WixCredentials:
    """The three values that connect a Wix store, cleaned up as pasted.

    ``site_id`` also takes a dashboard URL that holds it. The key appears in no
    ``repr`` or ``str``; it is only ever sent in the ``Authorization`` header.

    Raises:
        InvalidCredentials: a value is empty or malformed (the field is named,
            the key never repeated).
    """

    api_key: str = attrs.field(converter=_clean_key, repr=lambda _: "'***'")
    account_id: str = attrs.field(converter=_clean_account_id)
    site_id: str = attrs.field(converter=_clean_site_id)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> WixCredentials:
        """Return credentials from ``WIX_API_KEY``, ``WIX_ACCOUNT_ID`` and ``WIX_SITE_ID``.

        Raises:
            InvalidCredentials: a variable is missing or malformed.
        """
        env = os.environ if environ is None else environ
        values = {}
        for field, name in (("api_key", "WIX_API_KEY"), ("account_id", "WIX_ACCOUNT_ID"), ("site_id", "WIX_SITE_ID")):
            if not env.get(name, "").strip():
                raise InvalidCredentials(field, f"the environment variable {name} is not set")
            values[field] = env[name]
        return cls(**values)
