"""The paper's optimiser: SGD with momentum and weight decay, learning rate divided by
1/gamma (10) at fixed fractions (1/3, 2/3) of the epochs (Appendix D.1)."""

from __future__ import annotations

from torch import nn, optim

from crossclass.training.config import TrainConfig


def milestone_epochs(config: TrainConfig) -> list[int]:
    """Epoch indices (0-based) at which the rate drops: round(fraction * epochs), clipped to
    [1, epochs - 1] (an epoch count below the number of milestones drops fewer times)."""
    return sorted({min(max(round(f * config.epochs), 1), config.epochs - 1)
                   for f in config.milestones if config.epochs > 1})


def lr_at(config: TrainConfig, epoch: int) -> float:
    """Learning rate used during 1-based `epoch`: lr * gamma^(milestones passed)."""
    passed = sum(epoch - 1 >= m for m in milestone_epochs(config))
    return config.lr * config.gamma**passed


def make_optimizer(model: nn.Module, config: TrainConfig):
    """(SGD optimiser, MultiStepLR scheduler stepped once per epoch) for `model`."""
    opt = optim.SGD(model.parameters(), lr=config.lr, momentum=config.momentum,
                    weight_decay=config.weight_decay)
    sched = optim.lr_scheduler.MultiStepLR(opt, milestone_epochs(config), gamma=config.gamma)
    return opt, sched
