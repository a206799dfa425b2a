"""Hypothesis profiles: ``ci`` (the default: deterministic), ``dev`` and ``thorough``.

Select with ``HYPOTHESIS_PROFILE=thorough pytest`` (or ``dev``). ``ci`` is derandomized so a
run on a clean clone is reproducible.
"""

import os
import shutil

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    derandomize=True,
    deadline=None,
    print_blob=True,
    max_examples=40,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", deadline=None, max_examples=20)
settings.register_profile(
    "thorough",
    deadline=None,
    print_blob=True,
    max_examples=1000,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="session")
def pdflatex() -> str:
    """Path of ``pdflatex``; skips without it, except where ``.ci/run`` requires it (then the
    LaTeX tests fail instead of silently not running)."""
    exe = shutil.which("pdflatex")
    if exe is None:
        if os.environ.get("ERRORFLOW_REQUIRE_PDFLATEX"):
            pytest.fail("pdflatex is required here (ERRORFLOW_REQUIRE_PDFLATEX) but not on PATH")
        pytest.skip("pdflatex not installed")
    return exe


@pytest.fixture
def numpy_backend(monkeypatch) -> None:
    """``backend="auto"`` resolves to the NumPy step kernels for this test."""
    monkeypatch.setenv("ERRORFLOW_BACKEND", "numpy")
