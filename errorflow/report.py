"""The report: every derivation, verified, as one document a reader can check.

``errorflow report`` runs in stages, printing one line per stage, derivation, claim and figure:

1. build every derivation (SymPy proofs included);
2. run the claims registry (symbolic and numeric checks);
3. draw the figures (``figures/*.png`` and ``.svg``, when :mod:`errorflow.figures` is present);
4. write ``derivations.tex`` (one amsmath article: notation, each claim's derivation steps and
   proofs, the measured figures, the claims table, the figures, the architecture comparison
   table of :mod:`errorflow.comparison` with measured rates, and the reproduction of the
   paper's long-lag experiments from :mod:`errorflow.experiments.reproduction`),
   ``claims.json`` (the ``verify --json`` records plus seconds and measured details per
   claim), ``claims.md``, ``comparison.md`` and ``experiments.md``;
5. compile ``derivations.pdf`` with ``pdflatex`` when it is on PATH (otherwise say so in one
   line and how to get it). The PDF is reproducible: fixed dates and no trailer ID.

Only the report's own files are written; anything else in the folder is left alone.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

from errorflow import derivations
from errorflow.derivations.core import latex_document

__all__ = [
    "PDF_HINT",
    "PdfResult",
    "ReportResult",
    "claims_json",
    "claims_latex",
    "claims_markdown",
    "compile_pdf",
    "derivations_document",
    "format_error",
    "measured_latex",
    "run_report",
    "tex_escape",
    "write_report",
]

PDF_HINT = (
    "pdflatex not found: derivations.pdf not written (install TeX Live, e.g. "
    "`apt-get install texlive-latex-base texlive-latex-recommended`, then re-run)"
)

_TEX_SPECIALS = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}


def tex_escape(text: str) -> str:
    """Plain text made safe for LaTeX (every special character escaped)."""
    return "".join(_TEX_SPECIALS.get(ch, ch) for ch in text)


def format_error(value: float | None) -> str:
    """A worst-error figure for a table: ``-`` when there is none."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:.2e}"


def claims_json(results: Sequence) -> list[dict[str, object]]:
    """``verify --json`` records with ``seconds`` and measured ``details`` added."""
    out = []
    for r in results:
        rec = r.record()
        rec["seconds"] = round(r.seconds, 3)
        rec["details"] = {} if r.numeric is None else _jsonable(r.numeric.details)
        if r.error:
            rec["error"] = r.error
        out.append(rec)
    return out


def _jsonable(value: object) -> object:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if hasattr(value, "item") and getattr(value, "ndim", 0) == 0:
        return _jsonable(value.item())
    if hasattr(value, "tolist"):
        return _jsonable(value.tolist())
    return value


