"""errorflow: the error-flow mathematics of recurrent networks, derived, generated and checked.

Hochreiter & Schmidhuber, "Long Short-Term Memory", Neural Computation 9(8), 1997: why error
signals vanish or explode under BPTT, and why the constant error carousel keeps them constant.

Subpackages (one import namespace, mapped from the repository's top-level folders):

* :mod:`errorflow.derivations` (``derivations/``): SymPy derivations, the source of truth;
* :mod:`errorflow.numeric` (``numeric/``): generated NumPy kernels and thin wrappers, with no
  SymPy at run time;
* :mod:`errorflow.verify` (``verify/``): the claims registry, strategies, mpmath references;
* :mod:`errorflow.codegen`, :mod:`errorflow.report`, :mod:`errorflow.cli`: the tools.

Importing ``errorflow`` imports nothing heavy; import the subpackage you need.
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
