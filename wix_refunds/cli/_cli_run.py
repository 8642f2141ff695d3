"""One run of the wix-refunds command: its context, exit codes and the settings it reads.

Shared by ``cli`` (the parser, the one-order commands, ``main``) and ``_cli_batch``.
"""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import os
import sys
import time
from typing import Any, TextIO

from ..client._client import WixClient
from ..client._credentials import WixCredentials
from ..client._retry import RequestLimiter
from ..core._errors import InvalidCredentials, InvalidRequest, RefundNotSupported, WixAuthError, WixRefundError
from ..core._request import RefundRequest
from ..journal._journal import Journal, holder_here
from ..journal._journal_sql import SqliteJournal, default_journal_path
from ..journal._shared_limit import key_fingerprint, shared_limit
from ..run._execute import OutcomeStatus, RefundOutcome
from ._batch_file import BatchFileError
from ._cli_output import Progress, Tally, order_record
from ._prompt import ask_yes_no
from ._stores import StoreConfigError, load_store

__all__ = [
    "EXIT_CREDENTIALS",
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_REFUSED",
    "EXIT_TERMINATED",
    "EXIT_USAGE",
    "JOURNAL_VARIABLE",
    "LOCK_DSN_VARIABLE",
    "Context",
    "CredentialsMissing",
    "InFlight",
    "UsageError",
    "credentials",
    "exit_code_for",
    "JournalNotices",
    "interrupted",
    "close_journal",
    "refund_journal",
    "request_of",
    "say",
]

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_CREDENTIALS, EXIT_REFUSED = 0, 1, 2, 3, 4
EXIT_INTERRUPTED, EXIT_TERMINATED = 130, 143
LOCK_DSN_VARIABLE = "WIX_REFUNDS_LOCK_DSN"
JOURNAL_VARIABLE = "WIX_REFUNDS_JOURNAL"


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


# How far the wall clock may have stepped back during a command: a write recorded by this
# process up to this long before the command began still counts (naming too many is safe).
_CLOCK_SLACK = 300.0


class InFlight:
    """The refunds this command has started and not seen end: what Ctrl-C must name.

    A row is noted when the run takes it up; what may still land on Wix is only the rows
    whose write had started, which the journal knows: ``keep_written`` keeps those.
    """

    def __init__(self) -> None:
        self.rows: dict[str, tuple[str, str | None, str | None]] = {}
        # Entries this process records from now on are this command's (wall clock, as sent_at).
        self.since = time.time()

    def start(self, key: str, order_id: str, reference: str | None, where: str | None = None) -> None:
        """Note a refund as started: its key, order, reference and, in a batch, ``FILE:LINE``."""
        self.rows[key] = (order_id, reference, where)

    def end(self, key: str) -> None:
        """Note a refund as ended (its outcome, or an error, is known)."""
        self.rows.pop(key, None)

    def keep_written(self, journal: Journal, site_id: str) -> bool:
        """Keep only the refunds whose write this command started; return False when that cannot be known.

        A write starts with its intent, recorded in the journal before the request leaves:
        a refund with no entry of this process since the command began sent nothing. When
        the journal cannot be read, every refund noted is kept, as one that may be in flight.
        """
        # The command is stopping whatever went wrong: naming too many is the safe side.
        try:
            entries = journal.store_entries(site_id, since=self.since - _CLOCK_SLACK)
        except Exception:
            return False
        here = holder_here()
        written = {(e.order_id.lower(), e.reference) for e in entries if e.holder == here}
        self.rows = {
            key: (order_id, reference, where)
            for key, (order_id, reference, where) in self.rows.items()
            if (order_id.lower(), reference) in written
        }
        return True

    def lines(self) -> list[str]:
        """Return a line per refund that may still be in flight, saying how to finish it safely."""
        lines = []
        for order_id, ref, where in self.rows.values():
            if where is not None:
                lines.append(f"  {where} order {order_id}: a write may be in flight (reference {ref})")
            else:
                rerun = f"; run again with --reference {ref} to finish it" if ref else "; run again to finish it"
                lines.append(f"  order {order_id}: a write may be in flight (reference {ref}){rerun}")
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
        #: True when the command was stopped at its confirmation question (nothing was sent).
        self.at_prompt = False
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
        """Return a synchronous client with the run's base URL and the store's shared rate limit."""
        return WixClient(credentials, base_url=self.args.base_url, rate_limit=self.rate_limit(credentials))

    def rate_limit(self, credentials: WixCredentials) -> RequestLimiter:
        """Return the store's rate limit (``--rate-limit`` a minute), kept in its journal for every run to share."""
        journal = refund_journal(self.args, credentials.site_id)
        fingerprint = key_fingerprint(credentials.api_key)
        return shared_limit(journal, credentials.site_id, fingerprint, (self.args.rate_limit, 60.0))

    def confirm(self) -> bool:
        """Ask ``Go ahead? [y/N]`` on standard error; on no (or Ctrl-D), say that nothing was done.

        Raises:
            KeyboardInterrupt: Ctrl-C (or SIGTERM) at the question; nothing was sent.
        """
        try:
            yes = ask_yes_no(self.err, "Go ahead?")
        except KeyboardInterrupt:
            self.at_prompt = True
            raise
        if yes:
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


def _journal_named(where: str) -> Journal:
    """Return the journal at ``where``: PostgreSQL for a ``postgresql://`` DSN, else a SQLite file."""
    if where.startswith(("postgresql://", "postgres://")) or "dbname=" in where:
        from ..journal.postgres import PostgresJournal

        return PostgresJournal(where)
    return SqliteJournal(os.path.expanduser(where))


