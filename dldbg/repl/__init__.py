"""The prompt_toolkit front end: a REPL over a Session.

`prompt` reads lines with history and completion; `completion` suggests command words, symbols,
modules and paths (the TUI's command bar uses it too); `history` is the history file both keep.
The debugger's command line and the choice of front end are in dldbg.launch.  Nothing here is
imported by `dldbg run` or `dldbg inspect`.
"""
