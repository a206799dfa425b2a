"""The report's figures (errorflow.figures): each plots data that show its claim, every axis is
labelled, and the files are byte-identical from one run to the next."""

from __future__ import annotations

import re

import numpy as np
import pytest
from _spec import SPEC_IDS
from matplotlib.figure import Figure

from errorflow import figures
from errorflow.derivations.bptt import b7_optimum
from errorflow.numeric import rnn

NAMES = ("error_flow", "b7_factor", "b9_looseness", "truncated_vs_full", "drift")


@pytest.fixture(scope="module")
def built() -> dict[str, Figure]:
    """Every figure, built once with the defaults ``write_figures`` uses."""
    return {name: info.make() for name, info in figures.FIGURES.items()}


def _lines(ax) -> dict[str, np.ndarray]:
    """gid -> (k, 2) plotted data of each line of ``ax``."""
    return {line.get_gid(): np.asarray(line.get_xydata()) for line in ax.get_lines()}


def _slope(xy: np.ndarray, q_min: float = 1000.0) -> float:
    """Least-squares slope (decades per step) over the lags ``q >= q_min``."""
    keep = xy[:, 0] >= q_min
    return float(np.polyfit(xy[keep, 0], xy[keep, 1], 1)[0])


# --- (a) error flow ---------------------------------------------------------------------------
def test_log10_flow_one_pass_equals_each_lag_on_its_own():
    rng = np.random.default_rng(5)
    W = rng.standard_normal((3, 3))
    nets = 2.0 * rng.standard_normal((700, 3))
    lags = [1, 2, 7, 50, 699, 700]
    direct = [np.max(rnn.log_scaling_factor(W, nets[:q])[1]) / np.log(10.0) for q in lags]
    np.testing.assert_allclose(figures.log10_flow(W, nets, "logistic", lags), direct, rtol=1e-12)


def test_error_flow_reaches_lag_ten_thousand(built):
    lines = _lines(built["error_flow"].axes[0])
    for gid in ("logistic-1.0", "linear", "lstm"):
        assert lines[gid][0, 0] == 1 and lines[gid][-1, 0] == figures.Q_MAX
        assert np.all(np.isfinite(lines[gid][:, 1]))


def test_logistic_flow_decays_below_the_b6_and_b9_bounds(built):
    lines = _lines(built["error_flow"].axes[0])
    for norm in (1.0, 2.5, 3.9):
        flow, b9, b6 = (lines[f"{k}-{norm}"] for k in ("logistic", "B9", "B6"))
        assert _slope(flow) < -0.1  # at least 0.1 decade per step
        assert np.all(flow[:, 1] <= b9[:, 1] + 1e-9)
        assert np.all(b9[:, 1] <= b6[:, 1] + 1e-9)  # observed f'max <= sup f' = 1/4
        assert _slope(flow) <= _slope(b9) < 0
        assert flow[-1, 1] < -1000


def test_linear_flow_explodes_like_r_to_the_q(built):
    lines = _lines(built["error_flow"].axes[0])
    flow, exact = lines["linear"], lines["B5"]
    assert _slope(flow) == pytest.approx(np.log10(1.05), rel=1e-3)
    assert np.all(flow[:, 1] <= exact[:, 1] + 1e-9)  # max |S[v,u]| <= ||S(q)||_2 = r^q
    assert flow[-1, 1] > 200


def test_lstm_carousel_flow_does_not_decay(built):
    lines = _lines(built["error_flow"].axes[0])
    cell = lines["lstm"]
    assert abs(_slope(cell, q_min=1.0)) < 1e-5
    assert np.ptp(cell[:, 1]) < 0.5  # within half a decade from q = 1 to 10^4
    assert lines["cec"][0, 1] == 0.0  # d s_c(t) / d s_c(t-q) = 1
    assert cell[-1, 1] - lines["logistic-3.9"][-1, 1] > 1000


# --- (b) B7 -----------------------------------------------------------------------------------
def test_b7_curves_peak_at_the_coth_optimum(built):
    opt = b7_optimum()
    net_star, peak = float(opt.net_star), float(opt.peak)
    lines = _lines(built["b7_factor"].axes[0])
    for y in (0.1, 0.25, 0.5, 1.0, 2.0):
        curve, marker, level = lines[f"y-{y}"], lines[f"optimum-{y}"], lines[f"peak-{y}"]
        np.testing.assert_allclose(marker[0], [net_star / y, peak / y], rtol=1e-14)
        assert level[0, 1] == pytest.approx(peak / y, rel=1e-14)
        assert np.max(curve[:, 1]) <= peak / y * (1 + 1e-12)
        top = curve[np.argmax(curve[:, 1])]
        assert top[1] == pytest.approx(peak / y, rel=1e-4)
        assert abs(top[0] - net_star / y) <= 0.05
        # the coth form: w* y tanh(w* y / 2) = 1
        w_star = marker[0, 0]
        assert w_star * y * np.tanh(w_star * y / 2) == pytest.approx(1.0, rel=1e-14)
    assert peak == pytest.approx(0.2238716, abs=1e-7)


