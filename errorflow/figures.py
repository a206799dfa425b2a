r"""The report's figures: the error flow of §3 and §4 drawn (SPEC B5-B9, L3-L4, L10-L11).

Five figures, each a function returning a :class:`matplotlib.figure.Figure` (so the plotted data
can be inspected) and registered in :data:`FIGURES` with a title, a TeX-safe caption and the
SPEC claims it illustrates:

* :func:`error_flow` (B5, B6, B9, L3, L4, S1-S9): ``log10 |d vartheta_v(t-q) / d vartheta_u(t)|``
  against the lag q up to 10^4, for logistic RNNs (decay, with the B6 and B9 bounds), linear
  units with ``|w| > 1`` (explosion) and an LSTM memory cell (eq. 41: flat); a second panel
  has every other architecture's factor (:func:`errorflow.comparison.architecture_curves`);
* :func:`b7_factor` (B6, B7): one logistic factor ``|f'(w y) w|`` against w;
* :func:`b9_looseness` (B9): the B9 bound against the factor it bounds;
* :func:`truncated_vs_full` (L2, L10): truncated against full LSTM gradients;
* :func:`drift` (L4, L11): ``|s_c(t)|`` and ``h'(s_c(t))`` for several input-gate biases.

:func:`write_figures` saves each as ``<name>.png`` (150 dpi) and ``<name>.svg``. Files are
byte-identical for a given profile and seed: seeded generators, a fixed SVG hash salt, and no
date or software version in the metadata. Every number that can leave float64 is computed in
log space (B10). Figures are built on :class:`~matplotlib.figure.Figure` directly, never through
``pyplot``: nothing here selects a GUI backend, opens a window, or changes the caller's global
matplotlib state (the style is applied in a ``matplotlib.rc_context``).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import matplotlib
import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter

from errorflow import comparison
from errorflow.derivations.bptt import b7_optimum
from errorflow.numeric import lstm, rnn
from errorflow.numeric.activations import ACTIVATIONS
from errorflow.numeric.logspace import log_matmul
from errorflow.verify.routes import b9_log_bounds

__all__ = [
    "FIGURES",
    "PROFILES",
    "FigureInfo",
    "Profile",
    "b7_curve",
    "b7_factor",
    "b9_looseness",
    "drift",
    "drift_pass",
    "error_flow",
    "gradient_distance",
    "lag_grid",
    "log10_cell_flow",
    "log10_flow",
    "save_figure",
    "truncated_vs_full",
    "write_figures",
]

LN10 = float(np.log(10.0))
#: The longest lag of :func:`error_flow` and the length of :func:`drift`'s sequence.
Q_MAX = 10_000


@dataclass(frozen=True)
class Profile:
    """How many samples the figures draw: ``lags`` points on the lag grid of (a), ``b9_cases``
    random (W, trajectory) pairs in (c), ``networks`` random LSTM networks per connectivity of
    ``steps`` time steps in (d)."""

    name: str
    lags: int
    b9_cases: int
    networks: int
    steps: int


PROFILES: dict[str, Profile] = {
    "ci": Profile("ci", lags=60, b9_cases=120, networks=20, steps=40),
    "thorough": Profile("thorough", lags=200, b9_cases=600, networks=100, steps=100),
}

_STYLE = {
    "svg.hashsalt": "errorflow",  # fixed clip-path ids: byte-identical SVG
    "svg.fonttype": "path",
    "font.size": 9.0,
    "axes.titlesize": 10.0,
    "axes.labelsize": 9.0,
    "legend.fontsize": 7.5,
    "legend.framealpha": 0.9,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "grid.linewidth": 0.5,
    "lines.linewidth": 1.4,
}
_METADATA = {"png": {"Software": None}, "svg": {"Date": None, "Creator": None}}
_COLORS = ("tab:blue", "tab:green", "tab:purple", "tab:olive", "tab:cyan")
FLOW_LABEL = r"$\log_{10}|\partial\vartheta_v(t-q)/\partial\vartheta_u(t)|$"
LAG_LABEL = r"lag $q$ (time steps)"


def _styled(make: Callable[..., Figure]) -> Callable[..., Figure]:
    """Build the figure under the module's style (and nothing else's)."""

    @functools.wraps(make)
    def wrapper(*args, **kwargs) -> Figure:
        with matplotlib.rc_context(_STYLE):
            return make(*args, **kwargs)

    return wrapper


def _profile(profile: str) -> Profile:
    if profile not in PROFILES:
        raise ValueError(f"profile: unknown {profile!r}; known: {', '.join(PROFILES)}")
    return PROFILES[profile]


def _decades_axis(ax) -> None:
    """A symmetric-log y axis for a quantity that is already a log10 (in decades), whose
    values run from about -10^4 to 10^3: linear within 1 of 0, logarithmic beyond. Ticks are
    labelled with the plain values (``-1000`` means a factor of 10^-1000)."""
    ax.set_yscale("symlog", linthresh=1.0, linscale=0.6)
    ax.yaxis.set_major_formatter(
        FuncFormatter(lambda v, _: f"{v:g}".replace("-", "\N{MINUS SIGN}"))
    )


def _rng(seed: int, figure: str) -> np.random.Generator:
    """An independent stream per figure: each is reproducible on its own."""
    return np.random.default_rng([seed, *figure.encode()])


# ---------------------------------------------------------------------------------------
# (a) error flow against the lag: decay, explosion, the carousel.
# ---------------------------------------------------------------------------------------
def lag_grid(points: int, q_max: int = Q_MAX) -> np.ndarray:
    """About ``points`` integer lags from 1 to ``q_max``, log-spaced (duplicates dropped)."""
    return np.unique(np.rint(np.logspace(0.0, np.log10(q_max), points)).astype(np.int64))


def log10_flow(W: np.ndarray, nets: np.ndarray, activation: str, lags: Sequence[int]) -> np.ndarray:
    r"""``log10 max_{v,u} |S(q)[v, u]|`` at each lag q in ``lags`` (increasing), in one pass.

    ``S(q) = F'(t-q) W^T ... F'(t-1) W^T`` (B3(b)), ``nets[m-1] = net(t-m)``. The window is cut
    at the sampled lags and ``S(q_k) = S_k S(q_{k-1})``, where the segment
    ``S_k = F'(t-q_k) W^T ... F'(t-q_{k-1}-1) W^T`` is :func:`rnn.log_scaling_factor` of rows
    ``q_{k-1}..q_k - 1``; the products are formed in log space, so nothing underflows (B10)
    and the whole curve costs one pass over the window.
    """
    n = W.shape[0]
    eye = np.eye(n, dtype=bool)
    product = (eye.astype(np.float64), np.where(eye, 0.0, -np.inf))
    out, done = [], 0
    for q in lags:
        product = log_matmul(rnn.log_scaling_factor(W, nets[done:q], activation), product)
        done = int(q)
        out.append(float(np.max(product[1])) / LN10)
    return np.array(out)


def _logistic_rnn(
    rng: np.random.Generator, norm: float, xs: np.ndarray, n: int = 4
) -> tuple[np.ndarray, np.ndarray]:
    """A fully recurrent net of ``n`` logistic units with ``||W||_A = norm`` (max row sum),
    driven by ``xs`` through Gaussian input weights; returns ``W`` and the lag window ending
    at the last step, ``nets[m-1] = net(T-m)``."""
    W = rng.standard_normal((n, n))
    W *= norm / np.max(np.sum(np.abs(W), axis=1))
    U = rng.standard_normal((n, xs.shape[1]))
    traj = rnn.forward(W, xs, "logistic", U=U)
    T = xs.shape[0]
    return W, traj.lag_window(T, T - 1)


def _b6_b9_bounds(W: np.ndarray, nets: np.ndarray, lags: Sequence[int]) -> dict[str, np.ndarray]:
    r"""log10 of the bounds on ``max_{v,u} |S(q)|`` at each lag (logistic units).

    ``"B9"``: ``max_{v,u} n f'_max^q ||W_v||_x ||W_u^T||_x ||W||_A^{q-2}`` with the observed
    ``f'_max = max_{m <= q} ||F'(t-m)||_A`` (:func:`verify.routes.b9_log_bounds`, the bound
    the B9 check uses); ``"B6"``: the same with ``f'_max`` replaced by ``sup f' = 1/4``,
    ``n (||W||_A / 4)^q``, which decays when ``||W||_A < 4`` (B6's ``|f' w| <= |w|/4``, summed
    over a row).
    """
    slopes = np.broadcast_to(ACTIVATIONS["logistic"].df(nets), nets.shape)
    sup = ACTIVATIONS["logistic"].sup_slope
    b9, b6 = [], []
    for q in lags:
        terms = b9_log_bounds(W, slopes[:q])
        b9.append(float(np.max(terms["full"])))
        b6.append(np.log(W.shape[0]) + q * np.log(sup * terms["norm_a"]))
    return {"B9": np.array(b9) / LN10, "B6": np.array(b6) / LN10}


def _linear_explosion(
    rng: np.random.Generator, r: float, lags: Sequence[int], n: int = 4
) -> np.ndarray:
    """``log10 max|S(q)|`` of ``n`` linear units with ``W = r Q`` (Q orthogonal): B5's
    ``||S(q)||_2 = r^q`` makes the flow grow exponentially for r > 1."""
    Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    return log10_flow(r * Q, np.zeros((int(max(lags)), n)), "identity", lags)


def _carousel(
    rng: np.random.Generator, T: int, layout_name: str = "4-1"
) -> tuple[lstm.Forward, tuple[int, int]]:
    """A random LSTM network of the paper's layout (Table 10 initialisation) run over T steps
    of inputs uniform in [-1, 1]; returns the pass and the cell (block j, cell v) whose
    ``h'(s_c(T))`` is largest (the cell least hit by drift, L11)."""
    layout = lstm.PAPER_LAYOUTS[layout_name]
    params = lstm.init_params(layout, rng, **lstm.PAPER_INIT[layout_name])
    fwd = lstm.forward(layout, params, rng.uniform(-1.0, 1.0, (T, layout.n_in)))
    j, v = np.unravel_index(np.argmin(np.abs(fwd.s[-1])), fwd.s.shape[1:])
    return fwd, (int(j), int(v))


