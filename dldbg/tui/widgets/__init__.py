"""Provides the TUI's widgets, one per module, each with its own DEFAULT_CSS."""

from .command_bar import CommandBar
from .event_detail import EventDetail
from .event_timeline import EventTimeline
from .inspector import Inspector
from .inspector_tabs import InspectorTabs
from .modules_tree import ModulesTree
from .output_log import OutputLog
from .status_bar import StatusBar
from .timeline_filter import TimelineFilter

__all__ = ["CommandBar", "EventDetail", "EventTimeline", "Inspector", "InspectorTabs", "ModulesTree", "OutputLog",
           "StatusBar", "TimelineFilter"]
