"""`dldbg check --pyodide VERSION|FOLDER WHEEL_OR_SO...`: will these libraries load in Pyodide?

Every shared library of the inputs (extension modules and the wheel's own libraries) is loaded
for real into Pyodide's main (`dldbg.hosts.pyodide`), in the order Pyodide loads them, each as
`loadDynlib` does (RTLD_LOCAL, its NEEDED libraries with it); the load's result is the verdict.
Since a load stops at its first error, every library is also checked import by import against
what the load would bind to, so that every problem is reported at once:

- `undefined-data`: a GOT.mem/GOT.func import that nothing defines (emscripten
  `reportUndefinedSymbols`: "undefined symbol 'X'"; the load fails);
- `signature`: a function import whose type differs from the main's (or a global library's)
  export of that name (V8 `LinkError: ... imported function does not match the expected type`;
  the load fails), with both types and the exporting module;
- `undefined-function`: a function import that nothing defines (emscripten binds it lazily: the
  library loads, and a call fails with "cannot resolve symbol X"; a warning);
- `needed`: a NEEDED library that is neither in the inputs, the `-L` folders nor the
  distribution, with the distribution package (`pyodide-lock.json`, `shared_library`) that
  provides it;
- `abi`: a wheel or extension module built for another Python (`cp313` for a 3.14 main) or
  another Pyodide ABI (`pyemscripten_2025_0_wasm32`): Pyodide's installer does not load such an
  extension module, `import` does not find it, and loaded anyway its calls into the interpreter
  use another ABI;
- `not-wasm`: a file that is not WebAssembly (an ELF `.so` in a wasm wheel: Pyodide says
  "need to see wasm magic number");
- `eh`: an exception-handling encoding (legacy / exnref) other than the main's.

Errors make the exit status 1; warnings do not.  `auditwheel-emscripten show` lists a wheel's
NEEDED libraries; this also links.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from .errors import DldbgError, LoadError, WasmParseError
from .wasm.reader import WasmModule, read_module_file

#: imports every side module takes from the loader, not from a symbol
LOADER_IMPORTS = {"memory", "__indirect_function_table", "__memory_base", "__table_base", "__stack_pointer",
                  "__memory_base32", "__table_base32"}


@dataclass
class Problem:
    kind: str
    severity: str  # "error" or "warning"
    message: str
    symbol: str | None = None
    details: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        return {"kind": self.kind, "severity": self.severity, "symbol": self.symbol, "message": self.message,
                **self.details}


@dataclass
class FileReport:
    """One library: `linked` is the real load's result (None: not loaded, e.g. not wasm)."""

    input: str
    member: str
    path: str
    pyodide_loads: bool
    linked: bool | None = None
    error: str | None = None
    problems: list[Problem] = field(default_factory=list)
    #: problems of the whole input (its wheel tags), shared by its libraries
    input_problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.linked) and not any(p.severity == "error" for p in self.input_problems + self.problems)

    def to_json(self, dist) -> dict:
        return {"file": self.member, "input": self.input, "path": self.path, "pyodide": dist.version or str(dist.folder),
                "python": dist.python, "ok": self.ok, "linked": self.linked, "pyodide_loads": self.pyodide_loads,
                "error": self.error, "problems": [p.to_json() for p in self.input_problems + self.problems]}


