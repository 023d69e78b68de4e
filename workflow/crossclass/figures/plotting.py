"""Plotting helpers shared by the figure modules: saving, the histogram panel, eigenvalue
markers and the checkpoint metrics line of a subtitle."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from crossclass.linalg.spectrum import read_spectrum
from crossclass.stores import read_store  # noqa: E402

EXACT_COLOR = "tab:blue"
ESTIMATE_COLOR = "tab:red"


def save(fig: plt.Figure, output: str | os.PathLike) -> tuple[Path, Path]:
    """Write `fig` as the PDF `output` and a PNG beside it (same stem), then close it."""
    pdf = Path(output)
    png = pdf.with_suffix(".png")
    pdf.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    for path, kwargs in ((pdf, {}), (png, {"dpi": 150})):
        tmp = path.with_name(f".{path.name}.tmp{path.suffix}")
        fig.savefig(tmp, **kwargs)
        os.replace(tmp, path)
    plt.close(fig)
    return pdf, png


def histogram_vs_density(
    ax: plt.Axes,
    samples: np.ndarray,
    grid: np.ndarray,
    density: np.ndarray,
    *,
    bins: int,
    xlabel: str,
) -> None:
    """Histogram (as a density) of exact `samples` in blue, an estimated density in red, log y.

    samples: (p,) exact eigenvalues (or their logs). grid, density: (K,) the estimate on its grid.
    """
    heights, _, _ = ax.hist(samples, bins=bins, density=True, color=EXACT_COLOR, alpha=0.6,
                            label=f"exact eigenvalues ({bins}-bin histogram)")
    ax.plot(grid, density, color=ESTIMATE_COLOR, lw=1.5, label="Lanczos estimate")
    ax.set_yscale("log")
    positive = heights[heights > 0]
    if positive.size:
        ax.set_ylim(bottom=positive.min() / 10, top=max(positive.max(), density.max()) * 3)
    visible = grid[density >= density.max() * 1e-4]
    lo, hi = min(samples.min(), visible.min()), max(samples.max(), visible.max())
    ax.set_xlim(lo - 0.03 * (hi - lo), hi + 0.03 * (hi - lo))
    ax.set_xlabel(xlabel)
    ax.set_ylabel("density")
    ax.legend(loc="upper right", fontsize="small")


def mark_eigenvalues(ax: plt.Axes, x: np.ndarray, height: float, **style) -> None:
    """Dots at eigenvalue positions x, at `height` (a fraction of the panel's height), without
    letting them change the y-limits set by the densities already drawn."""
    ylim = ax.get_ylim()
    ax.plot(x, np.full(np.size(x), height), "o", transform=ax.get_xaxis_transform(), **style)
    ax.set_ylim(ylim)


def metrics_line(summary) -> str:
    """'train error e%, loss l; test error e%, loss l; ||grad|| g' of a summary store
    (eval mode, the checkpoint's epoch); grad norm on the store's split."""
    def value(name, percent=False):
        v = float(summary[name]) if name in summary else float("nan")
        return f"{100 * v:.1f}%" if percent else f"{v:.3g}"
    return (f"train error {value('train_error', True)}, loss {value('train_loss')}; "
            f"test error {value('test_error', True)}, loss {value('test_loss')}; "
            f"||grad|| ({summary['split'].item()}) {value('grad_norm')}")


def split_stores(inputs: list[str]) -> tuple[list, list]:
    """(spectrum stores, summary stores) of `inputs`: two lists of Datasets, in order, the
    spectra checked like read_spectrum."""
    spectra, summaries = [], []
    for path in inputs:
        ds = read_store(path)
        if "density" in ds:
            spectra.append(read_spectrum(path))
        else:
            summaries.append(ds)
    return spectra, summaries


def compact_x_ticks(ax) -> None:
    """At most 5 x ticks and a shared power of ten: small eigenvalues (1e-4) otherwise get
    long labels that run into each other."""
    ax.xaxis.set_major_locator(MaxNLocator(5))
    ax.ticklabel_format(axis="x", style="sci", scilimits=(-2, 3))
