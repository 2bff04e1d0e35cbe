"""The unresolved-symbol doctor: `why` explains the session's last failure.

For each symbol that was wanted and not found (every one of the failing module: function
imports left to lazy stubs, GOT.mem and GOT.func entries) it says which module wanted it and how
(a GOT.mem / GOT.func entry, a function import, dlsym), whether it was weak, which loaded modules
define it (and why their definition was not visible: an RTLD_LOCAL group, a different kind or
signature), which libraries in the searched folders define it without being loaded (with their
type where it differs from the import's), which near names exist, and the folders searched.
For a NEEDED library or a dlopen'd file that was not found it lists the paths that were tried
and where a file of that name does exist.
"""

from __future__ import annotations

import difflib
import os
import re
from dataclasses import dataclass, field

from dldbg.commands import parser
from dldbg.linker.module import is_internal
from dldbg.linker.search import candidates, expand_origin
from dldbg.plugins import hookimpl
from dldbg.session.errors import CommandError
from dldbg.session.output import Reply

NAME = "doctor"
LIBRARY_SUFFIXES = (".so", ".wasm")
MAX_FILES = 400
MAX_FILE_SIZE = 64 << 20

_UNDEFINED = re.compile(r"undefined symbol '([^']+)' \(([^)]+)\)")
_MISMATCH = re.compile(r"signature mismatch for (\S+): (\S+) imports (.+?), (\S+) defines (.+?)$")
_DLSYM = re.compile(r'Tried to lookup unknown symbol "([^"]+)" in dynamic lib: (\S+)')
_LAZY = re.compile(r"undefined symbol '([^']+)' called from (\S+)")
#: emscripten's glue (node backend): 3.1 "undefined symbol `NAME`. perhaps ...", later "undefined symbol: NAME. ..."
_GLUE_UNDEFINED = re.compile(r"undefined symbol(?:: | `)([^`\s]+?)`?\. perhaps")
_CANNOT_OPEN = ("No such file", "not found", "Is a directory", "Permission denied", "ENOENT", "EACCES", "EISDIR")


@dataclass
class Wanted:
    """A symbol something asked for and did not get."""

    symbol: str
    importer: str
    how: str  # GOT.mem, GOT.func, function import, global import, dlsym
    weak: bool = False
    import_type: str | None = None
    event: int | None = None
    definitions: list[dict] = field(default_factory=list)
    searchable: list[dict] = field(default_factory=list)
    near: list[str] = field(default_factory=list)
    #: the folders whose libraries were read for definitions (the importer's search order)
    searched: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    advice: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return dict(self.__dict__)


# -- the libraries dldbg could load ---------------------------------------------------------
_export_cache: dict[tuple[str, float], dict] = {}


def _exports_of(path: str) -> dict | None:
    """name -> (kind, type string) for a wasm file's exports, or None if it cannot be read."""
    from dldbg.wasm.reader import read_module_file

    try:
        stat = os.stat(path)
        if stat.st_size > MAX_FILE_SIZE:
            return None
        key = (path, stat.st_mtime)
        if key not in _export_cache:
            wasm = read_module_file(path)
            out = {}
            for exp in wasm.exports:
                if exp.kind == "func":
                    out[exp.name] = ("func", str(wasm.func_type(exp.index)))
                elif exp.kind == "global":
                    out[exp.name] = ("data" if not wasm.global_type(exp.index).mutable else "global", None)
                else:
                    out[exp.name] = (exp.kind, None)
            _export_cache[key] = out
        return _export_cache[key]
    except Exception:  # not wasm, unreadable, malformed: not a candidate
        return None


