"""The LSTM derivation (SPEC L1-L12): its proofs hold, would catch a wrong statement, and the
statements the proofs run are the ones the generated kernels compute."""

import numpy as np
import pytest
import sympy as sp

from errorflow.derivations import arrays, lstm
from errorflow.numeric._generated import lstm as gen
from errorflow.numeric.activations import ACTIVATIONS

SMALL = lstm._Case(C=1, S=2, H=1, K=1, n=1, T=2)


def test_every_proof_holds_and_every_claim_has_one():
    d = lstm.derivation()
    failed = [(p.claim, p.statement) for p in d.proofs if not p.holds]
    assert failed == []
    ids = {c for p in d.proofs for c in p.claim.split(", ")}
    assert ids >= {f"L{i}" for i in range(1, 13)}
    assert d.claims() == [f"L{i}" for i in range(1, 13)]


def _replace(statements, target, expr):
    return tuple((t, expr if t == target else e) for t, e in statements)


def test_kernel_proof_catches_a_wrong_eq27(monkeypatch):
    """Dropping g' from eq. (27) makes the truncated step disagree with sympy.diff."""
    wrong = lstm.ds_c_prev + arrays.Outer(lstm.y_in, lstm.z)
    monkeypatch.setattr(
        lstm, "TRUNCATED_BACKWARD", _replace(lstm.TRUNCATED_BACKWARD, lstm.ds_c, wrong)
    )
    case = lstm._Case(C=1, S=1, H=0, K=1, n=1, T=2)
    loss, weights, envs = lstm._network(case, detach=True)
    exact = lstm._grad_by_diff(loss, weights)
    assert lstm._mismatches(lstm._truncated_total(case, envs), exact, first=True) > 0


def test_kernel_proof_catches_a_scaled_carousel(monkeypatch):
    """A carousel that passes 0.99 of the state error back makes the reverse step wrong."""
    wrong = sp.Rational(99, 100) * lstm.th_s_next + lstm.y_out * lstm.dh(lstm.s) * lstm.th_yc
    monkeypatch.setattr(lstm, "REVERSE_STEP", _replace(lstm.REVERSE_STEP, lstm.th_s, wrong))
    case = lstm._Case(C=1, S=1, H=0, K=1, n=1, T=2)
    loss, weights, envs = lstm._network(case, detach=False)
    exact = lstm._grad_by_diff(loss, weights)
    assert lstm._mismatches(lstm._reverse_total(case, envs, detach=False), exact, first=True) > 0


def test_forward_proof_catches_the_wrong_gate(monkeypatch):
    wrong = lstm.s_prev + lstm.y_out * lstm.g_c
    monkeypatch.setattr(lstm, "FORWARD_STEP", _replace(lstm.FORWARD_STEP, lstm.s, wrong))
    assert not lstm._forward_proof().holds


def test_generated_flops_match_the_derivation_and_are_O_of_W():
    specs = {s.name: s for s in lstm.kernel_specs()}
    rng = np.random.default_rng(5)
    for name in ("forward_step", "truncated_step", "reverse_step"):
        formula = specs[name].flops()
        bound = lstm.flops_bound(formula)
        for _ in range(20):
            sizes = dict(zip(lstm.SIZES, rng.integers(1, 40, size=6).tolist(), strict=True))
            value = getattr(gen, f"{name}_flops")(*sizes.values())
            assert value == int(formula.subs(sizes))
            assert value <= bound * int(lstm.W_DENSE.subs(sizes))


# -- the interpreter the proofs use computes what the printed NumPy code computes ----------

_FUNCS = {
    "f": "logistic",
    "df": "logistic",
    "fo": "logistic",
    "dfo": "logistic",
    "g": "g",
    "dg": "g",
    "h": "h",
    "dh": "h",
}


def _sympy_function(name):
    x = sp.Symbol("x")
    act = {"logistic": 1 / (1 + sp.exp(-x)), "g": 2 * sp.tanh(x / 2), "h": sp.tanh(x / 2)}[
        _FUNCS[name]
    ]
    return sp.Lambda(x, sp.diff(act, x) if name.startswith("d") else act)


def _numeric_function(name):
    act = ACTIVATIONS[_FUNCS[name]]
    return act.df if name.startswith("d") else act.f


@pytest.mark.parametrize("kernel", ["truncated_step", "reverse_step"])
def test_printed_kernel_equals_the_interpreted_statements(kernel):
    """Run the generated NumPy kernel and the SymPy interpreter on the same random numbers."""
    spec = {s.name: s for s in lstm.kernel_specs()}[kernel]
    case = lstm._Case(C=2, S=2, H=1, K=2, n=2, T=1)
    dims = case.dims()
    rng = np.random.default_rng(11)
    numeric, symbolic = [], {}
    for arg, sym in zip(spec.args, spec.symbols, strict=True):
        if arg.name in _FUNCS:
            numeric.append(_numeric_function(arg.name))
            continue
        shape = tuple(int(sp.sympify(d).subs(dims)) for d in spec.shapes[sym])
        value = rng.uniform(-1, 1, size=shape)
        numeric.append(value)
        symbolic[sym] = sp.ImmutableDenseNDimArray([sp.Float(v) for v in value.ravel()], shape)
    env = dict(symbolic)
    for target, expr in spec.statements:
        env[target] = arrays.evaluate(expr, env, dims)
    outputs = getattr(gen, kernel)(*numeric)
    lambdas = {getattr(lstm, n): _sympy_function(n) for n in _FUNCS}
    for sym, got in zip(spec.outputs, outputs, strict=True):
        value = env[sym]
        entries = [
            float(e.subs(lambdas).evalf()) if isinstance(e, sp.Basic) else float(e)
            for e in (sp.flatten(value) if isinstance(value, sp.NDimArray) else [value])
        ]
        np.testing.assert_allclose(np.ravel(got), entries, rtol=1e-12, atol=1e-14, err_msg=str(sym))


def test_l12_weight_rule_reproduces_table_10():
    for p in lstm.PAPER_TABLE10:
        count = lstm.weight_count(
            p.n_in, p.n_out, p.blocks, p.size, 0, p.connectivity, p.bias, p.output_gates
        )
        assert count == p.paper_w, p.key


def test_derive_lstm_latex_has_every_equation_label():
    tex = lstm.derivation().to_latex()
    for label in ("(19)", "(20)", "(21)", "(23)", "(25)", "(27)", "(24), (28)", "Table 10, 4-1"):
        assert label in tex
    assert r"\begin{document}" in tex and tex.count(r"\begin{align*}") >= 10
