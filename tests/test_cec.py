"""The constant error carousel (SPEC C1, C2): proofs, rendering, CLI, and checks that can fail."""

import dataclasses
import subprocess
import sys

import numpy as np
import pytest
import sympy as sp

from errorflow import derivations
from errorflow.cli import main
from errorflow.derivations import cec
from errorflow.numeric import activations
from errorflow.verify import PROFILES, REGISTRY, claims_cec, registry


def _status(claim_id):
    return registry.run_claim(REGISTRY[claim_id], PROFILES["ci"]).status


# --- derivation ----------------------------------------------------------------------------
def test_cec_is_a_named_derivation():
    assert "cec" in derivations.NAMES
    d = derivations.get("cec").derivation()
    assert d.name == "cec" and "3.2" in d.source
    assert d.claims() == ["C1", "C2"]


@pytest.mark.parametrize("claim_id", ["C1", "C2"])
def test_every_proof_of_the_claim_holds(claim_id):
    proofs = [p for p in cec.derivation().proofs if claim_id in p.claim.split(", ")]
    assert len(proofs) >= 4
    assert all(p.holds for p in proofs), [p.statement for p in proofs if not p.holds]


def test_dsolve_gives_a_linear_unit():
    f = cec.constant_flow_solution()
    assert sp.simplify(f - (cec.x / cec.w_jj + cec.C)) == 0
    assert sp.simplify(sp.diff(f, cec.x) * cec.w_jj) == 1
    # constant activation f(w y) = y needs C = 0; the CEC is f = id, w_jj = 1
    y = sp.Symbol("y")
    assert sp.solve(sp.Eq(f.subs(cec.x, cec.w_jj * y), y), cec.C) == [0]
    assert f.subs({cec.w_jj: 1, cec.C: 0}) == cec.x


def test_conflict_sequences_have_opposite_exact_contributions():
    seqs = cec.conflict_sequences()
    assert seqs["input"].values == (sp.Rational(-1, 2), sp.Rational(3, 2))
    assert seqs["output"].values == (sp.Rational(-1, 2), sp.Rational(1, 2))
    assert seqs["input"].weight == sp.Symbol("w_{ji}", real=True)
    assert seqs["output"].weight == sp.Symbol("w_{kj}", real=True)
    for seq in seqs.values():
        ys_j, _, _ = seq.trace()
        assert len(ys_j) == 2  # minimal: two steps


def test_a_sequence_without_conflict_is_not_proved():
    # The irrelevant input -1/2 leaves j on: both steps then ask for a larger w_ji.
    seq = cec.conflict_sequences()["input"]
    base = dict(seq.base)
    base[seq.inputs[1]] = sp.Rational(-1, 2)
    c1, c2 = (c.xreplace(base) for c in seq.contributions)
    assert c1 < 0 and c2 < 0


def test_latex_contains_the_named_steps():
    tex = cec.derivation().to_latex()
    assert r"\begin{document}" in tex and r"\end{document}" in tex
    for name in ("unrolled unit", "C1, one step", "constant flow", "dsolve", "drift", "CEC"):
        assert rf"\tag*{{\footnotesize {name}}}" in tex
    for name in ("sequence", "forward", "t = 1", "t = 2", "conflict"):
        assert tex.count(rf"\tag*{{\footnotesize {name}}}") == 2
    assert r"\frac{x}{w_{jj}}" in tex and "C = 0" in tex
    assert "input weight conflict" in tex and "output weight conflict" in tex


def test_text_is_readable():
    out = cec.derivation().to_text()
    assert "vartheta_j(t) = f'_j(net_j(t)) vartheta_j(t+1) w_jj" in out
    assert "f_j(x) = x/w_jj + C" in out
    assert "dE(1)/dw_ji" in out and "= -1/2" in out and "= 3/2" in out
    assert "UnitOutput" not in out and "Target(" not in out and "\\" not in out
    assert "FAILED" not in out


# --- CLI -----------------------------------------------------------------------------------
def test_cli_derive_cec_text(capsys):
    assert main(["derive", "cec", "--format", "text"]) == 0
    out = capsys.readouterr().out
    assert "C1: one self-connected unit" in out and "C2: output weight conflict" in out


def test_cli_derive_cec_latex_file(tmp_path):
    target = tmp_path / "cec.tex"
    assert main(["derive", "cec", "--format", "latex", "-o", str(target)]) == 0
    assert target.read_text().startswith(r"\documentclass")