# --- (c) B9 -----------------------------------------------------------------------------------
def test_b9_bound_is_above_every_entry_and_looser_at_long_lags(built):
    (points,) = [c for c in built["b9_looseness"].axes[0].collections if c.get_gid() == "entries"]
    actual, bound = np.asarray(points.get_offsets()).T
    lags = np.asarray(points.get_array())
    assert actual.size >= 100
    gap = bound - actual
    assert np.all(gap >= 0)
    assert np.corrcoef(lags, gap)[0, 1] > 0.5
    diagonal = _lines(built["b9_looseness"].axes[0])["diagonal"]
    np.testing.assert_array_equal(diagonal[:, 0], diagonal[:, 1])


# --- (d) L10 ----------------------------------------------------------------------------------
def test_truncated_equals_full_only_without_recurrence(built):
    ax = built["truncated_vs_full"].axes[0]
    dist = {c.get_gid(): np.asarray(c.get_offsets())[:, 1] for c in ax.collections}
    assert dist["distance-B"].max() < 100 * np.finfo(np.float64).eps
    assert dist["distance-F"].min() > 1e-8
    assert np.median(dist["distance-F"]) > 1e-3


# --- (e) L11 ----------------------------------------------------------------------------------
def test_drift_grows_slower_with_a_more_negative_gate_bias(built):
    top, bottom = built["drift"].axes
    states, slopes = _lines(top), _lines(bottom)
    finals = []
    for bias in figures.DRIFT_GATE_BIASES:
        s, dh, bound = states[f"s-{bias:g}"], slopes[f"dh-{bias:g}"], slopes[f"bound-{bias:g}"]
        assert np.all(np.diff(s[:, 1]) > 0)  # the cell input is of one sign: |s_c| only grows
        assert np.all(dh[:, 1] <= bound[:, 1] + 1e-12)  # h'(s) <= 2 e^{-|s|}
        finals.append(s[-1, 1])
    assert finals == sorted(finals, reverse=True)
    assert slopes["dh-0"][-1, 1] < -1000  # h'(s_c) below 10^-1000: the carousel is shut


def test_drift_cells_receive_input_of_one_sign():
    fwd = figures.drift_pass(19970, T=500)
    assert np.all(fwd.net_c > 0)


# --- every figure -----------------------------------------------------------------------------
def test_registry_names_claims_and_captions():
    assert tuple(figures.FIGURES) == NAMES
    for info in figures.FIGURES.values():
        assert info.title and info.claims
        assert set(info.claims) <= set(SPEC_IDS)
        text = re.sub(r"\$[^$]*\$", "", info.caption)  # outside math
        assert info.caption.count("$") % 2 == 0
        assert not re.search(r"(?<!\\)[%&#_^]", text), info.caption


def test_every_axis_is_labelled(built):
    for name, fig in built.items():
        assert fig.axes, name
        for ax in fig.axes:
            assert ax.get_ylabel().strip(), f"{name}: an axis without a y label"
            spec = ax.get_subplotspec()
            if spec is not None and spec.is_last_row():
                assert ax.get_xlabel().strip(), f"{name}: an axis without an x label"
            if spec is not None:
                assert ax.get_title().strip() or not spec.is_first_row(), name


def test_write_figures_is_byte_identical_and_undated(built, tmp_path):
    lines = []
    written = figures.write_figures(tmp_path / "a", progress=lines.append)
    assert sorted(p.name for p in written) == sorted(
        f"{n}.{e}" for n in NAMES for e in ("png", "svg")
    )
    assert len(lines) == len(NAMES)
    for name, fig in built.items():  # the same figures, built on their own
        figures.save_figure(fig, tmp_path / "b", name)
    for path in written:
        again = tmp_path / "b" / path.name
        assert path.read_bytes() == again.read_bytes(), path.name
    svg = (tmp_path / "a" / "drift.svg").read_text()
    png = (tmp_path / "a" / "drift.png").read_bytes()
    assert "<dc:date>" not in svg and "Matplotlib v" not in svg
    assert b"Software" not in png and png.startswith(b"\x89PNG")


def test_unknown_profile_or_figure_is_refused(tmp_path):
    with pytest.raises(ValueError, match="profile"):
        figures.write_figures(tmp_path, profile="quick")
    with pytest.raises(ValueError, match="unknown figure"):
        figures.write_figures(tmp_path, names=["nope"])
