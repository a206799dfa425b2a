"""Independent baselines for ``benchmarks/run.py``: the same networks written the way a user would.

Nothing here imports errorflow's generated kernels; the run script checks every baseline
against errorflow before timing it. torch and jax are imported only by their own modules.
"""
