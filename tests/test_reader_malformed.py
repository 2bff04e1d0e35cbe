"""Robustness of the wasm reader against malformed input.

(a) truncation: every prefix of a real module either parses (exactly when the cut falls on a
    section boundary) or raises WasmParseError with an offset inside the prefix;
(b) single-byte mutations (seeded) raise nothing but WasmParseError;
(c) hand-built cases with exact messages and offsets.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from dldbg.errors import WasmParseError
from dldbg.wasm import read_module, read_module_file
from dldbg.wasm.binary import encode_custom_section, encode_name, encode_section, encode_uleb
from dldbg.wasm.dylink import UnknownSubsection

ROOT = Path(__file__).resolve().parent.parent
SAMPLES_OUT = Path(os.environ.get("DLDBG_SAMPLES_OUT", ROOT / "samples" / "out"))

HEADER = b"\0asm\x01\x00\x00\x00"

#: conftest.ReaderInputs names (all of them: these need not be readable by wabt).
GENERATED = ("c_basic", "c_libdep", "c_tls_weak_needed", "wat_features", "wat_side", "wat_dylink",
             "wat_legacy_dylink", "hand_table_init")
MAX_SAMPLES = 6  # sample modules per group (good / broken), evenly picked from the sorted list
SMALL_FILE = 4096  # below this, every truncation length is tried
CUTS_FOR_LARGE = 300
MUTATIONS_GENERATED = 400
MUTATIONS_SAMPLE = 250


def _pick(paths: list[Path], n: int) -> list[Path]:
    if len(paths) <= n:
        return paths
    return [paths[round(i * (len(paths) - 1) / (n - 1))] for i in range(n)]


def _samples(broken: bool) -> list[Path]:
    if not SAMPLES_OUT.is_dir():
        return []
    paths = sorted(
        p for p in SAMPLES_OUT.glob("*/**/*.so")
        if p.is_file() and (p.relative_to(SAMPLES_OUT).parts[0] == "broken") == broken
    )
    return _pick(paths, MAX_SAMPLES)


def _params(samples: list[Path]) -> list:
    return [pytest.param(("generated", n), id=n) for n in GENERATED] + [
        pytest.param(("sample", p), id=str(p.relative_to(SAMPLES_OUT))) for p in samples
    ]


@pytest.fixture
def module_path(request, reader_inputs) -> Path:
    source, value = request.param
    return reader_inputs.path(value) if source == "generated" else value


def _outcome(data: bytes) -> WasmParseError | None:
    """None if `data` parses; the WasmParseError otherwise.  Any other exception propagates."""
    try:
        read_module(data)
    except WasmParseError as exc:
        return exc
    return None


# --------------------------------------------------------------------------------------------
# (a) truncation
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("module_path", _params(_samples(broken=False)), indirect=True)
def test_truncation(module_path: Path) -> None:
    data = module_path.read_bytes()
    mod = read_module(data)
    boundaries = {8} | {s.end for s in mod.sections}
    assert max(boundaries) == len(data), f"{module_path.name}: sections do not cover the file"
    if len(data) < SMALL_FILE:
        cuts = range(len(data))
    else:
        step = len(data) / CUTS_FOR_LARGE
        cuts = sorted({int(i * step) for i in range(CUTS_FOR_LARGE)} | {b for b in boundaries if b < len(data)}
                      | {b - 1 for b in boundaries} | {b + 1 for b in boundaries if b + 1 < len(data)})
    for cut in cuts:
        where = f"{module_path.name} cut at {cut} of {len(data)}"
        error = _outcome(data[:cut])
        if cut in boundaries:
            assert error is None, f"{where}: a prefix of whole sections must parse, got {error}"
        else:
            assert error is not None, f"{where}: parsed although the cut is inside a section"
            assert 0 <= error.offset <= cut, f"{where}: error offset {error.offset} outside [0, {cut}]"


# --------------------------------------------------------------------------------------------
# (b) single-byte mutations
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("module_path", _params(_samples(broken=False) + _samples(broken=True)), indirect=True)
def test_single_byte_mutations(module_path: Path) -> None:
    data = module_path.read_bytes()
    count = MUTATIONS_SAMPLE if SAMPLES_OUT in module_path.parents else MUTATIONS_GENERATED
    rng = random.Random(1234)
    for _ in range(count):
        pos = rng.randrange(len(data))
        value = (data[pos] + rng.randrange(1, 256)) % 256  # always a different byte
        mutated = data[:pos] + bytes([value]) + data[pos + 1:]
        try:
            read_module(mutated)
        except WasmParseError as exc:
            assert 0 <= exc.offset <= len(data), \
                f"{module_path.name} byte {pos} -> {value:#04x}: error offset {exc.offset} outside the file"
        except Exception as exc:  # noqa: BLE001 - the point of the test
            pytest.fail(f"{module_path.name} byte {pos} -> {value:#04x}: {type(exc).__name__}: {exc}")


# --------------------------------------------------------------------------------------------
# (c) hand-built cases
# --------------------------------------------------------------------------------------------

def _error(data: bytes) -> WasmParseError:
    with pytest.raises(WasmParseError) as info:
        read_module(data)
    return info.value


def _vec(items: list[bytes]) -> bytes:
    return encode_uleb(len(items)) + b"".join(items)


def _sub(sub_id: int, body: bytes) -> bytes:
    return bytes([sub_id]) + encode_uleb(len(body)) + body


def _mem_info(*values: int) -> bytes:
    return b"".join(encode_uleb(v) for v in values)


TYPE_SECTION = encode_section(1, _vec([b"\x60\x00\x00"]))  # one type: () -> ()


def test_not_wasm() -> None:
    err = _error(b"\x7fELF\x02\x01\x01\x00" + bytes(8))
    assert (err.offset, err.message) == (0, "not a wasm module: need to see wasm magic number (\\0asm)")
    err = _error(b"\0as")
    assert (err.offset, err.message) == (0, "file is 3 bytes, too short for a wasm header")


def test_bad_version() -> None:
    err = _error(b"\0asm\x02\x00\x00\x00")
    assert (err.offset, err.message) == (4, "unsupported wasm version 02000000")


def test_error_carries_the_path(tmp_path: Path) -> None:
    bad = tmp_path / "bad.so"
    bad.write_bytes(b"\0asm\x0d\x00\x00\x00")
    with pytest.raises(WasmParseError) as info:
        read_module_file(bad)
    assert info.value.path == str(bad) and info.value.offset == 4
    assert str(info.value) == f"{bad}: malformed wasm at byte offset 0x4: unsupported wasm version 0d000000"


def test_section_size_past_the_end() -> None:
    # type section id at 8, its size LEB (300 = 0xac 0x02) at 9..10, one byte of payload at 11
    err = _error(HEADER + b"\x01" + encode_uleb(300) + b"\x00")
    assert (err.offset, err.message) == (9, "type section size 300 runs past the end of the file (1 bytes left)")
    err = _error(HEADER + TYPE_SECTION + b"\x00\x05\x01x")  # custom section at 14, size at 15
    assert (err.offset, err.message) == (15, "custom section size 5 runs past the end of the file (2 bytes left)")


def test_unknown_section_id() -> None:
    err = _error(HEADER + encode_section(14, b""))
    assert (err.offset, err.message) == (8, "unknown section id 14")


def test_leb_longer_than_five_bytes_for_u32() -> None:
    # type section count 0 padded to 6 bytes; the count starts at offset 10
    err = _error(HEADER + encode_section(1, b"\x80\x80\x80\x80\x80\x00"))
    assert (err.offset, err.message) == (10, "LEB128 value too long")
    # the section size itself padded to 6 bytes (size field at offset 9)
    err = _error(HEADER + b"\x01\x81\x80\x80\x80\x80\x00\x00")
    assert (err.offset, err.message) == (9, "LEB128 value too long")
    # five bytes whose value needs more than 32 bits
    err = _error(HEADER + encode_section(1, b"\xff\xff\xff\xff\x1f"))
    assert (err.offset, err.message) == (10, "LEB128 value does not fit in u32")
    # five-byte padding (as LLVM writes relocatable LEBs) is fine
    mod = read_module(HEADER + encode_section(1, b"\x80\x80\x80\x80\x00"))
    assert mod.types == [] and mod.sections[0].count == 0


def test_memory64_limits_take_ten_byte_lebs() -> None:
    limits = b"\x05" + b"\x81" + b"\x80" * 8 + b"\x00" + b"\x82\x80\x80\x80\x80\x80\x80\x80\x80\x00"  # i64, max
    mod = read_module(HEADER + encode_section(5, _vec([limits])))
    assert (mod.memories[0].limits.min, mod.memories[0].limits.max, mod.memories[0].limits.is64) == (1, 2, True)
    err = _error(HEADER + encode_section(5, _vec([b"\x04" + b"\x80" * 10 + b"\x00"])))
    assert (err.offset, err.message) == (12, "LEB128 value too long")


def test_name_with_invalid_utf8() -> None:
    # the type section takes bytes 8..13; import section id at 14, size at 15, count at 16,
    # module name length byte at 17
    payload = _vec([b"\x02\xc3\x28" + encode_name("f") + b"\x00\x00"])
    err = _error(HEADER + TYPE_SECTION + encode_section(2, payload))
    assert (err.offset, err.message) == (17, "name is not valid UTF-8 (invalid continuation byte)")
    # a custom section's own name: section at 8, size at 9, name length at 10
    err = _error(HEADER + encode_section(0, b"\x01\xff"))
    assert (err.offset, err.message) == (10, "name is not valid UTF-8 (invalid start byte)")


def test_dylink0_subsection_with_leftover_bytes() -> None:
    # dylink.0 at 8, size at 9, name at 10..18, MEM_INFO id at 19, size at 20, body 21..24, extra byte at 25
    section = encode_custom_section("dylink.0", _sub(1, _mem_info(16, 2, 0, 0) + b"\x00"))
    err = _error(HEADER + section)
    assert (err.offset, err.message) == (25, "dylink.0 subsection MEM_INFO has 1 bytes left over")
    # an unknown subsection must be self-contained too: a NEEDED with a trailing byte
    section = encode_custom_section("dylink.0", _sub(2, _vec([encode_name("a.so")]) + b"\x07"))
    err = _error(HEADER + section)
    assert (err.offset, err.message) == (27, "dylink.0 subsection NEEDED has 1 bytes left over")


def test_dylink0_subsection_past_the_section() -> None:
    # MEM_INFO claims 9 bytes, 4 are there: the error is at the subsection body (offset 21)
    section = encode_custom_section("dylink.0", b"\x01\x09" + _mem_info(1, 2, 3, 4))
    err = _error(HEADER + section)
    assert (err.offset, err.message) == (21, "size 9 runs past the end (4 bytes left)")


def test_unknown_dylink0_subsection_is_kept_and_parsing_goes_on() -> None:
    # toywasm's defect 6 was to stop at an unknown subsection and lose what follows
    payload = (
        _sub(1, _mem_info(32, 3, 1, 0))
        + _sub(9, b"\xaa\xbb")
        + _sub(4, _vec([encode_name("env") + encode_name("f") + encode_uleb(0x11)]))
        + _sub(5, _vec([encode_name("$ORIGIN")]))
    )
    mod = read_module(HEADER + encode_custom_section("dylink.0", payload))
    dl = mod.dylink
    # payload starts at 19; MEM_INFO takes 2 + 4 bytes, so the unknown subsection is at 25
    assert dl.unknown == (UnknownSubsection(9, 25, b"\xaa\xbb"),)
    assert dl.import_info == (("env", "f", 0x11),)
    assert dl.runtime_path == ("$ORIGIN",)
    assert (dl.format, dl.mem_size, dl.mem_align, dl.table_size, dl.table_align) == ("dylink.0", 32, 3, 1, 0)
    assert dl.weak_imports == frozenset({"f"})
    assert mod.dylink_first and dl.offset == 8


def test_legacy_dylink_section() -> None:
    payload = _mem_info(64, 3, 2, 0) + _vec([encode_name("libold.so"), encode_name("libz.so")])
    mod = read_module(HEADER + encode_custom_section("dylink", payload) + TYPE_SECTION)
    dl = mod.dylink
    assert (dl.format, dl.mem_size, dl.mem_align, dl.table_size, dl.table_align) == ("dylink", 64, 3, 2, 0)
    assert dl.needed == ("libold.so", "libz.so")
    assert (dl.export_info, dl.import_info, dl.runtime_path, dl.unknown) == ((), (), (), ())
    assert mod.dylink_first
    # dylink at 8, size at 9, name at 10..16, body at 17: four one-byte LEBs (17..20), needed count
    # at 21, "libold.so" at 22..31, "libz.so" at 32..39, the extra byte at 40
    err = _error(HEADER + encode_custom_section("dylink", payload + b"\x00"))
    assert (err.offset, err.message) == (40, "dylink section has 1 bytes left over")


def test_dylink0_not_first() -> None:
    section = encode_custom_section("dylink.0", _sub(1, _mem_info(8, 2, 0, 0)))
    first = read_module(HEADER + section + TYPE_SECTION)
    assert first.dylink is not None and first.dylink_first
    later = read_module(HEADER + TYPE_SECTION + section)
    assert later.dylink is not None and not later.dylink_first
    assert later.dylink.offset == 14 and later.dylink.mem_size == 8
    # after another custom section it is not first either
    later = read_module(HEADER + encode_custom_section("producers", b"\x00") + section)
    assert not later.dylink_first


def test_second_dylink_section() -> None:
    section = encode_custom_section("dylink.0", _sub(1, _mem_info(8, 2, 0, 0)))
    err = _error(HEADER + section + section)
    assert (err.offset, err.message) == (8 + len(section), "second dylink.0 section (the first is at 0x8)")


def test_malformed_name_section_does_not_fail_the_parse() -> None:
    # function names: claims 3 entries, has 1
    names = encode_custom_section("name", _sub(1, encode_uleb(3) + encode_uleb(0) + encode_name("f")))
    section = encode_custom_section("dylink.0", _sub(1, _mem_info(8, 2, 0, 0)))
    mod = read_module(HEADER + section + TYPE_SECTION + names)
    assert mod.name_section_error is not None and "unexpected end of data" in mod.name_section_error
    assert mod.names.functions == {}
    assert mod.dylink.mem_size == 8 and [s.name for s in mod.sections] == ["dylink.0", "type", "name"]
    # invalid UTF-8 inside the name section
    names = encode_custom_section("name", _sub(1, encode_uleb(1) + encode_uleb(0) + b"\x01\xff"))
    mod = read_module(HEADER + names)
    assert mod.name_section_error is not None and "not valid UTF-8" in mod.name_section_error
    # a well-formed one is read, unknown subsections (locals, 2) skipped
    names = encode_custom_section("name", _sub(0, encode_name("m")) + _sub(2, b"\x00")
                                  + _sub(1, _vec([encode_uleb(0) + encode_name("f")])))
    mod = read_module(HEADER + names)
    assert mod.name_section_error is None and mod.names.module == "m" and mod.names.functions == {0: "f"}


def test_code_count_must_match_functions() -> None:
    funcs = encode_section(3, _vec([encode_uleb(0), encode_uleb(0)]))
    code = encode_section(10, _vec([encode_uleb(2) + b"\x00\x0b"]))
    err = _error(HEADER + TYPE_SECTION + funcs + code)
    assert err.message == "code section has 1 bodies for 2 functions"


def test_table_with_init_expression(reader_inputs) -> None:
    mod = read_module_file(reader_inputs.path("hand_table_init"))
    init_table, plain = mod.tables
    assert init_table.type.elem_type == "funcref" and (init_table.type.limits.min, init_table.type.limits.max) == (2, 10)
    assert init_table.init is not None and init_table.init.ops == (("ref.func", 0),)
    assert plain.type.elem_type == "externref" and plain.init is None
    assert mod.names.functions == {0: "fn"}
