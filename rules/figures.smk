"""Figures: each rule calls `crossclass figure NAME --inputs STORE... --output PDF [--set k=v]`.

A figure's `code` param hashes only its own module (crossclass.figures.NAME) and the shared
plotting helpers, so editing one figure reruns that figure alone and never an upstream job.
"""

rule fig15:
    """Figure 15 (a) and (b): Lanczos density (red) over the histogram of exact eigenvalues."""
    input:
        expand(VERIFY_SPECTRUM, matrix=["fig15a", "fig15b"]),
    output:
        pdf=report(figure_path("fig15"), caption=f"{CAPTIONS}/fig15.rst", category="Figure 15"),
        png=report(f"{RESULTS}/figures/fig15.png", caption=f"{CAPTIONS}/fig15.rst",
                   category="Figure 15"),
    params:
        options=options_args(config["figure_options"].get("fig15", {})),
        code=figure_code("fig15"),
    conda:
        ENV
    log:
        log_path("figure", "fig15"),
    benchmark:
        bench_path("figure", "fig15")
    shell:
        "crossclass figure fig15 --inputs {input} --output {output.pdf} {params.options} > {log} 2>&1"
