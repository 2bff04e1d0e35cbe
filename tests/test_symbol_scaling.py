"""A load does work linear in the module's symbols: the import list is walked a fixed number of
times whatever the number of exports, GOT.mem and GOT.func imports (it used to be walked once
per global export and per function identity: quadratic), and the GOT.func slots of functions
other modules define come from one table growth, not one per function.  The per-symbol work
avoids wasmtime-py's slow wrappers (a `Global` made, a `Global.value` read, a `Table.set` or an
import converted by `wasmtime.Instance` per symbol: dldbg.linker.capi calls the C API instead,
and a data export's value comes from its initialiser), and the garbage collector does not run
once per few hundred symbols (dldbg.nogc), but does while a debugger stop inside a load waits.
Work is counted, not timed (timings are in benchmarks/growth.py).  The modules come from
benchmarks/symbolgen.py."""

from __future__ import annotations

import gc
import sys
from pathlib import Path

import pytest
import wasmtime

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import symbolgen  # noqa: E402
from dldbg.hosts.standalone import StandaloneHost  # noqa: E402
from dldbg.wasm import files  # noqa: E402
from dldbg.linker.engine import Engine  # noqa: E402
from dldbg.linker.flags import RTLD_DEFAULT, RTLD_GLOBAL, RTLD_NOW  # noqa: E402


_READ_MODULE = files.read_module


#: wasmtime-py's wrappers that a load must not call once per symbol (`get_extern_ptr`: what
#: `wasmtime.Instance` calls per import; `Func._from_raw`: a `wasmtime.Func` per function a
#: GOT.func entry points at, which is written to its table slot without one)
WRAPPERS = ((wasmtime.Global, "__init__"), (wasmtime.Global, "value"), (wasmtime.Global, "set_value"),
            (wasmtime.Table, "set"), (wasmtime._instance, "get_extern_ptr"), (wasmtime.Func, "_from_raw"))


def _count_calls(monkeypatch, calls: dict) -> None:
    for owner, name in WRAPPERS:
        original = getattr(owner, name)

        def counting(*args, _original=original, _name=f"{owner.__name__}.{name}", **kwargs):
            calls[_name] = calls.get(_name, 0) + 1
            return _original(*args, **kwargs)

        monkeypatch.setattr(owner, name, counting)


class CountingList(list):
    """A list that counts the passes over it."""

    passes = 0

    def __iter__(self):
        CountingList.passes += 1
        return super().__iter__()


def _load_all(tmp_path: Path, n: int, monkeypatch) -> dict:
    paths = symbolgen.write(tmp_path / str(n), n)

    def counting_read(data, path=None, limits=None):
        wasm = _READ_MODULE(data, path, limits)
        wasm.imports = CountingList(wasm.imports)
        return wasm

    monkeypatch.setattr(files, "read_module", counting_read)
    engine = Engine(StandaloneHost(), cache_dir=None)
    events = []
    engine.listeners.append(events.append)
    calls: dict[str, int] = {}
    _count_calls(monkeypatch, calls)
    collections = []

    def collecting(phase, _info):
        collections.append(phase == "start")

    passes = {}
    gc.callbacks.append(collecting)  # the collector reads this very list
    try:
        for role in ("funcs", "data", "got_mem", "got_func"):
            CountingList.passes = 0
            calls.clear()
            start, collected = len(events), len(collections)
            engine.dlopen(str(paths[role]), RTLD_NOW | RTLD_GLOBAL)
            passes[role] = {"import passes": CountingList.passes,
                            "table growths": sum(e.kind == "table.grow" for e in events[start:]),
                            "wasmtime-py wrapper calls": dict(calls),
                            "collections": sum(collections[collected:])}
    finally:
        gc.callbacks.remove(collecting)
    monkeypatch.undo()  # the calls below are not counted
    data = next(m for m in engine.modules if m.name == paths["data"].name)
    assert engine.call(f"{paths['got_mem'].name}!sum", []) == symbolgen.expected_mem_sum(n, data.memory_base)
    assert engine.call(f"{paths['got_func'].name}!sum", []) == symbolgen.expected_func_sum(n)
    assert len(set(engine.dlsym(RTLD_DEFAULT, f"f{i}") for i in range(n))) == n  # one slot per function
    return passes


