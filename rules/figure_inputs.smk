"""Figure inputs: which stores each figure reads (config figure_data), in the order its
draw() expects them; `FIGURES` (at the end) names the report category and input function of
each figure, from which rules/figures.smk generates one rule per figure."""


def check_figures(config, figures):
    """Every listed figure is known, has its figure_data where it reads experiments, reads
    experiments, checkpoints and settings that exist, and takes the options it is given."""
    spectra = config["analysis"]["spectra"]
    for name in sorted(set(config["figures"]) | set(config["figure_options"])):
        if name not in figures:
            stop(f"figures: unknown figure {name!r}; available: {', '.join(figures)}")
        taken = (
            keyword_options(SOURCES / "crossclass" / "figures" / f"{name}.py", "draw", skip=2) or []
        )
        unknown = sorted(set(config["figure_options"].get(name, {})) - set(taken))
        if unknown:
            stop(
                f"figure_options.{name}.{unknown[0]}: figure {name} takes no such option; "
                f"options: {', '.join(taken) or 'none'}"
            )
    data = config["figure_data"]
    for name in config["figures"]:
        if name in ("fig15", "mlr"):
            if name == "mlr" and name not in data:
                stop("figures lists mlr but figure_data.mlr is missing")
            continue
        if name not in data:
            stop(f"figures lists {name} but figure_data.{name} is missing")
        for i, view in enumerate(figure_views(name)):
            where = f"figure_data.{name}" + (f".rows[{i}]" if "rows" in data[name] else "")
            check_view(name, view, where, spectra)


def check_view(name, view, where, spectra):
    """One checkpoint view of a figure: its experiment, n, epochs and settings exist."""
    exp = experiment(view["dataset"], view["net"], where=where)
    for key, allowed in (
        ("n_per_class", exp["n_per_class"]),
        ("epoch", exp["epochs"]),
        ("epochs", exp["epochs"]),
    ):
        chosen = view.get(key, [])
        missing = [
            v for v in (chosen if isinstance(chosen, list) else [chosen]) if v not in allowed
        ]
        if missing:
            stop(f"{where}.{key} {missing} not in the experiment's {allowed}")
    for key in ("spectra", "plain"):
        if key in view and view[key] not in spectra:
            stop(
                f"{where}.{key}: no settings {view[key]!r} in analysis.spectra "
                f"({', '.join(sorted(spectra))})"
            )
    if "spectra" not in view:  # the layer-wise grids read layers stores only
        return
    deflate = spectra[view["spectra"]].get("deflate", 0)
    if name == "fig6" and deflate != "C":
        stop(f"{where}.spectra: analysis.spectra.{view['spectra']} must set deflate: C")
    if name in ("fig3", "fig4", "fig17") and not deflate:
        stop(f"{where}.spectra: analysis.spectra.{view['spectra']} must deflate")
    if name in ("fig4", "fig3", "fig14", "fig17") and spectra[view["spectra"]].get("log"):
        stop(
            f"{where}.spectra: {name} shows linear spectra; "
            f"analysis.spectra.{view['spectra']} sets log"
        )
    if name == "fig16" and not spectra[view["spectra"]].get("log"):
        stop(
            f"{where}.spectra: fig16 needs a log spectrum (analysis.spectra."
            f"{view['spectra']}.log: true)"
        )


def figure_view(name, dataset=None):
    """figure_data[name] with the experiment's sizes and epochs where the figure leaves them;
    with `dataset`, the view of that entry of its `datasets`."""
    view = dict(config["figure_data"][name])
    if dataset is not None:
        del view["datasets"]
        view["dataset"] = dataset
    if "dataset" in view:
        exp = experiment(view["dataset"], view["net"], where=f"figure_data.{name}")
        view.setdefault("n_per_class", exp["n_per_class"])
        view.setdefault("epochs", exp["epochs"])
    return view


def figure_views(name):
    """The checkpoint views of a figure: one per row for figures with `rows` (fig3, fig14),
    each row taking the figure's other keys (spectra, split) where it leaves them; one per
    dataset for figures with a list `datasets` (the layer-wise grids); else its one view."""
    data = config["figure_data"][name]
    if "rows" in data:
        shared = {k: v for k, v in data.items() if k != "rows"}
        return [{**shared, **row} for row in data["rows"]]
    if "datasets" in data:
        return [figure_view(name, d) for d in data["datasets"]]
    return [figure_view(name)]


