"""Mutation check: do the tests of an area notice a broken line?

    python tests/mutation_check.py AREA [--baseline] [CASE ...]

For every case of AREA (all, or the named ones) in the table MUTATIONS, the repository's
tracked files are copied to a temporary folder, one line of one file is replaced there (the
`old` text must occur exactly once; the package, a rule file or a config), and the case's tests
run in that copy, its package first on PYTHONPATH, so tests that run the workflow run the
mutated one. A case passes when those tests fail with an AssertionError (a crash or an import
error does not count: the point is that the checks see wrong output). Cases run two at a time.
With --baseline the same tests first run on the unmutated package and must pass. Exit status 0
when every case was caught, 1 otherwise. Add an area by adding its list to MUTATIONS.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PKG = "workflow/crossclass/"  # the package, relative to the repository
NETWORK = "tests/test_claims_network_cases.py"  # the claims area's test files
LAYERWISE = "tests/test_claims_layerwise_cases.py"
REPORT = "tests/test_claims_report.py"
G_CLASS = "C outliers of G <- G_class (knockout G-minus-class)"
G_WITHIN = "bulk of G <- G_within (knockout G-minus-within)"


@dataclass(frozen=True)
class Mutation:
    name: str
    module: str  # path relative to the repository
    old: str  # text replaced, exactly once
    new: str
    tests: tuple[str, ...]  # pytest node ids, relative to the repository


MUTATIONS: dict[str, list[Mutation]] = {
    "figures": [
        Mutation("fig15 density scaled by 1.01", PKG + "figures/fig15.py",
                 'histogram_vs_density(ax, exact, grid, ds["density"].values,',
                 'histogram_vs_density(ax, exact, grid, 1.01 * ds["density"].values,',
                 ("tests/test_figures_verification.py::test_fig15",)),
        Mutation("fig15 histogram of the unlogged eigenvalues", PKG + "figures/fig15.py",
                 "exact = np.log(np.abs(exact) + params[\"eps\"])",
                 "exact = np.abs(exact) + params[\"eps\"]",
                 ("tests/test_figures_verification.py::test_fig15",)),
        Mutation("knockout scatter drops the top-C points", PKG + "figures/layergrid.py",
                 'ax.scatter(lx[~rest], ly[~rest], s=10, color=BLUE, label=f"top {blue}")',
                 "pass",
                 ("tests/test_figures_layerwise.py::test_knockout_scatter[fig7]",)),
        Mutation("fig8 normalised by H instead of H_class", PKG + "figures/fig8.py",
                 's["H_class"], C, top=top)', 's["H"], C, top=top)',
                 ("tests/test_figures_layerwise.py::test_fig8_features_scree",)),
        Mutation("fig11 CFAC panel draws KFAC", PKG + "figures/fig11.py",
                 "spectra.get((dataset, layer, kind)), kind,",
                 'spectra.get((dataset, layer, "KFAC")), kind,',
                 ("tests/test_figures_layerwise.py::test_fig11_last_layer",)),
        Mutation("fig6 within-class traces not divided by N", PKG + "figures/fig6.py",
                 'within = m["trace_within"].values / float(m["num_examples"])',
                 'within = m["trace_within"].values',
                 ("tests/test_figures_networks.py::test_fig6",)),
    ],
    "resources": [
        Mutation("checkpoint files planned without the momentum", PKG + "sizes.py",
                 "return 8 * p + CHECKPOINT_CONTAINER", "return 4 * p + CHECKPOINT_CONTAINER",
                 ("tests/test_sizes.py::test_checkpoint_bytes_match_a_written_checkpoint",)),
        Mutation("analysis runtime does not grow with the attempt", "rules/resources.smk",
                 "return int(attempt * (10 + products * pass_))",
                 "return int(10 + products * pass_)",
                 ("tests/test_workflow_fault.py::test_damaged_checkpoint_advice_redoes_the_run",)),
        Mutation("training memory without its 2 GB base", "rules/resources.smk",
                 "return int(attempt * (2000 + 16 * p / 2**20",
                 "return int(attempt * (20 + 16 * p / 2**20",
                 ("tests/test_workflow_runs.py::test_resource_requests_cover_the_measured_jobs",)),
    ],    # the claim rules: a threshold or comparison broken, each seen by a planted case
    "claims": [
        Mutation("every comparison holds", PKG + "claims/__init__.py",
                 "verdict = HOLDS if COMPARISONS[comparison](float(value), threshold) "
                 "else FAILS", "verdict = HOLDS",
                 (f"{NETWORK}::test_train_error[0.25-fails]",)),
        Mutation("train error allowed up to 1", PKG + "claims/network.py",
                 '"max_train_error": 0.01', '"max_train_error": 1.0',
                 (f"{NETWORK}::test_train_error",)),
        Mutation("outlier gap threshold 1", PKG + "claims/features.py",
                 '"outlier_gap": 1.5', '"outlier_gap": 1.0',
                 (f"{NETWORK}::test_feature[G has C outliers-fails-17]",)),
        Mutation("attribution without 'present before'", PKG + "claims/network.py",
                 "elif row.verdict == HOLDS and not before[feature] >= t[key]:", "elif False:",
                 (f"{NETWORK}::test_attribution[{G_CLASS}-fails-2]",)),
        Mutation("bulk fraction 1", PKG + "claims/features.py",
                 '"bulk_fraction": 0.1', '"bulk_fraction": 1.0',
                 (f"{NETWORK}::test_attribution[{G_WITHIN}-fails-17]",)),
        Mutation("G_{c=c'} ratio allowed up to 5", PKG + "claims/network.py",
                 '"same_ratio": 0.05', '"same_ratio": 5.0',
                 (f"{NETWORK}::test_g_same_negligible",)),
        Mutation("E asymmetry allowed up to 2", PKG + "claims/network.py",
                 '"max_asymmetry": 0.2', '"max_asymmetry": 2.0',
                 (f"{NETWORK}::test_e_symmetry",)),
        Mutation("any power-law fit", PKG + "claims/network.py",
                 '"min_r2": 0.9', '"min_r2": 0.0', (f"{NETWORK}::test_e_power_law",)),
        Mutation("separation holds at no change", PKG + "claims/network.py",
                 '"(decades)", change, ">", 0.0))', '"(decades)", change, ">=", 0.0))',
                 (f"{NETWORK}::test_dynamics_not_measured",)),
        Mutation("class drift allowed up to 10 decades", PKG + "claims/network.py",
                 '"max_class_drift": 1.0', '"max_class_drift": 10.0',
                 (f"{NETWORK}::test_class_distance_drift_fails",)),
        Mutation("surviving fraction allowed up to 1", PKG + "claims/layerwise.py",
                 "outlier_survival_max: float = 0.5", "outlier_survival_max: float = 1.0",
                 (f"{LAYERWISE}::test_layer_rule[H-outliers: H_class on H's top direction "
                  "only]",)),
        Mutation("no outlier reads as eliminated", PKG + "claims/layerwise.py",
                 'A[0] > A[k] or not K[0] > 0:\n        return float("nan")',
                 'A[0] > A[k] or not K[0] > 0:\n        return 0.0',
                 (f"{LAYERWISE}::test_layer_rule[Delta-outliers: Delta flat: no outlier "
                  "above the bulk]",)),
        Mutation("bulk shift allowed up to 1", PKG + "claims/layerwise.py",
                 "bulk_shift_max: float = 0.1", "bulk_shift_max: float = 1.0",
                 (f"{LAYERWISE}::test_layer_rule[H-bulk: steep bulk: shifted C places it "
                  "moves]",)),
        Mutation("separation judged the wrong way", PKG + "claims/layerwise.py",
                 'depth_trend(separation), ">=", depth_trend_min)',
                 'depth_trend(separation), "<=", depth_trend_min)',
                 (f"{LAYERWISE}::test_depth_trends",)),
        Mutation("CFAC ratio inverted", PKG + "claims/layerwise.py",
                 "cfac / kfac if kfac > 0 else None", "kfac / cfac if kfac > 0 else None",
                 (f"{LAYERWISE}::test_layer_rule[CFAC: CFAC's error a fifth of KFAC's]",)),
        Mutation("Table 1 without '(k/m)'", PKG + "claims/report.py",
                 'names = [f"{c}" if all(v) else f"{c} ({sum(v)}/{len(v)})"',
                 'names = [f"{c}"', (f"{REPORT}::test_table1_cells",)),
    ],
}


def mutated_copy(m: Mutation, root: Path) -> Path:
    """The repository's tracked files copied under `root` with the mutation applied."""
    files = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True,
                           check=True).stdout.decode().split("\0")
    for name in filter(None, files):
        if (REPO / name).is_file():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, root / name, follow_symlinks=False)
    path = root / m.module
    text = path.read_text()
    if text.count(m.old) != 1:
        raise SystemExit(f"{m.name}: {m.old!r} occurs {text.count(m.old)} times in "
                         f"{m.module}; update the mutation table")
    path.write_text(text.replace(m.old, m.new))
    return root


