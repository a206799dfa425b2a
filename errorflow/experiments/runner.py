"""``errorflow experiment``: run seeds, write one JSON per seed, summarise against the paper,
draw the learning curves.

Output folder layout (``--out DIR``, default ``errorflow-experiments``)::

    DIR/<slug>/seed-<k>.json        one LSTM run (and its baseline run, if any)
    DIR/<slug>/summary.json         the summary table's figures, the readings, versions
    DIR/<slug>/summary.md           the same as a Markdown table (what the command prints)
    DIR/<slug>/learning-curve.png   training error against sequences seen, every seed (.svg too)

``<slug>`` is e.g. ``adding-T100``, ``2a-p100``, ``2c-p1000-q1000``.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import TextIO

import numpy as np

from errorflow import __version__
from errorflow.numeric import backends

from .baselines import BaselineResult, train_rnn
from .reproduction import _n
from .tasks import Task
from .training import Progress, RunResult, train_lstm

__all__ = ["ProgressBar", "run", "summarize", "summary_markdown"]


def _clock(seconds: float) -> str:
    seconds = max(0, round(seconds))
    h, rest = divmod(seconds, 3600)
    return f"{h}:{rest // 60:02d}:{rest % 60:02d}" if h else f"{rest // 60:02d}:{rest % 60:02d}"


class ProgressBar:
    """A one-line progress display on ``stream``: sequences seen, the recent mean absolute
    error, and the time left at most (the rest of the budget at the current rate). On a
    terminal the line is redrawn in place; otherwise a line is written every ``interval``
    seconds."""

    def __init__(self, stream: TextIO, label: str, interval: float = 15.0) -> None:
        self.stream, self.label, self.interval = stream, label, interval
        self.tty = bool(getattr(stream, "isatty", lambda: False)())
        self.last = time.monotonic()  # the first line after one interval (or 0.25 s on a tty)
        self.width = 0

    def __call__(self, p: Progress) -> None:
        now = time.monotonic()
        if not self.tty and now - self.last < self.interval:
            return
        self.last = now
        rate = p.seen / p.elapsed if p.elapsed > 0 else 0.0
        left = (p.budget - p.seen) / rate if rate > 0 else float("inf")
        frac = p.seen / p.budget if p.budget else 1.0
        bar = "#" * int(20 * frac)
        text = (
            f"{self.label} [{bar:<20}] {p.seen:,} sequences, error {p.error:.4f}, "
            f"{rate:,.0f}/s, {_clock(p.elapsed)} elapsed, left <= "
            f"{_clock(left) if np.isfinite(left) else '?'}"
        )
        if self.tty:
            self.stream.write("\r" + text.ljust(self.width))
            self.width = len(text)
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def done(self, text: str) -> None:
        if self.tty:
            self.stream.write("\r" + text.ljust(self.width) + "\n")
        else:
            self.stream.write(text + "\n")
        self.stream.flush()
        self.width = 0


def _environment() -> dict[str, object]:
    try:
        import numba

        numba_version = numba.__version__
    except ImportError:
        numba_version = None
    return {
        "errorflow": __version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "numba": numba_version,
        "backend": backends.resolve("auto"),
        "cores": os.cpu_count(),
    }


def _stats(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"mean": None, "median": None, "min": None, "max": None, "std": None}
    return {
        "mean": statistics.fmean(values),
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "std": statistics.stdev(values) if len(values) > 1 else 0.0,
    }


def summarize(
    task: Task, runs: list[dict[str, object]], max_sequences: int, wall_time: float
) -> dict[str, object]:
    """The summary of a set of seed records (as written to ``seed-<k>.json``)."""
    lstm_runs = [r["lstm"] for r in runs]
    ok = [r for r in lstm_runs if r["success"]]
    seqs = [float(r["sequences"]) for r in ok]
    stats = _stats(seqs)
    paper = task.paper
    comparison = None
    if paper and paper.sequences and seqs:
        inside = stats["min"] <= paper.sequences <= stats["max"]
        comparison = {
            "ratio_mean_to_paper": stats["mean"] / paper.sequences,
            "ratio_median_to_paper": stats["median"] / paper.sequences,
            "paper_mean_within_our_range": inside,
        }
    base = [r["baseline"] for r in runs if r.get("baseline")]
    baseline = None
    if base:
        baseline = {
            "method": base[0].get("method", "bptt"),
            "seeds": len(base),
            "successes": sum(1 for b in base if b["success"]),
            "sequences": _stats([float(b["sequences"]) for b in base]),
            "wall_time": sum(b["wall_time"] for b in base),
            "n_weights": base[0]["n_weights"],
            "lag": base[0]["flow"].get("lag"),
            "log10_max_factor": _stats([b["flow"]["log10_max_factor"] for b in base]),
            "decades_per_step": _stats([b["flow"]["decades_per_step"] for b in base]),
        }
    tests = [r["test"] for r in lstm_runs if r.get("test")]
    return {
        "task": task.name,
        "label": task.label,
        "slug": task.slug,
        "options": task.options,
        "n_weights": task.layout.n_weights,
        "lr": task.lr,
        "seeds": len(runs),
        "max_sequences": max_sequences,
        "successes": len(ok),
        "success_rate": len(ok) / len(runs) if runs else None,
        "sequences_to_success": stats,
        "test_wrong": _stats([float(t["wrong"]) for t in tests]),
        "test_sequences": tests[0]["sequences"] if tests else None,
        "test_mse": _stats([float(t["mse"]) for t in tests]),
        "wall_time": wall_time,
        "lstm_wall_time": _stats([float(r["wall_time"]) for r in lstm_runs]),
        "paper": asdict(paper) if paper else None,
        "comparison": comparison,
        "baseline": baseline,
        "readings": list(task.readings),
        "environment": _environment(),
    }


def summary_markdown(summary: dict[str, object]) -> str:
    """The summary as a Markdown table (ours vs the paper), with the readings used."""
    s = summary
    st = s["sequences_to_success"]
    paper = s["paper"] or {}
    rate = s["success_rate"]
    lines = [
        f"### {s['label']}",
        "",
        f"{s['seeds']} seeds, budget {s['max_sequences']:,} sequences each, "
        f"{s['n_weights']} weights, lr {s['lr']}; wall time {_clock(s['wall_time'])} "
        f"(per seed: median {_n(s['lstm_wall_time']['median'], 1)} s).",
        "",
        "| | success | mean | median | min | max | std | wrong test seqs |",
        "|---|---|---|---|---|---|---|---|",
        f"| errorflow LSTM | {s['successes']}/{s['seeds']} ({100 * rate:.0f}%) | "
        f"{_n(st['mean'])} | {_n(st['median'])} | {_n(st['min'])} | {_n(st['max'])} | "
        f"{_n(st['std'])} | {_n(s['test_wrong']['mean'], 1)} of "
        f"{_n(s['test_sequences'])} |",
    ]
    if paper:
        pct = paper.get("success_percent")
        lines.append(
            f"| paper ({paper['source']}, {paper['trials']} trials) | "
            f"{'-' if pct is None else f'{pct:.0f}%'} | {_n(paper['sequences'])} | - | - | - "
            f"| - | {_n(paper.get('wrong'))} |"
        )
    b = s["baseline"]
    if b:
        lines.append(
            f"| RNN + {b.get('method', 'bptt').upper()} ({b['n_weights']} weights) | "
            f"{b['successes']}/{b['seeds']} | "
            f"{_n(b['sequences']['mean'])} seen | - | - | - | - | - |"
        )
    lines.append("")
    if s["comparison"]:
        c = s["comparison"]
        lines.append(
            f"Ours / paper: mean {c['ratio_mean_to_paper']:.2f}, median "
            f"{c['ratio_median_to_paper']:.2f}; the paper's mean is "
            f"{'inside' if c['paper_mean_within_our_range'] else 'outside'} our range over seeds."
        )
    if b:
        lines.append(
            f"Baseline error flow after training (B3 in log space): over the minimal lag "
            f"{b['lag']}, the largest factor from the output back is 10^"
            f"{b['log10_max_factor']['median']:.1f} (median over seeds), "
            f"{b['decades_per_step']['median']:.3f} decades per step."
        )
    lines += ["", "Readings of the paper used:", *(f"- {r}" for r in s["readings"]), ""]
    return "\n".join(lines)


def _write_json(path: Path, data: object) -> None:
    path.write_text(json.dumps(data, indent=1, default=float) + "\n", encoding="utf-8")


def _seed(
    task: Task,
    seed: int,
    label: str,
    budget: int,
    baseline: tuple[int, float, str] | None,
    stream: TextIO,
    progress: bool,
    backend: str,
) -> dict[str, object]:
    """One seed: the LSTM run, and the baseline's when ``baseline`` (sequences, seconds)."""
    bar = ProgressBar(stream, label) if progress else None
    result, _ = train_lstm(task, seed, budget, bar, backend=backend)
    record: dict[str, object] = {
        "task": task.name,
        "options": task.options,
        "seed": seed,
        "lstm": _record(result),
    }
    if bar:
        bar.done(_line(label, result))
    if baseline is not None:
        name = f"RNN+{baseline[2].upper()}"
        bar = ProgressBar(stream, f"{task.slug} seed {seed} {name}") if progress else None
        base = train_rnn(task, seed, baseline[0], baseline[1], bar, method=baseline[2])
        record["baseline"] = _record(base)
        if bar:
            bar.done(
                f"{task.slug} seed {seed} {name}: "
                f"{'success' if base.success else 'no success'} after {base.sequences:,} "
                f"sequences ({base.stopped_by}); flow over lag {base.flow['lag']}: "
                f"10^{base.flow['log10_max_factor']:.1f}"
            )
    return record


