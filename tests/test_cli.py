"""The `crossclass` entry point: --threads caps torch's threads before a subcommand runs."""

from __future__ import annotations

import pytest
import torch
from crossclass import cli


def test_threads_flag_sets_torch_threads():
    before = torch.get_num_threads()
    try:
        cli.main(["--threads", "1", "figure", "nope", "--inputs", "x", "--out", "y.pdf"])
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
    with pytest.raises(SystemExit, match="--threads must be >= 1"):
        cli.main(["--threads", "0", "figure", "nope", "--inputs", "x", "--out", "y.pdf"])
