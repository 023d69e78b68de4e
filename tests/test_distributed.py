"""crossclass.curvature.distributed: 2 gloo processes on CPU equal 1 process to round-off.

A tiny float64 MLP with BatchNorm (eval mode, non-trivial running statistics), C = 3 classes of
n = 3 (N = 9: shards of 5 and 4 examples, unbalanced per class), batch size 2. This file is
also the worker: `python tests/test_distributed.py OUT` under torchrun's environment writes
what its rank computed to OUT/rank<r>.pt. Every rank must hold the one-process values.
"""

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import crossclass
import numpy as np
import pytest
import torch
from crossclass.analysis import Network, summary_dataset
from crossclass.cli import main
from crossclass.curvature import (
    LabeledData,
    ModelFunction,
    extended_gradient_means,
    gauss_newton_operator,
    hessian_operator,
    residual_operator,
)
from crossclass.curvature.distributed import ShardedData, init_from_env, is_main, shard
from crossclass.linalg import estimate_spectrum
from crossclass.stores import read_store

C, N_PER_CLASS, BATCH, WORLD = 3, 3, 2, 2
TOL = 1e-12
TIMEOUT = 120  # seconds: a hung collective fails the test instead of blocking CI


def problem() -> tuple[torch.nn.Module, LabeledData]:
    torch.manual_seed(0)
    bn = torch.nn.BatchNorm1d(5)
    with torch.no_grad():
        bn.running_mean.uniform_(-0.5, 0.5)
        bn.running_var.uniform_(0.5, 2.0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 5), bn, torch.nn.Tanh(),
                                torch.nn.Linear(5, C)).double()
    X = torch.randn(C * N_PER_CLASS, 4, dtype=torch.float64)
    y = torch.arange(C).repeat(N_PER_CLASS)[torch.randperm(C * N_PER_CLASS)]
    return model, LabeledData(X, y, batch_size=BATCH)


