"""S10: simple weight guessing (derivation, geometric-law kernels, guessing on task 3a)."""

from __future__ import annotations

import math
import subprocess
import sys

import mpmath
import numpy as np
import pytest
from _latex import check_equation
from hypothesis import given
from hypothesis import strategies as st

from errorflow.derivations import guessing as deriv
from errorflow.numeric import guessing
from errorflow.verify import PROFILES, REGISTRY, claims_guessing, registry


def test_every_proof_holds():
    proofs = deriv.derivation().proofs
    assert len(proofs) >= 6
    assert all(p.holds for p in proofs), [p.statement for p in proofs if not p.holds]


def test_latex_rows_are_valid_and_text_has_no_tex():
    d = deriv.derivation()
    for section in d.sections:
        for step in section.steps:
            assert check_equation(step.to_latex()) == [], step.name
    out = d.to_text()
    assert "\\" not in out and "$" not in out


def test_latex_compiles(tmp_path, pdflatex):
    from errorflow.report import compile_pdf

    tex = tmp_path / "g.tex"
    tex.write_text(deriv.derivation().to_latex())
    result = compile_pdf(tex, runs=1)
    assert result.path is not None, result.message


@given(st.floats(1e-12, 0.95), st.floats(0.0, 20.0), st.floats(0.01, 0.99))
def test_geometric_law_kernels_against_mpmath(p, u, alpha):
    k = math.floor(u / p)  # up to 20/p guesses: (1 - p)^k from 1 down to e^-20, for tiny p too
    law = guessing.geometric_law(p, k=float(k), alpha=alpha)
    with mpmath.workdps(40):
        P = mpmath.mpf(p)
        assert float(law["mean"]) == pytest.approx(1 / p, rel=1e-15)
        surv = (1 - P) ** k
        assert float(law["survival"]) == pytest.approx(float(surv), rel=1e-12, abs=1e-300)
        med = mpmath.ceil(mpmath.log(2) / -mpmath.log(1 - P))
        assert float(law["median"]) == float(med)
        quant = mpmath.ceil(mpmath.log(1 - mpmath.mpf(alpha)) / mpmath.log(1 - P))
        # ceil is discontinuous: allow the one case where the ratio is within rounding of
        # an integer
        ratio = mpmath.log(1 - mpmath.mpf(alpha)) / mpmath.log(1 - P)
        near = abs(ratio - mpmath.nint(ratio)) < 1e-9 * ratio
        assert float(law["quantile"]) == float(quant) or near


@given(st.floats(1e-4, 0.5))
def test_median_is_the_smallest_k_with_half_the_mass(p):
    med = int(guessing.geometric_law(p)["median"])
    assert 1 - (1 - p) ** med >= 0.5 - 1e-12
    assert med == 1 or 1 - (1 - p) ** (med - 1) < 0.5 + 1e-12


def test_found_net_really_classifies_the_test_set():
    res = guessing.weight_guessing(20, 1, scale=10.0, max_guesses=50_000, rng=7)
    assert res.solved and res.guesses >= 1
    test = guessing.make_test_set(7, 20, 1, 256)  # the same test set (drawn first from rng=7)
    params = {k: v[None] for k, v in res.weights.items()}
    assert guessing.classify(params, test).all()


def test_classify_agrees_with_a_plain_loop():
    rng = np.random.default_rng(2)
    test = guessing.make_test_set(rng, 12, 1, 16)
    params = guessing._draw(rng, 5, 2, 3.0)
    got = guessing.classify(params, test)
    for g in range(5):
        for b in range(16):
            h = np.zeros(2)
            for s in range(int(test.lengths[b])):
                x = test.xs[b, s]
                h = np.tanh(params["W"][g] @ h + params["u"][g] * x + params["b"][g])
            y = 1 / (1 + math.exp(-(params["v"][g] @ h + params["c"][g])))
            assert got[g, b] == (abs(y - test.targets[b]) < 0.2)


def test_counts_follow_the_geometric_law_on_a_cheap_setting():
    rng = np.random.default_rng(11)
    test = guessing.make_test_set(rng, 5, 1, 64)
    M = 50_000
    p = guessing.success_count(test, M, scale=20.0, rng=rng) / M
    counts = claims_guessing.guess_counts(rng, test, 150, 20.0)
    z = claims_guessing._z_scores(counts, p, M)
    assert all(abs(v) < 4 for v in z.values()), z


def test_a_wrong_law_is_rejected():
    # counts from p, compared with the law at 2p: the check must notice
    rng = np.random.default_rng(12)
    counts = rng.geometric(0.02, 400)
    z = claims_guessing._z_scores(counts, 0.04, 10**6)
    assert abs(z["mean"]) > 4


@pytest.mark.parametrize(
    ("call", "arg"),
    [
        (lambda: guessing.weight_guessing(10, n_hidden=0), "n_hidden"),
        (lambda: guessing.weight_guessing(10, scale=-1.0), "scale"),
        (lambda: guessing.weight_guessing(10, scale="1"), "scale"),
        (lambda: guessing.weight_guessing(10, max_guesses=0), "max_guesses"),
        (lambda: guessing.weight_guessing(10, rng="x"), "rng"),
        (lambda: guessing.geometric_law(0.0), "p"),
        (lambda: guessing.geometric_law(1.0), "p"),
        (lambda: guessing.geometric_law(0.5, alpha=1.0), "alpha"),
        (lambda: guessing.geometric_law(0.5, k=-1.0), "k"),
    ],
)
def test_bad_arguments_name_the_argument(call, arg):
    with pytest.raises(ValueError, match=f"^{arg}:"):
        call()


def test_unsolved_search_reports_max_guesses():
    res = guessing.weight_guessing(10, scale=1e-3, max_guesses=100, rng=1)
    assert not res.solved and res.guesses == 100 and res.weights is None


def test_numeric_does_not_import_sympy():
    code = "import errorflow.numeric.guessing, sys; assert 'sympy' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_claim_passes_in_ci_profile():
    result = registry.run_claim(REGISTRY["S10"], PROFILES["ci"])
    assert result.status == "passed", (result.error, result.numeric and result.numeric.details)
