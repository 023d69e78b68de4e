"""Curvature over data split across processes (torch.distributed): one all_reduce per product.

Each of W processes (ranks) holds a shard of the split, balanced per class. Every sum over
examples (Hess / G / E block products, the extended-gradient sums S_{c,c'} and weights
w_{c,c'}, the summary's loss and gradient) is the all_reduce(SUM) of the shards' sums; the
shards divide by the N and n of the WHOLE split, so the sum of shard products equals the
one-process product up to the order of summation. Every rank runs the same Lanczos recurrence
on identical vectors (estimate_spectrum draws them on the CPU from its seed), so only the
products communicate; only rank 0 writes stores.

  init_from_env(device)  this process's device; under torchrun also the process group
  shard(data)            this rank's ShardedData; the data itself without a process group
  is_main()              whether this process writes (rank 0, or no process group)
"""

from __future__ import annotations

import atexit
import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

from crossclass.curvature.data import LabeledData
from crossclass.devices import resolve_device
from crossclass.errors import UserError


@dataclass(frozen=True, kw_only=True)
class ShardedData(LabeledData):
    """One rank's examples (X, y) of the split `parent`; averages divide by parent.N."""

    parent: LabeledData
    group: dist.ProcessGroup | None = None

    @property
    def whole(self) -> LabeledData:
        return self.parent

    def all_sum(self, t: torch.Tensor) -> torch.Tensor:
        """all_reduce(SUM) of t over the group's ranks, in place (t is then identical on all)."""
        dist.all_reduce(t, op=dist.ReduceOp.SUM, group=self.group)
        return t


def init_from_env(device: str | torch.device = "auto") -> torch.device:
    """This process's device, and the default process group when torchrun started W > 1.

    torchrun sets RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR and MASTER_PORT. A CUDA device
    becomes cuda:LOCAL_RANK (one GPU per rank, NCCL); any other device uses gloo. Without
    torchrun (WORLD_SIZE unset or 1) the device is returned as resolved and no group is made.
    """
    device = resolve_device(device)
    if int(os.environ.get("WORLD_SIZE", "1")) == 1:
        return device
    if device.type == "cuda":
        device = torch.device("cuda", int(os.environ["LOCAL_RANK"]))
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
        atexit.register(dist.destroy_process_group)
    return device


def is_main() -> bool:
    """True on rank 0, and in a process without a process group."""
    return not dist.is_initialized() or dist.get_rank() == 0


def shard(data: LabeledData, group: dist.ProcessGroup | None = None) -> LabeledData:
    """This rank's shard of `data` (the default group unless `group`); `data` without a group.

    The examples sorted by class (stably) are dealt out in turn, so each rank gets
    floor or ceil of n_c / W examples of class c and of N / W in all; they keep their order.
    """
    if not dist.is_initialized() or dist.get_world_size(group) == 1:
        return data
    rank, world = dist.get_rank(group), dist.get_world_size(group)
    if data.N < world:
        raise UserError(f"the split has {data.N} examples, fewer than the {world} processes")
    idx = torch.argsort(data.y, stable=True)[rank::world].sort().values
    return ShardedData(data.X[idx], data.y[idx], data.batch_size, parent=data, group=group)
