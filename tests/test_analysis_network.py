"""crossclass.analysis on real checkpoints: a tiny MLP (gmm data) and a tiny VGG (digits).

Runs are produced by the real commands (`data subsample`, `train`, `extract`,
`operator-spectrum`). Dense float64 references are built independently of the library from
per-example Jacobians (torch.func.jacrev): G and its eq. 6.4 parts from explicit extended
gradients, Hess by torch.func.hessian. Exact paths (method=exact) must match them to 1e-10
relative to the largest eigenvalue.
"""

from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from crossclass.analysis import layer_store, means_store, read_layer
from crossclass.analysis import summary as summary_module
from crossclass.cli import main
from crossclass.curvature import LabeledData, ModelFunction, extended_gradient_means
from crossclass.data import load_subset
from crossclass.layerwise import analyse, capture, layer_dataset
from crossclass.layerwise.conv import capture_conv, conv_g
from crossclass.nets import vgg11
from crossclass.sizes import layers_store_bytes
from crossclass.stores import open_stores, read_store
from crossclass.training import load_trained
from crossclass.training.inputs import splits_for
from torch.func import functional_call, hessian, jacrev, vmap

TOL = 1e-10


def cli(*argv) -> None:
    assert main([str(a) for a in argv]) == 0


def make_run(root: Path, *, dataset: str, options: list[str], n: int, test_n: int | None,
             net: str, net_options: list[str], epochs: int) -> dict:
    """Subset store + training run; returns the paths."""
    subset = root / "subset.zarr"
    data_opts = [x for o in options for x in ("--set", o)]
    test = ["--test-per-class", test_n] if test_n else []
    cli("data", "subsample", "--dataset", dataset, "--root", root, "--n-per-class", n,
        "--seed", 0, *test, "--out", subset, *data_opts)
    net_opts = [x for o in net_options for x in ("--set", o)]
    cli("train", "--subset", subset, "--root", root, "--net", net, *net_opts, "--lr", 0.05,
        "--epochs", epochs, "--seed", 0, "--batch-size", 8, "--checkpoints",
        *range(1, epochs + 1), "--device", "cpu", "--no-progress", "--out", root / "run")
    return {"root": root, "subset": subset,
            "ckpt": {e: root / "run" / "checkpoints" / f"epoch_{e:04d}.pt"
                     for e in range(1, epochs + 1)}}


@pytest.fixture(scope="module")
def mlp_run(tmp_path_factory):
    """3-class gmm (dim 4), 6 train / 4 test per class; MLP 4-5-5-3 with BatchNorm, 2 epochs."""
    torch.manual_seed(0)
    return make_run(tmp_path_factory.mktemp("mlp"), dataset="gmm",
                    options=["num_classes=3", "dim=4", "n_train_per_class=6",
                             "n_test_per_class=4"], n=6, test_n=4, net="mlp",
                    net_options=["depth=3", "hidden=5"], epochs=2)


def network_args(run: dict, epoch: int, split: str = "train") -> list:
    return ["--checkpoint", run["ckpt"][epoch], "--subset", run["subset"], "--root",
            run["root"], "--split", split, "--batch-size", 5, "--float64"]


def run_extract(run: dict, epoch: int, out: Path, split: str = "train") -> dict:
    paths = {k: out / f"{k}_{epoch}_{split}.zarr" for k in ("means", "layers", "summary")}
    if not paths["means"].exists():
        cli("extract", *network_args(run, epoch, split), "--device", "cpu",
            "--out-means", paths["means"], "--out-layers", paths["layers"],
            "--out-summary", paths["summary"])
    return paths


def model_and_data(run: dict, epoch: int, split: str = "train", dtype=torch.float64):
    model, meta = load_trained(run["ckpt"][epoch])
    model = model.to(dtype).eval()
    splits = splits_for(vgg11 if meta["net"] == "vgg11" else None,
                        load_subset(run["subset"], run["root"]))
    X, y = ((splits.x_train, splits.y_train) if split == "train"
            else (splits.x_test, splits.y_test))
    return model, X.to(dtype), y


