"""The command's global options, its rate-limit rule and the main help's epilog.

Every command takes the global options before or after its name; a command's help lists
them after its own, under "global options".
"""

from __future__ import annotations

import argparse

from ..client._client import DEFAULT_RATE_LIMIT
from ..journal._journal_sql import default_journal_path
from ..run._execute import DEFAULT_GROUP_SIZE
from ..wix._wire import DEFAULT_BASE_URL
from ._cli_run import JOURNAL_VARIABLE, LOCK_DSN_VARIABLE
from ._stores import default_config_path

__all__ = ["GLOBAL_OPTIONS_TITLE", "MAIN_EPILOG", "add_global_options", "check_rate_limit", "group_size", "rate_limit"]

#: Wix's published limit: 200 requests a minute per site (docs/wix-api.md, section 9).
WIX_RATE_LIMIT = DEFAULT_RATE_LIMIT[0]
GLOBAL_OPTIONS_TITLE = "global options (before or after the command)"

MAIN_EPILOG = f"""\
examples:
  wix-refunds verify
  wix-refunds plan ORDER_ID... [--amount 12.50]
  wix-refunds refund ORDER_ID --amount 12.50 --reason "late delivery" --reference ticket-881
  wix-refunds status ORDER_ID ticket-881                          # where that refund stands
  wix-refunds status --report orders.report.jsonl --wait         # where every row of a batch stands
  wix-refunds batch orders.csv --report orders.report.jsonl      # asks before it acts
  wix-refunds --json batch orders.csv --report orders.report.jsonl --yes > out.jsonl
  wix-refunds --store shop-eu batch orders.csv --dry-run
  wix-refunds reconcile --since 2024-06-01                       # the journal against Wix's books

environment variables:
  WIX_API_KEY           the API key (asked for, hidden, on a terminal); never an argument
  WIX_ACCOUNT_ID        the account ID (or --account-id)
  WIX_SITE_ID           the site ID or dashboard URL (or --site-id)
  {JOURNAL_VARIABLE}   the refund journal, shared by every run for the store (or --journal):
                        a SQLite file (one host) or a postgresql:// DSN (a fleet)
  {LOCK_DSN_VARIABLE}  a PostgreSQL journal, the older name (or --lock-dsn)
  XDG_STATE_HOME        the default journal is $XDG_STATE_HOME/wix-refunds/journals/SITE.sqlite3
  XDG_CONFIG_HOME       --store reads $XDG_CONFIG_HOME/wix-refunds/stores.toml (or --config);
                        each store names the variable that holds its own key

exit codes:
  0 success, or a confirmation answered no (nothing was done)
  1 some orders or rows failed or were refused, reconcile found a mismatch, or Wix could not
    be reached (run again: safe)
  2 usage error (arguments, a batch file, report or stores file, no --yes off a terminal)
  3 credentials missing, malformed or refused by Wix
  4 refund refused by the rules (plan, refund)
  130 interrupted by Ctrl-C, 143 stopped by SIGTERM (what may be in flight is named)
"""


def group_size(text: str) -> int:
    """Return ``--group-size`` as a number, refusing what is not 1 to the largest group."""
    value = int(text) if text.strip().isdigit() else 0
    if not 1 <= value <= DEFAULT_GROUP_SIZE:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number from 1 to {DEFAULT_GROUP_SIZE}")
    return value


def rate_limit(text: str) -> int:
    """Return ``--rate-limit`` as a number of requests a minute (1 or more)."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of requests a minute (1 or more)")
    return value


def add_global_options(parser: argparse.ArgumentParser | argparse._ArgumentGroup, *, suppress: bool) -> None:
    """Add the options every command takes, before or after its name (``suppress``: on a command's parser)."""

    # On the main parser with defaults; on each command with none (SUPPRESS), so that an
    # option given before the command is not reset by the command's own parser.
    def default(value: object) -> object:
        return argparse.SUPPRESS if suppress else value

    add = parser.add_argument
    add("--json", action="store_true", default=default(False), help="print JSON lines on standard output")
    add("-q", "--quiet", action="store_true", default=default(False), help="no progress line or notices")
    add("-v", "--verbose", action="count", default=default(0), help="log to standard error (-vv: debug)")
    add("--base-url", default=default(DEFAULT_BASE_URL), help="Wix API base URL (a fake or a proxy)")
    add("--site-id", default=default(None), help="site ID or dashboard URL (default: $WIX_SITE_ID)")
    add("--account-id", default=default(None), help="account ID (default: $WIX_ACCOUNT_ID)")
    add("--store", metavar="NAME", default=default(None), help="take the IDs and key variable of a configured store")
    add("--config", metavar="FILE", default=default(None), help=f"the stores file (default: {default_config_path()})")
    add(
        "--rate-limit",
        metavar="N",
        type=rate_limit,
        default=default(WIX_RATE_LIMIT),
        help=f"requests a minute to Wix, shared through the store's journal by every run for the store "
        f"(default: {WIX_RATE_LIMIT}, Wix's limit; above it only with --force)",
    )
    add(
        "--force",
        action="store_true",
        default=default(False),
        help=f"allow a --rate-limit above Wix's published {WIX_RATE_LIMIT} requests a minute",
    )
    add(
        "--journal",
        metavar="PATH|DSN",
        default=default(None),
        help=f"the refund journal: a SQLite file, or a postgresql:// DSN for a fleet (${JOURNAL_VARIABLE})",
    )
    add(
        "--lock-dir",
        default=default(None),
        help=f"the folder of the per-store journal files (default: {default_journal_path('SITE').parent})",
    )
    add("--lock-dsn", default=default(None), help=f"a PostgreSQL journal, the older name (${LOCK_DSN_VARIABLE})")


def check_rate_limit(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Refuse (exit 2) a ``--rate-limit`` above Wix's published limit unless ``--force`` is given."""
    if args.rate_limit > WIX_RATE_LIMIT and not args.force:
        parser.error(
            f"--rate-limit {args.rate_limit} is above Wix's published limit of {WIX_RATE_LIMIT} requests a minute "
            "per site: Wix may refuse the calls above it (429). Add --force to use it anyway."
        )
