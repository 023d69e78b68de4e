"""Errors that reach the user as one line (bad config, missing data, wrong shapes)."""


class UserError(Exception):
    """An error caused by the user's input; the CLI prints it as one line, with no traceback."""
