"""One definition of the estimator settings (crossclass.estimator): the library, the CLI
flags, the config schema and the rules' flags all come from it and agree."""

from __future__ import annotations

import argparse
import shlex

import jsonschema
import pytest
import torch
from crossclass import estimator
from crossclass.errors import UserError
from crossclass.linalg import DenseOperator, estimate_spectrum

BLOCKS = [{}, {"M": 12, "n_vec": 3, "log": True, "eps": 1e-8, "deflate": "C"},
          {"method": "exact", "deflate": 2, "bounds": "normalization", "deflate_method":
           "subspace", "kappa": 1.2}]


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser()
    estimator.add_arguments(p)
    return p


@pytest.mark.parametrize("block", BLOCKS)
def test_command_flags_parse_back_to_the_checked_block(block):
    args = parser().parse_args(shlex.split(estimator.command_flags(block)))
    assert {s.name: getattr(args, s.name) for s in estimator.SETTINGS} == estimator.check(block)


def test_cli_defaults_and_schema_defaults_are_the_settings_defaults():
    args = parser().parse_args([])
    assert {s.name: getattr(args, s.name) for s in estimator.SETTINGS} == estimator.defaults()
    schema = estimator.json_schema()
    assert {k: v["default"] for k, v in schema["properties"].items()} == estimator.defaults()
    for block in BLOCKS:
        jsonschema.validate(block, schema)


@pytest.mark.parametrize(("bad", "message"), [
    ({"M": 1}, "M: 1 must be >= 2"), ({"kappa": 1.0}, "kappa: 1.0 must be > 1"),
    ({"method": "kpm"}, "'kpm' is not one of"), ({"deflate": "D"}, "an integer, C or C2"),
    ({"n_vec": 2.5}, "expected int"), ({"colour": 1}, "unknown setting"),
    ({"log": "yes"}, "expected bool"),
])
def test_bad_settings_are_refused_alike_by_library_schema_and_cli(bad, message):
    with pytest.raises(UserError, match=message):
        estimator.check(bad)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, estimator.json_schema())
    with pytest.raises(ValueError):  # UserError is a ValueError for library callers
        estimate_spectrum(DenseOperator(torch.eye(4, dtype=torch.float64)), progress=False, **bad)


def test_library_defaults_are_the_settings_defaults():
    A = torch.diag(torch.arange(1.0, 21.0, dtype=torch.float64))
    est = estimate_spectrum(DenseOperator(A), progress=False, M=8, K=16)
    expected = {**estimator.defaults(), "M": 8, "K": 16, "eps": 0.0}  # eps unused without log
    assert {k: est.params[k] for k in expected} == expected


def test_symbolic_ranks_resolve_with_the_class_count():
    assert estimator.resolve_rank("C", 10) == 10 and estimator.resolve_rank("C2", 10) == 101
    assert estimator.resolve_rank(3, None) == 3
    with pytest.raises(UserError, match="needs a classification operator"):
        estimator.resolve_rank("C", None)