def search_folders(session, importer_path: str | None) -> list[str]:
    """The folders a load searches: the importer's RUNTIME_PATH, -L and the program's folder,
    LD_LIBRARY_PATH, the importer's folder, the current folder (without duplicates)."""
    engine = session.engine
    folders: list[str] = []
    origin = os.path.dirname(os.path.abspath(importer_path)) if importer_path else os.getcwd()
    if importer_path:
        wasm = _wasm_of(importer_path)
        if wasm is not None and wasm.dylink is not None:
            folders += [os.path.normpath(os.path.join(origin, expand_origin(p, origin))) for p in wasm.dylink.runtime_path]
    folders += [os.path.abspath(p) for p in engine.library_path]
    env = os.environ if engine.environ is None else engine.environ
    folders += [os.path.abspath(p) for p in env.get("LD_LIBRARY_PATH", "").split(":") if p]
    folders += [origin, os.getcwd()]
    out = []
    for folder in folders:
        if folder not in out and os.path.isdir(folder):
            out.append(folder)
    return out


def _wasm_of(path: str):
    from dldbg.wasm.reader import read_module_file

    try:
        return read_module_file(path)
    except Exception:
        return None


def library_files(folders: list[str]) -> list[str]:
    files = []
    for folder in folders:
        try:
            names = sorted(os.listdir(folder))
        except OSError:
            continue
        for name in names:
            path = os.path.join(folder, name)
            if name.endswith(LIBRARY_SUFFIXES) and os.path.isfile(path) and path not in files:
                files.append(path)
                if len(files) >= MAX_FILES:
                    return files
    return files


# -- the analysis ---------------------------------------------------------------------------
def _module_paths(session, failure) -> dict[str, str]:
    """Module name -> path, from the load.start events of the failure and the live modules."""
    paths = {m.name: m.path for m in session.engine.modules}
    for index in failure.events:
        e = session.log[index].event
        if e.kind == "load.start":
            paths[e.module] = os.path.abspath(e.path) if os.path.exists(e.path) else e.path
    return paths


def _import_type(path: str | None, how: str, symbol: str) -> tuple[str | None, bool]:
    """The import's type (functions) and whether IMPORT_INFO marks it weak."""
    wasm = _wasm_of(path) if path else None
    if wasm is None:
        return None, False
    weak = wasm.dylink is not None and symbol in wasm.dylink.weak_imports
    for imp in wasm.imports:
        if imp.field == symbol and (imp.module == how or (how in ("function import", "call") and imp.kind == "func")):
            return (str(wasm.types[imp.desc]) if imp.kind == "func" else None), weak
    return None, weak


def _glue_importer(session, paths: dict[str, str], failed: str, symbol: str) -> tuple[str, str]:
    """(importer, how) for a symbol emscripten's glue reported undefined: the failing module if
    it imports the symbol, else the first loaded module that does (the glue checks the whole
    GOT at each load: an entry left unresolved by an earlier failure fails every later load)."""
    names = [failed] + [m.name for m in session.engine.modules if m.name != failed]
    for name in names:
        wasm = _wasm_of(paths.get(name) or "")
        for imp in wasm.imports if wasm is not None else ():
            if imp.field == symbol and imp.module in ("GOT.mem", "GOT.func", "env"):
                return name, imp.module if imp.module.startswith("GOT.") else f"{imp.kind} import".replace(
                    "func import", "function import")
    return failed, "GOT entry"


