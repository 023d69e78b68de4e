"""Network analysis: trained checkpoints -> means, layer statistics, operator spectra.

  network      load_network: a checkpoint's model (eval mode) and one split of its data
  means_store  the extended-gradient means as a store; eigenvalues of the low-rank G parts
  layer_store  every layer's section-7 statistics in one store; read_layer
  summary      loss, error and gradient norm on the split
  extract      the three per-checkpoint stores (means, layers, summary)
  operators    named operators: hess, G, E, G parts and knockouts, layer blocks
  spectra      the spectrum stores of named operators
  mlr          Theorem 8.1 against the sampled MLR of CCM data (section 8)
"""

from crossclass.analysis.extract import extract
from crossclass.analysis.layer_store import layer_names, layers_dataset, read_layer
from crossclass.analysis.means_store import lowrank_eigenvalues, means_dataset, read_means
from crossclass.analysis.mlr import mlr_spectrum_dataset
from crossclass.analysis.network import Network, load_network
from crossclass.analysis.operators import network_operator
from crossclass.analysis.spectra import operator_spectra, operator_spectrum
from crossclass.analysis.summary import summary_dataset

__all__ = [
    "Network", "extract", "layer_names", "layers_dataset", "load_network",
    "lowrank_eigenvalues", "means_dataset", "mlr_spectrum_dataset",
    "network_operator", "operator_spectra", "operator_spectrum", "read_layer",
    "read_means",
    "summary_dataset",
]
