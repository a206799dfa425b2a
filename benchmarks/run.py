"""Benchmarks of errorflow's kernels against what a user would otherwise write (issue 6).

    python benchmarks/run.py [--quick] [--json FILE]

One run, one machine, float64 everywhere. Every backend's result is checked against errorflow's
before it is timed (relative 1e-8; see ``benchmarks/README.md``). Sections:

* LSTM ``truncated_gradient`` / ``full_gradient`` against a NumPy per-step loop, PyTorch
  autograd and JAX (``jit`` + ``lax.scan``; compile time reported separately);
* RNN ``scaling_factor`` / ``log_scaling_factor`` against the bare float64 loop in NumPy, torch
  and JAX, and mpmath (30 digits) where it finishes in the time budget;
* peak memory against T: errorflow (tracemalloc) and PyTorch (bytes autograd saves);
* the goals of issue 6, PASS or MISS, measured in this run.

torch, jax and numba are optional (the ``bench`` and ``fast`` extras): a missing one is reported
as "not installed". Exit status 0 when every backend agreed with errorflow, 1 otherwise (a
missed performance goal is reported, not an error).
"""

from __future__ import annotations

import argparse
import functools
import gc
import importlib
import importlib.metadata
import inspect
import itertools
import json
import math
import os
import platform
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
RTOL = 1e-8
SEED = 20240611
KIB = 1024
SCALING_N = (4, 32, 256)  # units of the recurrent net
SCALING_Q = (100, 1000, 10_000)  # lags
#: --quick skips two untimed extras when they would take longer than this: a scaling_factor
#: call that must raise (|S| outside float64; it computes the whole chain first), and the
#: rescaled NumPy loop that checks the reference where neither mpmath nor float64 can
QUICK_SKIP_RAISING_S = 2.0
BUSY_LOAD = 0.5  # a 1-minute load average above this before the run: the machine was busy
BUSY_CORES = 0.2  # other processes using more cores than this during a case: times disturbed

Binder = Callable[[Callable[..., Any]], Callable[..., Any] | None]


# --------------------------------------------------------------------------------- settings
@dataclass(frozen=True)
class Config:
    """How long to time each case and which sizes to run."""

    quick: bool
    target_s: float  # time each (case, backend) for about this long
    min_repeats: int
    max_repeats: int
    mpmath_budget_s: float  # skip an mpmath run estimated to take longer
    memory_T_truncated: tuple[int, ...]
    memory_T_stored: tuple[int, ...]  # full BPTT and torch keep O(T) memory (and are slower)

    @classmethod
    def make(cls, quick: bool) -> Config:
        if quick:
            return cls(True, 0.2, 1, 20, 5.0, (10**2, 10**3, 10**4, 10**5), (10**2, 10**3, 10**4))
        return cls(
            False, 1.0, 3, 200, 20.0, (10**2, 10**3, 10**4, 10**5), (10**2, 10**3, 10**4, 10**5)
        )


# ------------------------------------------------------------------------------- backends
def errorflow_variants() -> list[tuple[str, Binder]]:
    """errorflow's backends as ``(label, bind)``, the NumPy one first.

    ``bind(fn)`` returns the errorflow function ``fn`` (``truncated_gradient``,
    ``full_gradient``, ``scaling_factor``, ``log_scaling_factor``) with that backend selected,
    or ``None`` when ``fn`` cannot select it. Detected, not assumed: when
    ``errorflow.numeric.lstm.truncated_gradient`` takes no ``backend=`` keyword there is one
    variant, ``errorflow[numpy]``, called without it; otherwise one variant per name in
    ``errorflow.numeric.backends.available()`` (except ``"auto"``), called with ``backend=name``.
    """
    from errorflow.numeric import lstm

    if "backend" not in inspect.signature(lstm.truncated_gradient).parameters:
        return [("errorflow[numpy]", lambda fn: fn)]
    try:
        backends = importlib.import_module("errorflow.numeric.backends")
        names = [str(b) for b in backends.available() if b != "auto"]
    except (ImportError, AttributeError):
        names = ["numpy"]
    names = sorted(set(names) | {"numpy"}, key=lambda b: (b != "numpy", b))

    def binder(name: str) -> Binder:
        def bind(fn: Callable[..., Any]) -> Callable[..., Any] | None:
            if "backend" in inspect.signature(fn).parameters:
                return functools.partial(fn, backend=name)
            return fn if name == "numpy" else None

        return bind

    return [(f"errorflow[{name}]", binder(name)) for name in names]


def _compiles(label: str) -> bool:
    """errorflow variants other than NumPy compile on first use (numba: compile or cache load)."""
    return label.startswith("errorflow[") and label != "errorflow[numpy]"