def at_checkpoint(v, split=None):
    """The path keys of a view's one checkpoint (its split unless `split` is given)."""
    return dict(
        dataset=v["dataset"],
        net=v["net"],
        n=v["n_per_class"],
        epoch=v["epoch"],
        split=split or v["split"],
    )


def fig3_inputs(wildcards):
    """Per row: the deflated hess spectra on train then test; then their summary stores."""
    rows = [
        at_checkpoint(v, split) | {"settings": v["spectra"]}
        for v in figure_views("fig3")
        for split in ("train", "test")
    ]
    return [SPECTRUM.format(**at, operator="hess") for at in rows] + [
        SUMMARY.format(**at) for at in rows
    ]


def fig4_inputs(wildcards):
    """hess, hess-minus-E (= G), hess-minus-G (= E) at one checkpoint, then its summary."""
    v = figure_view("fig4")
    at = at_checkpoint(v)
    return [
        SPECTRUM.format(**at, settings=v["spectra"], operator=op)
        for op in ("hess", "hess-minus-E", "hess-minus-G")
    ] + [SUMMARY.format(**at)]


def fig14_inputs(wildcards):
    """Per row: the plain (undeflated) hess spectrum; then the summary stores."""
    views = figure_views("fig14")
    return [
        SPECTRUM.format(**at_checkpoint(v), settings=v["spectra"], operator="hess") for v in views
    ] + [SUMMARY.format(**at_checkpoint(v)) for v in views]


def fig16_inputs(wildcards):
    """The log spectrum of E (signed densities), then the summary store."""
    v = figure_view("fig16")
    at = at_checkpoint(v)
    return [SPECTRUM.format(**at, settings=v["spectra"], operator="E"), SUMMARY.format(**at)]


def fig17_inputs(wildcards):
    """The deflated, then the plain hess spectrum of one checkpoint, then its summary."""
    v = figure_view("fig17")
    at = at_checkpoint(v)
    return [
        SPECTRUM.format(**at, settings=v["spectra"], operator="hess"),
        SPECTRUM.format(**at, settings=v["plain"], operator="hess"),
        SUMMARY.format(**at),
    ]


def fig15_inputs(wildcards):
    """The two Figure-15 spectrum stores, (a) then (b)."""
    return expand(VERIFY_SPECTRUM, matrix=["fig15a", "fig15b"])


def fig5_inputs(wildcards):
    """Spectrum stores of the fig5 operators at one checkpoint and split, in panel order, then
    the checkpoint's summary store."""
    v = figure_view("fig5")
    at = at_checkpoint(v)
    return [SPECTRUM.format(**at, settings=v["spectra"], operator=op) for op in v["operators"]] + [
        SUMMARY.format(**at)
    ]


def fig6_inputs(wildcards):
    """Deflated G spectra for every (n, epoch) (n-major), then the means stores of the same."""
    v = figure_view("fig6")
    grid = [
        dict(dataset=v["dataset"], net=v["net"], n=n, epoch=epoch, split=v["split"])
        for n in sorted(v["n_per_class"])
        for epoch in sorted(v["epochs"])
    ]
    return [SPECTRUM.format(**at, settings=v["spectra"], operator="G") for at in grid] + [
        MEANS.format(**at) for at in grid
    ]


def layers_inputs(wildcards):
    """The layers store, then the spectra of layer:<layer>:G, :KFAC, :CFAC."""
    v = figure_view("layers")
    at = dict(
        dataset=v["dataset"], net=v["net"], n=v["n_per_class"], epoch=v["epoch"], split=v["split"]
    )
    return [LAYERS.format(**at)] + [
        SPECTRUM.format(**at, settings=v["spectra"], operator=f"layer:{v['layer']}:{op}")
        for op in v["operators"]
    ]


