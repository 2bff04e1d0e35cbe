"""Provides the TUI's widgets, one per module, each with its own DEFAULT_CSS."""

from .breakpoints_view import BreakpointsView
from .command_bar import CommandBar
from .event_detail import EventDetail
from .event_timeline import EventTimeline
from .got_view import GotView
from .hex_view import HexView
from .imports_view import ImportsView
from .inspector_tabs import InspectorTabs
from .modules_tree import ModulesTree
from .output_log import OutputLog
from .status_bar import StatusBar
from .symbols_view import SymbolsView
from .table_view import TableView
from .timeline_filter import TimelineFilter

__all__ = ["BreakpointsView", "CommandBar", "EventDetail", "EventTimeline", "GotView", "HexView", "ImportsView",
           "InspectorTabs", "ModulesTree", "OutputLog", "StatusBar", "SymbolsView", "TableView", "TimelineFilter"]
