"""One registry of operator names: the parser, the config schema's pattern and the CLI help
agree, and every registered name builds an operator."""

from __future__ import annotations

import re

import pytest
from crossclass import cli
from crossclass.operator_names import GRAMMAR, LAYER, NETWORK, PATTERN, parse_operator

NAMES = [*NETWORK, *(f"layer:features.3:{kind}" for kind in LAYER)]
BAD = ["G_bogus", "layer::KFAC", "layer:fc:KFAC2", "layer:a/b:G", "hess-minus-hess", "Hess"]


@pytest.mark.parametrize("name", NAMES)
def test_registered_names_parse_and_match_the_schema_pattern(name):
    layer, kind = parse_operator(name)
    assert (layer is None) == (not name.startswith("layer:"))
    assert kind in (NETWORK if layer is None else LAYER)
    assert re.fullmatch(PATTERN, name)


@pytest.mark.parametrize("name", BAD)
def test_unregistered_names_fail_the_parser_and_the_pattern(name):
    with pytest.raises(ValueError, match="operator"):
        parse_operator(name)
    assert not re.fullmatch(PATTERN, name)


def test_the_cli_help_lists_every_name():
    help_text = cli.build_parser()._subparsers._group_actions[0].choices[
        "operator-spectrum"].description
    assert GRAMMAR in help_text
    for name in (*NETWORK, *LAYER):
        assert re.search(rf"(^|[ ,]){re.escape(name)}(,|$| )", GRAMMAR), name
