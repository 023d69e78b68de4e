"""VGG11 with BatchNorm and no dropout, for 32x32 inputs (Appendix D.3).

features: conv3x3-BN-ReLU blocks [64, M, 128, M, 256, 256, M, 512, 512, M, 512, 512, M]
(times `width`), leaving a 512 x 1 x 1 map at 32x32 input; classifier for that map:
Linear(512, head) -> BN -> ReLU -> Linear(head, head) -> BN -> ReLU -> Linear(head, C),
i.e. the CIFAR VGG head with its dropout layers replaced by BatchNorm as in the paper.
"""

from __future__ import annotations

import torch
from torch import nn

from crossclass.nets.common import image_channels, scaled

CONFIG_11 = (64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M")


class VGG(nn.Module):
    """Convolutional feature stack followed by a fully connected head (shapes in module doc)."""

    def __init__(self, in_channels: int, num_classes: int, width: float, head: int):
        super().__init__()
        layers: list[nn.Module] = []
        channels = in_channels
        for item in CONFIG_11:
            if item == "M":
                layers.append(nn.MaxPool2d(2))
                continue
            out = scaled(item, width)
            layers += [nn.Conv2d(channels, out, 3, padding=1, bias=False),
                       nn.BatchNorm2d(out), nn.ReLU(inplace=True)]
            channels = out
        self.features = nn.Sequential(*layers)
        units = scaled(head, width)
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(channels, units), nn.BatchNorm1d(units), nn.ReLU(inplace=True),
            nn.Linear(units, units), nn.BatchNorm1d(units), nn.ReLU(inplace=True),
            nn.Linear(units, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (B, C_in, 32, 32) -> logits (B, num_classes)."""
        return self.classifier(self.features(x))


def vgg11(in_shape: tuple, num_classes: int, *, width: float = 1.0, head: int = 512) -> VGG:
    """VGG11-BN for inputs (1 or 3, 32, 32); `head` hidden units (times width) in the head."""
    return VGG(image_channels(in_shape, 32, "vgg11"), num_classes, width, head)


vgg11.image_size = 32
