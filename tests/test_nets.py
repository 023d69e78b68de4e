"""Built-in networks: shapes, forward/backward, structure the layer-wise analysis relies on."""

import pytest
import torch
from crossclass.errors import UserError
from crossclass.nets import mlp, resnet18, vgg11
from torch import nn

pytestmark = pytest.mark.usefixtures("one_thread")

SMALL = {"vgg11": (vgg11, {"width": 1 / 16, "head": 32}),
         "resnet18": (resnet18, {"width": 1 / 16}),
         "mlp": (mlp, {"depth": 3, "hidden": 32})}
SHAPES = [(1, 32, 32), (3, 32, 32), (20,)]


def cases():
    for name, (build, options) in SMALL.items():
        for shape in SHAPES:
            if name != "mlp" and len(shape) == 1:
                continue
            yield pytest.param(build, options, shape, id=f"{name}-{'x'.join(map(str, shape))}")


@pytest.mark.parametrize(("build", "options", "shape"), list(cases()))
def test_forward_backward_and_a_few_steps(build, options, shape):
    torch.manual_seed(0)
    model = build(shape, 5, **options)
    x, y = torch.randn(8, *shape), torch.arange(8) % 5
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    losses = []
    for _ in range(3):
        logits = model(x)
        assert logits.shape == (8, 5)
        loss = nn.functional.cross_entropy(logits, y)
        opt.zero_grad()
        loss.backward()
        assert all(p.grad is not None and torch.isfinite(p.grad).all()
                   for p in model.parameters())
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]


@pytest.mark.parametrize("name", list(SMALL))
def test_classifier_is_last_linear(name):
    build, options = SMALL[name]
    model = build((3, 32, 32), 7, **options).eval()
    last = [m for m in model.modules() if isinstance(m, nn.Linear)][-1]
    seen = {}
    last.register_forward_hook(lambda mod, inp, out: seen.setdefault("out", out))
    logits = model(torch.randn(2, 3, 32, 32))
    assert last.out_features == 7
    assert torch.equal(seen["out"], logits)


@pytest.mark.parametrize("name", ["vgg11", "resnet18"])
def test_conv_nets_reject_unadapted_inputs(name):
    build, options = SMALL[name]
    for shape in [(784,), (1, 28, 28)]:
        with pytest.raises(UserError, match="adapt_inputs"):
            build(shape, 10, **options)


def test_width_multiplier_scales_channels():
    with torch.device("meta"):
        assert resnet18((3, 32, 32), 10, width=0.25).fc.in_features == 128
        assert vgg11((1, 32, 32), 10, width=0.5).classifier[-1].in_features == 256
    with pytest.raises(UserError, match="width"):
        mlp((4,), 2, width=0)


def test_vgg11_has_no_dropout_and_eight_convolutions():
    with torch.device("meta"):
        model = vgg11((3, 32, 32), 10)
    kinds = [type(m) for m in model.modules()]
    assert nn.Dropout not in kinds
    assert kinds.count(nn.Conv2d) == 8 and kinds.count(nn.Linear) == 3
    assert sum(p.numel() for p in model.features.parameters()) > 9_000_000


def test_resnet18_stem_and_depth():
    with torch.device("meta"):
        model = resnet18((1, 32, 32), 10)
    assert model.stem[0].in_channels == 1 and model.stem[0].stride == (1, 1)
    assert sum(isinstance(m, nn.Conv2d) for m in model.modules()) == 20  # 17 + 3 shortcuts
    assert model.fc.in_features == 512


def test_mlp_paper_preset_structure():
    with torch.device("meta"):
        model = mlp((1, 28, 28), 10)  # paper: 8 linear layers, 2048 units, BN before ReLU
    linears = [m for m in model if isinstance(m, nn.Linear)]
    assert len(linears) == 8
    assert [m.out_features for m in linears] == [2048] * 7 + [10]
    assert linears[0].in_features == 784 and all(m.bias is None for m in linears)
    kinds = [type(m) for m in model]
    for i, kind in enumerate(kinds):
        if kind is nn.ReLU:
            assert kinds[i - 1] is nn.BatchNorm1d and kinds[i - 2] is nn.Linear
    plain = mlp((6,), 3, depth=2, hidden=4, batchnorm=False, bias=True)
    assert [type(m) for m in plain] == [nn.Flatten, nn.Linear, nn.ReLU, nn.Linear]
    with pytest.raises(UserError, match="depth"):
        mlp((6,), 3, depth=0)
