"""Learning curves of the experiments: training error against sequences seen, one line per
seed, the baseline's curves, and the paper's mean sequences to success (drawn with the report's
style, :mod:`errorflow.figures`; nothing here touches ``pyplot``)."""

from __future__ import annotations

from collections.abc import Sequence

from matplotlib.figure import Figure

from errorflow.figures import _styled

__all__ = ["learning_curves"]


@_styled
def learning_curves(summary: dict[str, object], runs: Sequence[dict[str, object]]) -> Figure:
    """The learning-curve figure of one experiment: mean absolute training error (the scored
    outputs' error, RMS over all targets for 2a) per block of sequences, LSTM seeds in colour,
    the RNN baseline (BPTT or RTRL) in grey, the success points marked, the paper's mean as a
    line."""
    fig = Figure(figsize=(6.4, 3.8), layout="constrained")
    ax = fig.subplots()
    for i, r in enumerate(runs):
        curve = r["lstm"]["curve"]
        if curve:
            xs, ys = zip(*curve, strict=True)
            ax.plot(xs, ys, lw=0.9, color=f"C{i % 10}", label=f"LSTM seed {r['seed']}")
            if r["lstm"]["success"]:
                ax.plot([xs[-1]], [ys[-1]], "o", ms=3.5, color=f"C{i % 10}")
        base = r.get("baseline")
        if base and base["curve"]:
            xs, ys = zip(*base["curve"], strict=True)
            method = base.get("method", "bptt").upper()
            label = f"RNN + {method}" if i == 0 else None
            ax.plot(xs, ys, lw=0.9, color="0.55", ls="--", label=label)
    paper = summary.get("paper")
    if paper and paper.get("sequences"):
        ax.axvline(paper["sequences"], color="black", lw=0.9, ls=":",
                   label=f"paper: mean {paper['sequences']:,.0f} ({paper['source']})")  # fmt: skip
    ax.set_yscale("log")
    ax.set_xlabel("training sequences seen")
    ax.set_ylabel("training error (mean |error| per block)")
    ax.set_title(f"{summary['label']}: learning curves", fontsize=9)
    ax.legend(fontsize=6.5, ncol=2, loc="upper right")
    return fig
