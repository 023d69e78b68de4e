"""benchmarks/gpu_spectra.py runs end to end at its --tiny size on the CPU (the GPU run is the
same code at full size) and writes its report."""

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "gpu_spectra.py"


def test_gpu_script_tiny(tmp_path):
    spec = importlib.util.spec_from_file_location("gpu_spectra", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = tmp_path / "gpu.md"
    report = module.main(["--tiny", "--device", "cpu", "--out", str(out)])
    assert out.read_text() == report
    for step in ("gradient", "Hv", "Gv", "Ev", "H block of 10", "all C^2 means",
                 "density M = 4", "top-10 eigenpairs"):
        assert f"| {step}" in report, step
