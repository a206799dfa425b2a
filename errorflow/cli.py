"""The ``errorflow`` command: derive, codegen, verify, report.

Exit codes: 0 success; 1 a claim failed or the generated kernels drifted; 2 a usage error
(bad command or option, unknown derivation or claim id, unwritable path), always as one line
``errorflow: error: ...`` on stderr with no traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from errorflow import __version__

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """A mistake in how the command was called: reported in one line, exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse would print the whole usage block
        raise UsageError(f"{message} (see '{self.prog} --help')")


def _build_parser() -> argparse.ArgumentParser:
    from errorflow import derivations

    parser = _Parser(
        prog="errorflow",
        description=(
            "Derive, print, generate and machine-check the error-flow mathematics of recurrent "
            "networks (Hochreiter & Schmidhuber 1997)."
        ),
    )
    parser.add_argument("--version", action="version", version=f"errorflow {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    derive = sub.add_parser(
        "derive",
        help="print one derivation, step by step, as LaTeX or text",
        description="Print a derivation module's steps, proofs and errata.",
    )
    derive.add_argument("name", metavar="NAME", help=f"one of: {', '.join(derivations.NAMES)}")
    derive.add_argument("--format", choices=("latex", "text"), default="latex")
    derive.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout")

    codegen = sub.add_parser(
        "codegen",
        help="regenerate numeric/_generated/ from the derivations",
        description=(
            "Print the derivations' expressions as NumPy kernels into numeric/_generated/. "
            "With --check, write nothing: exit 1 with a unified diff if the committed files "
            "differ from a fresh generation, are missing or are stale."
        ),
    )
    codegen.add_argument("--check", action="store_true", help="compare only; exit 1 on drift")
    codegen.add_argument(
        "--target", metavar="DIR", help="the generated folder (default: the installed package's)"
    )

    verify = sub.add_parser(
        "verify",
        help="run the claims registry",
        description="Check every registered claim symbolically and numerically.",
    )
    verify.add_argument("--json", action="store_true", help="print one JSON list of records")
    verify.add_argument(
        "--claim", nargs="+", metavar="ID", default=None, help="only these claim ids (e.g. B3 B7)"
    )
    verify.add_argument("--profile", choices=("ci", "thorough"), default="ci")

    report = sub.add_parser(
        "report",
        help="derive, verify, draw and write the report (LaTeX, PDF, figures, claims table)",
        description=(
            "Build every derivation, run every claim, draw the figures and write "
            "derivations.tex (and derivations.pdf when pdflatex is on PATH), claims.json, "
            "claims.md and figures/ into DIR. Other files in DIR are left alone."
        ),
    )
    report.add_argument("--out", metavar="DIR", default="errorflow-report")
    report.add_argument("--profile", choices=("ci", "thorough"), default="ci")
    report.add_argument("--no-pdf", action="store_true", help="do not run pdflatex")

    from errorflow.experiments.tasks import NAMES as EXPERIMENTS

    experiment = sub.add_parser(
        "experiment",
        help="re-run one of the paper's long-lag experiments with the generated kernels",
        description=(
            "Train the 1997 LSTM online with the generated truncated-gradient kernels on the "
            "adding problem (exp. 4), the noise-free long-lag task (2a) or the very-long-lag "
            "task (2c), seed after seed, with a conventional RNN trained by full BPTT on the "
            "first seeds as the baseline. Writes a JSON file per seed, a summary against the "
            "paper's figures (also printed) and a learning-curve figure into DIR/<task>/."
        ),
    )
    experiment.add_argument("name", metavar="NAME", choices=EXPERIMENTS,
                            help=f"one of: {', '.join(EXPERIMENTS)}")  # fmt: skip
    experiment.add_argument("--seeds", type=int, default=3, metavar="N", help="runs (default 3)")
    experiment.add_argument("--first-seed", type=int, default=0, metavar="K")
    experiment.add_argument(
        "--max-sequences",
        type=int,
        metavar="M",
        help="training sequences per run before giving up (default: 5x the paper's mean)",
    )
    experiment.add_argument("--out", metavar="DIR", default="errorflow-experiments")
    experiment.add_argument("--T", type=int, help="adding: minimal sequence length (100)")
    experiment.add_argument("--p", type=int, help="2a, 2c: number of distractor symbols (100)")
    experiment.add_argument("--q", type=int, help="2c: minimal lag - 1 (default p)")
    experiment.add_argument(
        "--baseline-seeds", type=int, default=3, metavar="N",
        help="seeds that also train the RNN + BPTT baseline (default 3; 0: none)",
    )  # fmt: skip
    experiment.add_argument(
        "--baseline", choices=("bptt", "rtrl"), default="bptt",
        help="the baseline's gradient: full BPTT, or RTRL (the same gradient, O(n^4) per step; "
        "only for nets of at most 16 units)",
    )  # fmt: skip
    experiment.add_argument("--baseline-sequences", type=int, default=20_000, metavar="M")
    experiment.add_argument("--baseline-seconds", type=float, default=30.0, metavar="S")
    experiment.add_argument(
        "--jobs", type=int, default=1, metavar="J",
        help="seeds run at a time in worker processes (default 1)",
    )  # fmt: skip
    experiment.add_argument("--backend", choices=("auto", "numpy", "numba"), default="auto")
    experiment.add_argument("--quiet", action="store_true", help="no progress lines")
    return parser


