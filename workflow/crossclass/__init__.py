"""crossclass: class / cross-class decomposition of deep-learning spectra (Papyan, JMLR 2020).

Subpackages and modules, one concept each (lower layers never import higher ones):
  linalg       matrix-free operators, knockouts, deflation and the Lanczos family (Appendix C)
  curvature    Hess, G, E and the class / cross-class decomposition of G (sections 5-6)
  layerwise    features, backpropagated errors, G^l, KFAC, CFAC, weights (section 7)
  collapse     neural-collapse metrics of the layer-wise class means
  mlr          multinomial logistic regression on CCM and Theorem 8.1 (section 8)
  data         dataset plugins, balanced subsampling, input adaptation
  nets         network plugins (VGG11, ResNet18, MLP)
  training     SGD as in Appendix D, checkpoints, learning-rate selection
  sweep        the learning-rate grid (torch-free, used while planning)
  run_layout   the training runs' folders, and the command that redoes a damaged run
  analysis     what the workflow extracts from a checkpoint, and named operator spectra
  claims       the paper's claims judged from the stores
  figures      one module per figure; report holds their captions
  verification synthetic matrices with known spectra (Figure 15)
  commands     the `crossclass` console subcommands that the Snakemake rules call, one module
               each; cli the entry point, cli_arguments the argument groups they share
  estimator    the one typed definition of the spectrum estimator settings
  operator_names  the registry of operator names (hess, G, its parts, layer:<name>:<kind>)
  layer_names  the nn.Linear layers of a network plugin, cached for planning
  sizes, sample_sizes  store and job sizes at any scale; the paper's sample sizes
  devices      `auto` / cpu / cuda device names
  progress     the progress bar and timed log lines of every long loop (log_interval)
  stores, store_docs  atomic Zarr stores and their schemas; docs/stores.md rendered from them
  digests      SHA-256 manifests proving a store's files unchanged since written
  plugins, provenance, signatures, options, errors
               entry-point registries, source hashes, static option checks, KEY=VALUE
               parsing, the one-line user error (and reading it back from a job's log)
Conventions across the API: models and data enter as a ModelFunction (or nn.Module) and a
LabeledData split; randomness is an integer `seed` keyword; long work takes `progress: bool`
(True by default; False for a single operator product or data pass, which a Lanczos run calls
hundreds of times under its own bar) and logs progress lines whatever it (crossclass.progress,
every `log_interval` seconds); errors a caller can catch are ValueError (UserError) and
TypeError. The planner (rules/*.smk) imports only the torch-free modules: sweep, run_layout,
estimator, operator_names, layer_names, sizes, plugins, provenance, signatures, options, errors.
"""

__version__ = "0.1.0"
