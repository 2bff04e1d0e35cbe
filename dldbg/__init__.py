"""dldbg: a debugger for WebAssembly dynamic linking (the dylink.0 ABI)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("dldbg")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0+unknown"
