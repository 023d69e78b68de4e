"""Figures: one rule per entry of FIGURES, generated below; each calls
`crossclass figure NAME --inputs STORE... --out PDF [--set k=v]` and writes a PDF and a PNG
into the report under its category, with the caption workflow/crossclass/report/NAME.rst.

A figure's `code` param hashes the import closure of its module (and of the figure command),
so editing one figure, or a module only it imports, reruns that figure alone and never an
upstream job. To add a figure: a module crossclass/figures/NAME.py with
`draw(inputs, output, *, option=default, ...)`, a caption report/NAME.rst, an input function
in rules/figure_inputs.smk, and one line in its FIGURES table.
"""

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
            options=format_options(config["figure_options"].get(figure_name, {})),
            code=figure_code(figure_name),
        localrule: True
        conda:
            ENV
        log:
            log_path("figure", figure_name),
        benchmark:
            bench_path("figure", figure_name)
        threads: 1
        shell:
            "crossclass --threads {threads} figure {params.name:q} --inputs {input:q} "
            "--out {output.pdf:q} {params.options} > {log:q} 2>&1"
