"""Session: `help`, `source`, `echo`, `quit`, `info plugins`, the auto-load safe path of `.dldbginit`."""

from __future__ import annotations

import argparse

from ..session.errors import CommandError, SessionQuit
from ..session.output import Reply
from . import command, parser
from .registry import CATEGORIES

p = parser("help", "Commands by category; `help COMMAND` (or `COMMAND -h`) shows a command's help and examples, "
           "`help CATEGORY` one category, `help info` (any first word) the commands it begins.",
           ["help", "help x", "help info", "help info got", "help set", "help breakpoints"])
p.add_argument("topic", nargs="*", help="a command or a category")


@command(p, category="session", aliases=("h",), complete=("command",))
def help_(session, topic):
    registry = session.registry
    if topic:
        words = list(topic)
        if len(words) == 1 and words[0] in CATEGORIES:
            return _category(registry, words[0])
        sub = _subcommands(registry, words)
        try:
            cmd, used = registry.match(words)
        except CommandError:
            if not sub:
                raise
            cmd, used = None, 0
        if cmd is None or used != len(words):
            if sub:
                return _prefix(words, sub)
            raise CommandError(f"no command {' '.join(words)!r}")
        text = cmd.help.rstrip()
        if cmd.aliases:
            text += "\n\nAliases: " + ", ".join(cmd.aliases)
        return Reply({"command": cmd.name, "aliases": list(cmd.aliases), "category": cmd.category, "help": cmd.help}, text)
    lines, data = [], {}
    for cat, cmds in registry.by_category().items():
        if not cmds:
            continue
        lines.append(CATEGORIES[cat])
        width = max(len(c.name) for c in cmds)
        for c in cmds:
            alias = f" ({', '.join(c.aliases)})" if c.aliases else ""
            lines.append(f"  {c.name:<{width}}  {c.summary}{alias}")
        lines.append("")
        data[cat] = [{"name": c.name, "summary": c.summary, "aliases": list(c.aliases)} for c in cmds]
    lines.append("`help COMMAND` or `COMMAND -h`: a command's help with examples.  Words abbreviate: `i mod`.")
    return Reply({"categories": data}, "\n".join(lines))


def _subcommands(registry, words: list[str]) -> list:
    """The commands whose name continues `words` (`info` -> info got, info modules, ...), each
    word of `words` a prefix of the name's word; aliases leave them out."""
    n = len(words)
    found = {}
    for name, cmd in registry.commands.items():
        parts = name.split()
        if len(parts) > n and all(parts[i].startswith(words[i]) for i in range(n)):
            found[name] = cmd
    return [found[name] for name in sorted(found)]


def _prefix(words: list[str], cmds: list) -> Reply:
    head = " ".join(words)
    width = max(len(c.name) for c in cmds)
    lines = [f"{head!r} is followed by one of these (`help {cmds[0].name}` for one of them):"]
    for c in cmds:
        alias = f" ({', '.join(c.aliases)})" if c.aliases else ""
        lines.append(f"  {c.name:<{width}}  {c.summary}{alias}")
    return Reply({"prefix": head, "commands": [{"name": c.name, "summary": c.summary, "aliases": list(c.aliases)}
                                               for c in cmds]}, "\n".join(lines))


def _category(registry, cat: str) -> Reply:
    cmds = registry.by_category()[cat]
    lines = [CATEGORIES[cat]] + [f"  {c.name}: {c.summary}" for c in cmds]
    return Reply({"category": cat, "commands": [c.name for c in cmds]}, "\n".join(lines))


def read_command_file(path: str) -> list[str]:
    """The command lines of a file (`-` is stdin); comments and blank lines are kept out."""
    import sys

    try:
        if path == "-":
            text = sys.stdin.read()
        else:
            with open(path, encoding="utf-8") as fh:
                text = fh.read()
    except OSError as exc:
        raise CommandError(f"{path}: {exc.strerror or exc}") from None
    return [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]


p = parser("source", "Run the commands of FILE next (one per line; # starts a comment).  While the engine is "
           "stopped, the file's following lines are what it reads, as with -x.",
           ["source session.dldbg", "source plugins/examples/failing-dlopen.dldbg"])
p.add_argument("file", help="command file")


@command(p, category="session", complete=("path",), repeatable=False)
def source(session, file):
    lines = read_command_file(file)
    session.pending.extendleft((line, file) for line in reversed(lines))
    return Reply({"file": file, "lines": len(lines)}, "")


p = parser("echo", "Print TEXT (for command files).", ["echo loading libfoo", "echo \"-- step 2 --\""])
p.add_argument("text", nargs=argparse.REMAINDER, help="words to print")


@command(p, category="session")
def echo(session, text):
    out = " ".join(str(t) for t in text)
    return Reply({"text": out}, out)


p = parser("quit", "End the session (also while stopped inside a load: the load is not finished).",
           ["quit", "q"])


@command(p, category="session", aliases=("q", "exit"), repeatable=False)
def quit_(session):
    session.quitting = True
    if session.pauses:
        raise SessionQuit()
    return Reply({"quit": True}, "")


p = parser("info plugins", "The plugins in use: name, where they come from, and the commands they add.",
           ["info plugins"])


@command(p, category="session")
def info_plugins(session):
    pm = session.plugins
    rows = []
    for name, plugin in pm.list_name_plugin():
        if plugin is None:
            continue
        cmds = sorted(c.name for c in session.registry.commands.values() if c.plugin == name)
        origin = getattr(plugin, "__file__", None) or type(plugin).__module__
        rows.append({"name": name, "origin": origin, "commands": cmds})
    if not rows:
        return Reply([], "no plugins")
    lines = [f"{r['name']}: {r['origin']}" + (f" (commands: {', '.join(r['commands'])})" if r["commands"] else "") for r in rows]
    return Reply(rows, "\n".join(lines))


p = parser("set auto-load safe-path", "Set the folders whose .dldbginit may run (gdb's auto-load safe-path): "
           "DIR[:DIR...]; / allows every folder, nothing allows none.\n\n"
           "Only meaningful in ~/.dldbginit, which runs before ./.dldbginit is considered.",
           ["set auto-load safe-path ~/src:/work", "set auto-load safe-path /", "set auto-load safe-path"])
p.add_argument("path", nargs="?", default="", help="folders separated by :")


@command(p, category="session", complete=("path",), repeatable=False)
def set_auto_load_safe_path(session, path):
    session.safe_path = [p for p in path.split(":") if p]
    return Reply({"safe_path": session.safe_path}, f"auto-load safe-path: {':'.join(session.safe_path) or '(empty)'}")


p = parser("add-auto-load-safe-path", "Add DIR to the folders whose .dldbginit may run (gdb's command of that "
           "name); for ~/.dldbginit.", ["add-auto-load-safe-path ~/src/myproject"])
p.add_argument("path", help="a folder")


@command(p, category="session", complete=("path",), repeatable=False)
def add_auto_load_safe_path(session, path):
    session.safe_path.append(path)
    return Reply({"safe_path": session.safe_path}, f"auto-load safe-path: {':'.join(session.safe_path)}")


p = parser("show auto-load safe-path", "The folders whose .dldbginit may run.", ["show auto-load safe-path"])


@command(p, category="session")
def show_auto_load_safe_path(session):
    return Reply({"safe_path": session.safe_path}, f"auto-load safe-path: {':'.join(session.safe_path) or '(empty)'}")