@pytest.mark.parametrize("role", ["funcs", "data", "got_mem", "got_func"])
def test_import_passes_and_table_growths_do_not_grow_with_the_symbol_count(tmp_path, monkeypatch, role):
    small = _load_all(tmp_path, 150, monkeypatch)
    large = _load_all(tmp_path, 600, monkeypatch)
    for what in ("import passes", "table growths"):
        assert large[role][what] == small[role][what], what
    assert large[role]["import passes"] <= 8


@pytest.mark.parametrize("role", ["funcs", "data", "got_mem", "got_func"])
def test_no_wasmtime_py_wrapper_call_and_no_collection_per_symbol(tmp_path, monkeypatch, role):
    """GOT entries made, read and written, table slots written and instances made through the
    C API; data exports' values read from the binary; the collector paused in the loader's
    per-symbol stages (at Python's default threshold it ran every few hundred symbols)."""
    small = _load_all(tmp_path, 150, monkeypatch)
    large = _load_all(tmp_path, 600, monkeypatch)
    assert large[role]["wasmtime-py wrapper calls"] == small[role]["wasmtime-py wrapper calls"]
    assert all(count <= 4 for count in large[role]["wasmtime-py wrapper calls"].values())
    assert large[role]["collections"] <= 4, large[role]


def test_the_collector_runs_while_a_stop_inside_a_load_waits(tmp_path):
    """A stop at a GOT entry's event is inside a paused stage: while the user is stopped the
    collector runs (and the user's own `gc.disable()` is not undone); after the load it is on."""
    from dldbg.session.stepping import Resume
    from sessionkit import Captured

    paths = symbolgen.write(tmp_path, 20)
    captured = Captured()
    session = captured.session
    captured.ok(f"dlopen {paths['data']}")
    captured.ok(f"dlopen {paths['funcs']}")
    captured.ok("break got.create")
    seen = []

    def wait(pause):
        seen.append(gc.isenabled())
        pause.resume = Resume("continue")

    session.wait = wait
    captured.ok(f"dlopen {paths['got_mem']}")
    assert seen and all(seen), seen
    assert gc.isenabled()
    seen.clear()
    gc.disable()
    try:
        captured.ok(f"dlopen {paths['got_func']}")
    finally:
        gc.enable()
    assert seen and not any(seen), seen


def _symbols_alive() -> int:
    from dldbg.linker.scope import Symbol

    return sum(isinstance(obj, Symbol) for obj in gc.get_objects())


@pytest.mark.parametrize("role", ["funcs", "data"])
def test_a_load_makes_no_symbol_per_export_until_it_is_looked_up(tmp_path, role):
    """A module's exports are published without a Symbol each (dldbg.linker.exports): one is
    made when a name is first looked up, and kept (the same object for every lookup)."""
    made = {}
    for n in (150, 600):
        paths = symbolgen.write(tmp_path / str(n), n)
        engine = Engine(StandaloneHost(), cache_dir=None)
        before = _symbols_alive()
        engine.dlopen(str(paths[role]), RTLD_NOW | RTLD_GLOBAL)
        made[n] = _symbols_alive() - before
        name = "f7" if role == "funcs" else "d7"
        first = engine.global_scope.lookup(name)
        assert first is not None and engine.global_scope.lookup(name) is first
        assert engine.lookup(name)[0] is first and engine.modules[-1].exports[name] is first
        assert _symbols_alive() - before == made[n] + 1
        assert len(engine.global_scope) >= n and name in engine.global_scope.symbols
    assert made[600] == made[150] <= 4, made


