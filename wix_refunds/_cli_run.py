"""One run of the wix-refunds command: its context, exit codes and the settings it reads.

Shared by ``cli`` (the parser, the one-order commands, ``main``) and ``_cli_batch``.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from typing import Any, TextIO

from ._batch_file import BatchFileError
from ._cli_output import Progress, Tally, order_record
from ._client import WixClient
from ._credentials import WixCredentials
from ._errors import InvalidCredentials, InvalidRequest, RefundNotSupported, WixAuthError, WixRefundError
from ._execute import OutcomeStatus, RefundOutcome
from ._locks import FileLocks, OrderLocks, default_lock_dir
from ._routing import RefundRequest
from ._stores import StoreConfigError, load_store

__all__ = [
    "EXIT_CREDENTIALS",
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_REFUSED",
    "EXIT_TERMINATED",
    "EXIT_USAGE",
    "LOCK_DSN_VARIABLE",
    "Context",
    "CredentialsMissing",
    "InFlight",
    "UsageError",
    "credentials",
    "exit_code_for",
    "order_locks",
    "request_of",
    "say",
]

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_CREDENTIALS, EXIT_REFUSED = 0, 1, 2, 3, 4
EXIT_INTERRUPTED, EXIT_TERMINATED = 130, 143
LOCK_DSN_VARIABLE = "WIX_REFUNDS_LOCK_DSN"


class UsageError(Exception):
    """A mistake in how the command was called."""


class CredentialsMissing(Exception):
    """Environment variables the command needs are not set (all of them are named)."""


def exit_code_for(exc: BaseException) -> int:
    """Return the documented exit code for an error."""
    if isinstance(exc, (InvalidCredentials, WixAuthError, CredentialsMissing)):
        return EXIT_CREDENTIALS
    if isinstance(exc, RefundNotSupported):
        return EXIT_REFUSED
    if isinstance(exc, (UsageError, InvalidRequest, BatchFileError, StoreConfigError)):
        return EXIT_USAGE
    return EXIT_FAILED


class InFlight:
    """The refunds this command has started and not seen end: what Ctrl-C must name."""

    def __init__(self) -> None:
        self.rows: dict[str, tuple[str, str | None, str | None]] = {}

    def start(self, key: str, order_id: str, reference: str | None, where: str | None = None) -> None:
        """Note a refund as started: its key, order, reference and, in a batch, ``FILE:LINE``."""
        self.rows[key] = (order_id, reference, where)

    def end(self, key: str) -> None:
        """Note a refund as ended (its outcome, or an error, is known)."""
        self.rows.pop(key, None)

    def lines(self) -> list[str]:
        """Return a line per refund that may still be in flight, saying how to finish it safely."""
        lines = []
        for order_id, ref, where in self.rows.values():
            if where is not None:
                lines.append(f"  {where} order {order_id}: may still be refunded on Wix (reference {ref})")
            else:
                rerun = f"; run again with --reference {ref} to finish it safely" if ref else "; run again to finish it"
                lines.append(f"  order {order_id}: may still be refunded on Wix{rerun}")
        return lines

    def records(self) -> list[dict[str, Any]]:
        """Return the refunds that may still be in flight as JSON-ready data."""
        return [{"order_id": o, "reference": r, "where": w} for o, r, w in self.rows.values()]


class Context:
    """One run of the command: its arguments, streams, tally and what is in flight."""

    def __init__(self, args: argparse.Namespace, out: TextIO, err: TextIO) -> None:
        self.args, self.out, self.err = args, out, err
        self.tally = Tally(args.command)
        self.in_flight = InFlight()
        self.progress: Progress | None = None
        self.stopped_by: str | None = None
        self.summary: dict[str, Any] = {}

    def emit(self, record: dict[str, Any]) -> None:
        """Print one JSON record (with --json)."""
        if self.args.json:
            if self.progress is not None:
                self.progress.clear()
            say(self.out, json.dumps(record))

    def note(self, text: str) -> None:
        """Tell the person running the command something on standard error (not with -q)."""
        if not self.args.quiet:
            if self.progress is not None:
                self.progress.clear()
            say(self.err, text)

    def client(self, credentials: WixCredentials) -> WixClient:
        """Return a synchronous client with the run's base URL and rate limit."""
        return WixClient(credentials, base_url=self.args.base_url, rate_limit=(self.args.rate_limit, 60.0))

    def confirm(self) -> bool:
        """Ask ``Go ahead? [y/N]`` on standard error; on no, say that nothing was done."""
        self.err.write("Go ahead? [y/N] ")
        self.err.flush()
        if sys.stdin.readline().strip().lower() in ("y", "yes"):
            return True
        say(self.err, "Nothing was done.")
        self.summary["declined"] = True
        return False

    def failed(
        self, order_id: str, request: RefundRequest | None, exc: WixRefundError, *, text: str | None = None
    ) -> int:
        """Report an order the library gave no outcome for; return its exit code (credentials errors raise)."""
        if isinstance(exc, (InvalidCredentials, WixAuthError)):
            raise exc
        outcome = RefundOutcome(
            order_id=order_id, status=OutcomeStatus.FAILED, reference=exc.reference, request=request, error=exc
        )
        self.tally.add(outcome)
        if self.args.json:
            self.emit(order_record(outcome))
        if text is not None and not self.args.json:
            say(self.out, text)
        else:
            say(self.err, f"wix-refunds: {exc}")
        return exit_code_for(exc)


