"""The claims registry, and proof that its checks can fail: each check is run once against a
deliberately broken kernel and must report the claim as failed."""

import dataclasses

import numpy as np
import pytest
from _spec import SPEC_IDS

from errorflow.numeric import activations, logspace, rnn
from errorflow.verify import PROFILES, REGISTRY, registry, select

# The breaks below patch the NumPy step kernels, so the checks must run on them (the compiled
# loop kernels have their own breaks in test_backends.py).
pytestmark = pytest.mark.usefixtures("numpy_backend")


def test_every_spec_claim_is_registered_in_order():
    assert [c.id for c in select()] == SPEC_IDS
    for claim in select():
        assert claim.statement and claim.section and claim.how
        assert claim.symbolic is not None and claim.numeric is not None


def test_select_is_case_insensitive_and_rejects_unknown_ids():
    assert [c.id for c in select(["b10", "a1"])] == ["B10", "A1"]
    with pytest.raises(registry.UnknownClaimError, match="Z1"):
        select(["Z1"])


def test_a_crashing_check_is_a_failed_claim_not_an_exception():
    def boom(budget, rng):
        raise RuntimeError("kaput")

    claim = registry.Claim("X1", "X", "s", "h", None, boom)
    result = registry.run_claim(claim, PROFILES["ci"])
    assert result.status == "failed" and "kaput" in result.error


def _status(claim_id):
    return registry.run_claim(REGISTRY[claim_id], PROFILES["ci"]).status


def _broken_activation(monkeypatch, name, **kernels):
    act = activations.ACTIVATIONS[name]
    monkeypatch.setitem(activations.ACTIVATIONS, name, dataclasses.replace(act, **kernels))


def _scaled_step(factor):
    """``scaling_step`` off by a constant factor per step."""

    def breaks(mp):
        mp.setattr(logspace, "scaling_step", lambda fp, W, S: factor * fp[:, None] * (W.T @ S))

    return breaks


def _transposed_step(mp):
    """eq. (1) with W instead of W^T."""
    mp.setattr(logspace, "scaling_step", lambda fp, W, S: fp[:, None] * (W @ S))


def _slope(name, kernel, df):
    return lambda mp: _broken_activation(mp, name, **{kernel: df})


@pytest.mark.parametrize(
    ("claim_id", "break_it"),
    [
        ("B3", _transposed_step),
        ("B4", _transposed_step),
        # the backward step forgets the slope, or uses W for W^T: not -dE/dnet any more
        ("B1", lambda mp: mp.setattr(rnn, "error_step", lambda fp, e, W, th: e + W.T @ th)),
        ("B2", lambda mp: mp.setattr(rnn, "error_step", lambda fp, e, W, th: fp * (e + W @ th))),
        # a slope 1e-9 too large, a log-slope 1e-12 off, a slope above its supremum
        ("A1", _slope("logistic", "df", lambda x: activations._sq.d_logistic(x) * (1 + 1e-9))),
        ("A3", _slope("tanh", "log_df", lambda x: activations._sq.log_d_tanh(x) + 1e-12)),
        ("A2", _slope("h", "df", lambda x: 0.51 / np.cosh(x / 2) ** 2 * 2)),
        # a per-step factor 1e-7 too large: rates and mpmath disagree
        ("B10", _scaled_step(1.0000001)),
        ("B5", _scaled_step(1.0000001)),
        ("B6", _scaled_step(1.0000001)),
        # long-lag flow inflated beyond the bounds
        ("B9", _scaled_step(4.0)),
        ("B8", _scaled_step(4.0)),
        # a logistic slope that peaks too high
        ("B7", _slope("logistic", "df", lambda x: 0.3 / np.cosh(x / 2) ** 2)),
    ],
)
def test_each_check_fails_on_a_broken_kernel(monkeypatch, claim_id, break_it):
    assert _status(claim_id) == "passed"
    break_it(monkeypatch)
    assert _status(claim_id) == "failed"
