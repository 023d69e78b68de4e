"""Config checks: the schema (config/schema.yaml, defaults filled in) and the cross-key rules it
cannot express, each failing while planning with one `crossclass config error` line. Nothing
here imports torch."""

import collections
import functools
import hashlib
import json
import math
import os
import re
import shlex
import sys
from pathlib import Path
from types import SimpleNamespace

import jsonschema
import yaml
from snakemake.utils import validate

from crossclass import estimator, operator_names, plugins, run_layout, sizes
from crossclass.layer_names import analysable_layers
from crossclass.options import format_options
from crossclass.provenance import code_hash
from crossclass.signatures import keyword_options
from crossclass.sweep import lr_grid

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
SCHEMA_DOC["$defs"]["spectrum"] = estimator.json_schema()  # one definition of the settings
SCHEMA_DOC["$defs"]["operator"]["pattern"] = operator_names.PATTERN  # one registry of names


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


def check_plugins(config):
    """Dataset and net names exist in the entry-point registry, and their options are ones the
    plugin takes (read from its signature, nothing imported)."""
    sources = Path(workflow.basedir) / "workflow"
    for group, key, used in (
        (plugins.DATASETS, "datasets", [e["dataset"] for e in config["experiments"]]),
        (plugins.NETWORKS, "nets", [e["net"] for e in config["experiments"]]),
    ):
        known = plugins.available(group)
        for name in [*config[key], *used]:
            if name not in known:
                where = key if name in config[key] else "experiments"
                stop(f"{where}: unknown {key[:-1]} {name!r}; available: {', '.join(known)}")
        for name, options in config[key].items():
            taken = plugins.plugin_options(group, name, sources)
            unknown = [] if taken is None else sorted(set(options) - set(taken))
            if unknown:
                stop(
                    f"{key}.{name}.{unknown[0]}: {name} takes no such option; "
                    f"options: {', '.join(taken) or 'none'}"
                )


def check_deflation(where, spec, size):
    """On a matrix of known `size` the deflated rank must be below it."""
    deflate = {**estimator.defaults(), **spec}["deflate"]
    if deflate not in estimator.SYMBOLIC_RANKS and deflate >= size:
        stop(f"{where}.deflate = {deflate}; allowed: 0 <= deflate < {size} (the matrix size)")


def check_experiments(config):
    """Cross-key checks the schema cannot express, each as one line."""
    seen = set()
    for exp in config["experiments"]:
        pair = (exp["dataset"], exp["net"])
        if pair in seen:
            stop(f"experiments: ({exp['dataset']}, {exp['net']}) is listed twice; merge them")
        seen.add(pair)
        epochs = train_epochs(exp["dataset"], exp["net"])
        late = [e for e in exp["epochs"] if e > epochs]
        if late:
            stop(
                f"experiments ({exp['dataset']}, {exp['net']}).epochs {late} exceed "
                f"training.epochs = {epochs}"
            )
    t = config["training"]
    if t["lr_min"] > t["lr_max"]:
        stop(f"training.lr_min = {t['lr_min']} exceeds training.lr_max = {t['lr_max']}")
    spectra = config["analysis"]["spectra"]
    for name in config["analysis"]["operators"]:
        if name not in spectra:
            stop(
                f"analysis.operators.{name}: no settings {name!r} in analysis.spectra "
                f"({', '.join(sorted(spectra))})"
            )
    for name, matrix in config["verification"].items():
        size = matrix.get(
            "p",
            SCHEMA_DOC["properties"]["verification"]["properties"][name]["properties"]["p"][
                "default"
            ],
        )
        check_deflation(f"verification.{name}.spectrum", matrix.get("spectrum", {}), size)
    mlr = config["figure_data"].get("mlr")
    if mlr is not None and mlr["D"] < mlr["C"]:
        stop(f"figure_data.mlr.D = {mlr['D']} is below C = {mlr['C']}; Theorem 8.1 needs D >= C")


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
    """The sweep of `net`: training.lr_count[net] rates from lr_max down to lr_min."""
    t = config["training"]
    return lr_grid(t["lr_count"].get(net, t["lr_count"]["default"]), t["lr_min"], t["lr_max"])


@functools.cache
def sweep_batches(net):
    """[[rate index, ...] per batch]: training.runs_per_job consecutive rates of the sweep."""
    size, count = config["training"]["runs_per_job"], len(learning_rates(net))
    return [list(range(start, min(start + size, count))) for start in range(0, count, size)]


def analysed_epochs(wildcards):
    """The checkpoint epochs analysed for the experiment of (dataset, net)."""
    return sorted(experiment(wildcards.dataset, wildcards.net)["epochs"])


def layer_references(config):
    """[(config key, net, layer name)] of every layer the requested figures and the
    analysed operators name (`layer`, `layers` and `layer:<name>:<kind>` operators)."""
    refs = []
    for name in config["figures"]:
        view = config["figure_data"].get(name, {})
        where = f"figure_data.{name}"
        if isinstance(view.get("layer"), str):
            refs.append((f"{where}.layer", view["net"], view["layer"]))
        refs += [(f"{where}.layers", view["net"], layer) for layer in view.get("layers", [])]
        refs += [
            (f"{where}.operators", view["net"], layer)
            for layer in operator_layers(view.get("operators", []))
        ]
    for settings, ops in config["analysis"]["operators"].items():
        refs += [
            (f"analysis.operators.{settings}", exp["net"], layer)
            for exp in config["experiments"]
            for layer in operator_layers(ops)
        ]
    return refs


def operator_layers(names):
    """The layers that `layer:<name>:<kind>` operator names name."""
    return [operator_names.parse_operator(n)[0] for n in names if n.startswith("layer:")]


def check_layers(config):
    """Every layer the config names is an nn.Linear of its net, or an nn.Conv2d when
    analysis.conv_layers is on (crossclass.layer_names: cached, so only a plan after a change
    of the nets or their options imports torch)."""
    refs = layer_references(config)
    if not refs:
        return
    sources = Path(workflow.basedir) / "workflow"
    nets = {net: config["nets"].get(net, {}) for _, net, _ in refs}
    try:
        layers = analysable_layers(
            nets,
            Path(".snakemake/crossclass/analysable_layers.json"),
            code_hash(sources, "crossclass.nets"),
        )
    except ValueError as err:
        stop(f"nets: {err}")
    kinds = {"linear", "conv"} if config["analysis"]["conv_layers"] else {"linear"}
    for where, net, layer in refs:
        found = {n for n, kind in layers[net].items() if kind in kinds}
        if layer not in found:
            what = " or nn.Conv2d" if "conv" in kinds else ""
            stop(
                f"{where}: {net} has no nn.Linear{what} layer {layer!r}"
                + ("" if "conv" in kinds else " (conv layers need analysis.conv_layers)")
                + f"; its layers: {', '.join(n for n in layers[net] if n in found)}"
            )


check_plugins(config)
check_experiments(config)
check_layers(config)
