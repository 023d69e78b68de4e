"""Spectra: the densities of named operators (Hess, G, its class / cross-class parts, knockouts,
layer-wise G^l, KFAC, CFAC, H, Delta: docs/analysis.md) of one checkpoint and split, under the
named estimator settings analysis.spectra[settings]; and the MLR stores of section 8.

Every spectrum store that a target asks for (a figure's inputs, analysis.operators at every
analysed checkpoint) is collected while planning and grouped by (checkpoint, split, settings):
each group is ONE job, `crossclass operator-spectrum --operator A B ... --out A.zarr B.zarr ...`,
which loads the model and data once and reads the extract stores (means, layers) once. Groups
asking for the same operator list share one generated rule, `spectra_<settings>_<k>`, whose
`{checkpoint}` wildcard (dataset/net/nN/eE/split) is constrained to exactly its group's
checkpoints, so every store has exactly one producing rule.
"""

for spectra_index, ((spectra_settings, spectra_ops), spectra_checkpoints) in enumerate(
    sorted(requested_spectra().items())
):

    rule:
        name:
            f"spectra_{spectra_settings}_{spectra_index}"
        group:
            analysis_group
        input:
            run=spectra_input(SELECTED),
            subset=spectra_input(SUBSET),
            means=spectra_input(MEANS),
            layers=spectra_input(LAYERS),
        output:
            [
                directory(f"{RESULTS}/spectra/{{checkpoint}}/{spectra_settings}/{op}.zarr")
                for op in spectra_ops
            ],
        wildcard_constraints:
            checkpoint="|".join(re.escape(c) for c in sorted(spectra_checkpoints)),
        resources:
            gpu=ANALYSIS_GPUS,
            analysis_slot=1,
            mem_mb=analysis_memory,
            runtime=analysis_runtime(spectra_ops, spectra_settings),
        params:
            checkpoint=lambda wc: checkpoint_file(checkpoint_keys(wc)),
            split=lambda wc: checkpoint_keys(wc).split,
            operators=" ".join(shlex.quote(op) for op in spectra_ops),
            root=config["data"]["root"],
            batch_size=config["analysis"]["batch_size"],
            float64="--float64" if config["analysis"]["float64"] else "",
            spectrum=spectrum_args(spectrum_settings(spectra_settings)),
            device=DEVICE,
            progress=PROGRESS,
            code=code("crossclass.commands.operator_spectrum"),
            command=lambda wc, threads: analysis_command(threads),
        log:
            log_path("spectra", f"{{checkpoint}}/{spectra_settings}"),
        benchmark:
            bench_path("spectra", f"{{checkpoint}}/{spectra_settings}")
        conda:
            ENV
        threads: ANALYSIS_THREADS
        shell:
            "{params.command} operator-spectrum --checkpoint {params.checkpoint:q} "
            "--subset {input.subset:q} --root {params.root:q} --split {params.split:q} "
            "--operator {params.operators} --batch-size {params.batch_size:q} {params.float64} "
            "--means {input.means:q} --layers {input.layers:q} {params.spectrum} "
            "--device {params.device:q} {params.progress} --out {output:q} > {log:q} 2>&1"


rule mlr_spectrum:
    """Theorem 8.1 against the G of one sampled (or trained) MLR with n examples per class."""
    localrule: True
    output:
        directory(MLR),
    params:
        mlr=lambda wc: mlr_args(),
        progress=PROGRESS,
        code=code("crossclass.commands.mlr_spectrum"),
    log:
        log_path("mlr_spectrum", "n{n}"),
    benchmark:
        bench_path("mlr_spectrum", "n{n}")
    conda:
        ENV
    threads: 1
    shell:
        "crossclass --threads {threads} mlr-spectrum {params.mlr} --n-per-class {wildcards.n:q} "
        "{params.progress} --out {output:q} > {log:q} 2>&1"


rule mlr_study:
    """Theorem 8.1 at its own probabilities for growing n, and trained MLRs over an SNR sweep."""
    localrule: True
    output:
        directory(MLR_STUDY),
    params:
        mlr=lambda wc: mlr_study_args(),
        code=code("crossclass.commands.mlr_study"),
    log:
        log_path("mlr_study", "study"),
    benchmark:
        bench_path("mlr_study", "study")
    conda:
        ENV
    threads: 1
    shell:
        "crossclass --threads {threads} mlr-study {params.mlr} --out {output:q} > {log:q} 2>&1"
