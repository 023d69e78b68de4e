"""The built-in datasets without files: digits (embedded), gmm and ccm (synthetic)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from crossclass.data.digits import digits
from crossclass.data.synthetic import ccm, gmm
from crossclass.errors import UserError
from sklearn.datasets import load_digits


def test_digits_split_shapes_and_standardisation():
    splits = digits()
    counts = np.bincount(load_digits().target, minlength=10)
    test_counts = np.bincount(splits.y_test.numpy(), minlength=10)
    assert np.array_equal(test_counts, (0.25 * counts).astype(int))  # stratified, rounded down
    assert splits.x_train.shape[0] + splits.x_test.shape[0] == counts.sum()
    assert splits.input_shape == (1, 8, 8) and splits.num_classes == 10
    x = splits.x_train.double()
    assert abs(x.mean().item()) < 1e-5 and abs(x.std(correction=0).item() - 1) < 1e-5


def test_digits_split_is_seeded():
    a, b, c = digits(split_seed=0), digits(split_seed=0), digits(split_seed=1)
    assert torch.equal(a.x_test, b.x_test) and torch.equal(a.y_train, b.y_train)
    assert not torch.equal(a.y_test, c.y_test)
    with pytest.raises(UserError, match="test_fraction"):
        digits(test_fraction=1.5)


def test_gmm_shapes_seed_and_moments():
    kwargs = dict(num_classes=10, dim=200, n_train_per_class=500, n_test_per_class=20,
                  separation=3.0, noise=0.5)
    splits = gmm(seed=4, **kwargs)
    assert splits.x_train.shape == (5000, 200) and splits.x_test.shape == (200, 200)
    assert torch.equal(splits.y_train, torch.arange(10).repeat_interleave(500))
    assert torch.equal(splits.x_train, gmm(seed=4, **kwargs).x_train)
    assert not torch.equal(splits.x_train, gmm(seed=5, **kwargs).x_train)
    x = splits.x_train.double().view(10, 500, 200)
    means = x.mean(dim=1)
    # pooled within-class variance of 10 * 499 * 200 values: relative std sqrt(2 / 998000)
    within = ((x - means[:, None]) ** 2).sum() / (10 * 499 * 200)
    assert abs(within.item() / 0.25 - 1) < 0.01
    # E ||mean_c||^2 = separation^2 + dim noise^2 / n; relative std about sqrt(2 / (C dim)) = 0.03
    signal = (means ** 2).sum(dim=1).mean() - 200 * 0.25 / 500
    assert abs(signal.item() / 9.0 - 1) < 0.2
    # the test split shares the class means: its class means lie within noise of the train ones
    test_means = splits.x_test.double().view(10, 20, 200).mean(dim=1)
    assert ((test_means - means) ** 2).sum(dim=1).max().item() < 3 * 200 * 0.25 / 20
    with pytest.raises(UserError, match="num_classes"):
        gmm(num_classes=1)


def test_ccm_matches_definition_8_1():
    splits = ccm(num_classes=4, dim=20, t=2.0, n_train_per_class=400, n_test_per_class=50, seed=1)
    assert splits.x_train.shape == (1600, 20) and splits.x_test.shape == (200, 20)
    assert splits.x_train.dtype == torch.float32
    assert torch.equal(splits.y_train, torch.arange(4).repeat_interleave(400))
    again = ccm(num_classes=4, dim=20, t=2.0, n_train_per_class=400, n_test_per_class=50, seed=1)
    assert torch.equal(splits.x_train, again.x_train)
    assert not torch.equal(splits.x_train[:50], splits.x_test[:50])  # splits drawn independently
    # class means t e_c: each coordinate's error has std 1/sqrt(400) = 0.05; bound 5 sigma
    means = splits.x_train.double().view(4, 400, 20).mean(dim=1)
    target = torch.zeros(4, 20, dtype=torch.float64)
    target[torch.arange(4), torch.arange(4)] = 2.0
    assert (means - target).abs().max().item() < 0.25
    with pytest.raises(UserError):
        ccm(num_classes=5, dim=3)
