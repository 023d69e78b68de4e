"""Claim inputs: which stores each claim module judges. `CLAIMS` in rules/claims.smk names the
input function of each module."""


def network_claims_inputs(wildcards):
    """The stores of the listed section-5/6 figures (fig4, fig5, fig6, fig16) and the summary
    stores of every analysed checkpoint (train split), each once."""
    inputs = []
    for name, stores in (
        ("fig4", fig4_inputs),
        ("fig5", fig5_inputs),
        ("fig6", fig6_inputs),
        ("fig16", fig16_inputs),
    ):
        if name in config["figures"]:
            inputs += stores(wildcards)
    inputs += [
        SUMMARY.format(dataset=e["dataset"], net=e["net"], n=n, epoch=epoch, split="train")
        for e in config["experiments"]
        for n in e["n_per_class"]
        for epoch in e["epochs"]
    ]
    return list(dict.fromkeys(inputs))


def layerwise_claims_inputs(wildcards):
    """The layers stores of the listed layer-wise figures (figs 7-13), each once."""
    inputs = []
    for name in ("fig7", "fig8", "fig9a", "fig9b", "fig10", "fig11", "fig12", "fig13"):
        if name in config["figures"]:
            inputs += [s for s in FIGURES[name][1](wildcards) if s.endswith("layers.zarr")]
    return list(dict.fromkeys(inputs))
