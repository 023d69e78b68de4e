"""docs/stores.md, rendered from the schema (StoreSchema) beside each store's code.

  python -m crossclass.store_docs > docs/stores.md
A test checks that the file equals render(), so the documented schema and the code that
writes and reads the store live in one module each.
"""

from __future__ import annotations

import importlib

from crossclass.stores import StoreSchema

INTRO = """\
# Stores

Every workflow result is a Zarr v3 store of one xarray Dataset, written atomically by
`crossclass.stores.write_store` (temporary sibling folder, then rename: a store under its final
name is complete; every chunk is written, even one equal to the fill value). Every reader goes
through `crossclass.stores.read_store(path, require, optional=...)`: a store damaged afterwards
(a chunk or an array deleted, a file truncated, overwritten or changed by one byte, bytes that
do not decode, a required variable not finite) is a one-line error naming the store, what is
wrong and how to rebuild it (`delete PATH and rerun snakemake`; for a training run's metrics,
the command that deletes its train job's folder and every job sharing its files through hard
links: `crossclass.run_layout`), never a blank panel or a traceback. Every store carries:

- `DIGESTS.sha256`: the SHA-256 of every file of the store, recorded when it was written and
  checked whenever it is read (`crossclass.digests`; the format `sha256sum -c DIGESTS.sha256`
  checks from inside the store);
- scalar key coordinates, so `crossclass.stores.open_stores(paths)` stacks many stores;
- `attrs["params"]`: JSON of every parameter that produced it; `attrs["code_version"]`:
  package version + source hash.

Paths are relative to the config's `results` folder (default `results/`); each section names
the module that writes and reads the store and holds this schema. Sizes at paper scale:
docs/storage.md.
"""

# (path, command and rule, module holding SCHEMA)
STORES = (
    ("verification/{matrix}/matrix.zarr", "`crossclass verify matrix`, rule `verify_matrix`",
     "crossclass.verification"),
    ("verification/{matrix}/spectrum.zarr and spectra/{dataset}/{net}/n{n}/e{epoch}/{split}/"
     "{settings}/{operator}.zarr", "`crossclass spectra matrix`, `operator-spectrum`; rules "
     "`verify_spectrum`, `spectra_<settings>_<k>`", "crossclass.linalg.spectrum"),
    ("data/{dataset}/n{n}/subset.zarr", "`crossclass data subsample`, rule `subsample`",
     "crossclass.data.subsample"),
    ("train/{dataset}/{net}/n{n}/batch{b}/lr{i}/ and selected/", "`crossclass train`, rules "
     "`train`, `train_selected`", "crossclass.training.loop"),
    ("train/{dataset}/{net}/n{n}/choice.json", "`crossclass select-lr`, rule `select_lr`",
     "crossclass.training.selection"),
    ("extract/{dataset}/{net}/n{n}/e{epoch}/{split}/means.zarr", "`crossclass extract`, rule "
     "`extract`", "crossclass.analysis.means_store"),
    ("extract/{dataset}/{net}/n{n}/e{epoch}/{split}/layers.zarr", "`crossclass extract`, rule "
     "`extract`", "crossclass.analysis.layer_store"),
    ("extract/{dataset}/{net}/n{n}/e{epoch}/{split}/summary.zarr", "`crossclass extract`, rule "
     "`extract`", "crossclass.analysis.summary"),
    ("mlr/n{n}.zarr", "`crossclass mlr-spectrum`, rule `mlr_spectrum`", "crossclass.analysis.mlr"),
    ("mlr/study.zarr", "`crossclass mlr-study`, rule `mlr_study`",
     "crossclass.analysis.mlr_study"),
    ("claims/{module}.json, claims.md, table1.md", "`crossclass claims`, `claims-report`; rules "
     "`claims_<module>`, `claims_report`", "crossclass.claims.report"),
)

OUTRO = """\
## figures/{name}.pdf and .png  (`crossclass figure NAME`, one rule per figure)

One PDF and a 150-dpi PNG per figure in `figures`, both in the Snakemake report with the
caption `workflow/crossclass/report/{name}.rst` under its category.

## Logs and benchmarks

`logs/{rule}/{key}.log` (the command's stdout and stderr) and `benchmarks/{rule}/{key}.tsv`
(snakemake's benchmark: seconds, max RSS, I/O) for every job.
"""


def schema_markdown(schema: StoreSchema) -> str:
    """The schema's intro, its variable table and its notes, as markdown."""
    parts = [schema.intro] if schema.intro else []
    if schema.variables:
        rows = ["| variable | dims | meaning |", "| --- | --- | --- |"]
        rows += ["| " + ", ".join(f"`{n}`" for n in names) + f" | {dims} | "
                 + meaning.replace("|", "\\|") + " |" for names, dims, meaning in schema.variables]
        parts.append("\n".join(rows))
    if schema.notes:
        parts.append(schema.notes)
    return "\n\n".join(parts)


def render() -> str:
    """The whole of docs/stores.md."""
    sections = [INTRO]
    for path, made_by, module in STORES:
        schema = importlib.import_module(module).SCHEMA
        sections.append(f"## {path}  ({made_by}; `{module}`)\n\n{schema_markdown(schema)}\n")
    sections.append(OUTRO)
    return "\n".join(sections)


if __name__ == "__main__":
    print(render(), end="")
