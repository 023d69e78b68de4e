"""The extended-gradient means as a store, and the spectra of the low-rank parts of G.

means (param, class, class_b): g_{c,c'} = means[:, c, c'] (p,), true gradient sign; weights
(class, class_b): w_{c,c'} (docs/curvature.md). The p x C^2 array is chunked along `param`.
The low-rank parts of eq. 6.4, U diag(s) U^T with s >= 0, have the non-zero eigenvalues of
the r x r matrix S^{1/2} (U^T U) S^{1/2}; the Gram U^T U is accumulated in float64 over row
chunks, so memory stays O(p r) (the factors) + O(r^2).
"""

from __future__ import annotations

import os

import numpy as np
import torch
import xarray as xr

from crossclass.curvature import ExtendedMeans, GDecomposition
from crossclass.errors import UserError
from crossclass.linalg import LowRankOperator
from crossclass.stores import StoreSchema, read_store

# the store this module writes and reads (docs/stores.md is rendered from it)
SCHEMA = StoreSchema(
    variables=(
        (('means',), '(param, class, class_b)',
         "extended-gradient means g_{c,c'} = `means[:, c, c']` (true gradient sign), chunked"
         ' along `param`'),
        (('weights',), '(class, class_b)', "w_{c,c'}"),
        (('eig_class',), '(rank_class,)', 'eigenvalues of G_class (C, descending)'),
        (('eig_cross',), '(rank_cross,)',
         'eigenvalues of G_cross (C(C-1) factors; rank <= C(C-2))'),
        (('eig_same',), '(rank_same,)', "eigenvalues of G_{c=c'} (C)"),
        (('trace_within',), '(class,)',
         "Tr G_within,c, the class-c terms of G_within (exact: per-example gradients); Figure "
         "6's red dots are (1/N) Tr G_within,c, the mean of its at most N nonzero eigenvalues"),
        (('num_examples',), '()', 'N, the examples of the split'),
        (('eig_lowrank',), '(rank_lowrank,)',
         "eigenvalues of G_class + G_cross + G_{c=c'} (C^2 + C factors; rank <= C^2)"),
    ),
    notes=("`means` is kept only with `analysis.store_means: true` (extract --keep-means; "
           "p C^2 float64 values, 22 GB for VGG11 on CIFAR10); without it a spectra job "
           "computes the means once in memory for all of its G parts. "
           "Keys: `dataset, net, n_per_class, epoch` (the checkpoint's) and `split`. params: "
           '`checkpoint, subset, split, batch_size, float64, p, num_classes, n` (examples per '
           'class of the split).'),
)

CHUNK_ELEMENTS = 1 << 21  # elements per chunk of the means array (16 MiB in float64)
ROW_CHUNK = 1 << 16


def lowrank_eigenvalues(*parts: LowRankOperator) -> torch.Tensor:
    """Eigenvalues (r,) (descending, float64, CPU) of the sum of U_k diag(s_k) U_k^T, s_k >= 0,
    r = total number of columns; the remaining p - r eigenvalues are 0."""
    U = [part.U for part in parts]
    s = torch.cat([part.s for part in parts]).double()
    if bool((s < 0).any()):
        raise UserError("lowrank_eigenvalues needs non-negative weights")
    r = sum(u.shape[1] for u in U)
    gram = torch.zeros(r, r, dtype=torch.float64, device=U[0].device)
    for start in range(0, U[0].shape[0], ROW_CHUNK):
        rows = torch.cat([u[start:start + ROW_CHUNK] for u in U], dim=1).double()
        gram += rows.T @ rows
    root = s.to(gram.device).sqrt()
    core = root[:, None] * gram * root[None, :]
    return torch.linalg.eigvalsh(core).flip(0).cpu()


def means_dataset(means: ExtendedMeans, dec: GDecomposition, within_traces: torch.Tensor,
                  num_examples: int, keep_means: bool = True) -> xr.Dataset:
    """`means` (unless not keep_means: p C^2 values), `weights`, the eigenvalues of G_class
    (eig_class on dim rank_class), G_cross (eig_cross, rank_cross), G_{c=c'} (eig_same,
    rank_same) and their sum (eig_lowrank, rank_lowrank) of the decomposition `dec` of G, and
    `trace_within` (class,): Tr G_within,c (ExtendedMeans.within_traces) and `num_examples`
    (N of the split)."""
    C = means.num_classes
    eig = {
        "eig_class": lowrank_eigenvalues(dec.class_),
        "eig_cross": lowrank_eigenvalues(dec.cross),
        "eig_same": lowrank_eigenvalues(dec.same),
        "eig_lowrank": lowrank_eigenvalues(dec.class_, dec.cross, dec.same),
    }
    data = {"weights": (("class", "class_b"), means.weights.detach().cpu().numpy()),
            "trace_within": (("class",), within_traces.detach().cpu().numpy()),
            "num_examples": ((), num_examples)}
    if keep_means:
        data["means"] = (("param", "class", "class_b"), means.means.detach().cpu().numpy())
    data.update({name: ((name.replace("eig_", "rank_"),), values.numpy())
                 for name, values in eig.items()})
    return xr.Dataset(data, coords={"class": np.arange(C), "class_b": np.arange(C)})


def means_chunks(num_classes: int) -> dict[str, int]:
    """Chunk lengths for write_store: `param` rows per chunk of CHUNK_ELEMENTS elements."""
    return {"param": max(1, CHUNK_ELEMENTS // (num_classes * num_classes))}


def is_means_store(ds: xr.Dataset) -> bool:
    """Whether a read store is a means store (with or without the p x C x C means)."""
    return "eig_lowrank" in ds and "trace_within" in ds


def holds_means(path: str | os.PathLike) -> bool:
    """Whether the means store at `path` kept the p x C x C means (extract --keep-means)."""
    return "means" in read_store(path, ("weights",)).data_vars


def read_means(path: str | os.PathLike, *, p: int, device: torch.device | str,
               dtype: torch.dtype) -> ExtendedMeans:
    """The ExtendedMeans of a means store, checked to have p parameters."""
    ds = read_store(path, ("means", "weights"))
    if ds.sizes["param"] != p:
        raise UserError(f"{path} holds means of {ds.sizes['param']} parameters but the network "
                        f"has {p}; use the means store of the same checkpoint")
    means = torch.as_tensor(ds["means"].values, dtype=dtype, device=device)
    weights = torch.as_tensor(ds["weights"].values, dtype=dtype, device=device)
    return ExtendedMeans(means=means, weights=weights)