def dense_reference(model, X, y, weight_only: str | None = None) -> dict[str, torch.Tensor]:
    """Independent dense G parts (eq. 6.4 corrected, docs/curvature.md) and Hess, from per-example
    Jacobians; weight_only: restrict to the parameters named."""
    named = dict(model.named_parameters())
    names = [weight_only] if weight_only else list(named)
    shapes = [named[n].shape for n in names]
    theta = torch.cat([named[n].detach().reshape(-1) for n in names])

    def logits(t, x):
        parts = dict(zip(names, [p.view(s) for p, s in
                                 zip(t.split([s.numel() for s in shapes]), shapes,
                                     strict=True)], strict=True))
        return functional_call(model, parts, (x,))

    J = vmap(jacrev(lambda t, x: logits(t, x[None])[0]), in_dims=(None, 0))(theta, X)  # N C p
    P = torch.softmax(logits(theta, X), -1).detach()
    N, C = P.shape
    E = torch.eye(C, dtype=X.dtype)
    g = torch.einsum("ncp,nkc->nkp", J, P[:, None, :] - E[None])  # g[i, c'] (N, C', p)
    w = P / N
    onehot = F.one_hot(y, C).to(X.dtype)  # (N, C)
    w_cc = onehot.T @ w  # (C, C')
    g_cc = torch.einsum("nc,nk,nkp->ckp", onehot, w, g) / w_cc[..., None]
    off = 1 - E
    w_c = (w_cc * off).sum(1)
    g_c = torch.einsum("ck,ckp->cp", w_cc * off, g_cc) / w_c[:, None]
    outer = lambda v, s: torch.einsum("...p,...,...q->pq", v, s, v)  # noqa: E731
    G = outer(g, w)
    parts = {
        "G": G,
        "G_class": outer(g_c, w_c),
        "G_cross": outer(g_cc - g_c[:, None], w_cc * off),
        "G_same": outer(g_cc.diagonal(dim1=0, dim2=1).T, w_cc.diagonal()),
        "G_within": outer(g - g_cc[y], w),
    }
    H = hessian(lambda t: F.cross_entropy(logits(t, X), y))(theta)
    parts.update({"hess": H, "E": H - G})
    return {k: v.detach() for k, v in parts.items()}


def project_out(A: torch.Tensor, B: torch.Tensor) -> torch.Tensor:
    lam, V = torch.linalg.eigh(B)
    Q = V[:, lam.abs() > 1e-9 * lam.abs().max()]
    P = torch.eye(A.shape[0], dtype=A.dtype) - Q @ Q.T
    return P @ A @ P


def exact_spectrum(run, epoch, tmp, operator, *extra) -> np.ndarray:
    out = tmp / f"{operator.replace(':', '_')}_{epoch}.zarr"
    cli("operator-spectrum", *network_args(run, epoch), "--operator", operator,
        "--method", "exact", "--K", 64, "--out", out, *extra)
    ds = read_store(out)
    assert ds["operator"].item() == operator and int(ds["epoch"]) == epoch
    return np.sort(ds["exact_eigenvalues"].values)


def assert_spectrum(got: np.ndarray, dense: torch.Tensor) -> None:
    want = np.sort(torch.linalg.eigvalsh(dense).numpy())
    scale = np.abs(want).max()
    assert scale > 0
    assert np.abs(got - want).max() / scale < TOL


