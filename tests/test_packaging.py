"""How the package installs: what a user's own tools see after the README's install commands."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PROGRAM = """\
from wix_refunds import RefundRequest, new_reference

reference: str = new_reference()
request = RefundRequest(amount="12.50", reference=reference)
wrong: int = new_reference()
"""


def test_mypy_finds_the_installed_package_from_a_program_outside_the_repository(tmp_path: Path) -> None:
    # A user's program in a folder of its own, checked by the mypy of the environment the
    # package is installed in (editable in CI and in the README's set-up). The one wrong line
    # proves mypy read the package's types: a module it cannot find would be an import
    # error, and one it took as Any would pass.
    program = tmp_path / "uses_wix_refunds.py"
    program.write_text(PROGRAM)
    env = {k: v for k, v in os.environ.items() if k not in ("MYPYPATH", "PYTHONPATH")}
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--config-file=", f"--cache-dir={tmp_path / 'cache'}", program.name],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    output = result.stdout + result.stderr
    assert "import-not-found" not in output, (
        "mypy cannot see wix_refunds: an editable install made before setup.cfg's package_dir "
        f"uses an import hook; run pip install -e '.[test]' again.\n{output}"
    )
    assert f'{program.name}:5: error: Incompatible types in assignment (expression has type "str", ' in output, output
    assert "Found 1 error in 1 file" in output, output