def log10_cell_flow(fwd: lstm.Forward, cell: tuple[int, int], lags: Sequence[int]) -> np.ndarray:
    r"""eq. (41) at t = T: ``log10 |y^out(t) h'(s_c(t)) g'(net_c(t-q)) y^in(t-q)|`` (L4).

    The truncated error flowing back from the cell's output at t to its net input at t-q;
    the carousel between contributes ``d s_c(t)/d s_c(t-q) = 1`` (L3), so nothing here
    decays with q. Slopes come from the saved net inputs and states via ``log_df``, so the
    value stays exact where ``h'`` is below float64's range.
    """
    j, v = cell
    acts = fwd.layout
    g, h = ACTIVATIONS[acts.g], ACTIVATIONS[acts.h]
    at_t = np.log(fwd.y_out[-1, j]) + h.log_df(np.array(fwd.s[-1, j, v]))
    back = fwd.T - 1 - np.asarray(lags)
    at_lag = g.log_df(fwd.net_c[back, j, v]) + np.log(fwd.y_in[back, j])
    return (at_t + at_lag) / LN10


@_styled
def error_flow(profile: str = "ci", seed: int = 19970) -> Figure:
    """Figure (a): decay (B6, B9), explosion (B5) and the constant error carousel (L3, L4);
    second panel: every other architecture's factor over q steps (S1-S9)."""
    budget = _profile(profile)
    rng = _rng(seed, "error_flow")
    lags = lag_grid(budget.lags)
    fwd, cell = _carousel(rng, Q_MAX + 1)
    xs = rng.uniform(-1.0, 1.0, (Q_MAX + 1, fwd.layout.n_in))  # the RNNs' inputs: like the LSTM's
    fig = Figure(figsize=(7.0, 12.0), layout="constrained")
    ax, arch = fig.subplots(2, 1, height_ratios=(5.8, 4.6))
    for color, norm in zip(_COLORS, (1.0, 2.5, 3.9), strict=False):
        W, nets = _logistic_rnn(rng, norm, xs)
        bounds = _b6_b9_bounds(W, nets, lags)
        ax.plot(
            lags,
            log10_flow(W, nets, "logistic", lags),
            color=color,
            gid=f"logistic-{norm}",
            label=rf"logistic RNN, $n=4$, $\|W\|_A={norm}$",
        )
        # bounds drawn above the curves: where one meets another net's curve it stays visible
        ax.plot(lags, bounds["B9"], "--", color=color, lw=0.9, zorder=3, gid=f"B9-{norm}")
        ax.plot(lags, bounds["B6"], ":", color=color, lw=0.9, zorder=3, gid=f"B6-{norm}")
    r = 1.05
    ax.plot(
        lags,
        _linear_explosion(rng, r, lags),
        color="tab:red",
        gid="linear",
        label=rf"linear units, $W = rQ$, $r={r}$ (B5)",
    )
    ax.plot(lags, lags * np.log10(r), "--", color="tab:red", lw=0.9, gid="B5")
    ax.plot(
        lags,
        log10_cell_flow(fwd, cell, lags),
        color="black",
        gid="lstm",
        label=r"LSTM cell, eq. (41): $y^{out}(t)\,h'(s_c(t))\,g'(net_c(t-q))\,y^{in}(t-q)$",
    )
    ax.axhline(0.0, color="0.45", lw=0.8, gid="cec")
    ax.set_xscale("log")
    _decades_axis(ax)
    ax.set_xlim(1, Q_MAX)
    ax.set_ylim(-2e4, 1e3)
    ax.set_xlabel(LAG_LABEL)
    ax.set_ylabel(FLOW_LABEL + " (decades, symlog)")
    ax.set_title(r"Error flow over $q$ steps: decay, explosion and the carousel")
    handles, _ = ax.get_legend_handles_labels()
    handles += [
        Line2D([], [], color="0.3", ls="--", lw=0.9, label=r"B9 bound; B5: $r^q$ (dashed)"),
        Line2D([], [], color="0.3", ls=":", lw=0.9, label=r"B6 bound $n(\|W\|_A/4)^q$ (dotted)"),
        Line2D([], [], color="0.45", lw=0.8, label=r"CEC: $\partial s_c(t)/\partial s_c(t-q)=1$"),
    ]
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncols=2)
    _architectures_panel(arch, seed)
    return fig