def test_extract_means_layers_summary(mlp_run, mlp_reference, tmp_path_factory):
    paths = run_extract(mlp_run, 2, tmp_path_factory.getbasetemp())
    model, X, y = model_and_data(mlp_run, 2)
    direct = extended_gradient_means(ModelFunction(model), LabeledData(X, y, batch_size=7),
                                     progress=False)
    ds = read_store(paths["means"])
    assert {k: ds[k].item() for k in ("dataset", "net", "split")} == {
        "dataset": "gmm", "net": "mlp", "split": "train"}
    assert int(ds["n_per_class"]) == 6 and int(ds["epoch"]) == 2
    got = torch.as_tensor(ds["means"].values)
    assert torch.linalg.norm(got - direct.means) / torch.linalg.norm(direct.means) < TOL
    assert torch.allclose(torch.as_tensor(ds["weights"].values), direct.weights, rtol=TOL)
    # eigenvalues of the low-rank parts vs the independent dense parts
    ref = mlp_reference
    for var, parts in (("eig_class", ["G_class"]), ("eig_cross", ["G_cross"]),
                       ("eig_same", ["G_same"]),
                       ("eig_lowrank", ["G_class", "G_cross", "G_same"])):
        dense = sum(ref[p] for p in parts)
        want = torch.linalg.eigvalsh(dense).flip(0)[: ds[var].size]
        got = torch.as_tensor(ds[var].values)
        assert (got - want).abs().max() / want.abs().max() < 1e-9, var

    layers = read_store(paths["layers"])
    names = [str(n) for n in layers["layer"].values]
    assert names == ["1", "4", "7"]  # the three nn.Linear modules of the MLP
    direct_layers = analyse(capture(model, LabeledData(X, y, batch_size=256), progress=False),
                            eta=5e-4, progress=False)
    for name in names:
        mine, want = read_layer(layers, name), layer_dataset(direct_layers[name])
        for var in ("H", "H_c", "Delta", "Delta_cross", "W_stat", "kfac_eigenvalues"):
            np.testing.assert_allclose(mine[var].values, want[var].values, rtol=1e-12,
                                       atol=1e-14)
        assert float(layers["nc_nc1"].sel(layer=name)) == pytest.approx(
            float(want["nc_nc1"]), rel=1e-12)

    summary = read_store(paths["summary"])
    logits = model(X)
    assert float(summary["loss"]) == pytest.approx(float(F.cross_entropy(logits, y)), rel=1e-12)
    assert float(summary["error"]) == pytest.approx(
        float((logits.argmax(-1) != y).double().mean()), abs=1e-15)
    grads = torch.autograd.grad(F.cross_entropy(logits, y), list(model.parameters()))
    norm = float(torch.linalg.norm(torch.cat([g.reshape(-1) for g in grads])))
    assert float(summary["grad_norm"]) == pytest.approx(norm, rel=1e-10)
    # the storage estimate (crossclass.sizes) is the layers store's size, with and without
    # its matrices (the class-indexed values and scalars are within a few hundred bytes)
    dims = [(int(layers["d_in"].sel(layer=n)), int(layers["d_out"].sel(layer=n))) for n in names]
    C = layers.sizes["class"]
    assert abs(layers_store_bytes(dims, C) - layers.nbytes) < 0.05 * layers.nbytes
    light = layer_store.layers_dataset(
        [layer_dataset(direct_layers[n]) for n in names], matrices=False)
    assert not {d for v in light.data_vars for d in light[v].dims} & {
        f"{n}:{d}" for n in names for d in layer_store.MATRIX_DIMS}
    assert light.nbytes < 40 * 8 * len(names) * C * C
    # every variable the documented schemas name is in the stores
    for schema, store in ((means_store.SCHEMA, ds), (layer_store.SCHEMA, layers),
                          (summary_module.SCHEMA, summary)):
        assert set(schema.names) <= set(store.variables), set(schema.names) - set(store.variables)


@pytest.fixture(scope="module")
def mlp_reference(mlp_run):
    """Dense references of the epoch-2 MLP on its train split."""
    return dense_reference(*model_and_data(mlp_run, 2))


@pytest.mark.parametrize("operator", ["hess", "G", "hess-minus-G", "G_class", "G_cross",
                                      "G_within", "G-minus-cross", "G-project-class"])
def test_network_operators_match_dense_references(mlp_run, mlp_reference, tmp_path_factory,
                                                  operator):
    paths = run_extract(mlp_run, 2, tmp_path_factory.getbasetemp())
    ref = mlp_reference
    dense = {"hess-minus-G": ref["E"], "G-minus-cross": ref["G"] - ref["G_cross"],
             "G-project-class": project_out(ref["G"], ref["G_class"])}.get(operator)
    dense = ref[operator] if dense is None else dense
    got = exact_spectrum(mlp_run, 2, tmp_path_factory.mktemp("spec"), operator,
                         "--means", paths["means"])
    assert_spectrum(got, dense)


