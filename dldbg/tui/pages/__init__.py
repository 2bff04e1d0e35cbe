"""Provides the inspectors' pages, drawn one at a time by dldbg.tui.widgets.inspector."""

from .base import Page
from .breakpoints import BreakpointsPage
from .got import GotPage
from .imports import ImportsPage
from .memory import MemoryPage
from .rows import Column, RowsPage, Section
from .symbols import SymbolsPage
from .table import TablePage

__all__ = ["BreakpointsPage", "Column", "GotPage", "ImportsPage", "MemoryPage", "Page", "RowsPage", "Section",
           "SymbolsPage", "TablePage"]
