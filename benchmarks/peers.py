"""crossclass against its peers, side by side in one run, on the same operator and data.

Peers (the optional `bench` extra, never a runtime dependency): curvlinops (HessianLinearOperator,
GGNLinearOperator, `lanczos_approximate_spectrum`, scipy `eigsh` through `.to_scipy()`),
hessian-eigenthings (`lanczos` on a LambdaOperator of the same Hessian products) and PyHessian
(`hessian.eigenvalues`, power iteration with deflation; its `density` no longer runs on
current torch). Models: an MLP 784-256-256-10 and a small CNN with BatchNorm (eval mode), on
synthetic class-structured data (N examples, C = 10), trained for a few hundred SGD steps so
that the Hessian has its class outliers; float32, torch threads as given.

Sections (every timing: seconds of --clock, wall or process CPU, median and [min, max] of
interleaved repeats):
  products  gradient, Hv, Gv, Ev (fused) vs curvlinops Hv, Gv, (H - G)v; a 10-vector block vs
            ten single products (ours H and G, curvlinops matmat)
  topk      top-10 eigenpairs by magnitude: ours (block Lanczos, tol), SubspaceIteration
            (T iterations), scipy eigsh through curvlinops (same tol), hessian-eigenthings,
            PyHessian (MLP only, once: it is slow); relative residual max ||Hv - lv|| / ||H||
            and eigenvalue error against a tight reference, all with our products
  density   M = 128, n_vec = 10: ours, ours deflated by the top 10 (krylov), curvlinops
            `lanczos_approximate_spectrum`; the share of our time spent in operator products
  accuracy  W1 against exact spectra: Fig. 15a (2000 x 2000), and the Hessian of a small MLP
            (p about 3k, dense eigvalsh), ours vs curvlinops at the same M, n_vec, kappa
  scaling   one Lanczos step (H block of 10) vs N and vs p (the O(M N p) cost of a density)
Prints the tables and writes benchmarks/results/peers.md.

  python benchmarks/peers.py [--quick] [--repeats 3] [--threads 2] [--sections products,...]
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from crossclass.curvature import (
    LabeledData,
    ModelFunction,
    gauss_newton_operator,
    hessian_operator,
    residual_operator,
)
from crossclass.linalg import (
    LinearOperator,
    estimate_spectrum,
    exact_eigenvalues,
    subspace_iteration,
    top_eigenpairs,
    wasserstein1,
)
from crossclass.verification import fig15a_matrix
from torch.func import grad

RESULTS = Path(__file__).resolve().parent / "results"
C = 10
SECTIONS = ("products", "topk", "density", "accuracy", "scaling")
CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}
clock = time.perf_counter  # the timer of every measurement, set by --clock


# ---- problems ---------------------------------------------------------------------------------

def mlp(width: int = 256, d: int = 784) -> torch.nn.Module:
    return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(d, width), torch.nn.ReLU(),
                               torch.nn.Linear(width, width), torch.nn.ReLU(),
                               torch.nn.Linear(width, C))


def cnn(channels: int = 24) -> torch.nn.Module:
    def block(cin, cout):
        return [torch.nn.Conv2d(cin, cout, 3, padding=1), torch.nn.BatchNorm2d(cout),
                torch.nn.ReLU(), torch.nn.MaxPool2d(2)]
    return torch.nn.Sequential(*block(3, channels), *block(channels, 2 * channels),
                               torch.nn.Flatten(), torch.nn.Linear(2 * channels * 16, C))


def problem(kind: str, N: int, *, width: int = 256, steps: int = 300, seed: int = 0,
            d: int = 784):
    """(model in eval mode, X, y): synthetic balanced classes (a mean per class plus noise),
    the model (an MLP on d inputs, or the CNN) trained by `steps` SGD steps (batch 128) so
    that class outliers appear."""
    torch.manual_seed(seed)
    shape = (d,) if kind.startswith("mlp") else (3, 16, 16)
    d = int(np.prod(shape))
    y = torch.arange(C).repeat_interleave(N // C)
    means = torch.randn(C, d)
    X = (means[y] + 2.0 * torch.randn(len(y), d)).reshape(len(y), *shape)
    model = mlp(width, d) if kind.startswith("mlp") else cnn()
    opt = torch.optim.SGD(model.parameters(), lr=0.02, momentum=0.9)
    model.train()
    for _ in range(steps):
        idx = torch.randint(0, len(y), (128,))
        opt.zero_grad()
        F.cross_entropy(model(X[idx]), y[idx]).backward()
        opt.step()
    model.eval()
    return model, X, y


class Setup:
    """Our operators and curvlinops' on one model and one data split (same batches)."""

    def __init__(self, model, X, y, batch_size: int = 1024):
        from curvlinops import GGNLinearOperator, HessianLinearOperator

        self.model, self.X, self.y = model, X, y
        self.data = LabeledData(X, y, batch_size=batch_size)
        self.fn = ModelFunction(model)
        self.p = self.fn.p
        self.H = hessian_operator(self.fn, self.data)
        self.G = gauss_newton_operator(self.fn, self.data)
        self.E = residual_operator(self.fn, self.data)
        batches = [(X[i:i + batch_size], y[i:i + batch_size])
                   for i in range(0, len(y), batch_size)]
        params = [p for p in model.parameters() if p.requires_grad]
        loss = torch.nn.CrossEntropyLoss()
        common = dict(progressbar=False, check_deterministic=False)
        self.Hc = HessianLinearOperator(model, loss, params, batches, **common)
        self.Gc = GGNLinearOperator(model, loss, params, batches, **common)

    def gradient(self) -> torch.Tensor:
        total = torch.zeros_like(self.fn.theta)
        for Xb, yb in self.data.batches(self.fn.device, self.fn.dtype):
            total += grad(lambda t, Xb=Xb, yb=yb: F.cross_entropy(
                self.fn(t, Xb), yb, reduction="sum"))(self.fn.theta)
        return total / self.data.N


