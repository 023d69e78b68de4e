"""Datasets as in-memory splits, balanced subsampling, and input adaptation (Appendix D).

Modules, one concept each:
  base       ArraySplits, the contract every dataset plugin returns
  normalize  per-channel standardisation with train-split statistics
  vision     mnist, fashion_mnist, cifar10, cifar100 (torchvision's loaders)
  digits     scikit-learn's bundled digits (embedded default, no download)
  synthetic  gmm (Gaussian mixture) and ccm (section 8, via crossclass.mlr)
  adapt      adapt_inputs: images to 32x32 for convolutional nets
  subsample  balanced subsets, PAPER_SAMPLE_SIZES, the index store and load_subset
"""

from crossclass.data.adapt import adapt_inputs
from crossclass.data.base import ArraySplits
from crossclass.data.subsample import (
    PAPER_SAMPLE_SIZES,
    load_subset,
    log_spaced_sizes,
    subsample,
    write_subset,
)

__all__ = ["PAPER_SAMPLE_SIZES", "ArraySplits", "adapt_inputs", "load_subset",
           "log_spaced_sizes", "subsample", "write_subset"]
