"""A model as a function of one flat parameter vector: logits = f(theta; X).

theta (p,) concatenates (in the model's parameter order) a chosen group of parameters: all of
them, a list of names, or a predicate on (name, parameter), e.g. one layer's weight and bias
for the block G^l. The other parameters stay frozen at their current values. The model is put
in eval mode, so BatchNorm uses its running statistics (Appendix D.3), and evaluated with
torch.func.functional_call, which lets torch.func transform it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cached_property

import torch
from torch.func import functional_call

from crossclass.errors import UserError

ParamSelector = Sequence[str] | Callable[[str, torch.nn.Parameter], bool] | None


class ModelFunction:
    """f(theta; X) -> logits (B, C) of `model`, theta (p,) the selected parameters, flattened.

    Attributes: names (selected parameter names), theta (p,) the evaluation point, device,
    dtype. `model` is switched to eval mode.
    """

    def __init__(self, model: torch.nn.Module, params: ParamSelector = None):
        named = dict(model.named_parameters())
        if params is None:
            selected = list(named)
        elif callable(params):
            selected = [name for name, t in named.items() if params(name, t)]
        else:
            wanted = list(params)
            unknown = [name for name in wanted if name not in named]
            if unknown:
                raise UserError(f"unknown parameter name(s) {unknown}; the model has {list(named)}")
            selected = [name for name in named if name in set(wanted)]
        if not selected:
            raise UserError("the parameter group is empty: no parameter matches the selection")
        dtypes = {named[name].dtype for name in selected}
        if len(dtypes) != 1:
            raise UserError(f"selected parameters mix dtypes {sorted(map(str, dtypes))}")
        model.eval()
        self.model = model
        self.names = tuple(selected)
        self._shapes = [named[name].shape for name in selected]
        ends = torch.tensor([s.numel() for s in self._shapes]).cumsum(0).tolist()
        self._slices = {name: slice(end - shape.numel(), end)
                        for name, shape, end in zip(selected, self._shapes, ends, strict=True)}
        self._frozen = {name: t.detach() for name, t in named.items() if name not in selected}
        self.theta = torch.cat([named[name].detach().reshape(-1) for name in selected])
        self.device = self.theta.device
        self.dtype = self.theta.dtype

    @property
    def p(self) -> int:
        """Number of selected parameters."""
        return int(self.theta.numel())

    @cached_property
    def vectorize_blocks(self) -> bool:
        """Whether block products vmap over their vectors (else: one linearisation per batch,
        applied to one vector at a time). False for a model with convolutions on the CPU,
        where vmapped conv tangents (their weights differ per vector) cost 1.4-1.8x ten
        single products and the linearisation 0.57 (G) to 0.86 (H)
        (benchmarks/results/peers.md); True elsewhere (an MLP block of 10 costs 0.5 of ten
        singles on the CPU)."""
        has_conv = any(isinstance(m, torch.nn.modules.conv._ConvNd) for m in self.model.modules())
        return not (has_conv and self.device.type == "cpu")

    def slices(self) -> dict[str, slice]:
        """Where each selected parameter sits inside theta."""
        return dict(self._slices)

    def unflatten(self, theta: torch.Tensor) -> dict[str, torch.Tensor]:
        """theta (p,) -> {name: tensor of the parameter's shape}.

        One split, whose backward is one concatenation (slicing would scatter each
        parameter's gradient into its own p-long zero vector).
        """
        pieces = theta.split([shape.numel() for shape in self._shapes])
        return {name: piece.view(shape)
                for name, piece, shape in zip(self.names, pieces, self._shapes, strict=True)}

    def num_outputs(self, X: torch.Tensor) -> int:
        """C, the number of logits, from one forward pass on the first example of X (N, ...)."""
        x = X[:1].to(device=self.device, dtype=self.dtype if X.is_floating_point() else X.dtype)
        with torch.no_grad():
            return int(self(self.theta, x).shape[-1])

    def __call__(self, theta: torch.Tensor, X: torch.Tensor) -> torch.Tensor:
        """Logits (B, C) of X (B, ...) at parameters theta (p,)."""
        return functional_call(self.model, {**self._frozen, **self.unflatten(theta)}, (X,))
