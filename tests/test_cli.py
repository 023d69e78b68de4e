"""The `crossclass` entry point: --threads caps torch's threads before a subcommand runs; option
values are parsed by type; every --device defaults to auto; a job log's error line is the
CLI's one-line error (what the workflow's onerror prints)."""

from __future__ import annotations

import argparse
import shlex

import pytest
import torch
from crossclass import cli
from crossclass.errors import error_line
from crossclass.options import format_options, parse_options, parse_value


def test_threads_flag_sets_torch_threads():
    before = torch.get_num_threads()
    try:
        cli.main(["--threads", "1", "figure", "nope", "--inputs", "x", "--out", "y.pdf"])
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
    with pytest.raises(SystemExit, match="--threads must be >= 1"):
        cli.main(["--threads", "0", "figure", "nope", "--inputs", "x", "--out", "y.pdf"])


@pytest.mark.parametrize(("text", "value"), [
    ("3", 3), ("1e-5", 1e-5), ("0.5", 0.5), ("true", True), ("False", False), ("null", None),
    ("no", "no"), ("yes", "yes"), ("x", "x"), ("[1, 2]", [1, 2]), ('"7"', "7"),
])
def test_option_values_are_parsed_by_type(text, value):
    parsed = parse_value(text)
    assert parsed == value and type(parsed) is type(value)


def test_formatted_options_parse_back_to_the_same_values():
    options = {"eps": 1e-5, "name": "no", "flag": True, "sizes": [1, 2], "none": None}
    pairs = shlex.split(format_options(options))
    assert pairs[::2] == ["--set"] * len(options)
    assert parse_options(pairs[1::2]) == options
    with pytest.raises(ValueError, match="--set expects key=value"):
        parse_options(["eps"])


def device_defaults(parser: argparse.ArgumentParser, prefix: str = "") -> dict[str, str]:
    """{subcommand path: its --device default} over every (nested) subcommand."""
    found = {}
    for action in parser._actions:
        if "--device" in action.option_strings:
            found[prefix] = action.default
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found |= device_defaults(sub, f"{prefix} {name}".strip())
    return found


def test_every_device_default_is_auto():
    defaults = device_defaults(cli.build_parser())
    assert {"train", "extract", "operator-spectrum", "spectra matrix"} <= set(defaults)
    assert set(defaults.values()) == {"auto"}


def test_error_line_of_a_job_log_is_the_cli_error(capsys, tmp_path):
    """The CLI's user and usage errors, each after other output, and a traceback's last line;
    without any, the last line (a shell's message) unless fallback is off."""
    print("reading the store")
    assert cli.main(["figure", "fig5", "--inputs", str(tmp_path / "x.zarr"),
                     "--out", str(tmp_path / "y.pdf")]) == 2
    log = capsys.readouterr()
    line = log.err.strip()
    assert line.startswith("crossclass figure: error: ") and error_line(log.out + log.err) == line
    with pytest.raises(SystemExit):
        cli.main(["figure", "fig5"])  # its required --inputs and --out missing
    usage = capsys.readouterr().err
    assert error_line(usage).startswith("crossclass figure: error: ") and "usage:" in usage
    assert error_line("Traceback (most recent call last):\n  File x\nRuntimeError: boom\n"
                      "  \n") == "RuntimeError: boom"
    assert error_line("epoch 1 test error 0.3\nbash: line 1: crossclass: command not found\n"
                      ) == "bash: line 1: crossclass: command not found"
    assert error_line("epoch 1 test error 0.3\n", fallback=False) is None
    assert error_line("") is None
