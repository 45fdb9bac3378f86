"""interviewer: practise ML system design interviews against an LLM interviewer.

The engine is a library: content models and loading, the dialog loop, the director,
LLM backends, the grader, token counting and the CLI. It never imports the TUI.
"""

__version__ = "0.1.0"
