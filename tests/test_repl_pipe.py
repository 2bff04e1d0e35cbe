"""The REPL through prompt_toolkit's pipe input: commands, stops with a nested prompt, Tab
completion, persistent history, repeat on an empty line, Ctrl-C and Ctrl-D."""

from __future__ import annotations

import pytest
from prompt_toolkit.application import create_app_session
from prompt_toolkit.history import FileHistory, InMemoryHistory
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from dldbg.plugins import hookimpl
from dldbg.repl.prompt import DldbgCompleter, Repl, make_prompt_session, run_repl
from sessionkit import Captured, sample


@pytest.fixture
def pipe():
    with create_pipe_input() as inp:
        with create_app_session(input=inp, output=DummyOutput()):
            yield inp


def repl_session(program=None, history=None):
    c = Captured(program)
    return c, make_prompt_session(c.session, history=history if history is not None else InMemoryHistory())


def test_commands_and_quit(pipe):
    c, ps = repl_session(sample("clang16", "reloc", "libreloc.so"))
    pipe.send_text("dlopen libreloc.so\r")
    pipe.send_text("call get_ctor_state\r")
    pipe.send_text("quit\r")
    pipe.send_text("echo not reached\r")
    assert run_repl(c.session, ps) == 0
    out = c.out.getvalue()
    assert "handle 2: libreloc.so" in out
    assert "get_ctor_state() = 46" in out
    assert "not reached" not in out


def test_stop_reads_commands_from_the_prompt(pipe):
    c, ps = repl_session(sample("clang16", "reloc", "libreloc.so"))
    repl = Repl(c.session, ps)
    prompts = []
    original = repl.read_line

    def read_line(session):
        prompts.append(repl.prompt_text())
        return original(session)

    c.session.interactive = read_line
    for line in ("break got.create symbol=dep_data", "dlopen libreloc.so", "info got", "x/1xw dep_data",
                 "continue", "call get_dep_value", "quit"):
        pipe.send_text(line + "\r")
    assert c.session.run_commands() == 0
    out = c.out.getvalue()
    assert "Breakpoint 1, event #" in out and "got.create (imports) libreloc.so" in out
    assert "GOT.mem.dep_data" in out
    assert prompts[0] == "(dldbg) "
    assert prompts[2].startswith("(dldbg #") and "got.create libreloc.so" in prompts[2]
    assert prompts[5] == "(dldbg) "
    assert "get_dep_value() = 42" in out


def test_empty_line_repeats_step(pipe):
    c, ps = repl_session(sample("clang16", "reloc", "libreloc.so"))
    for line in ("catch load libreloc.so$", "dlopen libreloc.so", "step", "", "", "continue", "quit"):
        pipe.send_text(line + "\r")
    run_repl(c.session, ps)
    steps = [line for line in c.out.getvalue().splitlines() if line.startswith("Step, event #")]
    assert len(steps) == 3
    indices = [int(s.split("#")[1].split()[0]) for s in steps]
    assert indices == [indices[0], indices[0] + 1, indices[0] + 2]


def test_empty_line_repeats_the_last_command_except_those_that_change_state(pipe):
    """gdb: Enter repeats the previous command (print, info ...), not run, dlopen, call, set."""
    c, ps = repl_session(sample("clang16", "reloc", "libreloc.so"))
    for line in ("dlopen libreloc.so", "", "p own_data", "", "call get_ctor_state", "", "set var own_data = 1", "",
                 "p own_data", "quit"):
        pipe.send_text(line + "\r")
    assert run_repl(c.session, ps) == 0
    out = c.out.getvalue()
    assert out.count("handle 2: libreloc.so") == 1
    assert "$1 = 7 " in out and "$2 = 7 " in out and "$3 = 1 " in out
    assert out.count("get_ctor_state() = 46") == 1
    assert c.session.engine.by_handle[2].refcount == 1


