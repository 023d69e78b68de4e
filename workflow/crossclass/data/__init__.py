"""Datasets as in-memory splits, balanced subsampling, and input adaptation (Appendix D).

Modules, one concept each:
  base       ArraySplits, the contract every dataset plugin returns
  normalize  per-channel standardisation with train-split statistics
  vision     mnist, fashion_mnist, cifar10, cifar100 (torchvision's loaders)
  digits     scikit-learn's bundled digits (embedded default, no download)
  synthetic  gmm (Gaussian mixture) and ccm (section 8, via crossclass.mlr)
  adapt      adapt_inputs: images to 32x32 for convolutional nets
  sizes      PAPER_SAMPLE_SIZES, log_spaced_sizes (numpy only)
  subsample  balanced subsets, the index store and load_subset

Names are imported on first use (PEP 562), so that `crossclass --help` needs no torch. The
function `subsample` is imported from its module (crossclass.data.subsample): as a package
attribute it would be shadowed by that submodule once imported.
"""

import importlib

_HOME = {"adapt_inputs": "adapt", "ArraySplits": "base", "PAPER_SAMPLE_SIZES": "sizes",
         "log_spaced_sizes": "sizes", "load_subset": "subsample", "write_subset": "subsample"}


def __getattr__(name: str):
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_HOME[name]}"), name)


__all__ = ["PAPER_SAMPLE_SIZES", "ArraySplits", "adapt_inputs", "load_subset",
           "log_spaced_sizes", "write_subset"]
