"""The output path of every store, log, benchmark and figure.

Paths are keyed by what produced them: dataset, net, n_per_class (n), learning-rate index,
checkpoint epoch, split, estimator settings and operator, so that
`crossclass.stores.open_stores` can stack them. The only result file read while planning is a
finished `select_lr` checkpoint's choice (`selected_run`).
"""

RESULTS = config["results"].rstrip("/")
CAPTIONS = "../workflow/crossclass/report"
ENV = "../envs/crossclass.yaml"


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
RUN = f"{RESULTS}/train/{KEY}/lr{{lr}}"
CHOICE = f"{RESULTS}/train/{KEY}/choice.json"
RUN_KEY = f"{KEY}/lr{{lr}}"
CHECKPOINT_KEY = f"{KEY}/e{{epoch}}/{{split}}"
MEANS = f"{RESULTS}/extract/{CHECKPOINT_KEY}/means.zarr"
LAYERS = f"{RESULTS}/extract/{CHECKPOINT_KEY}/layers.zarr"
SUMMARY = f"{RESULTS}/extract/{CHECKPOINT_KEY}/summary.zarr"
SPECTRUM_KEY = f"{CHECKPOINT_KEY}/{{settings}}/{{operator}}"
SPECTRUM = f"{RESULTS}/spectra/{SPECTRUM_KEY}.zarr"
MLR = f"{RESULTS}/mlr/n{{n}}.zarr"
MLR_STUDY = f"{RESULTS}/mlr/study.zarr"


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