def compute(data: LabeledData, model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """Block and single products of Hess, G, E, the C^2 means, a density and a summary."""
    fn = ModelFunction(model)
    V = torch.randn(fn.p, 3, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    out = {}
    for name, build in {"hess": hessian_operator, "G": gauss_newton_operator,
                        "E": residual_operator}.items():
        op = build(fn, data, accumulate_float64=True)
        out[name] = op.matmat(V)
        out[f"{name}_single"] = op.matmat(V[:, :1])
    means = extended_gradient_means(fn, data, accumulate_float64=True, progress=False)
    out["means"], out["weights"] = means.means, means.weights
    est = estimate_spectrum(gauss_newton_operator(fn, data, accumulate_float64=True), M=6,
                            n_vec=2, K=64, M0=6, seed=0, progress=False)
    out["density"], out["ritz_values"] = est.density, est.ritz_values
    net = Network(model=model, data=data, num_classes=C, eta=0.1, keys={})
    summary = summary_dataset(net)
    out["summary"] = torch.tensor([float(summary[v]) for v in summary.data_vars])
    return out


def rel(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(torch.linalg.norm(a - b) / torch.linalg.norm(b))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def worker_env(port: int) -> dict[str, str]:
    """torchrun's rendezvous variables (RANK, LOCAL_RANK per process), this crossclass first."""
    path = [str(Path(crossclass.__file__).parents[1]), os.environ.get("PYTHONPATH", "")]
    return {**os.environ, "OMP_NUM_THREADS": "1", "MASTER_ADDR": "127.0.0.1",
            "MASTER_PORT": str(port), "WORLD_SIZE": str(WORLD),
            "PYTHONPATH": os.pathsep.join(p for p in path if p)}


@pytest.fixture(scope="module")
def ranks(tmp_path_factory) -> list[dict[str, torch.Tensor]]:
    """What each of the 2 gloo ranks computed on its shard."""
    out = tmp_path_factory.mktemp("ranks")
    env = worker_env(free_port())
    procs = [subprocess.Popen([sys.executable, __file__, str(out)],
                              env={**env, "RANK": str(r), "LOCAL_RANK": str(r)})
             for r in range(WORLD)]
    try:
        codes = [p.wait(timeout=TIMEOUT) for p in procs]
    finally:
        for p in procs:
            p.kill()
    assert codes == [0] * WORLD
    return [torch.load(out / f"rank{r}.pt") for r in range(WORLD)]


@pytest.fixture(scope="module")
def reference() -> Iterator[dict[str, torch.Tensor]]:
    """The same quantities in this process, without a process group."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    model, data = problem()
    yield compute(data, model)
    torch.set_num_threads(threads)


def test_without_process_group_everything_is_the_identity():
    _, data = problem()
    assert shard(data) is data and is_main()
    assert init_from_env("cpu") == torch.device("cpu")
    t = torch.ones(2)
    assert data.all_sum(t) is t and data.whole is data


@pytest.mark.parametrize("key", ["hess", "G", "E", "hess_single", "G_single", "E_single",
                                 "means", "weights", "density", "ritz_values", "summary"])
def test_two_ranks_equal_one_process(ranks, reference, key):
    for got in ranks:
        assert rel(got[key], reference[key]) < TOL, key
    assert torch.equal(ranks[0][key], ranks[1][key])  # the recurrence stays in lockstep


def test_shards_are_balanced_per_class_and_cover_the_split(ranks):
    _, data = problem()
    idx = torch.cat([got["index"] for got in ranks])
    assert sorted(idx.tolist()) == list(range(data.N))
    assert [len(got["index"]) for got in ranks] == [5, 4]
    for c in range(C):
        assert sorted(int((data.y[got["index"]] == c).sum()) for got in ranks) == [1, 2]


def cli(*argv) -> None:
    assert main([str(a) for a in argv]) == 0


def assert_same_store(one: Path, two: Path) -> None:
    a, b = read_store(one), read_store(two)
    assert a.attrs == b.attrs and set(a.data_vars) == set(b.data_vars)
    for var in a.data_vars:
        np.testing.assert_allclose(b[var].values, a[var].values, rtol=TOL, atol=1e-14)


@pytest.mark.slow
def test_torchrun_commands_write_the_one_process_stores(tmp_path):
    """operator-spectrum and extract under `torchrun --standalone --nproc-per-node 2`: the
    stores equal the 1-process ones (G-minus-cross uses G products and the means)."""
    subset = tmp_path / "subset.zarr"
    cli("data", "subsample", "--dataset", "gmm", "--root", tmp_path, "--n-per-class", 5,
        "--seed", 0, "--out", subset, "--set", "num_classes=3", "--set", "dim=4",
        "--set", "n_train_per_class=5", "--set", "n_test_per_class=2")
    cli("train", "--subset", subset, "--root", tmp_path, "--net", "mlp", "--set",
        "depth=2", "--set", "hidden=5", "--lr", 0.05, "--epochs", 1, "--seed", 0,
        "--batch-size", 8, "--checkpoints", 1, "--device", "cpu", "--no-progress",
        "--out", tmp_path / "run")
    args = ["operator-spectrum", "--checkpoint", tmp_path / "run/checkpoints/epoch_0001.pt",
            "--subset", subset, "--root", tmp_path, "--split", "train", "--batch-size", 4,
            "--float64", "--operator", "G-minus-cross", "--M", 8, "--n-vec", 2, "--K", 64,
            "--M0", 8]
    extract = [*args[1:12], "--device", "cpu"]  # the network and data flags, --float64
    outputs = {run: {"spectrum": tmp_path / f"spectrum_{run}.zarr",
                     **{k: tmp_path / f"{k}_{run}.zarr" for k in ("means", "layers", "summary")}}
               for run in ("one", "two")}

    def commands(run: str) -> list[list]:
        out = outputs[run]
        return [[*args, "--out", out["spectrum"]],
                ["extract", *extract, *(x for k in ("means", "layers", "summary")
                                        for x in (f"--out-{k}", out[k]))]]

    for argv in commands("one"):
        cli(*argv)
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone",
                "--nproc-per-node", str(WORLD), "-m", "crossclass.cli", "--threads", "1"]
    env = {k: v for k, v in worker_env(0).items() if not k.startswith(("MASTER_", "WORLD_"))}
    for argv in commands("two"):
        subprocess.run([*torchrun, *map(str, argv)], env=env, check=True, timeout=TIMEOUT)
    for name, one in outputs["one"].items():
        assert_same_store(one, outputs["two"][name])


def run_worker(out: Path) -> None:
    """One rank: shard the problem's data, compute, save (with the shard's indices)."""
    torch.set_num_threads(1)
    init_from_env("cpu")
    model, data = problem()
    local = shard(data)
    assert isinstance(local, ShardedData) and local.whole is data
    result = compute(local, model)
    position = {tuple(x.tolist()): i for i, x in enumerate(data.X)}
    result["index"] = torch.tensor([position[tuple(x.tolist())] for x in local.X])
    torch.save(result, out / f"rank{torch.distributed.get_rank()}.pt")


if __name__ == "__main__":
    run_worker(Path(sys.argv[1]))
