"""The reader's values, the exception-handling use and the resource limits are `Frozen` classes
(dldbg.frozen), not frozen dataclasses (a start-up cost of `dldbg inspect`): they behave as the
dataclasses did, equal and hashed by class and value, immutable, printed, copied and pickled."""

from __future__ import annotations

import copy
import pickle

import pytest

from catalogue import OUT
from dldbg.errors import DldbgError
from dldbg.frozen import FrozenInstanceError
from dldbg.limits import ResourceLimits
from dldbg.wasm.eh import EhUse
from dldbg.wasm.reader import WasmModule, read_module_file
from dldbg.wasm.types import FuncType, GlobalType, Limits, MemoryType, TableType

RELOC = OUT / "clang16" / "reloc" / "libreloc.so"


def test_equal_and_hashed_by_class_and_value():
    a, b = FuncType(("i32",), ()), FuncType(("i32",), ())
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1 and a is not b
    assert FuncType(("i32",), ()) != FuncType((), ("i32",))
    assert MemoryType(Limits(1)) == MemoryType(Limits(1, None, False, False, None))
    assert MemoryType(Limits(1)) != MemoryType(Limits(1, 2))
    assert GlobalType("i32", True) != TableType("i32", True)  # the same values, another class
    assert Limits(1) != (1, None, False, False, None)
    assert {FuncType((), ()): 1}[FuncType((), ())] == 1


def test_immutable():
    limits = Limits(1)
    with pytest.raises(FrozenInstanceError):
        limits.min = 2
    with pytest.raises(AttributeError):
        del limits.max
    with pytest.raises(AttributeError):
        limits.extra = 1
    assert limits == Limits(1)


def test_printed_as_dataclasses_were():
    assert repr(Limits(1, 2)) == "Limits(min=1, max=2, shared=False, is64=False, page_size_log2=None)"
    assert repr(EhUse("none")) == "EhUse(encoding='none', offset=None, instruction=None)"
    assert repr(ResourceLimits(exports=5)).endswith("imports=100000, exports=5)")


def test_copied_and_pickled():
    module = read_module_file(RELOC)
    values = [module.dylink, module.types[0], module.sections[0], module.customs[0], module.names, module.eh,
              ResourceLimits(exports=5), MemoryType(Limits(1, 2, True))]
    for value in values:
        assert copy.copy(value) == value == copy.deepcopy(value) == pickle.loads(pickle.dumps(value)), value


def test_cached_properties_are_kept_and_not_compared():
    dylink = read_module_file(RELOC).dylink
    other = read_module_file(RELOC).dylink
    assert dylink.weak_imports is dylink.weak_imports
    assert dylink == other and "weak_imports" not in vars(other)


def test_limits_with_overrides():
    assert ResourceLimits().with_overrides(["exports=5, table_size=1K", "imports=0x10"]) == \
        ResourceLimits(exports=5, table_size=1024, imports=16)
    with pytest.raises(DldbgError, match="NAME one of exports, file_size, imports, memory_alignment"):
        ResourceLimits().with_overrides(["frames=3"])


def test_modules_compare_without_their_bytes():
    module = read_module_file(RELOC)
    again = read_module_file(RELOC)
    assert module == again
    again.sha256 = "0" * 64
    assert module == again and "raw=" not in repr(module) and "sha256" not in repr(module)
    again.start = 0
    assert module != again
    with pytest.raises(TypeError):
        hash(module)
    assert WasmModule(None, 0) == WasmModule(None, 0)
