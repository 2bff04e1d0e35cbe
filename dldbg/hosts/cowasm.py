"""The CoWasm host: CoWasm's `kernel.wasm` as the main program, CPython and its extension
modules as side modules (npm `@cowasm/kernel`, `python-wasm`; sagemathinc's `dylink` loader).

`dldbg run kernel.wasm --dir ROOT::/ [--env K=V] -- PROGRAM [ARGS]` does what CoWasm's
node runtime does, with dldbg's loader instead of `dylink`:

1. load `kernel.wasm` (plain WASI, no dylink.0, imports memory and table) and call its
   `_start` (constructors; the kernel's `main` import is a stub returning 0, as in CoWasm);
2. publish what the kernel's `__WASM_EXPORT__<sym>()` getters return (dylink's way to reach the
   kernel's libc): a table slot holding a function becomes a function symbol, anything else a
   data address;
3. give side modules memory and one stack from the kernel's `malloc` (dylink takes both from
   `c_malloc`, with a stack per library; dldbg's side modules share one stack, as the
   tool-conventions ABI has it);
4. dlopen PROGRAM (a guest path); for CPython (`python.wasm`): `cowasm_python_init()`, then
   `cowasm_python_exec(code)` for `-c CODE` (or `cowasm_python_terminal(argc, argv)`), then
   `Py_FinalizeEx()` so that Python's buffered output is flushed.

Host functions CoWasm's JS provides and dldbg provides too: `env.dlopen/dlsym/dlerror/dlclose`
(`dlopen(NULL)` is the kernel, whose handle searches the global scope), the call trampolines
(`_PyImport_InitFunc_TrampolineCall`, `_PyCFunctionWithKeywords_TrampolineCall`,
`descr_get_trampoline_call`, `descr_set_trampoline_call`: `table[f](args)` with JavaScript's
arity rules, extra arguments dropped and missing ones 0), `getrandom`, `wasmSendString`,
`wasmSetException`, `wasmGetSignalState`, a few POSIX functions (`getpid`, `realpath`, the
signal sets, `getpwuid_r` finding nobody, ...) and, for the rest of the POSIX functions CoWasm's
JS provides (`msync`, `tcflush`, `execlp`, ...), stubs that fail with ENOSYS, as its
`notImplemented` does.  As CoWasm's dylink, the host ignores RTLD_NOW (CPython asks
RTLD_NOW|RTLD_LOCAL; libraries load RTLD_LAZY|RTLD_LOCAL), so a function nothing defines is a
lazy stub that fails only when called; RTLD_LOCAL stays honoured.  Every binding shows in the events with its provider
(`import.resolve`, `import.unresolved` for stubs) and in `info imports`.
"""

from __future__ import annotations

import os
import socket

import wasmtime

from ..errors import CallError, DldbgError, DlError
from ..linker.allocator import align_up
from ..linker.flags import RTLD_GLOBAL, RTLD_LAZY, RTLD_NOW
from ..linker.scope import Symbol
from ..linker.wasmtypes import functype
from ..wasm.reader import WasmModule
from .programs import NotAProgram, ProgramOptions, is_cowasm_kernel
from .wasi import WASI_MODULES, GuestPaths, WasiHost

GETTER_PREFIX = "__WASM_EXPORT__"
DEFAULT_STACK_SIZE = 8 << 20

# WASI errno values (wasi-libc's errno.h)
EPERM, ENOENT, ENOSYS = 63, 44, 52

