"""Data: fetch each dataset once, then one balanced subsample store per n_per_class."""


rule fetch_data:
    """Download a dataset's files into data.root (no-op for embedded datasets)."""
    localrule: True
    output:
        touch(FETCHED),
    params:
        root=config["data"]["root"],
        options=lambda wc: dataset_options(wc.dataset),
        code=code("crossclass.commands.data"),
    log:
        log_path("fetch_data", "{dataset}"),
    benchmark:
        bench_path("fetch_data", "{dataset}")
    conda:
        ENV
    threads: 1
    shell:
        "crossclass --threads {threads} data fetch --dataset {wildcards.dataset:q} --root {params.root:q} "
        "{params.options} > {log:q} 2>&1"


rule subsample:
    """The indices of n training examples per class (nested across n) and of the test split."""
    localrule: True
    input:
        FETCHED,
    output:
        directory(SUBSET),
    params:
        root=config["data"]["root"],
        seed=config["data"]["seed"],
        test=test_per_class_flag(),
        options=lambda wc: dataset_options(wc.dataset),
        code=code("crossclass.commands.data"),
    log:
        log_path("subsample", "{dataset}/n{n}"),
    benchmark:
        bench_path("subsample", "{dataset}/n{n}")
    conda:
        ENV
    threads: 1
    shell:
        "crossclass --threads {threads} data subsample --dataset {wildcards.dataset:q} "
        "--root {params.root:q} {params.options} --n-per-class {wildcards.n:q} --seed {params.seed:q} "
        "{params.test} --out {output:q} > {log:q} 2>&1"
