"""Provides Inspector: the inspectors' pane, showing one page at a time (memory, the table, the
GOT, symbols, imports and exports, breakpoints; dldbg.tui.pages).

One line-API widget draws whichever page is shown, so switching inspectors repaints this pane
and nothing else: no layout of the screen, no widget shown or hidden.  It scrolls by itself
(each page keeps its position in `page.top`) and draws its own scroll bar in its last column:
Textual's scroll views lay out the whole screen whenever their virtual size changes, which a
page switch always does.  The widget draws the page's fixed lines on top and its body below,
passes keys to the page and scrolls so that the page's cursor stays in view.
"""

from __future__ import annotations

from rich.segment import Segment
from textual.binding import Binding
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget

from ..pages import Page
from ..styles import style

#: rows the mouse wheel scrolls
WHEEL = 3


class Inspector(Widget, can_focus=True):
    """The pages by name (`pages`); `active` is the one shown."""

    DEFAULT_CSS = """
    Inspector {
        height: 1fr;
    }
    """

    BINDINGS = [
        Binding("up", "page_key('row', -1)", "Up", show=False),
        Binding("down", "page_key('row', 1)", "Down", show=False),
        Binding("left", "page_key('move', -1)", "Left", show=False),
        Binding("right", "page_key('move', 1)", "Right", show=False),
        Binding("pageup", "page_key('page', -1)", "Page up", show=False),
        Binding("pagedown", "page_key('page', 1)", "Page down", show=False),
        Binding("home", "page_key('home', 0)", "Start", show=False),
        Binding("end", "page_key('end', 0)", "End", show=False),
        Binding("slash", "search", "Search", show=False),
    ]

    class Searched(Message):
        """Text was entered at the search prompt of `page` (the app reloads the page)."""

        def __init__(self, page: Page) -> None:
            super().__init__()
            self.page = page

    def __init__(self, pages: list[Page], *, name=None, id=None, classes=None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.pages = {page.name: page for page in pages}
        for page in pages:
            page.host = self
        self.active = pages[0].name

    @property
    def page(self) -> Page:
        """The page shown."""
        return self.pages[self.active]

    @property
    def body_rows(self) -> int:
        """Body rows shown (the pane's height less the page's fixed lines)."""
        return self._body_rows(self.page)

    def _body_rows(self, page: Page) -> int:
        return max(self.content_region.height - page.sticky_lines, 1)

    def show(self, name: str) -> None:
        """Show the page `name`, where it was scrolled to when it was last shown."""
        if name == self.active:
            return
        self.active = name
        self.scroll_page(self.page, self.page.top, force=True)  # repaints

    def page_changed(self, page: Page) -> None:
        """`page`'s content changed (called by pages): keep its position valid, repaint."""
        if page is self.page:
            self.scroll_page(page, page.top)
            self.refresh()

    def scroll_page(self, page: Page, top: int, force: bool = False) -> None:
        """Scroll `page` to body row `top` (within its body)."""
        rows = self._body_rows(page)
        top = max(0, min(top, page.body_height() - rows))
        if top != page.top or force:
            page.top = top
            page.scrolled(top, rows)
            if page is self.page:
                self.refresh()

    # -- events --------------------------------------------------------------------------
    def on_resize(self) -> None:
        width = self.content_region.width - 1
        for page in self.pages.values():
            page.resized(width, self._body_rows(page))
        self.scroll_page(self.page, self.page.top, force=True)

    def action_page_key(self, action: str, amount: int) -> None:
        page = self.page
        if page.key(action, amount, self.body_rows):
            row = page.cursor_row()
            if row is not None:
                rows = self.body_rows
                if row < page.top:
                    self.scroll_page(page, row)
                elif row >= page.top + rows:
                    self.scroll_page(page, row - rows + 1)
            self.refresh()

    def action_search(self) -> None:
        page = self.page
        if page.search_prompt is None:
            self.app.action_filter()
            return
        from ..dialogs.prompt import PromptDialog

        def searched(text: str | None) -> None:
            if text is not None:
                page.search(text)
                self.post_message(self.Searched(page))

        self.app.push_screen(PromptDialog(page.search_prompt, getattr(page, "regex", ""), allow_empty=True),
                             searched)

    def on_mouse_scroll_down(self, event) -> None:
        event.stop()
        self.scroll_page(self.page, self.page.top + WHEEL)

    def on_mouse_scroll_up(self, event) -> None:
        event.stop()
        self.scroll_page(self.page, self.page.top - WHEEL)

    def on_click(self, event) -> None:
        page = self.page
        sticky = page.sticky_lines
        if event.y < sticky:
            return
        if event.x >= self.content_region.width - 1:  # the scroll bar: jump there
            fraction = (event.y - sticky) / max(self.body_rows - 1, 1)
            self.scroll_page(page, round(fraction * (page.body_height() - self.body_rows)))
            return
        page.click(page.top + event.y - sticky)
        self.refresh()

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    # -- drawing -------------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        page = self.page
        width = self.content_region.width - 1
        sticky = page.sticky_lines
        if y < sticky:
            return Strip.join([page.sticky(width)[y], Strip([Segment(" ", style("on #1c1c2c"))])])
        row = y - sticky
        return Strip.join([page.body_line(page.top + row, width), Strip([self._bar(page, row)])])

    def _bar(self, page: Page, row: int) -> Segment:
        """The scroll bar's cell on body row `row` (a thumb where the shown rows are)."""
        rows, total = self.body_rows, page.body_height()
        if total <= rows:
            return Segment(" ")
        size = max(rows * rows // total, 1)
        start = min(page.top * rows // total, rows - size)
        return Segment("┃", style("#8787af")) if start <= row < start + size else Segment("│", style("#3a3a4a"))
