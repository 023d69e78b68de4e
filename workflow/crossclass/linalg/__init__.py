"""Matrix-free linear algebra for spectra of large symmetric operators (Appendix C)."""

from crossclass.linalg.operator import LinearOperator

__all__ = ["LinearOperator"]
