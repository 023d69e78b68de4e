"""Mutation check of the claim rules: do the claim tests notice a broken threshold or
comparison?

    python tests/mutation_check_claims.py [--baseline] [CASE ...]

For every case of MUTATIONS (all, or those whose name contains one of the CASE words) the
package workflow/crossclass is copied to a temporary folder, one piece of text of one claims
module is replaced there (the `old` text must occur exactly once), and the case's tests run
with that copy first on PYTHONPATH. A case is caught when those tests fail with assertion
failures (a crash, an import error or a collection error does not count: the point is that
the checks see a wrong verdict or value). Cases run two at a time. With --baseline the same
tests first run on the unmutated package and must pass. Exit status 0 when every case was
caught, 1 otherwise.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "workflow" / "crossclass"
NETWORK = "tests/test_claims_network_cases.py"
LAYERWISE = "tests/test_claims_layerwise_cases.py"
REPORT = "tests/test_claims_report.py"
G_CLASS = "C outliers of G <- G_class (knockout G-minus-class)"
G_WITHIN = "bulk of G <- G_within (knockout G-minus-within)"


@dataclass(frozen=True)
class Mutation:
    name: str
    module: str  # path under workflow/crossclass
    old: str  # text replaced, exactly once
    new: str
    tests: tuple[str, ...]  # pytest node ids or -k expressions ("-k EXPR"), from the repository


MUTATIONS = [
    Mutation("every comparison holds", "claims/__init__.py",
             "verdict = HOLDS if COMPARISONS[comparison](float(value), threshold) else FAILS",
             "verdict = HOLDS", (f"{NETWORK}::test_train_error[0.25-fails]",)),
    Mutation("train error allowed up to 1", "claims/network.py",
             '"max_train_error": 0.01', '"max_train_error": 1.0',
             (f"{NETWORK}::test_train_error",)),
    Mutation("outlier gap threshold 1", "claims/features.py",
             '"outlier_gap": 1.5', '"outlier_gap": 1.0',
             (f"{NETWORK}::test_feature[G has C outliers-fails-17]",)),
    Mutation("attribution without 'present before'", "claims/network.py",
             "elif row.verdict == HOLDS and not before[feature] >= t[key]:", "elif False:",
             (f"{NETWORK}::test_attribution[{G_CLASS}-fails-2]",)),
    Mutation("bulk fraction 1", "claims/features.py",
             '"bulk_fraction": 0.1', '"bulk_fraction": 1.0',
             (f"{NETWORK}::test_attribution[{G_WITHIN}-fails-17]",)),
    Mutation("G_{c=c'} ratio allowed up to 5", "claims/network.py",
             '"same_ratio": 0.05', '"same_ratio": 5.0', (f"{NETWORK}::test_g_same_negligible",)),
    Mutation("E asymmetry allowed up to 2", "claims/network.py",
             '"max_asymmetry": 0.2', '"max_asymmetry": 2.0', (f"{NETWORK}::test_e_symmetry",)),
    Mutation("any power-law fit", "claims/network.py", '"min_r2": 0.9', '"min_r2": 0.0',
             (f"{NETWORK}::test_e_power_law",)),
    Mutation("separation holds at no change", "claims/network.py",
             '"(decades)", change, ">", 0.0))', '"(decades)", change, ">=", 0.0))',
             (f"{NETWORK}::test_dynamics_not_measured",)),
    Mutation("class drift allowed up to 10 decades", "claims/network.py",
             '"max_class_drift": 1.0', '"max_class_drift": 10.0',
             (f"{NETWORK}::test_class_distance_drift_fails",)),
    Mutation("surviving fraction allowed up to 1", "claims/layerwise.py",
             "outlier_survival_max: float = 0.5", "outlier_survival_max: float = 1.0",
             (f"{LAYERWISE}::test_layer_rule[H-outliers: H_class on H's top direction only]",)),
    Mutation("no outlier reads as eliminated", "claims/layerwise.py",
             'if k < 1 or A.size <= k or K.size == 0 or not A[0] > A[k] or not K[0] > 0:\n'
             '        return float("nan")',
             'if k < 1 or A.size <= k or K.size == 0 or not A[0] > A[k] or not K[0] > 0:\n'
             '        return 0.0',
             (f"{LAYERWISE}::test_layer_rule[Delta-outliers: Delta flat: no outlier above the "
              "bulk]",)),
    Mutation("bulk shift allowed up to 1", "claims/layerwise.py",
             "bulk_shift_max: float = 0.1", "bulk_shift_max: float = 1.0",
             (f"{LAYERWISE}::test_layer_rule[H-bulk: steep bulk: shifted C places it moves]",)),
    Mutation("separation judged the wrong way", "claims/layerwise.py",
             'depth_trend(separation), ">=", depth_trend_min)',
             'depth_trend(separation), "<=", depth_trend_min)',
             (f"{LAYERWISE}::test_depth_trends",)),
    Mutation("CFAC ratio inverted", "claims/layerwise.py",
             "cfac / kfac if kfac > 0 else None", "kfac / cfac if kfac > 0 else None",
             (f"{LAYERWISE}::test_layer_rule[CFAC: CFAC's error a fifth of KFAC's]",)),
    Mutation("Table 1 without '(k/m)'", "claims/report.py",
             'names = [f"{c}" if all(v) else f"{c} ({sum(v)}/{len(v)})"',
             'names = [f"{c}"', (f"{REPORT}::test_table1_cells",)),
]


def mutated_copy(m: Mutation, root: Path) -> Path:
    """workflow/crossclass copied under `root` with the mutation applied; returns the folder
    to put on PYTHONPATH."""
    target = root / "crossclass"
    shutil.copytree(PACKAGE, target)  # with the bytecode: only the mutated module recompiles
    path = target / m.module
    text = path.read_text()
    if text.count(m.old) != 1:
        raise SystemExit(f"{m.name}: {m.old!r} occurs {text.count(m.old)} times in "
                         f"{m.module}; update the mutation table")
    path.write_text(text.replace(m.old, m.new))
    return root


def run_tests(tests: tuple[str, ...], pythonpath: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(pythonpath), "OMP_NUM_THREADS": "1",
           "COLUMNS": "1000"}  # failure reasons in full in the short summary
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider",
                           "-rf", *tests], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=600)


def caught(proc: subprocess.CompletedProcess) -> bool:
    """The tests failed, every failure an assertion (pytest exit status 1: tests failed)."""
    failed = re.findall(r"^FAILED .*$", proc.stdout, re.M)
    return proc.returncode == 1 and bool(failed) and all(
        re.search(r"\] - (AssertionError|assert )|::\w+ - (AssertionError|assert )", line)
        for line in failed)


def check(m: Mutation) -> tuple[Mutation, bool, str]:
    with tempfile.TemporaryDirectory() as tmp:
        proc = run_tests(m.tests, mutated_copy(m, Path(tmp)))
    tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-3:])
    return m, caught(proc), tail


def main(argv: list[str]) -> int:
    baseline = "--baseline" in argv
    words = [a for a in argv if not a.startswith("--")]
    cases = [m for m in MUTATIONS if not words or any(w in m.name for w in words)]
    start = time.time()
    if baseline:
        tests = tuple(dict.fromkeys(t for m in cases for t in m.tests))
        proc = run_tests(tests, REPO / "workflow")
        if proc.returncode != 0:
            print(proc.stdout[-3000:], proc.stderr[-2000:])
            print("baseline: the claim tests fail on the unmutated package")
            return 1
        print(f"baseline: {len(tests)} test functions pass ({time.time() - start:.0f} s)")
    missed = []
    with ThreadPoolExecutor(max_workers=2) as pool:
        for m, ok, tail in pool.map(check, cases):
            print(f"{'caught' if ok else 'MISSED'}: {m.name}")
            if not ok:
                missed.append(m)
                print("  " + tail.replace("\n", "\n  "))
    print(f"{len(cases) - len(missed)} of {len(cases)} mutations caught "
          f"({time.time() - start:.0f} s)")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
