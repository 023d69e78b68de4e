"""benchmarks/gpu_spectra.py runs end to end at its --tiny size on the CPU (the GPU run is the
same code at full size) and writes its report: every step timed, the ratios the quotients of
those times, and its top eigenpairs converged to the tolerance it states."""

import importlib.util
import math
import re
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "gpu_spectra.py"
STEPS = ("gradient", "Hv", "Gv", "Ev", "H block of 10", "G block of 10", "all C^2 means")


def test_gpu_script_tiny(tmp_path):
    spec = importlib.util.spec_from_file_location("gpu_spectra", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = tmp_path / "gpu.md"
    report = module.main(["--tiny", "--device", "cpu", "--out", str(out)])
    assert out.read_text() == report
    rows = dict(re.findall(r"^\| ([^|]+?) \| ([0-9.e+-]+) \|", report, re.M))
    seconds = {step: float(rows[step]) for step in STEPS}
    assert all(math.isfinite(t) and t > 0 for t in seconds.values()), seconds
    assert any(k.startswith("density M = 4") for k in rows)
    assert any(k.startswith("top-10 eigenpairs") for k in rows)
    quotients = {"Hv / gradient": seconds["Hv"] / seconds["gradient"],
                 "Ev / Hv": seconds["Ev"] / seconds["Hv"],
                 "H block of 10 / 10 Hv": seconds["H block of 10"] / (10 * seconds["Hv"]),
                 "all C^2 means / gradient": seconds["all C^2 means"] / seconds["gradient"]}
    for name, value in quotients.items():  # times print with 4 digits, ratios with 3 decimals
        assert float(rows[name]) == pytest.approx(value, rel=2e-3, abs=1e-3), name
    residual, tol = re.search(r"largest relative residual ([0-9.e+-]+) \(tol ([0-9.e+-]+)\)",
                              report).groups()
    assert float(residual) <= float(tol)
