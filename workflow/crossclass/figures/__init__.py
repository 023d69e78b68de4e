"""Figures of the paper, one module per figure: `draw(inputs, output, **options)`.

`inputs` are store paths (in the order the figure's rule lists them), `output` the PDF path; a
PNG is written beside it. `crossclass figure NAME` finds the module crossclass.figures.NAME.
"""