def run_tests(tests: tuple[str, ...], repo: Path = REPO) -> tuple[int, str]:
    """pytest on `tests` in the repository copy `repo`, its package first on PYTHONPATH:
    (exit status, output)."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",  # two runs at once
           "PYTHONPATH": os.pathsep.join([str(repo / "workflow"),
                                          *filter(None, [os.environ.get("PYTHONPATH")])])}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider",
         "--rootdir", str(repo), *tests],
        cwd=repo, env=env, capture_output=True, text=True)
    return proc.returncode, proc.stdout + proc.stderr


def caught(m: Mutation) -> tuple[bool, str, float]:
    """Run the case's tests on the mutated copy: (caught by an assertion, what failed or the
    last lines of the output, seconds)."""
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="mutation-") as tmp:
        code, out = run_tests(m.tests, mutated_copy(m, Path(tmp)))
    lines = [line[1:].strip() for line in out.splitlines() if line.startswith("E ")]
    first = next((i for i, line in enumerate(lines) if line.startswith("AssertionError")), None)
    ok = code == 1 and first is not None
    if ok:  # the assertion and the first lines of its message
        detail = " | ".join(line for line in lines[first:first + 6] if line)
    else:
        detail = "\n    ".join(out.strip().splitlines()[-3:])
    return ok, detail[:200], time.monotonic() - start


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in MUTATIONS:
        print(f"usage: python tests/mutation_check.py {{{','.join(MUTATIONS)}}} [--baseline] "
              "[CASE ...]", file=sys.stderr)
        return 2
    area, names = argv[0], [a for a in argv[1:] if a != "--baseline"]
    cases = [m for m in MUTATIONS[area] if not names or m.name in names]
    if "--baseline" in argv:
        tests = tuple(dict.fromkeys(t for m in cases for t in m.tests))
        code, out = run_tests(tests)
        if code:
            print(f"the unmutated tests fail:\n{out[-2000:]}")
            return 1
        print(f"baseline: {len(tests)} tests pass unmutated")
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(caught, cases))
    for m, (ok, detail, seconds) in zip(cases, results, strict=True):
        print(f"{'caught' if ok else 'MISSED'}  {m.name}  ({seconds:.0f} s)\n    {detail}")
    missed = sum(not ok for ok, _, _ in results)
    print(f"{len(cases) - missed} of {len(cases)} mutations caught")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