class Checker:
    """Checks inputs against one loaded Pyodide main (`host.load_main()` already done)."""

    def __init__(self, host, engine):
        self.host = host
        self.engine = engine
        self.dist = host.dist
        main = engine.main
        self.main_name = main.name
        self.main_eh = host.main_eh
        self._wasm: dict[str, WasmModule | None] = {}

    # -- entry --------------------------------------------------------------------------
    def check(self, inputs) -> list[FileReport]:
        reports = []
        for item in inputs.items:
            abi = self._abi_problems(item)
            for lib in item.libraries:
                report = FileReport(item.source, lib.member, str(lib.path), lib.pyodide_loads)
                report.input_problems = abi
                self._check_library(report, lib)
                reports.append(report)
        return reports

    # -- ABI ----------------------------------------------------------------------------
    def _abi_problems(self, item) -> list[Problem]:
        tags = item.tags
        if tags is None:
            return []
        dist = self.dist
        out = []
        python_ok = any(_python_compatible(t, a, dist) for t in tags.python for a in tags.abi)
        if not python_ok:
            out.append(Problem("abi", "error", f"built for {'.'.join(tags.python)} (ABI {'.'.join(tags.abi)}), but "
                               f"{dist.label} runs {dist.python_tag}: the interpreter's functions and structures differ",
                               details={"built_for": list(tags.python), "main": dist.python_tag, "tag_source": tags.source}))
        platform = dist.platform_tag
        if platform and tags.source != "extension suffix" and platform not in tags.platform and "any" not in tags.platform:
            out.append(Problem("abi", "error", f"platform tag {'.'.join(tags.platform)}, but {dist.label} installs "
                               f"{platform} wheels", details={"built_for": list(tags.platform), "main": platform,
                                                              "tag_source": tags.source}))
        return out

    # -- one library --------------------------------------------------------------------
    def _check_library(self, report: FileReport, lib) -> None:
        if not lib.pyodide_loads:
            report.problems.append(Problem(
                "abi", "error", f"Pyodide's installer does not load it and `import` does not find it: its suffix is "
                f"not one of Python {self.dist.python}'s extension suffixes ({self.dist.extension_suffix}, .abi3.so, .so)"))
        wasm = self._read(lib.path, report)
        if wasm is None:
            return
        eh = _eh(wasm)
        if eh in ("legacy", "exnref") and self.main_eh in ("legacy", "exnref") and eh != self.main_eh:
            report.problems.append(Problem("eh", "error", f"uses the {eh} exception-handling encoding, the main "
                                           f"{self.main_eh}: an engine that runs one may reject the other"))
        report.problems += self._static(lib.path, wasm)
        try:
            self.host.load_dynlib(str(lib.path))
            report.linked = True
        except DldbgError as exc:
            report.linked = False
            cause = getattr(exc, "cause", exc)
            if isinstance(cause, LoadError):
                where = "" if os.path.realpath(cause.path) == os.path.realpath(lib.path) else f"{os.path.basename(cause.path)}: "
                at = f" at byte offset {cause.offset:#x}" if cause.offset is not None else ""
                report.error = f"{where}{cause.stage}: {cause.reason}{at}"
                if not any(p.severity == "error" for p in report.problems):
                    report.problems.append(Problem("load", "error", report.error))
            else:
                report.error = exc.one_line()

    def _read(self, path, report: FileReport | None = None) -> WasmModule | None:
        key = os.path.realpath(path)
        if key not in self._wasm:
            try:
                with open(path, "rb") as fh:
                    head = fh.read(4)
                if head != b"\0asm":
                    what = "an ELF shared object (native code, not WebAssembly)" if head == b"\x7fELF" else \
                        f"not WebAssembly (it starts with {head!r})"
                    if report is not None:
                        report.problems.append(Problem("not-wasm", "error", f"{what}: Pyodide fails with 'need to see "
                                                       "wasm magic number'"))
                        report.linked = False
                    self._wasm[key] = None
                    return None
                self._wasm[key] = read_module_file(path)
            except (OSError, WasmParseError) as exc:
                if report is not None:
                    report.problems.append(Problem("not-wasm", "error", f"cannot read it: {exc}"))
                    report.linked = False
                self._wasm[key] = None
        wasm = self._wasm[key]
        if wasm is not None and wasm.dylink is None and report is not None:
            report.problems.append(Problem("not-wasm", "error", "no dylink.0 section: not a side module "
                                           "(emscripten: 'need dylink section')"))
            report.linked = False
            return None
        return wasm

    # -- every import -------------------------------------------------------------------
    def _closure(self, path, wasm: WasmModule) -> tuple[list[tuple[str, WasmModule]], list[Problem]]:
        """The library's NEEDED libraries, depth first, as the engine would find them, and the
        `needed` problems of those that cannot be found."""
        from .linker.search import find_library

        seen, out, problems = {os.path.realpath(path)}, [], []
        stack = [(str(path), wasm)]
        while stack:
            requester, mod = stack.pop()
            for needed in mod.dylink.needed:
                found, tried = find_library(needed, requester, mod.dylink.runtime_path, self.engine.library_path,
                                            self.engine.environ)
                if found is None:
                    pkg = self.dist.provider_of(needed)
                    hint = (f"; the distribution package {pkg['name']} ({pkg['file_name']}) provides it: "
                            f"loadPackage('{pkg['name']}') or -L its folder" if pkg else
                            "; no package of the distribution provides it")
                    problems.append(Problem("needed", "error", f"NEEDED library {needed} (of "
                                            f"{os.path.basename(requester)}) not found{hint}", symbol=needed,
                                            details={"provider_package": pkg["name"] if pkg else None,
                                                     "tried": tried}))
                    continue
                if os.path.realpath(found) in seen:
                    continue
                seen.add(os.path.realpath(found))
                dep = self._read(found)
                if dep is not None and dep.dylink is not None:
                    out.append((found, dep))
                    stack.append((found, dep))
        return out, problems

    def _static(self, path, wasm: WasmModule) -> list[Problem]:
        deps, problems = self._closure(path, wasm)
        local: dict[str, tuple[str, object]] = {}
        for dep_path, dep in deps:
            for exp in dep.exports:
                local.setdefault(exp.name, (os.path.basename(dep_path), dep.func_type(exp.index) if exp.kind == "func" else exp.kind))
        own = wasm.export_map
        scope = self.engine.global_scope
        js = self.host.js
        weak = wasm.weak_imports
        for imp in wasm.imports:
            if imp.module in ("GOT.mem", "GOT.func"):
                name = imp.field
                if (scope.lookup(name) or scope.lookup("orig$" + name) or name in local or name in own
                        or name in weak):
                    continue
                problems.append(Problem("undefined-data", "error", f"{imp.module}.{name}: undefined symbol '{name}' "
                                        "(nothing defines it: the load fails)", symbol=name))
            elif imp.kind == "func" and imp.module == "env":
                name, ftype = imp.field, wasm.types[imp.desc]
                if name in js:
                    continue  # a JavaScript function: V8 adapts it to any type
                sym = scope.lookup(name)
                if sym is not None and sym.kind == "func":
                    if sym.func_type != ftype:
                        problems.append(Problem("signature", "error", f"env.{name}: imported as {ftype}, {sym.module} "
                                                f"exports {sym.func_type} (LinkError: imported function does not match "
                                                "the expected type)", symbol=name,
                                                details={"imported": str(ftype), "exported": str(sym.func_type),
                                                         "exporter": sym.module}))
                    continue
                if name in local:
                    where, dtype = local[name]
                    if isinstance(dtype, type(ftype)) and dtype != ftype:
                        problems.append(Problem("signature", "warning", f"env.{name}: imported as {ftype}, {where} "
                                                f"exports {dtype} (bound through a JavaScript stub: arguments are "
                                                "converted, not checked)", symbol=name,
                                                details={"imported": str(ftype), "exported": str(dtype), "exporter": where}))
                    continue
                if name in own or name in weak:
                    continue
                problems.append(Problem("undefined-function", "warning", f"env.{name}: nothing defines it (it links; "
                                        f"a call fails: 'Dynamic linking error: cannot resolve symbol {name}')",
                                        symbol=name))
        return problems


