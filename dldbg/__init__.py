"""dldbg: a debugger for WebAssembly dynamic linking (the dylink.0 ABI)."""

#: the package version (pyproject.toml reads it from here: `tool.setuptools.dynamic`); a
#: literal, so that start-up does not pay for importlib.metadata
__version__ = "0.1.0"
