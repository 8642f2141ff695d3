"""The refund journal: what this system intended and did, and the order locks.

``MemoryJournal`` covers one process, ``SqliteJournal`` the processes of one host. The
PostgreSQL journal of a fleet is ``wix_refunds.journal.postgres.PostgresJournal``, a module
of its own so that importing this package never imports psycopg.
"""

from ._journal import EntryState, Journal, JournalEntry, MemoryJournal
from ._journal_sql import SqliteJournal, default_journal_path
from ._locks import FileLocks, HeldLock, InProcessLocks, OrderLocks, default_lock_dir, lock_key

__all__ = [
    "EntryState",
    "FileLocks",
    "HeldLock",
    "InProcessLocks",
    "Journal",
    "JournalEntry",
    "MemoryJournal",
    "OrderLocks",
    "SqliteJournal",
    "default_journal_path",
    "default_lock_dir",
    "lock_key",
]
