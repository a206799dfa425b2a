"""The derivations: every symbolic proof holds, and each renders as LaTeX and text."""

import pytest
import sympy as sp

from errorflow import derivations
from errorflow.derivations import bptt, squashing
from errorflow.derivations.notation import ErrorSignal, Slope, latex, t, text
from errorflow.report import compile_pdf


@pytest.mark.parametrize("name", derivations.NAMES)
def test_every_proof_holds(name):
    d = derivations.get(name).derivation()
    failed = [p.statement for p in d.proofs if not p.holds]
    assert not failed
    assert d.proofs


def test_claims_covered():
    claims = set()
    for name in derivations.NAMES:
        for proof in derivations.get(name).derivation().proofs:
            claims.update(proof.claim.split(", "))
    assert {"A1", "A2", "A3"} | {f"B{i}" for i in range(1, 11)} <= claims


def test_bptt_latex_contains_eq1_erratum_and_coth_optimum():
    tex = bptt.derivation().to_latex()
    assert r"\begin{document}" in tex and r"\end{document}" in tex
    assert "eq. (1)" in tex
    assert "erratum in eq. (2)" in tex
    assert r"w_{l_m l_{m-1}}" in tex and r"w_{l_{m-1} l_m}" in tex
    assert r"\coth" in tex
    assert "1.5434046" in tex and "0.2238716" in tex


def test_text_format_uses_paper_notation():
    out = bptt.derivation().to_text()
    assert "vartheta_k(t)" in out
    assert "ErrorSignal" not in out and "Slope(" not in out


def test_time_is_printed_with_t_first():
    q = sp.Symbol("q")
    assert latex(ErrorSignal(1, t - q + 1)) == r"\vartheta_{1}(t - q + 1)"
    assert text(Slope(2, t - 1)) == "f'_2(net_2(t - 1))"


def test_path_sum_printed_differs_symbolically():
    # B4 from the derivation's own helpers: q = 1, v = 1, u = 2
    diff = bptt.eq2_as_printed(1, 2, 1, 2) - bptt.eq1_recursion(1, 2, 1, 2)
    assert sp.expand(diff) != 0


def test_matrix_product_equals_recursion_for_n3_q3():
    S = bptt.matrix_product(3, 3)
    for v in (1, 2, 3):
        for u in (1, 2, 3):
            assert sp.expand(S[v - 1, u - 1] - bptt.eq1_recursion(v, u, 3, 3)) == 0


def test_a_wrong_identity_is_not_proved():
    # The proof machinery can fail: f' = f(1 + f) is false.
    from errorflow.derivations.core import prove_equal

    s = squashing.SQUASHING["logistic"]
    wrong = prove_equal("A1", "wrong", s.df.rewrite(sp.exp), (s.f * (1 + s.f)).rewrite(sp.exp))
    assert not wrong.holds


@pytest.mark.parametrize("name", derivations.NAMES)
def test_derivation_latex_compiles(name, tmp_path, pdflatex):
    tex = tmp_path / "d.tex"
    tex.write_text(derivations.get(name).derivation().to_latex())
    result = compile_pdf(tex, runs=1)
    assert result.path is not None, result.message
    assert result.overfull == 0 and result.pages >= 1


@pytest.mark.parametrize("name", derivations.NAMES)
def test_text_rendering_has_no_tex_left(name):
    out = derivations.get(name).derivation().to_text()
    assert "\\" not in out and "$" not in out
