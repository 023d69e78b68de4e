"""Start-up cost of the `crossclass` console command, per subcommand.

Runs `python -m crossclass.cli SUB --help` in fresh processes (interleaved repeats) and reports
the median wall time and the median CPU time (user + system of the child; on a shared machine
the CPU time is the steadier one), beside a bare `python -c pass` and `python -c "import
torch"`. With --baseline DIR (a `workflow/` folder of another checkout, e.g. /work/main/workflow)
the same commands are timed with that tree on PYTHONPATH, in the same interleaved loop.
Prints a table and writes benchmarks/results/startup.md.

  python benchmarks/startup.py [--repeats 5] [--baseline /work/main/workflow]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
TREE = HERE.parent / "workflow"
COMMANDS = {
    "(top level)": [], "data subsample": ["data", "subsample"], "train": ["train"],
    "select-lr": ["select-lr"], "extract": ["extract"],
    "operator-spectrum": ["operator-spectrum"], "mlr-spectrum": ["mlr-spectrum"],
    "spectra matrix": ["spectra", "matrix"], "verify matrix": ["verify", "matrix"],
    "figure": ["figure"],
}
REFERENCES = {"python -c pass": ["-c", "pass"], "python -c 'import torch'": ["-c", "import torch"]}


def timed(argv: list[str], tree: Path) -> tuple[float, float]:
    """(wall seconds, child CPU seconds) of one `python argv` run with `tree` on PYTHONPATH."""
    env = dict(os.environ, PYTHONPATH=str(tree))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([sys.executable, *argv], env=env, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--baseline", type=Path, default=None,
                        help="another checkout's workflow/ folder, timed side by side")
    args = parser.parse_args()
    trees = {"this tree": TREE} | ({"baseline": args.baseline} if args.baseline else {})
    jobs = {(name, tree): ["-m", "crossclass.cli", *sub, "--help"]
            for name, sub in COMMANDS.items() for tree in trees}
    jobs |= {(name, "this tree"): argv for name, argv in REFERENCES.items()}
    samples: dict[tuple[str, str], list[tuple[float, float]]] = {key: [] for key in jobs}
    for _ in range(args.repeats):  # interleaved: every command once per round
        for key, argv in jobs.items():
            samples[key].append(timed(argv, trees[key[1]]))
    lines = ["# Start-up per subcommand (`crossclass SUB --help`)", "",
             f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs (shared), median of "
             f"{args.repeats} interleaved runs; CPU = user + system time of the process.", "",
             "| command | " + " | ".join(f"{t} wall s | {t} CPU s" for t in trees) + " |",
             "|---|" + "---|---|" * len(trees)]
    for name in [*COMMANDS, *REFERENCES]:
        cells = []
        for tree in trees:
            runs = samples.get((name, tree))
            cells += (["", ""] if runs is None else
                      [f"{statistics.median(w for w, _ in runs):.2f}",
                       f"{statistics.median(c for _, c in runs):.2f}"])
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    text = "\n".join(lines) + "\n"
    print(text)
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "startup.md").write_text(text)


if __name__ == "__main__":
    main()
