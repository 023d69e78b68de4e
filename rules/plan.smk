"""Plan: what the config asks of a cluster and of its disks, without running anything.
`snakemake plan` writes results/plan.md: the SLURM submissions of the plan under the profile's
grouping and the bytes of every store (crossclass.sizes)."""


rule plan:
    """results/plan.md: submissions per rule and storage per store of the config's plan."""
    localrule: True
    output:
        f"{RESULTS}/plan.md",
    params:
        submissions=lambda wc: json.dumps(submission_rows(), separators=(",", ":")),
        storage=lambda wc: json.dumps(storage_rows(), separators=(",", ":")),
        code=code("crossclass.commands.plan_report"),
    log:
        log_path("plan", "report"),
    benchmark:
        bench_path("plan", "report")
    conda:
        ENV
    shell:
        "crossclass plan-report --submissions {params.submissions:q} "
        "--storage {params.storage:q} --out {output:q} > {log:q} 2>&1"
