"""The output path of every store, log, benchmark and figure.

Paths are keyed by what produced them: dataset, net, n_per_class (n), learning-rate index,
checkpoint epoch, split, estimator settings and operator, so that
`crossclass.stores.open_stores` can stack them. The only result no result file is read while planning: the DAG is static.
"""

RESULTS = config["results"].rstrip("/")
CAPTIONS = "../workflow/crossclass/report"
ENV = "../envs/crossclass.yaml"
# pip expands it in the env file's `-e ${CROSSCLASS_ROOT}`, wherever Snakemake copies that file
os.environ.update(CROSSCLASS_ROOT=workflow.basedir)


def log_path(step, key):
    return f"{RESULTS}/logs/{step}/{key}.log"


def bench_path(step, key):
    return f"{RESULTS}/benchmarks/{step}/{key}.tsv"


def figure_path(name, suffix="pdf"):
    return f"{RESULTS}/figures/{name}.{suffix}"


# ---- keyed output paths ------------------------------------------------------------------------
VERIFY_MATRIX = f"{RESULTS}/verification/{{matrix}}/matrix.zarr"
VERIFY_SPECTRUM = f"{RESULTS}/verification/{{matrix}}/spectrum.zarr"
KEY = "{dataset}/{net}/n{n}"
FETCHED = f"{RESULTS}/data/{{dataset}}/fetched.done"
SUBSET = f"{RESULTS}/data/{{dataset}}/n{{n}}/subset.zarr"
TRAINED = f"{RESULTS}/{run_layout.TRAIN_DIR}/{KEY}"  # the runs' layout: crossclass.run_layout
BATCH = f"{TRAINED}/{run_layout.BATCH_PREFIX}{{batch}}"  # one sweep batch's runs: lr{index}/
CHOICE = f"{TRAINED}/choice.json"
SELECTED = f"{TRAINED}/{run_layout.SELECTED}"  # the chosen rate's run, with its checkpoints
BATCH_KEY = f"{KEY}/{run_layout.BATCH_PREFIX}{{batch}}"
CHECKPOINT_KEY = f"{KEY}/e{{epoch}}/{{split}}"
MEANS = f"{RESULTS}/extract/{CHECKPOINT_KEY}/means.zarr"
LAYERS = f"{RESULTS}/extract/{CHECKPOINT_KEY}/layers.zarr"
SUMMARY = f"{RESULTS}/extract/{CHECKPOINT_KEY}/summary.zarr"
SPECTRUM_KEY = f"{CHECKPOINT_KEY}/{{settings}}/{{operator}}"
SPECTRUM = f"{RESULTS}/spectra/{SPECTRUM_KEY}.zarr"
MLR = f"{RESULTS}/mlr/n{{n}}.zarr"
CLAIMS_FILE = f"{RESULTS}/claims/{{name}}.json"
CLAIMS_REPORT = f"{RESULTS}/claims.md"
TABLE1 = f"{RESULTS}/table1.md"
MLR_STUDY = f"{RESULTS}/mlr/study.zarr"


def checkpoint_file(wildcards):
    """`<selected run>/checkpoints/epoch_EEEE.pt` of the job's epoch."""
    run = SELECTED.format(dataset=wildcards.dataset, net=wildcards.net, n=wildcards.n)
    return f"{run}/checkpoints/epoch_{int(wildcards.epoch):04d}.pt"


def experiment_targets():
    """Under analysis.grid `full`, per experiment, n and learning rate: the choice; per analysed
    epoch and split: the extract stores and every spectrum listed under analysis.operators.
    Under `figures`, none: the figures, Table 1 and the claims pull what they read."""
    targets = []
    analysis = config["analysis"]
    if analysis["grid"] == "figures":
        return targets
    for e in config["experiments"]:
        for n in e["n_per_class"]:
            key = dict(dataset=e["dataset"], net=e["net"], n=n)
            targets.append(CHOICE.format(**key))
            for epoch in e["epochs"]:
                for split in analysis["splits"]:
                    at = dict(key, epoch=epoch, split=split)
                    targets += [path.format(**at) for path in (MEANS, LAYERS, SUMMARY)]
                    targets += [
                        SPECTRUM.format(**at, settings=settings, operator=op)
                        for settings, ops in analysis["operators"].items()
                        for op in ops
                    ]
    return targets


SPECTRUM_PATH = re.compile(
    re.escape(f"{RESULTS}/spectra/")
    + r"(?P<checkpoint>[^/]+/[^/]+/n[0-9]+/e[0-9]+/(?:train|test))/(?P<settings>[^/]+)/"
    + r"(?P<operator>.+)\.zarr"
)


def checkpoint_keys(wildcards):
    """The store keys of a `{checkpoint}` wildcard: dataset, net, n, epoch, split."""
    dataset, net, n, epoch, split = wildcards.checkpoint.split("/")
    return SimpleNamespace(dataset=dataset, net=net, n=n[1:], epoch=epoch[1:], split=split)


def spectra_input(pattern):
    """Input function: `pattern` (MEANS, LAYERS, SUBSET) at the job's checkpoint."""
    return lambda wc: pattern.format(**vars(checkpoint_keys(wc)))
