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
        view, where = figure_view(name), f"figure_data.{name}"
        exp = experiment(view["dataset"], view["net"], where=where)
        for key, allowed in (("n_per_class", exp["n_per_class"]), ("epoch", exp["epochs"]),
                             ("epochs", exp["epochs"])):
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


def figure_view(name):
    """figure_data[name] with the experiment's sizes and epochs where the figure leaves them."""
    view = dict(config["figure_data"][name])
    if "dataset" in view:
        exp = experiment(view["dataset"], view["net"], where=f"figure_data.{name}")
        view.setdefault("n_per_class", exp["n_per_class"])
        view.setdefault("epochs", exp["epochs"])
    return view


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
    """One MLR store per n_per_class of figure_data.mlr."""
    return [MLR.format(n=n) for n in config["figure_data"]["mlr"]["n_per_class"]]


# name -> (report category, input function: the stores draw() reads, in its order)
FIGURES = {
    "fig15": ("Figure 15", fig15_inputs),
    "fig5": ("Figure 5: G decomposition", fig5_inputs),
    "fig6": ("Figure 6: dynamics", fig6_inputs),
    "layers": ("Layer-wise structure", layers_inputs),
    "mlr": ("MLR (Theorem 8.1)", mlr_inputs),
}


def requested_spectra():
    """{(settings, operators): [checkpoint, ...]}: what each checkpoint's job estimates."""
    paths = experiment_targets()
    for name in config["figures"]:
        paths += FIGURES[name][1](SimpleNamespace())
    wanted = {}
    for path in paths:
        match = SPECTRUM_PATH.fullmatch(path)
        if match:
            ops = wanted.setdefault((match["checkpoint"], match["settings"]), [])
            if match["operator"] not in ops:
                ops.append(match["operator"])
    groups = {}
    for (checkpoint, settings), ops in wanted.items():
        groups.setdefault((settings, tuple(ops)), []).append(checkpoint)
    return groups
