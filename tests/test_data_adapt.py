"""adapt_inputs, per-channel standardisation and the ArraySplits checks."""

from __future__ import annotations

import pytest
import torch
from crossclass.data import ArraySplits, adapt_inputs
from crossclass.data.normalize import channel_stats, standardize
from crossclass.errors import UserError


def test_pad_28_to_32_replicates_border():
    x = torch.randn(3, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    y = adapt_inputs(x)
    assert y.shape == (3, 1, 32, 32)
    assert torch.equal(y[:, :, 2:30, 2:30], x)
    assert torch.equal(y[:, :, 0, 2:30], x[:, :, 0]) and torch.equal(y[:, :, 31, 2:30], x[:, :, -1])
    assert torch.equal(y[:, :, 0, 0], x[:, :, 0, 0])


def test_upsample_8_to_32_nearest():
    x = torch.randn(2, 3, 8, 8, generator=torch.Generator().manual_seed(1))
    y = adapt_inputs(x)
    assert y.shape == (2, 3, 32, 32)
    assert torch.equal(y.view(2, 3, 8, 4, 8, 4), x[:, :, :, None, :, None].expand(2, 3, 8, 4, 8, 4))


def test_identity_and_bad_shapes():
    x = torch.randn(2, 3, 32, 32)
    assert adapt_inputs(x) is x
    for bad in (torch.zeros(2, 784), torch.zeros(2, 1, 28, 30), torch.zeros(2, 1, 40, 40)):
        with pytest.raises(UserError):
            adapt_inputs(bad)


def test_channel_stats_match_dense_over_chunks():
    gen = torch.Generator().manual_seed(2)
    x = torch.randint(0, 256, (5000, 2, 3, 3), generator=gen, dtype=torch.uint8)  # > one chunk
    mean, std = channel_stats(x)
    dense = x.double().transpose(0, 1).reshape(2, -1)
    torch.testing.assert_close(mean, dense.mean(dim=1), rtol=1e-12, atol=0)
    torch.testing.assert_close(std, dense.std(dim=1, correction=0), rtol=1e-10, atol=0)
    z = standardize(x, mean, std).double().transpose(0, 1).reshape(2, -1)
    zeros, ones = torch.zeros(2, dtype=torch.float64), torch.ones(2, dtype=torch.float64)
    torch.testing.assert_close(z.mean(dim=1), zeros, rtol=0, atol=1e-5)
    torch.testing.assert_close(z.std(dim=1, correction=0), ones, rtol=1e-5, atol=0)


def test_array_splits_validation():
    x, y = torch.zeros(4, 3), torch.tensor([0, 1, 2, 1])
    splits = ArraySplits("toy", x, y, x[:2], y[:2], 3, ("a", "b", "c"))
    assert splits.input_shape == (3,)
    sub = splits.select(torch.tensor([3, 0]), torch.tensor([1]))
    assert torch.equal(sub.y_train, torch.tensor([1, 0])) and sub.x_test.shape == (1, 3)
    with pytest.raises(UserError, match="labels outside"):
        ArraySplits("toy", x, y, x, y, 2)
    with pytest.raises(UserError, match="float32"):
        ArraySplits("toy", x.double(), y, x, y, 3)
    with pytest.raises(UserError, match="differ in shape"):
        ArraySplits("toy", x, y, torch.zeros(4, 2), y, 3)
