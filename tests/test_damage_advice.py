"""What a damaged or missing input tells the user: a command only for folders the workflow
owns (recognised by the layout of its training runs), naming every run that shares the damage
through a hard link; plain words for anything else; and usage errors that name the bad flag."""

import os
import shlex
import subprocess

import numpy as np
import pytest
from crossclass.cli import main
from crossclass.run_layout import checkpoint_advice, redo_run, sharing_jobs, train_job
from crossclass.training import load_checkpoint, save_checkpoint
from test_analysis_network import mlp_run, network_args  # noqa: F401
from test_checkpoints import state

KEY = "results/train/gmm/mlp/n6"


def error_line(capsys, argv) -> str:
    """The one line of stderr of a failing `crossclass` call."""
    assert main([str(a) for a in argv]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    return err


@pytest.mark.parametrize("path", ["/nonexistent.pt", "ck.pt", "README.md", "checkpoints/x.pt",
                                  "results/data/gmm/n50/subset.zarr",
                                  f"{KEY}/batch0.partial-1a2b/lr0.resume/last.pt",
                                  "results/train/gmm/mlp/selected/checkpoints/epoch_0001.pt"])
def test_paths_outside_the_run_layout_get_no_command(path):
    assert train_job(path) is None and redo_run(path) is None
    assert checkpoint_advice(path) == f"not a checkpoint of this workflow: {path}"


@pytest.mark.parametrize(("path", "job"), [
    (f"{KEY}/selected/checkpoints/epoch_0002.pt", f"{KEY}/selected"),
    (f"{KEY}/selected/last.pt", f"{KEY}/selected"),
    (f"{KEY}/batch3/lr31/checkpoints/epoch_0002.pt", f"{KEY}/batch3"),
    (f"{KEY}/batch3/lr31/metrics.zarr/lr/c/0", f"{KEY}/batch3"),
    ("/scratch/my run/train/cifar10/vgg11/n5000/selected/last.pt",
     "/scratch/my run/train/cifar10/vgg11/n5000/selected"),
])
def test_run_files_name_their_train_job(path, job):
    assert str(train_job(path)) == job
    assert redo_run(path) == f"redo its run: rm -r {shlex.quote(job)}, then rerun snakemake"


def test_cli_advice_for_foreign_checkpoints(mlp_run, tmp_path, capsys, monkeypatch):  # noqa: F811
    """operator-spectrum and extract given a missing, a relative or a non-checkpoint file."""
    args = network_args(mlp_run, 1)
    rest = args[2:]
    (tmp_path / "README.md").write_text("# not a checkpoint\n")
    monkeypatch.chdir(tmp_path)
    calls = [("operator-spectrum", "/nonexistent.pt", ["--operator", "G", "--out", "o.zarr"]),
             ("operator-spectrum", "ck.pt", ["--operator", "G", "--out", "o.zarr"]),
             ("extract", "README.md", ["--out-means", "m.zarr", "--out-layers", "l.zarr",
                                       "--out-summary", "s.zarr"])]
    for command, checkpoint, out in calls:
        err = error_line(capsys, [command, "--checkpoint", checkpoint, *rest, *out])
        assert err.endswith(f"; not a checkpoint of this workflow: {checkpoint}"), err
        assert "rm " not in err
    assert not any(tmp_path.glob("*.zarr"))


def run_tree(root):
    """A sweep run's checkpoint and the selected run's hard link to it, in the workflow layout."""
    sweep = root / KEY / "batch0/lr0/checkpoints/epoch_0002.pt"
    selected = root / KEY / "selected/checkpoints/epoch_0002.pt"
    save_checkpoint(state(True), sweep)
    selected.parent.mkdir(parents=True)
    os.link(sweep, selected)
    return sweep, selected


def test_damage_through_a_hard_link_names_both_runs(tmp_path):
    sweep, selected = run_tree(tmp_path)
    with open(selected, "r+b") as fh:  # damage written in place reaches both links
        fh.write(np.random.default_rng(0).bytes(64))
    assert sharing_jobs(selected) == [sweep.parents[2]]
    advice = checkpoint_advice(selected)
    with pytest.raises(Exception, match="corrupt") as err:
        load_checkpoint(selected, advice=advice)
    assert str(err.value).endswith(advice)
    jobs = [selected.parents[1], sweep.parents[2]]
    assert advice == (f"redo its run (hard links share the damage with {jobs[1]}): rm -r "
                      f"{' '.join(map(str, jobs))}, then rerun snakemake")
    subprocess.run(shlex.split(advice.split(": ", 1)[1].split(", then")[0]), check=True)
    assert not any(j.exists() for j in jobs)


def test_a_deleted_link_is_redone_alone(tmp_path):
    sweep, selected = run_tree(tmp_path)
    selected.unlink()
    assert checkpoint_advice(selected) == (f"redo its run: rm -r {selected.parents[1]}, then "
                                           "rerun snakemake")
    assert load_checkpoint(sweep)["epoch"] == 3


def test_select_lr_given_another_store_names_no_folder(mlp_run, tmp_path, capsys):  # noqa: F811
    err = error_line(capsys, ["select-lr", "--stores", mlp_run["subset"], "--out",
                              tmp_path / "choice.json"])
    assert f"not a training run's store of this workflow: {mlp_run['subset']}" in err
    assert "rm " not in err and "delete" not in err and "retrain" not in err
    assert not (tmp_path / "choice.json").exists()


@pytest.mark.parametrize(("argv", "expected"), [
    (["--bogus"], "unrecognized arguments: --bogus"),
    (["--threads", "1", "data", "--bogus"], "unrecognized arguments: --bogus"),
    (["train", "--bogus", "--lr", "1"], "unrecognized arguments: --bogus"),
    ([], "the following arguments are required: SUBCOMMAND"),
    (["data"], "the following arguments are required: ACTION"),
])
def test_usage_errors_name_the_bad_flag(argv, expected, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    assert capsys.readouterr().err.strip().splitlines()[-1].endswith(expected)