def credentials(args: argparse.Namespace) -> WixCredentials:
    """Return the credentials from options, the store and the environment, naming every missing one at once."""
    if args.config and not args.store:
        raise UsageError("--config names the stores file; add --store NAME to pick a store from it")
    store = load_store(args.config, args.store) if args.store else None
    env = os.environ
    key_name = store.api_key_env if store else "WIX_API_KEY"
    account = args.account_id or (store.account_id if store else env.get("WIX_ACCOUNT_ID", ""))
    site = args.site_id or (store.site_id if store else env.get("WIX_SITE_ID", ""))
    key = env.get(key_name, "")
    missing = [name for name, value in (("WIX_ACCOUNT_ID", account), ("WIX_SITE_ID", site)) if not value.strip()]
    if not key.strip() and not missing and sys.stdin.isatty():
        key = getpass.getpass("Wix API key (input hidden): ")
    if not key.strip():
        missing.insert(0, key_name)
    if missing:
        names = ", ".join(missing[:-1]) + (" and " if len(missing) > 1 else "") + missing[-1]
        verb = "are" if len(missing) > 1 else "is"
        hint = "; --account-id and --site-id stand in for WIX_ACCOUNT_ID and WIX_SITE_ID" if not store else ""
        origin = f" (named by store {store.name!r} in {store.source})" if store and key_name in missing else ""
        raise CredentialsMissing(f"credentials missing: {names}{origin} {verb} not set{hint}")
    return WixCredentials(api_key=key, account_id=account, site_id=site)


def order_locks(args: argparse.Namespace) -> OrderLocks:
    """Return the order locks: PostgreSQL with --lock-dsn or $WIX_REFUNDS_LOCK_DSN, else files on this host."""
    dsn = args.lock_dsn or os.environ.get(LOCK_DSN_VARIABLE, "").strip()
    if dsn:
        from .postgres import PostgresLocks

        return PostgresLocks(dsn)
    return FileLocks(args.lock_dir or default_lock_dir())


def request_of(amount: str | None, reason: str | None, reference: str | None, **flags: Any) -> RefundRequest:
    """Return the request for options as typed (empty text is no value)."""
    # RefundRequest reads amount text itself (and refuses what is not a plain decimal).
    text = (amount or "").strip() or None
    return RefundRequest(amount=text, reason=reason or None, reference=reference or None, **flags)


def say(out: TextIO, text: str = "") -> None:
    """Write a line."""
    out.write(text + "\n")