def claims_markdown(results: Sequence) -> str:
    """The claims table as Markdown: id, section, statement, symbolic, numeric, cases, error."""
    lines = [
        "| id | section | statement | symbolic | numeric | cases | worst error |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        c = r.claim
        stmt = c.statement.replace("|", "\\|")
        lines.append(
            f"| {c.id} | {c.section} | {stmt} | {r.symbolic} | {r.numeric_status} | "
            f"{r.cases} | {format_error(r.max_error)} |"
        )
    return "\n".join(lines) + "\n"


def claims_latex(results: Sequence) -> str:
    """The claims table as a LaTeX section (a ``longtable``: it breaks across pages)."""
    rows = []
    for r in results:
        c = r.claim
        rows.append(
            rf"\textbf{{{c.id}}} & {tex_escape(c.statement)}"
            rf" & {r.symbolic} & {r.numeric_status} & {r.cases} & {format_error(r.max_error)} \\"
        )
    body = "\n".join(rows)
    head = r"id & statement & symbolic & numeric & cases & worst error \\ \hline"
    return (
        "\\section{Verification: the claims table}\n"
        "Each claim's symbolic status (SymPy proof), numeric status, number of random cases "
        "and the worst error seen (relative, or for an inequality the worst relative "
        "violation).\n\n"
        "{\\small\n\\begin{longtable}{@{}l>{\\raggedright\\arraybackslash}p{7.4cm}llrl@{}}\n"
        f"{head}\n\\endhead\n{body}\n\\end{{longtable}}}}\n"
    )


def _detail_text(value: object, limit: int = 200) -> str:
    """A measured value for the document: numbers to 4 significant digits, dicts and lists
    with spaces after separators (so lines can break)."""

    def fmt(v: object) -> str:
        if isinstance(v, float):
            return f"{v:.4g}"
        if isinstance(v, dict):
            return "{" + ", ".join(f"{k}: {fmt(x)}" for k, x in v.items()) + "}"
        if isinstance(v, list):
            return "[" + ", ".join(fmt(x) for x in v) + "]"
        return str(v)

    text = fmt(_jsonable(value))
    return text if len(text) <= limit else text[: limit - 3] + "..."


def measured_latex(results: Sequence) -> str:
    """The figures each numeric check measured (rates, looseness, distances, memory)."""
    items = []
    for r in results:
        details = {} if r.numeric is None else r.numeric.details
        if not details:
            continue
        lines = "\n".join(
            rf"\item[] \texttt{{{tex_escape(str(k))}}}: {tex_escape(_detail_text(v))}"
            for k, v in details.items()
        )
        items.append(
            rf"\paragraph{{{r.claim.id}}} {tex_escape(r.claim.statement)}"
            + "\n\\begin{itemize}\\small\\raggedright\n"
            + lines
            + "\n\\end{itemize}"
        )
    return (
        "\\section{Measured figures}\n"
        "What the numeric checks measured beyond pass/fail, as recorded in "
        "\\texttt{claims.json} (profile and seed as in the claims table).\n\n"
        + "\n\n".join(items)
        + "\n"
    )


def figures_latex(figures: Sequence[tuple[str, str, str]]) -> str:
    """A section placing each figure (``(name, png path relative to the .tex, caption)``)."""
    if not figures:
        return ""
    refs = ", ".join(rf"Figure~\ref{{fig:{name}}}" for name, _, _ in figures)
    blocks = [
        "\\begin{figure}[htbp]\n\\centering\n"
        rf"\includegraphics[width=0.92\linewidth]{{{path}}}" + "\n"
        rf"\caption{{{caption}}}\label{{fig:{name}}}" + "\n\\end{figure}"
        for name, path, caption in figures
    ]
    return (
        "\\section{Figures}\n"
        f"The error flow made visible: {refs}. Each is computed in log space where the "
        "numbers leave float64, from the same generated kernels the claims verify.\n\n"
        + "\n\n".join(blocks)
        + "\n\\clearpage\n"
    )


def derivations_document(
    results: Sequence | None = None,
    figures: Sequence[tuple[str, str, str]] = (),
    bodies: Sequence[str] | None = None,
    sections: Sequence[str] = (),
) -> str:
    """Every derivation module in one complete LaTeX article, with the measured figures,
    the claims table, the figures (when given) and further ``sections`` (LaTeX: the
    architecture comparison, the experiments)."""
    if bodies is None:
        bodies = [derivations.get(n).derivation().to_latex_body() for n in derivations.NAMES]
    parts = list(bodies)
    if results is not None:
        parts.append(measured_latex(results))
        parts.append(claims_latex(results))
    if figures:
        parts.append(figures_latex(figures))
    parts.extend(sections)
    reproducible = "\\ifdefined\\pdftrailerid\\pdftrailerid{}\\fi"
    return latex_document(
        "errorflow: the error flow of recurrent networks, derived",
        [reproducible, *parts],
        packages=("graphicx", "longtable", "array"),
    )


@dataclass
class PdfResult:
    """Outcome of compiling the document: the PDF (or why there is none) and its health."""

    path: Path | None
    pages: int = 0
    overfull: int = 0
    seconds: float = 0.0
    message: str = ""


def compile_pdf(tex: Path, runs: int = 2) -> PdfResult:
    """Compile ``tex`` with ``pdflatex -halt-on-error`` next to it (auxiliary files in a
    scratch folder), reproducibly (``SOURCE_DATE_EPOCH``); count pages and overfull boxes."""
    exe = shutil.which("pdflatex")
    if exe is None:
        return PdfResult(None, message=PDF_HINT)
    start = time.perf_counter()
    env = {**os.environ, "SOURCE_DATE_EPOCH": "0", "FORCE_SOURCE_DATE": "1"}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(runs):  # the second run resolves the figure references
            proc = subprocess.run(
                [
                    exe,
                    "-halt-on-error",
                    "-interaction=nonstopmode",
                    f"-output-directory={tmp}",
                    tex.name,
                ],
                cwd=tex.parent,
                env=env,
                capture_output=True,
                text=True,
                errors="replace",
                check=False,
            )
            if proc.returncode != 0:
                tail = "\n".join(proc.stdout.splitlines()[-15:])
                return PdfResult(None, message=f"pdflatex failed on {tex.name}:\n{tail}")
        log = Path(tmp, tex.with_suffix(".log").name).read_text(errors="replace")
        pdf = tex.with_suffix(".pdf")
        shutil.copyfile(Path(tmp, pdf.name), pdf)
    pages = re.search(r"Output written on .*?\((\d+) pages?", log)
    return PdfResult(
        pdf,
        pages=int(pages.group(1)) if pages else 0,
        overfull=len(re.findall(r"^Overfull \\[hv]box", log, flags=re.MULTILINE)),
        seconds=time.perf_counter() - start,
    )


def write_report(out: Path, results: Sequence) -> list[Path]:
    """Write ``derivations.tex``, ``claims.json`` and ``claims.md`` into ``out`` (no figures,
    no PDF: :func:`run_report` is the whole job)."""
    return _write_files(out, derivations_document(results), results)


def _write_files(out: Path, tex: str, results: Sequence) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    files = {
        "derivations.tex": tex,
        "claims.json": json.dumps(claims_json(results), indent=2) + "\n",
        "claims.md": claims_markdown(results),
    }
    written = []
    for name, text in files.items():
        path = out / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


@dataclass
class ReportResult:
    """What :func:`run_report` did: claim results, files written, the PDF, the wall time."""

    results: list
    written: list[Path] = field(default_factory=list)
    pdf: PdfResult | None = None
    seconds: float = 0.0

    @property
    def failed(self) -> list[str]:
        return [r.claim.id for r in self.results if r.status != "passed"]


def _figures(out: Path, profile: str, say: Callable[[str], None]) -> list[tuple[str, str, str]]:
    try:
        from errorflow import figures
    except ImportError as exc:  # matplotlib missing: the rest of the report still works
        say(f"  figures skipped: {exc}")
        return []
    start = time.perf_counter()
    paths = figures.write_figures(out / "figures", profile=profile)
    placed = []
    for name, info in figures.FIGURES.items():
        png = out / "figures" / f"{name}.png"
        if png in paths or png.exists():
            placed.append((name, f"figures/{name}.png", info.caption))
            say(f"  figure {name}: figures/{name}.png, .svg")
    say(f"  {len(placed)} figures in {time.perf_counter() - start:.1f} s")
    return placed


def _numeric_checks(profile: str) -> dict[str, tuple]:
    """Every registered claim's numeric check (run in a worker process by the report)."""
    from errorflow.verify import registry

    budget = registry.PROFILES[profile]
    return {c.id: registry.check_numeric(c, budget) for c in registry.select()}


def run_report(
    out: Path,
    profile: str = "ci",
    pdf: bool = True,
    say: Callable[[str], None] = print,
    on_claim: Callable[[object], None] | None = None,
    workers: int | None = None,
) -> ReportResult:
    """The whole report into ``out`` (see the module docstring); ``say`` prints progress.

    With two or more cores (``workers``: default ``os.cpu_count()``), the claims' numeric
    checks run in a worker process while this one builds the derivations (the SymPy
    proofs); the claims' symbolic status is then read off the built derivations.
    """
    from errorflow import verify
    from errorflow.verify import registry

    start = time.perf_counter()
    if profile not in registry.PROFILES:
        raise ValueError(f"profile: unknown {profile!r}; known: {', '.join(registry.PROFILES)}")
    workers = (os.cpu_count() or 1) if workers is None else workers
    pool = ProcessPoolExecutor(1, mp_context=get_context("fork")) if workers > 1 else None
    try:
        pending = pool.submit(_numeric_checks, profile) if pool else None
        say("[1/5] derivations" + (" (claims' numeric checks running beside)" if pool else ""))
        bodies = []
        for name in derivations.NAMES:
            t0 = time.perf_counter()
            d = derivations.get(name).derivation()
            bodies.append(d.to_latex_body())
            ok = sum(p.holds for p in d.proofs)
            say(f"  {name}: {ok}/{len(d.proofs)} proofs hold ({time.perf_counter() - t0:.1f} s)")
        say(f"[2/5] claims (profile {profile})")
        if pending is not None:
            numeric = pending.result()
            results = []
            for claim in verify.select():
                results.append(registry.combine(claim, numeric[claim.id]))
                if on_claim is not None:
                    on_claim(results[-1])
        else:
            results = verify.run(None, profile=profile, progress=on_claim)
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    say("[3/5] figures")
    placed = _figures(out, profile, say)
    say("[4/5] files")
    from errorflow import comparison
    from errorflow.experiments import reproduction

    rates = comparison.measured_rates()
    sections = [comparison.latex(rates), reproduction.latex(out / "figures")]
    tex = derivations_document(results, placed, bodies, sections)
    written = _write_files(out, tex, results)
    (out / "comparison.md").write_text(comparison.markdown(rates), encoding="utf-8")
    (out / "experiments.md").write_text(reproduction.markdown(), encoding="utf-8")
    written += [out / "comparison.md", out / "experiments.md"]
    for path in written:
        say(f"  wrote {path}")
    report = ReportResult(results, written)
    say("[5/5] pdf")
    if pdf:
        report.pdf = compile_pdf(out / "derivations.tex")
        if report.pdf.path is None:
            say(f"  {report.pdf.message}")
        else:
            report.written.append(report.pdf.path)
            say(
                f"  wrote {report.pdf.path} ({report.pdf.pages} pages, "
                f"{report.pdf.overfull} overfull boxes, {report.pdf.seconds:.1f} s)"
            )
    else:
        say("  skipped (--no-pdf)")
    report.seconds = time.perf_counter() - start
    return report