def test_layer_operators(mlp_run, tmp_path_factory, tmp_path):
    paths = run_extract(mlp_run, 2, tmp_path_factory.getbasetemp())
    model, X, y = model_and_data(mlp_run, 2)
    ref = dense_reference(model, X, y, weight_only="4.weight")
    got = exact_spectrum(mlp_run, 2, tmp_path, "layer:4:G_class", "--means", paths["means"])
    assert_spectrum(got, ref["G_class"])
    got = exact_spectrum(mlp_run, 2, tmp_path, "layer:4:G")
    assert_spectrum(got, ref["G"])
    lay = read_layer(read_store(paths["layers"]), "4")
    kron = torch.kron(torch.as_tensor(lay["Delta"].values), torch.as_tensor(lay["H"].values))
    # from the layers store and from a fresh capture
    assert_spectrum(exact_spectrum(mlp_run, 2, tmp_path, "layer:4:KFAC", "--layers",
                                   paths["layers"]), kron)
    assert_spectrum(exact_spectrum(mlp_run, 2, tmp_path, "layer:4:KFAC"), kron)
    assert_spectrum(exact_spectrum(mlp_run, 2, tmp_path, "layer:4:Delta_cross"),
                    torch.as_tensor(lay["Delta_cross"].values))


def test_stores_combine_over_epochs(mlp_run, tmp_path):
    outs = []
    for epoch in (1, 2):
        out = tmp_path / f"G_{epoch}.zarr"
        cli("operator-spectrum", *network_args(mlp_run, epoch), "--operator", "G",
            "--M", 12, "--n-vec", 2, "--K", 32, "--log", "--deflate", "C",
            "--deflate-iters", 6, "--M0", 8, "--out", out)
        outs.append(out)
    both = open_stores(outs)
    assert list(both["epoch"].values) == [1, 2]
    assert both["top_eigenvalues"].sizes["top"] == 3  # deflate C = 3 classes
    assert set(both["density"].dims) == {"dataset", "net", "n_per_class", "epoch", "split",
                                         "operator", "grid"}
    assert np.all(np.isfinite(both["density"].values))


def test_bad_inputs_are_one_line_errors(mlp_run, tmp_path, capsys):
    base = ["operator-spectrum", *network_args(mlp_run, 1), "--out", tmp_path / "x.zarr"]
    assert main([str(a) for a in [*base, "--operator", "G_bogus"]]) == 2
    assert "unknown operator 'G_bogus'" in capsys.readouterr().err
    assert main([str(a) for a in [*base, "--operator", "layer:9:KFAC", "--method", "exact"]]) == 2
    assert "no nn.Linear or nn.Conv2d layer named '9'" in capsys.readouterr().err


def test_tiny_vgg_extract_and_kfac(tmp_path):
    """VGG11 at width 1/16 on digits (2 per class), one epoch, float32 model: the means, every
    conv and linear layer streamed, KFAC of the classifier and the exact G^l of a conv layer
    (the conv weight block of G) against the capture path's conv_g."""
    run = make_run(tmp_path, dataset="digits", options=[], n=2, test_n=None, net="vgg11",
                   net_options=["width=0.0625"], epochs=1)
    paths = {k: tmp_path / f"{k}.zarr" for k in ("means", "layers", "summary")}
    cli("extract", "--checkpoint", run["ckpt"][1], "--subset", run["subset"], "--root",
        run["root"], "--split", "train", "--batch-size", 8, "--device", "cpu",
        "--out-means", paths["means"], "--out-layers", paths["layers"],
        "--out-summary", paths["summary"], "--conv-layers")
    model, X, y = model_and_data(run, 1, dtype=torch.float32)
    direct = extended_gradient_means(ModelFunction(model), LabeledData(X, y, batch_size=8),
                                     accumulate_float64=True, progress=False)
    ds = read_store(paths["means"])
    assert int(ds["epoch"]) == 1  # the checkpoint's epoch
    got = torch.as_tensor(ds["means"].values)
    assert torch.linalg.norm(got - direct.means) / torch.linalg.norm(direct.means) < TOL
    layers = read_store(paths["layers"])
    last = [str(n) for n in layers["layer"].values][-1]
    lay = read_layer(layers, last)
    out = tmp_path / "kfac.zarr"
    cli("operator-spectrum", "--checkpoint", run["ckpt"][1], "--subset", run["subset"],
        "--root", run["root"], "--split", "train", "--batch-size", 8, "--operator",
        f"layer:{last}:KFAC", "--layers", paths["layers"], "--method", "exact", "--K", 64,
        "--out", out)
    kron = torch.kron(torch.as_tensor(lay["Delta"].values), torch.as_tensor(lay["H"].values))
    assert_spectrum(np.sort(read_store(out)["exact_eigenvalues"].values), kron)
    names = [str(n) for n in layers["layer"].values]
    assert names == [n for n, m in model.named_modules()
                     if isinstance(m, (torch.nn.Linear, torch.nn.Conv2d))]
    conv = tmp_path / "conv_g.zarr"
    cli("operator-spectrum", "--checkpoint", run["ckpt"][1], "--subset", run["subset"],
        "--root", run["root"], "--split", "train", "--batch-size", 8, "--operator",
        "layer:features.4:G", "--method", "exact", "--K", 64, "--out", conv)
    cap = capture_conv(model, LabeledData(X, y, batch_size=8), layers=["features.4"],
                       progress=False)["features.4"]
    G = conv_g(cap).matmat(torch.eye(cap.weight.numel(), dtype=torch.float64))
    want = np.sort(torch.linalg.eigvalsh(G).numpy())
    got = np.sort(read_store(conv)["exact_eigenvalues"].values)
    assert np.abs(got - want).max() / np.abs(want).max() < 1e-5    # float32 model products


