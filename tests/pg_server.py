"""A throwaway PostgreSQL server for the tests, from the distribution's binaries, in a temporary folder.

``running()`` finds ``initdb`` and ``pg_ctl`` (``$PG_BIN``, else the newest
``/usr/lib/postgresql/<version>/bin`` as Debian installs them), makes a cluster
with ``trust`` authentication in a new folder under the system's temporary
folder, starts it on a free port of 127.0.0.1 (and a Unix socket in that
folder), and on leaving stops it (``pg_ctl stop -m immediate``) and removes the
folder. PostgreSQL refuses to run as root, so as root it runs the binaries as
the ``postgres`` user, who owns the folder.

``ServerUnavailable`` means the binaries (or that user) are missing: the
fixture skips on a developer's machine but fails in CI, where ``.ci/run``
installs them.
"""

from __future__ import annotations

import contextlib
import os
import pathlib
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator

import attrs


class ServerUnavailable(Exception):
    """This machine lacks what the test server needs (binaries, or a user to run them as)."""


def in_ci() -> bool:
    """Return True when running in CI (``CI=true``), where a missing server is a failure."""
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


@attrs.frozen(kw_only=True)
class PgServer:
    """A running test server: superuser ``postgres``, trust authentication, database ``postgres``."""

    port: int
    socket_dir: pathlib.Path
    log_file: pathlib.Path

    def dsn(self, password: str | None = None) -> str:
        """Return a URL DSN for TCP on 127.0.0.1 (a password is accepted and ignored: trust)."""
        secret = f":{password}" if password else ""
        return f"postgresql://postgres{secret}@127.0.0.1:{self.port}/postgres"

    def restart(self) -> None:
        """Restart the server (``pg_ctl restart -m fast``): every session ends; same port and data.

        Raises:
            RuntimeError: the server did not come back (its log is in the message).
        """
        pg_ctl = [*_as_user()[0], str(_bin_dir() / "pg_ctl"), "-D", str(self.socket_dir / "data")]
        done = subprocess.run(
            [*pg_ctl, "-m", "fast", "-l", str(self.log_file), "-w", "-t", "60", "restart"],
            cwd=self.socket_dir,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if done.returncode:
            raise RuntimeError(f"pg_ctl restart failed:\n{done.stdout}\n{done.stderr}\n{self.log_file.read_text()}")


def _bin_dir() -> pathlib.Path:
    if os.environ.get("PG_BIN"):
        found = [pathlib.Path(os.environ["PG_BIN"])]
    else:
        found = [path.parent for path in pathlib.Path("/usr/lib/postgresql").glob("*/bin/initdb")]
    found = [path for path in found if (path / "initdb").is_file() and (path / "pg_ctl").is_file()]
    if not found:
        raise ServerUnavailable("no initdb and pg_ctl under /usr/lib/postgresql/*/bin (apt-get install postgresql)")

    def version(path: pathlib.Path) -> tuple[int, ...]:
        return tuple(int(part) for part in path.parent.name.split(".") if part.isdigit())

    return max(found, key=version)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _as_user() -> tuple[list[str], pwd.struct_passwd | None]:
    """Return the command prefix that runs the binaries as the ``postgres`` user when root, and that user."""
    if os.geteuid() != 0:
        return [], None
    try:
        owner = pwd.getpwnam("postgres")
    except KeyError:
        raise ServerUnavailable("running as root, and there is no postgres user to run the server") from None
    runuser = shutil.which("runuser")
    if runuser is None:
        raise ServerUnavailable("running as root, and there is no runuser to become the postgres user")
    return [runuser, "-u", "postgres", "--"], owner


@contextlib.contextmanager
def running(*, fsync: bool = False) -> Iterator[PgServer]:
    """Start a server for the duration of the block; yield how to reach it.

    ``fsync=False`` (the tests' default) skips flushing to disk; a benchmark passes True.

    Raises:
        ServerUnavailable: the binaries, or the ``postgres`` user when root, are missing.
        RuntimeError: the server would not start (its log is in the message).
    """
    bin_dir = _bin_dir()
    as_user, owner = _as_user()
    # Not pytest's tmp_path: its parent is private to the user running the tests.
    root = pathlib.Path(tempfile.mkdtemp(prefix="wix-refunds-pg-"))
    try:
        if owner is not None:
            os.chown(root, owner.pw_uid, owner.pw_gid)
        data, log_file = root / "data", root / "server.log"

        def run(*args: str | pathlib.Path) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [*as_user, *map(str, args)],
                cwd=root,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )

        made = run(bin_dir / "initdb", "-D", data, "--auth=trust", "-U", "postgres", "-E", "UTF8", "--locale=C", "-N")
        if made.returncode:
            raise RuntimeError(f"initdb failed:\n{made.stdout}\n{made.stderr}")
        for _ in range(3):  # another process may take the free port first
            port = _free_port()
            options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync={'on' if fsync else 'off'}"
            # -l: the server's output goes to the log file; on a pipe, the capture would never end.
            started = run(bin_dir / "pg_ctl", "-D", data, "-l", log_file, "-o", options, "-w", "-t", "60", "start")
            if started.returncode == 0:
                break
        else:
            log = log_file.read_text() if log_file.exists() else ""
            raise RuntimeError(f"pg_ctl start failed:\n{started.stdout}\n{started.stderr}\n{log}")
        try:
            yield PgServer(port=port, socket_dir=root, log_file=log_file)
        finally:
            run(bin_dir / "pg_ctl", "-D", data, "-m", "immediate", "-w", "stop")
    finally:
        shutil.rmtree(root, ignore_errors=True)