def test_a_got_load_keeps_its_undo_steps_in_records_that_do_not_grow_with_the_symbols(tmp_path, monkeypatch):
    """A GOT import's undo steps (entry created, made required, given an importer) are kept as
    one list item of the module's record (Transaction.add_each), not three records each."""
    from dldbg.linker import transaction

    made = []
    init = transaction.Transaction.__init__

    def keeping(self):
        init(self)
        made.append(self)

    monkeypatch.setattr(transaction.Transaction, "__init__", keeping)
    records = {}
    for n in (150, 600):
        paths = symbolgen.write(tmp_path / str(n), n)
        engine = Engine(StandaloneHost(), cache_dir=None)
        engine.dlopen(str(paths["data"]), RTLD_NOW | RTLD_GLOBAL)
        for role in ("got_mem", "funcs", "got_func"):
            made.clear()
            engine.dlopen(str(paths[role]), RTLD_NOW | RTLD_GLOBAL)
            records[role, n] = len(made[-1]._undo)
    for role in ("got_mem", "got_func"):
        assert records[role, 600] == records[role, 150] <= 12, records


def test_a_failed_got_load_rolls_back_each_import_in_order(tmp_path):
    """The rollback of a load that made GOT entries undoes and lists each import's steps, the
    last import first (as when each step had its own record)."""
    from dldbg.errors import DlError

    engine = Engine(StandaloneHost(), cache_dir=None)
    small, large = symbolgen.write(tmp_path / "2", 2), symbolgen.write(tmp_path / "3", 3)
    engine.dlopen(str(small["data"]), RTLD_NOW | RTLD_GLOBAL)
    failed = []
    engine.listeners.append(lambda e: failed.append(e) if e.kind == "load.fail" else None)
    with pytest.raises(DlError, match="undefined symbol 'd2'"):
        engine.dlopen(str(large["got_mem"]), RTLD_NOW | RTLD_GLOBAL)
    name = large["got_mem"].name
    got_lines = [line for line in failed[0].rolled_back if "GOT entry" in line]
    assert got_lines == [f"{name} no longer imports GOT entry d1", "GOT entry d1 no longer required", "removed GOT entry d1",
                         f"{name} no longer imports GOT entry d0", "GOT entry d0 no longer required", "removed GOT entry d0"]
    assert not engine.got.entries and not any("undo failed" in line for line in failed[0].leaked)


def test_got_func_entries_of_functions_a_host_publishes_lazily(tmp_path):
    """A GOT.func entry may point at a function the host publishes to be fetched when first
    used from something other than an instance's exports (the emscripten host's trap stubs of
    JavaScript-library functions): it is fetched and placed as any function."""
    from dldbg.linker.scope import export_symbol
    from dldbg.wasm.types import FuncType

    n = 5
    paths = symbolgen.write(tmp_path, n)
    engine = Engine(StandaloneHost(), cache_dir=None)
    ftype = wasmtime.FuncType([], [wasmtime.ValType.i32()])
    funcs = {f"f{i}": wasmtime.Func(engine.store, ftype, lambda i=i: i) for i in range(n)}
    engine.define_symbols({name: export_symbol(name, "func", "host", 0, funcs, key=("host", name),
                                               func_type=FuncType((), ("i32",))) for name in funcs})
    engine.dlopen(str(paths["got_func"]), RTLD_NOW | RTLD_GLOBAL)
    assert engine.call(f"{paths['got_func'].name}!sum", []) == symbolgen.expected_func_sum(n)


@pytest.mark.parametrize("role", ["data", "got_mem"])
def test_a_process_that_keeps_its_loads_freezes_what_each_paused_stage_made(tmp_path, monkeypatch, role):
    """With `nogc.freeze_at_resume` (what `dldbg run` sets) a paused stage's end freezes what it
    made, so no young collection walks it afterwards (at Python's default threshold, without it,
    the stages' thousands of objects set off collections)."""
    from dldbg import nogc

    paths = symbolgen.write(tmp_path, 3000)
    engine = Engine(StandaloneHost(), cache_dir=None)
    if role == "got_mem":  # what its GOT entries point at
        engine.dlopen(str(paths["data"]), RTLD_NOW | RTLD_GLOBAL)
    monkeypatch.setattr(nogc, "freeze_at_resume", True, raising=False)
    collections = []

    def collecting(phase, _info):
        collections.append(phase == "start")

    thresholds = gc.get_threshold()
    gc.set_threshold(700, *thresholds[1:])
    frozen = gc.get_freeze_count()
    gc.callbacks.append(collecting)
    try:
        gc.collect()
        collections.clear()
        engine.dlopen(str(paths[role]), RTLD_NOW | RTLD_GLOBAL)
        made = gc.get_freeze_count() - frozen
    finally:
        gc.callbacks.remove(collecting)
        gc.set_threshold(*thresholds)
        gc.unfreeze()
    assert sum(collections) == 0, sum(collections)
    assert made > 3000, made



