"""The plan in numbers (the `plan` target): jobs and SLURM submissions per step under the SLURM
profile's grouping, and the bytes of every store (crossclass.sizes)."""

SLURM_PROFILE = Path(workflow.basedir) / "config" / "profiles" / "slurm" / "config.yaml"


def group_components(group):
    """Connected components of `group` per submission under the SLURM profile
    (`group-components: [group=K]`), 1 when it names none."""
    settings = yaml.safe_load(SLURM_PROFILE.read_text()).get("group-components", [])
    counts = dict(item.split("=") for item in settings)
    return int(counts.get(group, 1))


EXTRACT_PATH = re.compile(
    re.escape(f"{RESULTS}/extract/")
    + r"(?P<checkpoint>[^/]+/[^/]+/n[0-9]+/e[0-9]+/(?:train|test))/(?:means|layers|summary)\.zarr"
)


def planned_checkpoints():
    """Every `dataset/net/nN/eE/split` with an extract job: the analysed checkpoints and every
    one a requested figure, claim module or spectrum reads."""
    paths = experiment_targets() + figure_stores()
    paths += [p for inputs in CLAIMS.values() for p in inputs(SimpleNamespace())]
    found = {m["checkpoint"] for m in map(EXTRACT_PATH.fullmatch, paths) if m}
    return found | {c for cs in requested_spectra().values() for c in cs}


def trained_runs():
    """[(experiment, n)] whose runs the plan trains: every experiment's sample sizes under
    analysis.grid `full`; under `figures`, those with a checkpoint that is read."""
    read = {tuple(c.split("/")[:3]) for c in planned_checkpoints()}
    full = config["analysis"]["grid"] == "full"
    return [
        (e, n)
        for e in config["experiments"]
        for n in e["n_per_class"]
        if full or (e["dataset"], e["net"], f"n{n}") in read
    ]


def submission_rows():
    """[{step, jobs, submissions}] of the steps that reach the scheduler: each training batch
    and selected-rate retraining alone; the extract and spectra jobs of one checkpoint and split
    form one connected component of their (dataset, net) group ANALYSIS_GROUP, K of them per
    submission, so a submission never mixes cost classes."""
    training = config["training"]
    pairs = trained_runs()
    checkpoints = planned_checkpoints()
    spectra = sum(len(c) for c in requested_spectra().values())
    k = group_components(ANALYSIS_GROUP)
    per_class = collections.Counter(tuple(c.split("/")[:2]) for c in checkpoints)
    selected = 0 if training["sweep_checkpoints"] else len(pairs)
    return [
        dict(step="train", jobs=sum(len(sweep_batches(e["net"])) for e, _ in pairs)),
        dict(step="train_selected", jobs=selected),
        dict(
            step=f"extract + spectra (grouped per dataset and net, {k} per submission)",
            jobs=len(checkpoints) + spectra,
            submissions=sum(-(-count // k) for count in per_class.values()),
        ),
    ]


def storage_rows():
    """[{store, dataset, net, count, bytes}] of the planned run folders and stores."""
    analysis, training = config["analysis"], config["training"]
    rows = {}

    def add(store, exp, count, each):
        row = rows.setdefault(
            (store, exp["dataset"], exp["net"]),
            dict(store=store, dataset=exp["dataset"], net=exp["net"], count=0, bytes=0),
        )
        row["count"] += count
        row["bytes"] += count * each

    for exp, n in trained_runs():
        size = experiment_size(exp["dataset"], exp["net"])
        if size is None:
            continue
        _, p, _ = size
        # the kept epochs (the last one always) and last.pt
        files = len({*exp["epochs"], train_epochs(exp["dataset"], exp["net"])}) + 1
        run = files * sizes.checkpoint_bytes(p)
        rates = len(learning_rates(exp["net"]))
        add("selected run (checkpoints)", exp, 1, run)
        add("sweep runs", exp, rates, run if training["sweep_checkpoints"] else 0)
    for checkpoint in sorted(planned_checkpoints()):  # analysed, and read by figures or claims
        dataset, net, n, epoch, split = checkpoint.split("/")
        size = experiment_size(dataset, net)
        if size is None:
            continue
        data, p, _ = size
        C, exp = data.classes, experiment(dataset, net)
        shape = sizes.net_input_shape(net, data.in_shape)
        dims = sizes.layer_dims(
            net, shape, C, config["nets"].get(net), conv=analysis["conv_layers"]
        )
        at = dict(dataset=dataset, net=net, n=n[1:], epoch=epoch[1:], split=split)
        matrices = keeps_layer_matrices(LAYERS.format(**at))
        add("means", exp, 1, sizes.means_store_bytes(p, C, analysis["store_means"]))
        add("layers", exp, 1, sizes.layers_store_bytes(dims, C, matrices))
    for (settings, ops), checkpoints in requested_spectra().items():
        spec = spectrum_settings(settings)
        for checkpoint in checkpoints:
            dataset, net = checkpoint.split("/")[:2]
            exp = experiment(dataset, net)
            size = experiment_size(dataset, net)
            C = size[0].classes if size else 10
            top = estimator.resolve_rank(spec["deflate"], C)
            each = sizes.spectrum_store_bytes(spec["K"], spec["M"], spec["n_vec"], top)
            add("spectra", exp, len(ops), each)
    return sorted(rows.values(), key=lambda r: (r["store"], r["dataset"], r["net"]))
