"""crossclass: class / cross-class decomposition of deep-learning spectra.

Subpackages, one concept each:
  linalg     matrix-free operators and the Lanczos family (Appendix C)
  commands   the `crossclass` console subcommands that the Snakemake rules call
"""

__version__ = "0.1.0"