def optional_baseline(module: str, requires: str) -> ModuleType | str:
    """``baselines.<module>`` if ``requires`` imports, else the reason it is unavailable."""
    try:
        importlib.import_module(requires)
    except ImportError:
        return "not installed"
    try:
        return importlib.import_module(f"baselines.{module}")
    except Exception as exc:  # a broken optional install is reported, not raised
        return f"import failed: {type(exc).__name__}: {exc}"


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def machine_info(torch_mod: ModuleType | str) -> dict[str, Any]:
    """Core count, platform and library versions (and torch's thread count)."""
    import numpy as np

    info: dict[str, Any] = {
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "errorflow": _version("errorflow"),
        "torch": _version("torch"),
        "jax": _version("jax"),
        "jaxlib": _version("jaxlib"),
        "numba": _version("numba"),
        "mpmath": _version("mpmath"),
        "torch_num_threads": None,
        "load_average_1min_at_start": _load_average(),
    }
    if not isinstance(torch_mod, str):
        import torch

        info["torch_num_threads"] = torch.get_num_threads()
    return info


# ------------------------------------------------------------------------------- measuring
@dataclass
class Row:
    """One backend on one case: its status, timings and agreement with the reference."""

    backend: str
    role: str  # "errorflow" or "baseline"
    status: str = "ok"
    first_s: float | None = None  # the first call (compilation included where there is one)
    median_s: float | None = None
    repeats: int = 0
    per_step_us: float | None = None
    error: float | None = None  # agreement with the reference (see README); None: reference
    compiles: bool = False
    note: str = ""


