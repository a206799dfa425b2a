"""The committed reproduction of the paper's long-lag experiments: the table (ours against the
paper, with seeds and wall time) and the learning curves, for the report and the docs.

``errorflow experiment ... --out errorflow/experiments/results`` writes the runs this module
reads (``results/<slug>/summary.json``, ``summary.md``, ``learning-curve.png``); which
commands produced them is in ``results/README.md``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

__all__ = ["RESULTS", "latex", "markdown", "summaries"]

#: Where the committed runs are (package data).
RESULTS = Path(__file__).parent / "results"


def summaries(folder: Path = RESULTS) -> list[dict[str, object]]:
    """Every ``<slug>/summary.json`` under ``folder``, in task order (adding, 2a, 2c)."""
    order = {"adding": 0, "2a": 1, "2c": 2}
    found = [json.loads(p.read_text(encoding="utf-8")) for p in folder.glob("*/summary.json")]
    return sorted(found, key=lambda s: (order.get(s["task"], 9), sorted(s["options"].items())))


def _n(x: object, digits: int = 0) -> str:
    return "-" if x is None else f"{x:,.{digits}f}"


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.1f} min"


def _cells(s: dict[str, object]) -> list[str]:
    st = s["sequences_to_success"]
    paper = s.get("paper") or {}
    pct = paper.get("success_percent")
    base = s.get("baseline")
    ratio = (s.get("comparison") or {}).get("ratio_mean_to_paper")
    paper_text = "-"
    if paper.get("sequences"):
        paper_text = f"{_n(paper['sequences'])} ({paper['source']}, {paper['trials']} trials"
        paper_text += f", {pct:.0f}% success)" if pct is not None else ")"
    base_text = "-"
    if base:
        base_text = (
            f"{base.get('method', 'bptt').upper()}: {base['successes']}/{base['seeds']} within "
            f"{_n(base['sequences']['max'])} seqs; "
            f"flow over lag {base['lag']}: 10^{base['log10_max_factor']['median']:.0f}"
        )
    return [
        s["label"],
        f"{s['successes']}/{s['seeds']}",
        f"{_n(st['mean'])} / {_n(st['median'])}",
        "-" if st["min"] is None else f"{_n(st['min'])} - {_n(st['max'])}",
        paper_text,
        "-" if ratio is None else f"{ratio:.2f}",
        f"{_n(s['test_wrong']['mean'], 1)} of {_n(s['test_sequences'])}",
        f"{_minutes(s['wall_time'])} (budget {_n(s['max_sequences'])} seqs/seed)",
        base_text,
    ]


_HEAD = [
    "task",
    "success",
    "sequences to success, mean / median",
    "range",
    "paper: mean sequences",
    "ours / paper",
    "wrong test sequences (mean)",
    "wall time (2 cores)",
    "RNN baseline",
]


def markdown(folder: Path = RESULTS, figures: str | None = "experiments") -> str:
    """The reproduction page: the table, each run's readings of the paper and its learning
    curve (``figures``: the folder the PNGs are linked from; None: no images)."""
    runs = summaries(folder)
    notes = folder / "NOTES.md"
    lines = [
        "# The paper's long-lag experiments, reproduced",
        "",
        "Re-run with `errorflow experiment NAME`: the 1997 LSTM trained online with the "
        "generated truncated-gradient kernels, from the paper's initialisation, with its "
        "learning rates, stopping rules and success criteria; a conventional RNN trained by "
        "full BPTT on the first seeds as the baseline.",
        "",
    ]
    if not runs:
        return "\n".join([*lines, "No committed runs found.", ""])
    lines += ["| " + " | ".join(_HEAD) + " |", "|" + "---|" * len(_HEAD)]
    lines += ["| " + " | ".join(_cells(s)) + " |" for s in runs]
    lines.append("")
    if notes.exists():
        lines += [notes.read_text(encoding="utf-8"), ""]
    for s in runs:
        lines += [f"## {s['label']}", ""]
        lines += [f"- {r}" for r in s["readings"]]
        env = s["environment"]
        lines += [
            f"- {s['seeds']} seeds, {s['n_weights']} weights, lr {s['lr']}, backend "
            f"{env['backend']}, numpy {env['numpy']}, numba {env['numba']}, {env['cores']} cores",
            "",
        ]
        if figures is not None and (folder / s["slug"] / "learning-curve.png").exists():
            lines += [f"![{s['label']}: learning curves]({figures}/{s['slug']}.png)", ""]
    return "\n".join(lines)


def copy_figures(target: Path, folder: Path = RESULTS) -> list[Path]:
    """Copy each run's learning curve to ``target/<slug>.png``; returns the copies."""
    target.mkdir(parents=True, exist_ok=True)
    out = []
    for s in summaries(folder):
        src = folder / s["slug"] / "learning-curve.png"
        if src.exists():
            out.append(Path(shutil.copyfile(src, target / f"{s['slug']}.png")))
    return out


def _tex(text: str) -> str:
    for a, b in (("\\", r"\textbackslash{}"), ("&", r"\&"), ("%", r"\%"), ("_", r"\_"),
                 ("#", r"\#"), ("^", r"\^{}"), ("~", r"\~{}"), ("$", r"\$")):  # fmt: skip
        text = text.replace(a, b)
    return text


def latex(figures_dir: Path | None = None, folder: Path = RESULTS) -> str:
    """The reproduction as a LaTeX section: the table and (with ``figures_dir``, where the
    PNGs are copied, next to the document's ``figures/``) the learning curves."""
    runs = summaries(folder)
    out = [
        r"\section{The paper's long-lag experiments, reproduced}",
        _tex(
            "The 1997 LSTM trained online with the generated truncated-gradient kernels "
            "(errorflow experiment NAME), against the paper's figures; a conventional RNN "
            "trained by full BPTT is the baseline."
        ),
    ]
    if not runs:
        return "\n".join([*out, "No committed runs were found.", ""])
    out += [
        r"{\footnotesize",
        r"\begin{longtable}{|p{2.0cm}|p{1.1cm}|p{1.5cm}|p{1.4cm}|p{1.8cm}|p{0.8cm}|p{1.1cm}|"
        r"p{1.4cm}|p{2.0cm}|}",
        r"\hline " + " & ".join(_tex(h) for h in _HEAD) + r" \\ \hline\endhead",
        *(" & ".join(_tex(c) for c in _cells(s)) + r" \\ \hline" for s in runs),
        r"\end{longtable}}",
    ]
    for s in runs:
        out.append(r"\paragraph{" + _tex(s["label"]) + "}")
        out.append(r"\begin{itemize}")
        out += [r"\item " + _tex(r) for r in s["readings"]]
        out.append(r"\end{itemize}")
    if figures_dir is not None:
        for path in copy_figures(figures_dir, folder):
            out += [
                r"\begin{figure}[p]\centering",
                rf"\includegraphics[width=0.9\linewidth]{{figures/{path.name}}}",
                r"\caption{Learning curves: " + _tex(path.stem) + "}",
                r"\end{figure}",
            ]
    out.append(r"\clearpage")
    return "\n".join(out) + "\n"
