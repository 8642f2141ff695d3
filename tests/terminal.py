"""Run the command on a real pseudo-terminal that is its controlling terminal, and type at it."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time

from wix_refunds.testing import FakeWix

from .command import CANARY, env_for

# The child becomes a session leader and takes the terminal as its controlling one, so the
# terminal turns Ctrl-C into SIGINT and Ctrl-D into an end of input, as a person's does.
_LEADER = (
    "import fcntl, os, sys, termios\n"
    "os.setsid()\n"
    "fcntl.ioctl(0, termios.TIOCSCTTY, 0)\n"
    "os.execv(sys.executable, [sys.executable, '-m', 'wix_refunds', *sys.argv[1:]])\n"
)


class Terminal:
    """The command running on a terminal: what the screen showed, and keys to type."""

    def __init__(self, fake: FakeWix, args: list[str], env: dict[str, str] | None = None) -> None:
        self.leader, follower = pty.openpty()
        self.process = subprocess.Popen(
            [sys.executable, "-c", _LEADER, *args],
            stdin=follower,
            stdout=subprocess.PIPE,
            stderr=follower,
            env=env or env_for(fake),
        )
        os.close(follower)
        self.screen = b""

    def _read(self, timeout: float) -> bool:
        try:
            if select.select([self.leader], [], [], timeout)[0]:
                self.screen += os.read(self.leader, 4096)
                return True
        except OSError:  # the terminal closed with the process
            pass
        return False

    def wait_for(self, text: str, timeout: float = 30.0) -> None:
        """Read the screen until it shows ``text``."""
        deadline = time.monotonic() + timeout
        while text.encode() not in self.screen:
            assert time.monotonic() < deadline, f"{text!r} never showed: {self.screen.decode()!r}"
            self._read(0.2)

    def type(self, keys: str) -> None:
        """Type ``keys`` (``\\x03`` is Ctrl-C, ``\\x04`` Ctrl-D)."""
        os.write(self.leader, keys.encode())

    def exit_code(self, timeout: float = 5.0) -> int | None:
        """Return the exit code once the command ended within ``timeout`` seconds (None: it still runs)."""
        deadline = time.monotonic() + timeout
        while self.process.poll() is None and time.monotonic() < deadline:
            self._read(0.05)
        return self.process.poll()

    def finish(self) -> tuple[int, str]:
        """Wait for the end (killing a command still running); return its exit code and all it showed."""
        if self.exit_code(30.0) is None:
            self.process.kill()
        stdout, _ = self.process.communicate(timeout=30)
        while self._read(0.1):
            pass
        os.close(self.leader)
        text = self.screen.decode() + stdout.decode()
        assert CANARY not in text
        return self.process.returncode, text