@dataclass
class Case:
    """A benchmark case: its parameters, one row per backend, and the measured ratios."""

    section: str
    name: str
    steps: int
    params: dict[str, Any]
    rows: list[Row] = field(default_factory=list)
    ratios: dict[str, dict[str, float]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def record_other_cpu(self, since: CpuSnapshot | None) -> None:
        """Note how busy the rest of the machine was while this case ran."""
        cores = other_cores(since)
        self.params["other_processes_cores"] = cores
        if cores is not None and cores > BUSY_CORES:
            self.notes.append(
                f"other processes used {cores:.2f} cores on average while this case ran: "
                f"times may be disturbed"
            )

    def row(self, backend: str) -> Row | None:
        return next((r for r in self.rows if r.backend == backend), None)


def _load_average() -> float | None:
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else None


CpuSnapshot = tuple[float, float, float]


def cpu_snapshot() -> CpuSnapshot | None:
    """(wall s, busy CPU s of the whole machine, CPU s of this process); None off Linux."""
    try:
        import resource

        with open("/proc/stat") as fh:
            ticks = [int(v) for v in fh.readline().split()[1:]]
    except (ImportError, OSError, ValueError):
        return None
    busy = sum(ticks[i] for i in (0, 1, 2, 5, 6, 7) if i < len(ticks))  # not idle, not iowait
    mine = resource.getrusage(resource.RUSAGE_SELF)
    return (
        time.perf_counter(),
        busy / os.sysconf("SC_CLK_TCK"),
        mine.ru_utime + mine.ru_stime,
    )


def other_cores(since: CpuSnapshot | None) -> float | None:
    """Cores used on average by *other* processes since ``since`` (machine busy time minus
    this process's CPU time, over wall time); None where /proc/stat is unavailable."""
    now = cpu_snapshot()
    if since is None or now is None or now[0] - since[0] < 0.05:
        return None
    other = (now[1] - since[1]) - (now[2] - since[2])
    return max(other, 0.0) / (now[0] - since[0])


def _timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def time_calls(fn: Callable[[], Any], cfg: Config, first_s: float, compiles: bool) -> list[float]:
    """Wall times of repeated calls (``time.perf_counter``) after a first call of ``first_s``:
    at least ``cfg.min_repeats``, until about ``cfg.target_s`` is spent. The first call counts
    as a sample only when it compiles nothing and took more than ``cfg.target_s`` and 1 s (so
    one-time costs such as starting a thread pool are small beside it). The garbage collector
    is paused while the samples run, as in ``timeit``."""
    samples = [first_s] if (not compiles and first_s >= max(cfg.target_s, 1.0)) else []
    gc.collect()
    gc.disable()  # as timeit does: no collection pauses inside the samples
    try:
        while len(samples) < cfg.min_repeats or (
            sum(samples) < cfg.target_s and len(samples) < cfg.max_repeats
        ):
            samples.append(_timed(fn)[1])
    finally:
        gc.enable()
    return samples


def run_row(
    case: Case,
    row: Row,
    fn: Callable[[], Any],
    cfg: Config,
    check: Callable[[Any], tuple[str, float | None]],
    failures: list[str],
) -> Any:
    """Call ``fn`` once, ``check`` its result (status, error), and time it if it agreed."""
    gc.collect()
    try:
        result, row.first_s = _timed(fn)
    except Exception as exc:
        row.status = f"error: {type(exc).__name__}: {exc}"
        failures.append(f"{case.section} {case.name} {row.backend}: {row.status}")
        return None
    status, row.error = check(result)
    row.status = status
    if status == "disagrees":
        failures.append(
            f"{case.section} {case.name} {row.backend}: disagrees with the reference "
            + (f"(error {row.error:.2e} > {RTOL:g})" if row.error is not None else "")
        )
        return result
    samples = time_calls(fn, cfg, row.first_s, row.compiles)
    row.median_s = statistics.median(samples)
    row.repeats = len(samples)
    row.per_step_us = row.median_s / case.steps * 1e6
    return result


def fill_ratios(case: Case) -> None:
    """``ratios[errorflow row][baseline row] = baseline median / errorflow median`` (errorflow
    rows that returned a checked result; baselines that underflowed count: they ran)."""
    for ef in case.rows:
        if ef.role != "errorflow" or ef.median_s is None or ef.status != "ok":
            continue
        case.ratios[ef.backend] = {
            b.backend: b.median_s / ef.median_s
            for b in case.rows
            if b.role == "baseline" and b.median_s is not None
        }


# ---------------------------------------------------------------------------------- LSTM
def lstm_agreement(result: Any, reference: Any) -> float:
    """Largest relative difference: ``|E - E_ref| / |E_ref|`` and, per gradient array,
    ``max|g - g_ref| / max|g_ref|`` (the absolute difference where ``g_ref`` is all 0)."""
    import numpy as np

    E, grads = result
    E0, g0 = reference
    errs = [abs(E - E0) / max(abs(E0), 1e-300)]
    for name, ref in g0.items():
        if ref.size == 0:
            continue
        got = np.asarray(grads[name], dtype=np.float64)
        if got.shape != ref.shape:
            return math.inf
        scale = float(np.max(np.abs(ref)))
        diff = float(np.max(np.abs(got - ref)))
        errs.append(diff / scale if scale > 0 else diff)
    return max(errs)


def lstm_problems() -> list[tuple[str, Any, int, dict[str, Any]]]:
    """(name, layout, T, init_params options) of the LSTM cases."""
    from errorflow.numeric import lstm

    large = lstm.Layout(64, 8, 64, 4)  # 64 inputs, 8 outputs, 64 blocks of 4 cells
    return [
        ("4-1", lstm.PAPER_LAYOUTS["4-1"], 100, dict(lstm.PAPER_INIT["4-1"])),
        ("4-1", lstm.PAPER_LAYOUTS["4-1"], 1000, dict(lstm.PAPER_INIT["4-1"])),
        ("2c-5", lstm.PAPER_LAYOUTS["2c-5"], 1000, dict(lstm.PAPER_INIT["2c-5"])),
        ("large 64-64x4-8", large, 100, {"scale": 0.1}),
    ]


def lstm_inputs(layout: Any, T: int, init: dict[str, Any], seed: int) -> tuple[Any, ...]:
    """Seeded params (``init_params``), inputs uniform in [-1, 1], targets uniform in [0, 1]."""
    import numpy as np

    from errorflow.numeric import lstm

    rng = np.random.default_rng(seed)
    params = lstm.init_params(layout, rng, **init)
    xs = rng.uniform(-1.0, 1.0, (T, layout.n_in))
    targets = rng.uniform(0.0, 1.0, (T, layout.n_out))
    return params, xs, targets


def lstm_section(
    cfg: Config,
    variants: list[tuple[str, Binder]],
    optional: dict[str, ModuleType | str],
    failures: list[str],
    log: Callable[[str], None],
) -> list[Case]:
    """Time ``truncated_gradient`` and ``full_gradient`` on every LSTM case and backend."""
    from errorflow.numeric import lstm

    numpy_lstm = importlib.import_module("baselines.numpy_lstm")
    cases = []
    for i, (name, layout, T, init) in enumerate(lstm_problems()):
        params, xs, targets = lstm_inputs(layout, T, init, SEED + i)
        for kind in ("truncated_gradient", "full_gradient"):
            snap = cpu_snapshot()
            case = Case(
                "lstm",
                f"{kind} {name} T={T}",
                T,
                {
                    "gradient": kind,
                    "layout_name": name,
                    "layout": repr(layout),
                    "n_weights": layout.n_weights,
                    "T": T,
                    "init": init,
                },
            )
            log(f"  {case.name} ({layout.n_weights} weights)")
            backends: list[tuple[str, str, Callable[..., Any] | str, bool]] = []
            for label, bind in variants:
                fn = bind(getattr(lstm, kind))
                backends.append((label, "errorflow", fn or "no backend= keyword", _compiles(label)))
            backends.append(("numpy loop", "baseline", getattr(numpy_lstm, kind), False))
            for key, label, compiles in (("torch", "torch", False), ("jax", "jax", True)):
                mod = optional[key]
                fn_or_reason = mod if isinstance(mod, str) else getattr(mod, kind)
                backends.append((label, "baseline", fn_or_reason, compiles))
            reference: Any = None
            for label, role, fn, compiles in backends:
                row = Row(label, role, compiles=compiles)
                case.rows.append(row)
                if isinstance(fn, str):
                    row.status = fn
                    continue
                call = functools.partial(fn, layout, params, xs, targets)
                if reference is None:
                    reference = run_row(case, row, call, cfg, lambda r: ("ok", None), failures)
                    if reference is None:
                        break
                    row.note = "reference"
                    continue
                run_row(
                    case,
                    row,
                    call,
                    cfg,
                    lambda r, ref=reference: _ok(lstm_agreement(r, ref)),
                    failures,
                )
            fill_ratios(case)
            case.record_other_cpu(snap)
            cases.append(case)
    return cases


def _ok(err: float) -> tuple[str, float]:
    return ("ok" if err <= RTOL else "disagrees"), err


# ------------------------------------------------------------------------ scaling factor
def log_agreement(sign: Any, logabs: Any, ref_sign: Any, ref_logabs: Any) -> float:
    """``max |log|S| - log|S_ref||`` (the relative error of ``|S|``) where ``S_ref != 0``;
    inf where a sign differs."""
    import numpy as np

    if not np.array_equal(np.sign(sign), np.sign(ref_sign)):
        return math.inf
    nz = ref_sign != 0
    if not np.any(nz):
        return 0.0
    return float(np.max(np.abs(np.asarray(logabs)[nz] - np.asarray(ref_logabs)[nz])))


def matrix_check(S: Any, ref: tuple[Any, Any]) -> tuple[str, float | None]:
    """A float64 ``S`` against the reference ``(sign, log|S|)``: "underflow" (or "overflow")
    when any entry is not a finite normal float64, else the log agreement."""
    import numpy as np

    S = np.asarray(S, dtype=np.float64)
    tiny = np.finfo(np.float64).tiny
    if not np.all(np.isfinite(S)):
        return "overflow", None
    nonnormal = (np.abs(S) < tiny) & (ref[0] != 0)
    if np.any(nonnormal):
        return f"underflow ({int(np.sum(S == 0))}/{S.size} entries 0)", None
    with np.errstate(divide="ignore"):
        return _ok(log_agreement(np.sign(S), np.log(np.abs(S)), *ref))


def _returning(exc_type: type[Exception], fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` returning (not raising) an ``exc_type`` exception, so that it can be checked."""

    def call(*args: Any) -> Any:
        try:
            return fn(*args)
        except exc_type as exc:
            return exc

    return call


def scaling_check(result: Any, ref: tuple[Any, Any], beyond: bool) -> tuple[str, float | None]:
    """errorflow's ``scaling_factor``: a matrix agreeing with the reference, or
    ``Float64RangeError`` exactly when some ``|S|`` is outside the normal float64 range."""
    if isinstance(result, Exception):
        return ("raises Float64RangeError (|S| outside float64)" if beyond else "disagrees"), None
    if beyond:
        return "disagrees", None
    return matrix_check(result, ref)


def out_of_float64_range(logabs: Any) -> bool:
    """True when some ``|S|`` is outside the normal float64 range."""
    import numpy as np

    finite = logabs[np.isfinite(logabs)]
    lo, hi = math.log(np.finfo(np.float64).tiny), math.log(np.finfo(np.float64).max)
    return bool(np.any(finite < lo) or np.any(finite > hi))


def scaling_problem(n: int, q: int) -> tuple[Any, Any]:
    """Seeded ``W ~ N(0, 1/n)`` (spectral radius about 1) and ``nets ~ N(0, 1)`` of shape (q, n)."""
    import numpy as np

    rng = np.random.default_rng([SEED, n, q])
    return rng.normal(0.0, 1.0 / math.sqrt(n), (n, n)), rng.normal(0.0, 1.0, (q, n))


def estimate_mpmath_s(n: int, q: int) -> float:
    """Seconds the mpmath baseline would take at (n, q): a few of its steps timed (at n <= 32;
    beyond, one step at n = 32 scaled by n^3), scaled to q steps."""
    import numpy as np

    rb = importlib.import_module("baselines.rnn_baselines")
    m = min(n, 32)
    k = max(1, min(q, 2048 // m**2))
    rng = np.random.default_rng(SEED)
    W, nets = rng.normal(size=(m, m)), rng.normal(size=(k, m))
    _, dt = _timed(lambda: rb.mpmath_log_scaling_factor(W, nets))
    return dt / k * q * (n / m) ** 3


def scaling_section(
    cfg: Config,
    variants: list[tuple[str, Binder]],
    optional: dict[str, ModuleType | str],
    failures: list[str],
    log: Callable[[str], None],
) -> list[Case]:
    """Time ``log_scaling_factor`` and ``scaling_factor`` against the float64 loops and mpmath."""
    from errorflow.numeric import Float64RangeError, rnn

    rb = importlib.import_module("baselines.rnn_baselines")
    cases = []
    for n in SCALING_N:
        for q in SCALING_Q:
            W, nets = scaling_problem(n, q)
            snap = cpu_snapshot()
            case = Case("scaling", f"n={n} q={q}", q, {"n": n, "q": q, "activation": "logistic"})
            log(f"  scaling factor {case.name}")
            ref: tuple[Any, Any] | None = None
            for label, bind in variants:
                fn = bind(rnn.log_scaling_factor)
                row = Row(f"{label} log_scaling_factor", "errorflow", compiles=_compiles(label))
                case.rows.append(row)
                if fn is None:
                    row.status = "no backend= keyword"
                    continue
                call = functools.partial(fn, W, nets)
                if ref is None:
                    got = run_row(case, row, call, cfg, lambda r: ("ok", None), failures)
                    if got is None:
                        break
                    ref = got
                    row.note = "reference"
                else:
                    run_row(
                        case,
                        row,
                        call,
                        cfg,
                        lambda r, rf=ref: _ok(log_agreement(*r, *rf)),
                        failures,
                    )
            if ref is None:
                cases.append(case)
                continue
            beyond = out_of_float64_range(ref[1])
            for label, bind in variants:
                fn = bind(rnn.scaling_factor)
                row = Row(f"{label} scaling_factor", "errorflow", compiles=_compiles(label))
                case.rows.append(row)
                if fn is None:
                    row.status = "no backend= keyword"
                    continue
                log_row = case.row(f"{label} log_scaling_factor")
                cost = log_row.median_s if log_row and log_row.median_s else 0.0
                if cfg.quick and beyond and cost > QUICK_SKIP_RAISING_S:
                    row.status = (
                        f"not run in --quick: |S| outside float64, it would raise "
                        f"Float64RangeError after ~{fmt_time(cost)}"
                    )
                    continue
                run_row(
                    case,
                    row,
                    functools.partial(_returning(Float64RangeError, fn), W, nets),
                    cfg,
                    lambda r, rf=ref, out=beyond: scaling_check(r, rf, out),
                    failures,
                )
            loops: list[tuple[str, Callable[..., Any] | str, bool]] = [
                ("numpy loop", rb.numpy_scaling_factor, False),
                (
                    "torch loop",
                    optional["torch"]
                    if isinstance(optional["torch"], str)
                    else rb.torch_scaling_factor,
                    False,
                ),
                (
                    "jax scan",
                    optional["jax"] if isinstance(optional["jax"], str) else rb.jax_scaling_factor,
                    True,
                ),
            ]
            for label, fn, compiles in loops:
                row = Row(label, "baseline", compiles=compiles)
                case.rows.append(row)
                if isinstance(fn, str):
                    row.status = fn
                    continue
                run_row(
                    case,
                    row,
                    functools.partial(fn, W, nets),
                    cfg,
                    lambda r, rf=ref: matrix_check(r, rf),  # timed even if it underflowed
                    failures,
                )
            row = Row("mpmath (30 digits)", "baseline")
            case.rows.append(row)
            estimate = estimate_mpmath_s(n, q)
            if estimate > cfg.mpmath_budget_s:
                row.status = (
                    f"skipped: estimated {estimate:.0f} s > {cfg.mpmath_budget_s:.0f} s budget"
                )
                row.note = f"estimated {estimate:.3g} s"
            else:
                cfg1 = Config(**{**asdict(cfg), "min_repeats": 1, "target_s": 0.0})
                run_row(
                    case,
                    row,
                    functools.partial(rb.mpmath_log_scaling_factor, W, nets),
                    cfg1,
                    lambda r, rf=ref: _ok(log_agreement(*r, *rf)),
                    failures,
                )
            numpy_row = case.row("numpy loop")
            loop_s = numpy_row.median_s if numpy_row and numpy_row.median_s else 0.0
            if row.status == "ok" or (numpy_row is not None and numpy_row.error is not None):
                pass  # mpmath or the float64 loop checked the reference
            elif cfg.quick and loop_s > QUICK_SKIP_RAISING_S:
                case.notes.append(
                    f"reference not checked in --quick (the rescaled NumPy loop would take "
                    f"~{fmt_time(loop_s)}); the full run checks it"
                )
            else:
                # check the reference against the NumPy loop with exact power-of-two rescaling
                err = log_agreement(*rb.numpy_rescaled_log_scaling_factor(W, nets), *ref)
                case.notes.append(
                    f"reference checked against the rescaled NumPy loop: error {err:.1e}"
                )
                if err > RTOL:
                    failures.append(f"scaling {case.name}: reference disagrees ({err:.2e})")
            fill_ratios(case)
            case.record_other_cpu(snap)
            cases.append(case)
    return cases


# --------------------------------------------------------------------------------- memory
def traced_peak(fn: Callable[[], Any]) -> int:
    """tracemalloc's peak (bytes) during ``fn()``; what exists before the call is not counted."""
    gc.collect()
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def memory_section(
    cfg: Config,
    variants: list[tuple[str, Binder]],
    optional: dict[str, ModuleType | str],
    failures: list[str],
    log: Callable[[str], None],
) -> dict[str, Any]:
    """Peak memory against T on the 4-1 layout (inputs and targets allocated beforehand)."""
    from errorflow.numeric import lstm

    layout = lstm.PAPER_LAYOUTS["4-1"]
    init = dict(lstm.PAPER_INIT["4-1"])
    series: list[dict[str, Any]] = []

    def add(label: str, method: str, Ts: Sequence[int], measure: Callable[..., int]) -> None:
        entry: dict[str, Any] = {"backend": label, "method": method, "bytes": {}, "seconds": {}}
        series.append(entry)
        for T in Ts:
            params, xs, targets = lstm_inputs(layout, T, init, SEED)
            log(f"  memory {label} T={T}")
            try:
                t0 = time.perf_counter()
                entry["bytes"][T] = measure(params, xs, targets)
                entry["seconds"][T] = time.perf_counter() - t0
            except Exception as exc:
                entry["status"] = f"error: {type(exc).__name__}: {exc}"
                failures.append(f"memory {label} T={T}: {entry['status']}")
                return

    for label, bind in variants:
        # numba's runtime (NRT) allocates through Python's raw allocator, which tracemalloc
        # traces: the numba full gradient's peak grows by exactly its saved (T, ...) arrays
        note = "tracemalloc peak (numba's NRT allocations included)"
        method = "tracemalloc peak" if not _compiles(label) else note
        for kind, Ts in (
            ("truncated_gradient", cfg.memory_T_truncated),
            ("full_gradient", cfg.memory_T_stored),
        ):
            fn = bind(getattr(lstm, kind))
            if fn is None:
                continue
            if _compiles(label):  # compile outside the traced call
                p, x, d = lstm_inputs(layout, 10, init, SEED)
                fn(layout, p, x, d)
            add(
                f"{label} {kind}",
                method,
                Ts,
                lambda p, x, d, f=fn: traced_peak(lambda: f(layout, p, x, d)),
            )
    torch_mod = optional["torch"]
    for kind, detach in (("truncated", True), ("full", False)):
        label = f"torch {kind} (autograd)"
        if isinstance(torch_mod, str):
            series.append({"backend": label, "status": torch_mod, "bytes": {}, "seconds": {}})
            continue
        add(
            label,
            "bytes of the storages autograd saves (saved_tensors_hooks)",
            cfg.memory_T_stored,
            lambda p, x, d, dt=detach: torch_mod.saved_bytes(layout, p, x, d, detach=dt),
        )
    for entry in series:
        b = entry["bytes"]
        Ts = sorted(b)
        entry["bytes_per_step"] = {
            f"{a}-{c}": (b[c] - b[a]) / (c - a) for a, c in itertools.pairwise(Ts)
        }
        if 1000 in b and 100_000 in b:
            entry["growth_1e3_to_1e5"] = b[100_000] - b[1000]
    return {"layout": "4-1", "n_weights": layout.n_weights, "series": series}


def grows_linearly(entry: dict[str, Any]) -> bool:
    """Bytes per step positive and within 25 % between every pair of consecutive T."""
    b = entry["bytes"]
    slopes = [(b[c] - b[a]) / (c - a) for a, c in itertools.pairwise(sorted(b))]
    return bool(slopes) and min(slopes) > 0 and min(slopes) >= 0.75 * max(slopes)


# ---------------------------------------------------------------------------------- goals
def evaluate_goals(
    lstm_cases: list[Case],
    scaling_cases: list[Case],
    memory: dict[str, Any],
    variants: list[tuple[str, Binder]],
) -> list[dict[str, Any]]:
    """Issue 6's goals, each PASS / MISS / n/a with the measured figure."""
    goals: list[dict[str, Any]] = []

    def find(cases: list[Case], name: str) -> Case | None:
        return next((c for c in cases if c.name == name), None)

    def add(goal: str, variant: str, measured: str, ok: bool | None, why: str = "") -> None:
        status = "n/a" if ok is None else ("PASS" if ok else "MISS")
        goals.append(
            {"goal": goal, "variant": variant, "measured": measured, "status": status, "note": why}
        )

    def ratio_goal(case: Case | None, ef: str, base: str, goal: str, test: Callable) -> None:
        variant = ef.split(" ")[0]
        if case is None:
            add(goal, variant, "case not run", None)
            return
        b, e = case.row(base), case.row(ef)
        if e is None or e.median_s is None:
            add(goal, variant, "errorflow not timed", None, e.status if e else "")
            return
        if b is None or b.median_s is None:
            add(goal, variant, f"{base}: {b.status if b else 'missing'}", None)
            return
        r = b.median_s / e.median_s
        add(goal, variant, f"{r:.3g}x ({fmt_time(e.median_s)} vs {fmt_time(b.median_s)})", test(r))

    t1000 = find(lstm_cases, "truncated_gradient 4-1 T=1000")
    large_tr = find(lstm_cases, "truncated_gradient large 64-64x4-8 T=100")
    large_full = find(lstm_cases, "full_gradient large 64-64x4-8 T=100")
    sc = find(scaling_cases, "n=4 q=10000")
    for label, _ in variants:
        g = "truncated_gradient 4-1 T=1000"
        ratio_goal(t1000, label, "torch", f"{g}: >= 100x faster than torch", lambda r: r >= 100)
        ratio_goal(
            t1000, label, "numpy loop", f"{g}: >= 30x faster than the NumPy loop", lambda r: r >= 30
        )
        ratio_goal(
            t1000, label, "jax", f"{g}: no slower than JAX after compilation", lambda r: r >= 1
        )
        row = t1000.row(label) if t1000 else None
        if row is not None and row.per_step_us is not None:
            add(f"{g}: < 0.5 us per step", label, f"{row.per_step_us:.3g} us/step",
                row.per_step_us < 0.5)  # fmt: skip
        else:
            add(f"{g}: < 0.5 us per step", label, "not timed", None)
        for case, kind in ((large_tr, "truncated_gradient"), (large_full, "full_gradient")):
            ratio_goal(
                case, label, "torch", f"large layout {kind}: no slower than torch", lambda r: r >= 1
            )
        ef = f"{label} log_scaling_factor"
        g = "log_scaling_factor n=4 q=1e4"
        ratio_goal(
            sc, ef, "numpy loop", f"{g}: within 3x of the bare float64 loop", lambda r: r >= 1 / 3
        )
        ratio_goal(sc, ef, "mpmath (30 digits)", f"{g}: >= 100x faster than mpmath",
                   lambda r: r >= 100)  # fmt: skip
    series = {e["backend"]: e for e in memory["series"]}
    for label, _ in variants:
        e = series.get(f"{label} truncated_gradient")
        goal = "memory: truncated_gradient growth < 1 KiB from T=1e3 to 1e5"
        if e is None or "growth_1e3_to_1e5" not in e:
            add(goal, label, "not measured", None)
        else:
            grow = e["growth_1e3_to_1e5"]
            add(goal, label, f"{grow:+d} B", grow < KIB, "")
    for name in [e["backend"] for e in memory["series"]]:
        e = series[name]
        if "truncated_gradient" in name and not name.startswith("torch"):
            continue
        goal = f"memory: {name} grows linearly in T"
        if len(e["bytes"]) < 3:
            add(goal, name.split(" ")[0], e.get("status", "not measured"), None)
            continue
        per = ", ".join(f"{k}: {v:.0f} B/step" for k, v in e["bytes_per_step"].items())
        add(goal, name.split(" ")[0], per, grows_linearly(e))
    return goals


# -------------------------------------------------------------------------------- output
def fmt_time(s: float | None) -> str:
    if s is None:
        return "-"
    if s >= 1:
        return f"{s:.3g} s"
    if s >= 1e-3:
        return f"{s * 1e3:.3g} ms"
    return f"{s * 1e6:.3g} us"


def fmt_bytes(b: float) -> str:
    for unit, size in (("GiB", KIB**3), ("MiB", KIB**2), ("KiB", KIB)):
        if abs(b) >= size:
            return f"{b / size:.3g} {unit}"
    return f"{b:.0f} B"


def print_cases(title: str, cases: list[Case], step_name: str, out: Callable[[str], None]) -> None:
    out("")
    out(title)
    head = (
        f"{'case':<42} {'backend':<36} {'median':>9} {'us/' + step_name:>9} "
        f"{'first call':>11} {'reps':>4}  {'agreement':<10} status"
    )
    out(head)
    out("-" * len(head))
    for case in cases:
        for i, r in enumerate(case.rows):
            first = fmt_time(r.first_s) + (" (c)" if r.compiles and r.first_s else "")
            agree = "reference" if r.note == "reference" else (
                f"{r.error:.1e}" if r.error is not None else "-"
            )  # fmt: skip
            per = f"{r.per_step_us:.3g}" if r.per_step_us is not None else "-"
            out(
                f"{case.name if i == 0 else '':<42} {r.backend:<36} {fmt_time(r.median_s):>9} "
                f"{per:>9} {first:>11} {r.repeats or '-':>4}  {agree:<10} "
                f"{'' if r.status == 'ok' else r.status}"
            )
        for ef, ratios in case.ratios.items():
            if ratios:
                text = ", ".join(f"{b} {x:.3g}x" for b, x in ratios.items())
                out(f"{'':<42}   {ef} speedup: {text}")
        for note in case.notes:
            out(f"{'':<42}   note: {note}")


def print_memory(memory: dict[str, Any], out: Callable[[str], None]) -> None:
    out("")
    out(f"Peak memory against T (layout {memory['layout']}, {memory['n_weights']} weights)")
    Ts = sorted({T for e in memory["series"] for T in e["bytes"]})
    head = f"{'backend':<46}" + "".join(f"{'T=' + str(T):>12}" for T in Ts) + "  growth 1e3->1e5"
    out(head)
    out("-" * len(head))
    for e in memory["series"]:
        cells = "".join(f"{fmt_bytes(e['bytes'][T]) if T in e['bytes'] else '-':>12}" for T in Ts)
        grow = e.get("growth_1e3_to_1e5")
        tail = f"  {'-' if grow < 0 else '+'}{fmt_bytes(abs(grow))}" if grow is not None else "  -"
        status = f"  {e['status']}" if "status" in e else ""
        out(f"{e['backend']:<46}{cells}{tail}{status}")
    for e in memory["series"]:
        if "method" in e:
            out(f"  {e['backend']}: {e['method']}")


def print_goals(goals: list[dict[str, Any]], out: Callable[[str], None]) -> None:
    out("")
    out("Goals (issue 6), measured in this run")
    for g in goals:
        note = f"  [{g['note']}]" if g["note"] else ""
        out(f"  {g['status']:<4}  {g['goal']} [{g['variant']}]: {g['measured']}{note}")


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else str(obj)
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    return obj


def header(
    machine: dict[str, Any],
    optional: dict[str, ModuleType | str],
    variants: list[tuple[str, Binder]],
    cfg: Config,
) -> str:
    """The lines above the tables: machine, versions, variants and how times are taken."""
    m = machine

    def lib(name: str) -> str:
        status = optional.get(name)
        return f"{name} {status}" if isinstance(status, str) else f"{name} {m[name]}"

    threads = m["torch_num_threads"]
    load = m.get("load_average_1min_at_start")
    other = m.get("other_processes_cores_during_run")
    busy = (
        "?"
        if other is None
        else f"{other:.2f} cores on average"
        + (" (times are disturbed: publish only an idle run)" if other > BUSY_CORES else "")
    )
    return "\n".join(
        [
            f"machine: {m['cpu_count']} cores (os.cpu_count), {m['platform']}, Python "
            f"{m['python']}; 1-min load average before the run "
            f"{'?' if load is None else f'{load:.2f}'}; other processes during the run: {busy}",
            f"numpy {m['numpy']}, {lib('torch')}"
            + (f" (torch.get_num_threads() = {threads})" if threads else "")
            + f", {lib('jax')}, numba {m['numba']}, mpmath {m['mpmath']}, "
            f"errorflow {m['errorflow']}",
            f"errorflow variants: {', '.join(label for label, _ in variants)}",
            f"float64; each result checked against the reference row before it is timed "
            f"(relative {RTOL:g}); times are medians of repeated calls (time.perf_counter, "
            f"~{cfg.target_s:g} s per row); 'first call' is timed apart, (c) marks a backend "
            f"whose first call may compile (JAX: per shape; numba: compile or cache load); "
            f"speedup = baseline time / errorflow time (> 1: errorflow faster)",
        ]
    )


# ----------------------------------------------------------------------------------- main
def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python benchmarks/run.py",
        description="Time errorflow's LSTM gradients and scaling factors against NumPy, "
        "PyTorch, JAX and mpmath baselines (float64, checked for agreement first).",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="fewer repeats (~0.2 s per case), mpmath budget 5 s, memory of full BPTT and "
        "torch up to T=1e4 (truncated still to 1e5); under 5 minutes on 2 cores",
    )
    parser.add_argument("--json", metavar="FILE", help="also write every figure to FILE as JSON")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    cfg = Config.make(args.quick)
    out = functools.partial(print, flush=True)

    def log(msg: str) -> None:
        print(f"[{time.perf_counter() - started:6.1f} s] {msg}", file=sys.stderr, flush=True)

    if str(BENCH_DIR) not in sys.path:
        sys.path.insert(0, str(BENCH_DIR))
    try:
        importlib.import_module("errorflow.numeric.lstm")
    except ImportError as exc:
        print(f"error: errorflow is not importable ({exc}); run pip install -e '.[bench,fast]'")
        return 2
    optional = {
        "torch": optional_baseline("torch_lstm", "torch"),
        "jax": optional_baseline("jax_lstm", "jax"),
    }
    variants = errorflow_variants()
    failures: list[str] = []
    machine = machine_info(optional["torch"])
    run_snapshot = cpu_snapshot()

    log("LSTM gradients")
    lstm_cases = lstm_section(cfg, variants, optional, failures, log)
    log("RNN scaling factor")
    scaling_cases = scaling_section(cfg, variants, optional, failures, log)
    log("memory")
    memory = memory_section(cfg, variants, optional, failures, log)
    goals = evaluate_goals(lstm_cases, scaling_cases, memory, variants)
    machine["load_average_1min_at_end"] = _load_average()
    machine["other_processes_cores_during_run"] = other_cores(run_snapshot)
    wall = time.perf_counter() - started

    out(f"errorflow benchmarks{' (--quick)' if cfg.quick else ''}: {' '.join(sys.argv)}")
    out(header(machine, optional, variants, cfg))
    print_cases("LSTM gradients", lstm_cases, "step", out)
    print_cases(
        "RNN scaling factor S(q) (logistic units, W ~ N(0, 1/n), nets ~ N(0, 1)); "
        "agreement = max |log|S| - log|S_ref||",
        scaling_cases,
        "lag",
        out,
    )
    print_memory(memory, out)
    print_goals(goals, out)
    out("")
    if failures:
        out(f"FAILED agreement checks ({len(failures)}):")
        for f in failures:
            out(f"  {f}")
    else:
        out("every backend that ran agreed with errorflow")
    out(f"wall time {wall:.0f} s")

    if args.json:
        doc = {
            "command": sys.argv,
            "quick": cfg.quick,
            "config": asdict(cfg),
            "rtol": RTOL,
            "seed": SEED,
            "machine": machine,
            "errorflow_variants": [label for label, _ in variants],
            "lstm": [asdict(c) for c in lstm_cases],
            "scaling": [asdict(c) for c in scaling_cases],
            "memory": memory,
            "goals": goals,
            "failures": failures,
            "wall_s": wall,
        }
        Path(args.json).write_text(json.dumps(_jsonable(doc), indent=1) + "\n")
        out(f"wrote {args.json}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
