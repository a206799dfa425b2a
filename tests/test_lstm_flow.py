"""Appendix A.2 error flow through one memory cell (SPEC L3, L4, L5, L9, L10, L11): every
proof holds, every claim is covered, the sections render, and the proofs can fail."""

import subprocess
import sys

import pytest
import sympy as sp

from errorflow.derivations import lstm_flow
from errorflow.derivations.core import prove_equal

CLAIMS = ("L3", "L4", "L5", "L9", "L10", "L11")


@pytest.fixture(scope="module")
def sections():
    return lstm_flow.sections()


def test_every_proof_holds(sections):
    failed = [(p.claim, p.statement) for s in sections for p in s.proofs if not p.holds]
    assert not failed


def test_sections_come_in_claim_order_and_are_cached(sections):
    assert [s.claims[0] for s in sections] == list(CLAIMS)
    assert lstm_flow.sections() is sections


@pytest.mark.parametrize("claim", CLAIMS)
def test_each_claim_has_proofs_and_steps(claim, sections):
    found = lstm_flow.proofs(claim)
    assert found
    assert all(claim in p.claim.split(", ") for p in found)
    section = next(s for s in sections if claim in s.claims)
    assert section.steps and section.prose


def test_proofs_of_an_unknown_claim_is_empty():
    assert lstm_flow.proofs("Z9") == []
    assert not any(p.claim == "L1" for p in lstm_flow.proofs("L10"))


def test_latex_rendering(sections):
    for s in sections:
        tex = s.to_latex()
        assert tex.count(r"\begin{align*}") == tex.count(r"\end{align*}") == 1
        assert r"\textbf{FAILED}" not in tex
        assert "operatorname" not in tex  # the paper's slopes print as g', h', f'_{in_j}
    tex = "".join(s.to_latex() for s in sections)
    assert r"\approx_{tr}" in tex
    assert r"\vartheta_{s_{c_j}}(t)" in tex
    assert r"y^{out_{j}}(t)\,h'(s_{c_j}(t))\,g'(net_{c_{j}}(t - q))\,y^{in_{j}}(t - q)" in tex


def test_text_rendering_is_readable(sections):
    out = "\n".join(s.to_text() for s in sections)
    for leak in ("Lstm", "NetInput(", "UnitOutput(", "Derivative(", "Subs(", "\\frac", "\\,"):
        assert leak not in out
    assert "vartheta_s(t) ~tr vartheta_s(t + 1) + y^out_j(t) h'(s_c(t)) vartheta_j(t)" in out
    assert "e_k(t) = 2 f'_k(net_k(t)) (t^k(t) - y^k(t))" in out


def test_eq41_against_a_wrong_variant_fails():
    cell = lstm_flow.stop_gradient_cell(4)
    for q in (0, 2, 3):
        lhs = cell.d(cell.y_c[3], cell.net_c[3 - q])
        right = prove_equal("L4", "eq. (41)", lhs, cell.realize(lstm_flow.eq41("c", 4, q)))
        wrong = cell.realize(lstm_flow.eq41("c", 4, q, drop="y_in"))
        assert right.holds
        assert not prove_equal("L4", "missing y^in", lhs, wrong).holds
    lhs = cell.d(cell.y_c[3], cell.net_in[1])
    for drop in ("y_out", "h'", "f'_in"):
        wrong = cell.realize(lstm_flow.eq41("in", 4, 2, drop=drop))
        assert not prove_equal("L4", f"missing {drop}", lhs, wrong).holds


def test_eq41_rejects_a_factor_it_does_not_have():
    with pytest.raises(ValueError, match="no factor"):
        lstm_flow.eq41("in", 4, 1, drop="y_in")
    with pytest.raises(ValueError, match="v = 'c' or 'in'"):
        lstm_flow.eq41("out", 4, 1)


def test_truncated_gradient_differs_only_where_expected():
    # T = 2, all weights generic: the output weight's gradient is exact, a hidden one is not.
    full, trunc = lstm_flow.full_cell(2), lstm_flow.full_cell(2, detached=True)
    w = lstm_flow.WEIGHTS
    assert sp.expand(full.gradient(w["k_c"]) - trunc.gradient(w["k_c"])) == 0
    assert sp.expand(full.gradient(w["c_x"]) - trunc.gradient(w["c_x"])) != 0


def test_primes_names_the_slopes():
    a, b = sp.symbols("a b")
    expr = lstm_flow.primes(sp.diff(lstm_flow.G(a * b) * lstm_flow.H(a), a))
    assert not expr.has(sp.Derivative) and not expr.has(sp.Subs)
    assert expr.has(lstm_flow.G.prime(a * b)) and expr.has(lstm_flow.H.prime(a))


def test_a_leaked_model_symbol_cannot_make_a_witness():
    with pytest.raises(ValueError, match="leaked"):
        lstm_flow._nonzero(sp.Symbol("eps1") + 1)


def test_fast_and_sympy_only_in_a_fresh_interpreter():
    code = (
        "import sys, time\n"
        "t0 = time.perf_counter()\n"
        "from errorflow.derivations import lstm_flow\n"
        "lstm_flow.sections()\n"
        "print(time.perf_counter() - t0, 'errorflow.numeric' in sys.modules)\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    seconds, numeric = run.stdout.split()
    assert float(seconds) < 20
    assert numeric == "False"