def collect_wanted(session) -> tuple[list[Wanted], list[dict], dict]:
    """What the last failure was missing: symbols (Wanted) and files (NEEDED or dlopen'd names
    not found), and a summary of the failure."""
    failure = session.last_failure
    if failure is None:
        raise CommandError("nothing has failed in this session yet")
    paths = _module_paths(session, failure)
    wanted: dict[tuple[str, str], Wanted] = {}
    files: list[dict] = []
    summary = {"source": failure.source, "message": failure.message, "command": failure.command,
               "handled": failure.handled}

    def want(symbol, importer, how, weak=False, event=None):
        key = (symbol, importer)
        if key not in wanted:
            itype, info_weak = _import_type(paths.get(importer), how, symbol)
            wanted[key] = Wanted(symbol, importer, how, weak or info_weak, itype, event)
        return wanted[key]

    failed = {session.log[i].event.module for i in failure.events if session.log[i].event.kind == "load.fail"}
    for index in failure.events:
        entry = session.log[index]
        e = entry.event
        # every symbol the failing module could not get: the errors, and the functions bound to
        # lazy stubs (they fail when called)
        if e.kind == "import.unresolved" and (e.action == "error" or (
                e.action == "lazy-stub" and not e.weak and e.module in failed)):
            how = e.import_module if e.import_module.startswith("GOT.") else f"{e.import_kind} import"
            want(e.field, e.module, "function import" if how == "func import" else how, e.weak, index)
        elif e.kind == "needed.resolved" and e.path is None:
            files.append({"name": e.name, "wanted_by": e.module, "how": "NEEDED", "tried": list(e.tried), "event": index})
        elif e.kind == "load.fail":
            summary.update(module=e.module, path=e.path, stage=e.failed_stage, reason=e.reason, event=index)
            m = _UNDEFINED.search(e.reason)
            if m:
                how = m.group(2) if m.group(2).startswith("GOT.") else "function import"
                want(m.group(1), e.module, how, False, index)
            m = _GLUE_UNDEFINED.search(e.reason)
            if m:
                importer, how = _glue_importer(session, paths, e.module, m.group(1))
                want(m.group(1), importer, how, False, index)
            m = _MISMATCH.search(e.reason)
            if m:
                w = want(m.group(1).split(".", 1)[-1], m.group(2), "function import", False, index)
                w.problems.append(f"signature mismatch: {m.group(2)} imports {m.group(3)}, {m.group(4)} defines {m.group(5)}")
            if e.failed_stage == "read" and any(s in e.reason for s in _CANNOT_OPEN):
                start = next((session.log[i].event for i in failure.events if session.log[i].event.kind == "load.start"), None)
                name = start.path if start is not None else e.path
                if os.path.isfile(name) or any(f["name"] == name for f in files):
                    continue  # found: its NEEDED library was not (a loader that fails each load of the chain)
                tried = [name] if "/" in name else candidates(name, None, (), session.engine.library_path, session.engine.environ)
                files.append({"name": name, "wanted_by": f"`{failure.command}`" if failure.command else "the program",
                              "how": "dlopen", "tried": tried, "event": index})
    error = failure.error
    message = failure.message
    if failure.source == "call":
        symbol, importer = getattr(error, "symbol", None), getattr(error, "importer", None)
        m = _LAZY.search(message)
        if symbol is None and m:
            symbol, importer = m.group(1), m.group(2)
        if symbol:
            want(symbol, importer, "function import")
        m = _GLUE_UNDEFINED.search(message)
        if symbol is None and m:  # the glue's lazy stub (resolveSymbol) of the called module
            caller = message.split("!", 1)[0] if "!" in message.split(" ", 1)[0] else ""
            importer, how = _glue_importer(session, paths, caller, m.group(1))
            want(m.group(1), importer, how)
        m = _MISMATCH.search(message)
        if m:
            w = want(m.group(1), m.group(2), "function import")
            w.problems.append(f"signature mismatch: {m.group(2)} imports {m.group(3)}, {m.group(4)} defines {m.group(5)}")
    if failure.source == "dl":
        m = _DLSYM.search(message)
        if m:
            want(m.group(1), m.group(2), "dlsym")
    return list(wanted.values()), files, summary


