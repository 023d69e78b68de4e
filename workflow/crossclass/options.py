"""KEY=VALUE command-line options (plugin options, figure options, thresholds, store keys)."""

from __future__ import annotations

import json
from typing import Any

from crossclass.errors import UserError

WORDS = {"true": True, "false": False, "null": None, "none": None}


def parse_value(text: str) -> Any:
    """One option value by its type: a JSON value (`3` int, `1e-5` float, `[1, 2]` list,
    `"x"` string), `true`/`false`/`null` in any case, else the text itself as a string
    (so `no` stays the string 'no')."""
    word = WORDS.get(text.lower(), text)
    if word is not text:
        return word
    try:
        return json.loads(text)
    except ValueError:
        return text


def parse_options(pairs: list[str], flag: str = "--set") -> dict[str, Any]:
    """['dim=50', 'noise=1e-5', 'flag=true', 'name=x'] -> {'dim': 50, 'noise': 1e-05,
    'flag': True, 'name': 'x'} (crossclass.options.parse_value). `flag` names the option in the
    error message."""
    options = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UserError(f"{flag} expects key=value, got {pair!r}")
        options[key] = parse_value(value)
    return options


def format_options(options: dict[str, Any], flag: str = "--set") -> str:
    """The inverse of parse_options as one shell-quoted command-line fragment
    (`--set k=JSON ...`, keys sorted so command lines are stable)."""
    import shlex

    return " ".join(f"{flag} {shlex.quote(f'{k}={json.dumps(v)}')}"
                    for k, v in sorted(options.items()))
