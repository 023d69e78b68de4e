"""The bytes of every store the config plans (rule `storage`), from crossclass.sizes."""


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

    for exp in config["experiments"]:
        size = experiment_size(exp["dataset"], exp["net"])
        if size is None:
            continue
        data, p, _ = size
        C, shape = data.classes, sizes.net_input_shape(exp["net"], data.in_shape)
        dims = sizes.linear_dims(exp["net"], shape, data.classes, config["nets"].get(exp["net"]))
        run = (len(exp["epochs"]) + 2) * sizes.checkpoint_bytes(p)  # + last.pt, momentum
        rates = len(learning_rates(exp["net"]))
        for n in exp["n_per_class"]:
            add("selected run (checkpoints)", exp, 1, run)
            add("sweep runs", exp, rates, run if training["sweep_checkpoints"] else 0)
            for epoch in exp["epochs"]:
                for split in analysis["splits"]:
                    at = dict(dataset=exp["dataset"], net=exp["net"], n=n, epoch=epoch)
                    at["split"] = split
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
