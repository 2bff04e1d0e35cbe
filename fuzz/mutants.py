"""Seeded mutants of the bundled samples (samples/out): the kinds of damage a loader meets.

`mutant(corpus, seed, index)` is a pure function of its arguments: the same seed and index give
the same bytes on every machine, so a finding is reproduced by its number alone.  Kinds:

* `truncate`   the file cut at a random length (sometimes inside the header)
* `flip`       1 to 4 bytes XORed with a random value
* `leb`        a LEB128 size or count in the dylink.0, import, data or element section (or the
               section's own size) replaced by a boundary value, at the same width or re-encoded
* `section`    a section duplicated, deleted, or swapped with another
* `mem_info`   a MEM_INFO field (memorysize, memoryalignment, tablesize, tablealignment) set to
               an extreme value, the dylink.0 section re-encoded
* `needed`     the NEEDED list edited: missing, self, special files, odd names, duplicates
* `imports`    an import's kind, module, field, type index, global type or limits changed
* `exports`    an export's index, kind or name changed, or an export added or deleted

Section layout: WebAssembly core specification 5.5; dylink.0: tool-conventions
DynamicLinking.md.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from dldbg.wasm.binary import Cursor, encode_name, encode_section, encode_uleb

MAGIC = b"\0asm\x01\0\0\0"
KINDS = ("truncate", "flip", "leb", "section", "mem_info", "needed", "imports", "exports")
IMPORT, EXPORT, ELEM, DATA = 2, 7, 9, 11

#: values a corrupted size or count takes (plus the original's neighbours and a random one)
BOUNDARY = (0, 1, 0x7F, 0x80, 0x3FFF, 0xFFFF, 0x10000, 1 << 20, 1 << 24, (1 << 31) - 1, 1 << 31, (1 << 32) - 1)
MEM_SIZES = (0, 1, 3, 1 << 16, 1 << 20, 1 << 26, 1 << 28, 1 << 30, (1 << 31) - 1, 1 << 31, (1 << 32) - 1)
ALIGNMENTS = (0, 1, 2, 4, 12, 16, 20, 31, 32, 33, 63, 64, 94, 255, (1 << 32) - 1)
TABLE_SIZES = (0, 1, 2, 100, 1 << 16, 1 << 20, 1 << 22, 1 << 24, 10_000_000, (1 << 31) - 1, (1 << 32) - 1)
ODD_NAMES = ("libnope.so", "", "/dev/zero", "/dev/null", "/proc/self/exe", "/etc/passwd", "../../../../etc/passwd",
             ".", "/", "lib\x1b[2Jevil.so", "x" * 300, "lib\0nul.so", "/tmp", "deps", "$ORIGIN/../libx.so")
SPECIAL_FIELDS = ("__memory_base", "__table_base", "__memory_base32", "__table_base32", "__stack_pointer", "memory",
                  "__indirect_function_table", "table", "dlopen", "emscripten_stack_get_end", "__heap_base",
                  "proc_exit", "fd_write", "fd_seek", "stackAlloc")
SPECIAL_EXPORTS = ("__wasm_call_ctors", "__wasm_apply_data_relocs", "__post_instantiate", "__wasm_init_tls",
                   "__tls_size", "__tls_align", "_start", "_initialize", "main", "memory", "stackSave",
                   "stackRestore", "stackAlloc", "emscripten_stack_get_end", "emscripten_stack_get_base",
                   "emscripten_stack_set_limits", "__set_stack_limits", "malloc", "free", "__stack_pointer")


def corpus(root: Path) -> list[Path]:
    """The sample modules under `root` (samples/out), sorted, so a seed means the same on every machine."""
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in (".so", ".wasm"))


@dataclass(frozen=True)
class Mutant:
    index: int
    source: Path
    kind: str
    detail: str
    data: bytes

    def describe(self) -> str:
        return f"#{self.index} {self.kind} of {self.source}: {self.detail}"


@dataclass
class _Section:
    id: int
    start: int  # the id byte
    size_at: int  # the size LEB
    payload: int
    end: int
    name: str | None = None  # custom sections


def sections(data: bytes) -> list[_Section]:
    """The well-formed prefix of `data`'s sections (stops at the first damaged one)."""
    out: list[_Section] = []
    cur = Cursor(data, 8)
    try:
        while not cur.at_end():
            start = cur.pos
            sid = cur.u8()
            size_at = cur.pos
            size = cur.uleb()
            payload = cur.pos
            body = cur.sub(size)
            name = body.name() if sid == 0 else None
            out.append(_Section(sid, start, size_at, payload, payload + size, name))
    except Exception:  # noqa: BLE001 - a damaged tail just ends the list
        pass
    return out


