"""Matrix-free linear operators on flat torch tensors.

An operator A: R^n -> R^m is given by its block product `matmat(X)`, X of shape (n, k) ->
(m, k): k vectors in one call, so that a curvature operator can push many vectors through one
data pass. Single vectors of shape (n,) go through `matvec`. The transpose product `rmatmat`
is needed only for non-square operators (projection knockouts). Operators never hold an
n x m matrix unless built from one (`DenseOperator`) or materialised on purpose (`to_dense`).
"""

from __future__ import annotations

from collections.abc import Callable

import torch

Block = Callable[[torch.Tensor], torch.Tensor]


class LinearOperator:
    """A linear map given by its action on a block of column vectors.

    shape: (m, n). matmat: (n, k) -> (m, k). rmatmat: (m, k) -> (n, k), the transpose's
    product (defaults to matmat when the operator is symmetric).
    """

    def __init__(
        self,
        shape: tuple[int, int],
        matmat: Block,
        *,
        rmatmat: Block | None = None,
        symmetric: bool = True,
        dtype: torch.dtype = torch.float64,
        device: torch.device | str = "cpu",
    ):
        if symmetric and shape[0] != shape[1]:
            raise ValueError(f"a symmetric operator must be square, got shape {shape}")
        self.shape = (int(shape[0]), int(shape[1]))
        self._matmat = matmat
        self._rmatmat = rmatmat if rmatmat is not None else (matmat if symmetric else None)
        self.symmetric = symmetric
        self.dtype = dtype
        self.device = torch.device(device)

    @classmethod
    def from_function(
        cls,
        fn: Block,
        dim: int,
        *,
        block: bool = True,
        dtype: torch.dtype = torch.float64,
        device: torch.device | str = "cpu",
    ) -> LinearOperator:
        """A symmetric operator from a function on flat tensors.

        With block=True, fn maps (dim, k) -> (dim, k); otherwise fn maps (dim,) -> (dim,) and
        blocks are applied column by column.
        """
        if block:
            return cls((dim, dim), fn, dtype=dtype, device=device)

        def columns(X: torch.Tensor) -> torch.Tensor:
            return torch.stack([fn(x) for x in X.T], dim=1)

        return cls((dim, dim), columns, dtype=dtype, device=device)

    # ---- products -------------------------------------------------------------------------
    def matmat(self, X: torch.Tensor) -> torch.Tensor:
        """A @ X for X of shape (n, k)."""
        if X.ndim != 2 or X.shape[0] != self.shape[1]:
            raise ValueError(f"operator of shape {self.shape} cannot multiply a block of shape "
                             f"{tuple(X.shape)}; expected ({self.shape[1]}, k)")
        return self._matmat(X)

    def rmatmat(self, Y: torch.Tensor) -> torch.Tensor:
        """A^T @ Y for Y of shape (m, k)."""
        if self._rmatmat is None:
            raise NotImplementedError("this operator has no transpose product")
        if Y.ndim != 2 or Y.shape[0] != self.shape[0]:
            raise ValueError(f"transpose of operator of shape {self.shape} cannot multiply a "
                             f"block of shape {tuple(Y.shape)}; expected ({self.shape[0]}, k)")
        return self._rmatmat(Y)

    def matvec(self, x: torch.Tensor) -> torch.Tensor:
        """A @ x for x of shape (n,)."""
        return self.matmat(x.reshape(-1, 1)).reshape(-1)

    def __matmul__(self, X: torch.Tensor) -> torch.Tensor:
        return self.matvec(X) if X.ndim == 1 else self.matmat(X)

    @property
    def T(self) -> LinearOperator:
        if self.symmetric:
            return self
        return LinearOperator((self.shape[1], self.shape[0]), self.rmatmat, rmatmat=self.matmat,
                              symmetric=False, dtype=self.dtype, device=self.device)

    def to_dense(self, chunk: int = 256) -> torch.Tensor:
        """Materialise A (m x n) by applying it to identity columns. Exact/dense paths only."""
        n = self.shape[1]
        cols = []
        for start in range(0, n, chunk):
            stop = min(start + chunk, n)
            E = torch.zeros(n, stop - start, dtype=self.dtype, device=self.device)
            E[torch.arange(start, stop), torch.arange(stop - start)] = 1
            cols.append(self.matmat(E))
        return torch.cat(cols, dim=1)

    # ---- algebra --------------------------------------------------------------------------
    def _like(self, matmat: Block, rmatmat: Block | None, symmetric: bool) -> LinearOperator:
        return LinearOperator(self.shape, matmat, rmatmat=rmatmat, symmetric=symmetric,
                              dtype=self.dtype, device=self.device)

    def __add__(self, other: LinearOperator) -> LinearOperator:
        _check_same_shape(self, other)
        sym = self.symmetric and other.symmetric
        rm = None if sym else (lambda Y: self.rmatmat(Y) + other.rmatmat(Y))
        return self._like(lambda X: self.matmat(X) + other.matmat(X), rm, sym)

    def __sub__(self, other: LinearOperator) -> LinearOperator:
        """Subtraction knockout A - B (Definition 3.1)."""
        _check_same_shape(self, other)
        sym = self.symmetric and other.symmetric
        rm = None if sym else (lambda Y: self.rmatmat(Y) - other.rmatmat(Y))
        return self._like(lambda X: self.matmat(X) - other.matmat(X), rm, sym)

    def __mul__(self, alpha: float) -> LinearOperator:
        alpha = float(alpha)
        rm = None if self.symmetric else (lambda Y: alpha * self.rmatmat(Y))
        return self._like(lambda X: alpha * self.matmat(X), rm, self.symmetric)

    __rmul__ = __mul__

    def __neg__(self) -> LinearOperator:
        return self * -1.0

    def shift(self, c: float) -> LinearOperator:
        """A - c I (square operators)."""
        if self.shape[0] != self.shape[1]:
            raise ValueError("shift needs a square operator")
        c = float(c)
        rm = None if self.symmetric else (lambda Y: self.rmatmat(Y) - c * Y)
        return self._like(lambda X: self.matmat(X) - c * X, rm, self.symmetric)


def _check_same_shape(a: LinearOperator, b: LinearOperator) -> None:
    if a.shape != b.shape:
        raise ValueError(f"operator shapes differ: {a.shape} vs {b.shape}")