def refund_journal(args: argparse.Namespace, site_id: str) -> Journal:
    """Return the store's refund journal, the one every run for the store must share (one per command).

    The command opens it once (its rows, its order locks and its rate limit) and closes it
    as it ends (``close_journal``).

    ``--journal`` or ``$WIX_REFUNDS_JOURNAL`` (a file or a PostgreSQL DSN); ``--lock-dsn`` or
    ``$WIX_REFUNDS_LOCK_DSN`` (PostgreSQL, the older name); the store's ``journal`` in the
    stores file; else one SQLite file per store under the state folder (``--lock-dir``).

    Raises:
        UsageError: the stores file names another journal for the store than the one asked for.
    """
    opened: tuple[str, Journal] | None = getattr(args, "journal_in_use", None)
    if opened is not None and opened[0] == site_id:
        return opened[1]
    journal = _journal_of_store(args, site_id)
    args.journal_in_use = (site_id, journal)
    return journal


def close_journal(args: argparse.Namespace) -> None:
    """Close the journal the command opened, if any (its connections; a PostgreSQL pool)."""
    opened: tuple[str, Journal] | None = getattr(args, "journal_in_use", None)
    close = getattr(opened[1], "close", None) if opened is not None else None
    if close is not None:
        close()


def _journal_of_store(args: argparse.Namespace, site_id: str) -> Journal:
    env = os.environ
    asked = (
        args.journal or env.get(JOURNAL_VARIABLE, "").strip() or args.lock_dsn or env.get(LOCK_DSN_VARIABLE, "").strip()
    )
    store = load_store(args.config, args.store) if args.store else None
    if store is not None and store.journal is not None:
        kept = _journal_named(store.journal)
        if asked and _journal_named(asked).name != kept.name:
            raise UsageError(
                f"store {store.name!r} keeps its refunds in the journal {kept.name} ({store.source}), but this run "
                f"was told to use {_journal_named(asked).name}: two journals would not see each other's refunds in "
                "flight. Drop --journal/--lock-dsn (and their variables) or change the stores file."
            )
        return kept
    if asked:
        return _journal_named(asked)
    if args.lock_dir:
        return SqliteJournal(os.path.join(os.path.expanduser(args.lock_dir), f"{site_id.lower()}.sqlite3"))
    return SqliteJournal(default_journal_path(site_id))


def request_of(amount: str | None, reason: str | None, reference: str | None, **flags: Any) -> RefundRequest:
    """Return the request for options as typed (empty text is no value)."""
    # RefundRequest reads amount text itself (and refuses what is not a plain decimal).
    text = (amount or "").strip() or None
    return RefundRequest(amount=text, reason=reason or None, reference=reference or None, **flags)


def say(out: TextIO, text: str = "") -> None:
    """Write a line."""
    out.write(text + "\n")


def interrupted(ctx: Context) -> int:
    """Say what an interrupted run did, what may be in flight and how to go on; return 130 or 143."""
    signal_name = ctx.stopped_by or "SIGINT"
    if ctx.progress is not None:
        ctx.progress.finish()
    how = "stopped by SIGTERM" if signal_name == "SIGTERM" else "interrupted (Ctrl-C)"
    if ctx.at_prompt:
        # The question's line is still open on the screen (after the echoed ^C).
        say(ctx.err)
        say(ctx.err, f"wix-refunds: {how} at the confirmation: nothing was sent")
        ctx.summary.update(interrupted=signal_name, at_prompt=True, in_flight=[])
        return EXIT_TERMINATED if signal_name == "SIGTERM" else EXIT_INTERRUPTED
    opened: tuple[str, Journal] | None = getattr(ctx.args, "journal_in_use", None)
    if opened is not None and ctx.in_flight.rows and not ctx.in_flight.keep_written(opened[1], opened[0]):
        ctx.note("wix-refunds: the journal could not be read: every refund started is named below")
    in_flight = ctx.in_flight.lines()
    batch = ctx.args.command == "batch"
    # The journal recorded each write before it left: the next run waits for any that may
    # still land (its refund showing on Wix, or its settle window passing) before writing.
    wait = "waits for any write that may still land (the journal recorded it before it was sent)"
    if batch:
        skip = "skips the rows the report shows done" if ctx.args.report else "finds the rows done by their references"
        resume = f"to resume, run the same command again: it {wait}, {skip}, and never refunds a row twice"
    else:
        resume = f"running the same command again is safe: it {wait} and never refunds twice"
    if in_flight:
        say(ctx.err, f"wix-refunds: {how} while these refunds were in flight:")
        say(ctx.err, "\n".join(in_flight))
        say(ctx.err, resume)
    else:
        say(ctx.err, f"wix-refunds: {how} before any refund was in flight; {resume}")
    if not ctx.args.json and (ctx.tally.orders or ctx.tally.row_errors or ctx.tally.skipped):
        say(ctx.out, "partial summary (the run was stopped):")
        say(ctx.out, "\n".join(ctx.tally.lines(ctx.args.report) if batch else ctx.tally.totals_lines()))
    ctx.summary.update(interrupted=signal_name, in_flight=ctx.in_flight.records(), resume=resume)
    return EXIT_TERMINATED if signal_name == "SIGTERM" else EXIT_INTERRUPTED


class JournalNotices(logging.Handler):
    """Tells the person running the command when a run waits for a write that may still land."""

    def __init__(self, ctx: Context) -> None:
        super().__init__(logging.WARNING)
        self.ctx = ctx

    def emit(self, record: logging.LogRecord) -> None:
        if "may still land; waiting" in str(record.msg) and not self.ctx.args.verbose:
            self.ctx.note(f"wix-refunds: {record.getMessage()}")
