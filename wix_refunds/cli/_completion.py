"""``wix-refunds completion bash|zsh``: a shell completion script made from the command's own parser.

The script completes the commands, each command's options (its own and the global ones)
and the choices of an option that has them; anything else (a file, an order ID) falls back
to the shell's file names. zsh runs the same script through its ``bashcompinit``.
"""

from __future__ import annotations

import argparse
import shlex
from typing import TextIO

__all__ = ["COMPLETION_EXAMPLE", "SHELLS", "completion_script", "print_completion"]

SHELLS = ("bash", "zsh")
COMPLETION_EXAMPLE = (
    "source <(wix-refunds completion bash)    # in ~/.bashrc; zsh: source <(wix-refunds completion zsh) in ~/.zshrc"
)

_BASH = """\
# wix-refunds completion for {shell} (made by `wix-refunds completion {shell}`)
_wix_refunds() {{
    local cur prev command i
    cur="${{COMP_WORDS[COMP_CWORD]}}"
    prev="${{COMP_WORDS[COMP_CWORD-1]}}"
    command=""
    for ((i = 1; i < COMP_CWORD; i++)); do
        case "${{COMP_WORDS[i]}}" in
            {names}) command="${{COMP_WORDS[i]}}"; break ;;
        esac
    done
    case "$prev" in
{choices}
    esac
    local words values=""
    case "$command" in
{commands}
        *) words={top} ;;
    esac
    if [[ -z "$command" || "$cur" == -* ]]; then
        COMPREPLY=($(compgen -W "$words" -- "$cur"))
    elif [[ -n "$values" ]]; then
        COMPREPLY=($(compgen -W "$values" -- "$cur"))
    fi
}}
complete -o default -F _wix_refunds wix-refunds
"""


def _options(parser: argparse.ArgumentParser) -> list[str]:
    """Return the option strings of a parser (its own and its groups'), in the order its help lists them."""
    return [option for action in parser._actions for option in action.option_strings]


def _commands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """Return the parser's commands by name."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _choices(parser: argparse.ArgumentParser) -> dict[str, list[str]]:
    """Return the options that take one of a few values, with those values, across every command."""
    found: dict[str, list[str]] = {}
    for each in (parser, *_commands(parser).values()):
        for action in each._actions:
            if action.option_strings and action.choices is not None and not isinstance(action.choices, dict):
                for option in action.option_strings:
                    found[option] = [str(choice) for choice in action.choices]
    return found


def _words(command: argparse.ArgumentParser) -> str:
    """Return the shell assignments of one command: its options (``words``) and its arguments' choices (``values``)."""
    values = [str(c) for a in command._actions if not a.option_strings and a.choices for c in a.choices]
    assign = f"words={shlex.quote(' '.join(_options(command)))}"
    return assign + (f"; values={shlex.quote(' '.join(values))}" if values else "")


def completion_script(parser: argparse.ArgumentParser, shell: str) -> str:
    """Return the completion script of ``parser`` for ``shell`` (``bash`` or ``zsh``)."""
    commands = _commands(parser)
    words = {name: _words(sub) for name, sub in commands.items()}
    script = _BASH.format(
        shell=shell,
        names="|".join(commands),
        choices="\n".join(
            f'        {option}) COMPREPLY=($(compgen -W {shlex.quote(" ".join(values))} -- "$cur")); return ;;'
            for option, values in _choices(parser).items()
        ),
        commands="\n".join(f"        {name}) {assign} ;;" for name, assign in words.items()),
        top=shlex.quote(" ".join([*commands, *_options(parser)])),
    )
    if shell == "zsh":
        script = "autoload -U +X bashcompinit && bashcompinit\n" + script
    return script


def print_completion(parser: argparse.ArgumentParser, shell: str, out: TextIO) -> int:
    """Print the completion script for ``shell``; return 0."""
    out.write(completion_script(parser, shell))
    return 0
