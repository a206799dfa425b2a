"""Codegen: the committed kernels are byte-identical to a fresh generation, and importable."""

import importlib
import re
import subprocess
import sys

import pytest
import sympy

from errorflow import codegen
from errorflow.cli import main


def test_committed_kernels_match_a_fresh_generation(capsys):
    assert main(["codegen", "--check"]) == 0
    assert "up to date" in capsys.readouterr().out


def test_generation_is_deterministic():
    assert codegen.generate() == codegen.generate()


def test_every_generated_file_has_the_preamble_and_no_dates():
    for name, text in codegen.generate().items():
        assert text.startswith("# ---"), name
        assert "GENERATED FILE: do not edit by hand." in text
        assert "errorflow codegen" in text
        assert re.search(r"\d{4}-\d{2}-\d{2}|\d\d:\d\d", text) is None, "a date or time"
        assert sympy.__version__ not in text
        assert "import sympy" not in text


@pytest.mark.parametrize("module", ["squashing", "bptt"])
def test_every_generated_module_imports(module):
    mod = importlib.import_module(f"errorflow.numeric._generated.{module}")
    assert mod.__all__
    for name in mod.__all__:
        assert callable(getattr(mod, name))
        assert getattr(mod, name).__doc__


def test_check_reports_drift_missing_and_stale(tmp_path, capsys):
    target = tmp_path / "_generated"
    codegen.write(target)
    assert main(["codegen", "--check", "--target", str(target)]) == 0
    capsys.readouterr()
    # drift
    path = target / "bptt.py"
    path.write_text(path.read_text().replace("W.T @ S", "W @ S"))
    assert main(["codegen", "--check", "--target", str(target)]) == 1
    out = capsys.readouterr()
    assert "bptt.py: differs" in out.out and "-    return fp[:, None] * (W @ S)" in out.out
    assert "errorflow codegen" in out.err
    # missing and stale
    (target / "squashing.py").unlink()
    (target / "old_kernels.py").write_text("x = 1\n")
    assert main(["codegen", "--check", "--target", str(target)]) == 1
    out = capsys.readouterr().out
    assert "squashing.py: missing" in out and "old_kernels.py: stale" in out
    # regenerating repairs everything and deletes the stale file
    assert main(["codegen", "--target", str(target)]) == 0
    assert not (target / "old_kernels.py").exists()
    assert main(["codegen", "--check", "--target", str(target)]) == 0


def test_importing_numeric_does_not_import_sympy():
    code = (
        "import sys, errorflow.numeric, errorflow.numeric.rnn, errorflow.numeric._generated; "
        "assert 'sympy' not in sys.modules, 'sympy imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
