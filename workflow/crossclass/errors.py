"""Errors that reach the user as one line (bad config, missing data, wrong shapes), and that
line read back from a failed job's log."""

from __future__ import annotations

import re

# the CLI's one-line errors (`crossclass CMD: error: ...`, argparse's usage errors included),
# the planner's, and the last line of a Python traceback (`SomeError: ...`)
ERROR_LINE = re.compile(
    r"^(crossclass( [\w-]+)?: error: |crossclass config error: "
    r"|[A-Za-z_][\w.]*(Error|Exception|Interrupt)(: |$))"
)


class UserError(ValueError):
    """An error caused by the user's input: a ValueError a library caller can catch; the CLI
    prints it as one line, with no traceback."""


def error_line(log: str, fallback: bool = True) -> str | None:
    """The last error line of a job's log text (ERROR_LINE); without one its last non-empty
    line if `fallback` (a shell's or the system's message), else None."""
    lines = [line.strip() for line in log.splitlines() if line.strip()]
    for line in reversed(lines):
        if ERROR_LINE.match(line):
            return line
    return lines[-1] if fallback and lines else None
