"""VGG11 spectra on one GPU, ready to run on a bare machine: products, means, density, top-C.

Full-width VGG11-BN (crossclass.nets.vgg, eval mode) on a CIFAR-shaped batch (N images
3 x 32 x 32, C = 10 balanced classes, Gaussian pixels), float32 with TF32 off. Measures, CUDA
synchronised, with the peak GPU memory of each step:
  gradient, Hv, Gv, Ev (one product each; median of 3 after a warm-up)
  H and G blocks of 10 vectors (against ten single products)
  all C^2 extended-gradient means
  density M = 128, n_vec = 10 (estimate_spectrum, bounds from the same block run)
  top-C eigenpairs of the Hessian (block Lanczos, residual tol 1e-5 ||H||, <= 60 blocks)
and writes a Markdown report to --out (default benchmarks/results/gpu_vgg11.md, beside gpu.md).

Imports torch, numpy and the standard library only, plus crossclass from this checkout's
`workflow/` folder (put on sys.path below), so a GPU machine with torch needs nothing else
installed. If tqdm is missing, a silent stand-in is installed first.
Budget: under 8 minutes on an H100/H200 at the defaults (N = 1024).

  python benchmarks/gpu_spectra.py [--N 1024] [--out PATH]      # on the GPU
  python benchmarks/gpu_spectra.py --tiny                         # seconds, on the CPU
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import time
import types
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "workflow"))


def _tqdm_stand_in() -> None:
    """A silent `tqdm.auto` (tqdm, trange) when tqdm is not installed."""
    if importlib.util.find_spec("tqdm") is not None:
        return

    class Silent:
        def __init__(self, iterable=None, *args, **kwargs):
            self.iterable = iterable

        def __iter__(self):
            return iter(self.iterable)

        def update(self, n=1):
            pass

        def close(self):
            pass

    auto = types.ModuleType("tqdm.auto")
    auto.tqdm = Silent
    auto.trange = lambda *args, **kwargs: Silent(range(*args))
    package = types.ModuleType("tqdm")
    package.auto = auto
    sys.modules.update({"tqdm": package, "tqdm.auto": auto})


_tqdm_stand_in()

from crossclass.curvature import (  # noqa: E402
    LabeledData,
    ModelFunction,
    extended_gradient_means,
    gauss_newton_operator,
    hessian_operator,
    residual_operator,
)
from crossclass.linalg import estimate_spectrum, top_eigenpairs  # noqa: E402
from crossclass.nets.vgg import vgg11  # noqa: E402

C = 10


class Meter:
    """Synchronised wall time and peak memory (MiB above the start) of each step."""

    def __init__(self, device: torch.device):
        self.device, self.rows = device, []
        self.cuda = device.type == "cuda"

    def sync(self) -> None:
        if self.cuda:
            torch.cuda.synchronize(self.device)

    def __call__(self, name: str, fn, repeats: int = 1):
        """Run fn (warm-up first when repeats > 1); record the median time and the peak."""
        if repeats > 1:
            fn()
        if self.cuda:
            torch.cuda.reset_peak_memory_stats(self.device)
        base = torch.cuda.memory_allocated(self.device) if self.cuda else 0
        times, out = [], None
        for _ in range(repeats):
            self.sync()
            start = time.perf_counter()
            out = fn()
            self.sync()
            times.append(time.perf_counter() - start)
        peak = (torch.cuda.max_memory_allocated(self.device) - base) / 2**20 if self.cuda else 0
        self.rows.append((name, statistics.median(times), peak))
        print(f"{name}: {statistics.median(times):.4g} s, peak +{peak:.0f} MiB", flush=True)
        return out

    def seconds(self, name: str) -> float:
        return next(t for n, t, _ in self.rows if n == name)


def run(N: int, width: float, M: int, n_vec: int, batch_size: int, device: torch.device,
        repeats: int = 3, tol: float = 1e-5) -> str:
    """All measurements (products: median of `repeats` after a warm-up when repeats > 1;
    top-C to residual tol ||H||, at most 60 blocks); returns the Markdown report."""
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.manual_seed(0)
    model = vgg11((3, 32, 32), C, width=width).to(device)
    y = torch.arange(C).repeat_interleave(N // C)
    X = torch.randn(len(y), 3, 32, 32)
    data = LabeledData(X, y, batch_size=batch_size)
    fn = ModelFunction(model)
    H, G, E = (build(fn, data) for build in (hessian_operator, gauss_newton_operator,
                                              residual_operator))
    g = torch.Generator().manual_seed(0)
    v = torch.randn(fn.p, 1, generator=g).to(device)
    V = torch.randn(fn.p, 10, generator=g).to(device)
    meter = Meter(device)

    def gradient():
        total = torch.zeros_like(fn.theta)
        for Xb, yb in data.batches(device, fn.dtype):
            total += torch.func.grad(lambda t, Xb=Xb, yb=yb: torch.nn.functional.cross_entropy(
                fn(t, Xb), yb, reduction="sum"))(fn.theta)
        return total / data.N

    meter("gradient", gradient, repeats)
    meter("Hv", lambda: H.matmat(v), repeats)
    meter("Gv", lambda: G.matmat(v), repeats)
    meter("Ev", lambda: E.matmat(v), repeats)
    meter("H block of 10", lambda: H.matmat(V), repeats)
    meter("G block of 10", lambda: G.matmat(V), repeats)
    meter("all C^2 means", lambda: extended_gradient_means(fn, data, progress=False))
    est = meter(f"density M = {M}, n_vec = {n_vec}",
                lambda: estimate_spectrum(H, M=M, n_vec=n_vec, progress=False))
    top = meter(f"top-{C} eigenpairs (Hessian)",
                lambda: top_eigenpairs(H, C, tol=tol, max_blocks=60, progress=False))
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    lines = [f"# VGG11 spectra on {name}", "",
             f"torch {torch.__version__}, float32, TF32 off; VGG11-BN width {width}, "
             f"p = {fn.p:,}, N = {N} CIFAR-shaped images, batch {batch_size}.", "",
             "| step | seconds | peak memory above start (MiB) |", "|---|---|---|"]
    lines += [f"| {n} | {t:.4g} | {m:.0f} |" for n, t, m in meter.rows]
    grad_s = meter.seconds("gradient")
    ratios = {
        "Hv / gradient": meter.seconds("Hv") / grad_s,
        "Gv / gradient": meter.seconds("Gv") / grad_s,
        "Ev / Hv": meter.seconds("Ev") / meter.seconds("Hv"),
        "H block of 10 / 10 Hv": meter.seconds("H block of 10") / (10 * meter.seconds("Hv")),
        "G block of 10 / 10 Gv": meter.seconds("G block of 10") / (10 * meter.seconds("Gv")),
        "all C^2 means / gradient": meter.seconds("all C^2 means") / grad_s,
    }
    lines += ["", "| ratio | value |", "|---|---|"]
    lines += [f"| {k} | {r:.3f} |" for k, r in ratios.items()]
    lines += ["", f"Density bounds [{est.lambda_min:.4g}, {est.lambda_max:.4g}]; top-{C} "
              f"eigenvalues {', '.join(f'{x:.4g}' for x in top.values.tolist())}; largest "
              f"relative residual {float(top.residuals.max() / top.values.abs().max()):.1e} "
              f"(tol {tol:g})."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true",
                        help="width 1/16, N = 10, M = 4, n_vec = 2, tol 1e-3, no repeats "
                        "(a CPU proof)")
    parser.add_argument("--N", type=int, default=1024, help="images (a multiple of 10)")
    parser.add_argument("--batch-size", type=int, default=512)
    parser.add_argument("--device", default=None, help="default: cuda if available, else cpu")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/gpu_vgg11.md")
    args = parser.parse_args(argv)
    device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    if args.tiny:
        report = run(10, 1 / 16, 4, 2, 10, device, repeats=1, tol=1e-3)
    else:
        report = run(args.N, 1.0, 128, 10, args.batch_size, device)
    print(report)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report)
    return report


if __name__ == "__main__":
    main()
