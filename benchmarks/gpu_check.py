"""CUDA paths and GPU timings, in one run: Lanczos, curvature products, means and training.

Checks that every CUDA path agrees with the CPU in float64 on small problems, then measures
ratios and absolute times at paper scale (VGG11 on CIFAR-shaped inputs). Prints a Markdown
report and writes it to --out (default benchmarks/results/gpu_check.md). Needs a CUDA device.

    python benchmarks/gpu_check.py [--quick] [--out PATH]

The device image lacks zarr: install the wheels of zarr, numcodecs, donfig and google-crc32c
(Python 3.12, manylinux x86_64) into a folder on PYTHONPATH first, with workflow/ beside it.
"""

from __future__ import annotations

import argparse
import json
import time
import traceback
from pathlib import Path

import torch
from crossclass.curvature import (
    LabeledData,
    ModelFunction,
    extended_gradient_means,
    gauss_newton_operator,
    hessian_operator,
    residual_operator,
)
from crossclass.linalg import estimate_spectrum, wasserstein1
from crossclass.linalg.operator import LinearOperator
from crossclass.nets.mlp import mlp
from crossclass.nets.vgg import vgg11
from crossclass.training import TrainConfig, fit
from crossclass.verification import fig15a_matrix
from torch import nn


def timed(fn, repeats: int = 3) -> float:
    """Median wall time of fn() in seconds, CUDA synchronised, after one warm-up call."""
    fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


def check_lanczos(report: dict) -> None:
    """Fig. 15(a) on the GPU in float32 and float64: W1 against the exact spectrum."""
    for dtype in (torch.float64, torch.float32):
        A = fig15a_matrix(seed=0, dtype=dtype, device="cuda")
        exact = torch.linalg.eigvalsh(A.double()).cpu()
        op = LinearOperator.from_function(lambda X, A=A: A @ X, A.shape[0], dtype=dtype,
                                          device="cuda")
        start = time.perf_counter()
        est = estimate_spectrum(op, M=128, n_vec=10, seed=0, progress=False, deflate=3)
        torch.cuda.synchronize()
        seconds = time.perf_counter() - start
        w1 = wasserstein1(torch.as_tensor(est.grid), torch.as_tensor(est.density), exact)
        top = torch.as_tensor(est.top_eigenvalues).double().sort(descending=True).values
        report[f"lanczos_fig15a_{str(dtype)[6:]}"] = {
            "W1": float(w1), "seconds": seconds,
            "top3_error": float((top - exact.sort(descending=True).values[:3]).abs().max()),
        }
    A = fig15a_matrix(seed=0, dtype=torch.float32, device="cuda")
    op = LinearOperator.from_function(lambda X: A @ X, A.shape[0], dtype=torch.float32,
                                      device="cuda")
    block = timed(lambda: estimate_spectrum(op, M=128, n_vec=10, progress=False))
    single = timed(lambda: [estimate_spectrum(op, M=128, n_vec=1, seed=s, progress=False)
                            for s in range(10)])
    report["lanczos_block10_over_10_single"] = {"block_s": block, "single_s": single,
                                                "ratio": block / single}


def tiny_cnn() -> nn.Module:
    return nn.Sequential(nn.Conv2d(1, 3, 3), nn.BatchNorm2d(3), nn.ReLU(), nn.Flatten(),
                         nn.Linear(3 * 4 * 4, 4))