def _python_compatible(python: str, abi: str, dist) -> bool:
    """Whether a wheel tagged `python`-`abi` installs on this main: the same CPython, or an
    abi3 wheel for an older or equal CPython 3 (PEP 384/425), or pure Python."""
    if python == dist.python_tag:
        return True
    if abi == "abi3" and python.startswith("cp3"):
        try:
            return int(python[3:]) <= int(dist.python_tag[3:])
        except ValueError:
            return False
    return abi == "none" and python in ("py3", "py2.py3")


def _eh(wasm: WasmModule) -> str | None:
    """The exception-handling encoding of a file (`dldbg.wasm.eh`): none, legacy, exnref or
    unknown (None when it cannot be read)."""
    try:
        return wasm.eh.encoding
    except WasmParseError:
        return None


def render_text(dist, reports: list[FileReport], seconds: float | None = None) -> str:
    """The report for a terminal: per input its tag problems once, then per library the verdict
    (`ok`; `links, but` with problems; `FAILS to load` with the loader's error) and its problems."""
    lines = [f"{dist.label}: {dist.main}"]
    current = None
    for report in reports:
        if report.input != current:
            current = report.input
            lines.append(f"{report.input}:")
            lines += [f"  {p.severity} {p.kind}: {p.message}" for p in report.input_problems]
        if report.linked:
            verdict = "ok" if not any(p.severity == "error" for p in report.problems) else "links, but"
        else:
            verdict = "FAILS to load" if report.linked is False else "not loaded"
        lines.append(f"  {report.member}: {verdict}")
        if report.error:
            lines.append(f"    loader: {report.error}")
        for p in report.problems:
            if p.kind != "load":
                lines.append(f"    {p.severity} {p.kind}: {p.message}")
    bad = sum(1 for r in reports if not r.ok)
    lines.append(f"{len(reports)} libraries: {len(reports) - bad} ok, {bad} with errors"
                 + (f" ({seconds:.1f} s)" if seconds is not None else ""))
    return "\n".join(lines)
