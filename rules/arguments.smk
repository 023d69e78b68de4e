"""Job arguments: source hashes (the `code` param of every rule) and the command-line flags
that the rules build from the config."""

DEVICE = config["device"]
PROGRESS = "--progress" if config["progress"] else "--no-progress"
SOURCES = Path(workflow.basedir) / "workflow"


def code(*entry_modules):
    """Hash of every package module a job can run: the import closure of the `crossclass`
    entry point and of the subcommand (and figure) modules it runs, read from the sources
    beside the Snakefile (crossclass.provenance.code_hash)."""
    return code_hash(SOURCES, "crossclass.cli", *entry_modules)


def figure_code(name):
    """Source hash of `crossclass figure NAME`: the command and the figure module's closure."""
    return code("crossclass.commands.figure", f"crossclass.figures.{name}")


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



SPECTRUM_DEFAULTS = {k: v["default"]
                     for k, v in SCHEMA_DOC["$defs"]["spectrum"]["properties"].items()}


def spectrum_settings(name):
    """The estimator settings analysis.spectra[name], schema defaults filled in."""
    return {**SPECTRUM_DEFAULTS, **config["analysis"]["spectra"][name]}




def mlr_args():
    """`--D --C --t --seed [--alpha] --weight-decay --max-iter` of figure_data.mlr."""
    m = config["figure_data"]["mlr"]
    alpha = "" if m["alpha"] is None else f" --alpha {m['alpha']}"
    return (f"--D {m['D']} --C {m['C']} --t {m['t']} --seed {m['seed']}{alpha} "
            f"--weight-decay {m['weight_decay']} --max-iter {m['max_iter']}")


def mlr_study_args():
    """`crossclass mlr-study` flags of figure_data.mlr (convergence and SNR sweep)."""
    m = config["figure_data"]["mlr"]
    return (f"--D {m['D']} --C {m['C']} --t {m['t']} --alpha {m['convergence_alpha']} "
            f"--n-values {' '.join(map(str, m['convergence_n']))} --repeats {m['repeats']} "
            f"--t-values {' '.join(map(str, m['t_sweep']))} --sweep-n {m['sweep_n']} "
            f"--seed {m['seed']} --weight-decay {m['weight_decay']} --max-iter {m['max_iter']}")