#: POSIX functions CoWasm's JS runtime (posix-wasm) provides and wasmtime's WASI does not;
#: those without an implementation below fail with ENOSYS when called.
POSIX_FUNCTIONS = frozenset("""
    realpath dup dup2 ttyname_r fchdir lchmod fchmodat chmod lchown chown ctermid nice getpriority
    setpriority system umask execv fexecve execve fork sched_get_priority_max sched_get_priority_min
    sched_getparam sched_getscheduler sched_rr_get_interval sched_setparam sched_setscheduler
    login_tty forkpty getegid geteuid getgid getgrouplist getgroups getpid getpgrp getppid getuid
    getlogin kill killpg setuid seteuid setreuid setgid setegid setregid setgroups initgroups
    getpgid setpgrp wait waitid waitpid getsid setsid setpgid tcgetpgrp tcsetpgrp lockf pipe sync
    fstatvfs statvfs getloadavg setresuid setresgid getresuid getresgid
    posix_spawn_file_actions_init posix_spawn_file_actions_addopen posix_spawn_file_actions_addclose
    posix_spawn_file_actions_adddup2 posix_spawn_file_actions_destroy posix_spawnattr_init
    posix_spawnattr_setpgroup posix_spawnattr_setschedpolicy posix_spawnattr_setschedparam
    posix_spawnattr_setflags posix_spawnp posix_spawn posix_spawnattr_destroy python_wasm_fork_exec
    cowasm_vforkexec getsockname socket bind getpeername listen setsockopt accept getaddrinfo
    gai_strerror connect recvfrom sendto gethostbyname gethostbyaddr gethostname sethostname
    getservbyname getservbyport getprotobyname getnameinfo if_nameindex if_freenameindex
    if_nametoindex if_indextoname __h_errno_location hstrerror raise clock_settime alarm pause
    sigemptyset sigfillset sigaddset sigdelset sigismember sigprocmask setjmp sigsetjmp longjmp
    siglongjmp tcdrain tcflow tcflush getpwnam getpwnam_r getpwuid getpwuid_r msync madvise mremap
    openpty syslog execlp
    tcgetattr tcsendbreak tcsetattr tmpfile tmpnam openlog popen pclose ngettext dngettext
    dcngettext _fchmod _geteuid _fchown python_wasm_set_inheritable
""".split())


class GuestMalloc:
    """Side-module memory from the program's own `malloc` (as `dylink` takes it), aligned.

    Same interface as `HeapAllocator` (allocate, free, owns, blocks, name); addresses and sizes
    are bytes.
    """

    def __init__(self, engine, malloc: wasmtime.Func, free: wasmtime.Func, name: str):
        self.engine = engine
        self._malloc, self._free = malloc, free
        self.name = name
        self._used: dict[int, tuple[int, int]] = {}  # aligned address -> (raw pointer, size)

    def allocate(self, size: int, alignment: int = 16) -> int:
        raw = self._malloc(self.engine.store, size + alignment) & 0xFFFFFFFF
        if not raw:
            raise DldbgError(f"out of memory: the program's malloc could not give {size + alignment} bytes")
        addr = align_up(raw, alignment)
        self._used[addr] = (raw, size)
        return addr

    def free(self, addr: int) -> None:
        raw, _size = self._used.pop(addr)
        self._free(self.engine.store, raw)

    def owns(self, addr: int) -> bool:
        return addr in self._used

    @property
    def blocks(self) -> dict[int, tuple[int, int]]:
        return {addr: (addr, addr + size) for addr, (_raw, size) in self._used.items()}


#: `code` of a table slot in the trampolines' arity memory: 0 unknown, 1 + 2 * arity +
#: (1 if it returns an i32) for all-i32 functions of up to MAX_ARITY parameters, else SLOW.
MAX_ARITY = 4
SLOW = 255


def trampoline_wat(arg_counts: dict[str, int]) -> str:
    """A module of wasm trampolines `NAME(slot, a1..aN) -> i32` that call `table[slot]` with
    JavaScript's arity rules, without leaving wasm: each slot's parameter count is classified
    once by the host (`dldbg.classify`) and kept in the module's own memory; functions with
    other than i32 parameters take the host's slow path (`dldbg.slow<N>`)."""
    types = []
    for n in range(MAX_ARITY + 1):
        params = " i32" * n
        types.append(f"(type $r{n} (func (param{params}) (result i32)))" if n else "(type $r0 (func (result i32)))")
        types.append(f"(type $v{n} (func (param{params})))" if n else "(type $v0 (func))")
    imports = ['(import "env" "table" (table $t 0 funcref))',
               '(import "dldbg" "classify" (func $classify (param i32) (result i32)))']
    funcs = []
    for count in sorted(set(arg_counts.values())):
        params = " i32" * count
        imports.append(f'(import "dldbg" "slow{count}" (func $slow{count} (param i32{params}) (result i32)))')
    for name, count in arg_counts.items():
        params = " i32" * count
        args = [f"(local.get {i + 1})" for i in range(count)]
        body = []
        for arity in range(MAX_ARITY + 1):
            passed = " ".join((args + ["(i32.const 0)"] * arity)[:arity])
            for returns in (1, 0):
                code = 1 + 2 * arity + returns
                call = f"(call_indirect $t (type ${'r' if returns else 'v'}{arity}) {passed} (local.get 0))"
                result = call if returns else f"{call} (i32.const 0)"
                body.append(f"(if (i32.eq (local.get $code) (i32.const {code})) (then (return {result})))")
        slow_args = " ".join(["(local.get 0)"] + args)
        funcs.append(f"""(func (export "{name}") (param i32{params}) (result i32) (local $code i32)
  (local.set $code (if (result i32) (i32.lt_u (local.get 0) (i32.shl (memory.size) (i32.const 16)))
    (then (i32.load8_u (local.get 0))) (else (i32.const 0))))
  (if (i32.eqz (local.get $code)) (then (local.set $code (call $classify (local.get 0)))))
  {" ".join(body)}
  (call $slow{count} {slow_args}))""")
    return "(module\n" + "\n".join(types + imports) + '\n(memory (export "codes") 1)\n' + "\n".join(funcs) + ")\n"


