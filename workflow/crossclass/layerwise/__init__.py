"""Layer-wise objects of section 7: features, backpropagated errors, G^l, KFAC/CFAC, weights.

  capture     one data pass: per-example inputs h^{l-1} and extended errors delta^l
  features    H, H_class, H_within, H_c
  deltas      Delta and its class / cross-class decomposition, Delta_c
  kronecker   G^l, KFAC^l, CFAC^l as matrix-free operators; the KFAC spectrum
  weights     W_stat, W_class, W_within and the stationarity residual
  khatri_rao  g_c ~ delta_c h_c^T and g_{c,c'} ~ delta_{c,c'} h_c^T
  conv        nn.Conv2d layers (KFC): patches, per-location errors, exact G^l, pooled factors
  analysis    everything per layer, and an xarray.Dataset per layer
  streaming   the same LayerAnalysis of one Linear or Conv2d layer in two passes, O(d^2) memory
"""

from crossclass.layerwise.analysis import LayerAnalysis, analyse, analyse_conv, layer_dataset
from crossclass.layerwise.capture import Capture, LayerCapture, capture
from crossclass.layerwise.deltas import ErrorStats, error_stats
from crossclass.layerwise.features import FeatureStats, feature_stats
from crossclass.layerwise.khatri_rao import KhatriRaoQuality, khatri_rao_quality
from crossclass.layerwise.kronecker import cfac, kfac, kfac_spectrum, layer_g, relative_errors
from crossclass.layerwise.streaming import stream_layer
from crossclass.layerwise.weights import WeightStats, weight_stats

__all__ = [
    "Capture", "ErrorStats", "FeatureStats", "KhatriRaoQuality", "LayerAnalysis",
    "LayerCapture", "WeightStats", "analyse", "analyse_conv", "capture", "cfac", "error_stats",
    "feature_stats", "kfac", "kfac_spectrum", "khatri_rao_quality", "layer_dataset",
    "layer_g", "relative_errors", "stream_layer", "weight_stats",
]
