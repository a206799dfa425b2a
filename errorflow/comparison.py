r"""Error flow of every architecture side by side (SPEC B3, L3 and S1-S10): the comparison table.

One :class:`Row` per architecture: its per-step error factor, when that factor is constant,
cost per time step and memory (as derived in its module, ``errorflow.derivations.<arch>``) and
the **measured** rate: the slope of ``log10 |error factor over q steps|`` over the last decade
of lags (``q`` from 10^3 to 10^4) of the architecture's representative setting, computed here
from ``errorflow.numeric.<arch>.panel_curve`` (the same curves as the second panel of the
report's figure (a)). :func:`markdown` renders the table for the docs (``comparison.md``,
generated at build time) and :func:`latex` for the report.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

import numpy as np

from errorflow.derivations.core import tex_plain

__all__ = [
    "ARCHITECTURE_CURVES",
    "NO_FORMULA",
    "ROWS",
    "Row",
    "architecture_curves",
    "latex",
    "markdown",
    "measured_rates",
]

#: The lag range of the curves (figure (a)'s).
Q_MAX = 10_000

#: Each architecture's representative setting: ``(module, keyword arguments of its
#: panel_curve, colour, line style)``, in the order of figure (a)'s second panel.
ARCHITECTURE_CURVES: tuple[tuple[str, dict[str, object], str, str], ...] = (
    ("forget_gate", {}, "tab:blue", "-"),
    ("peephole", {}, "tab:cyan", "-"),
    ("peephole", {"setting": "chaotic"}, "tab:cyan", "--"),
    ("gru", {}, "tab:green", "-"),
    ("spectral", {}, "tab:olive", "-"),
    ("leaky", {}, "tab:purple", "-"),
    ("narx", {"d": 5}, "tab:brown", "-"),
    ("narx", {"d": 1}, "tab:brown", ":"),
    ("rtrl", {}, "tab:gray", "-"),
    ("kalman", {}, "tab:orange", "-"),
    ("second_order", {}, "tab:pink", "-"),
)


def architecture_curves(seed: int = 19970) -> list[tuple[np.ndarray, np.ndarray, str]]:
    """Every setting of :data:`ARCHITECTURE_CURVES` as ``(lags, log10 |factor|, label)``."""
    out = []
    for name, kwargs, _, _ in ARCHITECTURE_CURVES:
        module = importlib.import_module(f"errorflow.numeric.{name}")
        out.append(module.panel_curve(Q_MAX, seed, **kwargs))
    return out


def _last_decade_rate(lags: np.ndarray, flow: np.ndarray) -> float:
    """Least-squares slope of ``flow`` against ``q`` over ``q >= Q_MAX / 10`` (decades/step)."""
    sel = lags >= lags.max() / 10
    return float(np.polyfit(lags[sel].astype(float), flow[sel], 1)[0])


def measured_rates(seed: int = 19970) -> dict[str, list[tuple[str, float]]]:
    """``module -> [(setting label, decades per step), ...]`` from the panel curves."""
    rates: dict[str, list[tuple[str, float]]] = {}
    for (name, _, _, _), (lags, flow, label) in zip(
        ARCHITECTURE_CURVES, architecture_curves(seed), strict=True
    ):
        rates.setdefault(name, []).append((label, _last_decade_rate(lags, flow)))
    return rates


@dataclass(frozen=True)
class Row:
    """One architecture: the SPEC claim, its page, module, and the derived facts (math in
    ``$...$``, valid both in KaTeX and LaTeX)."""

    claim: str
    architecture: str
    module: str | None
    factor: str
    constant: str
    cost: str
    memory: str


ROWS: tuple[Row, ...] = (
    Row(
        "B3",
        "conventional RNN, BPTT (Hochreiter 1991)",
        None,
        r"$f'_v(net_v)\,w_{uv}$; matrix $F'(t-m)W^\top$",
        r"only $f'w = 1$ (a linear unit, C1)",
        r"$O(n^2) = O(W)$",
        r"$O(Tn)$",
    ),
    Row(
        "L3",
        "1997 LSTM, truncated (memory cell)",
        None,
        r"$\partial s_c(t)/\partial s_c(t-1) \approx_{tr} 1$ (the carousel)",
        "always: by construction",
        r"$O(W)$ (eq. 29)",
        r"$O(W)$, independent of $T$",
    ),
    Row(
        "S1",
        "forget gate (Gers et al. 2000)",
        "forget_gate",
        r"$y^\varphi(t)$; over $q$ steps $\prod_{k<q} y^\varphi(t-k)$",
        r"only a fully open gate, $y^\varphi \equiv 1$ (a logistic gate is always below 1)",
        r"$O(W)$ (three partials per cell)",
        r"$O(W)$",
    ),
    Row(
        "S2",
        "peepholes (Gers & Schmidhuber 2000)",
        "peephole",
        r"$y^\varphi + s_c(t-1)f'_\varphi w_{\varphi c} + g\,f'_{in} w_{in,c}$",
        "zero peephole weights and an open forget gate; otherwise it can exceed 1 (explode)",
        r"$O(W)$",
        r"$O(W)$",
    ),
    Row(
        "S3",
        "GRU (Cho et al. 2014)",
        "gru",
        r"$\mathrm{diag}(1-z) + $ terms through $z$, $r$, $\tilde h$",
        r"update gate closed, $z = 0$: $J = I$",
        r"$O(n^2)$",
        r"$O(Tn)$ (BPTT)",
    ),
    Row(
        "S4",
        "spectral bound (Pascanu et al. 2013)",
        "spectral",
        r"$\|\partial x_t/\partial x_{t-1}\|_2 \le \gamma\,\sigma_{max}(W)$",
        r"a bound: vanishing when $\gamma\sigma_{max}(W) < 1$ (B9: the same condition in "
        r"another norm); linear units explode only if $\rho(W) > 1$",
        r"$O(n^2)$",
        "-",
    ),
    Row(
        "S5",
        "time constants (Mozer 1992); additive units (Sun et al. 1993)",
        "leaky",
        r"$(1 - 1/\tau) + (1/\tau) f' w$; additive: $1 + f'w(1 + \lambda w)$",
        r"$f'w = 1$, or $\tau \to \infty$ (the unit then ignores its input)",
        r"$O(n^2)$",
        r"$O(Tn)$",
    ),
    Row(
        "S6",
        "RTRL (Williams & Zipser 1989)",
        "rtrl",
        r"as BPTT: sensitivities carried by $W F'(t)$, $S(q)^\top$",
        r"only $f'w = 1$",
        r"$O(n^4) = O(W^2)$ (BPTT: $O(n^2)$)",
        r"$O(n^3)$, independent of $T$ (BPTT: $O(Tn)$)",
    ),
    Row(
        "S7",
        "time delays, NARX (Lin et al. 1996)",
        "narx",
        r"companion matrix of $d$ taps; every path has $\ge \lceil q/d \rceil$ factors",
        r"never in general: decay $r^{q/d}$ instead of $r^q$ (the exponent divided by $d$)",
        r"$O(d n^2)$",
        r"$O(d)$ window; $O(Tn)$ for BPTT",
    ),
    Row(
        "S8",
        "Kalman filter, derivative discount (Puskorius & Feldkamp 1994)",
        "kalman",
        r"$\lambda f' W^\top$: $\lambda^q S(q)$",
        r"never for $\lambda < 1$: even through a CEC the flow is $\lambda^q$",
        r"$O(n^4)$ sensitivities, $O(mN^2)$ filter ($N = n^2$)",
        r"$O(N^2) = O(n^4)$",
    ),
    Row(
        "S9",
        "second-order / product units (Watrous & Kuhn; Miller & Giles)",
        "second_order",
        r"$f'_i \sum_k w_{ijk} x^k(t)$: the input gates the weight",
        "a linear unit whose gated weight is exactly 1 (a hold input); a zero input gives 0",
        r"$O(W^2)$ (RTRL-type; LSTM: $O(W)$)",
        r"$O(n^3 m)$",
    ),
    Row(
        "S10",
        "simple weight guessing (Schmidhuber & Hochreiter 1996)",
        "guessing",
        "none: no gradient, no error flow",
        "-",
        r"one test-set pass per guess, $1/p$ guesses expected",
        r"$O(W)$",
    ),
)

#: Earlier approaches with no error-flow formula: what each does and why errorflow measures it
#: only through experiments.
NO_FORMULA: tuple[tuple[str, str], ...] = (
    (
        "Ring's higher-order units (1993)",
        "adds units that resolve conflicting predictions incrementally; the lags it bridges "
        "depend on how many units are grown, not on a per-step factor, so there is nothing to "
        "derive about the flow: only an experiment can measure it.",
    ),
    (
        "Bengio et al.'s search methods (1994)",
        "simulated annealing, multi-grid random search, time-weighted pseudo-Newton and "
        "discrete error propagation replace or modify gradient descent; without a gradient "
        "(or with a surrogate) there is no error flow to scale, and the paper compares them "
        "only by training time (its §2); S10's weight guessing is the simplest such search.",
    ),
    (
        "Sequence chunkers (Schmidhuber 1992)",
        "a hierarchy of nets in which a higher level sees only the inputs the lower level "
        "fails to predict, compressing the history; the lag it bridges is the lag between "
        "unpredictable events, a property of the data, so it is measured by experiments (the "
        "paper's Table 2: CH solves 2a with p = 100 in 33% of trials).",
    ),
)


def _rate_text(rates: list[tuple[str, float]] | None) -> str:
    if not rates:
        return "-"
    return "; ".join(f"{rate:+.4f} ({label})" for label, rate in rates)


def markdown(rates: dict[str, list[tuple[str, float]]] | None = None) -> str:
    """The comparison page (Markdown with KaTeX math); ``rates`` from :func:`measured_rates`
    (computed when not given)."""
    rates = measured_rates() if rates is None else rates
    from errorflow.docs_support import guide_page

    lines = [
        "# Architectures compared",
        "",
        "Each row is derived in its module (`errorflow derive NAME`), checked by its claim "
        "(`errorflow verify --claim ID`) and has a generated kernel and a numeric API "
        "`errorflow.numeric.<name>` with `scaling_factor` / `log_scaling_factor` in the "
        "conventions of `errorflow.numeric.rnn`. *Measured rate*: the slope of "
        "$\\log_{10}$ |error factor over $q$ steps| over $q = 10^3 .. 10^4$ (decades per "
        "step) of the module's representative setting (`panel_curve`, drawn in the second "
        "panel of figure (a)), computed when this page was built.",
        "",
        "| claim | architecture | per-step error factor | constant when | cost per step | "
        "memory | measured rate (decades/step) |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in ROWS:
        page = guide_page(r.claim)
        cid = f"[{r.claim}]({page})" if page else r.claim
        rate = _rate_text(rates.get(r.module)) if r.module else "-"
        lines.append(
            f"| {cid} | {r.architecture} | {r.factor} | {r.constant} | {r.cost} | {r.memory} "
            f"| {rate} |"
        )
    lines += [
        "",
        "The B3 and L3 rows are the paper's own: conventional back-propagation decays at the "
        "rate of its factors (figure (a), first panel), the 1997 carousel stays at exactly 1.",
        "",
        "## Approaches with no error-flow formula",
        "",
        *(f"- **{name}**: {text}" for name, text in NO_FORMULA),
        "",
    ]
    return "\n".join(lines)


def latex(rates: dict[str, list[tuple[str, float]]] | None = None) -> str:
    """The comparison table as a LaTeX ``longtable`` section for the report."""
    rates = measured_rates() if rates is None else rates
    rows = []
    for r in ROWS:
        rate = _rate_text(rates.get(r.module)) if r.module else "-"
        cells = [r.claim, r.architecture, r.factor, r.constant, r.cost, r.memory, rate]
        rows.append(" & ".join(tex_plain(c) for c in cells) + r" \\ \hline")
    others = "\n".join(rf"\item \textbf{{{tex_plain(n)}}}: {tex_plain(t)}" for n, t in NO_FORMULA)
    return "\n".join(
        [
            r"\section{Architectures compared}",
            r"Per-step error factor, when it is constant, cost and memory (each derived in its "
            r"module), and the measured rate: the slope of $\log_{10}$ of the error factor "
            r"over $q = 10^3 \ldots 10^4$ steps (decades per step) of each module's "
            r"representative setting (the second panel of figure (a)).",
            r"{\footnotesize",
            r"\begin{longtable}{|p{0.8cm}|p{2.0cm}|p{2.8cm}|p{2.5cm}|p{1.9cm}|p{1.6cm}|p{2.2cm}|}",
            r"\hline claim & architecture & per-step factor & constant when & cost per step & "
            r"memory & measured rate \\ \hline\endhead",
            *rows,
            r"\end{longtable}}",
            r"Approaches with no error-flow formula:",
            r"\begin{itemize}",
            others,
            r"\end{itemize}",
            "",
        ]
    )