def mutant(files: list[Path], seed: int, index: int, cache: dict | None = None) -> Mutant:
    """Mutant number `index` of campaign `seed` (deterministic)."""
    rng = random.Random(f"{seed}:{index}")
    source = rng.choice(files)
    if cache is not None:
        original = cache.get(source) or cache.setdefault(source, source.read_bytes())
    else:
        original = source.read_bytes()
    kind = rng.choice(KINDS)
    for _attempt in range(4):
        result = _MUTATORS[kind](rng, original)
        if result is not None and result[0] != original:
            return Mutant(index, source, kind, result[1], result[0])
        kind = rng.choice(("truncate", "flip"))  # the kind does not apply to this file
    data = original[: len(original) // 2]
    return Mutant(index, source, "truncate", f"cut at {len(data)}", data)


# -- kinds -------------------------------------------------------------------------------------
def _truncate(rng: random.Random, data: bytes):
    cut = rng.randrange(0, 12) if rng.random() < 0.05 else rng.randrange(8, max(len(data), 9))
    return data[:cut], f"cut at {cut} of {len(data)}"


def _flip(rng: random.Random, data: bytes):
    out = bytearray(data)
    at = []
    for _ in range(rng.randint(1, 4)):
        pos = rng.randrange(8, len(out)) if len(out) > 8 else rng.randrange(len(out))
        out[pos] ^= rng.randrange(1, 256)
        at.append(pos)
    return bytes(out), "bytes " + ", ".join(f"{p:#x}" for p in at)


def _leb_fields(data: bytes, sec: _Section) -> list[int]:
    """Offsets of LEB128 sizes and counts in a section: the section size, and within
    dylink.0 / import / data / element payloads the counts, name lengths and segment sizes."""
    fields = [(sec.size_at, None)]
    cur = Cursor(data, sec.payload, sec.end)
    try:
        if sec.id == 0 and sec.name and sec.name.startswith("dylink"):
            cur.name()
            while not cur.at_end():
                sub_id = cur.u8()
                fields.append((cur.pos, None))
                body = cur.sub(cur.uleb())
                if sub_id == 1:  # MEM_INFO: four LEBs
                    for _ in range(4):
                        fields.append((body.pos, None))
                        body.uleb()
                elif sub_id in (2, 3, 4, 5):  # a count, then names (and flags)
                    fields.append((body.pos, None))
                    for _ in range(body.uleb()):
                        for _name in range(2 if sub_id == 4 else 1):
                            fields.append((body.pos, None))
                            body.name()
                        if sub_id in (3, 4):
                            fields.append((body.pos, None))
                            body.uleb()
        elif sec.id == IMPORT:
            fields.append((cur.pos, None))
            for _ in range(cur.uleb()):
                for _name in range(2):
                    fields.append((cur.pos, None))
                    cur.name()
                kind = cur.u8()
                if kind == 0:
                    fields.append((cur.pos, None))
                    cur.uleb()
                elif kind in (1, 2):
                    if kind == 1:
                        cur.u8()
                    flags = cur.u8()
                    fields.append((cur.pos, None))
                    cur.uleb(64)
                    if flags & 1:
                        fields.append((cur.pos, None))
                        cur.uleb(64)
                elif kind == 3:
                    cur.bytes(2)
                else:
                    cur.u8()
                    cur.uleb()
        elif sec.id in (DATA, ELEM):
            fields.append((cur.pos, None))
            for _ in range(cur.uleb()):
                flags = cur.uleb()
                if flags not in (0, 1):
                    break
                if flags == 0:
                    while cur.u8() != 0x0B:  # i32.const / global.get / extended const
                        if cur.data[cur.pos - 1] in (0x41, 0x23):
                            cur.sleb(33)
                fields.append((cur.pos, None))
                n = cur.uleb()
                if sec.id == DATA:
                    cur.bytes(n)
                else:
                    for _item in range(n):
                        cur.uleb()
    except Exception:  # noqa: BLE001 - a field list of what could be walked
        pass
    return [at for at, _ in fields]


def _leb_at(data: bytes, pos: int) -> tuple[int, int]:
    """(value, encoded length) of the unsigned LEB128 at `pos`."""
    value = shift = 0
    for n in range(10):
        if pos + n >= len(data):
            return value, n
        byte = data[pos + n]
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, n + 1
    return value, 10


def _padded_uleb(value: int, width: int) -> bytes | None:
    out = bytearray()
    for i in range(width):
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if i < width - 1 else 0))
    return bytes(out) if value == 0 else None


