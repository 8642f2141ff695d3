"""Run the wix-refunds command as a subprocess against a FakeWix served on loopback."""

from __future__ import annotations

import contextlib
import io
import json
import os
import pty
import select
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from wix_refunds.cli import main
from wix_refunds.testing import FakeWix

CANARY = "IST.CANARY-cli-key-must-never-be-printed-42"
OLD = "2024-03-01T10:00:00.000Z"
HEADER = "order_id,amount,reason,reference"

_STATE_HOME = tempfile.mkdtemp(prefix="wix-refunds-state-")


def env_for(fake: FakeWix, **changes: str | None) -> dict[str, str]:
    """Return an environment with the fake's credentials, changed by ``changes`` (None removes)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WIX_")}
    env.update({"WIX_API_KEY": fake.api_key, "WIX_ACCOUNT_ID": fake.account_id, "WIX_SITE_ID": fake.site_id})
    # Lock files go to a folder of the test run's own, not the user's state folder.
    env["XDG_STATE_HOME"] = _STATE_HOME
    for key, value in changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def cli(
    fake: FakeWix, base_url: str | None, *args: str, stdin: str = "", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the command to its end; the key never appears in what it prints.

    It runs in this process (``main()`` with this environment and standard input), which
    tests the same code as ``python -m wix_refunds`` without a new interpreter each time;
    ``-v`` runs in a process of its own, since it sets up the logging of the process.
    """
    arguments = [*args, *(["--base-url", base_url] if base_url is not None else [])]
    if any(a in ("-v", "-vv", "--verbose") for a in arguments):
        return cli_process(arguments, stdin=stdin, env=env or env_for(fake))
    out, err = io.StringIO(), io.StringIO()
    # The process's own streams too: argparse prints a usage error or the help there and exits.
    # On a pipe, as in a process of its own, argparse wraps its help at 80 columns.
    environment = {"COLUMNS": "80", **(env or env_for(fake))}
    with _environment(environment), _stdin(stdin), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(arguments, out=out, err=err)
        except SystemExit as exc:
            code = _exit_status(exc)
    result = subprocess.CompletedProcess(["wix-refunds", *arguments], code, out.getvalue(), err.getvalue())
    assert CANARY not in result.stdout
    assert CANARY not in result.stderr
    return result


def cli_process(arguments: list[str], *, stdin: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run the command as a process of its own, to its end."""
    command = [sys.executable, "-m", "wix_refunds", *arguments]
    result = subprocess.run(command, input=stdin, capture_output=True, text=True, env=env, timeout=60, check=False)
    assert CANARY not in result.stdout
    assert CANARY not in result.stderr
    return result


def _exit_status(exc: SystemExit) -> int:
    """Return the exit status a process ending with ``exc`` has, as Python sets it."""
    if exc.code is None:
        return 0
    if isinstance(exc.code, int):
        return exc.code
    print(exc.code, file=sys.stderr)
    return 1


@contextlib.contextmanager
def _environment(env: dict[str, str]) -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@contextlib.contextmanager
def _stdin(text: str) -> Iterator[None]:
    saved = sys.stdin
    sys.stdin = io.StringIO(text)
    try:
        yield
    finally:
        sys.stdin = saved


def start(fake: FakeWix, served: str, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """Start the command without waiting for it."""
    command = [sys.executable, "-m", "wix_refunds", *args, "--base-url", served]
    return subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env or env_for(fake),
        preexec_fn=_interrupt_as_a_terminal_would,
    )


def _interrupt_as_a_terminal_would() -> None:
    # A shell starts a background job (`pytest &`) ignoring SIGINT, and a child inherits that:
    # Python then never turns Ctrl-C into KeyboardInterrupt. The command gets the default.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def records(stdout: str) -> list[dict[str, Any]]:
    """Return the JSON lines of a --json run, each an object."""
    return [json.loads(line) for line in stdout.splitlines()]


def write_csv(path: Path, rows: list[str], header: str = HEADER) -> Path:
    """Write a batch file: the header, then one line per row."""
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


def run_on_terminal(fake: FakeWix, args: list[str], answer: str | None) -> tuple[int, str]:
    """Run the command with standard input and error on a terminal; answer its prompt (None: expect none).

    Returns the exit code and everything the terminal and standard output showed.
    """
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "wix_refunds", *args],
        stdin=follower,
        stdout=subprocess.PIPE,
        stderr=follower,
        env=env_for(fake),
    )
    os.close(follower)
    screen = b""
    deadline = time.monotonic() + 30
    if answer is not None:
        while b"[y/N]" not in screen and time.monotonic() < deadline:
            ready, _, _ = select.select([leader], [], [], 0.5)
            if ready:
                screen += os.read(leader, 4096)
        os.write(leader, answer.encode() + b"\n")
    while process.poll() is None and time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 0.2)
        if ready:
            try:
                screen += os.read(leader, 4096)
            except OSError:  # the terminal closed with the process
                break
    stdout, _ = process.communicate(timeout=30)
    try:
        while select.select([leader], [], [], 0.1)[0]:
            screen += os.read(leader, 4096)
    except OSError:
        pass
    os.close(leader)
    text = screen.decode() + stdout.decode()
    assert CANARY not in text
    return process.returncode, text