def check_curvature_agreement(report: dict) -> None:
    """Hv, Gv, Ev and the C^2 means on CUDA equal the CPU's in float64 (tiny CNN, eval BN)."""
    torch.manual_seed(0)
    model = tiny_cnn().double()
    model[1].running_mean.uniform_(-0.5, 0.5)
    model[1].running_var.uniform_(0.5, 1.5)
    model.eval()
    X = torch.randn(24, 1, 6, 6, dtype=torch.float64)
    y = torch.arange(4).repeat(6)
    out = {}
    results = {}
    for device in ("cpu", "cuda"):
        fn = ModelFunction(model.to(device))
        data = LabeledData(X, y, batch_size=7)
        V = torch.randn(fn.p, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
        V = V.to(device)
        results[device] = {
            "H": hessian_operator(fn, data).matmat(V).cpu(),
            "G": gauss_newton_operator(fn, data).matmat(V).cpu(),
            "E": residual_operator(fn, data).matmat(V).cpu(),
            "means": extended_gradient_means(fn, data, progress=False).means.cpu(),
        }
    for name in results["cpu"]:
        a, b = results["cpu"][name], results["cuda"][name]
        out[name] = float((a - b).norm() / a.norm())
    report["curvature_cuda_vs_cpu_rel_err_float64"] = out


def paper_scale(report: dict, quick: bool) -> None:
    """VGG11 (width 1, 28.5M parameters) on CIFAR-shaped data: products and means vs a gradient."""
    torch.manual_seed(0)
    C, n = 10, (20 if quick else 100)
    model = vgg11((3, 32, 32), C).cuda().eval()
    X = torch.randn(C * n, 3, 32, 32, device="cuda")
    y = torch.arange(C, device="cuda").repeat_interleave(n)
    data = LabeledData(X, y, batch_size=500)
    fn = ModelFunction(model)
    V1 = torch.randn(fn.p, 1, device="cuda")
    V10 = torch.randn(fn.p, 10, device="cuda")
    H = hessian_operator(fn, data)
    G = gauss_newton_operator(fn, data)
    E = residual_operator(fn, data)

    def gradient():
        model.zero_grad()
        for Xb, yb in zip(X.split(500), y.split(500), strict=True):
            nn.functional.cross_entropy(model(Xb), yb, reduction="sum").backward()

    t = {"gradient": timed(gradient), "Hv": timed(lambda: H.matmat(V1)),
         "Gv": timed(lambda: G.matmat(V1)), "Ev": timed(lambda: E.matmat(V1)),
         "H_block10": timed(lambda: H.matmat(V10), repeats=1),
         "means": timed(lambda: extended_gradient_means(fn, data, progress=False), repeats=1)}
    report["vgg11_cifar_shapes"] = {
        "p": fn.p, "N": C * n, "seconds": t,
        "ratios": {"Hv/grad": t["Hv"] / t["gradient"], "Gv/grad": t["Gv"] / t["gradient"],
                   "Ev/Hv": t["Ev"] / t["Hv"], "block10/(10 Hv)": t["H_block10"] / (10 * t["Hv"]),
                   "means/grad": t["means"] / t["gradient"]},
        "peak_memory_GiB": torch.cuda.max_memory_allocated() / 2**30,
    }


def training(report: dict, quick: bool, folder: Path) -> None:
    """Epoch time of our training loop on the GPU (VGG11 and the paper's 8 x 2048 MLP)."""
    n = 500 if quick else 2000
    splits = type("Splits", (), {})()
    g = torch.Generator().manual_seed(0)
    splits.x_train = torch.randn(10 * n, 3, 32, 32, generator=g)
    splits.y_train = torch.arange(10).repeat_interleave(n)
    splits.x_test, splits.y_test = splits.x_train[:1000], splits.y_train[:1000]
    out = {}
    for name, build in {"vgg11": lambda: vgg11((3, 32, 32), 10),
                        "mlp8x2048": lambda: mlp((3, 32, 32), 10, depth=8, hidden=2048)}.items():
        config = TrainConfig(lr=0.01, epochs=2, device="cuda", progress=False)
        start = time.perf_counter()
        fit(build, splits, config, folder / name)
        torch.cuda.synchronize()
        out[name] = {"examples": 10 * n, "seconds_per_epoch": (time.perf_counter() - start) / 2}
    report["training"] = out


def markdown(report: dict) -> str:
    lines = ["# GPU check", "", f"Device: {report['device']}; torch {report['torch']}.", "",
             "```json", json.dumps(report, indent=2), "```", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/gpu_check.md"))
    args = parser.parse_args()
    if not torch.cuda.is_available():
        raise SystemExit("gpu_check needs a CUDA device")
    report = {"device": torch.cuda.get_device_name(), "torch": torch.__version__, "errors": {}}
    steps = [("lanczos", lambda: check_lanczos(report)),
             ("curvature_agreement", lambda: check_curvature_agreement(report)),
             ("paper_scale", lambda: paper_scale(report, args.quick)),
             ("training", lambda: training(report, args.quick, args.out.parent / "gpu_runs"))]
    for name, step in steps:
        try:
            step()
        except Exception:  # record and go on: one failing path must not hide the others
            report["errors"][name] = traceback.format_exc(limit=3)
        print(f"{name} done", flush=True)
    text = markdown(report)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