def _leb(rng: random.Random, data: bytes):
    secs = [s for s in sections(data) if s.id in (IMPORT, DATA, ELEM) or (s.name or "").startswith("dylink")]
    if not secs:
        return None
    sec = rng.choice(secs)
    fields = _leb_fields(data, sec)
    at = rng.choice(fields)
    old, width = _leb_at(data, at)
    new = rng.choice(BOUNDARY + (old + 1, max(old - 1, 0), old * 2, rng.randrange(1 << 32)))
    encoded = _padded_uleb(new, width) if rng.random() < 0.6 else None
    encoded = encoded or encode_uleb(new)
    where = sec.name or {IMPORT: "import", DATA: "data", ELEM: "elem"}[sec.id]
    return data[:at] + encoded + data[at + width:], f"{where} LEB at {at:#x}: {old} -> {new} ({len(encoded)} bytes)"


def _section(rng: random.Random, data: bytes):
    secs = sections(data)
    if not secs:
        return None
    parts = [data[s.start:s.end] for s in secs]
    tail = data[secs[-1].end:]
    i = rng.randrange(len(parts))
    what = rng.choice(("duplicate", "delete", "swap"))
    label = lambda k: secs[k].name or str(secs[k].id)  # noqa: E731
    if what == "duplicate":
        j = rng.randrange(len(parts) + 1)
        parts.insert(j, parts[i])
        detail = f"section {label(i)} duplicated at position {j}"
    elif what == "delete":
        del parts[i]
        detail = f"section {label(i)} deleted"
    else:
        j = rng.randrange(len(parts))
        parts[i], parts[j] = parts[j], parts[i]
        detail = f"sections {label(i)} and {label(j)} swapped"
    return data[:8] + b"".join(parts) + tail, detail


def _dylink_subsections(data: bytes):
    """(section, [(id, payload)]) of the dylink.0 section, or None."""
    sec = next((s for s in sections(data) if s.name == "dylink.0"), None)
    if sec is None:
        return None
    cur = Cursor(data, sec.payload, sec.end)
    cur.name()
    subs = []
    try:
        while not cur.at_end():
            sid = cur.u8()
            subs.append((sid, cur.bytes(cur.uleb())))
    except Exception:  # noqa: BLE001
        return None
    return sec, subs


def _with_dylink(data: bytes, sec: _Section, subs) -> bytes:
    payload = encode_name("dylink.0") + b"".join(bytes([sid]) + encode_uleb(len(p)) + p for sid, p in subs)
    return data[:sec.start] + encode_section(0, payload) + data[sec.end:]


def _mem_info(rng: random.Random, data: bytes):
    found = _dylink_subsections(data)
    if found is None:
        return None
    sec, subs = found
    index = next((k for k, (sid, _p) in enumerate(subs) if sid == 1), None)
    if index is None:
        subs.insert(0, (1, bytes(4)))
        index = 0
    cur = Cursor(subs[index][1])
    try:
        values = [cur.uleb() for _ in range(4)]
    except Exception:  # noqa: BLE001
        values = [0, 0, 0, 0]
    field = rng.randrange(4)
    names = ("memorysize", "memoryalignment", "tablesize", "tablealignment")
    choices = (MEM_SIZES, ALIGNMENTS, TABLE_SIZES, ALIGNMENTS)[field]
    old, values[field] = values[field], rng.choice(choices)
    subs[index] = (1, b"".join(encode_uleb(v) for v in values))
    return _with_dylink(data, sec, subs), f"MEM_INFO {names[field]} {old} -> {values[field]}"


