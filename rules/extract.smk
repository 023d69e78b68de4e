"""Extract: per analysed checkpoint of the selected learning rate and per split, the
extended-gradient means (G's class / cross-class structure), every layer's section-7 statistics
and a loss / error summary. The spectra reuse these stores (recomputing the means in memory only where
analysis.store_means is false)."""


rule extract:
    """means.zarr, layers.zarr, summary.zarr of one checkpoint on one split."""
    group:
        ANALYSIS_GROUP
    resources:
        gpu=ANALYSIS_GPUS,
        analysis_slot=1,
        mem_mb=analysis_memory,
        runtime=analysis_runtime((), None),
    input:
        run=SELECTED,
        subset=SUBSET,
    output:
        means=directory(MEANS),
        layers=directory(LAYERS),
        summary=directory(SUMMARY),
    params:
        checkpoint=checkpoint_file,
        root=config["data"]["root"],
        batch_size=config["analysis"]["batch_size"],
        float64="--float64" if config["analysis"]["float64"] else "",
        conv="--conv-layers" if config["analysis"]["conv_layers"] else "",
        keep="--keep-means" if config["analysis"]["store_means"] else "--no-keep-means",
        matrices=lambda wc, output: (
            "--layer-matrices" if keeps_layer_matrices(output.layers) else "--no-layer-matrices"
        ),
        device=DEVICE,
        progress=PROGRESS,
        code=code("crossclass.commands.extract"),
        command=lambda wc, threads: analysis_command(threads),
    log:
        log_path("extract", CHECKPOINT_KEY),
    benchmark:
        bench_path("extract", CHECKPOINT_KEY)
    conda:
        ENV
    threads: ANALYSIS_THREADS
    shell:
        "{params.command} extract --checkpoint {params.checkpoint:q} --subset {input.subset:q} "
        "--root {params.root:q} --split {wildcards.split:q} --batch-size {params.batch_size:q} "
        "{params.float64} {params.conv} {params.keep} {params.matrices} "
        "--device {params.device:q} {params.progress} "
        "--out-means {output.means:q} --out-layers {output.layers:q} "
        "--out-summary {output.summary:q} > {log:q} 2>&1"
