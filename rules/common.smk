"""Config validation, source hashes, and the output path of every store, log and figure.

Paths are keyed by what produced them: dataset, net, n_per_class (n), learning-rate index,
checkpoint epoch, split and operator, so that `crossclass.stores.open_stores` can stack them.
Nothing here reads a result file or imports torch: planning the paper grid stays fast.
"""

import functools
import json
import math
import shlex
import sys

import jsonschema
import yaml
from snakemake.utils import validate

from crossclass.provenance import source_hash

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


def check_config(config):
    """Validate against config/schema.yaml and fill defaults; stop with one line if invalid."""
    with open(SCHEMA) as f:
        schema = yaml.safe_load(f)
    error = jsonschema.exceptions.best_match(
        jsonschema.Draft202012Validator(schema).iter_errors(config)
    )
    if error is not None:
        print(f"crossclass config error: {config_error(error)}", file=sys.stderr)
        sys.exit(1)
    validate(config, "../config/schema.yaml")


check_config(config)


def check_experiments(config):
    """Cross-key checks the schema cannot express, each as one line."""
    for exp in config["experiments"]:
        epochs = train_epochs(exp["dataset"], exp["net"])
        late = [e for e in exp["epochs"] if e > epochs]
        if late:
            print(f"crossclass config error: experiments ({exp['dataset']}, {exp['net']}).epochs "
                  f"{late} exceed training.epochs = {epochs}", file=sys.stderr)
            sys.exit(1)


def experiment(dataset, net):
    """The experiments entry of (dataset, net)."""
    for exp in config["experiments"]:
        if (exp["dataset"], exp["net"]) == (dataset, net):
            return exp
    raise ValueError(f"no experiment for ({dataset}, {net})")


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

RESULTS = config["results"].rstrip("/")
CAPTIONS = "../workflow/crossclass/report"
ENV = "../envs/crossclass.yaml"
DEVICE = config["device"]
PROGRESS = "--progress" if config["progress"] else "--no-progress"


@functools.cache
def code(*modules):
    """Hash of the crossclass modules a job runs (its `code` param): editing them reruns it."""
    return source_hash(*modules)


def log_path(step, key):
    return f"{RESULTS}/logs/{step}/{key}.log"


def bench_path(step, key):
    return f"{RESULTS}/benchmarks/{step}/{key}.tsv"


def figure_code(name):
    """Source hash of one figure's module and what every figure shares."""
    return code(f"crossclass.figures.{name}", "crossclass.figures.plotting",
                "crossclass.commands.figure", "crossclass.stores")


def matrix_options(wildcards):
    """The builder options of one Figure-15 matrix (everything but its spectrum settings)."""
    return {k: v for k, v in config["verification"][wildcards.matrix].items() if k != "spectrum"}


def dataset_options(name):
    """`--option k=v` flags of a dataset plugin (JSON values)."""
    options = config["datasets"].get(name, {})
    return options_args({k: json.dumps(v) for k, v in options.items()}, flag="--option")


def sgd_flags():
    """The SGD flags of `crossclass train` (Appendix D.1 values by default)."""
    t = config["training"]
    return (f"--batch-size {t['batch_size']} --momentum {t['momentum']} "
            f"--weight-decay {t['weight_decay']} --seed {t['seed']}")


def test_per_class_flag():
    """`--test-per-class M` of `crossclass data subsample`, or nothing for the whole split."""
    per_class = config["data"]["test_per_class"]
    return f"--test-per-class {per_class}" if per_class else ""


def figure_path(name):
    return f"{RESULTS}/figures/{name}.pdf"


def options_args(options, flag="--set"):
    """`--set k=v ...` from a dict, in sorted key order (stable command lines)."""
    return " ".join(f"{flag} {shlex.quote(f'{k}={v}')}" for k, v in sorted(options.items()))


def spectrum_args(spec):
    """Command-line flags of `crossclass spectra` from a validated `spectrum` config block."""
    flags = {
        "method": spec["method"], "M": spec["M"], "n-vec": spec["n_vec"], "K": spec["K"],
        "kappa": spec["kappa"], "M0": spec["M0"], "tau": spec["tau"], "eps": spec["eps"],
        "deflate": spec["deflate"], "deflate-iters": spec["deflate_iters"],
        "seed": spec["seed"],
    }
    args = " ".join(f"--{k} {v}" for k, v in flags.items())
    return args + (" --log" if spec["log"] else " --no-log")


# ---- keyed output paths ------------------------------------------------------------------------
VERIFY_MATRIX = f"{RESULTS}/verification/{{matrix}}/matrix.zarr"
VERIFY_SPECTRUM = f"{RESULTS}/verification/{{matrix}}/spectrum.zarr"
KEY = "{dataset}/{net}/n{n}"
FETCHED = f"{RESULTS}/data/{{dataset}}/fetched.done"
SUBSET = f"{RESULTS}/data/{{dataset}}/n{{n}}/subset.zarr"
RUN = f"{RESULTS}/train/{KEY}/lr{{lr}}"
CHOICE = f"{RESULTS}/train/{KEY}/choice.json"
RUN_KEY = f"{KEY}/lr{{lr}}"



def experiment_targets():
    """The selected learning rate of every (dataset, net, n) of the experiments."""
    return [CHOICE.format(dataset=e["dataset"], net=e["net"], n=n)
            for e in config["experiments"] for n in e["n_per_class"]]