def _write_text(path: str, text: str) -> None:
    try:
        Path(path).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None


def _cmd_derive(args: argparse.Namespace) -> int:
    from errorflow import derivations

    try:
        module = derivations.get(args.name)
    except KeyError as exc:
        raise UsageError(str(exc.args[0])) from None
    d = module.derivation()
    text = d.to_latex() if args.format == "latex" else d.to_text()
    if args.output:
        _write_text(args.output, text)
    else:
        sys.stdout.write(text)
    return EXIT_OK if all(p.holds for p in d.proofs) else EXIT_FAILED


def _cmd_codegen(args: argparse.Namespace) -> int:
    from errorflow import codegen

    target = Path(args.target) if args.target else codegen.default_target()
    files = codegen.generate()
    if args.check:
        with tempfile.TemporaryDirectory() as tmp:
            # Regenerate into a scratch folder first, as a user's `errorflow codegen` would.
            codegen.write(Path(tmp), files)
            fresh = {p.name: p.read_text(encoding="utf-8") for p in Path(tmp).glob("*.py")}
        diff = codegen.compare(target, fresh)
        if diff:
            sys.stdout.write(diff)
            print(
                f"errorflow: generated kernels in {target} are out of date; "
                "run `errorflow codegen` to update them",
                file=sys.stderr,
            )
            return EXIT_FAILED
        print(f"errorflow: {len(files)} generated files in {target} are up to date")
        return EXIT_OK
    if args.target and not target.parent.is_dir():
        raise UsageError(f"cannot write {target}: parent folder does not exist")
    try:
        changed = codegen.write(target, files)
    except OSError as exc:
        raise UsageError(f"cannot write {target}: {exc.strerror or exc}") from None
    print(
        f"errorflow: wrote {len(changed)} changed file(s) to {target}: {', '.join(changed) or '-'}"
    )
    return EXIT_OK


def _progress_line(result) -> str:
    from errorflow.report import format_error

    num = result.numeric
    cases = "-" if num is None else str(result.cases)
    err = format_error(result.max_error)
    line = (
        f"{result.claim.id:<4} {result.status.upper():<7} symbolic: {result.symbolic:<14} "
        f"cases: {cases:>5}  worst error: {err:>9}  ({result.seconds:.1f} s)"
    )
    if result.error:
        line += f"\n     error: {result.error}"
    if num is not None:
        for key, value in num.details.items():
            line += f"\n     {key}: {value}"
    return line


def _run_claims(ids: Sequence[str] | None, profile: str, stream) -> list:
    from errorflow import verify

    try:
        verify.select(ids)
    except verify.UnknownClaimError as exc:
        raise UsageError(str(exc.args[0])) from None

    def show(result) -> None:
        if stream is not None:
            print(_progress_line(result), file=stream, flush=True)

    return verify.run(ids, profile=profile, progress=show)


def _cmd_verify(args: argparse.Namespace) -> int:
    results = _run_claims(args.claim, args.profile, None if args.json else sys.stdout)
    if args.json:
        print(json.dumps([r.record() for r in results], indent=2))
    else:
        failed = [r.claim.id for r in results if r.status != "passed"]
        print(
            f"{len(results) - len(failed)} passed, {len(failed)} failed"
            + (f": {', '.join(failed)}" if failed else "")
        )
    return EXIT_OK if all(r.status == "passed" for r in results) else EXIT_FAILED