class CowasmHost(WasiHost):
    """Runs CoWasm's kernel and the side modules it dlopens; see the module docstring."""

    name = "cowasm"

    def __init__(self, options: ProgramOptions | None = None, *, stack_size: int = DEFAULT_STACK_SIZE):
        super().__init__(options, stack_size=stack_size)
        #: what `wasmSendString` last sent (CoWasm's `cowasm_python_repr` result)
        self.result: str | None = None
        self.exception = False
        self.kernel = None
        self._umask = 0o022
        self._errno_address: int | None = None
        self._h_errno: int | None = None
        self._slot_cache: dict[int, tuple[wasmtime.Func, int]] = {}
        self._sigsets: dict[int, set[int]] = {}
        self._host_funcs: dict[tuple[str, object], wasmtime.Func] = {}
        self._trampolines: dict[str, wasmtime.Func] | None = None
        self._codes: wasmtime.Memory | None = None

    @classmethod
    def recognizes(cls, wasm: WasmModule, path: str) -> bool:
        """CoWasm's kernel: no dylink.0, exports `cowasm_exec`, `c_malloc` and getters."""
        return is_cowasm_kernel(wasm)

    def attach(self, engine) -> None:
        super().attach(engine)
        self.dl.provider = "cowasm host dl API"
        # CoWasm's dylink ignores RTLD_NOW (CPython asks for it): a function nothing defines
        # is bound to a stub that fails when called.  RTLD_LOCAL stays honoured (see
        # docs/cowasm-walkthrough.md, "Where dldbg differs").
        wasi_bits = self.dl.mode_bits
        self.dl.mode_bits = lambda mode: (wasi_bits(mode) & ~RTLD_NOW) | RTLD_LAZY
        # Functions leave the table only when a library is released: forget cached slots then.
        engine.listeners.append(self._forget_slots)

    def _non_pic_stack(self, event) -> None:
        """Side modules' stack comes from the kernel's malloc (`start_kernel`), not the heap."""
        if event.kind == "instantiate":
            self.engine.listeners.remove(self._non_pic_stack)

    def _forget_slots(self, event) -> None:
        if event.kind == "module.release":
            self._slot_cache.clear()
            if self._codes is not None:  # the trampolines classify every slot again
                store = self.engine.store
                self._codes.write(store, bytes(self._codes.data_len(store)), 0)

    # -- imports ------------------------------------------------------------------------
    def resolve_import(self, module, imp):
        if imp.kind != "func":
            return None
        if imp.module in WASI_MODULES:
            return self.wasi_import(imp)
        found = self.dl.resolve(module, imp)
        if found is not None or imp.module != "env":
            return found
        name, ftype = imp.field, module.wasm.types[imp.desc]
        if name in self.TRAMPOLINES:
            trampoline = self._trampoline(name, ftype)
            if trampoline is not None:
                return trampoline, "cowasm host (wasm trampoline)"
        impl = self.HOST_FUNCTIONS.get(name)
        if impl is not None:
            return self._func(name, ftype, impl), "cowasm host"
        # The kernel's own env imports are all the host's (CoWasm's JS provides them); a side
        # module's only when no loaded module defines them.
        if module.wasm.dylink is not None:
            if name not in POSIX_FUNCTIONS or self.engine.lookup(name, module.group)[0] is not None:
                return None
        impl = self.POSIX.get(name)
        if impl is not None:
            return self._func(name, ftype, impl), "cowasm host (POSIX)"
        if name.startswith(("_Z", "__cxa_")):
            return self._func(name, ftype, _unsupported(name)), "cowasm host (C++ placeholder: traps when called)"
        return self._func(name, ftype, _enosys(name)), "cowasm host (POSIX stub: fails with ENOSYS)"

    #: CoWasm's call trampolines and their argument counts (after the slot)
    TRAMPOLINES = {
        "_PyImport_InitFunc_TrampolineCall": 0,
        "_PyCFunctionWithKeywords_TrampolineCall": 3,
        "descr_get_trampoline_call": 2,
        "descr_set_trampoline_call": 3,
    }

    def _trampoline(self, name: str, ftype) -> wasmtime.Func | None:
        """The wasm trampoline for `name`, if the import has the expected all-i32 type."""
        count = self.TRAMPOLINES[name]
        if ftype.params != ("i32",) * (count + 1) or ftype.results != ("i32",):
            return None
        if self._trampolines is None:
            engine = self.engine
            module = wasmtime.Module(engine.wasm_engine, trampoline_wat(self.TRAMPOLINES))
            imports = [engine.table.table, wasmtime.Func(engine.store, wasmtime.FuncType([wasmtime.ValType.i32()], [wasmtime.ValType.i32()]), self._classify, access_caller=True)]
            for n in sorted(set(self.TRAMPOLINES.values())):
                t = wasmtime.FuncType([wasmtime.ValType.i32()] * (n + 1), [wasmtime.ValType.i32()])
                imports.append(wasmtime.Func(engine.store, t, self._call_slot, access_caller=True))
            instance = wasmtime.Instance(engine.store, module, imports)
            exports = instance.exports(engine.store)
            self._codes = exports["codes"]
            self._trampolines = {n: exports[n] for n in self.TRAMPOLINES}
        return self._trampolines[name]

    def _classify(self, caller, slot: int) -> int:
        """The trampolines' code for `table[slot]` (see MAX_ARITY), stored in their memory."""
        func = self.engine.table.get(slot) if 0 < slot < self.engine.table.size else None
        if func is None:
            raise CallError(f"call through table slot {slot}: the slot holds no function")
        ftype = func.type(caller)
        params, results = [str(p) for p in ftype.params], [str(r) for r in ftype.results]
        code = SLOW
        if len(params) <= MAX_ARITY and all(p == "i32" for p in params) and results in ([], ["i32"]):
            code = 1 + 2 * len(params) + len(results)
        store = self.engine.store
        pages = self._codes.size(store)
        if slot >= pages * 65536:
            self._codes.grow(store, slot // 65536 + 1 - pages)
        self._codes.write(store, bytes([code]), slot)
        return code

    def _func(self, name: str, ftype, impl) -> wasmtime.Func:
        key = (name, ftype)
        if key not in self._host_funcs:
            bound = impl.__get__(self) if hasattr(impl, "__get__") else impl
            self._host_funcs[key] = wasmtime.Func(self.engine.store, functype(ftype), _adapt(bound, ftype),
                                                  access_caller=True)
        return self._host_funcs[key]

    # -- running ------------------------------------------------------------------------
    def run(self, engine, path: str, argv: list[str]) -> int:
        self.default_root(path)
        program_args = argv[1:]
        if not program_args:
            raise NotAProgram(f"{path}: the CoWasm kernel needs a program: dldbg run {path} -- PROGRAM.wasm [ARGS]")
        self.start_kernel(engine, path, program_args)
        program = self.open_program(program_args[0])
        if "cowasm_python_init" in program.exports:
            return self.run_python(program, program_args[1:])
        if "main" in program.exports:
            args = self.put_argv(program_args)
            return self.call_entry(engine, program.exports["main"].func, f"{program.name}!main", args)
        raise NotAProgram(f"{program.path}: exports neither cowasm_python_init nor main")

    def default_root(self, kernel_path: str) -> None:
        """Without `--dir`: a folder `root/` beside kernel.wasm (the layout scripts/cowasm-python
        unpacks) is the program's `/`, with PYTHONHOME=/usr unless `--env` sets it."""
        root = os.path.join(os.path.dirname(os.path.abspath(kernel_path)), "root")
        if self.options.dirs or not os.path.isdir(root):
            return
        self.options.dirs = [(root, "/")]
        self.options.env.setdefault("PYTHONHOME", "/usr")
        self.paths = GuestPaths(self.options.dirs)

    def start_kernel(self, engine, path: str, argv: list[str]):
        """Load the kernel, run its `_start`, publish its getters, set up memory and stack."""
        wasm = engine.files.get(path)[1]
        self.kernel = self.load(engine, path, argv, wasm)
        status = self.call_entry(engine, self.kernel.externs["_start"], f"{self.kernel.name}!_start")
        if status:
            raise CallError(f"{self.kernel.name}!_start exited with status {status}")
        self.publish_getters()
        malloc, free = self.scope_func("malloc"), self.scope_func("free")
        if malloc is None or free is None:
            malloc, free = self.kernel.externs.get("c_malloc"), self.kernel.externs.get("c_free")
        if not isinstance(malloc, wasmtime.Func) or not isinstance(free, wasmtime.Func):
            raise NotAProgram(f"{path}: the kernel has no malloc and free for side modules")
        engine.allocator = GuestMalloc(engine, malloc, free, f"{self.kernel.name} malloc")
        stack_low = engine.allocator.allocate(self.stack_size, 16)
        engine.stack_pointer.set_value(engine.store, wasmtime.Val.i32(stack_low + self.stack_size))
        errno = engine.global_scope.lookup("errno")
        self._errno_address = errno.address if errno is not None and errno.kind == "data" else None
        return self.kernel

    def publish_getters(self) -> dict[str, Symbol]:
        """The kernel's `__WASM_EXPORT__<sym>()` values as symbols (dylink's getFunction /
        GOT.mem lookups): a slot of the kernel's table that holds one of the kernel's own
        functions is a function; any other value is a data address.  A slot holding a
        function the kernel itself imports (CoWasm's C++ placeholders) is left out."""
        engine, kernel, table = self.engine, self.kernel, self.engine.table
        symbols: dict[str, Symbol] = {}
        for exp in kernel.wasm.exports:
            if exp.kind != "func" or not exp.name.startswith(GETTER_PREFIX):
                continue
            name = exp.name[len(GETTER_PREFIX):]
            value = kernel.externs[exp.name](engine.store) & 0xFFFFFFFF
            key = table.key_by_slot.get(value)
            if key is not None and 0 < value < table.size:
                if key[:2] != ("module", kernel.id):
                    continue
                func = table.get(value)
                symbols[name] = Symbol(name, "func", kernel.name, kernel.id, extern=func, key=key,
                                       func_type=engine.func_type_of(func))
            else:
                symbols[name] = Symbol(name, "data", kernel.name, kernel.id, address=value)
        engine.define_symbols(symbols)
        return symbols

    def scope_func(self, name: str) -> wasmtime.Func | None:
        sym = self.engine.global_scope.lookup(name)
        return sym.func if sym is not None and sym.kind == "func" else None

    def open_program(self, program: str):
        try:
            handle = self.engine.dlopen(self.locate(program), RTLD_LAZY | RTLD_GLOBAL)
        except DlError as exc:
            raise DldbgError(f"dlopen {program}: {exc}") from None
        return self.engine.by_handle[handle]

    def run_python(self, python, args: list[str]) -> int:
        """CoWasm's python-wasm: init, then `-c CODE` or the interactive terminal."""
        engine = self.engine
        exports = python.exports
        status = self.call_entry(engine, exports["cowasm_python_init"].func, f"{python.name}!cowasm_python_init")
        if status:
            return status
        if args[:1] == ["-c"] and len(args) >= 2:
            self.exception = False
            code = self.put_string(args[1])
            result: list[int] = []
            status = self.call_entry(engine, lambda store, ptr: result.append(exports["cowasm_python_exec"].func(store, ptr)),
                                     f"{python.name}!cowasm_python_exec", (code,))
            if status == 0 and (result and result[0]):
                status = 1
        else:
            argv = self.put_argv(["python", *args])
            result = []
            status = self.call_entry(engine, lambda store, argc, ptr: result.append(exports["cowasm_python_terminal"].func(store, argc, ptr)),
                                     f"{python.name}!cowasm_python_terminal", argv)
            if status == 0 and result:
                status = result[0]
        finalize = exports.get("Py_FinalizeEx")
        if finalize is not None and finalize.kind == "func":
            self.call_entry(engine, finalize.func, f"{python.name}!Py_FinalizeEx")
        fflush = self.scope_func("fflush")
        if fflush is not None:
            self.call_entry(engine, fflush, f"{self.kernel.name}!fflush", (0,))
        return status

    # -- guest memory -------------------------------------------------------------------
    def allocate(self, size: int) -> int:
        return self.engine.allocator.allocate(size, 8)

    def put_string(self, text: str) -> int:
        data = text.encode("utf-8") + b"\0"
        address = self.allocate(len(data))
        self.engine.write_memory(address, data)
        return address

    def put_argv(self, args: list[str]) -> tuple[int, int]:
        """(argc, argv) in guest memory, argv NULL-terminated."""
        pointers = [self.put_string(a) for a in args] + [0]
        array = self.allocate(4 * len(pointers))
        self.engine.write_memory(array, b"".join(p.to_bytes(4, "little") for p in pointers))
        return len(args), array

    def set_errno(self, value: int) -> None:
        if self._errno_address is not None:
            self.engine.write_memory(self._errno_address, value.to_bytes(4, "little"))

    def write_string(self, address: int, text: str, size: int | None = None) -> None:
        data = text.encode("utf-8")
        if size is not None:
            data = data[: max(size - 1, 0)]
        self.engine.write_memory(address, data + b"\0")

    # -- CoWasm's host functions (JS in CoWasm's kernel package) -------------------------
    def _slot(self, caller, slot: int) -> tuple[wasmtime.Func, int]:
        entry = self._slot_cache.get(slot)
        if entry is None:
            func = self.engine.table.get(slot) if 0 < slot < self.engine.table.size else None
            if func is None:
                raise CallError(f"call through table slot {slot}: the slot holds no function")
            entry = (func, len(func.type(caller).params))
            self._slot_cache[slot] = entry
        return entry

    def _call_slot(self, caller, slot: int, *args) -> int:
        """`table[slot](args)` as JavaScript calls it: extra arguments dropped, missing ones 0,
        no result read as 0."""
        func, arity = self._slot(caller, slot)
        if arity != len(args):
            args = (args + (0,) * arity)[:arity]
        result = func(caller, *args)
        return 0 if result is None else result

    def _init_func_trampoline(self, caller, ptr):
        return self._call_slot(caller, ptr)

    def _cfunction_trampoline(self, caller, ptr, self_, args, kwds):
        return self._call_slot(caller, ptr, self_, args, kwds)

    def _descr_get_trampoline(self, caller, get, obj, closure):
        return self._call_slot(caller, get, obj, closure)

    def _descr_set_trampoline(self, caller, set_, obj, value, closure):
        return self._call_slot(caller, set_, obj, value, closure)

    def _wasm_send_string(self, caller, ptr, length):
        self.result = self.engine.read_memory(ptr, length).decode("utf-8", "replace")

    def _wasm_set_exception(self, caller):
        self.exception = True

    def _zero(self, caller, *args):
        return 0

    def _getrandom(self, caller, buf, length, flags):
        self.engine.write_memory(buf, os.urandom(length))
        return length

    HOST_FUNCTIONS = {
        "_PyImport_InitFunc_TrampolineCall": _init_func_trampoline,
        "_PyCFunctionWithKeywords_TrampolineCall": _cfunction_trampoline,
        "descr_get_trampoline_call": _descr_get_trampoline,
        "descr_set_trampoline_call": _descr_set_trampoline,
        "wasmSendString": _wasm_send_string,
        "wasmSetException": _wasm_set_exception,
        "wasmGetSignalState": _zero,
        "getrandom": _getrandom,
        "_Py_emscripten_runtime": _zero,
    }

    # -- POSIX functions with an implementation ------------------------------------------
    def _main(self, caller, *args):  # the kernel's `main` import: CoWasm's stub
        return 0

    def _getpid(self, caller):
        return os.getpid()

    def _getppid(self, caller):
        return os.getppid()

    def _getuid(self, caller):
        return os.getuid() if hasattr(os, "getuid") else 0

    def _getgid(self, caller):
        return os.getgid() if hasattr(os, "getgid") else 0

    def _umask(self, caller, mask):
        old, self._umask = self._umask, mask & 0o777
        return old

    def _realpath(self, caller, path_ptr, resolved_ptr):
        path = self.engine.read_cstring(path_ptr).decode("utf-8", "replace")
        try:
            host = self.paths.to_host(path)
        except DlError:
            host = None
        guest = self.paths.to_guest(host) if host and os.path.exists(host) else None
        if guest is None:
            self.set_errno(ENOENT)
            return 0
        if not resolved_ptr:
            resolved_ptr = self.allocate(len(guest.encode()) + 1)
        self.write_string(resolved_ptr, guest)
        return resolved_ptr

    def _gethostname(self, caller, buf, size):
        self.write_string(buf, socket.gethostname() or "localhost", size)
        return 0

    # Signal sets as CoWasm's posix signal.js keeps them: a set per sigset_t address, on the
    # host side (zig's wasi sigset_t is too small to hold them).
    def _sig_empty(self, caller, set_ptr):
        self.engine.write_memory(set_ptr, bytes(4))
        self._sigsets[set_ptr] = set()
        return 0

    def _sig_fill(self, caller, set_ptr):
        self.engine.write_memory(set_ptr, (0xFFFFFFFE).to_bytes(4, "little"))
        self._sigsets[set_ptr] = set(range(1, 32))
        return 0

    def _sig_add(self, caller, set_ptr, signum):
        self._sigsets.setdefault(set_ptr, set()).add(signum)
        return 0

    def _sig_del(self, caller, set_ptr, signum):
        self._sigsets.setdefault(set_ptr, set()).discard(signum)
        return 0

    def _sig_ismember(self, caller, set_ptr, signum):
        return int(signum in self._sigsets.get(set_ptr, ()))

    def _pw_not_found_r(self, caller, key, pwd, buffer, size, result_ptr):
        """getpwnam_r / getpwuid_r: "not found" (*result = NULL, return 0), as CoWasm's other.js."""
        self.engine.write_memory(result_ptr, bytes(4))
        return 0

    def _ngettext(self, caller, singular, plural, n):
        return singular if n == 1 else plural

    def _dngettext(self, caller, domain, singular, plural, n):
        return singular if n == 1 else plural

    def _dcngettext(self, caller, domain, singular, plural, n, category):
        return singular if n == 1 else plural

    def _h_errno_location(self, caller):
        if self._h_errno is None:
            self._h_errno = self.allocate(4)
            self.engine.write_memory(self._h_errno, bytes(4))
        return self._h_errno

    def _no_longjmp(self, caller, *args):
        raise CallError("longjmp is not supported by the CoWasm kernel (setjmp always returns 0)")

    POSIX = {
        "main": _main,
        "getpid": _getpid,
        "getppid": _getppid,
        "getuid": _getuid,
        "geteuid": _getuid,
        "_geteuid": _getuid,
        "getgid": _getgid,
        "getegid": _getgid,
        "umask": _umask,
        "realpath": _realpath,
        "gethostname": _gethostname,
        "sigemptyset": _sig_empty,
        "sigfillset": _sig_fill,
        "sigaddset": _sig_add,
        "sigdelset": _sig_del,
        "sigismember": _sig_ismember,
        "getpwnam_r": _pw_not_found_r,
        "getpwuid_r": _pw_not_found_r,
        "getpwnam": _zero,  # NULL: not found (CoWasm's other.js)
        "getpwuid": _zero,
        "sigprocmask": _zero,
        "setjmp": _zero,
        "sigsetjmp": _zero,
        "longjmp": _no_longjmp,
        "siglongjmp": _no_longjmp,
        "ngettext": _ngettext,
        "dngettext": _dngettext,
        "dcngettext": _dcngettext,
        "__h_errno_location": _h_errno_location,
        "python_wasm_set_inheritable": _zero,
        "_fchmod": _zero,
        "_fchown": _zero,
        "alarm": _zero,
        "openlog": _zero,
    }


def _unsupported(name: str):
    def stub(self, caller, *args):
        raise CallError(f"{name} is not provided by the CoWasm kernel (a placeholder import)")

    return stub


def _enosys(name: str):
    def stub(self, caller, *args):
        self.set_errno(ENOSYS)
        return -1

    stub.__name__ = f"enosys_{name}"
    return stub


def _adapt(impl, ftype):
    """Fit a Python implementation to the import's declared type: no result for `() -> ()`
    imports, the right numeric kind otherwise.  C++ placeholders typed `() -> ()` that are
    called trap through the implementation."""
    results = ftype.results
    if not results:
        def call(caller, *args):
            impl(caller, *args)
        return call
    kind = results[0]
    if kind in ("f32", "f64"):
        def call(caller, *args):
            value = impl(caller, *args)
            return float(value or 0)
        return call

    def call(caller, *args):
        value = impl(caller, *args)
        return 0 if value is None else int(value)
    return call
