"""The streamed layer analysis (two passes, O(d^2) memory) equals the capture path's, variable by
variable, for nn.Linear and nn.Conv2d layers: batches that split classes, C = 2, one example
per class, exact and Hutchinson relative errors, the logits layer's self-duality."""

import numpy as np
import pytest
import torch
from crossclass.curvature import LabeledData
from crossclass.errors import UserError
from crossclass.layerwise import analyse, analyse_conv, capture, layer_dataset
from crossclass.layerwise.conv import capture_conv
from crossclass.layerwise.streaming import stream_layer
from torch import nn

ETA = 5e-4
# parts computed as a whole minus its mean part are exact to round-off of the whole
WHOLE = {"H_within": "H", "Delta_within": "Delta", "W_within": "W_stat"}
UNIT_SCALE = ("kr_", "nc_", "kfac_rel", "cfac_rel")  # cosines, relative errors: scale 1


def mlp(C, seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(4, 6), nn.Tanh(), nn.Linear(6, 5, bias=False), nn.Tanh(),
                         nn.Linear(5, C)).double().eval()


def convnet(C, seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.ReLU(),
                         nn.Conv2d(3, 2, 2, stride=2, bias=False), nn.ReLU(), nn.Flatten(),
                         nn.Linear(8, C)).double().eval()


def split(C, n, shape, batch_size, seed=0):
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(C).repeat(n)                       # interleaved: the pass sorts by class
    return LabeledData(torch.randn(C * n, *shape, generator=g, dtype=torch.float64), y,
                       batch_size=batch_size)


def assert_same(streamed, reference, rtol=1e-10):
    a, b = layer_dataset(streamed), layer_dataset(reference)
    assert set(a.data_vars) == set(b.data_vars)
    for name in b.data_vars:
        x, y = a[name].values, b[name].values
        assert x.shape == y.shape, name
        if np.isnan(y).all():
            assert np.isnan(x).all(), name
            continue
        scale = max(np.abs(y).max(), np.abs(b[WHOLE.get(name, name)].values).max(),
                    1.0 if name.startswith(UNIT_SCALE) else 1e-300)
        assert np.abs(x - y).max() <= rtol * scale, (name, np.abs(x - y).max() / scale)


@pytest.mark.parametrize("C, n, batch_size", [(3, 5, 4), (2, 1, 1), (2, 3, 64)])
@pytest.mark.parametrize("layer", ["0", "2", "4"])
def test_linear_layers_stream_to_the_capture_path(C, n, batch_size, layer):
    net, data = mlp(C), split(C, n, (4,), batch_size)
    reference = analyse(capture(net, data, layers=[layer], progress=False), eta=ETA,
                        probes=8, progress=False)[layer]
    streamed = stream_layer(net, data, layer, eta=ETA, probes=8, progress=False)
    assert_same(streamed, reference)
    if layer == "4":                  # the logits layer: self-duality, computed here directly
        h = net[:4](data.X)           # the classifier's input, every example
        mu = torch.stack([h[data.y == c].mean(dim=0) for c in range(C)])
        M, W = mu - mu.mean(dim=0), net[4].weight
        duality = ((W / W.norm() - M / M.norm()) ** 2).sum()
        assert float(streamed.collapse.self_duality) == pytest.approx(float(duality), rel=1e-10)


@pytest.mark.parametrize("C, n, batch_size", [(3, 4, 5), (2, 1, 1)])
@pytest.mark.parametrize("layer", ["0", "2"])
def test_conv_layers_stream_to_the_capture_path(C, n, batch_size, layer):
    net, data = convnet(C), split(C, n, (2, 4, 4), batch_size)
    cap = capture_conv(net, data, layers=[layer], progress=False)[layer]
    reference = analyse_conv(layer, cap, eta=ETA, probes=16)
    streamed = stream_layer(net, data, layer, eta=ETA, probes=16, progress=False)
    assert_same(streamed, reference)


def test_a_large_layer_streams_in_smaller_batches(monkeypatch):
    """Pass 2 shrinks the batch to bound one batch's errors (here to 2 examples)."""
    from crossclass.layerwise import streaming

    net, data = convnet(3), split(3, 4, (2, 4, 4), 12)
    monkeypatch.setattr(streaming, "STREAM_BATCH_ELEMENTS", 2 * 3 * 16 * 3)  # 2 x C L d_out
    seen = []
    passes = streaming.error_passes
    monkeypatch.setattr(streaming, "error_passes", lambda model, d, *a, **k: (
        seen.append(d.batch_size), passes(model, d, *a, **k))[1])
    streamed = stream_layer(net, data, "0", eta=ETA, probes=16, progress=False)
    cap = capture_conv(net, data, layers=["0"], progress=False)["0"]
    assert seen == [2]
    assert_same(streamed, analyse_conv("0", cap, eta=ETA, probes=16))


def test_streaming_without_weight_decay_skips_the_weights():
    net, data = mlp(3), split(3, 2, (4,), 4)
    a = stream_layer(net, data, "2", progress=False)
    assert a.weights is None and "W_stat" not in layer_dataset(a)


def test_streaming_rejects_what_it_cannot_analyse():
    net, data = mlp(3), split(3, 2, (4,), 4)
    with pytest.raises(UserError, match="no nn.Linear or nn.Conv2d layer named '1'"):
        stream_layer(net, data, "1", progress=False)
    with pytest.raises(UserError, match="eval mode"):
        stream_layer(net.train(), data, "0", progress=False)
    with pytest.raises(UserError, match="balanced"):
        stream_layer(net.eval(), LabeledData(data.X[:5], data.y[:5], batch_size=4), "0",
                     progress=False)