def test_a_paused_region_that_raises_freezes_nothing(monkeypatch):
    """What a paused region that raised made is garbage (a failed stage of a load): with
    `freeze_at_resume` it is left to the collector, in both forms of the region."""
    from dldbg import nogc

    monkeypatch.setattr(nogc, "freeze_at_resume", True, raising=False)

    @nogc.collector_paused()
    def failing():
        made = [[] for _ in range(1000)]
        raise ValueError(len(made))

    frozen = gc.get_freeze_count()
    try:
        with pytest.raises(ValueError):
            with nogc.collector_paused():
                made = [[] for _ in range(1000)]
                raise ValueError(len(made))
        with pytest.raises(ValueError):
            failing()
        assert gc.get_freeze_count() == frozen
        with nogc.collector_paused():
            made = [[] for _ in range(1000)]
        assert gc.get_freeze_count() >= frozen + 1000
    finally:
        gc.unfreeze()


#: helpers a GOT import used to go through once per symbol: the generic import dispatch, the
#: definition looked up again (`_got_lookup`, `Engine.lookup`, `_own_export`), the entry's
#: value read back by its own call (`GlobalOffsetTable.value`), a call per slot written
PER_IMPORT_HELPERS = (("dldbg.linker.loader", "LoadRequest", "_resolve_import"),
                      ("dldbg.linker.loader", "LoadRequest", "_got_lookup"),
                      ("dldbg.linker.loader", "LoadRequest", "_early_value"),
                      ("dldbg.linker.engine", "Engine", "lookup"),
                      ("dldbg.linker.loader", None, "_own_export"),
                      ("dldbg.linker.got", "GlobalOffsetTable", "value"),
                      ("dldbg.linker.capi", "I32Globals", "get"),
                      ("dldbg.linker.functable", "FunctionTable", "place"))


def test_a_got_func_import_calls_no_lookup_helper_of_its_own(tmp_path, monkeypatch):
    """A GOT.func import whose definition is published is resolved in the import loop itself:
    its definition is looked up once, by the pass that gives the functions their table slots,
    which writes them all with one call, and the pass over the GOT entries after instantiation
    reads their values without a call each.  Counted: the helpers above are called as often at
    600 symbols as at 150."""
    import importlib

    calls: dict[str, int] = {}

    def count(owner, name):
        original = getattr(owner, name)

        def counting(*args, _original=original, **kwargs):
            calls[name] = calls.get(name, 0) + 1
            return _original(*args, **kwargs)

        monkeypatch.setattr(owner, name, counting)

    counted = {}
    for n in (150, 600):
        paths = symbolgen.write(tmp_path / str(n), n)
        engine = Engine(StandaloneHost(), cache_dir=None)
        engine.dlopen(str(paths["funcs"]), RTLD_NOW | RTLD_GLOBAL)
        for module, cls, name in PER_IMPORT_HELPERS:
            owner = importlib.import_module(module)
            count(getattr(owner, cls) if cls else owner, name)
        calls.clear()
        engine.dlopen(str(paths["got_func"]), RTLD_NOW | RTLD_GLOBAL)
        counted[n] = dict(calls)
        monkeypatch.undo()
        assert engine.call(f"{paths['got_func'].name}!sum", []) == symbolgen.expected_func_sum(n)
    assert counted[600] == counted[150], counted
    assert all(count <= 8 for count in counted[600].values()), counted
