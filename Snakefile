"""crossclass: the class / cross-class spectra of Papyan (JMLR 2020) as a Snakemake workflow.

Stages, one rule file each (docs/workflow.md draws the DAG):
  verification  Figure 15: Lanczos spectra of synthetic matrices against their exact eigenvalues
  data          fetch a dataset and draw balanced subsamples (n examples per class)
  train         one SGD run per learning rate of the sweep, then pick the best learning rate
  extract       per selected-rate checkpoint and split: class / cross-class means, layer-wise
                statistics, loss summary
  spectra       per checkpoint, split, estimator settings and operator: spectral density
                stores (reading the extract stores); MLR stores (section 8)
  figures       one figure per `crossclass figure NAME` call
  claims        one verdict file per claim module, then the claims report and Table 1
  plan          SLURM submissions and storage of the plan (`snakemake plan`, on request)

Every rule is a thin call of a `crossclass` subcommand; the values it uses come from `params`,
so a changed value (or a changed source module, through its `code` param) reruns exactly the
jobs that depend on it. Every argument is shell-quoted (`{x:q}`, shlex.quote where a param
builds a command line), so `results` and data.root may hold spaces or quotes. A job writes
everything into its log; when jobs fail, `onerror` prints each one's error line on stderr.
"""

from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


include: "rules/config.smk"
include: "rules/paths.smk"
include: "rules/arguments.smk"
include: "rules/figure_inputs.smk"
include: "rules/claim_inputs.smk"
include: "rules/resources.smk"
include: "rules/plan_sizes.smk"
include: "rules/job_errors.smk"


wildcard_constraints:
    dataset="[a-z][a-z0-9_]*",
    net="[a-z][a-z0-9_]*",
    n="[0-9]+",
    batch="[0-9]+",
    epoch="[0-9]+",
    split="train|test",
    settings="[a-z][a-z0-9_]*",
    operator="[A-Za-z0-9_.:-]+",


include: "rules/verification.smk"
include: "rules/data.smk"
include: "rules/train.smk"
include: "rules/extract.smk"
include: "rules/spectra.smk"
include: "rules/figures.smk"
include: "rules/claims.smk"
include: "rules/plan.smk"


rule all:
    """Every figure listed under `figures`, the claims report and Table 1; per experiment the
    selected learning rate, and per analysed checkpoint and split the extract stores and the
    analysis.operators spectra."""
    input:
        [figure_path(name) for name in config["figures"]],
        CLAIMS_REPORT,
        experiment_targets(),
    default_target: True


onstart:
    if workflow.executor_plugin is not None and workflow.executor_plugin.name == "slurm":
        missing = slurm_settings_missing(
            workflow.dag.needrun_jobs(),
            getattr(workflow.executor_settings, "no_account", False),
        )
        if missing:
            sys.exit(
                f"crossclass: set {missing} under default-resources in your SLURM profile "
                "(config/profiles/slurm/config.yaml) before submitting"
            )


onerror:
    failed = getattr(getattr(workflow, "scheduler", None), "failed", ())  # Snakemake's record
    for rule_name, log_file, line in job_errors(failed):
        print(f"Error in rule {rule_name} (log: {log_file}):\n{line}", file=sys.stderr)
