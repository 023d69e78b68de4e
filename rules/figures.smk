"""Figures: one rule per entry of FIGURES, generated below; each calls
`crossclass figure NAME --inputs STORE... --output PDF [--set k=v]` and writes a PDF and a PNG
into the report under its category, with the caption workflow/crossclass/report/NAME.rst.

A figure's `code` param hashes the import closure of its module (and of the figure command),
so editing one figure, or a module only it imports, reruns that figure alone and never an
upstream job. To add a figure: a module crossclass/figures/NAME.py with
`draw(inputs, output, *, option=default, ...)`, a caption report/NAME.rst, an input function
in rules/figure_inputs.smk, and one line here.
"""

# name -> (report category, input function: the stores draw() reads, in its order)
FIGURES = {
    "fig3": ("Figure 3: Hessian", fig3_inputs),
    "fig4": ("Figure 4: Hess = G + E", fig4_inputs),
    "fig14": ("Figure 14: Hessian, no deflation", fig14_inputs),
    "fig16": ("Figure 16: tail of E", fig16_inputs),
    "fig17": ("Figure 17: low-rank deflation", fig17_inputs),
    "fig15": ("Figure 15", fig15_inputs),
    "fig5": ("Figure 5: G decomposition", fig5_inputs),
    "fig6": ("Figure 6: dynamics", fig6_inputs),
    "layers": ("Layer-wise structure", layers_inputs),
    "mlr": ("MLR (Theorem 8.1)", mlr_inputs),
}

check_figures(config, FIGURES)


for figure_name, (figure_category, figure_inputs) in FIGURES.items():

    rule:
        name:
            figure_name
        input:
            figure_inputs,
        output:
            pdf=report(
                figure_path(figure_name),
                caption=f"{CAPTIONS}/{figure_name}.rst",
                category=figure_category,
            ),
            png=report(
                figure_path(figure_name, "png"),
                caption=f"{CAPTIONS}/{figure_name}.rst",
                category=figure_category,
            ),
        params:
            name=figure_name,
            options=options_args(config["figure_options"].get(figure_name, {})),
            code=figure_code(figure_name),
        localrule: True
        conda:
            ENV
        log:
            log_path("figure", figure_name),
        benchmark:
            bench_path("figure", figure_name)
        shell:
            "crossclass figure {params.name} --inputs {input:q} --output {output.pdf} "
            "{params.options} > {log} 2>&1"
