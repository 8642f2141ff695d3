"""README.md: its tour's test snippet runs as printed, and it stays a one-screen front page."""

from __future__ import annotations

import pathlib
import re

README = pathlib.Path(__file__).parent.parent / "README.md"


def _blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), re.S)


def test_the_readme_tours_test_snippet_runs_against_the_bundled_fake() -> None:
    snippet = next(block for block in _blocks() if "FakeWix()" in block)
    exec(compile(snippet, "README.md", "exec"), {})


def test_the_readme_is_under_250_lines_and_links_each_readers_document() -> None:
    text = README.read_text()
    assert len(text.splitlines()) < 250
    for name in ("cli.md", "library.md", "testing.md", "contributing.md"):
        assert f"(docs/{name}" in text
        assert (README.parent / "docs" / name).is_file()
