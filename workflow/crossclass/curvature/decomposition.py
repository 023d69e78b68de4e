"""The class / cross-class decomposition of G (eq. 6.4, corrected: docs/curvature.md) and knockouts.

From the cross-class means g_{c,c'} (p,), the class means g_c and the weights w_{c,c'}, w_c:
  G_class  = sum_c w_c g_c g_c^T                                    rank <= C
  G_cross  = sum_c sum_{c' != c} w_{c,c'} (g_{c,c'} - g_c)(.)^T       rank <= C(C-2)
             (ERRATUM: the paper's G_cross,c writes g_{c'}; only g_c makes eq. 6.4 exact)
  G_{c=c'} = sum_c w_{c,c} g_{c,c} g_{c,c}^T                         rank <= C
  G_within = G - G_class - G_cross - G_{c=c'}                        (matrix-free)
The three low-rank parts are crossclass.linalg.LowRankOperator(U (p, r), s (r,)) = U diag(s) U^T,
factors only, each carrying ||G||_est (20 Lanczos products on G, on first use, shared) as the
scale its rank is judged against: for C = 2, G_cross = 0 and its factor is round-off.
Knockouts (section 3): subtraction G - B, and projection (I - Q Q^T) G (I - Q Q^T) with Q an
orthonormal basis of the range of a low-rank part (crossclass.linalg's projection_knockout);
G_within is full rank in general, so it is knocked out by subtraction only.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import torch

from crossclass.curvature.means import ExtendedMeans
from crossclass.errors import UserError
from crossclass.linalg import LinearOperator, LowRankOperator, projection_knockout
from crossclass.linalg.algebra import operator_scale

COMPONENTS = ("class", "cross", "within", "same")


@dataclass(frozen=True)
class GDecomposition:
    """G = G_class + G_cross + G_within + G_{c=c'} (eq. 6.4), each a (p, p) operator."""

    G: LinearOperator
    class_: LowRankOperator
    cross: LowRankOperator
    same: LowRankOperator
    within: LinearOperator
    scale: Callable[[], float]  # ||G||_est (operator_scale), computed once on first call

    def component(self, name: str) -> LinearOperator:
        """One of 'class', 'cross', 'within', 'same' (G_{c=c'})."""
        if name not in COMPONENTS:
            raise UserError(f"unknown component {name!r}; choose one of {list(COMPONENTS)}")
        return self.class_ if name == "class" else getattr(self, name)

    def knockout(self, name: str, how: str = "subtraction",
                 rtol: float | None = None) -> LinearOperator:
        """G with component `name` knocked out: how='subtraction' (G - B) or 'projection'."""
        B = self.component(name)
        if how == "subtraction":
            return self.G - B
        if how != "projection":
            raise UserError(f"unknown knockout {how!r}; choose 'subtraction' or 'projection'")
        if not isinstance(B, LowRankOperator):
            raise UserError(f"projection knockout needs a low-rank component; G_{name} is "
                            "not low-rank, knock it out by subtraction")
        return projection_knockout(self.G, B, rtol=rtol, scale=self.scale())


def g_decomposition(G: LinearOperator, means: ExtendedMeans) -> GDecomposition:
    """Split G (p, p) (eq. 5.1 on the same data and parameters) with the means of `means`."""
    p, C = means.means.shape[0], means.num_classes
    if G.shape != (p, p):
        raise UserError(f"G has shape {G.shape} but the means have p = {p}")
    g, w = means.means.to(G.dtype), means.weights.to(G.dtype)
    g_c = means.class_means().to(G.dtype)  # (p, C)
    off = ~torch.eye(C, dtype=torch.bool, device=w.device)
    cross = (g - g_c[:, :, None])[:, off]  # (p, C(C-1)): g_{c,c'} - g_c, c' != c, row-major
    scale = functools.cache(lambda: operator_scale(G))
    parts = dict(
        class_=LowRankOperator(g_c, means.class_weights().to(G.dtype), scale=scale),
        cross=LowRankOperator(cross, w[off], scale=scale),
        same=LowRankOperator(g.diagonal(dim1=1, dim2=2), w.diagonal(), scale=scale),
    )
    within = G - parts["class_"] - parts["cross"] - parts["same"]
    return GDecomposition(G=G, within=within, scale=scale, **parts)