def analyse(session) -> dict:
    """The doctor's report as a JSON-ready dict (see `why`)."""
    engine = session.engine
    wanted, files, summary = collect_wanted(session)
    importer_path = summary.get("path")
    folders = search_folders(session, importer_path)
    libs = library_files(folders)
    loaded_real = {os.path.realpath(m.path) for m in engine.modules if m.state not in ("failed",)}
    pool: set[str] = set()
    for mod in engine.modules:
        if mod.state not in ("failed", "released"):
            pool.update(n for n in mod.exports if not is_internal(n))
    lib_exports = {}
    for path in libs:
        exports = _exports_of(path)
        if exports:
            lib_exports[path] = exports
            pool.update(n for n in exports if not is_internal(n))
    for w in wanted:
        w.searched = list(folders)
        _loaded_definitions(session, w)
        for path, exports in lib_exports.items():
            if w.symbol in exports and os.path.realpath(path) not in loaded_real:
                kind, ftype = exports[w.symbol]
                w.searchable.append({"path": path, "kind": kind, "type": ftype})
                if w.import_type and ftype and ftype != w.import_type:
                    w.problems.append(f"signature mismatch: {os.path.basename(path)} defines {w.symbol} as {ftype}, but "
                                      f"{w.importer} imports {w.import_type}")
                if w.how in ("GOT.func", "function import") and kind != "func":
                    w.problems.append(f"{os.path.basename(path)} defines {w.symbol} as {kind}, but {w.importer} wants a "
                                      f"function ({w.how})")
                if w.how == "GOT.mem" and kind == "func":
                    w.problems.append(f"{os.path.basename(path)} defines {w.symbol} as a function, but {w.importer} wants "
                                      f"data (GOT.mem)")
        w.near = [n for n in difflib.get_close_matches(w.symbol, sorted(pool), n=5, cutoff=0.8) if n != w.symbol]
        _advise(w, getattr(engine, "binds_now_on_request", True))
    for f in files:
        f["found_elsewhere"] = _find_file(f["name"], folders)
        f["advice"] = ([f"it exists at {', '.join(f['found_elsewhere'])}: add its folder with -L, or a RUNTIME_PATH"]
                       if f["found_elsewhere"] else [f"no file named {os.path.basename(f['name'])} in the searched folders"])
    return {"failure": summary, "symbols": [w.to_json() for w in wanted], "files": files,
            "searched": {"folders": folders, "libraries": len(libs)}}


def _loaded_definitions(session, w: Wanted) -> None:
    engine = session.engine
    importer = engine.module_named(w.importer)
    for mod in engine.modules:
        if mod.state in ("failed",):
            continue
        sym = mod.exports.get(w.symbol)
        if sym is None:
            continue
        visible = mod.is_global or (importer is not None and importer.group is mod.group and mod.group is not None)
        d = {"module": mod.name, "kind": sym.kind, "state": mod.state,
             "scope": "global" if mod.is_global else "RTLD_LOCAL group", "visible": visible and mod.state != "released",
             "type": str(sym.func_type) if sym.func_type else None}
        w.definitions.append(d)
        if mod.state == "released":
            w.problems.append(f"{mod.name} defines it but was released by dlclose")
        elif not visible:
            w.problems.append(f"{mod.name} defines it, but was loaded RTLD_LOCAL: its symbols are visible only to its own "
                              f"load group, not to {w.importer}")
        want_func = w.how in ("GOT.func", "function import")
        if want_func and sym.kind not in ("func",):
            w.problems.append(f"{mod.name} defines {w.symbol} as {sym.kind}, but {w.importer} wants a function ({w.how})")
        if w.how == "GOT.mem" and sym.kind == "func":
            w.problems.append(f"{mod.name} defines {w.symbol} as a function, but {w.importer} wants data (GOT.mem)")
        if w.import_type and d["type"] and d["type"] != w.import_type:
            w.problems.append(f"signature mismatch: {w.importer} imports {w.import_type}, {mod.name} defines {d['type']}")


def _advise(w: Wanted, binds_now_on_request: bool = True) -> None:
    if any(not d["visible"] for d in w.definitions):
        w.advice.append(f"load the defining library with RTLD_GLOBAL (dlopen LIB now,global), or dlopen {w.importer} "
                        f"in the same RTLD_LOCAL group")
    if w.searchable and not any(d["visible"] for d in w.definitions):
        names = ", ".join(os.path.basename(s["path"]) for s in w.searchable)
        w.advice.append(f"load {names} first (dlopen ... now,global, or --preload), or list it as NEEDED when linking {w.importer}")
    if not w.definitions and not w.searchable:
        w.advice.append(f"nothing dldbg can find defines {w.symbol}: link the library that defines it, or "
                        f"declare it weak (__attribute__((weak))) if the code can run without it")
    if w.near and not w.definitions and not w.searchable:
        w.advice.append(f"near names: {', '.join(w.near)} (a typo, C++ mangling, or a different version?)")
    if w.how == "GOT.mem" and not w.weak:
        w.advice.append("a non-weak GOT.mem entry must resolve when the module loads (emscripten's reportUndefinedSymbols)")
    visible = [d for d in w.definitions if d["visible"]]
    if w.how == "function import" and not visible:
        w.advice.append("function imports bind lazily: the load succeeds and the first call fails "
                        + ("(RTLD_NOW or --bind-now fails the load instead)" if binds_now_on_request
                           else "(this loader binds lazily whatever the dlopen mode)"))
    if w.import_type and any(d["type"] and d["type"] != w.import_type for d in visible):
        w.advice.append(f"a definition of another type fails the load (V8: LinkError, imported function does not match "
                        f"the expected type): rebuild {w.importer} against the library or interpreter it is loaded with")