def _architectures_panel(ax, seed: int) -> None:
    for (name, _, color, style), (lags, flow, label) in zip(
        comparison.ARCHITECTURE_CURVES, comparison.architecture_curves(seed), strict=True
    ):
        ax.plot(lags, flow, style, color=color, lw=1.1, gid=f"arch-{name}", label=label)
    ax.axhline(0.0, color="black", lw=1.2, gid="arch-lstm", label="1997 LSTM carousel (L3): 1")
    ax.set_xscale("log")
    _decades_axis(ax)
    ax.set_xlim(1, Q_MAX)
    ax.set_ylim(-2e4, 1e3)
    ax.set_xlabel(LAG_LABEL)
    ax.set_ylabel(r"$\log_{10}$ |error factor over $q$ steps| (decades, symlog)")
    ax.set_title("The same measure for the other architectures (S1-S9)")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncols=2)


# ---------------------------------------------------------------------------------------
# (b) B7: one logistic factor against its weight.
# ---------------------------------------------------------------------------------------
def b7_curve(w: np.ndarray, y: float) -> np.ndarray:
    """B7's factor ``|f'(net) w|`` with ``net = w y`` (c = 0), logistic f."""
    return ACTIVATIONS["logistic"].df(w * y) * np.abs(w)


@_styled
def b7_factor(profile: str = "ci", seed: int = 19970) -> Figure:
    r"""Figure (b): ``|f'(w y) w|`` against w for several y (B7), with the optimum
    ``w* = coth(net*/2)/y = net*/y`` (``net* tanh(net*/2) = 1``), the peak ``0.2239/|y|``
    and B6's ``|w| < 4`` (every factor below 1). Deterministic: ``profile`` and ``seed``
    are accepted for a uniform signature."""
    _profile(profile)
    opt = b7_optimum()
    net_star, peak = float(opt.net_star), float(opt.peak)
    w = np.linspace(0.0, 30.0, 3001)
    fig = Figure(figsize=(6.4, 5.0), layout="constrained")
    ax = fig.subplots()
    ax.axvspan(0.0, 4.0, color="0.92", lw=0, gid="B6-region")
    ax.axhline(1.0, color="black", lw=0.8)
    for color, y in zip((*_COLORS, "tab:red"), (0.1, 0.25, 0.5, 1.0, 2.0), strict=False):
        ax.plot(w, b7_curve(w, y), color=color, gid=f"y-{y}", label=rf"$y = {y}$")
        ax.axhline(peak / y, color=color, ls=":", lw=0.8, gid=f"peak-{y}")
        ax.plot(net_star / y, peak / y, "o", color=color, ms=5, gid=f"optimum-{y}")
    ax.plot(w, w * peak / net_star, "--", color="0.4", lw=0.8, gid="optima")
    ax.set_xlim(0.0, 30.0)
    ax.set_ylim(0.0, 2.5)
    ax.set_xlabel(r"weight $w$ (dimensionless)")
    ax.set_ylabel(r"$|f'(net)\,w|$ with $net = w\,y$ (logistic $f$)")
    ax.set_title(r"One factor of the error flow (B7): largest at $w^* = \coth(net^*/2)/y$")
    handles, _ = ax.get_legend_handles_labels()
    handles += [
        Line2D(
            [], [], color="0.3", ls="", marker="o", ms=5, label=rf"optimum $net^*={net_star:.4f}$"
        ),
        Line2D([], [], color="0.3", ls=":", lw=0.8, label=rf"peak ${peak:.4f}/|y|$"),
        Line2D([], [], color="0.4", ls="--", lw=0.8, label=r"locus of optima, $w^*=net^*/y$"),
        Patch(color="0.92", label=r"B6: $|w|<4 \Rightarrow |f'w|<1$"),
    ]
    fig.legend(handles=handles, loc="outside lower center", ncols=3)
    return fig


