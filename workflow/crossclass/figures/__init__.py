"""Figures of the paper, one module per figure: `draw(inputs, output, **options)`.

`inputs` are store paths (in the order the figure's rule lists them), `output` the PDF path; a
PNG is written beside it. `draw` returns the saved (closed) matplotlib Figure, whose artists
carry what was drawn. `crossclass figure NAME` finds the module crossclass.figures.NAME.
"""
