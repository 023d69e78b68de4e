"""Neural-collapse metrics of features grouped by class (Papyan, Han & Donoho 2020).

From h (C, n, d): class means mu_c, global mean mu_G = Ave_c mu_c, centred means
M = [mu_c - mu_G] (C, d), Sigma_W = Ave_{i,c} (h - mu_c)(h - mu_c)^T, Sigma_B = M^T M / C.
  nc1              tr(Sigma_W Sigma_B^+) / C, via the SVD of M (never d x d)
  equinorm         std_c |M_c| / mean_c |M_c| (coefficient of variation, population std)
  equiangular_std  std of cos(M_c, M_c') over pairs c < c'
  equiangular_shift Ave_{c < c'} |cos(M_c, M_c') + 1/(C-1)|  (0 for a simplex ETF)
  self_duality     | W/|W| - M/|M| |^2 (Frobenius) with the classifier W (C, d) fed by h
  ncc_agreement    fraction of examples where argmin_c |h - mu_c| equals the network's prediction
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from crossclass.errors import UserError


@dataclass
class CollapseMetrics:
    """Scalar tensors; self_duality / ncc_agreement are NaN when W / predictions are not given."""

    nc1: torch.Tensor
    equinorm: torch.Tensor
    equiangular_std: torch.Tensor
    equiangular_shift: torch.Tensor
    self_duality: torch.Tensor
    ncc_agreement: torch.Tensor


def range_basis(mu: torch.Tensor, rtol: float = 1e-10) -> tuple[torch.Tensor, torch.Tensor]:
    """(V (r, d), S (r,)): the right singular vectors and values of the centred class means
    M = mu - Ave_c mu_c (mu (C, d)) above rtol * max S; range(Sigma_B) = span of V's rows."""
    M = mu - mu.mean(dim=0)
    _, S, Vh = torch.linalg.svd(M, full_matrices=False)
    keep = S > rtol * S.max() if S.max() > 0 else torch.zeros_like(S, dtype=torch.bool)
    return Vh[keep], S[keep]


def from_class_means(mu: torch.Tensor, within_on_range: torch.Tensor, S: torch.Tensor, *,
                     classifier: torch.Tensor | None = None,
                     ncc_agreement: torch.Tensor | None = None) -> CollapseMetrics:
    """The metrics from the class means mu (C, d), the within-class variances Ave_{i,c}
    (v_k . (h - mu_c))^2 (r,) along the rows v_k of `range_basis(mu)` with their singular
    values S (r,), the classifier (C, d) or None and the NCC agreement or None."""
    C, d = mu.shape
    M = mu - mu.mean(dim=0)
    nc1 = (within_on_range * C / S.pow(2)).sum() / C
    norms = torch.linalg.norm(M, dim=1)
    Mn = M / norms[:, None]
    iu = torch.triu_indices(C, C, offset=1, device=mu.device)
    cos = (Mn @ Mn.T)[iu[0], iu[1]]
    nan = torch.tensor(math.nan, dtype=mu.dtype, device=mu.device)
    duality = nan
    if classifier is not None:
        if classifier.shape != (C, d):
            raise UserError(f"classifier must have shape {(C, d)}, got {tuple(classifier.shape)}")
        Wc = classifier.to(mu.dtype)
        duality = (Wc / torch.linalg.norm(Wc) - M / torch.linalg.norm(M)).pow(2).sum()
    return CollapseMetrics(
        nc1=nc1,
        equinorm=norms.std(unbiased=False) / norms.mean(),
        equiangular_std=cos.std(unbiased=False),
        equiangular_shift=(cos + 1 / (C - 1)).abs().mean(),
        self_duality=duality,
        ncc_agreement=nan if ncc_agreement is None else ncc_agreement,
    )


def nearest_centre_matches(h: torch.Tensor, mu: torch.Tensor,
                           predictions: torch.Tensor) -> torch.Tensor:
    """How many rows of h (m, d) have argmin_c |h - mu_c| equal to predictions (m,)."""
    nearest = torch.cdist(h, mu).argmin(dim=1)
    return (nearest == predictions.to(h.device)).sum()


def collapse_metrics(
    h: torch.Tensor,
    *,
    classifier: torch.Tensor | None = None,
    predictions: torch.Tensor | None = None,
    rtol: float = 1e-10,
) -> CollapseMetrics:
    """Metrics of features h (C, n, d); classifier (C, d) the last layer's weight; predictions
    (C, n) the network's predicted classes; rtol the relative rank tolerance of Sigma_B."""
    if h.ndim != 3 or h.shape[0] < 2:
        raise UserError(f"features must have shape (C >= 2, n, d), got {tuple(h.shape)}")
    C, n, d = h.shape
    mu = h.mean(dim=1)
    V, S = range_basis(mu, rtol)
    within = ((h - mu[:, None]).reshape(-1, d) @ V.T).pow(2).mean(dim=0)
    ncc = None
    if predictions is not None:
        if predictions.shape != (C, n):
            raise UserError(f"predictions must have shape {(C, n)}, "
                            f"got {tuple(predictions.shape)}")
        matches = nearest_centre_matches(h.reshape(-1, d), mu, predictions.reshape(-1))
        ncc = matches.to(h.dtype) / (C * n)
    return from_class_means(mu, within, S, classifier=classifier, ncc_agreement=ncc)