def test_commands_block_reads_lines_at_a_continuation_prompt(pipe):
    c, ps = repl_session(sample("clang16", "reloc", "libreloc.so"))
    repl = Repl(c.session, ps)
    prompts = []
    original = repl.read_line

    def read_line(session):
        prompts.append(repl.prompt_text())
        return original(session)

    c.session.interactive = read_line
    for line in ("break load.done", "commands", "", "echo from commands", "continue", "end", "dlopen libreloc.so", "quit"):
        pipe.send_text(line + "\r")
    assert c.session.run_commands() == 0
    assert prompts[2:5] == [">", ">", ">"]
    assert c.out.getvalue().count("from commands") == 2  # libreloc_dep.so's load.done, then libreloc.so's


class EnterAfterCompletion(DldbgCompleter):
    """Presses Enter once completions were computed: keys queued behind a Tab would otherwise
    reach the prompt before the (asynchronous) completion is applied."""

    def __init__(self, session, pipe):
        super().__init__(session)
        self.pipe = pipe

    def get_completions(self, document, complete_event):
        yield from super().get_completions(document, complete_event)
        self.pipe.send_text("\r")


class Typist:
    """Types the next chunk of keys after each command (a plugin on dldbg_command_result)."""

    def __init__(self, pipe, chunks):
        self.pipe, self.chunks = pipe, list(chunks)

    def next(self):
        if self.chunks:
            self.pipe.send_text(self.chunks.pop(0))

    @hookimpl
    def dldbg_command_result(self, session, result):
        self.next()


def test_tab_completes_commands_and_symbols(pipe):
    """Tab inserts the unique completion: a function name (no abbreviation rule would accept
    `get_ctor_sta`) and a second command word."""
    c, ps = repl_session(sample("clang16", "reloc", "libreloc.so"))
    ps.completer = EnterAfterCompletion(c.session, pipe)
    typist = Typist(pipe, ["dlopen libreloc.so\r", "call get_ctor_sta\t", "set g\t", "quit\r"])
    c.session.plugins.register(typist, name="typist")
    typist.next()
    run_repl(c.session, ps)
    out, err = c.out.getvalue(), c.err.getvalue()
    assert "get_ctor_state() = 46" in out, err
    assert "error: set got: the following arguments are required: symbol, value" in err


def test_history_persists_and_recalls(pipe, tmp_path):
    path = tmp_path / "history"
    c, ps = repl_session(history=FileHistory(str(path)))
    pipe.send_text("echo first session\r")
    pipe.send_text("quit\r")
    run_repl(c.session, ps)
    assert "echo first session" in path.read_text()

    class PressUp:
        """After the first command, press Up (history) and Enter at the next prompt."""

        sent = False

        @hookimpl
        def dldbg_command_result(self, session, result):
            if not self.sent:
                self.sent = True
                pipe.send_text("\x1b[A\r")
                pipe.send_text("quit\r")

    c2, ps2 = repl_session(history=FileHistory(str(path)))
    c2.session.plugins.register(PressUp(), name="press-up")
    pipe.send_text("echo second session\r")
    run_repl(c2.session, ps2)
    assert c2.out.getvalue().splitlines() == ["second session", "second session"]


def test_ctrl_c_clears_the_line_and_ctrl_d_ends(pipe):
    c, ps = repl_session()
    pipe.send_text("echo never\x03")
    pipe.send_text("echo kept\r")
    pipe.send_text("\x04")
    assert run_repl(c.session, ps) == 0
    assert c.out.getvalue().splitlines() == ["kept"]
    assert c.session.quitting


def test_ctrl_d_while_stopped_ends_the_session(pipe):
    c, ps = repl_session(sample("clang16", "reloc", "libreloc.so"))
    pipe.send_text("catch load\r")
    pipe.send_text("dlopen libreloc.so\r")
    pipe.send_text("\x04")
    run_repl(c.session, ps)
    assert c.session.quitting and c.session.pauses == []
    assert "Breakpoint 1, event #0" in c.out.getvalue()
    assert c.session.engine.by_handle == {}  # the dlopen never finished