# ---------------------------------------------------------------------------------------
# (c) B9: how loose the bound is.
# ---------------------------------------------------------------------------------------
def _b9_samples(rng: np.random.Generator, cases: int) -> dict[str, np.ndarray]:
    """Random logistic nets as in the B9 check: ``n`` in 2..8, ``|w_ij| <= w_max < 4/n``,
    lags 2..80, inputs of standard deviation 2. Per entry ``(v, u)``: log10 of ``|S(q)[v,u]|``,
    of its B9 bound, and the lag."""
    actual, bound, lag = [], [], []
    for _ in range(cases):
        n = int(rng.integers(2, 9))
        q = int(rng.integers(2, 81))
        w_max = float(rng.uniform(0.2, 0.999)) * 4.0 / n
        W = rng.uniform(-w_max, w_max, (n, n))
        traj = rnn.forward(W, 2.0 * rng.standard_normal((q + 1, n)), "logistic")
        nets = traj.lag_window(q + 1, q)
        _, log_abs = rnn.log_scaling_factor(W, nets, "logistic")
        slopes = np.broadcast_to(ACTIVATIONS["logistic"].df(nets), nets.shape)
        full = b9_log_bounds(W, slopes)["full"]
        keep = np.isfinite(log_abs)
        actual.append(log_abs[keep] / LN10)
        bound.append(full[keep] / LN10)
        lag.append(np.full(int(keep.sum()), q))
    return {k: np.concatenate(v) for k, v in (("actual", actual), ("bound", bound), ("q", lag))}


