"""Small wasm section rewriter used by samples/build.py (stdlib + dldbg.wasm.binary only).

It works on whole sections and never touches code: split a module into sections, change a few
of them, join them again.  Operations:

* `add_runtime_path`  append a dylink.0 RUNTIME_PATH subsection (id 5) for linkers without -rpath
* `strip_custom`      drop custom sections by name (zig's libc debug info, keeping "name")
* `move_dylink_after_type`   make dylink.0 no longer the first section (a broken input)
* `to_legacy_dylink`  rewrite dylink.0 as the pre-2021 flat "dylink" section, rename
                      env.__indirect_function_table -> env.table and the export
                      __wasm_call_ctors -> __post_instantiate
* `dylink_info`       decode dylink.0 (wasm-objdump 1.0.32 does not show RUNTIME_PATH)

Command line: `python samples/wasmedit.py dump FILE...` prints dylink_info as JSON.
"""

from __future__ import annotations

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from dldbg.wasm.binary import (  # noqa: E402
    Cursor,
    encode_name,
    encode_section,
    encode_uleb,
)

MAGIC = b"\0asm\x01\0\0\0"
CUSTOM, TYPE, IMPORT, EXPORT, CODE = 0, 1, 2, 7, 10
MEM_INFO, NEEDED, EXPORT_INFO, IMPORT_INFO, RUNTIME_PATH = 1, 2, 3, 4, 5


# --- sections -------------------------------------------------------------------------------

def split_sections(data: bytes) -> list[tuple[int, bytes]]:
    """[(section id, payload)] in file order."""
    if data[:8] != MAGIC:
        raise ValueError("not a wasm module (bad magic/version)")
    cur = Cursor(data, 8)
    sections = []
    while not cur.at_end():
        sid = cur.u8()
        size = cur.uleb()
        sections.append((sid, cur.bytes(size)))
    return sections


def join_sections(sections: list[tuple[int, bytes]]) -> bytes:
    return MAGIC + b"".join(encode_section(sid, payload) for sid, payload in sections)


def section_offsets(data: bytes) -> list[tuple[int, int, int]]:
    """[(section id, payload start, payload end)] as absolute offsets in `data`."""
    cur = Cursor(data, 8)
    out = []
    while not cur.at_end():
        sid = cur.u8()
        size = cur.uleb()
        out.append((sid, cur.pos, cur.pos + size))
        cur.pos += size
    return out


def custom_name(payload: bytes) -> tuple[str, bytes]:
    """(name, body) of a custom section payload."""
    cur = Cursor(payload)
    name = cur.name()
    return name, payload[cur.pos:]


def _index_of_custom(sections, name: str) -> int:
    for i, (sid, payload) in enumerate(sections):
        if sid == CUSTOM and custom_name(payload)[0] == name:
            return i
    raise ValueError(f"no custom section {name!r}")


def strip_custom(data: bytes, drop) -> bytes:
    """Remove every custom section whose name satisfies `drop(name)`."""
    kept = [(sid, p) for sid, p in split_sections(data)
            if not (sid == CUSTOM and drop(custom_name(p)[0]))]
    return join_sections(kept)


# --- dylink.0 -------------------------------------------------------------------------------

def parse_subsections(body: bytes) -> list[tuple[int, bytes]]:
    cur = Cursor(body)
    subs = []
    while not cur.at_end():
        sub_id = cur.u8()
        subs.append((sub_id, cur.bytes(cur.uleb())))
    return subs


def encode_subsections(subs: list[tuple[int, bytes]]) -> bytes:
    return b"".join(bytes([sub_id]) + encode_uleb(len(p)) + p for sub_id, p in subs)


def _strings(cur: Cursor) -> list[str]:
    return [cur.name() for _ in range(cur.uleb())]


def dylink_info(data: bytes) -> dict:
    """Decoded dylink.0 (or legacy dylink) metadata, plus where the section sits."""
    sections = split_sections(data)
    for position, (sid, payload) in enumerate(sections):
        if sid != CUSTOM:
            continue
        name, body = custom_name(payload)
        if name == "dylink":
            cur = Cursor(body)
            info = {"section": name, "position": position}
            info["mem_size"], info["mem_align"] = cur.uleb(), cur.uleb()
            info["table_size"], info["table_align"] = cur.uleb(), cur.uleb()
            info["needed"] = _strings(cur)
            return info
        if name != "dylink.0":
            continue
        info = {"section": name, "position": position, "subsections": [], "needed": [],
                "export_info": [], "import_info": [], "runtime_path": []}
        for sub_id, p in parse_subsections(body):
            info["subsections"].append(sub_id)
            cur = Cursor(p)
            if sub_id == MEM_INFO:
                info["mem_size"], info["mem_align"] = cur.uleb(), cur.uleb()
                info["table_size"], info["table_align"] = cur.uleb(), cur.uleb()
            elif sub_id == NEEDED:
                info["needed"] = _strings(cur)
            elif sub_id == EXPORT_INFO:
                info["export_info"] = [[cur.name(), cur.uleb()] for _ in range(cur.uleb())]
            elif sub_id == IMPORT_INFO:
                info["import_info"] = [[cur.name(), cur.name(), cur.uleb()]
                                       for _ in range(cur.uleb())]
            elif sub_id == RUNTIME_PATH:
                info["runtime_path"] = _strings(cur)
        return info
    raise ValueError("no dylink.0 or dylink section")


