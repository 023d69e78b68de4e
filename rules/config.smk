"""Config checks: the schema (config/schema.yaml, defaults filled in) and the cross-key rules it
cannot express, each failing while planning with one `crossclass config error` line. Nothing
here imports torch."""

import functools
import json
import math
import shlex
import sys
from pathlib import Path

import jsonschema
import yaml
from snakemake.utils import validate

from crossclass.provenance import code_hash
from crossclass.signatures import keyword_options

SCHEMA = workflow.source_path("../config/schema.yaml")

def config_error(error):
    """One line naming the config key, the bad value and what is allowed."""
    key = ".".join(str(part) for part in error.absolute_path) or "(top level)"
    schema = error.schema if isinstance(error.schema, dict) else {}
    if error.validator == "additionalProperties" and "properties" in schema:
        allowed = ", ".join(sorted(schema["properties"]))
        return f"{error.message} at {key}; allowed keys: {allowed}"
    if error.validator in ("oneOf", "anyOf"):
        options = [o.get("const", o.get("enum", o.get("type"))) for o in error.validator_value]
        return f"{key} = {error.instance!r} is invalid; allowed: {options}"
    return f"{key}: {error.message}"


with open(SCHEMA) as f:
    SCHEMA_DOC = yaml.safe_load(f)


def stop(message):
    """Stop planning with one `crossclass config error` line."""
    print(f"crossclass config error: {message}", file=sys.stderr)
    sys.exit(1)


def check_config(config):
    """Validate against config/schema.yaml and fill defaults; stop with one line if invalid."""
    schema = SCHEMA_DOC
    error = jsonschema.exceptions.best_match(
        jsonschema.Draft202012Validator(schema).iter_errors(config)
    )
    if error is not None:
        stop(config_error(error))
    validate(config, "../config/schema.yaml")


check_config(config)


def check_experiments(config):
    """Cross-key checks the schema cannot express, each as one line."""
    for exp in config["experiments"]:
        epochs = train_epochs(exp["dataset"], exp["net"])
        late = [e for e in exp["epochs"] if e > epochs]
        if late:
            stop(f"experiments ({exp['dataset']}, {exp['net']}).epochs {late} exceed "
                 f"training.epochs = {epochs}")
    spectra = config["analysis"]["spectra"]
    for name in config["analysis"]["operators"]:
        if name not in spectra:
            stop(f"analysis.operators.{name}: no settings {name!r} in analysis.spectra "
                 f"({', '.join(sorted(spectra))})")


def experiment(dataset, net, where="experiments"):
    """The experiments entry of (dataset, net); stops naming `where` if there is none."""
    for exp in config["experiments"]:
        if (exp["dataset"], exp["net"]) == (dataset, net):
            return exp
    stop(f"{where}: no experiment ({dataset}, {net})")


def train_epochs(dataset, net):
    """Training epochs: the experiment's train_epochs, else training.epochs[dataset|default]."""
    table = config["training"]["epochs"]
    return experiment(dataset, net).get("train_epochs", table.get(dataset, table["default"]))


@functools.cache
def learning_rates(net):
    """The sweep: lr_count(net) log-spaced rates from lr_max down to lr_min (Appendix D.1)."""
    t = config["training"]
    count = t["lr_count"].get(net, t["lr_count"]["default"])
    if count == 1:
        return [t["lr_max"]]
    hi, lo = math.log10(t["lr_max"]), math.log10(t["lr_min"])
    return [float(f"{10 ** (hi + (lo - hi) * i / (count - 1)):.6g}") for i in range(count)]


def analysed_epochs(wildcards):
    """The checkpoint epochs analysed for the experiment of (dataset, net)."""
    return sorted(experiment(wildcards.dataset, wildcards.net)["epochs"])


check_experiments(config)