def _seed_in_worker(name: str, options: dict[str, int], *args) -> dict[str, object]:
    """:func:`_seed` in a worker process (a :class:`Task` holds closures: rebuilt here)."""
    from .tasks import task as make

    return _seed(make(name, **options), *args[:-2], sys.stderr, *args[-2:])


def run(
    task: Task,
    seeds: int,
    max_sequences: int | None,
    out: Path,
    *,
    first_seed: int = 0,
    baseline_seeds: int = 3,
    baseline_sequences: int = 20_000,
    baseline_seconds: float = 30.0,
    baseline_method: str = "bptt",
    stream: TextIO = sys.stderr,
    progress: bool = True,
    backend: str = "auto",
    figure: bool = True,
    jobs: int = 1,
) -> dict[str, object]:
    """Run ``seeds`` LSTM trainings (seeds ``first_seed ..``) and baselines on the first
    ``baseline_seeds`` of them, ``jobs`` seeds at a time (worker processes when > 1); write
    the per-seed JSON, the summary and the figure under ``out / task.slug``; return the
    summary."""
    budget = task.default_max if max_sequences is None else max_sequences
    folder = out / task.slug
    folder.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    plan = [
        (
            seed,
            f"{task.slug} seed {seed} ({i + 1}/{seeds})",
            budget,
            (baseline_sequences, baseline_seconds, baseline_method) if i < baseline_seeds else None,
        )
        for i, seed in enumerate(range(first_seed, first_seed + seeds))
    ]
    runs: list[dict[str, object]] = []
    if jobs > 1 and seeds > 1:
        from concurrent.futures import ProcessPoolExecutor
        from multiprocessing import get_context

        with ProcessPoolExecutor(min(jobs, seeds), mp_context=get_context("spawn")) as pool:
            futures = [
                pool.submit(_seed_in_worker, task.name, task.options, *p, progress, backend)
                for p in plan
            ]
            for future in futures:
                record = future.result()
                _write_json(folder / f"seed-{record['seed']}.json", record)
                runs.append(record)
    else:
        for p in plan:
            record = _seed(task, *p, stream, progress, backend)
            _write_json(folder / f"seed-{record['seed']}.json", record)
            runs.append(record)
    summary = summarize(task, runs, budget, time.perf_counter() - start)
    summary["jobs"] = jobs
    _write_json(folder / "summary.json", summary)
    (folder / "summary.md").write_text(summary_markdown(summary), encoding="utf-8")
    if figure:
        from errorflow.figures import save_figure

        from .plot import learning_curves

        save_figure(learning_curves(summary, runs), folder, "learning-curve")
    return summary


def _record(result: RunResult | BaselineResult) -> dict[str, object]:
    data = asdict(result)
    data["curve"] = [[int(a), float(b)] for a, b in data["curve"]]
    return data


def _line(label: str, r: RunResult) -> str:
    t = r.test
    test = f"; test: {t['wrong']} of {t['sequences']} wrong, MSE {t['mse']:.2g}" if t else ""
    verdict = f"success ({r.stopped_by})" if r.success else f"no success ({r.stopped_by})"
    return f"{label}: {verdict} after {r.sequences:,} sequences in {r.wall_time:.1f} s{test}"
