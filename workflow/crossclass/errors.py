"""Errors that reach the user as one line (bad config, missing data, wrong shapes)."""


class UserError(ValueError):
    """An error caused by the user's input: a ValueError a library caller can catch; the CLI
    prints it as one line, with no traceback."""
