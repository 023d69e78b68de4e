"""Figure 15: build the two synthetic matrices and estimate their spectra."""


rule verify_matrix:
    """A Figure-15 matrix Y with its exact eigenvalues (dense eigh, float64)."""
    localrule: True
    output:
        directory(VERIFY_MATRIX),
    params:
        options=lambda wc: format_options(matrix_options(wc)),
        code=code("crossclass.commands.verify"),
    conda:
        ENV
    log:
        log_path("verify_matrix", "{matrix}"),
    benchmark:
        bench_path("verify_matrix", "{matrix}")
    wildcard_constraints:
        matrix="fig15a|fig15b",
    threads: 1
    shell:
        "crossclass --threads {threads} verify matrix {wildcards.matrix:q} {params.options} "
        "--out {output:q} > {log:q} 2>&1"


rule verify_spectrum:
    """Lanczos spectral density of a Figure-15 matrix, beside its exact eigenvalues."""
    localrule: True
    input:
        VERIFY_MATRIX,
    output:
        directory(VERIFY_SPECTRUM),
    params:
        spectrum=lambda wc: spectrum_args(config["verification"][wc.matrix]["spectrum"]),
        device=DEVICE,
        progress=PROGRESS,
        code=code("crossclass.commands.spectra"),
    conda:
        ENV
    log:
        log_path("verify_spectrum", "{matrix}"),
    benchmark:
        bench_path("verify_spectrum", "{matrix}")
    wildcard_constraints:
        matrix="fig15a|fig15b",
    threads: 1
    shell:
        "crossclass --threads {threads} spectra matrix --input {input:q} --out {output:q} "
        "{params.spectrum} --device {params.device:q} {params.progress} > {log:q} 2>&1"
