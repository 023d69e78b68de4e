"""Spectra: the density of one operator (Hess, G, its class / cross-class parts, knockouts,
layer-wise G^l, KFAC, CFAC, H, Delta: docs/analysis.md) at one checkpoint and split, under the
named estimator settings analysis.spectra[settings]. The means and layers stores of `extract`
are inputs, so no spectrum job recomputes them; and the MLR stores of section 8."""


rule spectrum:
    """`crossclass operator-spectrum` of one (checkpoint, split, settings, operator)."""
    input:
        run=selected_run,
        subset=SUBSET,
        means=MEANS,
        layers=LAYERS,
    output:
        directory(SPECTRUM),
    params:
        checkpoint=checkpoint_file,
        root=config["data"]["root"],
        batch_size=config["analysis"]["batch_size"],
        float64="--float64" if config["analysis"]["float64"] else "",
        spectrum=lambda wc: spectrum_args(spectrum_settings(wc.settings)),
        device=DEVICE,
        progress=PROGRESS,
        code=code("crossclass.commands.analyze"),
    log:
        log_path("spectrum", SPECTRUM_KEY),
    benchmark:
        bench_path("spectrum", SPECTRUM_KEY)
    conda:
        ENV
    shell:
        "crossclass operator-spectrum --checkpoint {params.checkpoint} --subset {input.subset} "
        "--root {params.root} --split {wildcards.split} --operator {wildcards.operator:q} "
        "--batch-size {params.batch_size} {params.float64} --means {input.means} "
        "--layers {input.layers} {params.spectrum} --device {params.device} {params.progress} "
        "--out {output:q} > {log:q} 2>&1"


rule mlr_spectrum:
    """Theorem 8.1 against the G of one sampled (or trained) MLR with n examples per class."""
    output:
        directory(MLR),
    params:
        mlr=lambda wc: mlr_args(),
        code=code("crossclass.commands.analyze"),
    log:
        log_path("mlr_spectrum", "n{n}"),
    benchmark:
        bench_path("mlr_spectrum", "n{n}")
    conda:
        ENV
    shell:
        "crossclass mlr-spectrum {params.mlr} --n-per-class {wildcards.n} --out {output} "
        "> {log} 2>&1"


rule mlr_study:
    """Theorem 8.1 at its own probabilities for growing n, and trained MLRs over an SNR sweep."""
    output:
        directory(MLR_STUDY),
    params:
        mlr=lambda wc: mlr_study_args(),
        code=code("crossclass.commands.analyze"),
    log:
        log_path("mlr_study", "study"),
    benchmark:
        bench_path("mlr_study", "study")
    conda:
        ENV
    shell:
        "crossclass mlr-study {params.mlr} --out {output} > {log} 2>&1"

