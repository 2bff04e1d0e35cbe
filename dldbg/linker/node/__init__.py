"""The node backend: an emscripten program's own glue under node, its loader hooked, behind the
engine interface the session uses (docs/node.md)."""

from __future__ import annotations


def node_engine_factory(no_cache: bool = False):
    """`engine_factory(session)` for dldbg.session.Session: a NodeEngine for the session's
    program (its glue), with the session's resource limits; instrumented copies go to dldbg's
    cache folder (a temporary one with `no_cache`).  node's stdin is /dev/null: the debugger
    (REPL, TUI, --batch) owns the terminal."""

    def make(session):
        from ..cache import default_cache_dir
        from .engine import NodeEngine

        return NodeEngine(session.program, cache_dir=None if no_cache else default_cache_dir(),
                          environ=session.environ, limits=session.limits, stdin_passthrough=False)

    return make