@_styled
def b9_looseness(profile: str = "ci", seed: int = 19970) -> Figure:
    """Figure (c): every sampled entry's B9 bound against the entry itself (B9)."""
    data = _b9_samples(_rng(seed, "b9_looseness"), _profile(profile).b9_cases)
    fig = Figure(figsize=(6.0, 4.6), layout="constrained")
    ax = fig.subplots()
    points = ax.scatter(
        data["actual"],
        data["bound"],
        c=data["q"],
        s=5,
        cmap="viridis",
        lw=0,
        gid="entries",
        rasterized=True,
    )
    fig.colorbar(points, ax=ax, label=LAG_LABEL)
    low = float(min(data["actual"].min(), data["bound"].min()))
    ax.plot([low, 0.0], [low, 0.0], color="black", lw=0.9, gid="diagonal", label="bound = actual")
    gap = data["bound"] - data["actual"]
    ax.text(
        0.97,
        0.04,
        f"{gap.size} entries, all above the diagonal\n"
        f"looseness (decades): min {gap.min():.1f}, median {np.median(gap):.1f}, "
        f"max {gap.max():.1f}",
        transform=ax.transAxes,
        ha="right",
        va="bottom",
        fontsize=7.5,
        bbox={"fc": "white", "ec": "0.7", "lw": 0.5},
    )
    ax.set_xlabel("actual " + FLOW_LABEL)
    ax.set_ylabel(r"B9 bound $\log_{10}(n f'^{\,q}_{\max}\|W_v\|_x\|W_u^T\|_x\|W\|_A^{q-2})$")
    ax.set_title(r"B9 against the factor it bounds (logistic, $|w_{ij}| < 4/n$)")
    ax.legend(loc="upper left")
    return fig


