"""The long-lag experiments (issue: adding, 2a, 2c): task generators with the paper's
statistics, online learning with the generated kernels, the runner's files and the command's
usage errors. Fast: no test trains longer than a few seconds."""

import json
import subprocess
import sys

import numpy as np
import pytest

from errorflow.experiments import reproduction, runner, task
from errorflow.experiments.baselines import train_rnn
from errorflow.experiments.training import evaluate, train_lstm
from errorflow.numeric import InvalidArgumentError, lstm, tasks

# -- generators: the paper's statistics (PAPER.md section 6) -------------------------------


def test_adding_sequences_have_the_papers_lengths_markers_and_targets():
    rng = np.random.default_rng(0)
    T = 100
    lengths, lags, one_mark = [], [], 0
    for _ in range(3000):
        s = tasks.adding(rng, T)
        L = s.length
        values, markers = s.xs[:, 0], s.xs[:, 1]
        assert T <= L <= T + T // 10
        assert np.all((-1 <= values) & (values <= 1))
        assert set(np.unique(markers)) <= {-1.0, 0.0, 1.0}
        assert markers[-1] == -1.0 and markers[0] == -1.0
        marked = np.flatnonzero(markers == 1.0)
        assert 1 <= len(marked) <= 2
        one_mark += len(marked) == 1  # the other mark fell on the first pair
        assert np.all(marked < T // 2 - 1)  # one in the first 10, one in the first T/2 - 1
        if len(marked) == 2:
            assert marked.min() < 10
        # the target: 0.5 + (X1 + X2) / 4 at the end only, in [0, 1]
        assert s.mask[:, 0].tolist() == [False] * (L - 1) + [True]
        assert np.isnan(s.targets[:-1]).all()
        assert s.final_target[0] == pytest.approx(0.5 + values[marked].sum() / 4, abs=1e-15)
        assert 0.0 <= s.final_target[0] <= 1.0
        lengths.append(L)
        lags.append(L - 1 - marked.max())
    assert min(lags) >= T // 2  # the minimal lag of Table 7: 50 at T = 100
    assert np.mean(lengths) == pytest.approx(T + T // 20, abs=0.3)  # uniform on T..T+T/10
    assert 0.05 < one_mark / 3000 < 0.2  # the first pair marked (X1 := 0): about 1/10


def test_noise_free_sequences_are_the_two_of_task_2a():
    rng = np.random.default_rng(1)
    p = 7
    firsts = []
    for _ in range(400):
        s = tasks.noise_free(rng, p)
        assert s.xs.shape == (p, p + 1) and s.targets.shape == (p, p + 1) and s.mask.all()
        assert np.all(s.xs.sum(1) == 1) and np.all(s.targets.sum(1) == 1)  # local coding
        seq = np.concatenate([s.xs.argmax(1), s.targets[-1:].argmax(1)])
        assert seq[0] == seq[-1] and seq[0] in (p - 1, p)  # x = a_p or y = a_{p+1}
        assert seq[1:-1].tolist() == list(range(p - 1))  # a_1 .. a_{p-1}
        assert np.array_equal(s.targets[:-1], s.xs[1:])  # predict the next symbol
        firsts.append(seq[0])
    assert 0.4 < np.mean(np.array(firsts) == p) < 0.6


@pytest.mark.parametrize(("stop", "extra"), [(tasks.VERY_LONG_LAG_STOP, 14), (0.1, 13)])
def test_very_long_lag_has_the_stated_expected_length_and_occurrences(stop, extra):
    rng = np.random.default_rng(2)
    p, q, n = 20, 60, 6000
    lengths, counts = [], np.zeros(p)
    for _ in range(n):
        s = tasks.very_long_lag(rng, p, q, stop)
        sym = s.xs.argmax(1)
        assert sym[0] == p + 1 and sym[1] in (p + 2, p + 3) and sym[-1] == p  # b, x|y, ..., e
        assert np.all(sym[2:-1] < p)  # distractors a_1..a_p only (the index bound is p)
        assert s.final_target.tolist() == ([1.0, 0.0] if sym[1] == p + 2 else [0.0, 1.0])
        assert s.mask.sum() == 2 and s.mask[-1].all()
        lengths.append(s.length + 1)  # with the final x|y, the paper's sequence length
        counts += np.bincount(sym[2:-1], minlength=p)
    assert min(lengths) >= q + 4
    # the geometric tail: E[len] = q + 4 + (1 - stop)/stop, sd of the mean ~ 10/sqrt(n)
    assert np.mean(lengths) == pytest.approx(q + extra, abs=0.6)
    assert np.mean(counts / n) == pytest.approx((q + extra - 4) / p, rel=0.03)


def test_two_sequence_batch_has_the_papers_classes_and_noise():
    xs, lengths, targets = tasks.two_sequence_batch(3, 100, 3, 4000)
    assert xs.shape == (4000, 110, 1) and lengths.min() >= 100 and lengths.max() <= 110
    sign = np.where(targets == 1.0, 1.0, -1.0)
    assert np.all(xs[:, :3, 0] == sign[:, None])
    tail = np.concatenate([xs[i, 3 : lengths[i], 0] for i in range(4000)])
    assert np.var(tail) == pytest.approx(tasks.TWO_SEQUENCE_VARIANCE, rel=0.02)
    assert 0.47 < targets.mean() < 0.53


@pytest.mark.parametrize(
    ("call", "argument"),
    [
        (lambda: tasks.adding(0, 1), "T"),
        (lambda: tasks.adding(0, 2.5), "T"),
        (lambda: tasks.noise_free(0, 0), "p"),
        (lambda: tasks.very_long_lag(0, 5, -1), "q"),
        (lambda: tasks.very_long_lag(0, 5, 5, stop=0.0), "stop"),
        (lambda: tasks.two_sequence(0, 10, N=11), "N"),
        (lambda: tasks.adding("seed", 10), "rng"),
        (lambda: task("2c", T=5), "T"),
        (lambda: task("nope"), "name"),
    ],
)
def test_bad_task_arguments_name_the_argument(call, argument):
    with pytest.raises(InvalidArgumentError) as info:
        call()
    assert info.value.argument == argument


# -- learning with the generated kernels ------------------------------------------------


@pytest.mark.parametrize("update", ["step", "sequence"])
def test_online_learner_numba_and_numpy_agree_and_keep_masked_weights_zero(update):
    pytest.importorskip("numba")
    layout = lstm.PAPER_LAYOUTS["4-1"]
    params = lstm.init_params(layout, 0, 0.5)
    rng = np.random.default_rng(1)
    xs, d = rng.uniform(-1, 1, (30, 2)), rng.uniform(0, 1, (30, 1))
    mask = rng.random((30, 1)) < 0.5
    fast = lstm.OnlineLearner(layout, params, 0.3, update=update, backend="numba")
    slow = lstm.OnlineLearner(layout, params, 0.3, update=update, backend="numpy")
    for _ in range(3):
        (la, ya), (lb, yb) = fast.step(xs, d, mask), slow.step(xs, d, mask)
        assert la == pytest.approx(lb, rel=1e-12) and np.allclose(ya, yb, rtol=0, atol=1e-14)
    for name, w in fast.params.items():
        assert np.allclose(w, slow.params[name], rtol=0, atol=1e-14)
        assert np.all(w[~layout.mask[name]] == 0.0)
        if layout.mask[name].any():
            assert not np.allclose(w, params[name])  # it learned


def test_per_step_updates_are_sequential_gradient_steps():
    """update="step": step t runs on the weights after steps 1..t-1's updates, which for a
    sequence of length 1 repeated is exactly one gradient step per call."""
    layout = lstm.PAPER_LAYOUTS["3a"]
    params = lstm.init_params(layout, 4, 0.5)
    x, d = np.array([[0.3]]), np.array([[0.9]])
    learner = lstm.OnlineLearner(layout, params, 0.7, update="step")
    learner.step(x, d)
    _, grads = lstm.truncated_gradient(layout, params, x, d, backend="numpy")
    for name, w in learner.params.items():
        assert np.allclose(w, params[name] - 0.7 * grads[name], rtol=0, atol=1e-15)


def test_freeze_holds_weights_until_unfrozen():
    layout = lstm.PAPER_LAYOUTS["4-1"]
    learner = lstm.OnlineLearner(layout, lstm.init_params(layout, 0), 0.5)
    col = np.zeros(layout.shapes["w_k"], dtype=bool)
    col[:, 0] = True
    learner.freeze("w_k", col)
    rng = np.random.default_rng(0)
    for _ in range(5):
        s = tasks.adding(rng, 10)
        learner.step(s.xs, s.targets, s.mask)
    assert np.all(learner.params["w_k"][:, 0] == 0.0)
    learner.unfreeze("w_k", col, np.full(layout.shapes["w_k"], 0.25))
    assert np.all(learner.params["w_k"][:, 0] == 0.25)
    learner.step(s.xs, s.targets, s.mask)
    assert np.all(learner.params["w_k"][:, 0] != 0.25)
    with pytest.raises(InvalidArgumentError, match="where"):
        learner.freeze("w_k", col[:, :1])
    with pytest.raises(InvalidArgumentError, match="lr"):
        lstm.OnlineLearner(layout, lstm.init_params(layout, 0), -1.0)


def test_outputs_and_last_outputs_match_the_forward_pass():
    layout = lstm.PAPER_LAYOUTS["6a"]
    params = lstm.init_params(layout, 2, 0.6)
    xs = np.random.default_rng(3).uniform(-1, 1, (25, layout.n_in))
    ref = lstm.forward(layout, params, xs).y
    for backend in ("numpy", "numba"):
        if backend == "numba":
            pytest.importorskip("numba")
        assert np.allclose(lstm.outputs(layout, params, xs, backend=backend), ref, atol=1e-15)
        d = np.zeros((25, layout.n_out))
        loss, _, y_last = lstm.truncated_gradient_and_outputs(
            layout, params, xs, d, backend=backend
        )
        assert np.allclose(y_last, ref[-1], atol=1e-15)
        assert loss == pytest.approx(0.5 * np.sum(ref**2), rel=1e-12)


def test_a_short_run_on_a_tiny_lag_learns():
    """Adding problem at T = 10 (lags >= 6), fixed seed: the mean absolute end error of the
    last 100 of 20,000 sequences is at least 4 times smaller than that of the first 100."""
    result, params = train_lstm(task("adding", T=10), seed=0, max_sequences=20_000, test=False)
    first, last = result.curve[0][1], result.curve[-1][1]
    assert first > 0.1 and last < first / 4, (first, last)
    test = evaluate(task("adding", T=10), params, np.random.default_rng(0), 200)
    assert test["mean_abs"] < first / 3


def test_2a_with_a_short_lag_succeeds_and_is_tested_on_both_sequences():
    t = task("2a", p=4)
    result, _ = train_lstm(t, seed=1, max_sequences=5000)
    assert result.success and result.stopped_by == "test"
    assert result.test["sequences"] == 2 and result.test["wrong"] == 0
    assert result.test["max_abs"] < 0.25


def test_rtrl_baseline_takes_the_same_steps_as_bptt():
    t = task("adding", T=12)
    a = train_rnn(t, seed=3, max_sequences=40, max_seconds=60)
    b = train_rnn(t, seed=3, max_sequences=40, max_seconds=60, method="rtrl")
    assert b.method == "rtrl" and a.sequences == b.sequences == 40
    assert np.allclose([v for _, v in a.curve], [v for _, v in b.curve], rtol=1e-9)
    assert b.flow["log10_max_factor"] == pytest.approx(a.flow["log10_max_factor"], rel=1e-9)


def test_baseline_reports_its_measured_error_flow():
    base = train_rnn(task("adding", T=20), seed=0, max_sequences=300, max_seconds=20)
    assert base.sequences == 300 and not base.success
    assert base.flow["lag"] == 11 and base.flow["log10_max_factor"] < 0
    assert base.flow["decades_per_step"] == pytest.approx(base.flow["log10_max_factor"] / 11)
    assert base.n_weights == 9 * 9 + 9 * 3  # 8 hidden + 1 output units, inputs + bias


# -- the runner, the summary and the committed reproduction -----------------------------


def test_run_writes_seed_records_summary_and_figure(tmp_path):
    t = task("adding", T=10)
    summary = runner.run(
        t, 2, 400, tmp_path, baseline_seeds=1, baseline_sequences=50, progress=False
    )
    folder = tmp_path / "adding-T10"
    records = [json.loads((folder / f"seed-{k}.json").read_text()) for k in (0, 1)]
    assert records[0]["lstm"]["sequences"] == 400 and "baseline" in records[0]
    assert "baseline" not in records[1]
    assert json.loads((folder / "summary.json").read_text())["seeds"] == 2
    assert (folder / "learning-curve.png").stat().st_size > 1000
    text = (folder / "summary.md").read_text()
    assert "errorflow LSTM" in text and "RNN + BPTT" in text and "Readings" in text
    assert summary["successes"] == 0 and summary["sequences_to_success"]["mean"] is None
    # the reproduction table reads such folders
    md = reproduction.markdown(tmp_path)
    assert "adding problem (exp. 4), T = 10" in md and "0/2" in md
    assert r"\begin{longtable}" in reproduction.latex(None, tmp_path)


def test_the_committed_reproduction_renders():
    md = reproduction.markdown()
    assert md.startswith("# The paper's long-lag experiments, reproduced")
    for s in reproduction.summaries():
        assert s["label"] in md


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "errorflow", "experiment", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["adding", "--T", "1"], "--T: expected an integer >= 4"),
        (["2a", "--p", "0"], "--p: expected an integer >= 1"),
        (["2c", "--q", "0"], "--q: expected an integer >= 1"),
        (["nope"], "invalid choice: 'nope'"),
        (["2a", "--T", "5"], "--T: is not an option of '2a'"),
        (["adding", "--seeds", "0"], "--seeds: expected an integer >= 1"),
        (["adding", "--max-sequences", "-3"], "--max-sequences: expected an integer >= 1"),
        (["2a", "--baseline", "rtrl"], "--baseline rtrl: the 2a baseline has 102 units"),
    ],
)
def test_bad_options_give_one_line_and_exit_2(args, needle):
    proc = _cli(*args)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("errorflow: error: ") and needle in lines[0]
    assert proc.stdout == ""


def test_the_command_runs_and_prints_the_summary(tmp_path):
    proc = _cli(
        "adding", "--T", "10", "--seeds", "1", "--max-sequences", "300", "--out",
        str(tmp_path), "--baseline-seeds", "0", "--quiet",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "### adding problem (exp. 4), T = 10" in proc.stdout
    assert (tmp_path / "adding-T10" / "seed-0.json").exists()
