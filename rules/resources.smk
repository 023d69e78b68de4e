"""Job resources, from the sizes of the experiment (crossclass.sizes: p, C, N, multiply-adds)
so that the cluster profiles stay short. Memory and runtime grow with each retry (`attempt`).

  train     memory: weights, gradients, momentum and a spare copy (16 p bytes) + the subset
            on the device; runtime: 3 x forward multiply-adds x (train + test examples) x epochs
            x the batch's runs
  extract   memory: the p x C^2 means in float64 + Lanczos vectors, or the largest layer's
            streamed moments (whichever is larger), + the split's data;
  spectra   runtime: about 10 forward passes of the split per operator product, for
            M + M0 steps (and the deflation's) per operator, plus the means' C backward passes
Training and analysis jobs take JOB_THREADS threads (4 beside a GPU; 1 on the CPU, so that
`--cores all` runs jobs side by side, each capping torch at its threads). Runtimes assume MACS_PER_S multiply-adds per second (one GPU when device is cuda, else the
CPU); they are estimates to ask a scheduler for, not measurements. A dataset or net without
a known size (an out-of-tree plugin) gets the fallback values.
"""

GPUS = 1 if DEVICE.startswith("cuda") else 0
ANALYSIS_GPUS = config["analysis"]["gpus"] * GPUS
# The SLURM profile caps `analysis_slot` at 1 per submission (a local resource), so the jobs of
# one analysis group run one after another and the submission asks for one job's GPUs.
ANALYSIS_GROUP = "analysis_{dataset}_{net}"  # one cost class per submission: same data and net


def analysis_group(wildcards):
    """ANALYSIS_GROUP of a spectra job (its `checkpoint` wildcard: dataset/net/nN/eE/split)."""
    keys = checkpoint_keys(wildcards)
    return ANALYSIS_GROUP.format(dataset=keys.dataset, net=keys.net)


JOB_THREADS = 4 if GPUS else 1  # CPU threads of a training job, and per GPU of an analysis job
ANALYSIS_THREADS = JOB_THREADS * max(1, ANALYSIS_GPUS)


def analysis_command(threads):
    """The command an extract or spectra job runs: `crossclass`, or with analysis.gpus > 1
    torchrun starting one process per GPU (crossclass.curvature.distributed shards the data)."""
    if ANALYSIS_GPUS > 1:
        return (
            f"torchrun --standalone --nproc-per-node {ANALYSIS_GPUS} -m crossclass.cli "
            f"--threads {max(1, threads // ANALYSIS_GPUS)}"
        )
    return f"crossclass --threads {threads}"


MACS_PER_S = 5.0e12 if GPUS else 2.0e10
FALLBACK = {"mem_mb": 16000, "runtime": 240}


@functools.cache
def experiment_size(dataset, net):
    """(DatasetSize, p, forward multiply-adds per example) of (dataset, net), or None."""
    try:
        data = sizes.dataset_size(dataset, config["datasets"].get(dataset, {}), SOURCES)
        shape = sizes.net_input_shape(net, data.in_shape)
        options = config["nets"].get(net, {})
        return (
            data,
            sizes.parameter_count(net, shape, data.classes, options, SOURCES),
            sizes.forward_macs(net, shape, data.classes, options, SOURCES),
        )
    except (ValueError, KeyError):
        return None


@functools.cache
def layer_stream_mb(dataset, net):
    """Peak MB of streaming the largest analysed layer of (dataset, net) (crossclass.sizes)."""
    data = sizes.dataset_size(dataset, config["datasets"].get(dataset, {}), SOURCES)
    dims = sizes.layer_dims(
        net,
        sizes.net_input_shape(net, data.in_shape),
        data.classes,
        config["nets"].get(net, {}),
        SOURCES,
        conv=config["analysis"]["conv_layers"],
    )
    return sizes.layer_stream_bytes(dims, data.classes) / 2**20


def examples(data, n, split):
    """Examples in a job's split: n per class of the training split, or the test split."""
    per_class = config["data"]["test_per_class"]
    if split == "train":
        return int(n) * data.classes
    return per_class * data.classes if per_class else data.test


def data_mb(data, count):
    return count * math.prod(data.in_shape) * 4 / 2**20


def train_memory(wildcards, attempt):
    size = experiment_size(wildcards.dataset, wildcards.net)
    if size is None:
        return FALLBACK["mem_mb"] * attempt
    data, p, _ = size
    return int(attempt * (2000 + 16 * p / 2**20 + data_mb(data, int(wildcards.n) * data.classes)))


def train_runtime(wildcards, attempt):
    size = experiment_size(wildcards.dataset, wildcards.net)
    if size is None:
        return FALLBACK["runtime"] * attempt
    data, _, macs = size
    seen = examples(data, wildcards.n, "train") + examples(data, wildcards.n, "test")
    runs = (
        len(sweep_batches(wildcards.net)[int(wildcards.batch)])
        if hasattr(wildcards, "batch")
        else 1
    )
    work = 3 * macs * seen * train_epochs(wildcards.dataset, wildcards.net) * runs
    return int(attempt * (10 + work / MACS_PER_S / 60))


def analysis_memory(wildcards, attempt):
    """extract and spectra: the float64 means, or the largest layer's streamed moments."""
    keys = checkpoint_keys(wildcards) if hasattr(wildcards, "checkpoint") else wildcards
    size = experiment_size(keys.dataset, keys.net)
    if size is None:
        return FALLBACK["mem_mb"] * attempt
    data, p, _ = size
    vectors = p * (data.classes**2 + 64) * 8 / 2**20
    working = max(vectors, layer_stream_mb(keys.dataset, keys.net))
    return int(attempt * (2000 + working + data_mb(data, examples(data, keys.n, keys.split))))


def analysis_runtime(operators, settings):
    """Runtime function of a job estimating `operators` under analysis.spectra[settings]
    (operators = (), settings = None: extract, i.e. the means and one capture pass)."""

    def runtime(wildcards, attempt):
        keys = checkpoint_keys(wildcards) if hasattr(wildcards, "checkpoint") else wildcards
        size = experiment_size(keys.dataset, keys.net)
        if size is None:
            return FALLBACK["runtime"] * attempt
        data, _, macs = size
        pass_ = macs * examples(data, keys.n, keys.split) / MACS_PER_S / 60
        steps = 0
        if settings is not None:
            spec = spectrum_settings(settings)
            deflate = estimator.resolve_rank(spec["deflate"], data.classes)
            steps = spec["n_vec"] * spec["M"] + spec["M0"] + deflate * spec["deflate_iters"]
        products = len(operators) * steps * 10 + 3 * data.classes + 10
        return int(attempt * (10 + products * pass_))

    return runtime


SLURM_SETTINGS = {
    "slurm_partition": "slurm_partition (your cluster's partition)",
    "slurm_account": "slurm_account (your account), or pass --slurm-no-account",
    "constraint": 'constraint (the GPUs the GPU jobs may run on, e.g. "a100|h100")',
}


def slurm_settings_missing(jobs, no_account):
    """The first SLURM setting a job that would be submitted lacks, in words, or None: every
    such job needs a partition and an account (unless no_account), a GPU job a constraint."""
    for job in jobs:
        if job.is_local:
            continue
        needed = ["slurm_partition"] + ([] if no_account else ["slurm_account"])
        needed += ["constraint"] if job.resources.get("gpu", 0) else []
        for name in needed:
            if not job.resources.get(name):
                return SLURM_SETTINGS[name]
    return None