def _needed(rng: random.Random, data: bytes):
    found = _dylink_subsections(data)
    if found is None:
        return None
    sec, subs = found
    index = next((k for k, (sid, _p) in enumerate(subs) if sid == 2), None)
    names: list[str] = []
    if index is not None:
        cur = Cursor(subs[index][1])
        try:
            names = [cur.name() for _ in range(cur.uleb())]
        except Exception:  # noqa: BLE001
            names = []
    what = rng.choice(("add", "replace", "duplicate", "clear"))
    name = rng.choice(ODD_NAMES)
    if what == "add" or not names:
        names.insert(rng.randrange(len(names) + 1), name)
        detail = f"NEEDED += {name!r}"
    elif what == "replace":
        k = rng.randrange(len(names))
        detail = f"NEEDED[{k}] {names[k]!r} -> {name!r}"
        names[k] = name
    elif what == "duplicate":
        names.append(names[0])
        detail = f"NEEDED {names[0]!r} twice"
    else:
        names = []
        detail = "NEEDED cleared"
    payload = encode_uleb(len(names)) + b"".join(encode_name(n) for n in names)
    if index is None:
        subs.insert(1 if subs and subs[0][0] == 1 else 0, (2, payload))
    else:
        subs[index] = (2, payload)
    return _with_dylink(data, sec, subs), detail


def _entries(data: bytes, sec: _Section, parse_one):
    cur = Cursor(data, sec.payload, sec.end)
    try:
        return [parse_one(cur) for _ in range(cur.uleb())]
    except Exception:  # noqa: BLE001
        return None


def _import_entry(cur: Cursor):
    module, field = cur.name(), cur.name()
    kind = cur.u8()
    start = cur.pos
    if kind == 0:
        cur.uleb()
    elif kind in (1, 2):
        if kind == 1:
            cur.u8()
        flags = cur.u8()
        cur.uleb(64)
        if flags & 1:
            cur.uleb(64)
    elif kind == 3:
        cur.bytes(2)
    else:
        cur.u8()
        cur.uleb()
    return [module, field, kind, cur.data[start:cur.pos]]


def _random_desc(rng: random.Random, kind: int) -> bytes:
    if kind == 0:
        return encode_uleb(rng.choice((0, 1, 2, 5, 100, 1 << 20)))
    if kind == 1:
        return b"\x70" + rng.choice((b"\x00\x00", b"\x00" + encode_uleb(1 << 24), b"\x01\x02\x01", b"\x00\x01"))
    if kind == 2:
        return rng.choice((b"\x00\x00", b"\x00\x01", b"\x00" + encode_uleb(65536), b"\x03\x01\x02",
                           b"\x01\x05\x01", b"\x00" + encode_uleb(40000)))
    if kind == 3:
        return bytes([rng.choice((0x7F, 0x7E, 0x7D, 0x7C, 0x70)), rng.randrange(2)])
    return b"\x00" + encode_uleb(rng.choice((0, 1, 1000)))


def _imports(rng: random.Random, data: bytes):
    sec = next((s for s in sections(data) if s.id == IMPORT), None)
    if sec is None:
        return None
    entries = _entries(data, sec, _import_entry)
    if not entries:
        return None
    k = rng.randrange(len(entries))
    entry = entries[k]
    before = f"{entry[0]}.{entry[1]}"
    what = rng.choice(("kind", "module", "field", "desc", "delete", "duplicate"))
    if what == "kind":
        entry[2] = rng.choice([x for x in range(5) if x != entry[2]])
        entry[3] = _random_desc(rng, entry[2])
        detail = f"{before} becomes kind {entry[2]}"
    elif what == "module":
        entry[0] = rng.choice(("env", "GOT.mem", "GOT.func", "wasi_snapshot_preview1", "wasi_unstable", "dyld", "other"))
        detail = f"{before} moves to module {entry[0]}"
    elif what == "field":
        entry[1] = rng.choice(SPECIAL_FIELDS + ("no_such_symbol",))
        detail = f"{before} renamed {entry[1]}"
    elif what == "desc":
        entry[3] = _random_desc(rng, entry[2])
        detail = f"{before} gets descriptor {entry[3].hex()}"
    elif what == "delete":
        del entries[k]
        detail = f"{before} deleted"
    else:
        entries.insert(rng.randrange(len(entries) + 1), list(entry))
        detail = f"{before} imported twice"
    payload = encode_uleb(len(entries)) + b"".join(
        encode_name(m) + encode_name(f) + bytes([kind]) + desc for m, f, kind, desc in entries)
    return data[:sec.start] + encode_section(IMPORT, payload) + data[sec.end:], detail


