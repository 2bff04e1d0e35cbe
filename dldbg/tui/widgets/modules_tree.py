"""Provides ModulesTree: every module the session loaded (or tried to), and under each the
loader stages of its latest load with their status: ✓ done, ▶ in progress (where the engine
is stopped), ✗ failed (with the reason), · not reached yet."""

from __future__ import annotations

from rich.text import Text
from textual.message import Message
from textual.widgets import Tree

from ...textsafe import printable
from ..model import LoadTracker, ModuleLoad, Shortener

STATUS_GLYPHS = {"done": ("✓", "green"), "current": ("▶", "bold yellow"), "failed": ("✗", "bold red"),
                 "pending": ("·", "dim")}


class ModulesTree(Tree):
    """Modules -> stages.  Selecting a module shows its imports and exports; selecting a stage
    moves the timeline to its first event."""

    DEFAULT_CSS = """
    ModulesTree {
        height: 1fr;
        scrollbar-size-vertical: 1;
    }
    """

    class ModuleChosen(Message):
        def __init__(self, module: str) -> None:
            super().__init__()
            self.module = module

    class StageChosen(Message):
        def __init__(self, module: str, stage: str, index: int) -> None:
            super().__init__()
            self.module, self.stage, self.index = module, stage, index

    def __init__(self, *, shorten: Shortener | None = None, name=None, id=None, classes=None) -> None:
        super().__init__("modules", name=name, id=id, classes=classes)
        self.show_root = False
        self.guide_depth = 2
        self.shorten = shorten or Shortener()
        self._module_nodes: dict = {}
        self._signatures: dict[str, tuple] = {}
        self._placeholder = None

    def update_from(self, tracker: LoadTracker, state=None) -> None:
        """Bring the tree up to date with `tracker` (the log) and `state` (live module states)."""
        live = {m.name: m for m in state.modules} if state is not None else None
        paused = state.pause if state is not None else None
        if not tracker.modules:
            if self._placeholder is None:
                self._placeholder = self.root.add_leaf(Text("no loads yet", "dim"))
            return
        if self._placeholder is not None:
            self._placeholder.remove()
            self._placeholder = None
        for name, load in tracker.modules.items():
            info = live.get(name) if live is not None else None
            status = self._status(load, info, live)
            here = paused.stage if paused is not None and paused.module == name else None
            signature = (status, load.attempts, here,
                         tuple((s.name, s.status, s.count, s.note) for s in load.ordered()),
                         (info.handle, info.memory_base, info.memory_size) if info else None)
            node = self._module_nodes.get(name)
            if node is None:
                node = self._module_nodes[name] = self.root.add(self._module_label(load, status, info), data=("module", name),
                                                         expand=True)
            elif self._signatures.get(name) == signature:
                continue
            else:
                node.set_label(self._module_label(load, status, info))
            self._signatures[name] = signature
            node.remove_children()
            for stage in load.ordered():
                node.add_leaf(self._stage_label(stage, here), data=("stage", name, stage.name, stage.first))
            if status in ("loading", "failed"):
                node.expand()

    @staticmethod
    def _status(load: ModuleLoad, info, live) -> str:
        if load.status == "loaded" and live is not None and info is None:
            return "rolled-back"
        if info is not None and info.state == "released":
            return "released"
        return load.status

    def _module_label(self, load: ModuleLoad, status: str, info) -> Text:
        text = Text()
        glyph, style = {"loaded": ("✓", "green"), "loading": ("▶", "bold yellow"), "failed": ("✗", "bold red"),
                        "rolled-back": ("↺", "red"), "released": ("○", "dim")}.get(status, ("?", ""))
        text.append(f"{glyph} ", style)
        text.append(printable(load.name), "bold")
        if status == "loaded" and info is not None:
            if info.handle is not None:
                text.append(f" h{info.handle}", "dim")
            if info.memory_size:
                text.append(f" {info.memory_base:#x}+{info.memory_size}", "dim")
        elif status == "failed":
            failed = next((s.name for s in load.stages.values() if s.status == "failed"), "?")
            text.append(f" failed at {failed}", "red")
        elif status == "rolled-back":
            text.append(" rolled back", "red")
        elif status == "loading":
            text.append(" loading", "yellow")
        if load.requested_by:
            text.append(f" ← {printable(load.requested_by)}", "dim")
        return text

    def _stage_label(self, stage, here: str | None) -> Text:
        glyph, style = STATUS_GLYPHS.get(stage.status, ("?", ""))
        text = Text()
        text.append(f"{glyph} ", style)
        text.append(f"{stage.name:<11}", "bold" if stage.status in ("current", "failed") else "")
        if stage.count:
            text.append(f" {stage.count} ev", "dim")
        if here == stage.name:
            text.append(" ◀ stopped", "bold yellow")
        if stage.note:
            text.append(f" {self.shorten(stage.note)}", "red")
        return text

    def on_tree_node_selected(self, event: Tree.NodeSelected) -> None:
        event.stop()
        data = event.node.data
        if not data:
            return
        if data[0] == "module":
            self.post_message(self.ModuleChosen(data[1]))
        elif data[0] == "stage" and data[3] >= 0:
            self.post_message(self.StageChosen(data[1], data[2], data[3]))
