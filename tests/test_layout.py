"""The package's layout: layers as folders, each importing only those below it; no cycles; short modules."""

from __future__ import annotations

import ast
import pathlib

import pytest

PACKAGE = pathlib.Path(__file__).parent.parent / "wix_refunds"

# Each folder, lowest first, with the folders it may import. ``testing`` stands beside the
# tower: FakeWix speaks Wix's wire format and hands out credentials for users' tests.
LAYERS: dict[str, set[str]] = {
    "core": set(),
    "wix": {"core"},
    "client": {"core", "wix"},
    "journal": {"core", "wix", "client"},
    "run": {"core", "wix", "client", "journal"},
    "cli": {"core", "wix", "client", "journal", "run", "testing"},
    "testing": {"core", "wix", "client"},
}
# Modules every layer may import: the version string.
LEAVES = {"wix_refunds._version"}


def _name(path: pathlib.Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: pathlib.Path) -> set[str]:
    """Return the package modules ``path`` imports anywhere: at the top, inside functions, for type checking."""
    here = _name(path).split(".")
    package = here if path.stem == "__init__" else here[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.ImportFrom):
            continue
        if node.level == 0:
            base = (node.module or "").split(".")
            if base[0] != "wix_refunds":
                continue
        else:
            base = package[: len(package) - node.level + 1] + (node.module.split(".") if node.module else [])
        dotted = ".".join(base)
        if (PACKAGE.parent / (dotted.replace(".", "/") + ".py")).exists() or (
            PACKAGE.parent / dotted.replace(".", "/") / "__init__.py"
        ).exists():
            if node.module is None or (PACKAGE.parent / dotted.replace(".", "/")).is_dir():
                for alias in node.names:
                    child = f"{dotted}.{alias.name}"
                    if (PACKAGE.parent / (child.replace(".", "/") + ".py")).exists():
                        found.add(child)
                        continue
                    found.add(dotted)
            else:
                found.add(dotted)
    return found


def _graph() -> dict[str, set[str]]:
    return {_name(path): _imports(path) for path in PACKAGE.rglob("*.py")}


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in LAYERS else ""


def test_the_package_is_the_seven_layer_folders_and_nothing_else() -> None:
    folders = {path.name for path in PACKAGE.iterdir() if path.is_dir() and path.name != "__pycache__"}
    modules = {path.name for path in PACKAGE.glob("*.py")}
    assert folders == set(LAYERS)
    assert modules == {"__init__.py", "__main__.py", "_version.py"}


def test_each_layer_imports_only_the_layers_below_it_not_even_lazily() -> None:
    wrong = []
    for module, imported in _graph().items():
        layer = _layer(module)
        if not layer:
            continue
        for target in imported - LEAVES:
            other = _layer(target)
            if other != layer and other not in LAYERS[layer]:
                wrong.append(f"{module} imports {target}")
    assert not wrong, "\n".join(sorted(wrong))


def test_no_module_of_the_package_imports_itself_back_not_even_lazily() -> None:
    graph = _graph()
    cycles = []

    def visit(module: str, trail: list[str]) -> None:
        for imported in sorted(graph.get(module, ())):
            if imported in trail:
                cycles.append([*trail[trail.index(imported) :], imported])
            elif imported in graph:
                visit(imported, [*trail, imported])

    for module in graph:
        if not module.endswith("__init__") and module.count(".") > 1:
            visit(module, [module])
    assert not cycles, cycles


@pytest.mark.parametrize("path", sorted((PACKAGE / "core").glob("*.py")), ids=lambda p: p.name)
def test_core_modules_do_no_io_and_read_no_clock(path: pathlib.Path) -> None:
    source = path.read_text()
    imported: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            imported.add(node.module.split(".")[0])
    assert not imported & {"httpx", "tenacity", "time", "socket", "asyncio", "threading", "logging", "os", "json"}
    for banned in ("datetime.now", "datetime.utcnow", "date.today", "time.time", "open("):
        assert banned not in source


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_is_over_450_lines(path: pathlib.Path) -> None:
    assert len(path.read_text().splitlines()) <= 450


def test_every_folder_of_the_package_is_installed() -> None:
    import configparser

    config = configparser.ConfigParser()
    config.read(PACKAGE.parent / "setup.cfg")
    listed = set(config["options"]["packages"].split())
    found = {_name(path) for path in PACKAGE.rglob("__init__.py")}
    assert listed == found
