"""Multinomial logistic regression on the canonical classification model (section 8, App. B).

  ccm      CCM(D, C) sampler and the symmetric probabilities of Definition 8.2
  fim      G = Ave (x x^T) (x) (diag p - p p^T): dense, matrix-free, Lemma 8.1's E G
  theorem  Theorem 8.1's spectrum of E G and the Monte-Carlo error of sampled G
  train    full-batch deterministic L-BFGS training of f(x) = W x
"""

from crossclass.mlr.ccm import sample_ccm, symmetric_probabilities
from crossclass.mlr.fim import class_block, expected_fim, fim_dense, fim_operator, monte_carlo_fim
from crossclass.mlr.theorem import (
    expected_fim_eigenvalues,
    expected_fim_spectrum,
    monte_carlo_fim_mse,
)
from crossclass.mlr.train import MLRFit, mlr_probabilities, train_mlr

__all__ = [
    "MLRFit",
    "class_block",
    "expected_fim",
    "expected_fim_eigenvalues",
    "expected_fim_spectrum",
    "fim_dense",
    "fim_operator",
    "mlr_probabilities",
    "monte_carlo_fim",
    "monte_carlo_fim_mse",
    "sample_ccm",
    "symmetric_probabilities",
    "train_mlr",
]
