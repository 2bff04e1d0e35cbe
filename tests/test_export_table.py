"""`WasmModule.export_map` read back from the parse cache (dldbg.wasm.exporttable) answers every
question as the dict a parse gives: lookups, misses, a name exported twice, names holding NUL,
more lookups than bisection serves, iteration, copies and pickles."""

from __future__ import annotations

import copy
import pickle

import pytest

from dldbg.limits import ResourceLimits
from dldbg.wasm import exporttable, parsecache, reader
from dldbg.wasm.binary import encode_name, encode_section, encode_uleb

#: (name, kind, index): a function exported under two names, a name exported twice (the
#: reader checks structure, not validity: wasmtime refuses it later), names with NUL and
#: non-ASCII text, names sorting before and after the others
_EXPORTS = [("f", 0, 0), ("g\0h", 0, 0), ("\u00e9t\u00e9", 3, 0), ("", 2, 0), ("f", 3, 0), ("zz", 0, 0), ("a", 1, 0)]


def _module(exports) -> bytes:
    types = encode_section(1, encode_uleb(1) + b"\x60\x00\x00")
    funcs = encode_section(3, encode_uleb(1) + encode_uleb(0))
    table = encode_section(4, encode_uleb(1) + b"\x70\x00\x01")
    memory = encode_section(5, encode_uleb(1) + b"\x00\x01")
    glob = encode_section(6, encode_uleb(1) + b"\x7f\x00\x41\x07\x0b")
    body = encode_uleb(1) + encode_uleb(2) + b"\x00\x0b"
    entries = b"".join(encode_name(name) + bytes([kind]) + encode_uleb(index) for name, kind, index in exports)
    exported = encode_section(7, encode_uleb(len(exports)) + entries)
    return b"\0asm\x01\0\0\0" + types + funcs + table + memory + glob + exported + encode_section(10, body)


def _read_back(tmp_path, data: bytes) -> reader.WasmModule:
    cache = parsecache.ParseCache(str(tmp_path / "parsed"))
    cache.module(data, "1" * 64, "m.wasm", ResourceLimits())
    back = cache.module(data, "1" * 64, "m.wasm", ResourceLimits())
    assert cache.reused == 1
    return back


@pytest.mark.parametrize("exports", [_EXPORTS, [e for e in _EXPORTS if "\0" not in e[0]], _EXPORTS[:1], []])
def test_the_export_map_read_back_answers_as_the_parse_dict(tmp_path, exports):
    data = _module(exports)
    fresh = reader.read_module(data, "m.wasm")
    back = _read_back(tmp_path, data)
    table = back.export_map
    assert isinstance(table, exporttable.ExportTable) and isinstance(fresh.export_map, dict)
    assert back.export_names == fresh.export_names == [name for name, _k, _i in exports]
    for name in [*fresh.export_map, "nonesuch", "f\0", "g", "zzz", "\0"]:
        assert table.get(name) == fresh.export_map.get(name), name
        assert (name in table) == (name in fresh.export_map), name
    assert table.get(7) is None and 7 not in table
    with pytest.raises(KeyError):
        table["nonesuch"]  # noqa: B018
    assert list(table) == list(fresh.export_map) and len(table) == len(fresh.export_map)
    assert table == fresh.export_map and dict(table) == fresh.export_map
    assert table.keys() & {"f", "a"} == fresh.export_map.keys() & {"f", "a"}
    assert back.exports == fresh.exports and back == fresh
    assert pickle.loads(pickle.dumps(table)) == fresh.export_map
    for twin in (copy.copy(back), copy.deepcopy(back), pickle.loads(pickle.dumps(back))):
        assert twin == fresh and twin.export_map == fresh.export_map and type(twin.export_map) is dict


def test_many_lookups_build_one_dict(tmp_path):
    """Past `_PROMOTE` lookups and one per 16 exports (a module whose GOT imports its own
    exports by the thousand) the table builds the dict of every export once and answers from it
    instead of bisecting each time."""
    exports = [(f"s{i}", 0, 0) for i in range(200)]
    back = _read_back(tmp_path, _module(exports))
    table = back.export_map
    bisected = []
    bisect_right = exporttable.bisect_right
    exporttable.bisect_right = lambda *a, **k: bisected.append(a[1]) or bisect_right(*a, **k)
    try:
        for i in range(200):
            assert table[f"s{i}"].name == f"s{i}"
            assert f"t{i}" not in table
    finally:
        exporttable.bisect_right = bisect_right
    assert len(bisected) == exporttable._PROMOTE + 200 // 16 and type(table._map) is dict
    assert table._map == reader.read_module(_module(exports)).export_map and table.get == table._map.get


def test_the_names_a_load_publishes_read_back_are_the_parse_ones(tmp_path):
    """Without the loader's plumbing (`memory`, `__wasm_call_ctors`, `__em_js__*`...), found by
    bisection among the names starting with `_` for a parse read back, in export order."""
    from dldbg.linker.exports import ExportSymbols
    from dldbg.linker.module import LoadedModule, public_names

    exports = [("f", 0, 0), ("__wasm_call_ctors", 0, 0), ("memory", 2, 0), ("__em_js__say", 0, 0), ("_start", 0, 0),
               ("__dso_handle", 3, 0), ("_emscripten_tls_init", 0, 0), ("__x", 3, 0), ("zz", 1, 0), ("__em_js_", 0, 0)]
    for i, listed in enumerate((exports, [e for e in exports if e[0][0] != "_" and e[0] != "memory"], exports[:2], [])):
        data = _module(listed)
        fresh = reader.read_module(data, "m.wasm")
        expected = list(public_names(fresh.export_names))
        assert expected == [n for n, _k, _i in listed if n in ("f", "_start", "__x", "zz", "__em_js_")]
        for wasm in (fresh, _read_back(tmp_path / str(i), data)):
            mod = LoadedModule(id=1, path="m.wasm", wasm=wasm, sha256="", flags=0, compiled=None, is_global=True, group=None)
            assert ExportSymbols(mod, None).public_names() == expected



