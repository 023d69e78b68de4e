"""The two synthetic matrices of Figure 15, which verify the spectral estimators.

(a) X + Z Z^T / p with X = diag(5, 4, 3, 0, ..., 0) and Z (p x p) standard normal
    (p = 2000): a Marchenko-Pastur bulk on [0, 4] and three outliers.
(b) Y = Z Z^T / n with Z (p x n) i.i.d. classical Pareto(alpha = 1, x_m = 1), i.e. 1 + Lomax
    (p = 500, n = 1000): full rank, power-law spectrum over many decades.
Both are built in float64 on the CPU from a seeded torch.Generator, then moved.
"""

from __future__ import annotations

import torch

from crossclass.stores import StoreSchema

# the store this module writes and reads (docs/stores.md is rendered from it)
SCHEMA = StoreSchema(
    variables=(
        (('Y',), '(row, col)', 'the symmetric Figure-15 matrix, float64, chunks 500 x 500'),
        (('eigenvalues',), '(eigen,)', '`eigvalsh(Y)`, ascending (dense, exact)'),
    ),
    notes=('Keys: `matrix` (`fig15a` or `fig15b`). params: `matrix`, `seed`, `p` (and `n` for '
           'fig15b).'),
)


def fig15a_matrix(seed: int = 0, p: int = 2000, *, dtype: torch.dtype = torch.float64,
                  device: torch.device | str = "cpu") -> torch.Tensor:
    """Symmetric (p, p): diag(5, 4, 3, 0, ...) + Z Z^T / p, Z (p, p) standard normal."""
    g = torch.Generator().manual_seed(seed)
    Z = torch.randn(p, p, generator=g, dtype=torch.float64)
    Y = Z @ Z.T / p
    Y[range(3), range(3)] += torch.tensor([5.0, 4.0, 3.0], dtype=torch.float64)
    return Y.to(dtype=dtype, device=device)


def fig15b_matrix(seed: int = 0, p: int = 500, n: int = 1000, *,
                  dtype: torch.dtype = torch.float64,
                  device: torch.device | str = "cpu") -> torch.Tensor:
    """Symmetric (p, p): Z Z^T / n, Z (p, n) i.i.d. Pareto(alpha=1, x_m=1) = 1 / (1 - U),
    U uniform on [0, 1)."""
    g = torch.Generator().manual_seed(seed)
    Z = 1.0 / (1.0 - torch.rand(p, n, generator=g, dtype=torch.float64))
    return (Z @ Z.T / n).to(dtype=dtype, device=device)
