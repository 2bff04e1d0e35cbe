"""The fixed work of one load (issue 13, per-load cost against bare wasmtime-py): a module
already seen is not parsed again (its parse is read back from dldbg's cache folder, checked and
bounded), an instance's exports are fetched from wasmtime only when used, and a debugger
command neither formats its usage line nor waits for a thread.  Work is counted, not timed
(timings are in benchmarks/per_load.py)."""

from __future__ import annotations

import copy
import io
import os
import pickle
import sys
import threading
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import symbolgen  # noqa: E402
from dldbg.errors import DlError  # noqa: E402
from dldbg.hosts.standalone import StandaloneHost  # noqa: E402
from dldbg.limits import ResourceLimits  # noqa: E402
from dldbg.linker import wasmtime_compat  # noqa: E402
from dldbg.linker.engine import Engine  # noqa: E402
from dldbg.linker.flags import RTLD_DEFAULT, RTLD_GLOBAL, RTLD_NOW  # noqa: E402
from dldbg.wasm import parsecache, reader  # noqa: E402
from dldbg.wasm.files import ModuleFiles  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples" / "out"
RELOC_DEP = SAMPLES / "clang16" / "reloc" / "libreloc_dep.so"


@pytest.fixture
def parses(monkeypatch):
    """How many times the reader parsed a module."""
    count = {"n": 0}
    parse = reader._Parser.parse

    def counting(self):
        count["n"] += 1
        return parse(self)

    monkeypatch.setattr(reader._Parser, "parse", counting)
    return count


def _load(path: Path, cache: Path) -> Engine:
    engine = Engine(StandaloneHost(), cache_dir=str(cache))
    engine.dlopen(str(path), RTLD_NOW | RTLD_GLOBAL)
    return engine


def test_a_second_load_of_the_same_bytes_does_not_parse_them_again(tmp_path, parses):
    copy = tmp_path / "elsewhere" / "libreloc_dep.so"  # another path, the same bytes
    copy.parent.mkdir()
    copy.write_bytes(RELOC_DEP.read_bytes())
    first = _load(RELOC_DEP, tmp_path / "cache")
    assert parses["n"] == 1
    second = _load(copy, tmp_path / "cache")
    assert parses["n"] == 1
    for engine in (first, second):
        assert engine.call("dep_square", [7]) == 49
    assert first.dlsym(RTLD_DEFAULT, "dep_data") == second.dlsym(RTLD_DEFAULT, "dep_data")


