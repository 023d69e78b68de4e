"""Storage: the bytes every store of the plan takes, from the sizes of its experiments
(crossclass.sizes), without running anything: `snakemake storage` writes results/storage.md."""


rule storage:
    """results/storage.md: the bytes of every store the config plans (nothing is run)."""
    localrule: True
    output:
        f"{RESULTS}/storage.md",
    params:
        rows=lambda wc: json.dumps(storage_rows(), separators=(",", ":")),
        code=code("crossclass.commands.storage_report"),
    log:
        log_path("storage", "report"),
    benchmark:
        bench_path("storage", "report")
    conda:
        ENV
    shell:
        "crossclass storage-report --rows {params.rows:q} --out {output} > {log} 2>&1"
