"""ResNet18 for 32x32 inputs: 3x3 stride-1 stem without max-pool, four stages of two
BasicBlocks (64, 128, 256, 512 channels times `width`, strides 1, 2, 2, 2), global average
pooling to (B, 512) and a Linear classifier (He et al. 2016, CIFAR variant)."""

from __future__ import annotations

import torch
from torch import nn

from crossclass.nets.common import image_channels, scaled


class BasicBlock(nn.Module):
    """relu(BN(conv(relu(BN(conv(x))))) + shortcut(x)); shortcut: 1x1 conv + BN if shapes differ."""

    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                          nn.BatchNorm2d(cout))
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        return self.relu(self.bn2(self.conv2(out)) + self.shortcut(x))


class ResNet18(nn.Module):
    """(B, C_in, 32, 32) -> logits (B, num_classes)."""

    def __init__(self, in_channels: int, num_classes: int, width: float):
        super().__init__()
        c0 = scaled(64, width)
        self.stem = nn.Sequential(nn.Conv2d(in_channels, c0, 3, 1, 1, bias=False),
                                  nn.BatchNorm2d(c0), nn.ReLU(inplace=True))
        blocks: list[nn.Module] = []
        cin = c0
        for stage, stride in zip((64, 128, 256, 512), (1, 2, 2, 2), strict=True):
            cout = scaled(stage, width)
            blocks += [BasicBlock(cin, cout, stride), BasicBlock(cout, cout, 1)]
            cin = cout
        self.layers = nn.Sequential(*blocks)
        self.pool = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.fc = nn.Linear(cin, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.pool(self.layers(self.stem(x))))


def resnet18(in_shape: tuple, num_classes: int, *, width: float = 1.0) -> ResNet18:
    """ResNet18 for inputs (1 or 3, 32, 32) with channel multiplier `width`."""
    return ResNet18(image_channels(in_shape, 32, "resnet18"), num_classes, width)


resnet18.image_size = 32
