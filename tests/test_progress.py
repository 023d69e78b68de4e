"""Progress lines: every long loop logs what it runs, its step and total, the elapsed and the
remaining time every `log_interval` seconds (a fake clock here), bars on or off; training adds
the epoch's loss and errors, a network spectrum its operator; the CLI sends them to stderr."""

import logging
import re

import pytest
import torch
from crossclass import cli, progress
from crossclass.linalg.algebra import DenseOperator
from crossclass.linalg.spectrum import estimate_spectrum
from crossclass.progress import Progress, duration
from crossclass.training import fit
from test_analysis_network import mlp_run, network_args  # noqa: F401
from test_training import blobs, build, config

pytestmark = pytest.mark.usefixtures("one_thread")
COUNTS = re.compile(r"(\w+) (\d+)/(\d+) \(([\d.]+)%\), elapsed ([\d:]+), remaining ([\d:?]+)")


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def lines(caplog):
    """The messages logged by crossclass.progress so far (INFO on)."""
    caplog.set_level(logging.INFO, logger="crossclass.progress")
    return lambda: [r.getMessage() for r in caplog.records if r.name == "crossclass.progress"]


@pytest.fixture
def every_step():
    previous = progress.set_log_interval(0)
    yield
    progress.set_log_interval(previous)


def test_the_default_interval_is_honoured_with_elapsed_and_remaining_time(lines):
    assert progress.log_interval() == progress.DEFAULT_LOG_INTERVAL == 60
    clock = Clock()
    bar = Progress(10, "Lanczos", clock=clock)
    for seconds in (30, 59.9):  # under a minute since the start: nothing
        clock.now = 1000 + seconds
        bar.update()
    assert lines() == []
    clock.now = 1060  # 3 steps in 60 s: 7 more take 140 s
    bar.update()
    assert lines() == ["Lanczos: step 3/10 (30.0%), elapsed 0:01:00, remaining 0:02:20"]
    clock.now = 1110  # 50 s after the last line: none
    bar.update()
    clock.now = 1125
    bar.update(2, residual=1.5e-4)
    assert lines()[1:] == ["Lanczos: step 6/10 (60.0%), elapsed 0:02:05, remaining 0:01:23, "
                           "residual 0.00015"]
    clock.now = 1130
    bar.update(4)
    bar.close()  # the final count, since the loop logged before
    assert lines()[2:] == ["Lanczos: step 10/10 (100.0%), elapsed 0:02:10, remaining 0:00:00, "
                           "residual 0.00015"]
    quiet = Progress(3, "short", clock=clock)
    quiet.update(3)
    quiet.close()
    assert len(lines()) == 3  # a loop shorter than the interval logs nothing


def test_resumed_steps_no_total_no_logging_and_durations(lines):
    clock = Clock()
    bar = Progress(100, "train", unit="epoch", initial=40, interval=0, clock=clock)
    clock.now += 20
    bar.update()  # 1 epoch of this process in 20 s, 59 left
    assert lines() == ["train: epoch 41/100 (41.0%), elapsed 0:00:20, remaining 0:19:40"]
    unknown = Progress(None, "top 10 eigenpairs", unit="block product", interval=0, clock=clock)
    unknown.update()
    assert lines()[-1] == "top 10 eigenpairs: block product 1, elapsed 0:00:00"
    silent = Progress(5, "x", interval=0, clock=clock)
    progress.set_log_interval(None)
    try:
        off = Progress(5, "y", clock=clock)
    finally:
        progress.set_log_interval(progress.DEFAULT_LOG_INTERVAL)
    off.update(5)
    assert len(lines()) == 2 and silent.interval == 0
    assert [duration(s) for s in (0, 59.6, 3600, 90061, float("nan"))] == [
        "0:00:00", "0:01:00", "1:00:00", "1d 01:01:01", "?"]
    with pytest.raises(ValueError, match=">= 0 seconds"):
        progress.set_log_interval(-1)


