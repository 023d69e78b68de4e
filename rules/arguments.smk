"""Job arguments: source hashes (the `code` param of every rule) and the command-line flags
that the rules build from the config."""

DEVICE = config["device"]
PROGRESS = f"--{'no-' * (not config['progress'])}progress --log-interval {config['log_interval']}"
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
    """`--set k=JSON` flags of a dataset plugin."""
    return format_options(config["datasets"].get(name, {}))


def sgd_flags():
    """The SGD flags of `crossclass train` (Appendix D.1 values by default)."""
    t = config["training"]
    return (
        f"--batch-size {t['batch_size']} --momentum {t['momentum']} "
        f"--weight-decay {t['weight_decay']} --seed {t['seed']} "
        f"--milestones {' '.join(map(str, t['milestones']))} --gamma {t['gamma']} "
        f"--eval-every {t['eval_every']}"
    )


def test_per_class_flag():
    """`--test-per-class M` of `crossclass data subsample`, or nothing for the whole split."""
    per_class = config["data"]["test_per_class"]
    return f"--test-per-class {per_class}" if per_class else ""


def spectrum_args(spec):
    """Command-line flags of the spectrum commands from a `spectrum` config block (defaults
    filled in, every setting spelled out: crossclass.estimator)."""
    return estimator.command_flags(spec)


def spectrum_settings(name):
    """The estimator settings analysis.spectra[name], defaults filled in."""
    return estimator.check(config["analysis"]["spectra"][name], f"analysis.spectra.{name}")


def mlr_args():
    """`--D --C --t --seed [--alpha] --weight-decay --max-iter` of figure_data.mlr."""
    m = config["figure_data"]["mlr"]
    alpha = "" if m["alpha"] is None else f" --alpha {m['alpha']}"
    return (
        f"--D {m['D']} --C {m['C']} --t {m['t']} --seed {m['seed']}{alpha} "
        f"--weight-decay {m['weight_decay']} --max-iter {m['max_iter']}"
    )


def mlr_study_args():
    """`crossclass mlr-study` flags of figure_data.mlr (convergence and SNR sweep)."""
    m = config["figure_data"]["mlr"]
    return (
        f"--D {m['D']} --C {m['C']} --t {m['t']} --alpha {m['convergence_alpha']} "
        f"--n-values {' '.join(map(str, m['convergence_n']))} --repeats {m['repeats']} "
        f"--t-values {' '.join(map(str, m['t_sweep']))} --sweep-n {m['sweep_n']} "
        f"--seed {m['seed']} --weight-decay {m['weight_decay']} --max-iter {m['max_iter']}"
    )


def train_folder(wildcards, output):
    """BATCH.partial-HASH: where a batch trains, keyed by everything its runs depend on, so an
    interrupted attempt's finished runs are reused only by a rerun of the very same job."""
    key = json.dumps(
        [
            train_arguments(wildcards, index)
            for index in sweep_batches(wildcards.net)[int(wildcards.batch)]
        ]
    )
    return f"{output[0]}.partial-{hashlib.sha256(key.encode()).hexdigest()[:12]}"


def train_arguments(wildcards, index=None):
    """The `crossclass train` arguments of rate `index` of the sweep (but folders and threads);
    index None: those of the selected rate's run (which keeps the analysed checkpoints)."""
    return _train_arguments(wildcards.dataset, wildcards.net, index)


@functools.cache
def _train_arguments(dataset, net, index):
    net_options = format_options(config["nets"].get(net, {}))
    epochs = sorted(experiment(dataset, net)["epochs"])
    keep = f"--checkpoints {' '.join(map(str, epochs))}"
    if index is not None and not config["training"]["sweep_checkpoints"]:
        keep = "--metrics-only"
    rate = "" if index is None else f"--lr {learning_rates(net)[index]} "
    return (
        f"--root {shlex.quote(config['data']['root'])} --net {shlex.quote(net)} {net_options} "
        f"{rate}--epochs {train_epochs(dataset, net)} {sgd_flags()} "
        f"{keep} --resume-interval {config['training']['resume_interval']} "
        f"--device {shlex.quote(DEVICE)} {PROGRESS}"
    )


def train_commands(wildcards, input, output, threads):
    """One `crossclass train` per rate of the batch, run in order into train_folder/lrK (the
    first failure stops), skipping runs an interrupted attempt of this job finished there."""
    folder = train_folder(wildcards, output)
    q = shlex.quote
    commands = []
    for index in sweep_batches(wildcards.net)[int(wildcards.batch)]:
        run = f"{folder}/{run_layout.RUN_PREFIX}{index}"
        commands.append(
            f"{{ test -d {q(f'{run}/metrics.zarr')} || "
            f"crossclass --threads {threads} train --subset {q(input[0])} "
            f"{train_arguments(wildcards, index)} --resume-dir {q(f'{run}.resume')} "
            f"--out {q(run)}; }}"
        )
    return " && ".join(commands)


def sweep_metrics(wildcards):
    """The metrics stores of every run of the sweep of (dataset, net, n), shell-quoted."""
    keys = dict(dataset=wildcards.dataset, net=wildcards.net, n=wildcards.n)
    return " ".join(
        shlex.quote(f"{BATCH.format(**keys, batch=b)}/{run_layout.RUN_PREFIX}{i}/metrics.zarr")
        for b, batch in enumerate(sweep_batches(wildcards.net))
        for i in batch
    )