def _exports(rng: random.Random, data: bytes):
    sec = next((s for s in sections(data) if s.id == EXPORT), None)
    if sec is None:
        return None
    entries = _entries(data, sec, lambda c: [c.name(), c.u8(), c.uleb()])
    if entries is None:
        return None
    what = rng.choice(("index", "kind", "name", "delete", "add")) if entries else "add"
    if what == "add" or not entries:
        entry = [rng.choice(SPECIAL_EXPORTS), rng.randrange(4), rng.choice((0, 1, 2, 3, 50, 1 << 20))]
        entries.append(entry)
        detail = f"export {entry} added"
    else:
        k = rng.randrange(len(entries))
        entry = entries[k]
        before = entry[0]
        if what == "index":
            entry[2] = rng.choice((entry[2] + 1, entry[2] + 1000, 0, (1 << 32) - 1, 1 << 20))
            detail = f"export {before} index -> {entry[2]}"
        elif what == "kind":
            entry[1] = rng.choice([x for x in range(5) if x != entry[1]])
            detail = f"export {before} kind -> {entry[1]}"
        elif what == "name":
            entry[0] = rng.choice(SPECIAL_EXPORTS + tuple(e[0] for e in entries))
            detail = f"export {before} renamed {entry[0]}"
        else:
            del entries[k]
            detail = f"export {before} deleted"
    payload = encode_uleb(len(entries)) + b"".join(encode_name(n) + bytes([kind]) + encode_uleb(i)
                                                   for n, kind, i in entries)
    return data[:sec.start] + encode_section(EXPORT, payload) + data[sec.end:], detail


# -- edits for tests: whole, well-formed rewrites ---------------------------------------------
def edit_imports(data: bytes, edit) -> bytes:
    """`data` with its import entries `[module, field, kind, descriptor bytes]` changed in place
    by `edit(entries)`."""
    sec = next(s for s in sections(data) if s.id == IMPORT)
    entries = _entries(data, sec, _import_entry)
    edit(entries)
    payload = encode_uleb(len(entries)) + b"".join(
        encode_name(m) + encode_name(f) + bytes([kind]) + desc for m, f, kind, desc in entries)
    return data[:sec.start] + encode_section(IMPORT, payload) + data[sec.end:]


def edit_exports(data: bytes, edit) -> bytes:
    """`data` with its export entries `[name, kind, index]` changed in place by `edit(entries)`."""
    sec = next(s for s in sections(data) if s.id == EXPORT)
    entries = _entries(data, sec, lambda c: [c.name(), c.u8(), c.uleb()])
    edit(entries)
    payload = encode_uleb(len(entries)) + b"".join(encode_name(n) + bytes([kind]) + encode_uleb(i)
                                                   for n, kind, i in entries)
    return data[:sec.start] + encode_section(EXPORT, payload) + data[sec.end:]


def set_mem_info(data: bytes, **values: int) -> bytes:
    """`data` with MEM_INFO fields (memorysize, memoryalignment, tablesize, tablealignment) set."""
    sec, subs = _dylink_subsections(data)
    names = ("memorysize", "memoryalignment", "tablesize", "tablealignment")
    index = next(k for k, (sid, _p) in enumerate(subs) if sid == 1)
    cur = Cursor(subs[index][1])
    current = dict(zip(names, (cur.uleb() for _ in names)))
    current.update(values)
    subs[index] = (1, b"".join(encode_uleb(current[n]) for n in names))
    return _with_dylink(data, sec, subs)


_MUTATORS = {
    "truncate": _truncate,
    "flip": _flip,
    "leb": _leb,
    "section": _section,
    "mem_info": _mem_info,
    "needed": _needed,
    "imports": _imports,
    "exports": _exports,
}