def test_training_logs_epoch_loss_and_errors_with_bars_off(tmp_path, lines, every_step):
    result = fit(build, blobs(), config(epochs=4, eval_every=2, progress=False), tmp_path,
                 meta={"net": "mlp"})
    logged = lines()
    assert len(logged) == 4, logged
    for epoch, line in enumerate(logged, 1):
        assert line.startswith(f"train mlp lr=0.05: epoch {epoch}/4 ")
        unit, n, total, _, _, remaining = COUNTS.search(line).groups()
        assert (unit, int(n), int(total)) == ("epoch", epoch, 4) and remaining != "?"
    # eval_every 2: epoch 1 has no metrics yet, epoch 3 shows epoch 2's, epoch 4 its own
    assert "train_loss" not in logged[0]
    loss = result.history.train_loss.values
    assert f"train_loss {loss[1]:.4g}" in logged[2] and logged[2].endswith("measured at epoch 2")
    assert f"train_loss {loss[3]:.4g}" in logged[3] and "test_error" in logged[3]
    assert "measured at epoch" not in logged[3]


def test_a_lanczos_spectrum_logs_every_step_with_its_operator(lines, every_step):
    A = torch.diag(torch.linspace(-1, 2, 40, dtype=torch.float64))
    with progress.context("operator G"):
        estimate_spectrum(DenseOperator(A), progress=False, M=8, n_vec=2, K=16)
    logged = lines()
    assert len(logged) == 8, logged
    for step, line in enumerate(logged, 1):
        assert line.startswith("Lanczos (2 start vectors) (operator G): step ")
        unit, n, total, percent, _, remaining = COUNTS.search(line).groups()
        assert (unit, int(n), int(total), float(percent)) == ("step", step, 8, 100 * step / 8)
        assert remaining != "?"
    assert logged[-1].endswith("remaining 0:00:00")
    lines_before = len(logged)
    estimate_spectrum(DenseOperator(A), progress=False, M=8, K=16, deflate=2)
    top = [line for line in lines()[lines_before:] if line.startswith("top 2 eigenpairs")]
    assert top and "largest relative residual" in top[-1] and "tol 1e-05" in top[-1]


def test_the_cli_takes_log_interval_and_logs_to_stderr(tmp_path, capsys):
    matrix, spec = tmp_path / "m.zarr", tmp_path / "s.zarr"
    assert cli.main(["verify", "matrix", "fig15a", "--set", "p=20", "--out", str(matrix)]) == 0
    assert cli.main(["spectra", "matrix", "--input", str(matrix), "--out", str(spec),
                     "--M", "4", "--K", "16", "--device", "cpu", "--no-progress",
                     "--log-interval", "0"]) == 0
    err = capsys.readouterr().err
    logged = [line for line in err.splitlines() if "Lanczos" in line]
    assert len(logged) == 4, err
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d INFO Lanczos: step 4/4 \(100.0%\), "
                        r"elapsed [\d:]+, remaining 0:00:00", logged[-1])
    assert progress.log_interval() == progress.DEFAULT_LOG_INTERVAL  # restored after the run
    with pytest.raises(SystemExit):
        cli.main(["spectra", "matrix", "--input", "x", "--out", "y", "--log-interval", "-1"])
    assert "--log-interval: must be >= 0 seconds" in capsys.readouterr().err


def test_network_jobs_log_their_operators_and_data_passes(mlp_run, tmp_path, capsys):  # noqa: F811
    """operator-spectrum names the operator of each Lanczos run; extract logs its data passes
    and layers (a tiny interval; the CLI logs to stderr)."""
    capsys.readouterr()
    assert cli.main([str(a) for a in (
        "operator-spectrum", *network_args(mlp_run, 2), "--operator", "G", "hess",
        "--out", tmp_path / "G.zarr", tmp_path / "hess.zarr", "--M", 4, "--n-vec", 2,
        "--K", 16, "--device", "cpu", "--no-progress", "--log-interval", 0)]) == 0
    err = capsys.readouterr().err
    for name in ("G", "hess"):
        assert f"Lanczos (2 start vectors) (operator {name}): step 4/4 (100.0%)" in err, err
        assert f"products (operator {name}): batch 1/4 " in err  # each product's data pass
    assert cli.main([str(a) for a in (
        "extract", *network_args(mlp_run, 2), "--device", "cpu", "--no-progress",
        "--log-interval", 0, *(x for k in ("means", "layers", "summary")
                               for x in (f"--out-{k}", tmp_path / f"{k}.zarr")))]) == 0
    err = capsys.readouterr().err
    assert re.search(r"INFO layers: layer 3/3 \(100.0%\), elapsed [\d:]+, remaining 0:00:00",
                     err), err
    assert "INFO layer means: batch 1/" in err
