"""Proof that the L1-L12 numeric checks can fail: each is run once against a deliberately
broken kernel (a generated step kernel of ``numeric/_generated/lstm.py`` wrapped by
``errorflow.numeric.lstm``, a slope, a flop count, a table entry) and must report the claim as
failed; before the break it passes.

The checks run under a reduced budget (fewer cases, lags up to 300) and without the symbolic
part (the SymPy derivation is tested elsewhere), so that this file stays fast.
"""

import dataclasses

import numpy as np
import pytest

from errorflow.numeric import activations, lstm
from errorflow.numeric._generated import lstm as gen
from errorflow.verify import REGISTRY, claims_lstm, registry

assert claims_lstm.PAPER_N_WEIGHTS  # importing it registers L1-L12
SMALL = registry.Budget("mutation", cases=6, long_q=300)

# positions of the arguments of the generated kernels (see numeric/_generated/lstm.py)
TR_MASK, TR_DS_IN, TR_DS_C, TR_DFO, TR_DG = 7, 8, 9, 18, 20
REV_TH_S = 16


# The breaks below patch the NumPy step kernels, so the checks must run on them (the compiled
# loop kernels have their own breaks in test_backends.py).
pytestmark = pytest.mark.usefixtures("numpy_backend")


def _status(claim_id):
    claim = dataclasses.replace(REGISTRY[claim_id], symbolic=None)
    return registry.run_claim(claim, SMALL)


def _wrap(mp, name, change):
    """Replace the wrapper's reference ``lstm.<name>`` by the kernel with changed arguments."""
    original = getattr(lstm, name)

    def broken(*args):
        args = list(args)
        change(args)
        return original(*args)

    mp.setattr(lstm, name, broken)


def _scale(index, factor):
    def change(args):
        args[index] = factor * args[index]

    return change


def _ones(index):
    def change(args):
        args[index] = lambda x: np.ones_like(x)

    return change


def _cec_forward(mp):
    """forward_step with the carousel's self-connection 1.0001 instead of 1."""
    _wrap(mp, "forward_step", _scale(1, 1.0001))


def _drop_g_prime(mp):
    """eq. (27) without the g'(net_c) factor (truncated_step's dg = 1)."""
    _wrap(mp, "truncated_step", _ones(TR_DG))


def _forget_eq25_partial(mp):
    """eq. (25) without the carried ds_c/dw_in(t-1) (instantaneous partials only)."""

    def change(args):
        args[TR_DS_IN] = np.zeros_like(args[TR_DS_IN])

    _wrap(mp, "truncated_step", change)


def _cec_partials(mp):
    """The online partials (25), (27) carried with factor 1.0001 per step."""

    def change(args):
        args[TR_DS_IN] = 1.0001 * args[TR_DS_IN]
        args[TR_DS_C] = 1.0001 * args[TR_DS_C]

    _wrap(mp, "truncated_step", change)


def _cec_reverse(mp):
    """reverse_step carrying -dE/ds_c back with factor 1.0001 per step."""
    _wrap(mp, "reverse_step", _scale(REV_TH_S, 1.0001))


def _drop_out_gate_slope(mp):
    """eq. (21) without f'_out (truncated_step's dfo = 1)."""
    _wrap(mp, "truncated_step", _ones(TR_DFO))


def _double_output_error(mp):
    """e_k = 2 f'(t - y) (eq. 16's loss without the 1/2) in the online kernel."""
    _wrap(mp, "truncated_step", _scale(TR_MASK, 2.0))


def _leaky_truncation(mp):
    """The 'truncated' route sends error back through every connection (full BPTT)."""
    mp.setattr(lstm, "truncated_gradient", lstm.full_gradient)


def _storing_truncation(mp):
    """The 'truncated' route keeps the whole history (same numbers, O(T) memory), and the
    generated step's flop count grows like P^2."""
    truncated = lstm.truncated_gradient
    mp.setattr(lstm, "truncated_gradient", lambda *a, **k: lstm.bptt_gradient(*a, detach=True))
    count = gen.truncated_step_flops
    mp.setattr(gen, "truncated_step_flops", lambda C, S, H, K, P, Q: count(C, S, H, K, P, Q) * P)
    assert truncated is not lstm.truncated_gradient


def _reconstructed_h_slope(mp):
    """h'(s) reconstructed from h as (1 - h^2)/2: exactly 0 once h(s) rounds to +-1."""
    act = activations.ACTIVATIONS["h"]
    mp.setitem(
        activations.ACTIVATIONS, "h", dataclasses.replace(act, df=lambda x: (1 - act.f(x) ** 2) / 2)
    )


def _wrong_table_row(mp):
    """Exp. 4's architecture without its output bias (92 weights instead of 93)."""
    mp.setitem(lstm.PAPER_LAYOUTS, "4-1", lstm.Layout(2, 1, 2, 2, bias="hidden"))


@pytest.mark.parametrize(
    ("claim_id", "break_it"),
    [
        ("L1", _cec_forward),
        ("L2", _forget_eq25_partial),
        ("L3", _cec_reverse),
        ("L4", _cec_partials),
        ("L5", _leaky_truncation),
        ("L6", _drop_out_gate_slope),
        ("L7", _drop_g_prime),
        ("L8", _storing_truncation),
        ("L9", _double_output_error),
        ("L10", _cec_reverse),
        ("L11", _reconstructed_h_slope),
        ("L12", _wrong_table_row),
    ],
)
def test_each_lstm_check_fails_on_a_broken_kernel(monkeypatch, claim_id, break_it):
    before = _status(claim_id)
    assert before.status == "passed", (before.error, before.numeric)
    break_it(monkeypatch)
    after = _status(claim_id)
    # failed by its own comparison, not by crashing
    assert after.error is None and after.numeric is not None, after.error
    assert after.status == "failed", after.numeric


@pytest.mark.parametrize("claim_id", ["L2", "L6", "L7", "L10"])
def test_dropping_g_prime_of_eq27_breaks_every_gradient_check(monkeypatch, claim_id):
    _drop_g_prime(monkeypatch)
    after = _status(claim_id)
    assert after.error is None and after.status == "failed", after.error


def test_mutations_target_the_kernels_by_their_documented_arguments():
    """The argument positions used above are the generated kernels' (guards against a
    regenerated signature silently moving them)."""
    import inspect

    tr = list(inspect.signature(gen.truncated_step).parameters)
    assert [tr[i] for i in (TR_MASK, TR_DS_IN, TR_DS_C, TR_DFO, TR_DG)] == [
        "m",
        "ds_in_prev",
        "ds_c_prev",
        "dfo",
        "dg",
    ]
    assert list(inspect.signature(gen.reverse_step).parameters)[REV_TH_S] == "th_s_next"
    assert list(inspect.signature(gen.forward_step).parameters)[1] == "s_prev"