def test_several_operators_in_one_job_equal_one_job_each(mlp_run, tmp_path, capsys):
    """One process estimating G, G_class and hess (means store read once) writes the same
    stores, bitwise, as one process per operator."""
    means = run_extract(mlp_run, 2, tmp_path)["means"]
    names = ["G", "G_class", "hess"]
    flags = ["--M", 8, "--n-vec", 2, "--K", 32, "--M0", 6, "--means", means]
    together = [tmp_path / f"together_{n}.zarr" for n in names]
    cli("operator-spectrum", *network_args(mlp_run, 2), *flags, "--operator", *names,
        "--out", *together)
    for name, path in zip(names, together, strict=True):
        alone = tmp_path / f"alone_{name}.zarr"
        cli("operator-spectrum", *network_args(mlp_run, 2), *flags, "--operator", name,
            "--out", alone)
        a, b = read_store(path), read_store(alone)
        assert a["operator"].item() == name
        for var in ("density", "ritz_values", "ritz_weights"):
            np.testing.assert_array_equal(a[var].values, b[var].values)
    args = ["operator-spectrum", *network_args(mlp_run, 2), "--operator", "G", "hess",
            "--out", tmp_path / "only_one.zarr"]
    assert main([str(a) for a in args]) == 2
    assert "give one --out per --operator" in capsys.readouterr().err


def test_a_means_store_without_the_means_gives_the_same_spectra(mlp_run, mlp_reference,
                                                                tmp_path):
    """extract --no-keep-means and --no-layer-matrices write the small stores (no p x C x C
    means, no layer matrices); a spectra job then recomputes the means in memory, exactly."""
    paths = {k: tmp_path / f"{k}.zarr" for k in ("means", "layers", "summary")}
    cli("extract", *network_args(mlp_run, 2), "--device", "cpu", "--no-keep-means",
        "--no-layer-matrices", "--out-means", paths["means"], "--out-layers",
        paths["layers"], "--out-summary", paths["summary"])
    means, layers = read_store(paths["means"]), read_store(paths["layers"])
    assert "means" not in means and {"eig_lowrank", "trace_within"} <= set(means.variables)
    assert not any(str(d).endswith((":feature", ":error")) for v in layers.data_vars
                   for d in layers[v].dims)
    assert "kfac_rel_err" in layers
    for operator in ("G_cross", "G-minus-class"):
        dense = {"G_cross": mlp_reference["G_cross"],
                 "G-minus-class": mlp_reference["G"] - mlp_reference["G_class"]}[operator]
        got = exact_spectrum(mlp_run, 2, tmp_path, operator, "--means", paths["means"])
        assert_spectrum(got, dense)