# ---------------------------------------------------------------------------------------
# (d) L10: truncated against full gradients.
# ---------------------------------------------------------------------------------------
def _random_layout(rng: np.random.Generator, connectivity: str) -> lstm.Layout:
    return lstm.Layout(
        n_in=int(rng.integers(1, 4)),
        n_out=int(rng.integers(1, 3)),
        n_blocks=int(rng.integers(1, 4)),
        block_size=int(rng.integers(1, 3)),
        n_hidden=int(rng.integers(0, 3)),
        connectivity=connectivity,
        bias="all",
    )


def gradient_distance(
    rng: np.random.Generator, layout: lstm.Layout, scale: float, steps: int
) -> float:
    """``||g_tr - g_full|| / ||g_full||`` over all weights (L10) for one random network with
    weights uniform in ``[-scale, scale]``, inputs uniform in [-1, 1], targets in [0, 1]."""
    params = lstm.init_params(layout, rng, scale)
    xs = rng.uniform(-1.0, 1.0, (steps, layout.n_in))
    targets = rng.uniform(0.0, 1.0, (steps, layout.n_out))
    _, tr = lstm.truncated_gradient(layout, params, xs, targets)
    _, full = lstm.full_gradient(layout, params, xs, targets)
    g_tr = np.concatenate([tr[k].ravel() for k in lstm.PARAMETER_NAMES])
    g_full = np.concatenate([full[k].ravel() for k in lstm.PARAMETER_NAMES])
    return float(np.linalg.norm(g_tr - g_full) / np.linalg.norm(g_full))


#: Where an exact 0 distance is drawn on the log axis of :func:`truncated_vs_full`.
ZERO_FLOOR = 1e-18


