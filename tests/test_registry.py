"""The claims registry, and proof that its checks can fail: each check is run once against a
deliberately broken kernel and must report the claim as failed."""

import dataclasses

import numpy as np
import pytest

from errorflow.numeric import activations, logspace, rnn
from errorflow.verify import PROFILES, REGISTRY, registry, select

SPEC_IDS = ["A1", "A2", "A3"] + [f"B{i}" for i in range(1, 11)]


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


@pytest.mark.parametrize(
    ("claim_id", "break_it"),
    [
        # eq. (1) with W instead of W^T: every route disagrees
        (
            "B3",
            lambda mp: mp.setattr(logspace, "scaling_step", lambda fp, W, S: fp[:, None] * (W @ S)),
        ),
        (
            "B4",
            lambda mp: mp.setattr(logspace, "scaling_step", lambda fp, W, S: fp[:, None] * (W @ S)),
        ),
        # the backward step forgets the slope: not -dE/dnet any more
        ("B1", lambda mp: mp.setattr(rnn, "error_step", lambda fp, e, W, th: e + W.T @ th)),
        ("B2", lambda mp: mp.setattr(rnn, "error_step", lambda fp, e, W, th: fp * (e + W @ th))),
        # a slope 1e-9 too large, and a log-slope 1e-12 off
        (
            "A1",
            lambda mp: _broken_activation(
                mp, "logistic", df=lambda x: activations._sq.d_logistic(x) * (1 + 1e-9)
            ),
        ),
        (
            "A3",
            lambda mp: _broken_activation(
                mp, "tanh", log_df=lambda x: activations._sq.log_d_tanh(x) + 1e-12
            ),
        ),
        # a slope that can exceed its supremum
        ("A2", lambda mp: _broken_activation(mp, "h", df=lambda x: 0.51 / np.cosh(x / 2) ** 2 * 2)),
        # the per-step rescaling loses a factor 2 once per step: rates and mpmath disagree
        (
            "B10",
            lambda mp: mp.setattr(
                logspace, "scaling_step", lambda fp, W, S: 1.0000001 * fp[:, None] * (W.T @ S)
            ),
        ),
        (
            "B5",
            lambda mp: mp.setattr(
                logspace, "scaling_step", lambda fp, W, S: 1.0000001 * fp[:, None] * (W.T @ S)
            ),
        ),
        (
            "B6",
            lambda mp: mp.setattr(
                logspace, "scaling_step", lambda fp, W, S: 1.0000001 * fp[:, None] * (W.T @ S)
            ),
        ),
        # a kernel that inflates long-lag flow beyond the bounds
        (
            "B9",
            lambda mp: mp.setattr(
                logspace, "scaling_step", lambda fp, W, S: 4.0 * fp[:, None] * (W.T @ S)
            ),
        ),
        (
            "B8",
            lambda mp: mp.setattr(
                logspace, "scaling_step", lambda fp, W, S: 4.0 * fp[:, None] * (W.T @ S)
            ),
        ),
        # a logistic slope that peaks too high
        (
            "B7",
            lambda mp: _broken_activation(mp, "logistic", df=lambda x: 0.3 / np.cosh(x / 2) ** 2),
        ),
    ],
)
def test_each_check_fails_on_a_broken_kernel(monkeypatch, claim_id, break_it):
    assert _status(claim_id) == "passed"
    break_it(monkeypatch)
    assert _status(claim_id) == "failed"
