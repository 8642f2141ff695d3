"""The onboarding check: one call a permission, none of which writes, and what the answers mean.

``verify_calls`` says what to send (``_more_calls``: reads, and writes to an order that does
not exist); the clients send them, and ``verify_report`` turns the answers into one
``PermissionCheck`` a permission, with what to fix.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs

from ..core._errors import WixAPIError, WixAuthError, WixNotFound, WixRefundError
from ..wix import _more_calls
from ..wix._wire import WireCall
from ._credentials import WixCredentials

__all__ = ["Checked", "PermissionCheck", "VerifyReport", "verify_calls", "verify_report"]

#: What one check came to: its permission's name, the call, and its answer or its error.
Checked = tuple[str, WireCall[Any], Any, WixRefundError | None]


def _random_guid() -> str:
    """Return a fresh random version-4 GUID (no order has it)."""
    import uuid

    return str(uuid.uuid4())


@attrs.frozen(kw_only=True)
class PermissionCheck:
    """One line of the onboarding check: a permission, whether it passed, and what to fix."""

    name: str
    passed: bool
    detail: str
    fix: str | None = None
    #: False when Wix could not be asked (network, 5xx): the permission is unknown, not missing.
    reachable: bool = True
    #: Wix's ID of the permission checked (``ECOM.ORDER_BILLING_REFUND_PAYMENTS``...), when its types name one.
    permission_id: str | None = None

    def __str__(self) -> str:
        mark = "ok  " if self.passed else "FAIL"
        name = self.name if self.permission_id is None else f"{self.name} [{self.permission_id}]"
        line = f"[{mark}] {name}: {self.detail}"
        return line if self.fix is None else f"{line}\n       fix: {self.fix}"


@attrs.frozen(kw_only=True)
class VerifyReport:
    """The result of ``verify()``: one check per permission the library needs."""

    site_id: str
    checks: tuple[PermissionCheck, ...]
    #: The site's business name, read by the Business Info check (None: it could not be read).
    business_name: str | None = None

    @property
    def ok(self) -> bool:
        """Return whether every check passed."""
        return all(check.passed for check in self.checks)

    @property
    def reachable(self) -> bool:
        """Return whether Wix answered every check (False: try again later, nothing is known missing)."""
        return all(check.reachable for check in self.checks)

    def __str__(self) -> str:
        name = self.business_name or "store name unavailable"
        head = f"Wix site {self.site_id} ({name}): " + ("all permissions present" if self.ok else "some checks failed")
        return "\n".join([head, *(str(check) for check in self.checks)])


_FIX = "Edit the API key in Wix: Account Settings > API Keys, and tick the {permission} permission."
_FIX_ID = (
    "Edit the API key in Wix: Account Settings > API Keys, and tick the {permission} permission "
    "(Wix's permission ID {permission_id})."
)


def verify_calls(site_id: str) -> list[tuple[str, WireCall[Any]]]:
    """Return the calls of the onboarding check, each with the permission it checks (none writes)."""
    # The write checks write to an order that does not exist (fresh random GUIDs): they
    # cannot change anything; 404 means the key may make that write, 403 that it may not.
    return [
        ("Business Info", _more_calls.get_site_properties()),
        ("Sites", _more_calls.query_sites(site_id)),
        ("Wix Stores (read orders)", _more_calls.search_one_order()),
        *(
            (f"Wix Stores ({label})", _more_calls.probe_write(what, _random_guid(), _random_guid()))
            for what, label in (
                ("cancel", "cancel orders"),
                ("refund", "refund payments"),
                ("delete", "delete fulfilments"),
            )
        ),
        ("Wix Currencies", _more_calls.list_currencies()),
    ]


def verify_report(credentials: WixCredentials, results: Sequence[Checked]) -> VerifyReport:
    """Return the onboarding check's report from each call's answer or error."""
    if any(isinstance(error, WixAuthError) and error.status == 401 for *_, error in results):
        # A wrong key fails every check alike: one line, one fix, not a permission list.
        bad_key = PermissionCheck(
            name="API key",
            passed=False,
            detail="Wix refused the key itself (HTTP 401): it is revoked, mistyped or expired",
            fix="Create or copy the key again in Wix: Account Settings > API Keys, and set WIX_API_KEY.",
        )
        return VerifyReport(site_id=credentials.site_id, checks=(bad_key,))
    checks = tuple(_check(credentials, name, call, result, error) for name, call, result, error in results)
    return VerifyReport(site_id=credentials.site_id, checks=checks, business_name=_business_name(results))


def _business_name(results: Sequence[Checked]) -> str | None:
    """Return the business name in the Business Info check's answer, if it was read."""
    for _, call, result, error in results:
        if call.operation == "get_site_properties" and error is None:
            return _more_calls.business_name_of(result)
    return None


def _check(
    credentials: WixCredentials, name: str, call: WireCall[Any], result: Any, error: WixRefundError | None
) -> PermissionCheck:
    checked = _checked(credentials, name, call, result, error)
    return attrs.evolve(checked, permission_id=call.permission_id)


def _checked(
    credentials: WixCredentials, name: str, call: WireCall[Any], result: Any, error: WixRefundError | None
) -> PermissionCheck:
    pid = call.permission_id
    fix = _FIX.format(permission=name) if pid is None else _FIX_ID.format(permission=name, permission_id=pid)
    probe = call.operation.startswith("probe_")
    if probe and isinstance(error, WixNotFound):
        return PermissionCheck(name=name, passed=True, detail="a write to an order that does not exist: 404")
    if probe and error is None:
        return PermissionCheck(
            name=name, passed=False, detail="the write check was answered 2xx for an order that does not exist"
        )
    if error is None:
        if call.operation == "query_sites" and credentials.site_id not in (result or ()):
            return PermissionCheck(
                name=name,
                passed=False,
                detail=f"site {credentials.site_id} is not in account {credentials.account_id}",
                fix="Check the account ID (API Keys Manager) and the site ID (the GUID after /dashboard/ "
                "in the site's dashboard URL), and give the key access to this site.",
            )
        return PermissionCheck(name=name, passed=True, detail=f"{call.operation} answered")
    if isinstance(error, WixAPIError) and error.status in (401, 403):
        return PermissionCheck(name=name, passed=False, detail=f"Wix refused ({error.status})", fix=fix)
    return PermissionCheck(name=name, passed=False, detail=f"could not check: {error}", fix=None, reachable=False)
