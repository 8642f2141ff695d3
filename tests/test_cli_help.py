"""The command's help, its shell completion and its rate-limit rule (issue 24)."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from wix_refunds.cli._batch_file import COLUMNS
from wix_refunds.testing import FakeWix

from .command import cli, env_for

COMMANDS = ("verify", "plan", "refund", "batch", "status", "reconcile", "demo", "completion")


def _help(fake: FakeWix, command: str) -> str:
    result = cli(fake, None, command, "--help")
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize("command", COMMANDS)
def test_each_commands_help_starts_with_what_it_does_and_whether_it_writes(fake: FakeWix, command: str) -> None:
    text = _help(fake, command)
    description = text.split("\n\n")[1]
    assert "Wix" in description
    assert any(says in description for says in ("write to Wix", "no write", "Sends nothing")), description


@pytest.mark.parametrize("command", COMMANDS)
def test_each_commands_own_options_come_before_the_global_ones(fake: FakeWix, command: str) -> None:
    text = _help(fake, command)
    own, _, globals_ = text.partition("global options (before or after the command):")
    assert "--rate-limit" in globals_
    assert "--json" in globals_
    assert "--rate-limit" not in own.split("options:", 1)[-1]
    if command == "batch":
        assert own.index("--concurrency") < text.index("--json")


def test_batch_help_lists_every_column_it_reads(fake: FakeWix) -> None:
    text = _help(fake, "batch")
    columns = text.split("columns", 1)[1]
    for column in {*COLUMNS, "order_number"}:
        assert f"\n  {column} " in columns, column


@pytest.mark.parametrize("limit", ["201", "1000"])
def test_a_rate_limit_above_wixs_is_refused_with_exit_2_naming_the_limit_and_force(fake: FakeWix, limit: str) -> None:
    result = cli(fake, "http://127.0.0.1:9", "--rate-limit", limit, "verify")
    assert result.returncode == 2
    assert f"--rate-limit {limit} is above Wix's published limit of 200 requests a minute" in result.stderr
    assert "--force" in result.stderr


def test_a_rate_limit_above_wixs_is_taken_with_force(fake: FakeWix, served: str) -> None:
    result = cli(fake, served, "verify", "--rate-limit", "1000", "--force")
    assert result.returncode == 0, result.stderr


def _completion(fake: FakeWix, shell: str) -> str:
    result = cli(fake, None, "completion", shell)
    assert result.returncode == 0, result.stderr
    return result.stdout


def _complete_in_bash(script: str, line: str) -> list[str]:
    """Return what bash completes for ``line`` (the words typed so far, the last one being completed)."""
    words = line.split(" ")
    program = (
        f"{script}\nCOMP_WORDS=({' '.join(repr(w) for w in words)}); COMP_CWORD={len(words) - 1}; "
        '_wix_refunds; printf "%s\\n" "${COMPREPLY[@]}"'
    )
    done = subprocess.run(["bash", "-c", program], capture_output=True, text=True, timeout=30, check=True)
    return done.stdout.split()


def test_bash_completion_is_registered_and_completes_commands_and_each_commands_options(fake: FakeWix) -> None:
    script = _completion(fake, "bash")
    registered = subprocess.run(
        ["bash", "-c", f"{script}\ncomplete -p wix-refunds"], capture_output=True, text=True, timeout=30, check=True
    )
    assert "-F _wix_refunds wix-refunds" in registered.stdout
    assert _complete_in_bash(script, "wix-refunds ba") == ["batch"]
    assert {"--concurrency", "--report", "--dry-run", "--json"} <= set(
        _complete_in_bash(script, "wix-refunds batch --")
    )
    assert "--concurrency" not in _complete_in_bash(script, "wix-refunds refund --")
    assert set(_complete_in_bash(script, "wix-refunds completion ")) == {"bash", "zsh"}


def test_bash_completion_loads_from_the_command_as_people_install_it(fake: FakeWix) -> None:
    program = (
        f'wix-refunds() {{ {sys.executable} -m wix_refunds "$@"; }}\n'
        "source <(wix-refunds completion bash); complete -p wix-refunds"
    )
    done = subprocess.run(["bash", "-c", program], capture_output=True, text=True, env=env_for(fake), timeout=60)
    assert done.returncode == 0, done.stderr
    assert "_wix_refunds" in done.stdout


@pytest.mark.parametrize(
    ("words", "expected"),
    [(["ba"], {"batch"}), (["batch", "--fu"], {"--full"}), (["refund", "--dry"], {"--dry-run"})],
)
def test_bash_completion_offers_the_commands_and_each_commands_options(
    fake: FakeWix, words: list[str], expected: set[str]
) -> None:
    line = " ".join(["wix-refunds", *words])
    program = (
        f'wix-refunds() {{ {sys.executable} -m wix_refunds "$@"; }}\n'
        "source <(wix-refunds completion bash)\n"
        f"COMP_WORDS=({line}); COMP_CWORD={len(words)}; COMP_LINE='{line}'; COMP_POINT={len(line)}\n"
        '_wix_refunds; printf "%s\\n" "${COMPREPLY[@]}"'
    )
    done = subprocess.run(["bash", "-c", program], capture_output=True, text=True, env=env_for(fake), timeout=60)
    assert done.returncode == 0, done.stderr
    assert set(done.stdout.split()) == expected


@pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh is not installed")
def test_zsh_completion_is_registered(fake: FakeWix) -> None:
    script = _completion(fake, "zsh")
    done = subprocess.run(
        ["zsh", "-c", f"autoload -U compinit && compinit -u\n{script}\nprint ${{_comps[wix-refunds]}}"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    assert "_bash_complete" in done.stdout or "_wix_refunds" in done.stdout