def _real_modules() -> list[Path]:
    found = sorted(p for p in SAMPLES.rglob("*") if p.suffix in (".so", ".wasm") and p.stat().st_size < 4 << 20)
    return found[:: max(1, len(found) // 40)]  # a spread of the samples, every toolchain


def test_the_parse_read_back_equals_the_parse(tmp_path):
    modules = _real_modules()
    assert len(modules) >= 10
    for path in modules:
        data = path.read_bytes()
        try:
            fresh = reader.read_module(data, str(path))
        except Exception:
            continue
        cache = parsecache.ParseCache(str(tmp_path / "parsed"))
        sha = f"{abs(hash(data)):064x}"[-64:]
        cache.module(data, sha, str(path), ResourceLimits())
        back = cache.module(data, sha, str(path), ResourceLimits())
        assert (cache.parsed, cache.reused) == (1, 1), path
        assert back == fresh, path
        assert back.eh == fresh.eh, path
        assert back.raw == data and back.path == str(path)


#: fields a load never reads, which the parse cache decodes only when first used (a load
#: looks exports up by name in `export_map`, columns read back: dldbg.wasm.exporttable)
_UNREAD = ("sections", "tables", "memories", "data", "bodies", "customs", "names", "exports", "functions")


def test_a_load_from_the_parse_cache_decodes_no_field_it_does_not_read(tmp_path):
    """Reading a parse back builds no function body, section, custom section, data segment or
    name map until something asks for it (`dldbg inspect`, disassembly, the EH scan), and what
    it then builds is what the reader gives, field by field and in any order."""
    paths = symbolgen.write(tmp_path / "modules", 1000)
    for role in ("funcs", "data"):
        _load(paths[role], tmp_path / "cache")  # fills the parse cache
        engine = _load(paths[role], tmp_path / "cache")
        [mod] = engine.modules
        fields = mod.wasm.__dict__
        assert [name for name in _UNREAD if name in fields] == [], role
        assert mod.wasm.export_map._map is None, role  # looked up by bisection: no dict of 1000 exports
        fresh = reader.read_module(paths[role].read_bytes(), str(paths[role]))
        for name in (*_UNREAD[::-1], *reader.WasmModule._COMPARED):
            assert getattr(mod.wasm, name) == getattr(fresh, name), (role, name)
        assert len(mod.wasm.bodies) == len(fresh.bodies) >= (1000 if role == "funcs" else 0)
        assert mod.wasm == fresh and repr(mod.wasm) == repr(fresh)
        assert engine.call("f999" if role == "funcs" else "first", []) in (999, 0)


def test_a_load_from_the_parse_cache_builds_a_global_only_for_a_data_symbol_looked_up(tmp_path, monkeypatch):
    """A module of 1000 data exports read back from the parse cache builds no `Global` (nor its
    initializer) during the load: one is built when its symbol is first looked up, and kept."""
    import gc

    class Counted(parsecache.Global):  # has a __dict__, so the collector tracks every one made
        pass

    monkeypatch.setattr(parsecache, "Global", Counted)
    paths = symbolgen.write(tmp_path / "modules", 1000)
    _load(paths["data"], tmp_path / "cache")  # parses, fills the parse cache

    def built() -> int:
        return sum(type(obj) is Counted for obj in gc.get_objects())

    engine = _load(paths["data"], tmp_path / "cache")
    [mod] = engine.modules
    assert built() == 0
    base = mod.memory_base
    assert engine.dlsym(RTLD_DEFAULT, "d7") == engine.dlsym(RTLD_DEFAULT, "d7") == base + 28
    assert built() == 1
    assert mod.wasm.globals[8] is mod.wasm.globals[8] and built() == 2
    fresh = reader.read_module(paths["data"].read_bytes(), str(paths["data"]))
    assert mod.wasm.globals == fresh.globals and fresh.globals == mod.wasm.globals and built() == 1000
    assert mod.wasm.globals[-1] == fresh.globals[-1] and mod.wasm.globals[2:5] == fresh.globals[2:5]
    with pytest.raises(IndexError):
        mod.wasm.globals[1001]  # noqa: B018


def _containers(obj) -> int:
    """Tuples, lists and dicts in a marshalled value: the objects reading it back makes besides
    the ones a module keeps (strings, numbers); bytes (a field kept encoded) are not opened."""
    if isinstance(obj, (tuple, list)):
        return 1 + sum(_containers(item) for item in obj)
    if isinstance(obj, dict):
        return 1 + sum(_containers(k) + _containers(v) for k, v in obj.items())
    return 0


def test_reading_a_parse_back_makes_one_row_per_import_and_global_and_none_per_export(tmp_path):
    """What a load reads back grows by one row per import (a global import's type is kept once,
    by number); the exports are columns (one string of names, arrays: dldbg.wasm.exporttable);
    the globals (a row and its initializer's instructions each) and the function bodies are
    blobs of their own, unmarshalled only when first used (the bound below still allows the
    globals' rows)."""
    import marshal

    n = 1000
    for role, path in symbolgen.write(tmp_path / "modules", n).items():
        wasm = reader.read_module(path.read_bytes(), str(path))
        payload = marshal.loads(marshal.dumps(parsecache._encode(wasm)))
        rows = len(wasm.imports) + sum(1 + len(g.init.ops) + 1 for g in wasm.globals)
        assert _containers(payload) <= rows + 50, (role, _containers(payload), rows)
        assert len(wasm.imports) >= n or len(wasm.exports) >= n


def test_a_global_read_back_is_built_from_columns_without_unmarshalling_the_others(tmp_path, monkeypatch):
    # the globals were one marshalled list of rows (31 bytes a data export's global, and as
    # many tuples unmarshalled at the first global used); they are columns now, and with the
    # exports' columns a data export takes at most 32 bytes of the parse file
    import marshal

    n = 1000
    path = symbolgen.write(tmp_path / "modules", n)["data"]
    fresh = reader.read_module(path.read_bytes(), str(path))
    assert len(marshal.dumps(parsecache._encode(fresh))) <= 32 * n + 2000
    _load(path, tmp_path / "cache")
    engine = _load(path, tmp_path / "cache")
    [mod] = engine.modules
    loaded = []
    monkeypatch.setattr(parsecache.marshal, "loads", lambda blob: loaded.append(len(blob)) or marshal.loads(blob))
    assert mod.wasm.globals[5] == fresh.globals[5] and engine.dlsym(RTLD_DEFAULT, "d999") == mod.memory_base + 4 * 999
    assert loaded == []
    monkeypatch.undo()
    assert list(mod.wasm.globals) == fresh.globals


def test_a_field_read_back_is_decoded_once_and_can_be_replaced_copied_and_pickled(tmp_path):
    data = RELOC_DEP.read_bytes()
    cache = parsecache.ParseCache(str(tmp_path / "parsed"))
    cache.module(data, "0" * 64, str(RELOC_DEP), ResourceLimits())
    back = cache.module(data, "0" * 64, str(RELOC_DEP), ResourceLimits())
    assert back.bodies is back.bodies and back.customs is back.customs
    back.names = reader.NameMap(module="changed")
    assert back.names.module == "changed"
    with pytest.raises(AttributeError, match="no attribute 'nonesuch'"):
        back.nonesuch  # noqa: B018
    assert not hasattr(reader.WasmModule(None, 0), "nonesuch")
    again = cache.module(data, "0" * 64, str(RELOC_DEP), ResourceLimits())
    fresh = reader.read_module(data, str(RELOC_DEP))
    for twin in (copy.copy(again), pickle.loads(pickle.dumps(again))):
        assert twin == fresh and twin.raw == data and "_lazy" not in twin.__dict__


@pytest.mark.parametrize("damage", ["garbage", "truncated", "flipped", "empty", "other module"])
def test_a_damaged_parse_file_is_parsed_again_and_rewritten(tmp_path, parses, damage):
    cache = tmp_path / "cache"
    _load(RELOC_DEP, cache)
    [file] = (cache / "parsed").iterdir()
    blob = file.read_bytes()
    if damage == "garbage":
        file.write_bytes(os.urandom(len(blob)))
    elif damage == "truncated":
        file.write_bytes(blob[: len(blob) // 2])
    elif damage == "flipped":
        file.write_bytes(blob[:-7] + bytes([blob[-7] ^ 0x10]) + blob[-6:])
    elif damage == "empty":
        file.write_bytes(b"")
    else:  # a valid parse file of another module under this module's name
        other = tmp_path / "other"
        ModuleFiles(cache_dir=str(other)).get(str(SAMPLES / "clang16" / "reloc" / "libreloc.so"))
        [theirs] = (other / "parsed").iterdir()
        file.write_bytes(theirs.read_bytes())
    parses["n"] = 0
    engine = _load(RELOC_DEP, cache)
    assert parses["n"] == 1
    assert engine.call("dep_square", [9]) == 81
    assert file.read_bytes() == blob
    parses["n"] = 0
    _load(RELOC_DEP, cache)
    assert parses["n"] == 0


def test_a_load_publishes_the_names_read_back_without_a_dict_of_them(tmp_path, monkeypatch):
    # the names (10,000 for a module of 10,000 exports) were made into a dict to publish, then
    # merged into the scope's: they are merged from the export names list, which is published
    # as it is read back when no name is loader plumbing (dldbg.linker.exports.public_names)
    from dldbg.linker import exports, scope

    paths = symbolgen.write(tmp_path / "modules", 1000)
    fresh = {}
    for role in ("funcs", "data", "reloc"):
        path = RELOC_DEP.parent / "libreloc.so" if role == "reloc" else paths[role]
        engine = Engine(StandaloneHost(), cache_dir=None)
        engine.dlopen(str(path), RTLD_NOW | RTLD_GLOBAL)
        fresh[role] = [m.published for m in engine.modules]
        _load(path, tmp_path / "cache")  # fills the parse cache
    calls = []
    monkeypatch.setattr(exports, "public_names", lambda *a: calls.append("public_names"))
    monkeypatch.setattr(scope.Scope, "publish_owned", lambda *a: calls.append("publish_owned"))
    for role in ("funcs", "data", "reloc"):
        path = RELOC_DEP.parent / "libreloc.so" if role == "reloc" else paths[role]
        engine = _load(path, tmp_path / "cache")
        assert [m.published for m in engine.modules] == fresh[role], role
        assert len(fresh[role][-1]) >= (1000 if role != "reloc" else 3)
    assert calls == []
    assert engine.call("get_dep_data_ptr_ok", []) == 1


def test_a_parse_read_back_is_checked_without_a_cryptographic_hash(tmp_path, parses, monkeypatch):
    # blake2b over the payload was 0.7 ms of a 10,000-export module's load; a CRC-32 finds a
    # damaged file as well (test_a_damaged_parse_file_is_parsed_again_and_rewritten)
    import hashlib

    path = symbolgen.write(tmp_path / "modules", 100)["funcs"]
    _load(path, tmp_path / "cache")
    monkeypatch.setattr(hashlib, "blake2b", lambda *a, **k: pytest.fail("blake2b over the payload"))
    engine = _load(path, tmp_path / "cache")
    assert parses["n"] == 1 and engine.call("f99", []) == 99


def test_a_changed_reader_does_not_read_an_older_parse(tmp_path, parses, monkeypatch):
    _load(RELOC_DEP, tmp_path)
    monkeypatch.setattr(parsecache, "_digest", "another reader")
    _load(RELOC_DEP, tmp_path)
    assert parses["n"] == 2
    [kept] = (tmp_path / "parsed").iterdir()  # the older reader's parse is gone
    assert kept.name.endswith("-another reader.parse")


def test_the_parse_folder_is_bounded(tmp_path, monkeypatch):
    monkeypatch.setattr(parsecache, "MAX_FILES", 3)
    files = ModuleFiles(cache_dir=str(tmp_path))
    paths = symbolgen.write(tmp_path / "modules", 20)
    for path in [*paths.values(), RELOC_DEP]:
        files.get(str(path))
    assert 1 <= len(list((tmp_path / "parsed").iterdir())) <= 3


def test_a_cached_parse_is_held_to_the_limits_it_is_read_with(tmp_path):
    path = symbolgen.write(tmp_path / "modules", 20)["funcs"]
    ModuleFiles(cache_dir=str(tmp_path)).get(str(path))
    strict = ModuleFiles(ResourceLimits(exports=5), cache_dir=str(tmp_path))
    with pytest.raises(reader.WasmParseError, match="20 exports is above the limit of 5"):
        strict.get(str(path))


def test_exports_are_fetched_from_wasmtime_when_used(tmp_path, monkeypatch):
    fetched = []
    export_get = wasmtime_compat._EXPORT_GET

    def counting(context, instance, name, length, out):
        fetched.append(bytes(name).decode())
        return export_get(context, instance, name, length, out)

    monkeypatch.setattr(wasmtime_compat, "_EXPORT_GET", counting)
    paths = symbolgen.write(tmp_path, 1000)
    engine = Engine(StandaloneHost(), cache_dir=None)
    for role in ("funcs", "data"):
        engine.dlopen(str(paths[role]), RTLD_NOW | RTLD_GLOBAL)
    assert len(fetched) <= 8, fetched  # the loader's own (constructors, relocations), not 2000
    fetched.clear()
    assert engine.call("f123", []) == 123
    slot = engine.dlsym(RTLD_DEFAULT, "f999")
    assert engine.call(slot, []) == 999
    assert sorted(set(fetched)) == ["f123", "f999"]
    data = next(m for m in engine.modules if m.name == paths["data"].name)
    for i in (0, 1, 777, 999):  # a data symbol's address is its global's value, relocated
        glob = data.externs[f"d{i}"]
        assert engine.dlsym(RTLD_DEFAULT, f"d{i}") == data.memory_base + glob.value(engine.store) == data.memory_base + 4 * i
    with pytest.raises(DlError, match="unknown symbol"):
        engine.dlsym(RTLD_DEFAULT, "f1000")


def test_a_command_formats_its_usage_line_at_most_once(tmp_path, monkeypatch):
    from dldbg.commands import builtin_registry
    from dldbg.commands.registry import CommandParser
    from dldbg.plugins import make_plugin_manager
    from dldbg.session import Session, TextPrinter

    formatted = []
    format_usage = CommandParser.format_usage
    monkeypatch.setattr(CommandParser, "format_usage", lambda self: formatted.append(self.prog) or format_usage(self))
    session = Session(None, registry=builtin_registry(), cache_dir=str(tmp_path),
                      printer=TextPrinter(io.StringIO(), io.StringIO()), plugins=make_plugin_manager(entry_points=False))
    for _ in range(3):
        assert session.execute(f"dlopen {RELOC_DEP}").ok
        assert session.execute("info symbols dep_").ok
        assert session.execute("info got -u").ok
    # at most once per command (a command's parser is shared by sessions); dlopen has no
    # options: it is parsed with parse_args, which formats no usage line
    assert sorted(formatted) == sorted(set(formatted)) and "dlopen" not in formatted, formatted


def test_reading_a_parse_back_runs_no_more_collections_for_more_exports(tmp_path):
    """Reading the parse back pauses the collector (dldbg.nogc) as the loader's per-symbol
    stages do: a load of thousands of exports runs no more collections than a small one."""
    import gc

    collections, loading = [], []

    def note(phase, info):
        if phase == "start" and loading and loading[-1]:
            collections.append(info["generation"])

    def listener(event):
        if event.kind in ("load.start", "load.done"):
            loading.append(event.kind == "load.start")

    def collections_loading(n: int) -> int:
        paths = symbolgen.write(tmp_path / str(n), n)
        engine = Engine(StandaloneHost(), cache_dir=str(tmp_path / "cache"))
        engine.listeners.append(listener)
        collections.clear()
        for role in ("funcs", "data"):
            engine.dlopen(str(paths[role]), RTLD_NOW | RTLD_GLOBAL)
        assert engine.call(f"f{n - 1}", []) == n - 1
        return len(collections)

    gc.callbacks.append(note)
    try:
        for n in (100, 4000):
            collections_loading(n)  # fills the parse cache
        small, large = collections_loading(100), collections_loading(4000)
    finally:
        gc.callbacks.remove(note)
    # at most a young collection as each paused region ends
    assert large <= small + 8, (small, large)
    assert gc.isenabled()


def test_bytes_a_host_prepares_are_parsed_once_too(tmp_path, parses):
    """A host's `prepare` (the WASI host adds a memory export) and the legacy-EH translation give
    the loader new bytes, which it parses through the same cache."""
    from dldbg.wasm.binary import encode_custom_section

    class PreparingHost(StandaloneHost):
        def prepare(self, wasm, data):
            return data + encode_custom_section("prepared", b"by the host")

    for expected in (2, 2):  # the file and the prepared bytes, the first time only
        engine = Engine(PreparingHost(), cache_dir=str(tmp_path))
        engine.dlopen(str(RELOC_DEP), RTLD_NOW | RTLD_GLOBAL)
        assert parses["n"] == expected
        assert engine.modules[0].wasm.customs[-1].payload == b"by the host"
        assert engine.call("dep_square", [5]) == 25


def test_base_globals_are_made_through_the_c_api(tmp_path, monkeypatch):
    # `__memory_base` and `__table_base` were a `wasmtime.Global` each, some 20 times the cost
    # of the C API's `wasmtime_global_new` (the GOT's way, dldbg.linker.capi)
    import wasmtime

    from dldbg.linker import capi

    made = {"n": 0}
    init = wasmtime.Global.__init__

    def counting(self, *args, **kwargs):
        made["n"] += 1
        init(self, *args, **kwargs)

    engine = Engine(StandaloneHost(), cache_dir=str(tmp_path / "cache"))
    engine.ensure_memory()  # the host's `__stack_pointer` is a `wasmtime.Global` (once per engine)
    monkeypatch.setattr(wasmtime.Global, "__init__", counting)
    engine.dlopen(str(RELOC_DEP.parent / "libreloc.so"), RTLD_NOW | RTLD_GLOBAL)  # and its NEEDED libreloc_dep.so
    assert made["n"] == (0 if capi.FAST else 4)
    # the data relocations and static function pointers read the bases through those globals
    for getter in ("get_own_data_ptr_ok", "get_own_static_ptr_ok", "get_static_fn_ptr_ok", "get_str_ptr_ok",
                   "get_dep_data_ptr_ok", "get_own_fn_ptr_ok"):
        assert engine.call(getter, []) == 1, getter


def test_a_load_makes_no_context_manager_generators_to_pause_the_collector(tmp_path, monkeypatch):
    # `collector_paused` was a contextlib.contextmanager: a generator and a manager object per
    # paused stage of every load (six decorated stages, the parse read back)
    import contextlib

    made = {"n": 0}
    init = contextlib._GeneratorContextManager.__init__

    def counting(self, func, args, kwds):
        if func.__module__ == "dldbg.nogc":
            made["n"] += 1
        init(self, func, args, kwds)

    monkeypatch.setattr(contextlib._GeneratorContextManager, "__init__", counting)
    import gc

    from dldbg.linker.loader import LoadRequest

    enabled = []
    resolve = LoadRequest._resolve_import

    def noting(self, *args):
        enabled.append(gc.isenabled())
        return resolve(self, *args)

    monkeypatch.setattr(LoadRequest, "_resolve_import", noting)
    engine = Engine(StandaloneHost(), cache_dir=str(tmp_path / "cache"))
    engine.dlopen(str(RELOC_DEP.parent / "libreloc.so"), RTLD_NOW | RTLD_GLOBAL)
    assert made["n"] == 0
    assert enabled and not any(enabled) and gc.isenabled()  # paused in the stage, resumed after
    assert engine.call("get_dep_data_ptr_ok", []) == 1


def test_empty_relocation_and_constructor_functions_are_not_called(tmp_path, monkeypatch):
    # wasm-ld gives every -shared module `__wasm_apply_data_relocs` and clang `__wasm_call_ctors`,
    # empty when there is nothing to relocate or construct: calling them changed nothing and
    # cost the process's first call into wasm (a tenth of a millisecond) and a memory snapshot
    calls = []
    call_func = Engine.call_func

    def counting(self, func, name, args, **kwargs):
        calls.append(name)
        return call_func(self, func, name, args, **kwargs)

    monkeypatch.setattr(Engine, "call_func", counting)
    engine = Engine(StandaloneHost(), cache_dir=str(tmp_path / "cache"))
    events = []
    engine.listeners.append(events.append)
    engine.dlopen(str(RELOC_DEP), RTLD_NOW | RTLD_GLOBAL)  # both empty
    assert calls == []
    relocs = [e for e in events if e.kind == "reloc.apply"]
    ctors = [e for e in events if e.kind == "ctor.call"]
    assert [(e.function, e.changes) for e in relocs] == [("__wasm_apply_data_relocs", ())]
    assert [e.function for e in ctors] == ["__wasm_call_ctors"]
    assert [e.kind for e in events][-4:] == ["reloc.apply", "ctor.call", "symbols.publish", "load.done"]
    assert engine.call("dep_square", [6]) == 36
    events.clear()
    calls.clear()
    engine.dlopen(str(RELOC_DEP.parent / "libreloc.so"), RTLD_NOW | RTLD_GLOBAL)  # relocations and constructors
    assert calls == ["__wasm_apply_data_relocs", "__wasm_call_ctors"]
    assert [e for e in events if e.kind == "reloc.apply"][0].changes  # what the relocations wrote
    assert engine.call("get_dep_data_ptr_ok", []) == 1


def test_a_load_reads_the_stack_pointer_without_wasmtime_py(tmp_path, monkeypatch):
    # `__stack_pointer` is read before instantiation and around every call into wasm (to put
    # it back after a trap): through wasmtime-py's Global.value about 10 microseconds each
    import wasmtime

    reads = []
    value = wasmtime.Global.value
    monkeypatch.setattr(wasmtime.Global, "value", lambda self, store: reads.append(self) or value(self, store))
    engine = Engine(StandaloneHost(), cache_dir=str(tmp_path / "cache"))
    engine.dlopen(str(RELOC_DEP.parent / "libreloc.so"), RTLD_NOW | RTLD_GLOBAL)
    sp = engine.stack_value()
    assert reads == [] and sp == engine.stack_pointer.value(engine.store) == StandaloneHost().stack_high


def test_instantiation_makes_no_context_manager_generator(tmp_path, monkeypatch):
    # wasmtime-py's `enter_wasm` is a contextlib generator; `capi.instantiate` checks the trap
    # and a host function's exception itself, and passes the imports without a ctypes array
    # type per import count (tens of microseconds of a small module's load, the first time)
    import contextlib

    made = []
    init = contextlib._GeneratorContextManager.__init__

    def counting(self, func, args, kwds):
        if func.__module__.startswith(("wasmtime", "dldbg")):
            made.append(f"{func.__module__}.{func.__qualname__}")
        init(self, func, args, kwds)

    engine = Engine(StandaloneHost(), cache_dir=str(tmp_path / "cache"))
    monkeypatch.setattr(contextlib._GeneratorContextManager, "__init__", counting)
    engine.dlopen(str(RELOC_DEP), RTLD_NOW | RTLD_GLOBAL)  # nothing to relocate or construct: no call
    assert made == []
    monkeypatch.undo()
    assert engine.call("dep_square", [12]) == 144


def test_instantiate_raises_what_wasmtime_py_raises():
    import wasmtime

    from dldbg.linker import capi

    store = wasmtime.Store()

    class HostError(Exception):
        pass

    def fail():
        raise HostError("from the host")

    calls_host = wasmtime.Module(store.engine, '(module (import "e" "f" (func $f)) (func $s call $f) (start $s))')
    traps = wasmtime.Module(store.engine, "(module (func $s unreachable) (start $s))")
    host = wasmtime.Func(store, wasmtime.FuncType([], []), fail)
    wrong = wasmtime.Global(store, wasmtime.GlobalType(wasmtime.ValType.i32(), False), wasmtime.Val.i32(1))
    for module, imports, error, text in ((calls_host, [host], HostError, "from the host"),
                                         (traps, [], wasmtime.Trap, "unreachable"),
                                         (calls_host, [wrong], wasmtime.WasmtimeError, "incompatible import type for `e::f`")):
        for instantiate in (capi.instantiate, wasmtime.Instance):
            with pytest.raises(error, match=text):
                instantiate(store, module, imports)
    exporting = wasmtime.Module(store.engine, '(module (import "e" "g" (global i32)) (global (export "h") i32 (global.get 0)))')
    instance = capi.instantiate(store, exporting, [wrong])
    assert instance.exports(store)["h"].value(store) == 1


def test_memory_is_reached_without_wasmtime_py_wrappers(tmp_path, monkeypatch):
    # every read, write and zeroing of the memory (the loader zeroes a reused region and
    # snapshots what relocations write) asks for its data pointer and size: wasmtime-py's
    # `data_ptr` casts to a ctypes pointer and checks declared argument types each time (its
    # size in pages too: each load of a module importing the memory compares it with the import)
    import wasmtime

    asked = []
    for name in ("data_ptr", "data_len", "size"):
        original = getattr(wasmtime.Memory, name)
        monkeypatch.setattr(wasmtime.Memory, name, lambda self, store, _o=original, _n=name: asked.append(_n) or _o(self, store))
    engine = Engine(StandaloneHost(), cache_dir=str(tmp_path / "cache"))
    events = []
    engine.listeners.append(events.append)
    engine.dlopen(str(RELOC_DEP.parent / "libreloc.so"), RTLD_NOW | RTLD_GLOBAL)
    address = engine.dlsym(RTLD_DEFAULT, "dep_data")
    engine.write_memory(address, b"\x07\x00\x00\x00")
    assert engine.read_memory(address, 4) == b"\x07\x00\x00\x00"
    assert any(e.kind == "reloc.apply" and e.changes for e in events)
    assert asked == []
    assert engine.memory.data_len == engine.memory.extern.data_len(engine.store)
    assert engine.memory.pages == engine.memory.extern.size(engine.store) == engine.memory.data_len // 65536


def test_a_module_file_is_read_without_a_file_object(tmp_path, monkeypatch):
    # a buffered file object over a dup of the descriptor cost a small module's load some 20 us
    import builtins

    def refuse(*args, **kwargs):
        raise AssertionError("a file object was made")

    monkeypatch.setattr(reader.os, "fdopen", refuse)
    monkeypatch.setattr(reader.os, "dup", refuse)
    assert reader.read_wasm_bytes(RELOC_DEP, 1 << 20) == RELOC_DEP.read_bytes()
    engine = Engine(StandaloneHost(), cache_dir=None)
    monkeypatch.setattr(builtins, "open", refuse)  # (the parse read back has a file of its own)
    engine.dlopen(str(RELOC_DEP), RTLD_NOW | RTLD_GLOBAL)
    monkeypatch.undo()
    assert engine.call("dep_square", [3]) == 9

def test_the_sigint_watcher_starts_only_when_wasm_is_about_to_run(tmp_path, monkeypatch):
    """A session's command installs its SIGINT handler (through the C function: `signal.signal`
    makes an enum of the old handler through an exception); the watcher's pipe and thread start
    when the engine is about to enter wasm (`Engine.before_wasm`), once per session, not with
    every command.  tests/test_session_nested.py checks that Ctrl-C still stops looping wasm."""
    import _thread
    import signal

    from dldbg.commands import builtin_registry
    from dldbg.plugins import make_plugin_manager
    from dldbg.session import Session, TextPrinter

    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signals need the main thread")
    threads, wrapped = [], []
    start_new_thread = _thread.start_new_thread
    monkeypatch.setattr(_thread, "start_new_thread", lambda *a: threads.append(a) or start_new_thread(*a))
    monkeypatch.setattr(signal, "signal", lambda *a: wrapped.append(a) or pytest.fail("signal.signal called"))
    session = Session(None, registry=builtin_registry(), cache_dir=str(tmp_path),
                      printer=TextPrinter(io.StringIO(), io.StringIO()), plugins=make_plugin_manager(entry_points=False))
    try:
        for line in ("help", "info modules", "break load", "info breakpoints", "delete", f"dlopen {RELOC_DEP}"):
            assert session.execute(line).ok, line
        assert threads == []  # libreloc_dep.so's relocation and constructor functions are empty: no wasm ran
        assert session.execute("call dep_square 7").data["result"] == 49
        assert session.execute("call dep_square 8").data["result"] == 64
        assert len(threads) == 1  # the first wasm entry started it; it stays for the session
        assert wrapped == []
    finally:
        session.close()

def test_stages_with_nothing_to_do_look_nothing_up(tmp_path, monkeypatch):
    # a module without element segments, TLS or relocations: the table stage evaluates no
    # segment offsets, the TLS stage asks the instance for no export it does not have
    from dldbg.linker.module import LoadedModule

    asked, evaluated = [], []
    getitem = wasmtime_compat.InstanceExports.__getitem__
    values = LoadedModule.base_global_values
    monkeypatch.setattr(wasmtime_compat.InstanceExports, "__getitem__",
                        lambda self, name: asked.append(name) or getitem(self, name))
    monkeypatch.setattr(LoadedModule, "base_global_values", lambda self: evaluated.append(self.name) or values(self))
    engine = Engine(StandaloneHost(), cache_dir=str(tmp_path / "cache"))
    engine.dlopen(str(RELOC_DEP), RTLD_NOW | RTLD_GLOBAL)
    exported = set(engine.modules[0].wasm.export_map)
    assert [name for name in asked if name not in exported] == [] and evaluated == []
    assert engine.call("dep_square", [4]) == 16


def test_relocations_and_constructors_are_called_without_wasmtime_py(tmp_path, monkeypatch):
    # wasmtime-py's Func.__call__ asks wasmtime for the type and makes a ctypes array type for
    # the parameters and one for the results: some 0.1 ms for a process's first call into wasm;
    # the loader knows from the parse that these functions take and return nothing
    import wasmtime

    calls = []
    call = wasmtime.Func.__call__
    engine = Engine(StandaloneHost(), cache_dir=str(tmp_path / "cache"))
    events = []
    engine.listeners.append(events.append)
    monkeypatch.setattr(wasmtime.Func, "__call__", lambda self, *a: calls.append(self) or call(self, *a))
    engine.dlopen(str(RELOC_DEP.parent / "libreloc.so"), RTLD_NOW | RTLD_GLOBAL)  # both non-empty
    assert calls == []
    assert [e.function for e in events if e.kind in ("reloc.apply", "ctor.call")][-2:] == [
        "__wasm_apply_data_relocs", "__wasm_call_ctors"]
    assert next(e for e in events if e.kind == "reloc.apply" and e.module == "libreloc.so").changes
    monkeypatch.undo()
    assert engine.call("get_ctor_ok", []) == 1  # the constructor ran after the relocations
    traps = Engine(StandaloneHost(), cache_dir=str(tmp_path / "cache"))
    with pytest.raises(DlError, match="ctors: __wasm_call_ctors failed: __wasm_call_ctors trapped: wasm trap: wasm `unreachable`"):
        traps.dlopen(str(SAMPLES / "clang16" / "ctor_trap" / "libctor_trap.so"), RTLD_NOW | RTLD_GLOBAL)


def test_a_load_resolves_each_path_once_without_pythons_realpath(tmp_path, monkeypatch):
    # os.path.realpath walks the path in Python (an lstat and joins per component: ~40 us of a
    # small module's load); the linker's keys come from the C library's realpath, and a NEEDED
    # library's path is resolved once, not once to ask whether it is loaded and again to load it
    import posixpath

    from dldbg.linker import search

    link = tmp_path / "link"
    link.symlink_to(RELOC_DEP.parent)  # a NEEDED library found through a symlinked folder
    resolved = []
    realpath = posixpath.realpath
    monkeypatch.setattr(posixpath, "realpath", lambda path, **kw: resolved.append(path) or realpath(path, **kw))
    c_resolved = []
    real_path = search.real_path
    monkeypatch.setattr(search, "real_path", lambda path: c_resolved.append(path) or real_path(path))
    from dldbg.linker import engine as engine_module
    from dldbg.linker import loader as loader_module

    monkeypatch.setattr(engine_module, "real_path", search.real_path)
    monkeypatch.setattr(loader_module, "real_path", search.real_path)
    engine = Engine(StandaloneHost(), cache_dir=str(tmp_path / "cache"))
    handle = engine.dlopen(str(link / "libreloc.so"), RTLD_NOW | RTLD_GLOBAL)
    assert resolved == [] and len(c_resolved) == 2  # libreloc.so, then its NEEDED libreloc_dep.so
    monkeypatch.undo()
    assert sorted(engine.modules_by_path) == sorted(os.path.realpath(p) for p in c_resolved)
    assert sorted(engine.modules_by_path) == [str(RELOC_DEP.parent / "libreloc.so"), str(RELOC_DEP)]
    assert engine.dlopen(str(RELOC_DEP.parent / "libreloc.so"), RTLD_NOW | RTLD_GLOBAL) == handle  # the same module
    engine.dlclose(handle)
    engine.dlclose(handle)
    assert str(RELOC_DEP.parent / "libreloc.so") not in engine.modules_by_path


def test_i32_global_types_are_made_once_per_process(tmp_path, monkeypatch):
    # wasmtime-py's `GlobalType(ValType.i32(), mutable)` (three wrapper objects, every argument
    # converted through declared types: some 20 us the first time) was made per engine for the
    # GOT's globals and again for `__memory_base` and `__table_base` at the first load
    import wasmtime

    from dldbg.linker import capi

    made = []
    init = wasmtime.GlobalType.__init__
    monkeypatch.setattr(wasmtime.GlobalType, "__init__", lambda self, *a: made.append(a) or init(self, *a))
    engine = Engine(StandaloneHost(), cache_dir=str(tmp_path / "cache"))  # the host's `__stack_pointer`: its own type
    engine.dlopen(str(RELOC_DEP.parent / "libreloc.so"), RTLD_NOW | RTLD_GLOBAL)  # GOT.mem imports and the bases
    second = Engine(StandaloneHost(), cache_dir=str(tmp_path / "cache"))
    second.dlopen(str(RELOC_DEP), RTLD_NOW | RTLD_GLOBAL)
    assert len(made) == (2 if capi.FAST else 6)  # the two hosts' stack pointers
    monkeypatch.undo()
    assert engine.call("get_dep_data_ptr_ok", []) == 1 and second.call("dep_square", [5]) == 25
    for handle, mutable in ((engine._constants.new(3), False), (engine.got.entries["dep_data"].handle, True)):
        glob = capi.as_global(handle)
        assert (str(glob.type(engine.store).content), glob.type(engine.store).mutable) == ("i32", mutable)


def test_a_load_asks_for_no_files_status(tmp_path, monkeypatch):
    # the module file was `stat`ed to compare it with a kept copy when nothing was kept (the
    # loader takes the file: `ModuleFiles.take`), and its machine code's file twice (whether
    # it is cached, for the compile estimate of the `module.read` event, then again before
    # deserialising it): the machine code is deserialised before that event instead
    # (`CompileCache.cached`), a missing file being wasmtime's error
    stats = []
    stat = os.stat
    monkeypatch.setattr(os, "stat", lambda path, *a, **kw: stats.append(os.fspath(path)) or stat(path, *a, **kw))
    engine = Engine(StandaloneHost(), cache_dir=str(tmp_path / "cache"))
    engine.dlopen(str(RELOC_DEP), RTLD_NOW | RTLD_GLOBAL)  # compiled, into the cache
    compiled = engine.cache.path_for(engine.modules[0].sha256)
    assert os.path.exists(compiled)
    stats.clear()
    engine = Engine(StandaloneHost(), cache_dir=str(tmp_path / "cache"))
    engine.dlopen(str(RELOC_DEP), RTLD_NOW | RTLD_GLOBAL)
    assert stats.count(str(RELOC_DEP)) == 0 and stats.count(compiled) == 0
    assert engine.modules[0].compiled is not None and engine.call("dep_square", [9]) == 81
    files = ModuleFiles()  # a file kept by `get` is compared with the file again when taken
    data, wasm = files.get(str(RELOC_DEP))
    stats.clear()
    assert files.take(str(RELOC_DEP)) == (data, wasm) and stats == [str(RELOC_DEP)]
    assert files.take(str(RELOC_DEP))[1] is not wasm  # not kept: read again


def test_a_missing_or_damaged_machine_code_file_is_compiled_again(tmp_path):
    engine = _load(RELOC_DEP, tmp_path / "cache")
    compiled = engine.cache.path_for(engine.modules[0].sha256)
    for damage in (lambda: Path(compiled).write_bytes(b"not machine code"), lambda: os.unlink(compiled)):
        damage()
        events = []
        again = Engine(StandaloneHost(), cache_dir=str(tmp_path / "cache"))
        again.listeners.append(events.append)
        again.dlopen(str(RELOC_DEP), RTLD_NOW | RTLD_GLOBAL)
        assert [e.source for e in events if e.kind == "module.compile"] == ["compiled"]
        assert again.call("dep_square", [3]) == 9 and os.path.getsize(compiled) > 1000


def test_an_instantiation_without_a_start_function_reads_no_stack_pointer(tmp_path, monkeypatch):
    # no wasm runs when a module without a start function is instantiated: `__stack_pointer`
    # cannot change, nothing needs putting back after a failure (the request reads it once)
    reads = []
    stack_value = Engine.stack_value
    monkeypatch.setattr(Engine, "stack_value", lambda self: reads.append(self.stage) or stack_value(self))
    engine = Engine(StandaloneHost(), cache_dir=str(tmp_path / "cache"))
    engine.dlopen(str(RELOC_DEP), RTLD_NOW | RTLD_GLOBAL)
    assert reads == ["call"]  # `_run_request`, before the load
    assert engine.stack_value() == StandaloneHost().stack_high
    reads.clear()
    engine = Engine(StandaloneHost(), cache_dir=str(tmp_path / "cache"))
    engine.dlopen(str(SAMPLES / "clang16" / "tls_mt" / "libtls.so"), RTLD_NOW | RTLD_GLOBAL)  # a start function
    assert reads[:2] == ["call", "instantiate"]


def test_a_module_without_got_func_imports_places_no_function(tmp_path, monkeypatch):
    from dldbg.linker.loader import LoadRequest

    placed = []
    place = LoadRequest._place_found_functions
    monkeypatch.setattr(LoadRequest, "_place_found_functions", lambda self, mod, *a: placed.append(mod.name) or place(self, mod, *a))
    engine = Engine(StandaloneHost(), cache_dir=str(tmp_path / "cache"))
    engine.dlopen(str(RELOC_DEP), RTLD_NOW | RTLD_GLOBAL)
    assert placed == []
    engine.dlopen(str(RELOC_DEP.parent / "libreloc.so"), RTLD_NOW | RTLD_GLOBAL)  # two GOT.func imports
    assert placed == ["libreloc.so"]
    assert engine.call("get_own_fn_ptr_ok", []) == 1


def test_a_load_takes_no_lock_for_cached_properties(tmp_path, monkeypatch):
    # functools.cached_property takes a lock on every first access in Python 3.11 (about 1 us):
    # a load reads a dozen of its parse's and its module's once each (dldbg.frozen.cached_property)
    import functools

    taken = []
    get = functools.cached_property.__get__
    monkeypatch.setattr(functools.cached_property, "__get__", lambda self, obj, cls=None: taken.append(self.attrname) or get(self, obj, cls))
    engine = Engine(StandaloneHost(), cache_dir=str(tmp_path / "cache"))
    engine.dlopen(str(RELOC_DEP.parent / "libreloc.so"), RTLD_NOW | RTLD_GLOBAL)
    assert taken == []
    assert [m.name for m in engine.modules] == ["libreloc.so", "libreloc_dep.so"]
    assert engine.modules[1].wasm.export_map["dep_square"].kind == "func"


def test_the_first_region_of_a_memory_the_load_made_is_not_zeroed_again(tmp_path, monkeypatch):
    # a new memory is all zeros: the loader zeroed the first module's region all the same (it
    # zeroes a reused region, which the start function's .bss clearing does not cover)
    from dldbg.linker.memory import LinearMemory

    zeroed = []
    zero = LinearMemory.zero
    monkeypatch.setattr(LinearMemory, "zero", lambda self, address, size: zeroed.append((address, size)) or zero(self, address, size))
    engine = Engine(StandaloneHost(), cache_dir=str(tmp_path / "cache"))
    engine.dlopen(str(RELOC_DEP), RTLD_NOW | RTLD_GLOBAL)
    assert zeroed == []
    first = engine.modules[0]
    image = engine.read_memory(first.memory_base, first.memory_size)
    engine.dlopen(str(RELOC_DEP.parent / "libreloc.so"), RTLD_NOW | RTLD_GLOBAL)  # a memory that was used
    assert [size for _address, size in zeroed] == [engine.modules[1].memory_size]
    # a write before the region is handed out (here by a listener, as a debugger stop may):
    # the region is zeroed
    zeroed.clear()
    poked = Engine(StandaloneHost(), cache_dir=str(tmp_path / "cache"))
    heap = StandaloneHost().stack_high

    def poke(event):
        if event.kind == "module.read":
            poked.write_memory(heap, b"\xff" * 256)

    poked.listeners.append(poke)
    poked.dlopen(str(RELOC_DEP), RTLD_NOW | RTLD_GLOBAL)
    mod = poked.modules[0]
    assert [size for _address, size in zeroed] == [mod.memory_size] and heap <= mod.memory_base < heap + 256
    assert poked.read_memory(mod.memory_base, mod.memory_size) == image  # (its data segments cover it all too)


def test_an_absolute_path_is_not_normalised_again(tmp_path, monkeypatch):
    # `os.path.abspath` normalises the path in Python (a loop over its components): a path
    # given absolute and normal is kept as it is (`search.absolute_path`)
    import posixpath

    normalised = []
    normpath = posixpath.normpath
    _load(RELOC_DEP, tmp_path / "cache")  # (writing the caches' files normalises their folder)
    engine = Engine(StandaloneHost(), cache_dir=str(tmp_path / "cache"))
    monkeypatch.setattr(posixpath, "normpath", lambda path: normalised.append(path) or normpath(path))
    engine.dlopen(str(RELOC_DEP), RTLD_NOW | RTLD_GLOBAL)
    assert normalised == [] and engine.modules[0].path == str(RELOC_DEP)
    monkeypatch.chdir(RELOC_DEP.parent.parent)
    other = Engine(StandaloneHost(), cache_dir=str(tmp_path / "cache"))
    other.dlopen("./reloc/../reloc/libreloc_dep.so", RTLD_NOW | RTLD_GLOBAL)
    assert other.modules[0].path == str(RELOC_DEP) and normalised


def test_a_load_formats_no_undo_description_unless_rolled_back(tmp_path, monkeypatch):
    # the undo log's steps of every load (the module forgotten, its memory released, its
    # symbols withdrawn, its handle withdrawn) were formatted and given a closure each; they
    # are described only when a load is rolled back (`Transaction.add_call`), as before
    from dldbg.linker.transaction import Transaction

    formatted = []
    add = Transaction.add
    monkeypatch.setattr(Transaction, "add", lambda self, description, undo: formatted.append(description) or add(self, description, undo))
    engine = Engine(StandaloneHost(), cache_dir=str(tmp_path / "cache"))
    engine.dlopen(str(RELOC_DEP), RTLD_NOW | RTLD_GLOBAL)
    assert formatted == []
    events = []

    def stop(event):  # the load fails once libreloc_dep.so is loaded and libreloc.so instantiated
        events.append(event)
        if event.kind == "ctor.call" and event.module == "libreloc.so":
            raise RuntimeError("stop")

    failing = Engine(StandaloneHost(), cache_dir=str(tmp_path / "cache"))
    failing.listeners.append(stop)
    with pytest.raises(DlError, match="ctors: internal error: RuntimeError: stop"):
        failing.dlopen(str(RELOC_DEP.parent / "libreloc.so"), RTLD_NOW | RTLD_GLOBAL)
    rolled = next(e for e in events if e.kind == "load.fail").rolled_back
    assert rolled[-5:] == ("withdrew handle 1 of libreloc_dep.so", "withdrew 3 symbols of libreloc_dep.so from the global scope",
                           "released memory [0x100400, 0x100420) of libreloc_dep.so", "forgot libreloc_dep.so", "forgot libreloc.so")
    assert "released memory [0x100420, 0x1005a0) of libreloc.so" in rolled
    assert failing.modules == [] and failing.by_handle == {} and not failing.global_scope.owners


def test_a_module_without_got_imports_has_no_got_stage_work(tmp_path, monkeypatch):
    from dldbg.linker.loader import LoadRequest

    ran = []
    for name in ("_update_got_from_exports", "_report_undefined"):
        original = getattr(LoadRequest, name)
        monkeypatch.setattr(LoadRequest, name, lambda self, arg, _o=original, _n=name: ran.append(_n) or _o(self, arg))
    engine = Engine(StandaloneHost(), cache_dir=str(tmp_path / "cache"))
    events = []
    engine.listeners.append(events.append)
    engine.dlopen(str(RELOC_DEP), RTLD_NOW | RTLD_GLOBAL)
    assert ran == []
    engine.dlopen(str(RELOC_DEP.parent / "libreloc.so"), RTLD_NOW | RTLD_GLOBAL)  # GOT.mem and GOT.func imports
    assert ran == ["_update_got_from_exports", "_report_undefined"]
    assert [e.symbol for e in events if e.kind == "got.create"][-3:] == ["own_data", "own_fn", "bss_array"]
    assert engine.call("get_own_fn_ptr_ok", []) == 1