def _report_folder(out: Path) -> None:
    """A one-line usage error unless ``out`` can hold the report (create it if needed)."""
    parent = out.resolve().parent
    if out.exists() and not out.is_dir():
        raise UsageError(f"cannot write {out}: it exists and is not a folder")
    if not parent.is_dir():
        raise UsageError(f"cannot write {out}: parent folder {parent} does not exist")
    try:
        out.mkdir(exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out):
            pass
    except OSError as exc:
        raise UsageError(f"cannot write {out}: {exc.strerror or exc}") from None


def _cmd_report(args: argparse.Namespace) -> int:
    from errorflow.report import run_report

    out = Path(args.out)
    _report_folder(out)
    print(f"errorflow report -> {out}/ (profile {args.profile})", flush=True)

    def say(line: str) -> None:
        print(line, flush=True)

    def claim(result) -> None:
        say("  " + _progress_line(result).replace("\n", "\n  "))

    try:
        report = run_report(out, args.profile, pdf=not args.no_pdf, say=say, on_claim=claim)
    except OSError as exc:
        raise UsageError(f"cannot write {out}: {exc.strerror or exc}") from None
    failed = report.failed
    print(
        f"{len(report.results) - len(failed)} claims passed, {len(failed)} failed"
        + (f": {', '.join(failed)}" if failed else "")
        + f"; {report.seconds:.1f} s"
    )
    return EXIT_OK if not failed else EXIT_FAILED


def _cmd_experiment(args: argparse.Namespace) -> int:
    from errorflow.experiments import runner, task
    from errorflow.numeric import InvalidArgumentError
    from errorflow.numeric.backends import BackendUnavailableError, resolve

    for name in ("seeds", "max_sequences", "baseline_sequences", "jobs"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise UsageError(f"--{name.replace('_', '-')}: expected an integer >= 1, got {value}")
    if args.baseline_seeds < 0 or args.first_seed < 0:
        raise UsageError("--baseline-seeds and --first-seed: expected integers >= 0")
    if not args.baseline_seconds > 0:
        raise UsageError(f"--baseline-seconds: expected a number > 0, got {args.baseline_seconds}")
    options = {"T": args.T, "p": args.p, "q": args.q}
    try:
        chosen = task(args.name, **options)
        resolve(args.backend)
    except (InvalidArgumentError, BackendUnavailableError) as exc:
        text = str(exc).removeprefix(f"{exc.argument}: ")
        raise UsageError(f"--{exc.argument}: {text}") from None
    from errorflow.experiments.baselines import RTRL_MAX_UNITS, baseline_units

    units = baseline_units(chosen)
    if args.baseline == "rtrl" and args.baseline_seeds and units > RTRL_MAX_UNITS:
        raise UsageError(
            f"--baseline rtrl: the {chosen.name} baseline has {units} units, RTRL costs "
            f"2 n^4 = {2 * units**4:,} operations per step (at most {RTRL_MAX_UNITS} units); "
            "use --baseline bptt, the same gradient"
        )
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot write {out}: {exc.strerror or exc}") from None
    summary = runner.run(
        chosen,
        args.seeds,
        args.max_sequences,
        out,
        first_seed=args.first_seed,
        baseline_seeds=args.baseline_seeds,
        baseline_sequences=args.baseline_sequences,
        baseline_seconds=args.baseline_seconds,
        baseline_method=args.baseline,
        progress=not args.quiet,
        backend=args.backend,
        jobs=args.jobs,
    )
    sys.stdout.write(runner.summary_markdown(summary))
    print(f"errorflow: wrote {out / chosen.slug}/", file=sys.stderr)
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``errorflow`` console script and ``python -m errorflow``."""
    try:
        parser = _build_parser()
        args = parser.parse_args(argv)
        if args.command is None:
            raise UsageError(
                "missing COMMAND: derive, codegen, verify, report or experiment (see --help)"
            )
        handler = {
            "derive": _cmd_derive,
            "codegen": _cmd_codegen,
            "verify": _cmd_verify,
            "report": _cmd_report,
            "experiment": _cmd_experiment,
        }[args.command]
        return handler(args)
    except UsageError as exc:
        print(f"errorflow: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("errorflow: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