def add_runtime_path(data: bytes, paths: list[str]) -> bytes:
    """Append a RUNTIME_PATH subsection (id 5) to dylink.0; the section size is re-encoded."""
    sections = split_sections(data)
    i = _index_of_custom(sections, "dylink.0")
    _, body = custom_name(sections[i][1])
    subs = parse_subsections(body)
    if any(sub_id == RUNTIME_PATH for sub_id, _ in subs):
        raise ValueError("dylink.0 already has a RUNTIME_PATH subsection")
    payload = encode_uleb(len(paths)) + b"".join(encode_name(p) for p in paths)
    subs.append((RUNTIME_PATH, payload))
    sections[i] = (CUSTOM, encode_name("dylink.0") + encode_subsections(subs))
    return join_sections(sections)


def move_dylink_after_type(data: bytes) -> bytes:
    sections = split_sections(data)
    dylink = sections.pop(_index_of_custom(sections, "dylink.0"))
    t = next(i for i, (sid, _) in enumerate(sections) if sid == TYPE)
    sections.insert(t + 1, dylink)
    return join_sections(sections)


# --- import and export sections -------------------------------------------------------------

def _skip_limits(cur: Cursor) -> None:
    flags = cur.u8()
    bits = 64 if flags & 4 else 32
    cur.uleb(bits)
    if flags & 1:
        cur.uleb(bits)


def parse_imports(payload: bytes) -> list[tuple[str, str, bytes]]:
    """[(module, field, raw descriptor bytes)]; the descriptor is copied, not interpreted."""
    cur = Cursor(payload)
    out = []
    for _ in range(cur.uleb()):
        module, field = cur.name(), cur.name()
        start = cur.pos
        kind = cur.u8()
        if kind == 0:                      # func: type index
            cur.uleb()
        elif kind == 1:                    # table: reftype, limits
            cur.u8()
            _skip_limits(cur)
        elif kind == 2:                    # memory: limits
            _skip_limits(cur)
        elif kind == 3:                    # global: valtype, mutability
            cur.u8()
            cur.u8()
        elif kind == 4:                    # tag: attribute, type index
            cur.u8()
            cur.uleb()
        else:
            raise ValueError(f"unknown import kind {kind}")
        out.append((module, field, payload[start:cur.pos]))
    return out


def encode_imports(imports: list[tuple[str, str, bytes]]) -> bytes:
    return encode_uleb(len(imports)) + b"".join(
        encode_name(m) + encode_name(f) + desc for m, f, desc in imports)


def parse_exports(payload: bytes) -> list[tuple[str, int, int]]:
    cur = Cursor(payload)
    return [(cur.name(), cur.u8(), cur.uleb()) for _ in range(cur.uleb())]


def encode_exports(exports: list[tuple[str, int, int]]) -> bytes:
    return encode_uleb(len(exports)) + b"".join(
        encode_name(n) + bytes([k]) + encode_uleb(i) for n, k, i in exports)


# --- legacy "dylink" ------------------------------------------------------------------------

LEGACY_IMPORT_RENAMES = {("env", "__indirect_function_table"): ("env", "table")}
LEGACY_EXPORT_RENAMES = {"__wasm_call_ctors": "__post_instantiate"}


def to_legacy_dylink(data: bytes) -> bytes:
    """dylink.0 -> legacy flat "dylink" section in the same (first) position.

    Body: memorysize memoryalignment tablesize tablealignment needed_count needed* (ULEB, strings).
    EXPORT_INFO/IMPORT_INFO/RUNTIME_PATH have no legacy form and are dropped.
    """
    info = dylink_info(data)
    sections = split_sections(data)
    i = _index_of_custom(sections, "dylink.0")
    body = b"".join(encode_uleb(info[k]) for k in
                    ("mem_size", "mem_align", "table_size", "table_align"))
    body += encode_uleb(len(info["needed"])) + b"".join(encode_name(n) for n in info["needed"])
    sections[i] = (CUSTOM, encode_name("dylink") + body)
    for j, (sid, payload) in enumerate(sections):
        if sid == IMPORT:
            imports = [(*LEGACY_IMPORT_RENAMES.get((m, f), (m, f)), d)
                       for m, f, d in parse_imports(payload)]
            sections[j] = (IMPORT, encode_imports(imports))
        elif sid == EXPORT:
            exports = [(LEGACY_EXPORT_RENAMES.get(n, n), k, idx)
                       for n, k, idx in parse_exports(payload)]
            sections[j] = (EXPORT, encode_exports(exports))
    return join_sections(sections)


def import_names(data: bytes) -> list[str]:
    for sid, payload in split_sections(data):
        if sid == IMPORT:
            return [f"{m}.{f}" for m, f, _ in parse_imports(payload)]
    return []


def export_names(data: bytes) -> list[str]:
    for sid, payload in split_sections(data):
        if sid == EXPORT:
            return [n for n, _, _ in parse_exports(payload)]
    return []


def custom_names(data: bytes) -> list[str]:
    return [custom_name(p)[0] for sid, p in split_sections(data) if sid == CUSTOM]


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[0] != "dump":
        print("usage: python samples/wasmedit.py dump FILE...", file=sys.stderr)
        return 2
    for path in argv[1:]:
        with open(path, "rb") as f:
            data = f.read()
        print(json.dumps({"file": path, **dylink_info(data)}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
