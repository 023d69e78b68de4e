"""Reading back what a figure drew.

`drawn` draws a figure in-process through the `figure` command's `draw_figure` (the same name
and option checks as `crossclass figure`), checks that its PDF and PNG are real, non-blank
files, and returns the Figure; the helpers below pick its panels and plotted series apart so
that the tests can compare them with values read from the input stores.
"""

from __future__ import annotations

import matplotlib.image
import numpy as np
from crossclass.commands.figure import draw_figure
from crossclass.options import parse_options
from crossclass.stores import read_store, store_params
from matplotlib.collections import LineCollection, PathCollection
from matplotlib.colors import to_rgba
from matplotlib.lines import Line2D

RTOL = 1e-10  # plotted values are the stored ones, up to float round-off


def drawn(tmp, name, inputs, *options):
    """The Figure of `crossclass figure NAME --inputs ... --set option ...`, its files checked."""
    pdf = tmp / f"{name}.pdf"
    fig = draw_figure(name, [str(p) for p in inputs], str(pdf), parse_options(list(options)))
    check_files(pdf)
    assert_every_panel_drawn(fig)
    return fig


def check_files(pdf) -> None:
    """The PDF is a complete PDF file and the PNG beside it an image with colored pixels (the
    plotted series; an empty figure is black and white)."""
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF"), pdf
    image = matplotlib.image.imread(pdf.with_suffix(".png"))
    assert image.ndim == 3 and min(image.shape[:2]) > 300, image.shape
    rgb = image[..., :3]
    colored = int(((rgb.max(axis=-1) - rgb.min(axis=-1)) > 0.25).sum())
    assert colored > 20, f"{pdf.with_suffix('.png')}: {colored} colored pixels"


def panels(fig) -> list:
    """The axes that show data: visible with their axis on (hidden spare cells and switched-off
    placeholders left out), in creation order (row-major for subplots, twins last)."""
    return [ax for ax in fig.axes if ax.get_visible() and ax.axison]


def has_data(ax) -> bool:
    """Some line, scatter or bar of `ax` carries a finite value."""
    for line in ax.get_lines():
        if np.isfinite(np.asarray(line.get_ydata(), float)).any():
            return True
    for c in ax.collections:
        if isinstance(c, PathCollection) and len(c.get_offsets()):
            return True
    return any(p.get_height() > 0 for p in ax.patches if hasattr(p, "get_height"))


def assert_every_panel_drawn(fig) -> None:
    """No empty panel: every visible axes that is switched on has data."""
    shown = panels(fig)
    assert shown, "the figure has no panel"
    for ax in shown:
        assert has_data(ax), f"empty panel {ax.get_title()!r}"


def same_color(a, b) -> bool:
    return np.allclose(to_rgba(a), to_rgba(b))


def curves(ax, color=None) -> list[Line2D]:
    """The connected lines of `ax` (not marker-only), optionally of one color."""
    return [ln for ln in ax.get_lines() if ln.get_linestyle() not in ("None", "", " ")
            and (color is None or same_color(ln.get_color(), color))]


def dots(ax, color=None) -> list[Line2D]:
    """The marker-only lines of `ax` (eigenvalue markers), optionally of one color."""
    return [ln for ln in ax.get_lines() if ln.get_linestyle() in ("None", "", " ")
            and (color is None or same_color(ln.get_color(), color))]


def one(items: list, what: str):
    assert len(items) == 1, f"{len(items)} {what}, expected one"
    return items[0]


def xy(line: Line2D) -> tuple[np.ndarray, np.ndarray]:
    return np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float)


def assert_values(actual, expected, what: str, rtol: float = RTOL) -> None:
    """Equal shapes and values (relative to the largest expected magnitude)."""
    actual, expected = np.asarray(actual, float), np.asarray(expected, float)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    scale = np.abs(expected).max() if expected.size else 0.0
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=rtol * scale, err_msg=what)


def assert_differ(a, b, what: str) -> None:
    a, b = np.asarray(a, float), np.asarray(b, float)
    assert a.shape != b.shape or not np.allclose(a, b, rtol=1e-6), f"{what}: the same values"


def scatter_offsets(ax, color) -> np.ndarray:
    """(n, 2) points of the scatter of one color (empty when there is none)."""
    found = [c for c in ax.collections if isinstance(c, PathCollection)
             and len(c.get_offsets()) and same_color(c.get_facecolor()[0], color)]
    return np.asarray(one(found, f"scatters of {color}").get_offsets(), float) if found else \
        np.zeros((0, 2))


def whisker(ax) -> np.ndarray:
    """(y_low, y_high) of the one vertical error bar of `ax`."""
    bars = [c for c in ax.collections if isinstance(c, LineCollection)]
    segment = np.asarray(one(bars, "error bars").get_segments()[0], float)
    return np.sort(segment[:, 1])


def texts(ax) -> str:
    return "\n".join(t.get_text() for t in ax.texts)


# ---- values read from the stores -------------------------------------------------------

class Spectrum:
    """A spectrum store as the figures read it: x-axis (lambda, or log(|lambda| + eps) for log
    spectra), density, eps and the true top eigenvalues (descending)."""

    def __init__(self, path):
        self.path = path
        self.ds = ds = read_store(path)
        self.params = store_params(ds)
        self.log = "log_lambda" in ds
        self.eps = float(self.params.get("eps", 0.0))
        self.x = ds["log_lambda" if self.log else "lambda"].values
        self.density = ds["density"].values
        self.top = (np.sort(ds["top_eigenvalues"].values)[::-1] if "top_eigenvalues" in ds
                    else np.array([]))
        self.operator = ds["operator"].item() if "operator" in ds.coords else None

    def on_axis(self, values) -> np.ndarray:
        values = np.asarray(values, float)
        return np.log(np.abs(values) + self.eps) if self.log else values


def assert_density(ax, spectrum: Spectrum, color, what: str) -> None:
    """`ax` has one curve of `color` and it is the store's density on the store's grid."""
    x, y = xy(one(curves(ax, color), f"{color} curves in {what}"))
    assert_values(x, spectrum.x, f"{what}: density grid")
    assert_values(y, spectrum.density, f"{what}: density")


def assert_dots(ax, color, expected, what: str) -> None:
    """The marker-only line of `color` sits at `expected` (x positions, any order)."""
    found = dots(ax, color)
    if not np.size(expected):
        assert not found, f"{what}: unexpected markers"
        return
    x, _ = xy(one(found, f"{color} markers in {what}"))
    assert_values(np.sort(x), np.sort(np.asarray(expected, float)), f"{what}: markers")


def metrics(summary_path) -> dict[str, str]:
    """The formatted checkpoint metrics of a summary store, as a figure title prints them."""
    s = read_store(summary_path)
    return {"train error": f"train error {100 * float(s['train_error']):.1f}%",
            "test error": f"test error {100 * float(s['test_error']):.1f}%",
            "grad": f"||grad|| ({s['split'].item()}) {float(s['grad_norm']):.3g}"}


def assert_titled_with(title: str, summary_path) -> None:
    for text in metrics(summary_path).values():
        assert text in title, f"{text!r} not in {title!r}"
