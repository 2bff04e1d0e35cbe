#!/usr/bin/env python3
"""Build every sample scenario with every wasm toolchain found on this machine.

    python samples/build.py [--toolchain ID ...] [--out DIR] [--list]

Scenarios are the folders of samples/src/ that hold a scenario.json; its "libraries" list (in
build order) says what to link.  Outputs go to OUT/<toolchain>/<scenario>/ (default OUT is
samples/out), then broken inputs are derived into OUT/broken/ and OUT/SHA256SUMS is rewritten.
Toolchain ids: emcc, clang14, clang16, zig.  A missing toolchain is skipped with a message; a
failing compiler stops the build with a non-zero exit.

Output is deterministic: no debug info (-g0; zig's bundled libc debug sections are stripped
here, the "name" section is kept), every command runs in the library's output folder with
relative output names, and dependencies are passed by relative path.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True    # keep samples/ free of __pycache__
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)

import wasmedit  # noqa: E402

SRC = os.path.join(HERE, "src")
TOOLCHAIN_IDS = ["emcc", "clang14", "clang16", "zig"]
ZIG = [sys.executable, "-m", "ziglang"]

# Extra exports that make wasm-ld synthesize and export the TLS initializer in a -shared
# shared-memory build (emscripten's own libc references them from _emscripten_tls_init).
TLS_EXPORTS = ["--export=__wasm_init_tls", "--export=__tls_size", "--export=__tls_align"]
THREAD_CFLAGS = ["-matomics", "-mbulk-memory", "-pthread"]


class BuildError(Exception):
    pass


def run(cmd: list[str], cwd: str) -> None:
    env = dict(os.environ)
    env.setdefault("SOURCE_DATE_EPOCH", "0")
    proc = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True)
    # zig's wasm-ld always warns that -shared is "not yet stable"; emcc warns for -pthread.
    noise = ("creating shared libraries, with -shared, is not yet stable",
             "SIDE_MODULE + pthreads is experimental")
    lines = [l for l in proc.stdout.splitlines() if l.strip() and not any(n in l for n in noise)]
    if proc.returncode != 0:
        raise BuildError("command failed (exit %d) in %s:\n  %s\n%s" % (
            proc.returncode, cwd, " ".join(cmd), "\n".join(lines)))
    for line in lines:
        print("    " + line)


def available(tc: str) -> bool:
    probes = {
        "emcc": [["emcc", "--version"]],
        "clang14": [["clang-14", "--version"], ["wasm-ld-14", "--version"]],
        "clang16": [["clang-16", "--version"], ["wasm-ld-16", "--version"]],
        "zig": [ZIG + ["version"]],
    }[tc]
    for cmd in probes:
        try:
            if subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode:
                return False
        except OSError:
            return False
    return True


# --- per-toolchain recipes ------------------------------------------------------------------
# Each returns True when the linker wrote RUNTIME_PATH itself (else build() appends it).
# A library entry's "kind" is "shared" (the default: a side module), "pie" (a WASI PIE main
# with dylink.0, its own `_start`, NEEDED libraries linked in) or "exe" (a non-PIC WASI main
# that imports memory and table); "defines" adds -D flags.  Mains are freestanding C.

# Freestanding: no libc to turn loops into calls to (strlen, memset); exports for --export-dynamic.
PROGRAM_CFLAGS = ["-ffreestanding", "-fvisibility=default"]
# Program links: undefined functions become imports (the dl API, the NEEDED libraries').
PROGRAM_LDFLAGS = ["--import-memory", "--import-table", "--export-dynamic", "--allow-undefined", "--entry=_start"]


def defines(lib):
    return ["-D" + d for d in lib.get("defines", [])]


def link_program(cc, ld, pic_cflags, exe_cflags):
    """Compile and link a "pie" or "exe" main with compiler `cc` and linker `ld` (lists)."""
    def link(lib, srcs, deps, cwd, tmp):
        pie = lib.get("kind") == "pie"
        objs = compile_objects(cc + (pic_cflags if pie else exe_cflags) + PROGRAM_CFLAGS + defines(lib), srcs, tmp)
        ldflags = (["--experimental-pic", "-pie"] if pie else []) + PROGRAM_LDFLAGS
        run(ld + ldflags + objs + deps + ["-o", lib["name"]], cwd)
        return False
    return link

def link_emcc(lib, srcs, deps, cwd, tmp):
    # -sWASM_BIGINT: without it emcc 3.1.6 legalizes i64 results (imports env.setTempRet0 and
    # exports orig$NAME).  --profiling-funcs keeps the "name" section.  "emcc_flags" adds flags.
    extra = lib.get("emcc_flags", [])
    if lib.get("kind") == "emscripten":
        # An emscripten main program (dldbg.hosts.emscripten): NAME.wasm and the NAME.js glue,
        # which dldbg reads (layout, settings) and node runs; NEEDED = the libraries linked in.
        stem = os.path.splitext(lib["name"])[0]
        run(["emcc", "-O0", "-sMAIN_MODULE=2", "-sWASM_BIGINT=1", "--profiling-funcs", "-L."] + extra + srcs + deps
            + ["-o", stem + ".js"], cwd)
        return False
    cmd = ["emcc", "-O1", "-sSIDE_MODULE=1", "-sWASM_BIGINT=1", "--profiling-funcs"] + extra
    if lib.get("threads"):
        cmd.append("-pthread")
    run(cmd + srcs + deps + ["-o", lib["name"]], cwd)
    return False                      # LLD 14 has no -rpath for wasm


def link_clang(version):
    def link(lib, srcs, deps, cwd, tmp):
        cflags = ["--target=wasm32-unknown-emscripten", "-fPIC", "-fvisibility=default",
                  "-O1", "-g0"]
        if lib.get("kind", "shared") != "shared":
            return link_program([f"clang-{version}"], [f"wasm-ld-{version}"], cflags,
                                ["--target=wasm32-wasi", "-O1", "-g0"])(lib, srcs, deps, cwd, tmp)
        ldflags = ["--experimental-pic", "-shared"]
        if lib.get("threads"):
            cflags += THREAD_CFLAGS
            ldflags += ["--shared-memory"] + TLS_EXPORTS
        objs = compile_objects([f"clang-{version}"] + cflags, srcs, tmp)
        run([f"wasm-ld-{version}"] + ldflags + objs + deps + ["-o", lib["name"]], cwd)
        return False                  # LLD 14/16 have no -rpath for wasm
    return link


def compile_objects(cc, srcs, tmp):
    objs = []
    for i, src in enumerate(srcs):
        obj = os.path.join(tmp, f"{i}_{os.path.splitext(os.path.basename(src))[0]}.o")
        run(cc + ["-c", src, "-o", obj], tmp)
        objs.append(obj)
    return objs


def link_zig(lib, srcs, deps, cwd, tmp):
    if lib.get("kind", "shared") != "shared":
        return link_program(ZIG + ["cc"], ZIG + ["wasm-ld"],
                            ["-target", "wasm32-wasi", "-fPIC", "-fvisibility=default", "-O1", "-g0"],
                            ["-target", "wasm32-wasi", "-O1", "-g0"])(lib, srcs, deps, cwd, tmp)
    threads = lib.get("threads")
    # For wasm32-wasi, LLVM accesses thread-locals local-exec even with -fPIC, so a module that
    # uses another module's _Thread_local fails to link under --shared-memory ("relocation
    # R_WASM_MEMORY_ADDR_TLS_SLEB cannot be used against non-TLS symbol"); only the emscripten
    # OS triple reaches TLS through GOT.mem.  Threads builds therefore use wasm32-emscripten.
    target = "wasm32-emscripten" if threads else "wasm32-wasi"
    cflags = ["-target", target, "-fPIC", "-fvisibility=default", "-O1", "-g0"]
    if threads:
        cflags += THREAD_CFLAGS
    if lib["rpath"] or threads:
        # Direct link with zig's own LLD 22 (`zig wasm-ld`), no libc: the `zig cc` driver drops
        # -rpath for wasm (checked with -v), and it has no emscripten libc to link.
        objs = compile_objects(ZIG + ["cc"] + cflags, srcs, tmp)
        ldflags = ["--experimental-pic", "-shared", "--unresolved-symbols=import-dynamic"]
        if threads:
            ldflags += ["--shared-memory"] + TLS_EXPORTS
        for p in lib["rpath"]:
            ldflags += ["-rpath", p]
        run(ZIG + ["wasm-ld"] + ldflags + objs + deps + ["-o", lib["name"]], cwd)
        native = True
    else:
        # The zig cc driver links wasi-libc's crt1-command (_start) and zig's malloc; it passes
        # neither --experimental-pic nor an export of __wasm_call_ctors (only _start calls it),
        # so export it for the loader.  --import-symbols = wasm-ld --allow-undefined.
        ldflags = ["-shared", "-Wl,--import-symbols", "-Wl,--export=__wasm_call_ctors"]
        run(ZIG + ["cc"] + cflags + ldflags + srcs + deps + ["-o", lib["name"]], cwd)
        native = False
    path = os.path.join(cwd, lib["name"])
    with open(path, "rb") as f:
        data = f.read()
    # Debug sections come from zig's prebuilt libc objects even with -g0 (~880 KB).
    data = wasmedit.strip_custom(data, lambda name: name.startswith(".debug"))
    with open(path, "wb") as f:
        f.write(data)
    return native


LINKERS = {"emcc": link_emcc, "clang14": link_clang(14), "clang16": link_clang(16),
           "zig": link_zig}


# --- scenarios ------------------------------------------------------------------------------

def load_scenarios() -> dict[str, dict]:
    out = {}
    for name in sorted(os.listdir(SRC)):
        path = os.path.join(SRC, name, "scenario.json")
        if os.path.isfile(path):
            with open(path) as f:
                out[name] = json.load(f)
    return out


def build_scenario(tc: str, name: str, scen: dict, out_root: str) -> list[str]:
    out_dir = os.path.join(out_root, tc, name)
    if os.path.isdir(out_dir):
        shutil.rmtree(out_dir)
    os.makedirs(out_dir)
    src_dir = os.path.join(SRC, name)
    where = {}                     # library name -> its output folder (relative to out_dir)
    produced, deleted = [], []
    with tempfile.TemporaryDirectory(prefix="dldbg-samples-") as tmp:
        for lib in scen["libraries"]:
            rel_dir = lib.get("dir", "")
            lib_dir = os.path.join(out_dir, rel_dir)
            os.makedirs(lib_dir, exist_ok=True)
            srcs = [os.path.normpath(os.path.join(src_dir, s)) for s in lib["sources"]]
            deps = []
            for dep in lib["needed"]:
                if dep not in where:
                    raise BuildError(f"{name}: {lib['name']} needs {dep}, which is not built before it")
                deps.append(os.path.relpath(os.path.join(out_dir, where[dep], dep), lib_dir))
            obj_tmp = tempfile.mkdtemp(dir=tmp)
            native = LINKERS[tc](lib, srcs, deps, lib_dir, obj_tmp)
            path = os.path.join(lib_dir, lib["name"])
            how = finish_rpath(path, lib["rpath"], native)
            check_library(path, lib)
            where[lib["name"]] = rel_dir
            rel = os.path.relpath(path, out_root)
            if rel not in produced:
                produced.append(rel)
            print(f"  {rel} ({os.path.getsize(path)} bytes){how}")
            if lib.get("delete_after_build"):
                deleted.append(path)
    for path in deleted:
        os.remove(path)
        rel = os.path.relpath(path, out_root)
        produced.remove(rel)
        print(f"  {rel} deleted (the scenario needs it missing)")
    return produced


def finish_rpath(path: str, rpath: list[str], native: bool) -> str:
    if not rpath:
        return ""
    with open(path, "rb") as f:
        data = f.read()
    have = wasmedit.dylink_info(data)["runtime_path"]
    if have:
        if have != rpath:
            raise BuildError(f"{path}: linker wrote RUNTIME_PATH {have}, expected {rpath}")
        return " [RUNTIME_PATH written by the linker]"
    if native:
        raise BuildError(f"{path}: the linker was given -rpath but wrote no RUNTIME_PATH")
    with open(path, "wb") as f:
        f.write(wasmedit.add_runtime_path(data, rpath))
    return " [RUNTIME_PATH appended by build.py]"


def check_library(path: str, lib: dict) -> None:
    """What every scenario relies on: dylink.0 first, NEEDED and RUNTIME_PATH as declared, for
    the threads variant an exported __wasm_init_tls, and (when wabt is installed) validity."""
    with open(path, "rb") as f:
        data = f.read()
    if lib.get("kind") == "exe":
        if "_start" not in wasmedit.export_names(data):
            raise BuildError(f"{path}: a program without _start")
        validate(path)
        return
    info = wasmedit.dylink_info(data)
    if info["position"] != 0:
        raise BuildError(f"{path}: dylink.0 is not the first section")
    if info["needed"] != lib["needed"]:
        raise BuildError(f"{path}: NEEDED is {info['needed']}, expected {lib['needed']}")
    if info["runtime_path"] != lib["rpath"]:
        raise BuildError(f"{path}: RUNTIME_PATH is {info['runtime_path']}, expected {lib['rpath']}")
    if lib.get("threads") and "__wasm_init_tls" not in wasmedit.export_names(data):
        raise BuildError(f"{path}: built for threads but __wasm_init_tls is not exported")
    validate(path)


def validate(path: str) -> None:
    if shutil.which("wasm-validate"):
        proc = subprocess.run(["wasm-validate", "--enable-all", path], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
        if proc.returncode:
            raise BuildError(f"{path}: wasm-validate rejects it:\n{proc.stdout.strip()}")


# --- derived broken inputs ------------------------------------------------------------------

BASE_ORDER = ["clang16", "clang14", "emcc", "zig"]
LEGACY_ORDER = ["clang14", "emcc", "clang16", "zig"]   # LLD 14: ctors re-apply data relocs


def pick(out_root: str, order: list[str], rel: str) -> tuple[str, str] | None:
    for tc in order:
        path = os.path.join(out_root, tc, rel)
        if os.path.isfile(path):
            return tc, path
    return None


def not_wasm_bytes() -> bytes:
    """An ELF64 little-endian x86-64 ET_DYN header (64 bytes), then a line of text."""
    import struct
    ident = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)
    header = ident + struct.pack("<HHIQQQIHHHHHH", 3, 62, 1, 0, 64, 0, 0, 64, 56, 0, 64, 0, 0)
    return header + b"this is an ELF header, not a wasm module\n"


def derive_broken(out_root: str) -> list[str]:
    base = pick(out_root, BASE_ORDER, "reloc/libreloc.so")
    legacy = pick(out_root, LEGACY_ORDER, "reloc/libreloc.so")
    if not base or not legacy:
        print("broken: skipped (no reloc/libreloc.so built by any toolchain)")
        return []
    out_dir = os.path.join(out_root, "broken")
    if os.path.isdir(out_dir):
        shutil.rmtree(out_dir)
    os.makedirs(out_dir)

    def read(path):
        with open(path, "rb") as f:
            return f.read()

    base_tc, base_path = base
    module = read(base_path)
    dep = read(os.path.join(os.path.dirname(base_path), "libreloc_dep.so"))
    code = next(s for s in wasmedit.section_offsets(module) if s[0] == wasmedit.CODE)
    dep_code = next(s for s in wasmedit.section_offsets(dep) if s[0] == wasmedit.CODE)
    # The code section header starts one byte (id) plus its size LEB before the payload.
    dep_code_header = dep_code[1] - 1 - len(wasmedit.encode_uleb(dep_code[2] - dep_code[1]))
    legacy_tc, legacy_path = legacy
    outputs = {
        "truncated.so": (module[:code[1] + (code[2] - code[1]) // 2],
                         f"{base_tc}/reloc/libreloc.so cut in the middle of its code section"),
        "not_wasm.so": (not_wasm_bytes(), "an ELF header and a line of text"),
        "dylink_not_first.so": (wasmedit.move_dylink_after_type(dep),
                                f"{base_tc}/reloc/libreloc_dep.so with dylink.0 after the type section"),
        "bad_leb.so": (dep[:dep_code_header] + b"\x0a\xff\xff\xff",
                       f"{base_tc}/reloc/libreloc_dep.so up to its code section, whose size LEB "
                       "is unterminated at the end of the file"),
        "legacy_dylink.so": (wasmedit.to_legacy_dylink(read(legacy_path)),
                             f"{legacy_tc}/reloc/libreloc.so converted to the legacy 'dylink' section"),
        "libreloc_dep.so": (read(os.path.join(os.path.dirname(legacy_path), "libreloc_dep.so")),
                            f"{legacy_tc}/reloc/libreloc_dep.so, unchanged (NEEDED by legacy_dylink.so)"),
    }
    produced = []
    for fname, (data, what) in outputs.items():
        path = os.path.join(out_dir, fname)
        with open(path, "wb") as f:
            f.write(data)
        rel = os.path.relpath(path, out_root)
        produced.append(rel)
        print(f"  {rel} ({len(data)} bytes): {what}")
    return produced


def write_sums(out_root: str) -> None:
    lines = []
    for dirpath, dirnames, filenames in os.walk(out_root):
        dirnames.sort()
        for fname in sorted(filenames):
            if fname == "SHA256SUMS":
                continue
            path = os.path.join(dirpath, fname)
            with open(path, "rb") as f:
                digest = hashlib.sha256(f.read()).hexdigest()
            lines.append(f"{digest}  {os.path.relpath(path, out_root)}")
    with open(os.path.join(out_root, "SHA256SUMS"), "w") as f:
        f.write("\n".join(sorted(lines, key=lambda l: l[66:])) + "\n")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--toolchain", action="append", choices=TOOLCHAIN_IDS,
                    help="build only with this toolchain (repeatable; default: all found)")
    ap.add_argument("--out", default=os.path.join(HERE, "out"), help="output root")
    ap.add_argument("--list", action="store_true", help="list scenarios and toolchains, build nothing")
    args = ap.parse_args(argv)
    scenarios = load_scenarios()
    wanted = args.toolchain or TOOLCHAIN_IDS
    found = {tc: available(tc) for tc in wanted}
    if args.list:
        for tc in wanted:
            print(f"toolchain {tc}: {'found' if found[tc] else 'not found'}")
        for name, scen in scenarios.items():
            libs = ", ".join(l["name"] for l in scen["libraries"])
            print(f"scenario {name}: toolchains {', '.join(scen['toolchains']) or '-'}; {libs}")
        return 0
    out_root = os.path.abspath(args.out)
    os.makedirs(out_root, exist_ok=True)
    try:
        for tc in wanted:
            if not found[tc]:
                print(f"{tc}: not found, skipped")
                continue
            print(f"{tc}:")
            for name, scen in scenarios.items():
                if tc in scen["toolchains"]:
                    build_scenario(tc, name, scen, out_root)
        print("broken:")
        derive_broken(out_root)
    except BuildError as exc:
        print(f"build.py: error: {exc}", file=sys.stderr)
        return 1
    write_sums(out_root)
    return 0


if __name__ == "__main__":
    sys.exit(main())
