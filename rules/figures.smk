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
        code=lambda wc: figure_code("fig15"),
    conda:
        ENV
    log:
        log_path("figure", "fig15"),
    benchmark:
        bench_path("figure", "fig15")
    shell:
        "crossclass figure fig15 --inputs {input} --output {output.pdf} {params.options} > {log} 2>&1"


rule fig5:
    """Figure 5: the spectrum of G and of its class / cross-class parts and knockouts."""
    input:
        fig5_inputs,
    output:
        pdf=report(figure_path("fig5"), caption=f"{CAPTIONS}/fig5.rst",
                   category="Figure 5: G decomposition"),
        png=report(f"{RESULTS}/figures/fig5.png", caption=f"{CAPTIONS}/fig5.rst",
                   category="Figure 5: G decomposition"),
    params:
        options=options_args(config["figure_options"].get("fig5", {})),
        code=lambda wc: figure_code("fig5"),
    conda:
        ENV
    log:
        log_path("figure", "fig5"),
    benchmark:
        bench_path("figure", "fig5")
    shell:
        "crossclass figure fig5 --inputs {input:q} --output {output.pdf} {params.options} "
        "> {log} 2>&1"


rule fig6:
    """Figure 6: deflated G over sample sizes x epochs with the low-rank parts' eigenvalues."""
    input:
        fig6_inputs,
    output:
        pdf=report(figure_path("fig6"), caption=f"{CAPTIONS}/fig6.rst",
                   category="Figure 6: dynamics"),
        png=report(f"{RESULTS}/figures/fig6.png", caption=f"{CAPTIONS}/fig6.rst",
                   category="Figure 6: dynamics"),
    params:
        options=options_args(config["figure_options"].get("fig6", {})),
        code=lambda wc: figure_code("fig6"),
    conda:
        ENV
    log:
        log_path("figure", "fig6"),
    benchmark:
        bench_path("figure", "fig6")
    shell:
        "crossclass figure fig6 --inputs {input:q} --output {output.pdf} {params.options} "
        "> {log} 2>&1"


rule layers:
    """Section 7: one layer's statistics and the spectra of its G^l, KFAC and CFAC."""
    input:
        layers_inputs,
    output:
        pdf=report(figure_path("layers"), caption=f"{CAPTIONS}/layers.rst",
                   category="Layer-wise structure"),
        png=report(f"{RESULTS}/figures/layers.png", caption=f"{CAPTIONS}/layers.rst",
                   category="Layer-wise structure"),
    params:
        options=options_args(config["figure_options"].get("layers", {})),
        code=lambda wc: figure_code("layers"),
    conda:
        ENV
    log:
        log_path("figure", "layers"),
    benchmark:
        bench_path("figure", "layers")
    shell:
        "crossclass figure layers --inputs {input:q} --output {output.pdf} {params.options} "
        "> {log} 2>&1"


rule mlr:
    """Section 8: Theorem 8.1 eigenvalues against the sampled MLR's G."""
    input:
        mlr_inputs,
    output:
        pdf=report(figure_path("mlr"), caption=f"{CAPTIONS}/mlr.rst",
                   category="MLR (Theorem 8.1)"),
        png=report(f"{RESULTS}/figures/mlr.png", caption=f"{CAPTIONS}/mlr.rst",
                   category="MLR (Theorem 8.1)"),
    params:
        options=options_args(config["figure_options"].get("mlr", {})),
        code=lambda wc: figure_code("mlr"),
    conda:
        ENV
    log:
        log_path("figure", "mlr"),
    benchmark:
        bench_path("figure", "mlr")
    shell:
        "crossclass figure mlr --inputs {input:q} --output {output.pdf} {params.options} "
        "> {log} 2>&1"
