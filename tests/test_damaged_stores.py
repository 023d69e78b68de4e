"""Damaged stores are refused in one line naming the store, never drawn as a blank panel: a
deleted chunk, a deleted array, bytes that do not decode, NaN written over a variable."""

import shutil
import warnings

import numpy as np
import pytest
import xarray as xr
import zarr
from crossclass import digests
from crossclass.cli import main
from crossclass.errors import UserError
from crossclass.stores import read_store, write_store
from test_analysis_network import cli, mlp_run, network_args  # noqa: F401
from test_figures_networks import LANCZOS, spectrum, stores  # noqa: F401
from zarr.errors import ZarrUserWarning


def first_chunk(store, var):
    """The first chunk file of variable `var` of a store."""
    return min(p for p in (store / var / "c").rglob("*") if p.is_file())


def damaged_copy(store, tmp_path, var, how="delete"):
    """A copy of `store` whose variable `var` has one chunk deleted / overwritten with random
    bytes / truncated to half / with one byte flipped."""
    copy = tmp_path / f"damaged-{store.name}"
    shutil.copytree(store, copy)
    chunk = first_chunk(copy, var)
    data = chunk.read_bytes()
    if how == "delete":
        chunk.unlink()
    elif how == "overwrite":
        chunk.write_bytes(np.random.default_rng(0).bytes(len(data)))
    elif how == "truncate":
        chunk.write_bytes(data[:len(data) // 2])
    else:
        chunk.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
    return copy


def refused(capsys, name, inputs, store):
    """`crossclass figure NAME` fails with one line naming the damaged store and the fix."""
    code = main(["figure", name, "--inputs", *map(str, inputs), "--out",
                 str(store.parent / f"{name}.pdf")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1, err
    assert err.startswith(f"crossclass figure: error: store {store} ")
    assert f"delete {store} and rerun snakemake" in err
    assert not (store.parent / f"{name}.pdf").exists()
    return err


def test_fig6_refuses_a_spectrum_with_a_deleted_chunk(mlp_run, stores, tmp_path,  # noqa: F811
                                                     capsys):
    tmp, ex = stores
    spectra = [spectrum(mlp_run, e, tmp, "G", "--deflate", "C", "--deflate-iters", 6,
                        tag="_deflated") for e in (1, 2)]
    broken = damaged_copy(spectra[1], tmp_path, "density")
    err = refused(capsys, "fig6", [spectra[0], broken, ex[1]["means"], ex[2]["means"]], broken)
    assert "density lacks 1 of its 1 chunks" in err
    broken_means = damaged_copy(ex[2]["means"], tmp_path, "eig_lowrank")
    refused(capsys, "fig6", [*spectra, ex[1]["means"], broken_means], broken_means)


def test_fig5_and_layers_refuse_damaged_stores(mlp_run, stores, tmp_path, capsys):  # noqa: F811
    tmp, ex = stores
    good = spectrum(mlp_run, 2, tmp, "G_class", "--means", ex[2]["means"])
    for var, how in (("density", "delete"), ("ritz_values", "overwrite")):
        broken = damaged_copy(good, tmp_path / var, var, how)
        err = refused(capsys, "fig5", [good, broken], broken)
        assert var in err
    layers = damaged_copy(ex[2]["layers"], tmp_path, "7:H")
    assert "7:H lacks 1 of its" in refused(capsys, "layers", [layers], layers)
    for how in ("truncate", "overwrite", "flip"):  # bytes that fail to decode, or decode wrong
        layers = damaged_copy(ex[2]["layers"], tmp_path / how, "7:H", how)
        chunk = first_chunk(layers, "7:H").relative_to(layers).as_posix()
        err = refused(capsys, "layers", [layers], layers)
        assert f"damaged: {chunk} does not match its recorded digest" in err


def test_layer_spectrum_refuses_nan_in_its_layer(mlp_run, stores, tmp_path, capsys):  # noqa: F811
    """NaN written over a complete layers store's H of layer 7 (every chunk present): a changed
    chunk; and the same store as if it had been written with the NaN (its digests renewed)."""
    _, ex = stores
    layers = tmp_path / "nan-layers.zarr"
    shutil.copytree(ex[2]["layers"], layers)
    zarr.open_array(layers / "7:H", mode="r+")[0, 0] = np.nan
    out = tmp_path / "kfac.zarr"
    command = [*map(str, ["operator-spectrum", *network_args(mlp_run, 2), "--operator",
                          "layer:7:KFAC", "--layers", layers, *LANCZOS, "--out", out])]
    assert main(command) == 2
    err = capsys.readouterr().err.strip()
    assert f"store {layers} is damaged: 7:H/c/0/0 does not match its recorded digest" in err
    digests.write_manifest(layers)
    assert main(command) == 2
    err = capsys.readouterr().err.strip()
    assert f"store {layers} is damaged: 7:H has 1 non-finite of " in err
    assert err.endswith(f"values; delete {layers} and rerun snakemake to rebuild it"), err
    assert not out.exists()


def test_fig15_and_mlr_refuse_damaged_stores(tmp_path, capsys):
    matrix, spec = tmp_path / "matrix.zarr", tmp_path / "spectrum.zarr"
    cli("verify", "matrix", "fig15a", "--set", "p=40", "--out", matrix)
    cli("spectra", "matrix", "--input", matrix, "--out", spec, "--M", 8, "--n-vec", 1,
        "--K", 32, "--device", "cpu", "--no-progress")
    cli("mlr-spectrum", "--D", 4, "--C", 3, "--t", 2.0, "--n-per-class", 20, "--seed", 0,
        "--alpha", 0.2, "--out", tmp_path / "mlr.zarr")
    broken = damaged_copy(spec, tmp_path, "exact_eigenvalues")
    refused(capsys, "fig15", [spec, broken], broken)
    broken = damaged_copy(tmp_path / "mlr.zarr", tmp_path, "empirical_eigenvalues", "overwrite")
    # the mlr figure reads the MLR study store first: a damaged (or wrong) one is refused too
    assert "does not match its recorded digest" in refused(capsys, "mlr", [broken], broken)
    # `spectra matrix` (any non-figure reader) refuses a damaged input the same way
    broken = damaged_copy(matrix, tmp_path, "Y")
    assert main(["spectra", "matrix", "--input", str(broken), "--out",
                 str(tmp_path / "out.zarr")]) == 2
    assert f"store {broken} is damaged: Y lacks" in capsys.readouterr().err


def test_read_store_checks_chunks_variables_and_finiteness(tmp_path):
    ds = xr.Dataset({"zeros": ("x", np.zeros(10, dtype=int)), "nan": ("x", np.full(10, np.nan)),
                     "ok": ("x", np.arange(10.0))})
    path = write_store(ds, tmp_path / "s.zarr", chunks={"x": 4})
    # chunks equal to the fill value are written too, so a missing one is damage
    assert zarr.open_array(path / "zeros", mode="r").nchunks_initialized == 3
    (path / ".snakemake_timestamp").touch()  # Snakemake's marker in a directory() output
    with warnings.catch_warnings():
        warnings.simplefilter("error", ZarrUserWarning)
        assert read_store(path, ["ok"])["ok"].variable._data.__class__ is np.ndarray  # loaded
    with pytest.raises(UserError, match="nan has 10 non-finite of 10 values; delete"):
        read_store(path, ["ok", "nan"])
    assert np.isnan(read_store(path, ["nan"], finite=False)["nan"].values).all()
    with pytest.raises(UserError, match="lacks variable 'other'"):
        read_store(path, ["other"])
    assert "other" not in read_store(path, optional=["other"])
    with pytest.raises(UserError, match="retrain"):
        read_store(damaged_copy(path, tmp_path, "zeros"), rebuild="retrain")
    shutil.rmtree(path / "ok")
    (path / "zarr.json").write_text("{not json")
    with pytest.raises(UserError, match=f"store {path} is damaged: unreadable"):
        read_store(path)


def test_every_file_of_a_store_is_covered_by_its_digests(tmp_path):
    """The manifest lists every file with its SHA-256 (sha256sum's format); a file changed,
    added or missing, or the manifest itself gone, is damage."""
    path = write_store(xr.Dataset({"a": ("x", np.arange(8.0))}), tmp_path / "s.zarr",
                       chunks={"x": 4})
    lines = (path / digests.MANIFEST).read_text().splitlines()
    assert sorted(line.split("  ")[1] for line in lines) == [
        "a/c/0", "a/c/1", "a/zarr.json", "zarr.json"]
    assert all(digests.file_digest(path / name) == digest
               for digest, name in (line.split("  ") for line in lines))
    read_store(path, ["a"])
    damages = {
        "extra": (lambda s: (s / "a/c/9").write_bytes(b"x"), "a/c/9 is not in its digest"),
        "attrs": (lambda s: (s / "zarr.json").write_text(
            (s / "zarr.json").read_text().replace('"params"', '"params" ')),
            "zarr.json does not match its recorded digest"),
        "manifest": (lambda s: (s / digests.MANIFEST).unlink(),
                     f"its digest manifest {digests.MANIFEST} is missing"),
    }
    for name, (damage, message) in damages.items():
        copy = tmp_path / name / "s.zarr"
        shutil.copytree(path, copy)
        damage(copy)
        with pytest.raises(UserError, match=f"store {copy} is damaged: {message}"):
            read_store(copy, ["a"])
