"""The layering (BRIEF: reader → engine → hosts → session → front ends; no layer imports one
above it), checked on every import statement of the package, also those inside functions."""

from __future__ import annotations

import ast
from pathlib import Path

from catalogue import ROOT

#: module prefix -> layer; the longest prefix wins.  Commands and the plugin API sit on the
#: session (they drive it); the front ends use them; the command line and the launcher on top.
LAYERS = {
    "dldbg": 0, "dldbg.errors": 0, "dldbg.events": 0, "dldbg.trace": 0,
    "dldbg.wasm": 1,
    "dldbg.linker": 2,
    "dldbg.hosts": 3,
    "dldbg.session": 4, "dldbg.report": 4,  # report: what the reader and the hosts say of a file (`inspect`)
    "dldbg.check": 4,  # check: links a wheel's libraries into Pyodide's main through the hosts (`check`)
    "dldbg.commands": 5, "dldbg.plugins": 5,
    "dldbg.repl": 6, "dldbg.tui": 6, "dldbg_plugins": 6,
    "dldbg.launch": 7, "dldbg.cli": 7, "dldbg.cliargs": 7, "dldbg.__main__": 7,
}
NAMES = {0: "errors/events", 1: "reader", 2: "engine", 3: "hosts", 4: "session", 5: "commands and the plugin API",
         6: "front ends", 7: "command line"}
#: package source folders: the bundled plugins' package is built from plugins/
SOURCES = {"dldbg": ROOT / "dldbg", "dldbg_plugins": ROOT / "plugins"}


def layer(module: str) -> int | None:
    parts = module.split(".")
    for n in range(len(parts), 0, -1):
        prefix = ".".join(parts[:n])
        if prefix in LAYERS:
            return LAYERS[prefix]
    return None


def modules():
    for package, folder in SOURCES.items():
        for path in sorted(folder.rglob("*.py")):
            rel = path.relative_to(folder).with_suffix("")
            parts = [package, *rel.parts]
            is_package = parts[-1] == "__init__"
            if is_package:
                parts = parts[:-1]
            yield ".".join(parts), is_package, path


def imports(module: str, is_package: bool, path: Path):
    """(imported module, line) for every import in `path`, relative ones resolved."""
    tree = ast.parse(path.read_text(), str(path))
    here = module.split(".") if is_package else module.split(".")[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[: len(here) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module
            for alias in node.names:  # `from . import command` imports a name or a submodule
                yield (f"{target}.{alias.name}" if node.module is None else target), node.lineno


def test_no_layer_imports_one_above_it():
    found = list(modules())
    assert {m for m, _, _ in found} >= {"dldbg.session.session", "dldbg.launch", "dldbg.commands.registry"}
    wrong = []
    for module, is_package, path in found:
        own = layer(module)
        assert own is not None, f"{module} has no layer in LAYERS"
        for target, line in sorted(set(imports(module, is_package, path))):
            theirs = layer(target)
            if theirs is not None and theirs > own:
                wrong.append(f"{path.relative_to(ROOT)}:{line}: {module} ({NAMES[own]}) imports {target} ({NAMES[theirs]})")
    assert not wrong, "\n".join(wrong)


def test_the_checker_sees_imports_inside_functions(tmp_path):
    source = tmp_path / "probe.py"
    source.write_text("def f():\n    from ..commands import builtin_registry\n    from . import x\n")
    found = list(imports("dldbg.session.probe", False, source))
    assert ("dldbg.commands", 2) in found and ("dldbg.session.x", 3) in found
    assert layer("dldbg.commands") > layer("dldbg.session.probe")
