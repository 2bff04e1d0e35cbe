"""Conversions between the reader's type descriptions and wasmtime's, and call argument coercion."""

from __future__ import annotations

import wasmtime

from ..errors import CallError
from ..wasm.types import FuncType

_VALTYPES = {
    "i32": wasmtime.ValType.i32,
    "i64": wasmtime.ValType.i64,
    "f32": wasmtime.ValType.f32,
    "f64": wasmtime.ValType.f64,
    "v128": getattr(wasmtime.ValType, "v128", None),
    "funcref": wasmtime.ValType.funcref,
    "externref": wasmtime.ValType.externref,
}


def valtype(name: str) -> wasmtime.ValType:
    make = _VALTYPES.get(name)
    if make is None:
        raise CallError(f"value type {name} is not supported by this host")
    return make()


def functype(ft: FuncType) -> wasmtime.FuncType:
    return wasmtime.FuncType([valtype(p) for p in ft.params], [valtype(r) for r in ft.results])


def coerce_args(ft: FuncType, args: list, name: str) -> list:
    """Turn command-line style arguments (ints, floats, strings of either) into call values.

    Raises CallError for a wrong count or a value that does not fit the parameter type.
    """
    if len(args) != len(ft.params):
        raise CallError(f"{name} takes {len(ft.params)} argument(s) {ft}, {len(args)} given")
    out = []
    for param, arg in zip(ft.params, args):
        try:
            if param in ("i32", "i64"):
                value = int(arg, 0) if isinstance(arg, str) else int(arg)
                bits = 32 if param == "i32" else 64
                if not -(1 << (bits - 1)) <= value < (1 << bits):
                    raise ValueError(f"{value} does not fit in {param}")
                if value >= 1 << (bits - 1):
                    value -= 1 << bits
                out.append(value)
            elif param in ("f32", "f64"):
                out.append(float(arg))
            else:
                raise ValueError(f"cannot pass a {param} from the command line")
        except ValueError as exc:
            raise CallError(f"{name}: bad argument {arg!r} for {param}: {exc}") from None
    return out
