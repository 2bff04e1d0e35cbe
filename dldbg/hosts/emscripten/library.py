"""The general JS-library functions: exit and abort, memory, environment, console.

Ported from emscripten 3.1.6's `src/library.js` (and `preamble.js`/`postamble.js` for exit
and abort, which live on the Runtime: runtime.py).
"""

from __future__ import annotations

import os

from .registry import js

@js("abort", "v")
def _abort(rt):
    rt.abort("native code called abort()" if rt.layout.assertions else "")


@js("__assert_fail", "viiii")
def _assert_fail(rt, condition, filename, line, func):
    where = [rt.cstr(filename) if filename else "unknown filename", str(line), rt.cstr(func) if func else "unknown function"]
    rt.abort(f"Assertion failed: {rt.cstr(condition)}, at: {','.join(where)}")


@js("exit", "vi")
def _exit(rt, status):
    rt.exit(status)


@js("proc_exit", "vi")
def _proc_exit(rt, status):
    rt.proc_exit(status)


@js("__handle_stack_overflow", "vi")
def _stack_overflow(rt, requested=0):
    end, base = rt.call("emscripten_stack_get_end") & 0xFFFFFFFF, rt.call("emscripten_stack_get_base") & 0xFFFFFFFF
    rt.abort(f"stack overflow (Attempt to set SP to 0x{requested & 0xFFFFFFFF:x}, with stack limits [0x{end:x} - 0x{base:x}])")


@js("setTempRet0", "vi")
def _set_temp_ret0(rt, value):
    rt.temp_ret0 = value


@js("getTempRet0", "i")
def _get_temp_ret0(rt):
    return rt.temp_ret0


@js("emscripten_memcpy_big", "viii")
def _memcpy_big(rt, dest, src, num):
    if num:
        rt.write(dest, rt.read(src, num & 0xFFFFFFFF))


@js("emscripten_get_heap_max", "i")
def _heap_max(rt):
    if rt.layout.can_grow:
        return min(rt.layout.maximum_memory, 4 * 1024 * 1024 * 1024 - 65536)
    return rt.mem.data_len


@js("emscripten_resize_heap", "ii")
def _resize_heap(rt, requested):
    """library.js `emscripten_resize_heap` (ALLOW_MEMORY_GROWTH policy of emscripten 3.1.6)."""
    old_size = rt.mem.data_len
    requested &= 0xFFFFFFFF
    if not rt.layout.can_grow:
        rt.abort(f"Cannot enlarge memory arrays to size {requested} bytes (OOM). Either (1) compile with  -s "
                 f"INITIAL_MEMORY=X  with X higher than the current value {old_size}, (2) compile with  -s "
                 "ALLOW_MEMORY_GROWTH=1  which allows increasing the size at runtime, or (3) if you want malloc to "
                 "return NULL (0) instead of this abort, compile with  -s ABORTING_MALLOC=0 "
                 if rt.layout.assertions else "OOM")
    max_size = _heap_max(rt)
    if requested > max_size:
        rt.err(f"Cannot enlarge memory, asked to go up to {requested} bytes, but the limit is {max_size} bytes!")
        return 0
    cut = 1
    new_size = requested
    while cut <= 4:
        over = min(old_size * (1 + 0.2 / cut), requested + 100663296)
        want = max(requested, over)
        new_size = int(min(max_size, want + (65536 - want % 65536) % 65536))
        try:
            rt.engine.grow_memory((new_size - rt.mem.data_len + 65535) // 65536, "emscripten_resize_heap")
            return 1
        except Exception as exc:  # wasmtime refuses: JS logs and tries a smaller step
            if rt.layout.assertions:
                rt.err(f"emscripten_realloc_buffer: Attempted to grow heap from {rt.mem.data_len} bytes to "
                       f"{new_size} bytes, but got error: RangeError: {exc}")
        cut *= 2
    rt.err(f"Failed to grow the heap from {old_size} bytes to {new_size} bytes, not enough memory!")
    return 0


@js("emscripten_notify_memory_growth", "vi")
def _notify_growth(rt, _index):
    return None


@js("environ_sizes_get", "iii")
def _environ_sizes_get(rt, count_ptr, size_ptr):
    strings = rt.env_strings()
    rt.set_i32(count_ptr, len(strings))
    rt.set_i32(size_ptr, sum(len(s.encode("utf-8")) + 1 for s in strings))
    return 0


@js("environ_get", "iii")
def _environ_get(rt, environ, buf):
    offset = 0
    for i, string in enumerate(rt.env_strings()):
        data = string.encode("utf-8")
        rt.set_i32(environ + i * 4, buf + offset)
        rt.write(buf + offset, data + b"\0")
        offset += len(data) + 1
    return 0


@js("_emscripten_get_progname", "vii")
def _get_progname(rt, ptr, size):
    rt.write_cstr(ptr, rt.this_program, size)


@js("getentropy", "iii")
def _getentropy(rt, buf, size):
    rt.write(buf, os.urandom(size))
    return 0


@js("emscripten_random", "d")
def _random(rt):
    import random

    return random.random()


@js("emscripten_console_log", "vi")
def _console_log(rt, ptr):
    rt.out(rt.cstr(ptr))


@js("emscripten_console_warn", "vi", "emscripten_console_error")
def _console_warn(rt, ptr):
    rt.err(rt.cstr(ptr))


@js("_emscripten_out", "vi")
def _emscripten_out(rt, ptr):
    rt.out(rt.cstr(ptr))


@js("_emscripten_err", "vi")
def _emscripten_err(rt, ptr):
    rt.err(rt.cstr(ptr))


@js("__call_sighandler", "vii")
def _call_sighandler(rt, fp, sig):
    rt.call_slot(fp, sig)


@js("emscripten_get_heap_size", "i")
def _heap_size(rt):
    return rt.mem.data_len
