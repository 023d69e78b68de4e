"""The layer-wise figures 7-13 drawn from small synthetic layers and spectrum stores (a random
BatchNorm MLP, untrained, captured and analysed in float64), two datasets as two rows."""

import pytest
import torch
from crossclass.analysis import layers_dataset
from crossclass.cli import main
from crossclass.curvature import LabeledData
from crossclass.layerwise import analyse, capture, cfac, kfac, layer_dataset, layer_g
from crossclass.linalg import estimate_spectrum
from crossclass.stores import write_store
from test_figures_networks import check
from torch import nn

C, D, N = 3, 6, 5


def model(seed):
    torch.manual_seed(seed)
    net = nn.Sequential(nn.Linear(D, 7, bias=False), nn.BatchNorm1d(7), nn.ReLU(),
                        nn.Linear(7, 5, bias=False), nn.ReLU(), nn.Linear(5, C, bias=False))
    return net.double().eval()


def write_stores(tmp, dataset, seed):
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(C).repeat_interleave(N)
    X = torch.randn(C * N, D, generator=g, dtype=torch.float64) + 2 * nn.functional.one_hot(
        y, D).double()
    cap = capture(model(seed), LabeledData(X, y, batch_size=256), progress=False)
    per_layer = analyse(cap, eta=5e-4, probes=8, progress=False)
    keys = dict(dataset=dataset, net="mlp", n_per_class=N, epoch=1, split="train")
    layers = write_store(layers_dataset([layer_dataset(a) for a in per_layer.values()]),
                         tmp / f"{dataset}_layers.zarr", keys=keys)
    spectra = []
    for name, lc in cap.layers.items():
        a = per_layer[name]
        ops = {"G": layer_g(lc), "KFAC": kfac(a.features.H, a.errors.Delta),
               "CFAC": cfac(a.features.H_c, a.errors.Delta_c)}
        for kind, op in ops.items():
            est = estimate_spectrum(op, M=10, n_vec=1, K=64, M0=6, log=True, eps=1e-8,
                                    progress=False)
            ds = est.to_dataset()
            ds = ds.reset_coords("log_lambda")
            spectra.append(write_store(ds, tmp / f"{dataset}_{name}_{kind}.zarr",
                                       keys={**keys, "operator": f"layer:{name}:{kind}"},
                                       params=est.params))
    return layers, spectra


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("layerwise_figs")
    return [write_stores(tmp, name, seed) for seed, name in enumerate(("gmm", "digits"))]


@pytest.mark.parametrize("name", ["fig7", "fig8", "fig9a", "fig9b", "fig10", "fig13"])
def test_grid_figures(stores, tmp_path, name):
    check(tmp_path, name, [layers for layers, _ in stores], "top=20")


def test_fig11_last_layer(stores, tmp_path):
    layers, spectra = stores[0]
    check(tmp_path, "fig11", [layers, *[s for s in spectra if "_5_" in s.name]])


def test_fig12_every_layer_and_dataset(stores, tmp_path):
    check(tmp_path, "fig12", [s[0] for s in stores] + [p for s in stores for p in s[1]])


def test_fig11_refuses_two_layers(stores, tmp_path):
    layers, spectra = stores[0]
    assert main(["figure", "fig11", "--inputs", str(layers), *map(str, spectra),
                 "--out", str(tmp_path / "x.pdf")]) != 0
