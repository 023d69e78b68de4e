"""Training: one job per learning rate of the log-spaced sweep (Appendix D.1), then select-lr
keeps the rate with the best final test error. Only the analysed epochs' checkpoints are kept."""

rule train:
    """One SGD run: checkpoints/epoch_EEEE.pt for the analysed epochs, metrics.zarr. The resume
    state lives beside the run folder (lr{i}.resume/) while training: Snakemake deletes an
    incomplete output before a rerun, not that folder, so the rerun resumes from it."""
    input:
        SUBSET,
    output:
        directory(RUN),
    params:
        root=config["data"]["root"],
        lr=lambda wc: learning_rates(wc.net)[int(wc.lr)],
        epochs=lambda wc: train_epochs(wc.dataset, wc.net),
        checkpoints=lambda wc: " ".join(map(str, analysed_epochs(wc))),
        net_options=lambda wc: options_args(
            {k: json.dumps(v) for k, v in config["nets"].get(wc.net, {}).items()},
            flag="--net-option"),
        sgd=sgd_flags(),
        resume_interval=config["training"]["resume_interval"],
        device=DEVICE,
        progress="" if config["progress"] else "--no-progress",
        code=code("crossclass.commands.train", "crossclass.training", "crossclass.nets",
                  "crossclass.data", "crossclass.stores"),
    log:
        log_path("train", RUN_KEY),
    benchmark:
        bench_path("train", RUN_KEY)
    conda:
        ENV
    shell:
        "crossclass train --subset {input} --root {params.root} --net {wildcards.net} "
        "{params.net_options} --lr {params.lr} --epochs {params.epochs} {params.sgd} "
        "--checkpoints {params.checkpoints} --resume-interval {params.resume_interval} "
        "--resume-dir {output}.resume --device {params.device} {params.progress} "
        "--out {output} > {log} 2>&1"


checkpoint select_lr:
    """The sweep's learning rate with the lowest final test error (JSON); a checkpoint, because
    which run the analysis reads is known only once it has run."""
    input:
        lambda wc: expand(RUN, lr=range(len(learning_rates(wc.net))), allow_missing=True),
    output:
        CHOICE,
    params:
        stores=lambda wc, input: " ".join(f"{run}/metrics.zarr" for run in input),
        code=code("crossclass.commands.train", "crossclass.training.selection"),
    log:
        log_path("select_lr", KEY),
    benchmark:
        bench_path("select_lr", KEY)
    conda:
        ENV
    shell:
        "crossclass select-lr --stores {params.stores} --out {output} > {log} 2>&1"
