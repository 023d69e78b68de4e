"""The bump width of the paper's log spectra: M = 2048 Ritz nodes on a K = 1024 grid (D.2).

sigma = 2 / ((M - 1) sqrt(8 log kappa)) in the normalised coordinate, where the grid spacing is
2 / (K - 1): at M = 2048 and K = 1024 a bump spans a grid spacing only for kappa <= 1.03. For
several kappa (and K), the log-spectrum of log(|lambda| + 1e-5) of a diagonal operator with a
G-like spectrum (p = 50,000: a bulk log-uniform over [1e-6, 1], a mini-bulk of C^2 - C = 90 in
[1, 5], C = 10 outliers in [20, 40]) from one start vector (n_vec = 1, as in D.2): sigma over
the grid spacing, the integral of the density on its grid (1 when the grid resolves the bumps)
and W1 to the exact log-eigenvalues, mean over --seeds start-vector seeds. Writes
benchmarks/results/log_kappa.md.

    python benchmarks/log_kappa.py [--seeds 3]
"""

from __future__ import annotations

import argparse
import math
import platform
from pathlib import Path

import numpy as np
import torch
from crossclass.linalg import estimate_spectrum, wasserstein1
from crossclass.linalg.operator import LinearOperator

RESULTS = Path(__file__).resolve().parent / "results"
CASES = [(3.0, 1024), (1.2, 1024), (1.05, 1024), (1.02, 1024), (1.01, 1024), (3.0, 8192),
         (1.2, 4096)]
EPS, M, P = 1e-5, 2048, 50_000


class Diagonal(LinearOperator):
    def __init__(self, d: torch.Tensor):
        self.d = d

    shape = property(lambda self: (self.d.numel(), self.d.numel()))
    dtype = property(lambda self: self.d.dtype)
    device = property(lambda self: self.d.device)
    symmetric = True

    def matmat(self, V: torch.Tensor) -> torch.Tensor:
        return self.d[:, None] * V


def spectrum(seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    bulk = torch.empty(P - 100, dtype=torch.float64).uniform_(math.log(1e-6), 0, generator=g)
    return torch.cat([bulk.exp(), torch.empty(90, dtype=torch.float64).uniform_(1, 5, generator=g),
                      torch.linspace(20, 40, 10, dtype=torch.float64)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    eigenvalues = spectrum()
    op, u = Diagonal(eigenvalues), torch.log(eigenvalues + EPS)
    rows = []
    for kappa, K in CASES:
        integrals, w1s = [], []
        for seed in range(args.seeds):
            est = estimate_spectrum(op, progress=False, M=M, n_vec=1, K=K, kappa=kappa,
                                    log=True, eps=EPS, seed=seed)
            integrals.append(float(np.trapezoid(est.density.numpy(), est.grid.numpy())))
            w1s.append(wasserstein1(est.grid, est.density, u))
        ratio = est.params["sigma"] / (2 / (K - 1))
        rows.append(f"| {kappa:g} | {K} | {ratio:.2f} | {np.mean(integrals):.3f} | "
                    f"{np.mean(w1s):.3f} |")
        print(rows[-1], flush=True)
    text = "\n".join([
        "# Log spectra at M = 2048: the bump width against the grid", "",
        f"`python benchmarks/log_kappa.py --seeds {args.seeds}`: {platform.machine()}, torch "
        f"{torch.__version__}, float64, p = {P:,} (bulk log-uniform on [1e-6, 1], 90 in [1, 5], "
        f"10 in [20, 40]), M = {M}, n_vec = 1, eps = {EPS:g}, tau = 0.05; mean over "
        f"{args.seeds} start-vector seeds. W1 in units of log(|lambda| + eps) (the bulk spans "
        "about 14).", "",
        "| kappa | K | sigma / grid spacing | integral on the grid | W1 |",
        "|---|---|---|---|---|", *rows, "",
        "Below one grid spacing the grid samples the density between the Ritz nodes: the "
        "integral is off and W1 grows (kappa 3, the value D.2 gives for the linear spectra, "
        "is 0.17 spacings wide here). kappa <= 1.03 at K = 1024, or K >= 8192 at kappa 3, "
        "resolves the bumps.", ""])
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "log_kappa.md").write_text(text)


if __name__ == "__main__":
    main()
