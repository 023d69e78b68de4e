"""Datasets as in-memory splits, balanced subsampling, and input adaptation (Appendix D).

Modules, one concept each:
  base       ArraySplits, the contract every dataset plugin returns
  normalize  per-channel standardisation with train-split statistics
  vision     mnist, fashion_mnist, cifar10, cifar100 (torchvision's loaders)
  digits     scikit-learn's bundled digits (embedded default, no download)
  synthetic  gmm (Gaussian mixture) and ccm (section 8, via crossclass.mlr)
  adapt      adapt_inputs: images to 32x32 for convolutional nets
  subsample  balanced subsets, the index store and load_subset
PAPER_SAMPLE_SIZES and log_spaced_sizes live in crossclass.sample_sizes (numpy only, so that
the command line names them without importing torch) and are re-exported here.
"""

from crossclass.data.adapt import adapt_inputs
from crossclass.data.base import ArraySplits
from crossclass.data.subsample import load_subset, subsample, write_subset
from crossclass.sample_sizes import PAPER_SAMPLE_SIZES, log_spaced_sizes

__all__ = ["PAPER_SAMPLE_SIZES", "ArraySplits", "adapt_inputs", "load_subset",
           "log_spaced_sizes", "subsample", "write_subset"]
