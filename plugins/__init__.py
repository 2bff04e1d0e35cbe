"""dldbg's bundled plugins (the package `dldbg_plugins`, built from the folder plugins/), each
registered under the `dldbg.plugins` entry-point group.

* `ldtrace`: LD_DEBUG-style trace lines for chosen categories (`trace libs,got`).
* `export`: the event log as JSON lines or as a Chrome trace (`export chrome load.json`, opens
  in Perfetto and chrome://tracing).
* `doctor`: the unresolved-symbol doctor behind `why`.
* `example_session`: a scripted session written in Python (`audit LIB`), as an example of the
  plugin API.

Each is also an example of the API in dldbg.plugins.
"""