@_styled
def truncated_vs_full(profile: str = "ci", seed: int = 19970) -> Figure:
    """Figure (d): relative distance of truncated and full gradients against the weight scale,
    for fully recurrent (F) and non-recurrent (B) layouts (L10)."""
    budget = _profile(profile)
    rng = _rng(seed, "truncated_vs_full")
    fig = Figure(figsize=(6.4, 4.2), layout="constrained")
    ax = fig.subplots()
    styles = {
        "F": ("o", "tab:blue", "F: gates, cells, hidden units recurrent"),
        "B": ("x", "tab:red", "B: no recurrence but the carousels"),
    }
    exact = False
    for connectivity, (marker, color, text) in styles.items():
        scales = 10 ** rng.uniform(np.log10(0.02), np.log10(2.0), budget.networks)
        dist = np.array(
            [
                gradient_distance(rng, _random_layout(rng, connectivity), a, budget.steps)
                for a in scales
            ]
        )
        exact |= bool(np.any(dist == 0.0))
        ax.scatter(
            scales,
            np.maximum(dist, ZERO_FLOOR),
            marker=marker,
            color=color,
            s=18,
            gid=f"distance-{connectivity}",
            label=f"{text} ({budget.networks} nets)",
        )
    eps = float(np.finfo(np.float64).eps)
    ax.axhline(eps, color="0.3", ls="--", lw=0.8, label=r"float64 $\epsilon = 2.2\cdot10^{-16}$")
    if exact:
        ax.axhline(ZERO_FLOOR, color="0.6", ls=":", lw=0.8, label=r"exactly $0$ (drawn here)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(r"weight scale $a$ (all weights uniform in $[-a, a]$)")
    ax.set_ylabel(r"$\|g_{tr} - g_{full}\|_2\,/\,\|g_{full}\|_2$")
    ax.set_title(rf"Truncated vs full LSTM gradient (L10), $T = {budget.steps}$ steps")
    ax.legend(loc="center right")
    return fig


# ---------------------------------------------------------------------------------------
# (e) L11: drift of the cell state.
# ---------------------------------------------------------------------------------------
#: Input-gate biases of :func:`drift` (one block each) and the cell-input bias that makes
#: ``net_c`` positive.
DRIFT_GATE_BIASES = (0.0, -2.0, -4.0, -6.0)
DRIFT_CELL_BIAS = 2.0


def drift_pass(seed: int, T: int = Q_MAX) -> lstm.Forward:
    """One LSTM network with a block per input-gate bias in :data:`DRIFT_GATE_BIASES`
    (one cell each, fully recurrent, weights in [-0.1, 0.1]), cell-input bias
    :data:`DRIFT_CELL_BIAS` so that ``net_c > 0`` and ``g(net_c) > 0``: every cell's input is
    of one sign, and ``s_c`` drifts (L11). Inputs uniform in [-1, 1] for T steps."""
    rng = _rng(seed, "drift")
    layout = lstm.Layout(2, 1, len(DRIFT_GATE_BIASES), 1, connectivity="F", bias="all")
    params = lstm.init_params(layout, rng, 0.1, input_gate_bias=DRIFT_GATE_BIASES)
    params["w_c"][:, :, -1] = DRIFT_CELL_BIAS
    return lstm.forward(layout, params, rng.uniform(-1.0, 1.0, (T, layout.n_in)))


@_styled
def drift(profile: str = "ci", seed: int = 19970) -> Figure:
    r"""Figure (e): ``|s_c(t)|`` and ``log10 h'(s_c(t))`` over t, one curve per input-gate bias
    (L11), with the bound ``h'(s) <= 2 e^{-|s|}``; ``h'`` from ``log_df`` of the saved states
    (exact where ``h'`` underflows)."""
    _profile(profile)
    fwd = drift_pass(seed)
    t = np.arange(1, fwd.T + 1)
    h = ACTIVATIONS[fwd.layout.h]
    fig = Figure(figsize=(6.4, 5.4), layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True)
    for j, (color, bias) in enumerate(zip(_COLORS, DRIFT_GATE_BIASES, strict=False)):
        s = fwd.s[:, j, 0]
        label = rf"input-gate bias ${bias:g}$"
        top.plot(t, np.abs(s), color=color, gid=f"s-{bias:g}", label=label)
        bottom.plot(t, h.log_df(s) / LN10, color=color, gid=f"dh-{bias:g}", label=label)
        bound = (np.log(2.0) - np.abs(s)) / LN10
        bottom.plot(t, bound, ":", color="black", lw=0.7, gid=f"bound-{bias:g}")
    top.set_xscale("log")
    top.set_yscale("log")
    top.set_ylabel(r"$|s_c(t)|$ (cell state)")
    top.set_title(r"Drift of the cell state (L11): cell input of one sign, $g(net_c) > 0$")
    top.legend(loc="upper left")
    _decades_axis(bottom)
    bottom.set_ylim(top=1.0)
    bottom.set_xlabel(r"time $t$ (steps)")
    bottom.set_ylabel(r"$\log_{10} h'(s_c(t))$ (symlog)")
    bottom.legend(
        handles=[Line2D([], [], color="black", ls=":", lw=0.7, label=r"$\log_{10} 2e^{-|s_c|}$")],
        loc="lower left",
    )
    return fig


# ---------------------------------------------------------------------------------------
# The registry and the writer.
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FigureInfo:
    """A figure's title, its caption (TeX-safe, for ``\\caption{}``), the SPEC claims it
    illustrates and the function that draws it."""

    title: str
    caption: str
    claims: tuple[str, ...]
    make: Callable[..., Figure]


FIGURES: dict[str, FigureInfo] = {
    "error_flow": FigureInfo(
        "Error flow against the lag",
        r"Error flow back over $q$ steps, $\log_{10}$ of the largest entry "
        r"$\max_{v,u}|\partial\vartheta_v(t-q)/\partial\vartheta_u(t)|$ (eq.~1), on a "
        r"symmetric-log axis. Logistic RNNs of $n = 4$ units at three weight scales decay "
        r"exponentially (B6), below the B9 bound (dashed) and the B6 bound "
        r"$n(\|W\|_A/4)^q$ (dotted); linear units with $W = rQ$, $r = 1.05$, explode like "
        r"$r^q$ (B5); the truncated flow through a memory cell of a random LSTM network "
        r"(eq.~41 with $v = c_j$; experiment 4's layout, $t = 10^4 + 1$, the same inputs; "
        r"the cell with the largest $h'(s_c(t))$) does not decay: the carousel "
        r"contributes exactly $\partial s_c(t)/\partial s_c(t-q) = 1$ (L3, L4). Second "
        r"panel: the same measure for the other architectures, one representative setting each "
        r"(S1-S9; the settings are in each module's \texttt{panel\_curve}): forget gates, "
        r"peepholes, the GRU, tanh RNNs under the spectral bound, leaky units, NARX delays, RTRL, "
        r"a discounted Kalman filter and second-order units all decay at a rate fixed by their "
        r"factors (peepholes can also explode); only the 1997 carousel stays at 1. All computed "
        r"in log space (B10).",
        ("B5", "B6", "B9", "B10", "L3", "L4", "S1", "S2", "S3", "S4", "S5", "S6", "S7", "S8", "S9"),
        error_flow,
    ),
    "b7_factor": FigureInfo(
        "One logistic factor against its weight",
        r"The factor $|f'(net)\,w|$ with $net = w\,y$ for logistic $f$ (B7), against $w$ for "
        r"several $y$. Each curve peaks at $w^* = \coth(net^*/2)/y = net^*/y$, where "
        r"$net^* \tanh(net^*/2) = 1$, $net^* = 1.5434$, at the value $0.2239/|y|$ (dotted), and "
        r"tends to $0$ as $w \to \infty$. Below $|w| = 4$ (shaded) every factor is below $1$ "
        r"(B6), which is sufficient, not necessary: a peak exceeds $1$ only when "
        r"$|y| < 0.2239$, and then its optimum lies beyond $|w^*| = 6.9$ ($y = 0.1$: "
        r"$w^* = 15.4$, peak $2.24$).",
        ("B6", "B7"),
        b7_factor,
    ),
    "b9_looseness": FigureInfo(
        "How loose the B9 bound is",
        r"The B9 bound $n f'^{\,q}_{\max}\|W_v\|_x\|W_u^T\|_x\|W\|_A^{q-2}$ (max-row-sum "
        r"norm) against the entry $|\partial\vartheta_v(t-q)/\partial\vartheta_u(t)|$ it "
        r"bounds, for random logistic nets with $|w_{ij}| < 4/n$, $n = 2..8$, lags "
        r"$q = 2..80$; colour: the lag. Every point lies above the diagonal; the gap, in "
        r"decades, grows with $q$.",
        ("B9",),
        b9_looseness,
    ),
    "truncated_vs_full": FigureInfo(
        "Truncated against full LSTM gradients",
        r"Relative distance $\|g_{tr} - g_{full}\|_2/\|g_{full}\|_2$ between the truncated "
        r"gradient of the paper's learning rule and the full BPTT gradient (L10), for random "
        r"LSTM networks, against the weight scale. With recurrent connections into gates and "
        r"cells (F) the two differ, more so as the recurrent weights grow; without them (B) "
        r"they agree to rounding.",
        ("L2", "L10"),
        truncated_vs_full,
    ),
    "drift": FigureInfo(
        "Drift of the cell state",
        r"Drift (L11): four memory cells whose input $g(net_c)$ is positive, one per "
        r"input-gate bias. $|s_c(t)|$ grows about linearly in $t$, at a rate set by "
        r"$y^{in}$, and $h'(s_c(t)) \le 2e^{-|s_c(t)|}$ (dotted) collapses, scaling down all "
        r"error entering the carousel (the factor $y^{out} h'(s_c)$ of eq.~41); a more "
        r"negative input-gate bias slows the drift.",
        ("L4", "L11"),
        drift,
    ),
}


def save_figure(fig: Figure, out_dir: Path, name: str) -> list[Path]:
    """Save ``fig`` as ``out_dir/<name>.png`` (150 dpi) and ``.svg``, reproducibly: fixed SVG
    hash salt, no date and no software version in the metadata."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    with matplotlib.rc_context(_STYLE):
        for ext in ("png", "svg"):
            path = out_dir / f"{name}.{ext}"
            fig.savefig(path, format=ext, dpi=150, metadata=_METADATA[ext])
            paths.append(path)
    return paths


def write_figures(
    out_dir: Path,
    profile: str = "ci",
    seed: int = 19970,
    progress: Callable[[str], None] | None = None,
    names: Iterable[str] | None = None,
) -> list[Path]:
    """Draw the figures (all of :data:`FIGURES`, or ``names``) into ``out_dir`` (created) as
    ``<name>.png`` and ``<name>.svg``; returns the paths written. ``progress`` gets one line
    per figure. Byte-identical for the same profile and seed."""
    _profile(profile)
    chosen = list(FIGURES) if names is None else list(names)
    unknown = [n for n in chosen if n not in FIGURES]
    if unknown:
        raise ValueError(f"names: unknown figure(s) {unknown}; known: {', '.join(FIGURES)}")
    written = []
    for name in chosen:
        start = time.perf_counter()
        paths = save_figure(FIGURES[name].make(profile, seed), out_dir, name)
        written += paths
        if progress is not None:
            progress(
                f"{name}: {paths[0].name}, {paths[1].name} ({time.perf_counter() - start:.1f} s)"
            )
    return written
