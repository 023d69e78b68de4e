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
    M = mu - mu.mean(dim=0)
    centred = h - mu[:, None]
    U, S, Vh = torch.linalg.svd(M, full_matrices=False)
    keep = S > rtol * S.max() if S.max() > 0 else torch.zeros_like(S, dtype=torch.bool)
    proj = centred.reshape(-1, d) @ Vh[keep].T                # coordinates on range(Sigma_B)
    nc1 = (proj.pow(2).mean(dim=0) * C / S[keep].pow(2)).sum() / C
    norms = torch.linalg.norm(M, dim=1)
    Mn = M / norms[:, None]
    iu = torch.triu_indices(C, C, offset=1, device=h.device)
    cos = (Mn @ Mn.T)[iu[0], iu[1]]
    nan = torch.tensor(math.nan, dtype=h.dtype, device=h.device)
    duality = ncc = nan
    if classifier is not None:
        if classifier.shape != (C, d):
            raise UserError(f"classifier must have shape {(C, d)}, got {tuple(classifier.shape)}")
        Wc = classifier.to(h.dtype)
        duality = (Wc / torch.linalg.norm(Wc) - M / torch.linalg.norm(M)).pow(2).sum()
    if predictions is not None:
        if predictions.shape != (C, n):
            raise UserError(f"predictions must have shape {(C, n)}, "
                            f"got {tuple(predictions.shape)}")
        nearest = torch.cdist(h.reshape(-1, d), mu).argmin(dim=1)
        ncc = (nearest == predictions.reshape(-1).to(h.device)).to(h.dtype).mean()
    return CollapseMetrics(
        nc1=nc1,
        equinorm=norms.std(unbiased=False) / norms.mean(),
        equiangular_std=cos.std(unbiased=False),
        equiangular_shift=(cos + 1 / (C - 1)).abs().mean(),
        self_duality=duality,
        ncc_agreement=ncc,
    )
