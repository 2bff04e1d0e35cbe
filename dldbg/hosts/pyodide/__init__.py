"""The Pyodide host (`--pyodide VERSION|FOLDER`): Pyodide's main module under wasmtime, wheels'
libraries loaded as Pyodide's `loadDynlib` loads them.  See host.py, dist.py and inputs.py."""

from .dist import DEFAULT_VERSION, Distribution, PyodideError, open_distribution, read_distribution
from .host import PyodideHost, PyodideLoadError, program_host
from .inputs import Inputs, open_inputs

__all__ = ["DEFAULT_VERSION", "Distribution", "Inputs", "PyodideError", "PyodideHost", "PyodideLoadError",
           "open_distribution", "open_inputs", "program_host", "read_distribution"]
