"""Online training of the 1997 LSTM with the generated truncated-gradient kernels (§4, A.1).

One training sequence at a time (the paper's online learning, §5 intro), with
:class:`errorflow.numeric.lstm.OnlineLearner`: the generated ``truncated_sequence`` kernel
returns the sequence's truncated gradient (eqs. 19-28) and its last outputs in one call; the
weights move by ``-lr dE/dw`` at the end of the sequence. For
tasks whose error is given only at the sequence end (adding, 2c) this is exactly the paper's
per-step online rule, since every earlier step's error is 0. The stopping rules and success
criteria are the paper's (:class:`~errorflow.experiments.tasks.Task`).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from errorflow.numeric import lstm
from errorflow.numeric.tasks import TaskSequence

from .tasks import Task

__all__ = ["Curve", "Progress", "RunResult", "evaluate", "sequence_errors", "train_lstm"]

#: How many points a learning curve keeps (sequences seen, mean absolute error).
CURVE_POINTS = 200


@dataclass
class Progress:
    """What a progress callback sees: sequences seen, the recent mean absolute error, the
    budget, and the wall time so far."""

    seen: int
    error: float
    budget: int
    elapsed: float


@dataclass
class RunResult:
    """One training run: success, sequences to success (or the budget), wall time, the test
    figures after the stop, the learning curve, and when the cells were connected to the
    outputs (``Task.grow_cells``; ``None``: never)."""

    success: bool
    sequences: int
    wall_time: float
    test: dict[str, float] = field(default_factory=dict)
    curve: list[tuple[int, float]] = field(default_factory=list)
    stopped_by: str = ""
    cells_added: int | None = 0


def sequence_errors(task: Task, outputs: np.ndarray, seq: TaskSequence) -> float:
    """The largest absolute output error that counts for ``seq``: at the end only, or over
    every step for tasks with a target at every step (2a)."""
    if task.every_step:
        return float(np.max(np.abs(outputs - seq.targets)[seq.mask]))
    return float(np.max(np.abs(outputs[-1] - seq.final_target)))


def evaluate(
    task: Task,
    params: dict[str, np.ndarray],
    rng: np.random.Generator,
    n: int | None = None,
    *,
    until_wrong: bool = False,
) -> dict[str, float]:
    """Test the frozen net: ``n`` fresh sequences (default ``task.test_size``; 2a: its two
    sequences). Returns the count, wrong sequences, the mean squared and mean/max absolute
    error of the scored outputs. ``until_wrong``: stop at the first wrong sequence (a
    pass/fail test)."""
    seqs = task.fixed_test() if task.fixed_test else None
    count = len(seqs) if seqs else (task.test_size if n is None else n)
    worst = np.empty(count)
    sq, ab, terms = 0.0, 0.0, 0
    for i in range(count):
        seq = seqs[i] if seqs else task.sample(rng)
        out = lstm.outputs(task.layout, params, seq.xs)
        diff = (out - seq.targets)[seq.mask] if task.every_step else out[-1] - seq.final_target
        worst[i] = float(np.max(np.abs(diff)))
        sq += float(np.sum(diff**2))
        ab += float(np.sum(np.abs(diff)))
        terms += diff.size
        if until_wrong and worst[i] >= task.threshold:
            count, worst = i + 1, worst[: i + 1]
            break
    return {
        "sequences": count,
        "wrong": int(np.sum(worst >= task.threshold)),
        "mse": sq / terms,
        "mean_abs": ab / terms,
        "max_abs": float(worst.max()),
    }


class Curve:
    """A learning curve: the mean error of blocks of ``BLOCK`` sequences, thinned at the end
    to at most :data:`CURVE_POINTS` points (adjacent blocks merged), so its resolution follows
    the run's length, not its budget."""

    BLOCK = 100

    def __init__(self) -> None:
        self.means: list[float] = []
        self.total, self.count, self.seen = 0.0, 0, 0

    def add(self, error: float) -> None:
        self.total += error
        self.count += 1
        self.seen += 1
        if self.count == self.BLOCK:
            self.means.append(self.total / self.count)
            self.total, self.count = 0.0, 0

    def points(self) -> list[tuple[int, float]]:
        """``(sequences seen, mean error)`` at the end of each (merged) block."""
        ends = [(i + 1) * self.BLOCK for i in range(len(self.means))]
        means, sizes = list(self.means), [self.BLOCK] * len(self.means)
        if self.count:
            ends.append(self.seen)
            means.append(self.total / self.count)
            sizes.append(self.count)
        k = max(1, -(-len(means) // CURVE_POINTS))
        out = []
        for i in range(0, len(means), k):
            m, n = means[i : i + k], sizes[i : i + k]
            mean = sum(a * b for a, b in zip(m, n, strict=True)) / sum(n)
            out.append((ends[min(i + k, len(ends)) - 1], mean))
        return out


def train_lstm(
    task: Task,
    seed: int,
    max_sequences: int,
    progress: Callable[[Progress], None] | None = None,
    *,
    backend: str = "auto",
    test: bool = True,
) -> tuple[RunResult, dict[str, np.ndarray]]:
    """Train from the paper's initialisation (seeded) until the task's stopping rule holds or
    ``max_sequences`` sequences were seen; then test the frozen net. Returns the result and
    the final weights."""
    rng = np.random.default_rng([seed, 1997])
    test_rng = np.random.default_rng([seed, 2560])
    layout = task.layout
    # per-step updates where every step has a target (2a); where only the end has one, the
    # per-sequence update is the same rule and skips a weight update per step
    learner = lstm.OnlineLearner(
        layout,
        lstm.init_params(layout, rng, **task.init),
        task.lr,
        update="step" if task.every_step else "sequence",
        backend=backend,
    )
    cells = np.zeros(layout.shapes["w_k"], dtype=bool)
    cells[:, : layout.n_cells] = True  # the output weights from the cells
    blocks: list[float] = []  # mean loss per 100 sequences, while the cells wait
    block = 0.0
    grown = not task.grow_cells
    if not grown:
        learner.freeze("w_k", cells)
    recent: deque[float] = deque(maxlen=max(task.window, 1))
    wrong_recent = 0
    curve = Curve()
    start = time.perf_counter()
    last_report = start
    success, stopped_by, seen = False, "budget", 0
    cells_added: int | None = None if task.grow_cells else 0
    while seen < max_sequences:
        seq = task.sample(rng)
        loss, y_last = learner.step(seq.xs, seq.targets, seq.mask)
        seen += 1
        if not grown:
            block += loss
            if seen % 100 == 0:
                blocks.append(block / 100)
                block = 0.0
                if len(blocks) >= 5 and blocks[-1] > 0.98 * blocks[-5]:
                    learner.unfreeze("w_k", cells)  # the cells join, their weights from 0
                    grown, cells_added = True, seen
        # score the sequence as it was presented (before this update)
        if task.every_step:
            err = float(np.sqrt(2.0 * loss / seq.mask.sum()))  # RMS over every target
        else:
            err = float(np.max(np.abs(y_last - seq.final_target)))
        if len(recent) == recent.maxlen:
            wrong_recent -= recent[0] >= task.threshold
        recent.append(err)
        wrong_recent += err >= task.threshold
        curve.add(err)
        if not np.isfinite(loss):
            stopped_by = "diverged"
            break
        if task.stop == "st3":
            if len(recent) == task.window and wrong_recent == 0:
                if sum(recent) / task.window < task.st3_beta:
                    success, stopped_by = True, "ST3"
                    break
        elif (
            grown
            and seen % task.check_every == 0
            and (task.window == 0 or (len(recent) == task.window and wrong_recent == 0))
        ):
            if evaluate(task, learner.params, test_rng, until_wrong=True)["wrong"] == 0:
                success, stopped_by = True, "test"
                break
        now = time.perf_counter()
        if progress is not None and now - last_report > 0.25:
            last_report = now
            progress(Progress(seen, sum(recent) / len(recent), max_sequences, now - start))
    wall = time.perf_counter() - start
    if progress is not None:
        progress(Progress(seen, sum(recent) / max(len(recent), 1), max_sequences, wall))
    result = RunResult(
        success, seen, wall, curve=curve.points(), stopped_by=stopped_by, cells_added=cells_added
    )
    params = learner.params
    if test:
        result.test = evaluate(task, params, test_rng)
    return result, params
