"""Training: the learning-rate sweep of Appendix D.1 in batches of training.runs_per_job rates,
each batch one job that trains its runs one after another (BATCH/lrK for rate K of the sweep);
then select-lr keeps the rate with the best final test error and train_selected gives that
rate's run, with the analysed epochs' checkpoints, a fixed path (`selected/`) that the analysis
reads: no result is read while planning."""


rule train:
    """One batch of SGD runs: lrK/checkpoints/epoch_EEEE.pt for the analysed epochs and
    lrK/metrics.zarr, for each rate K of the batch. The runs are trained in BATCH.partial-HASH/
    (each with its resume state in lrK.resume/; HASH keys the job's arguments), which Snakemake
    never deletes: a rerun after a kill skips the finished runs, resumes the interrupted one
    from its last checkpoint, and renames the folder into place when every run is done; other
    attempts' folders of this batch are removed."""
    input:
        SUBSET,
    output:
        directory(BATCH),
    params:
        commands=train_commands,
        folder=train_folder,
        code=code("crossclass.commands.train"),
    resources:
        gpu=GPUS,
        mem_mb=train_memory,
        runtime=train_runtime,
    log:
        log_path("train", BATCH_KEY),
    benchmark:
        bench_path("train", BATCH_KEY)
    conda:
        ENV
    threads: JOB_THREADS
    shell:
        'find "$(dirname {output:q})" -maxdepth 1 -name "$(basename {output:q}).partial-*" '
        '! -name "$(basename {params.folder:q})" -exec rm -rf {{}} + '
        "&& ({params.commands}) > {log:q} 2>&1 && mv {params.folder:q} {output:q}"


rule select_lr:
    """The sweep's learning rate with the lowest final test error (JSON)."""
    localrule: True
    input:
        lambda wc: expand(BATCH, batch=range(len(sweep_batches(wc.net))), allow_missing=True),
    output:
        CHOICE,
    params:
        stores=sweep_metrics,
        code=code("crossclass.commands.select_lr"),
    log:
        log_path("select_lr", KEY),
    benchmark:
        bench_path("select_lr", KEY)
    conda:
        ENV
    threads: 1
    shell:
        "crossclass --threads {threads} select-lr --stores {params.stores} --out {output:q} "
        "> {log:q} 2>&1"


rule train_selected:
    """The selected rate's run with the analysed checkpoints: hard-linked from the sweep when
    its runs kept them (training.sweep_checkpoints), else trained again (deterministic: the
    same weights; the sweep then stores metrics only). Linking is a local job."""
    localrule: config["training"]["sweep_checkpoints"]
    input:
        choice=CHOICE,
        subset=SUBSET,
    output:
        directory(SELECTED),
    params:
        arguments=lambda wc: train_arguments(wc),
        resume=lambda wc, output: f"{output}.resume",
        code=code("crossclass.commands.train"),
    resources:
        gpu=GPUS,
        mem_mb=train_memory,
        runtime=train_runtime,
    log:
        log_path("train_selected", KEY),
    benchmark:
        bench_path("train_selected", KEY)
    conda:
        ENV
    threads: JOB_THREADS
    shell:
        "crossclass --threads {threads} train --choice {input.choice:q} "
        "--subset {input.subset:q} {params.arguments} --resume-dir {params.resume:q} "
        "--out {output:q} > {log:q} 2>&1"
