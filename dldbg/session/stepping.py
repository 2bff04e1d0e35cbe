"""Where a resumed engine stops next: the loads in progress, and the stepping modes.

* `step [N]`: at the N-th next event.
* `next`: at the next event of the paused load in another stage (or of another module at the
  same depth); events of loads started inside it (NEEDED libraries) are stepped over, as gdb's
  `next` steps over calls.  Also where the paused load ends.
* `finish`: where the paused load ends (its `load.done`, or the `load.fail` of its request).
* `continue`: only at breakpoints.

Breakpoints stop the engine in every mode.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..events import Event

RESUME_KINDS = ("continue", "step", "next", "finish")
_LIVE = ("loading", "instantiated")


class LoadStack:
    """The modules whose loads are in progress, outermost first, followed from the events."""

    def __init__(self) -> None:
        self.frames: list[str] = []

    def depth_of(self, module: str) -> int:
        """The depth of `module`'s frame (1 = outermost), else the current depth."""
        for i in range(len(self.frames) - 1, -1, -1):
            if self.frames[i] == module:
                return i + 1
        return len(self.frames)

    def observe(self, event: Event, live_modules) -> int:
        """Update the stack for `event`; return the event's depth.

        `live_modules()` gives the names of modules still loading in the engine (after a failed
        request is rolled back, its frames go).
        """
        kind, module, frames = event.kind, event.module, self.frames
        if kind == "load.start":
            frames.append(module)
            return len(frames)
        # most events are of the innermost load: its depth without a search
        depth = len(frames) if frames and frames[-1] == module else self.depth_of(module)
        if kind == "load.done" and depth and frames[depth - 1] == module:
            del frames[depth - 1]
        elif kind == "load.fail":
            live = set(live_modules())
            self.frames = [f for f in frames if f in live]
        return depth


@dataclass
class Resume:
    """How a paused engine goes on.  `anchor_*`: the paused event's module, stage and depth."""

    how: str
    count: int = 1
    anchor_module: str = ""
    anchor_stage: str = ""
    anchor_depth: int = 0

    def should_stop(self, event: Event, depth: int, frames: list[str]) -> bool:
        """Whether the engine stops at `event`, whose depth is `depth`; `frames` are the loads
        still in progress after it.  `step` counts down `count`."""
        if self.how == "step":
            self.count -= 1
            return self.count <= 0
        ended = self.anchor_depth > 0 and self.anchor_module not in frames
        if self.how == "next":
            return ended or (depth <= self.anchor_depth
                             and (event.module, event.stage) != (self.anchor_module, self.anchor_stage))
        if self.how == "finish":
            return ended
        return False
