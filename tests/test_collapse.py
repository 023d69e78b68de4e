"""Neural-collapse metrics on constructed features with known answers, and NC1 against a dense
pseudo-inverse."""

import math

import pytest
import torch
from crossclass.collapse import collapse_metrics
from crossclass.errors import UserError

C, N, D = 4, 5, 7


def etf_features(spread=0.0, seed=0):
    """Class means mu_G + ETF_c embedded in R^D (random orthonormal frame); examples are
    the mean plus `spread` times Gaussian noise. Returns h (C, N, D) and centred means (C, D)."""
    g = torch.Generator().manual_seed(seed)
    etf = math.sqrt(C / (C - 1)) * (torch.eye(C, dtype=torch.float64) - 1 / C)
    Q, _ = torch.linalg.qr(torch.randn(D, C, generator=g, dtype=torch.float64))
    M = etf @ Q.T
    mu_G = torch.randn(D, generator=g, dtype=torch.float64)
    noise = torch.randn(C, N, D, generator=g, dtype=torch.float64)
    return (mu_G + M)[:, None, :] + spread * noise, M - M.mean(0)


def test_simplex_etf_without_spread_is_fully_collapsed():
    h, M = etf_features()
    labels = torch.arange(C)[:, None].expand(C, N)
    nc = collapse_metrics(h, classifier=2.5 * M, predictions=labels)
    for value in (nc.nc1, nc.equinorm, nc.equiangular_std, nc.equiangular_shift, nc.self_duality):
        assert abs(float(value)) < 1e-12
    assert float(nc.ncc_agreement) == 1.0


def test_known_equinorm_angles_self_duality_and_agreement():
    """Centred means [s1 u, -s1 u, s2 v, -s2 v] (u orthogonal to v, rows sum to zero): norms
    (s1, s1, s2, s2); pairwise cosines (-1, 0, 0, 0, 0, -1) with std sqrt(2/9) and mean
    |cos + 1/3| = 4/9."""
    s1, s2 = 1.0, 3.0
    u, v = torch.eye(D, dtype=torch.float64)[:2]
    M = torch.stack([s1 * u, -s1 * u, s2 * v, -s2 * v])
    h = (M + 5.0)[:, None, :].expand(C, N, D)
    predictions = torch.arange(C)[:, None].expand(C, N).clone()
    predictions[0, :2] = 1                                     # 2 of C N disagree with the NCC
    nc = collapse_metrics(h, classifier=-M, predictions=predictions)
    norms = torch.tensor([s1, s1, s2, s2])
    assert abs(float(nc.equinorm) - float(norms.std(unbiased=False) / norms.mean())) < 1e-12
    assert abs(float(nc.equiangular_std) - math.sqrt(2 / 9)) < 1e-12
    assert abs(float(nc.equiangular_shift) - 4 / 9) < 1e-12
    assert abs(float(nc.self_duality) - 4.0) < 1e-12           # |-a - a|^2 for a unit a
    assert float(nc.ncc_agreement) == 1 - 2 / (C * N)
    assert abs(float(nc.nc1)) < 1e-12
    assert math.isnan(float(collapse_metrics(h).self_duality))


def test_nc1_and_angles_match_dense_definitions():
    h, _ = etf_features(spread=0.7, seed=3)
    h = h + 0.3 * torch.randn(h.shape, generator=torch.Generator().manual_seed(4),
                              dtype=torch.float64)[:, :1]     # perturb the means off the ETF
    mu = h.mean(1)
    M = mu - mu.mean(0)
    Sw = torch.einsum("cni,cnj->ij", h - mu[:, None], h - mu[:, None]) / (C * N)
    Sb = M.T @ M / C
    nc1 = torch.trace(Sw @ torch.linalg.pinv(Sb, hermitian=True, rtol=1e-10)) / C
    cos = torch.nn.functional.cosine_similarity(M[:, None], M[None], dim=-1)
    pairs = cos[torch.triu_indices(C, C, 1).unbind()]
    nc = collapse_metrics(h)
    assert abs(float(nc.nc1) - float(nc1)) < 1e-10 * float(nc1)
    assert abs(float(nc.equiangular_std) - float(pairs.std(unbiased=False))) < 1e-12
    assert abs(float(nc.equiangular_shift) - float((pairs + 1 / (C - 1)).abs().mean())) < 1e-12
    assert float(nc.nc1) > 0.01 and float(nc.equiangular_shift) > 1e-3


def test_bad_shapes_are_user_errors():
    h, M = etf_features()
    with pytest.raises(UserError, match="shape"):
        collapse_metrics(h[0])
    with pytest.raises(UserError, match="classifier"):
        collapse_metrics(h, classifier=M[:, :2])
    with pytest.raises(UserError, match="predictions"):
        collapse_metrics(h, predictions=torch.zeros(C, dtype=torch.long))