def test_a_got_load_looks_up_read_back_exports_in_c(tmp_path, monkeypatch):
    """GOT loads look their own and their providers' exports up several times per symbol: the
    tables read back answer in C once promoted (`get` is the dict's), so the table's Python
    methods run a bounded number of times per table, not per symbol (they ran about 4 times
    per GOT symbol through `in`)."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
    import symbolgen

    from dldbg.hosts.standalone import StandaloneHost
    from dldbg.linker.engine import Engine
    from dldbg.linker.flags import RTLD_GLOBAL, RTLD_NOW

    n = 2000
    paths = symbolgen.write(tmp_path / "modules", n)
    for fill in (True, False):  # the first engine fills the parse cache
        engine = Engine(StandaloneHost(), cache_dir=str(tmp_path / "cache"))
        if fill:
            for role in ("funcs", "data", "got_func", "got_mem"):
                engine.dlopen(str(paths[role]), RTLD_NOW | RTLD_GLOBAL)
    engine.dlopen(str(paths["funcs"]), RTLD_NOW | RTLD_GLOBAL)
    engine.dlopen(str(paths["data"]), RTLD_NOW | RTLD_GLOBAL)
    calls: list[str] = []
    for name in ("get", "__contains__", "__getitem__"):
        method = getattr(exporttable.ExportTable, name)
        monkeypatch.setattr(exporttable.ExportTable, name,
                            lambda self, *a, _m=method, _n=name: calls.append(_n) or _m(self, *a))
    for role in ("got_func", "got_mem"):
        engine.dlopen(str(paths[role]), RTLD_NOW | RTLD_GLOBAL)
    monkeypatch.undo()
    tables = [m.wasm.export_map for m in engine.modules]
    assert all(isinstance(t, exporttable.ExportTable) for t in tables)
    assert len(calls) <= len(tables) * (exporttable._PROMOTE + n // 16) + 50, len(calls)
    assert engine.call(f"{paths['got_func'].name}!sum", []) == symbolgen.expected_func_sum(n)


def test_globals_read_back_as_columns_equal_the_parse(tmp_path):
    """Negative and 64-bit constants, and initializers that are not one constant (kept
    marshalled by global number), come back as the reader gives them."""
    from dldbg.wasm.binary import encode_sleb

    inits = [b"\x7f\x00\x41" + encode_sleb(-5), b"\x7e\x00\x42" + encode_sleb(-(1 << 63)),
             b"\x7e\x01\x42" + encode_sleb((1 << 63) - 1), b"\x7f\x00\x41" + encode_sleb((1 << 31) - 1),
             b"\x7d\x00\x43\x00\x00\x80\x3f", b"\x7f\x00\x41\x01\x41\x02\x6a", b"\x7f\x00\x23\x00"]
    globals_section = encode_section(6, encode_uleb(len(inits)) + b"".join(init + b"\x0b" for init in inits))
    data = _module([("g", 3, 6)]).replace(encode_section(6, encode_uleb(1) + b"\x7f\x00\x41\x07\x0b"), globals_section)
    fresh = reader.read_module(data, "m.wasm")
    assert len(fresh.globals) == len(inits)
    back = _read_back(tmp_path, data)
    assert [back.globals[i] for i in reversed(range(len(inits)))] == fresh.globals[::-1]
    assert back.globals == fresh.globals and back == fresh


def test_the_plumbing_among_names_read_back_is_found_without_reading_every_name(tmp_path):
    """An emscripten main exports thousands of names starting with `_`: the loader's plumbing
    among them is found by a bisection per internal name (a walk over the names starting with
    `_` read 2000 names here)."""
    from dldbg.linker.exports import ExportSymbols
    from dldbg.linker.module import LoadedModule, public_names

    exports = [(f"_f{i}", 0, 0) for i in range(2000)] + [("__wasm_call_ctors", 0, 0), ("memory", 2, 0), ("__em_js__x", 0, 0)]
    data = _module(exports)
    back = _read_back(tmp_path, data)
    read = []

    class Counting(list):
        def __getitem__(self, at):
            read.append(at)
            return list.__getitem__(self, at)

    back.export_map.names = Counting(back.export_map.names)
    mod = LoadedModule(id=1, path="m.wasm", wasm=back, sha256="", flags=0, compiled=None, is_global=True, group=None)
    published = ExportSymbols(mod, None).public_names()
    assert published == list(public_names(reader.read_module(data).export_names)) and len(published) == 2000
    assert len(read) <= 25 * 14, len(read)


def test_the_exports_read_back_are_made_once(tmp_path):
    # `WasmModule.exports` and the dict a table asked often builds are the same `Export`s (an
    # emscripten main's 7,000 were made twice), as a parse's `export_map` holds its `exports`
    back = _read_back(tmp_path, _module(_EXPORTS))
    for name in ["f", "zz"] * exporttable._PROMOTE:
        back.export_map.get(name)
    assert all(back.export_map[exp.name] is exp for exp in back.exports[1:])  # (the first "f" is shadowed)
    assert back.export_map["f"] is back.exports[4]
