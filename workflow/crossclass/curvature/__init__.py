"""Curvature of the cross-entropy loss, matrix-free (paper sections 5-6, Appendix A).

  data           LabeledData: a split X (N, ...), y (N,) looped over in batches
  functional     ModelFunction: logits as a function of a flat parameter vector (any group)
  products       Hess, G (eq. 5.1) and E = Hess - G (eq. 5.2) as LinearOperators
  means          extended-gradient cross-class means g_{c,c'}, class means g_c, weights,
                 the per-class traces of G_within
  decomposition  G = G_class + G_cross + G_within + G_{c=c'} (eq. 6.4) and knockouts
  distributed    the data sharded over torch.distributed ranks, one all_reduce per product
"""

from crossclass.curvature.data import LabeledData
from crossclass.curvature.decomposition import GDecomposition, g_decomposition
from crossclass.curvature.functional import ModelFunction
from crossclass.curvature.means import (
    ExtendedMeans,
    class_gradient_traces,
    extended_gradient_means,
)
from crossclass.curvature.products import (
    gauss_newton_operator,
    hessian_operator,
    residual_operator,
)

__all__ = [
    "ExtendedMeans",
    "GDecomposition",
    "LabeledData",
    "ModelFunction",
    "class_gradient_traces",
    "extended_gradient_means",
    "g_decomposition",
    "gauss_newton_operator",
    "hessian_operator",
    "residual_operator",
]
