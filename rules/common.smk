"""Config validation, source hashes, and the output path of every store, log and figure.

Paths are keyed by what produced them: dataset, net, n_per_class (n), learning-rate index,
checkpoint epoch, split, estimator settings and operator, so that
`crossclass.stores.open_stores` can stack them. Nothing here imports torch, and the only result
file read while planning is a finished `select_lr` checkpoint's choice (`selected_run`).
"""

import functools
import json
import math
import os
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
    data = config["figure_data"]
    for name in config["figures"]:
        if name == "fig15":
            continue
        if name not in data:
            stop(f"figures lists {name} but figure_data.{name} is missing")
        if name == "mlr":
            continue
        view = data[name]
        where = f"figure_data.{name}"
        pair = [e for e in config["experiments"]
                if (e["dataset"], e["net"]) == (view["dataset"], view["net"])]
        if not pair:
            stop(f"{where}: no experiment ({view['dataset']}, {view['net']})")
        for key, allowed in (("n_per_class", pair[0]["n_per_class"]),
                             ("epoch", pair[0]["epochs"]), ("epochs", pair[0]["epochs"])):
            chosen = view.get(key, [])
            missing = [v for v in (chosen if isinstance(chosen, list) else [chosen])
                       if v not in allowed]
            if missing:
                stop(f"{where}.{key} {missing} not in the experiment's {allowed}")
        if view["spectra"] not in spectra:
            stop(f"{where}.spectra: no settings {view['spectra']!r} in analysis.spectra "
                 f"({', '.join(sorted(spectra))})")
        if name == "fig6" and spectra[view["spectra"]].get("deflate") != "C":
            stop(f"{where}.spectra: analysis.spectra.{view['spectra']} must set deflate: C")


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
# pip expands it in the env file's `-e ${CROSSCLASS_ROOT}`, wherever Snakemake copies that file
os.environ.update(CROSSCLASS_ROOT=workflow.basedir)
DEVICE = config["device"]
PROGRESS = "--progress" if config["progress"] else "--no-progress"


# Modules every `crossclass` subcommand runs through (entry point, option parsing, errors).
COMMAND_CORE = ("crossclass.cli", "crossclass.options", "crossclass.errors")


@functools.cache
def code(*modules):
    """Hash of the crossclass modules a job runs (its `code` param): editing them reruns it."""
    return source_hash(*COMMAND_CORE, *modules)


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



SPECTRUM_DEFAULTS = {k: v["default"]
                     for k, v in SCHEMA_DOC["$defs"]["spectrum"]["properties"].items()}
CHECKPOINT_KEY = f"{KEY}/e{{epoch}}/{{split}}"
MEANS = f"{RESULTS}/extract/{CHECKPOINT_KEY}/means.zarr"
LAYERS = f"{RESULTS}/extract/{CHECKPOINT_KEY}/layers.zarr"
SUMMARY = f"{RESULTS}/extract/{CHECKPOINT_KEY}/summary.zarr"
SPECTRUM_KEY = f"{CHECKPOINT_KEY}/{{settings}}/{{operator}}"
SPECTRUM = f"{RESULTS}/spectra/{SPECTRUM_KEY}.zarr"
MLR = f"{RESULTS}/mlr/n{{n}}.zarr"


def spectrum_settings(name):
    """The estimator settings analysis.spectra[name], schema defaults filled in."""
    return {**SPECTRUM_DEFAULTS, **config["analysis"]["spectra"][name]}


def selected_run(wildcards):
    """The run folder of the learning rate that `checkpoint select_lr` chose for (dataset, net,
    n); until that checkpoint has run, Snakemake plans with its choice file instead."""
    choice = checkpoints.select_lr.get(dataset=wildcards.dataset, net=wildcards.net,
                                       n=wildcards.n).output[0]
    with open(choice) as f:
        lr = json.load(f)["selected"]["lr"]
    rates = learning_rates(wildcards.net)
    index = min(range(len(rates)), key=lambda i: abs(math.log(rates[i] / lr)))
    return RUN.format(dataset=wildcards.dataset, net=wildcards.net, n=wildcards.n, lr=index)


def checkpoint_file(wildcards, input):
    """`<selected run>/checkpoints/epoch_EEEE.pt` of the job's epoch."""
    return f"{input.run}/checkpoints/epoch_{int(wildcards.epoch):04d}.pt"


def experiment_targets():
    """Per experiment, n and learning rate: the choice; per analysed epoch and split: the
    extract stores and every spectrum listed under analysis.operators."""
    targets = []
    analysis = config["analysis"]
    for e in config["experiments"]:
        for n in e["n_per_class"]:
            key = dict(dataset=e["dataset"], net=e["net"], n=n)
            targets.append(CHOICE.format(**key))
            for epoch in e["epochs"]:
                for split in analysis["splits"]:
                    at = dict(key, epoch=epoch, split=split)
                    targets += [path.format(**at) for path in (MEANS, LAYERS, SUMMARY)]
                    targets += [SPECTRUM.format(**at, settings=settings, operator=op)
                                for settings, ops in analysis["operators"].items()
                                for op in ops]
    return targets


# ---- figure inputs: what each network figure shows (config figure_data) ------------------------
def figure_view(name):
    """figure_data[name] with the experiment's sizes and epochs where the figure leaves them."""
    view = dict(config["figure_data"][name])
    if "dataset" in view:
        exp = experiment(view["dataset"], view["net"])
        view.setdefault("n_per_class", exp["n_per_class"])
        view.setdefault("epochs", exp["epochs"])
    return view


def fig5_inputs(wildcards):
    """Spectrum stores of the fig5 operators at one checkpoint and split, in panel order."""
    v = figure_view("fig5")
    return [SPECTRUM.format(dataset=v["dataset"], net=v["net"], n=v["n_per_class"],
                            epoch=v["epoch"], split=v["split"], settings=v["spectra"],
                            operator=op) for op in v["operators"]]


def fig6_inputs(wildcards):
    """Deflated G spectra for every (n, epoch) (n-major), then the means stores of the same."""
    v = figure_view("fig6")
    grid = [dict(dataset=v["dataset"], net=v["net"], n=n, epoch=epoch, split=v["split"])
            for n in sorted(v["n_per_class"]) for epoch in sorted(v["epochs"])]
    return ([SPECTRUM.format(**at, settings=v["spectra"], operator="G") for at in grid]
            + [MEANS.format(**at) for at in grid])


def layers_inputs(wildcards):
    """The layers store, then the spectra of layer:<layer>:G, :KFAC, :CFAC."""
    v = figure_view("layers")
    at = dict(dataset=v["dataset"], net=v["net"], n=v["n_per_class"], epoch=v["epoch"],
              split=v["split"])
    return [LAYERS.format(**at)] + [
        SPECTRUM.format(**at, settings=v["spectra"], operator=f"layer:{v['layer']}:{op}")
        for op in v["operators"]]


def mlr_args():
    """`--D --C --t --seed [--alpha] --weight-decay --max-iter` of figure_data.mlr."""
    m = config["figure_data"]["mlr"]
    alpha = "" if m["alpha"] is None else f" --alpha {m['alpha']}"
    return (f"--D {m['D']} --C {m['C']} --t {m['t']} --seed {m['seed']}{alpha} "
            f"--weight-decay {m['weight_decay']} --max-iter {m['max_iter']}")


def mlr_inputs(wildcards):
    """One MLR store per n_per_class of figure_data.mlr."""
    return [MLR.format(n=n) for n in config["figure_data"]["mlr"]["n_per_class"]]