def _find_file(name: str, folders: list[str]) -> list[str]:
    base = os.path.basename(name)
    found = []
    for folder in folders:
        for root, dirs, files in os.walk(folder):
            depth = root[len(folder):].count(os.sep)
            if depth >= 2:
                dirs[:] = []
            if base in files:
                path = os.path.join(root, base)
                if path not in found:
                    found.append(path)
            if len(found) >= 5:
                return found
    return found


def render(report: dict) -> str:
    f = report["failure"]
    lines = []
    if f.get("stage"):
        lines.append(f"{f['module']} failed to load at the {f['stage']} stage" + (f" (`{f['command']}`)" if f.get("command") else ""))
        if f.get("handled"):
            lines.append("  the command went on and succeeded: the program handled the failure (its dlopen returned NULL)")
        lines.append(f"  reason: {f['reason']}")
    else:
        lines.append(f"last failure ({f['source']}): {f['message']}" + (f" (`{f['command']}`)" if f.get("command") else ""))
    for w in report["symbols"]:
        weak = "weak" if w["weak"] else "not weak"
        typ = f" {w['import_type']}" if w["import_type"] else ""
        at = f" [event #{w['event']}]" if w["event"] is not None else ""
        lines.append(f"{w['symbol']}: wanted by {w['importer']} as {w['how']}{typ} ({weak}){at}")
        if w["definitions"]:
            for d in w["definitions"]:
                lines.append(f"  defined by loaded {d['module']} ({d['kind']}{' ' + d['type'] if d['type'] else ''}, "
                             f"{d['scope']}, {'visible' if d['visible'] else 'NOT visible'} to {w['importer']})")
        else:
            lines.append("  no loaded module defines it")
        if w["searchable"]:
            for s in w["searchable"]:
                lines.append(f"  defined by {s['path']} (not loaded; {s['kind']}{' ' + s['type'] if s['type'] else ''})")
        else:
            lines.append(f"  no library in the searched folders defines it ({report['searched']['libraries']} libraries read)")
        lines.append(f"  near names: {', '.join(w['near'])}" if w["near"] else "  near names: none")
        if w.get("searched"):
            lines.append(f"  searched: {', '.join(w['searched'])}")
        lines += [f"  problem: {p}" for p in dict.fromkeys(w["problems"])]
        lines += [f"  hint: {a}" for a in w["advice"]]
    for fl in report["files"]:
        how = f"dlopen in {fl['wanted_by']}" if fl["how"] == "dlopen" else f"{fl['how']} of {fl['wanted_by']}"
        lines.append(f"{fl['name']}: {how}, not found; tried:")
        lines += [f"    {t}" for t in fl["tried"]]
        lines += [f"  hint: {a}" for a in fl["advice"]]
    if report["searched"]["folders"] and (report["files"] or not report["symbols"]):
        lines.append("searched folders: " + ", ".join(report["searched"]["folders"]))
    return "\n".join(lines)


@hookimpl
def dldbg_register_commands(registry):
    p = parser("why", "Explain the last failure: which module wanted which symbol and how (GOT entry, function "
               "import, dlsym; weak or not), which loaded modules define it and why that did not count "
               "(RTLD_LOCAL, kind, signature), which libraries in the searched folders define it, near names; "
               "for a missing NEEDED library or dlopen'd file, the paths tried.",
               ["why"])

    @registry.command(p, category="diagnosis", plugin=NAME)
    def why(session):
        report = analyse(session)
        return Reply(report, render(report))
