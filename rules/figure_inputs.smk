"""Figure inputs: which stores each figure reads (config figure_data), in the order its
draw() expects them. `FIGURES` in rules/figures.smk names the input function of each figure."""


def check_figures(config, figures):
    """Every listed figure is known, has its figure_data where it reads experiments, reads
    experiments, checkpoints and settings that exist, and takes the options it is given."""
    spectra = config["analysis"]["spectra"]
    for name in sorted(set(config["figures"]) | set(config["figure_options"])):
        if name not in figures:
            stop(f"figures: unknown figure {name!r}; available: {', '.join(figures)}")
        taken = keyword_options(SOURCES / "crossclass" / "figures" / f"{name}.py", "draw",
                                skip=2) or []
        unknown = sorted(set(config["figure_options"].get(name, {})) - set(taken))
        if unknown:
            stop(f"figure_options.{name}.{unknown[0]}: figure {name} takes no such option; "
                 f"options: {', '.join(taken) or 'none'}")
    data = config["figure_data"]
    for name in config["figures"]:
        if name in ("fig15", "mlr"):
            if name == "mlr" and name not in data:
                stop("figures lists mlr but figure_data.mlr is missing")
            continue
        if name not in data:
            stop(f"figures lists {name} but figure_data.{name} is missing")
        for view in figure_views(name):
            where = f"figure_data.{name}"
            exp = experiment(view["dataset"], view["net"], where=where)
            for key, allowed in (("n_per_class", exp["n_per_class"]), ("epoch", exp["epochs"]),
                                 ("epochs", exp["epochs"])):
                chosen = view.get(key, [])
                missing = [v for v in (chosen if isinstance(chosen, list) else [chosen])
                           if v not in allowed]
                if missing:
                    stop(f"{where}.{key} {missing} not in the experiment's {allowed}")
            if "spectra" in view and view["spectra"] not in spectra:
                stop(f"{where}.spectra: no settings {view['spectra']!r} in analysis.spectra "
                     f"({', '.join(sorted(spectra))})")
        if name == "fig6" and spectra[view["spectra"]].get("deflate") != "C":
            stop(f"{where}.spectra: analysis.spectra.{view['spectra']} must set deflate: C")


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
    """One figure_view per dataset: figure_data[name] has `dataset` or a list `datasets`."""
    datasets = config["figure_data"][name].get("datasets")
    return [figure_view(name)] if datasets is None else [figure_view(name, d) for d in datasets]


def fig15_inputs(wildcards):
    """The two Figure-15 spectrum stores, (a) then (b)."""
    return expand(VERIFY_SPECTRUM, matrix=["fig15a", "fig15b"])


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




def mlr_inputs(wildcards):
    """The MLR study store, then one MLR store per n_per_class of figure_data.mlr."""
    return [MLR_STUDY] + [MLR.format(n=n) for n in config["figure_data"]["mlr"]["n_per_class"]]


def layer_grid_inputs(name):
    """Input function of a layer-wise grid figure: one layers store per dataset (row)."""
    def inputs(wildcards):
        return [LAYERS.format(dataset=v["dataset"], net=v["net"], n=v["n_per_class"],
                              epoch=v["epoch"], split=v["split"]) for v in figure_views(name)]
    return inputs


def layer_spectra_inputs(name):
    """Input function of figs 11 / 12: the layers stores of figure_data[name] (one per dataset),
    then the spectra of layer:<layer>:G, :KFAC, :CFAC of every dataset and listed layer."""
    def inputs(wildcards):
        views = figure_views(name)
        stores = layer_grid_inputs(name)(wildcards)
        spectra = [SPECTRUM.format(dataset=v["dataset"], net=v["net"], n=v["n_per_class"],
                                   epoch=v["epoch"], split=v["split"], settings=v["spectra"],
                                   operator=f"layer:{layer}:{op}")
                   for v in views for layer in v.get("layers", [v.get("layer")])
                   for op in ("G", "KFAC", "CFAC")]
        return stores + spectra
    return inputs

