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
    "fig15": ("Figure 15", fig15_inputs),
    "fig5": ("Figure 5: G decomposition", fig5_inputs),
    "fig6": ("Figure 6: dynamics", fig6_inputs),
    "layers": ("Layer-wise structure", layers_inputs),
    "mlr": ("MLR (Theorem 8.1)", mlr_inputs),
    "fig7": ("Figure 7: features vs H_class", layer_grid_inputs("fig7")),
    "fig8": ("Figure 8: feature scree", layer_grid_inputs("fig8")),
    "fig9a": ("Figure 9: errors vs Delta_class", layer_grid_inputs("fig9a")),
    "fig9b": ("Figure 9: errors vs Delta_cross", layer_grid_inputs("fig9b")),
    "fig10": ("Figure 10: error scree", layer_grid_inputs("fig10")),
    "fig11": ("Figure 11: G^l, KFAC, CFAC", layer_spectra_inputs("fig11")),
    "fig12": ("Figure 12: G^l, KFAC, CFAC per layer", layer_spectra_inputs("fig12")),
    "fig13": ("Figure 13: weights vs W_class", layer_grid_inputs("fig13")),
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
