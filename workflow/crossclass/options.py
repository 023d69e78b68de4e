"""KEY=VALUE command-line options (plugin options, figure options, store keys)."""

from __future__ import annotations

from typing import Any

import yaml

from crossclass.errors import UserError


def parse_options(pairs: list[str], flag: str = "--set") -> dict[str, Any]:
    """['dim=50', 'noise=0.5', 'flag=True', 'name=x'] -> {'dim': 50, 'noise': 0.5, 'flag': True,
    'name': 'x'}: values read as YAML scalars. `flag` names the option in the error message."""
    options = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UserError(f"{flag} expects key=value, got {pair!r}")
        options[key] = yaml.safe_load(value)
    return options
