"""The prompt_toolkit front end: a REPL over a Session.

`launch` parses the debugger's command line and picks the front end (batch, REPL, later the
TUI); `completion` suggests command words, symbols, modules and paths; `prompt` reads lines with
history and completion.  Nothing here is imported by `dldbg run` or `dldbg inspect`.
"""