# ---- timing -----------------------------------------------------------------------------------

class Timings:
    """Interleaved repeats: `run(tasks)` times every task once per round, in order, after
    an untimed warm-up round when `warmup`."""

    def __init__(self):
        self.samples: dict[str, list[float]] = {}
        self.results: dict[str, object] = {}

    def run(self, tasks: dict[str, Callable[[], object]], repeats: int,
            warmup: bool = False) -> None:
        for task in tasks.values() if warmup else ():
            task()
        for _ in range(repeats):
            for name, task in tasks.items():
                start = clock()
                self.results[name] = task()
                self.samples.setdefault(name, []).append(clock() - start)

    def median(self, name: str) -> float:
        return statistics.median(self.samples[name])

    def cell(self, name: str) -> str:
        s = self.samples[name]
        return f"{statistics.median(s):.3g} [{min(s):.3g}, {max(s):.3g}]"


def table(title: str, header: list[str], rows: list[list]) -> str:
    lines = [f"### {title}", "", "| " + " | ".join(header) + " |",
             "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def ratio(t: Timings, a: str, b: str, times_b: float = 1.0) -> str:
    return f"{t.median(a) / (times_b * t.median(b)):.2f}"


# ---- sections ---------------------------------------------------------------------------------

def products(name: str, s: Setup, repeats: int) -> str:
    g = torch.Generator().manual_seed(0)
    v = torch.randn(s.p, 1, generator=g)
    V = torch.randn(s.p, 10, generator=g)
    t = Timings()
    t.run({"gradient": s.gradient, "Hv": lambda: s.H.matmat(v), "Gv": lambda: s.G.matmat(v),
           "Ev": lambda: s.E.matmat(v), "curvlinops Hv": lambda: s.Hc @ v,
           "curvlinops Gv": lambda: s.Gc @ v,
           "curvlinops (H - G)v": lambda: s.Hc @ v - s.Gc @ v,
           "H block 10": lambda: s.H.matmat(V), "G block 10": lambda: s.G.matmat(V),
           "curvlinops H @ V10": lambda: s.Hc @ V, "curvlinops G @ V10": lambda: s.Gc @ V},
          repeats, warmup=True)
    agree = float((t.results["Hv"] - t.results["curvlinops Hv"]).norm()
                  / t.results["curvlinops Hv"].norm())
    rows = [[k, t.cell(k)] for k in t.samples]
    ratios = [
        ["Hv / curvlinops Hv", ratio(t, "Hv", "curvlinops Hv"), ""],
        ["Gv / curvlinops Gv", ratio(t, "Gv", "curvlinops Gv"), ""],
        ["Ev / curvlinops (H - G)v", ratio(t, "Ev", "curvlinops (H - G)v"), ""],
        ["Hv / gradient", ratio(t, "Hv", "gradient"), ""],
        ["H block 10 / 10 Hv", ratio(t, "H block 10", "Hv", 10), "<= 0.6"],
        ["G block 10 / 10 Gv", ratio(t, "G block 10", "Gv", 10), "<= 0.6"],
        ["curvlinops H @ V10 / 10 Hv", ratio(t, "curvlinops H @ V10", "curvlinops Hv", 10), ""],
        ["curvlinops G @ V10 / 10 Gv", ratio(t, "curvlinops G @ V10", "curvlinops Gv", 10), ""],
    ]
    return (table(f"{name}: products (p = {s.p:,}, N = {s.data.N}; our Hv vs curvlinops' "
                  f"relative difference {agree:.1e})", ["quantity", "s"], rows)
            + "\n" + table(f"{name}: product ratios", ["ratio", "value", "target"], ratios))


class Counted(LinearOperator):
    """`op` with the CPU time and the number of columns of its products recorded."""

    def __init__(self, op: LinearOperator):
        self.seconds, self.columns = 0.0, 0

        def matmat(X):
            start = clock()
            out = op.matmat(X)
            self.seconds += clock() - start
            self.columns += X.shape[1]
            return out
        super().__init__(op.shape, matmat, dtype=op.dtype, device=op.device)


def relative_residuals(op: LinearOperator, values, vectors, norm: float) -> float:
    vectors = torch.as_tensor(vectors, dtype=op.dtype)
    values = torch.as_tensor(values, dtype=op.dtype)
    vectors = vectors / vectors.norm(dim=0, keepdim=True)
    return float((op.matmat(vectors) - vectors * values).norm(dim=0).max()) / norm


def topk(name: str, s: Setup, repeats: int, tol: float, iters: int, pyhessian: bool) -> str:
    import scipy.sparse.linalg as sla
    from hessian_eigenthings import LambdaOperator
    from hessian_eigenthings import lanczos as he_lanczos

    k = 10
    with warnings.catch_warnings():  # a tighter run stops at the float32 round-off floor
        warnings.simplefilter("ignore")
        reference = top_eigenpairs(s.H, k, tol=tol / 10, progress=False)
    norm = float(reference.values.abs().max())
    exact = reference.values.double()
    he_op = LambdaOperator(lambda x: s.H.matvec(x), s.p, dtype=torch.float32)
    scipy_H = s.Hc.to_scipy()

    def eigsh():
        w, Z = sla.eigsh(scipy_H, k=k, which="LM", tol=tol)
        order = np.argsort(-np.abs(w))
        return torch.as_tensor(w[order].copy()), torch.as_tensor(Z[:, order].copy())

    def eigenthings():
        res = he_lanczos(he_op, k=k, seed=0)
        return res.eigenvalues, res.eigenvectors.T

    counted = Counted(s.H)
    tasks = {
        "ours (block Lanczos)": lambda: top_eigenpairs(counted, k, tol=tol, progress=False),
        "ours (block Lanczos, b = 10)": lambda: top_eigenpairs(s.H, k, tol=tol, block=10,
                                                              progress=False),
        f"SubspaceIteration T = {iters}": lambda: subspace_iteration(s.H, k, iters,
                                                                     progress=False),
        "scipy eigsh (curvlinops)": eigsh,
        "hessian-eigenthings lanczos": eigenthings,
    }
    t = Timings()
    t.run(tasks, repeats)
    blocks_used = counted.columns // repeats
    if pyhessian:
        t.run({"PyHessian eigenvalues": lambda: _pyhessian(s, k)}, 1)
    rows = []
    for key in t.samples:
        out = t.results[key]
        if key == "PyHessian eigenvalues":
            values, vectors = out
        elif hasattr(out, "values"):
            values, vectors = out.values, out.vectors
        else:
            values, vectors = out
        values = torch.as_tensor(values, dtype=torch.float64)
        values = values[torch.argsort(values.abs(), descending=True)]
        err = float((values - exact).abs().max()) / norm
        res = relative_residuals(s.H, out[0] if isinstance(out, tuple) else out.values,
                                 out[1] if isinstance(out, tuple) else out.vectors, norm)
        rows.append([key, t.cell(key), f"{t.median(key) / t.median(list(t.samples)[0]):.2f}",
                     f"{res:.1e}", f"{err:.1e}"])
    return table(f"{name}: top-{k} eigenpairs by magnitude (tol = {tol:g}; ours used "
                 f"{blocks_used} product columns per run)",
                 ["method", "s", "/ ours", "max ||Hv - lv|| / ||H||",
                  "max |l - l_ref| / ||H||"], rows)


def _pyhessian(s: Setup, k: int):
    from pyhessian import hessian

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        h = hessian(s.model, torch.nn.CrossEntropyLoss(), data=(s.X, s.y), cuda=False)
        values, vectors = h.eigenvalues(top_n=k)
    return (torch.tensor(values),
            torch.stack([torch.cat([p.reshape(-1) for p in v]) for v in vectors], dim=1))


def density(name: str, s: Setup, repeats: int, M: int, n_vec: int) -> str:
    from curvlinops import lanczos_approximate_spectrum

    counted = Counted(s.H)
    kwargs = dict(M=M, n_vec=n_vec, progress=False)
    tasks = {
        "ours": lambda: estimate_spectrum(counted, **kwargs),
        "ours deflated (top 10)": lambda: estimate_spectrum(s.H, deflate=10, **kwargs),
        "curvlinops lanczos_approximate_spectrum": lambda: lanczos_approximate_spectrum(
            s.Hc, M, num_repeats=n_vec),
    }
    t = Timings()
    t.run(tasks, repeats)
    share = counted.seconds / sum(t.samples["ours"])
    rows = [[key, t.cell(key)] for key in t.samples]
    ours, cl = t.median("ours"), t.median("curvlinops lanczos_approximate_spectrum")
    ratios = [["curvlinops / ours", f"{cl / ours:.2f}", ">= 3"],
              ["ours deflated / ours", f"{t.median('ours deflated (top 10)') / ours:.2f}",
               "<= 1.25"],
              ["share of our time in operator products", f"{share:.2f}", ""],
              ["our product columns per density", f"{counted.columns // repeats}", ""]]
    return (table(f"{name}: density (M = {M}, n_vec = {n_vec})", ["estimator", "s"], rows)
            + "\n" + table(f"{name}: density ratios", ["ratio", "value", "target"], ratios))


class DenseCurvlinops:
    """A dense symmetric matrix as a curvlinops PyTorchLinearOperator (built lazily)."""

    def __new__(cls, A: torch.Tensor):
        from curvlinops._torch_base import PyTorchLinearOperator

        class Dense(PyTorchLinearOperator):
            SELF_ADJOINT = True

            def __init__(self):
                super().__init__([(A.shape[0],)], [(A.shape[0],)])

            @property
            def dtype(self):
                return A.dtype

            @property
            def device(self):
                return A.device

            def _matmat(self, X):
                return [A @ X[0]]
        return Dense()


def accuracy(M: int, n_vec: int, seeds: int) -> str:
    from crossclass.linalg import DenseOperator
    from curvlinops import lanczos_approximate_spectrum

    rows = []
    model, X, y = problem("mlp-small", 200, width=32, steps=200, d=64)  # p = 3,498: dense eigh
    model = model.double()
    small = Setup(model, X.double(), y, batch_size=200)
    hessian = small.H.to_dense()  # one matrix; the seeds vary the start vectors
    cases = {"Fig. 15a (p = 2000)": lambda seed: fig15a_matrix(seed).double(),
             f"MLP Hessian (p = {small.p})": lambda seed: hessian}
    for case, matrix in cases.items():
        ours, theirs = [], []
        for seed in range(seeds):
            A = matrix(seed)
            exact = exact_eigenvalues(DenseOperator(A, symmetric=True))
            est = estimate_spectrum(DenseOperator(A, symmetric=True), M=M, n_vec=n_vec,
                                    seed=seed, progress=False)
            ours.append(wasserstein1(est.grid, est.density, exact))
            torch.manual_seed(seed)
            # its own boundary search (ARPACK) did not converge on Fig. 15a (peers.md):
            # it gets the exact boundaries, an advantage ours (from its own run) lacks
            grid, dens = lanczos_approximate_spectrum(
                DenseCurvlinops(A), M, num_repeats=n_vec,
                boundaries=(float(exact[0]), float(exact[-1])))
            theirs.append(wasserstein1(grid, dens, exact))
        width = float(exact[-1] - exact[0])
        rows.append([case, f"{np.mean(ours):.4f}", f"{np.mean(theirs):.4f}", f"{width:.3g}"])
    return table(f"accuracy: W1 to the exact spectrum (M = {M}, n_vec = {n_vec}, mean of "
                 f"{seeds} seeds; curvlinops given the exact spectral boundaries)",
                 ["matrix", "ours", "curvlinops", "spectrum width"], rows)


def scaling(repeats: int, Ns: list[int], widths: list[int]) -> str:
    rows = []
    t = Timings()
    setups = {}
    for N, width in [(N, 256) for N in Ns] + [(Ns[-1], w) for w in widths if w != 256]:
        model, X, y = problem("mlp", N, width=width, steps=50)
        data = LabeledData(X, y, batch_size=1024)
        setups[(N, width)] = hessian_operator(ModelFunction(model), data)
    V = {key: torch.randn(op.shape[0], 10) for key, op in setups.items()}
    t.run({f"{key}": (lambda op=op, key=key: op.matmat(V[key])) for key, op in setups.items()},
          repeats, warmup=True)
    for (N, width), op in setups.items():
        sec = t.median(f"{(N, width)}")
        rows.append([N, f"{op.shape[0]:,}", t.cell(f"{(N, width)}"),
                     f"{1e9 * sec / (N * op.shape[0]):.2f}"])
    return table("scaling: one Lanczos step (H block of 10 vectors) vs N and p",
                 ["N", "p", "s", "ns / (N p)"], rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small N and M (a smoke run)")
    parser.add_argument("--repeats", type=int, default=3, help="products and scaling")
    parser.add_argument("--slow-repeats", type=int, default=1, help="top-k and density")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--clock", choices=CLOCKS, default="wall",
                        help="wall seconds (an idle machine) or process CPU seconds (a shared "
                             "one; they favour peers whose serial parts leave cores idle)")
    parser.add_argument("--sections", default=",".join(SECTIONS))
    parser.add_argument("--tol", type=float, default=1e-4,
                        help="top-k residual tolerance (above the float32 products' floor)")
    parser.add_argument("--density-N", type=int, default=None,
                        help="N of the density section (default: that of the others)")
    parser.add_argument("--no-pyhessian", dest="pyhessian", action="store_false")
    parser.add_argument("--out", type=Path, default=RESULTS / "peers.md")
    args = parser.parse_args()
    global clock
    torch.set_num_threads(args.threads)
    clock = CLOCKS[args.clock]
    sections = args.sections.split(",")
    N, M = (256, 24) if args.quick else (2048, 128)
    parts = [f"# crossclass vs peers (torch {torch.__version__}, {args.threads} threads, "
             f"{args.repeats} interleaved repeats, {args.clock} seconds: median [min, max])\n"]

    def emit(text: str) -> None:
        print(text, flush=True)
        parts.append(text)
        args.out.parent.mkdir(exist_ok=True)
        args.out.write_text("\n".join(parts))

    nets = {}
    if {"products", "topk", "density"} & set(sections):
        nets["MLP"] = Setup(*problem("mlp", N))
    if "products" in sections:
        nets["CNN"] = Setup(*problem("cnn", N))
        for name, s in nets.items():
            emit(products(name, s, args.repeats))
    if "topk" in sections:
        emit(topk("MLP", nets["MLP"], args.slow_repeats, args.tol, 32, args.pyhessian))
    if "density" in sections:
        dN = args.density_N or N
        s = nets["MLP"] if dN == N else Setup(*problem("mlp", dN))
        emit(density(f"MLP, N = {s.data.N}", s, args.slow_repeats, M, 10))
    if "accuracy" in sections:
        emit(accuracy(M, 10, 1 if args.quick else 3))
    if "scaling" in sections:
        emit(scaling(args.repeats, [128, 256] if args.quick else [512, 1024, 2048],
                     [64, 128] if args.quick else [128, 512]))


if __name__ == "__main__":
    main()
