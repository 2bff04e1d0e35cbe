"""Provides Page: the content of one inspector (memory, table, GOT, ...), drawn by the
Inspector widget (dldbg.tui.widgets.inspector).

Pages are not widgets: the inspectors share one widget whose content is the page shown, so
switching inspectors changes what that widget draws and costs one repaint of its region, not a
layout of the screen.  A page has fixed lines on top (`sticky`, e.g. column titles) and a body
of rows that scrolls; the widget keeps each page's scroll position, asks the page for the lines
it shows and passes it the keys.
"""

from __future__ import annotations

from textual.strip import Strip


class Page:
    """One inspector's content.  `host` is the Inspector showing it (set when added), `top` its
    scroll position in body rows."""

    #: the tab's id (memory, table, got, symbols, imports, breakpoints)
    name = ""
    #: what `/` does on this page (a prompt), or None: `/` filters the timeline
    search_prompt: str | None = None
    #: how many lines `sticky` gives
    sticky_lines = 0

    def __init__(self) -> None:
        self.host = None
        self.top = 0

    # -- geometry (in lines) -------------------------------------------------------------
    def sticky(self, width: int) -> list[Strip]:
        """Lines fixed at the top of the page."""
        return []

    def body_height(self) -> int:
        raise NotImplementedError

    def body_line(self, row: int, width: int) -> Strip:
        raise NotImplementedError

    def cursor_row(self) -> int | None:
        """The body row to keep in view (the cursor), or None."""
        return None

    # -- input ---------------------------------------------------------------------------
    def key(self, action: str, amount: int, page_rows: int) -> bool:
        """Handle a movement (`row`, `move`, `page`, `home`, `end`) by `amount`; `page_rows` is
        the number of body rows shown.  True when handled."""
        return False

    def click(self, row: int) -> None:
        """The body row `row` was clicked."""

    def search(self, text: str) -> None:
        """The text entered at the page's search prompt."""

    def resized(self, width: int, height: int) -> None:
        """The page's area is now `width` x `height` cells (body rows only)."""

    def scrolled(self, top: int, rows: int) -> None:
        """Body rows `top` to `top + rows` are shown now (after a scroll, a resize, a switch)."""

    # -- for subclasses ------------------------------------------------------------------
    def changed(self) -> None:
        """The page's content (and maybe its height) changed: repaint it when shown."""
        if self.host is not None:
            self.host.page_changed(self)
