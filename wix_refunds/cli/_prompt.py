"""The command's yes/no question on a terminal: Ctrl-C stops the command at once, EOF is no.

A batch asks inside ``asyncio.run``, whose own SIGINT handler only cancels the running task
at its next await: a prompt blocked reading a line would go on waiting for Enter, and an
answer typed after Ctrl-C would be taken. While the question waits, Ctrl-C is Python's own
``KeyboardInterrupt`` again, so the command stops where it is, before anything is sent.
And the signal may be delivered to another thread (the journal's, the event loop's
executor): Python runs its handler only when the main thread runs Python code, so the
question waits for input in short ``select`` calls, never in one blocking read.
"""

from __future__ import annotations

import contextlib
import io
import select
import signal
import sys
import threading
from collections.abc import Iterator
from typing import TextIO

__all__ = ["ask_yes_no"]

# Ctrl-C and Ctrl-D as bytes in the answer: a terminal that does not turn them into a
# signal and an end of file (no controlling terminal, ``stty -isig``) passes them on.
_INTERRUPT, _END = "\x03", "\x04"


@contextlib.contextmanager
def _ctrl_c_raises() -> Iterator[None]:
    """Make SIGINT raise ``KeyboardInterrupt`` while the block runs (in the main thread; not if ignored)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGINT)
    if previous in (signal.SIG_IGN, signal.default_int_handler):
        yield
        return
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _wait_for_input() -> None:
    """Return once standard input has something to read, looking every 0.1 s (so signals are handled)."""
    try:
        fd = sys.stdin.fileno()
    except (AttributeError, ValueError, io.UnsupportedOperation):
        return  # not a file (a test's text): reading does not block
    while not select.select([fd], [], [], 0.1)[0]:
        pass


def ask_yes_no(err: TextIO, question: str) -> bool:
    """Return whether the answer to ``question [y/N]`` on standard input is yes.

    Anything but ``y`` or ``yes`` is no, and so is an end of input (Ctrl-D).

    Raises:
        KeyboardInterrupt: Ctrl-C was typed at the question.
    """
    # Ctrl-C raises from before the question shows: one typed as it appears is not lost.
    with _ctrl_c_raises():
        err.write(f"{question} [y/N] ")
        err.flush()
        _wait_for_input()
        answer = sys.stdin.readline()
    if _INTERRUPT in answer:
        raise KeyboardInterrupt
    if not answer or _END in answer:
        # Nothing ends the question's line on the screen: end it here.
        err.write("\n")
        return False
    return answer.strip().lower() in ("y", "yes")
