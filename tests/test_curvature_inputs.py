"""Input checks, eval mode, float64 accumulation and devices of crossclass.curvature."""

import pytest
import torch
from crossclass.curvature import (
    LabeledData,
    ModelFunction,
    extended_gradient_means,
    g_decomposition,
    gauss_newton_operator,
    hessian_operator,
    residual_operator,
)
from crossclass.errors import UserError

C = 3


def tiny_model(dtype=torch.float64) -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.BatchNorm1d(6), torch.nn.Tanh(),
                               torch.nn.Linear(6, C)).to(dtype)


def split(n_per_class=4, dtype=torch.float64, batch_size=5) -> LabeledData:
    gen = torch.Generator().manual_seed(3)
    X = torch.randn(C * n_per_class, 4, generator=gen, dtype=torch.float64).to(dtype)
    return LabeledData(X, torch.arange(C).repeat(n_per_class), batch_size=batch_size)


def test_bad_data_is_a_user_error():
    X = torch.randn(6, 4)
    with pytest.raises(UserError, match="int64"):
        LabeledData(X, torch.zeros(6))
    with pytest.raises(UserError, match="examples"):
        LabeledData(X, torch.zeros(5, dtype=torch.int64))
    with pytest.raises(UserError, match="batch_size"):
        LabeledData(X, torch.zeros(6, dtype=torch.int64), batch_size=0)
    with pytest.raises(UserError, match="non-negative"):
        LabeledData(X, -torch.ones(6, dtype=torch.int64))
    fn = ModelFunction(tiny_model(torch.float32))
    with pytest.raises(UserError, match="out of range"):
        hessian_operator(fn, LabeledData(X, torch.full((6,), C, dtype=torch.int64)))


def test_unbalanced_classes_are_rejected():
    data = split()
    unbalanced = LabeledData(data.X, torch.cat([data.y[:-1], torch.tensor([0])]))
    with pytest.raises(UserError, match="balanced"):
        extended_gradient_means(ModelFunction(tiny_model()), unbalanced, progress=False)


def test_parameter_selection():
    model = tiny_model()
    with pytest.raises(UserError, match="unknown parameter"):
        ModelFunction(model, ["0.weight", "nope"])
    with pytest.raises(UserError, match="empty"):
        ModelFunction(model, lambda name, t: False)
    fn = ModelFunction(model, lambda name, t: name.startswith("3."))  # last layer, model order
    assert fn.names == ("3.weight", "3.bias") and fn.p == 6 * C + C
    bn = ModelFunction(model, ["1.bias", "1.weight"])
    assert bn.names == ("1.weight", "1.bias")


def test_model_is_evaluated_in_eval_mode():
    model = tiny_model()
    with torch.no_grad():
        model[1].running_mean.uniform_(-1, 1)
        model[1].running_var.uniform_(0.5, 2)
    model.train()
    X = split().X
    fn = ModelFunction(model)
    assert not model.training
    torch.testing.assert_close(fn(fn.theta, X), model(X), rtol=0, atol=0)


def test_bad_knockout_requests():
    fn, data = ModelFunction(tiny_model()), split()
    dec = g_decomposition(gauss_newton_operator(fn, data),
                          extended_gradient_means(fn, data, progress=False))
    with pytest.raises(UserError, match="unknown component"):
        dec.knockout("bulk")
    with pytest.raises(UserError, match="unknown knockout"):
        dec.knockout("class", "rotation")
    other = ModelFunction(fn.model, ["3.weight"])
    with pytest.raises(UserError, match="shape"):
        g_decomposition(gauss_newton_operator(other, data),
                        extended_gradient_means(fn, data, progress=False))


OPERATORS = (hessian_operator, gauss_newton_operator, residual_operator)


@pytest.mark.parametrize("operator", OPERATORS)
def test_float32_model_with_float64_accumulation(operator):
    """A float32 model accumulates in float64; error vs the float64 model is float32 round-off.

    Bound: relative error below 1e-5 (float32 eps 1.2e-7 times a modest condition factor).
    """
    data32, data64 = split(dtype=torch.float32), split()
    op32 = operator(ModelFunction(tiny_model(torch.float32)), data32, accumulate_float64=True)
    op64 = operator(ModelFunction(tiny_model()), data64)
    assert op32.dtype == torch.float64
    V = torch.randn(op64.shape[0], 3, generator=torch.Generator().manual_seed(0),
                    dtype=torch.float64)
    out32, out64 = op32 @ V, op64 @ V
    assert out32.dtype == torch.float64
    assert float(torch.linalg.norm(out32 - out64) / torch.linalg.norm(out64)) < 1e-5
    plain = operator(ModelFunction(tiny_model(torch.float32)), data32)
    assert plain.dtype == torch.float32 and (plain @ V.float()).dtype == torch.float32


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_matches_cpu():
    data = split()
    cpu = ModelFunction(tiny_model())
    gpu = ModelFunction(tiny_model().cuda())
    V = torch.randn(cpu.p, 4, dtype=torch.float64)
    for operator in OPERATORS:
        out = operator(gpu, data) @ V.cuda()
        assert out.device.type == "cuda"
        ref = operator(cpu, data) @ V
        assert float(torch.linalg.norm(out.cpu() - ref) / torch.linalg.norm(ref)) < 1e-10
    m_gpu = extended_gradient_means(gpu, data, progress=False)
    m_cpu = extended_gradient_means(cpu, data, progress=False)
    assert m_gpu.means.device.type == "cuda"
    torch.testing.assert_close(m_gpu.means.cpu(), m_cpu.means, rtol=1e-10, atol=1e-14)
    dec = g_decomposition(gauss_newton_operator(gpu, data), m_gpu)
    assert dec.knockout("class", "projection").matmat(V.cuda()).device.type == "cuda"
