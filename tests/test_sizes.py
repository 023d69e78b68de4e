"""crossclass.sizes (torch-free arithmetic) against the real networks and datasets."""

from __future__ import annotations

import pytest
import torch
from crossclass import plugins
from crossclass.sizes import (
    checkpoint_bytes,
    dataset_size,
    forward_macs,
    layer_dims,
    net_input_shape,
    parameter_count,
)

NETS = [
    ("mlp", {}), ("mlp", {"depth": 3, "hidden": 64, "bias": True}),
    ("mlp", {"depth": 1, "batchnorm": False}), ("mlp", {"depth": 2, "width": 0.3}),
    ("vgg11", {}), ("vgg11", {"width": 0.125}), ("vgg11", {"head": 4096}),
    ("resnet18", {}), ("resnet18", {"width": 0.25}),
]


@pytest.mark.parametrize(("net", "options"), NETS, ids=[f"{n}{o}" for n, o in NETS])
@pytest.mark.parametrize(("in_shape", "classes"), [((1, 28, 28), 10), ((3, 32, 32), 100)])
def test_parameter_count_equals_the_built_network(net, options, in_shape, classes):
    shape = net_input_shape(net, in_shape)
    model = plugins.load(plugins.NETWORKS, net)(shape, classes, **options)
    real = sum(t.numel() for t in model.parameters())
    assert parameter_count(net, shape, classes, options) == real


@pytest.mark.parametrize(("net", "options"), NETS, ids=[f"{n}{o}" for n, o in NETS])
@pytest.mark.parametrize("conv", [False, True])
def test_layer_dims_equal_the_built_networks_analysed_layers(net, options, conv):
    shape = net_input_shape(net, (3, 32, 32))
    model = plugins.load(plugins.NETWORKS, net)(shape, 10, **options)
    real = [(m.in_features, m.out_features) if isinstance(m, torch.nn.Linear)
            else (m.weight[0].numel(), m.out_channels) for m in model.modules()
            if isinstance(m, torch.nn.Linear) or (conv and isinstance(m, torch.nn.Conv2d))]
    assert layer_dims(net, shape, 10, options, conv=conv) == real


def test_paper_vgg11_has_the_papers_28m_parameters():
    assert round(parameter_count("vgg11", (3, 32, 32), 10, {"head": 4096}) / 1e6, 1) == 28.2


@pytest.mark.parametrize(("name", "options"), [
    ("digits", {}), ("gmm", {"num_classes": 3, "dim": 5, "n_train_per_class": 4,
                             "n_test_per_class": 2}), ("gmm", {}),
    ("ccm", {"num_classes": 4, "dim": 6, "n_train_per_class": 3, "n_test_per_class": 2}),
])
def test_dataset_size_equals_the_loaded_dataset(name, options, tmp_path):
    splits = plugins.load(plugins.DATASETS, name)(tmp_path, False, **options)
    size = dataset_size(name, options)
    assert size.in_shape == tuple(splits.x_train.shape[1:])
    assert (size.classes, size.train, size.test) == (
        splits.num_classes, len(splits.y_train), len(splits.y_test))


@pytest.mark.parametrize(("net", "options"), NETS[:5] + NETS[7:8], ids=str)
def test_forward_macs_equal_a_count_by_hooks(net, options):
    """Multiply-adds of every nn.Linear and nn.Conv2d, counted by forward hooks."""
    import torch

    shape = net_input_shape(net, (3, 32, 32))
    model = plugins.load(plugins.NETWORKS, net)(shape, 10, **options).eval()
    counted = []

    def hook(module, inputs, output):
        weight = module.weight
        positions = output[0].numel() // output.shape[1]
        counted.append(weight.numel() * positions)

    for m in model.modules():
        if isinstance(m, torch.nn.Linear | torch.nn.Conv2d):
            m.register_forward_hook(hook)
    model(torch.zeros(1, *shape))
    assert forward_macs(net, shape, 10, options) == sum(counted)


def test_checkpoint_bytes_match_a_written_checkpoint(tmp_path, one_thread):
    """A run's checkpoint files (weights, momentum, container) are the size sizes.checkpoint_bytes
    plans, within 5%, for a net whose weights outweigh the container (p = 93k)."""
    from types import SimpleNamespace

    from crossclass.training import TrainConfig, fit
    from torch import nn

    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(40, 300, generator=g), torch.arange(40) % 10
    splits = SimpleNamespace(x_train=x, y_train=y, x_test=x[:10], y_test=y[:10])
    model = nn.Sequential(nn.Linear(300, 300), nn.ReLU(), nn.Linear(300, 10))
    p = sum(t.numel() for t in model.parameters())
    fit(lambda: nn.Sequential(nn.Linear(300, 300), nn.ReLU(), nn.Linear(300, 10)), splits,
        TrainConfig(lr=0.01, epochs=2, batch_size=20, keep=(1,), device="cpu", progress=False),
        tmp_path)
    files = [tmp_path / "last.pt", *sorted((tmp_path / "checkpoints").glob("*.pt"))]
    assert len(files) == 3 and p > 90_000
    for path in files:
        assert path.stat().st_size == pytest.approx(checkpoint_bytes(p), rel=0.05), path
