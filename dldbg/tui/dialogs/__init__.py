"""Provides the TUI's dialogs."""
