"""Section-7 knockout spectra of one layer, from its layers-store matrices (read_layer).

Projection knockout (docs/linalg.md): A ⊯ B = (I - U U^T) A (I - V V^T), U, V the left /
right singular vectors of B for non-zero singular values (`linalg.projection_knockout`); for the
(d_out, d_in) weights the right factor is I - B^+ B. Everything is dense: d_in, d_out <= a few
thousand. Spectra are descending; eigenvalues of PSD matrices, singular values of W.

  H                    H^{l-1}, H_class, H ⊯ H_class, H ⊯ h_G h_G^T (h_G = Ave_c h_c)  Figs. 7-8
  Delta                Delta^l, Delta_class, Delta_class + Delta_cross and the knockouts
                       Delta ⊯ Delta_class, Delta ⊯ (Delta_class + Delta_cross)        Figs. 9-10
  W                    sigma(W^l), sigma(W_class), sigma(W ⊯ W_class)                   Fig. 13
"""

from __future__ import annotations

import numpy as np
import torch
import xarray as xr

from crossclass.linalg import DenseOperator
from crossclass.linalg.algebra import projection_knockout


def knockout(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """A ⊯ B as a dense (m, n) array (float64)."""
    At = torch.as_tensor(np.asarray(A, dtype=np.float64))
    op = projection_knockout(DenseOperator(At), torch.as_tensor(np.asarray(B, np.float64)))
    return op.matmat(torch.eye(At.shape[1], dtype=torch.float64)).numpy()


def eigenvalues(A: np.ndarray) -> np.ndarray:
    """Eigenvalues of the symmetric part of A, descending."""
    return np.linalg.eigvalsh((A + A.T) / 2)[::-1]


def singular_values(A: np.ndarray) -> np.ndarray:
    """Singular values of A, descending."""
    return np.linalg.svd(A, compute_uv=False)


def feature_spectra(lay: xr.Dataset) -> dict[str, np.ndarray]:
    """H, H_class, H-minus-class (H ⊯ H_class), H-minus-mean (H ⊯ h_G h_G^T)."""
    H, H_class = lay["H"].values, lay["H_class"].values
    h_G = lay["h_c"].values.mean(axis=0)
    return {"H": eigenvalues(H), "H_class": eigenvalues(H_class),
            "H-minus-class": eigenvalues(knockout(H, H_class)),
            "H-minus-mean": eigenvalues(knockout(H, np.outer(h_G, h_G)))}


def error_spectra(lay: xr.Dataset) -> dict[str, np.ndarray]:
    """Delta, Delta_class, Delta_class+cross and Delta-minus-class, Delta-minus-class+cross."""
    D, Dc = lay["Delta"].values, lay["Delta_class"].values
    Dcc = Dc + lay["Delta_cross"].values
    return {"Delta": eigenvalues(D), "Delta_class": eigenvalues(Dc),
            "Delta_class+cross": eigenvalues(Dcc),
            "Delta-minus-class": eigenvalues(knockout(D, Dc)),
            "Delta-minus-class+cross": eigenvalues(knockout(D, Dcc))}


def weight_spectra(lay: xr.Dataset) -> dict[str, np.ndarray]:
    """W, W_class, W-minus-class (W ⊯ W_class, non-square): singular values."""
    W, Wc = lay["W"].values, lay["W_class"].values
    return {"W": singular_values(W), "W_class": singular_values(Wc),
            "W-minus-class": singular_values(knockout(W, Wc))}


def stationarity_residual(lay: xr.Dataset) -> float:
    """||W - W_stat||_F / ||W||_F (zero at a stationary point of the regularised loss)."""
    return float(np.linalg.norm(lay["W_residual"].values) / np.linalg.norm(lay["W"].values))