def mlr_inputs(wildcards):
    """The MLR study store, then one MLR store per n_per_class of figure_data.mlr."""
    return [MLR_STUDY] + [MLR.format(n=n) for n in config["figure_data"]["mlr"]["n_per_class"]]


def layer_grid_inputs(name):
    """Input function of a layer-wise grid figure: one layers store per dataset (row)."""

    def inputs(wildcards):
        return [
            LAYERS.format(
                dataset=v["dataset"],
                net=v["net"],
                n=v["n_per_class"],
                epoch=v["epoch"],
                split=v["split"],
            )
            for v in figure_views(name)
        ]

    return inputs


def layer_spectra_inputs(name):
    """Input function of figs 11 / 12: the layers stores of figure_data[name] (one per dataset),
    then the spectra of layer:<layer>:G, :KFAC, :CFAC of every dataset and listed layer."""

    def inputs(wildcards):
        views = figure_views(name)
        stores = layer_grid_inputs(name)(wildcards)
        spectra = [
            SPECTRUM.format(
                dataset=v["dataset"],
                net=v["net"],
                n=v["n_per_class"],
                epoch=v["epoch"],
                split=v["split"],
                settings=v["spectra"],
                operator=f"layer:{layer}:{op}",
            )
            for v in views
            for layer in v.get("layers", [v.get("layer")])
            for op in ("G", "KFAC", "CFAC")
        ]
        return stores + spectra

    return inputs


# name -> (report category, input function: the stores draw() reads, in its order)
FIGURES = {
    "fig3": ("Figure 3: Hessian", fig3_inputs),
    "fig4": ("Figure 4: Hess = G + E", fig4_inputs),
    "fig14": ("Figure 14: Hessian, no deflation", fig14_inputs),
    "fig16": ("Figure 16: tail of E", fig16_inputs),
    "fig17": ("Figure 17: low-rank deflation", fig17_inputs),
    "fig15": ("Figure 15", fig15_inputs),
    "fig5": ("Figure 5: G decomposition", fig5_inputs),
    "fig6": ("Figure 6: dynamics", fig6_inputs),
    "layers": ("Layer-wise structure", layers_inputs),
    "mlr": ("MLR (Theorem 8.1)", mlr_inputs),
    "fig7": ("Figure 7: features vs H_class", layer_grid_inputs("fig7")),
    "fig8": ("Figure 8: feature scree", layer_grid_inputs("fig8")),
    "fig9a": ("Figure 9a: errors vs Delta_class", layer_grid_inputs("fig9a")),
    "fig9b": ("Figure 9b: errors vs Delta_cross", layer_grid_inputs("fig9b")),
    "fig10": ("Figure 10: error scree", layer_grid_inputs("fig10")),
    "fig11": ("Figure 11: G^l, KFAC, CFAC", layer_spectra_inputs("fig11")),
    "fig12": ("Figure 12: G^l, KFAC, CFAC per layer", layer_spectra_inputs("fig12")),
    "fig13": ("Figure 13: weights vs W_class", layer_grid_inputs("fig13")),
}


@functools.cache
def figure_stores():
    """Every store the requested figures read."""
    return [p for name in config["figures"] for p in FIGURES[name][1](SimpleNamespace())]


def keeps_layer_matrices(layers_store):
    """Whether extract keeps the matrices of this layers store: always with
    analysis.layer_matrices = all (or a layer operator in analysis.operators, estimated at
    every checkpoint); with `figures`, where a requested figure reads the store."""
    analysis = config["analysis"]
    if analysis["layer_matrices"] == "all" or any(
        operator_layers(ops) for ops in analysis["operators"].values()
    ):
        return True
    return layers_store in figure_stores()


def requested_spectra():
    """{(settings, operators): [checkpoint, ...]}: what each checkpoint's job estimates."""
    wanted = {}
    for path in experiment_targets() + figure_stores():
        match = SPECTRUM_PATH.fullmatch(path)
        if match:
            ops = wanted.setdefault((match["checkpoint"], match["settings"]), [])
            if match["operator"] not in ops:
                ops.append(match["operator"])
    groups = {}
    for (checkpoint, settings), ops in wanted.items():
        groups.setdefault((settings, tuple(ops)), []).append(checkpoint)
    return groups