def test_python_dash_m_derive_and_verify():
    run = subprocess.run(
        [sys.executable, "-m", "errorflow", "verify", "--claim", "C1", "C2"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "C1   PASSED" in run.stdout and "C2   PASSED" in run.stdout
    assert "2 passed, 0 failed" in run.stdout


# --- registry ------------------------------------------------------------------------------
@pytest.mark.parametrize("claim_id", ["C1", "C2"])
def test_claim_passes_under_ci(claim_id):
    result = registry.run_claim(REGISTRY[claim_id], PROFILES["ci"])
    assert result.status == "passed", (result.error, result.numeric)
    assert result.symbolic == "proved"
    assert result.cases > 0 and result.max_error is not None


def test_c1_measures_flow_rounding_and_logistic_decay():
    num = registry.run_claim(REGISTRY["C1"], PROFILES["ci"]).numeric
    # one ci case has f' w_jj = 1 - eps/2: the flow's rounding is measured, within 2 q eps
    assert 0.0 < num.details["worst |theta(t-q)/theta(t) - 1| / (q eps), q <= long_q"] <= 2.0
    lo, hi = num.details["logistic, same w_jj: log|flow|/q per step, min / max"]
    assert lo <= hi < 0.0


def test_complex_step_slope_is_exact_for_a_linear_unit():
    nets = np.linspace(-50, 50, 101)
    for w in (0.25, 1.0, 2.0, 8.0):  # powers of two: 1/w and its product with w are exact
        assert np.all(claims_cec.complex_step_slope(claims_cec.linear_unit(w, 0.7), nets) * w == 1)


def test_finite_differences_match_the_exact_base_contributions():
    for seq in cec.conflict_sequences().values():
        values = claims_cec.sample_sequence(seq, np.random.default_rng(0), perturb=False)
        fd = claims_cec.step_contributions_fd(seq, values)
        assert fd == pytest.approx([float(v) for v in seq.values], rel=1e-8)


# --- mutation tests: each check fails on a broken input ------------------------------------
def _factor(scale):
    """The linear unit's slope off by ``scale``: the CEC factor f' w_jj becomes ``scale``."""

    def breaks(mp):
        mp.setattr(claims_cec, "linear_unit", lambda w, C: lambda x: scale * x / w + C)

    return breaks


def _drifting(mp):
    """The unit drifts by 1.001 C per step instead of C (slope untouched)."""
    mp.setattr(claims_cec, "linear_unit", lambda w, C: lambda x: x / w + 1.001 * C)


def _not_squashing(mp):
    """The 'logistic' unit replaced by a linear one: no decay for w_jj > 1."""
    act = activations.ACTIVATIONS["identity"]
    mp.setitem(
        activations.ACTIVATIONS,
        "logistic",
        dataclasses.replace(activations.ACTIVATIONS["logistic"], df=act.df, log_df=act.log_df),
    )


def _leaky_carousel(mp):
    """The numeric network forgets: y^j(t) = 0.9 y^j(t-1) + w_ji y^i(t)."""

    def errors(inputs, targets, w_ji, w_kj):
        y_j, out = 0.0, []
        for y_i, d_k in zip(inputs, targets, strict=True):
            y_j = 0.9 * y_j + w_ji * y_i
            out.append(0.5 * (d_k - w_kj * y_j) ** 2)
        return out

    mp.setattr(claims_cec, "cec_step_errors", errors)


def _flipped_output(mp):
    """The numeric network's output unit has the wrong sign: y^k = -w_kj y^j."""
    original = claims_cec.cec_step_errors
    mp.setattr(
        claims_cec,
        "cec_step_errors",
        lambda inputs, targets, w_ji, w_kj: original(inputs, targets, w_ji, -w_kj),
    )


def _no_conflict(mp):
    """The input sequence's irrelevant input -1/2 leaves j on: both contributions negative."""
    seqs = dict(cec.conflict_sequences())
    seq = seqs["input"]
    base = dict(seq.base)
    base[seq.inputs[1]] = sp.Rational(-1, 2)
    seqs["input"] = dataclasses.replace(seq, base=base)
    mp.setattr(cec, "conflict_sequences", lambda: seqs)


@pytest.mark.parametrize(
    ("claim_id", "break_it", "error_too_large"),
    [
        ("C1", _factor(1.001), True),
        ("C1", _factor(1.0 + 1e-12), True),
        ("C1", _drifting, True),
        ("C1", _not_squashing, False),
        ("C2", _leaky_carousel, True),
        ("C2", _flipped_output, True),
        ("C2", _no_conflict, False),
    ],
)
def test_each_check_fails_on_a_broken_input(monkeypatch, claim_id, break_it, error_too_large):
    assert _status(claim_id) == "passed"
    break_it(monkeypatch)
    result = registry.run_claim(REGISTRY[claim_id], PROFILES["ci"])
    assert result.status == "failed" and result.error is None
    # the measured error itself exceeds the tolerance, not only a side requirement
    assert (result.max_error > result.numeric.tolerance) is error_too_large
