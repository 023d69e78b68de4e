"""Claims: one verdict file per claim module in CLAIMS (name -> input function: the stores it
judges), gathered by `claims_report` into results/claims.md and results/table1.md (both in the
report under "Claims"). To add a claim module NAME: crossclass/claims/NAME.py with
`evaluate(inputs, **thresholds) -> (verdicts, eliminations)`, an input function in
rules/claim_inputs.smk, one line in CLAIMS; its thresholds come from config `claims.NAME`
(docs/analysis.md, "Claims")."""

# name -> input function (the stores its evaluate() reads)
CLAIMS = {
    "network": network_claims_inputs,
    "layerwise": layerwise_claims_inputs,
}


for claims_name, claims_inputs in CLAIMS.items():

    rule:
        name:
            f"claims_{claims_name}"
        input:
            claims_inputs,
        output:
            CLAIMS_FILE.format(name=claims_name),
        params:
            name=claims_name,
            thresholds=format_options(config["claims"].get(claims_name, {})),
            code=code("crossclass.commands.claims", f"crossclass.claims.{claims_name}"),
        localrule: True
        conda:
            ENV
        log:
            log_path("claims", claims_name),
        benchmark:
            bench_path("claims", claims_name)
        shell:
            "crossclass claims {params.name:q} --inputs {input:q} --out {output:q} "
            "{params.thresholds} > {log:q} 2>&1"


rule claims_report:
    """The claims report and Table 1 from every claim module's verdict file."""
    input:
        [CLAIMS_FILE.format(name=name) for name in CLAIMS],
    output:
        claims=report(CLAIMS_REPORT, caption=f"{CAPTIONS}/claims.rst", category="Claims"),
        table1=report(TABLE1, caption=f"{CAPTIONS}/table1.rst", category="Claims"),
    params:
        code=code("crossclass.commands.claims_report"),
    localrule: True
    conda:
        ENV
    log:
        log_path("claims_report", "report"),
    benchmark:
        bench_path("claims_report", "report")
    shell:
        "crossclass claims-report --inputs {input:q} --claims {output.claims:q} "
        "--table1 {output.table1:q} > {log:q} 2>&1"
