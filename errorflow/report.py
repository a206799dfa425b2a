"""The report: verification results as tables, and the derivation document (LaTeX).

``errorflow report`` runs the claims registry and writes, into one folder,
``derivations.tex`` (every derivation module and the claims table in one amsmath article),
``claims.json`` (the ``verify --json`` records plus seconds per claim) and ``claims.md``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path

from errorflow import derivations
from errorflow.derivations.core import latex_document

__all__ = [
    "claims_json",
    "claims_latex",
    "claims_markdown",
    "derivations_document",
    "format_error",
    "tex_escape",
    "write_report",
]

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
    if hasattr(value, "item"):
        return _jsonable(value.item())
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
    """The claims table as a LaTeX section (longtable-free: one ``tabular`` per claim row)."""
    rows = []
    for r in results:
        c = r.claim
        rows.append(
            rf"\textbf{{{c.id}}} & \parbox[t]{{8.6cm}}{{\raggedright {tex_escape(c.statement)}}}"
            rf" & {r.symbolic} & {r.numeric_status} & {r.cases} & {format_error(r.max_error)} \\"
        )
    body = "\n".join(rows)
    return (
        "\\section{Verification: the claims table}\n"
        "Each claim's symbolic status (SymPy proof), numeric status, number of random cases "
        "and the worst error seen (relative, or for an inequality the worst relative "
        "violation).\n\n"
        "{\\small\n\\begin{tabular}{@{}llllrl@{}}\n"
        "id & statement & symbolic & numeric & cases & worst error \\\\\n\\hline\n"
        f"{body}\n\\end{{tabular}}}}\n"
    )


def derivations_document(results: Sequence | None = None) -> str:
    """Every derivation module in one complete LaTeX article, with the claims table."""
    bodies = [derivations.get(name).derivation().to_latex_body() for name in derivations.NAMES]
    if results is not None:
        bodies.append(claims_latex(results))
    return latex_document("errorflow: the error flow of recurrent networks, derived", bodies)


def write_report(out: Path, results: Sequence) -> list[Path]:
    """Write ``derivations.tex``, ``claims.json`` and ``claims.md`` into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    files = {
        "derivations.tex": derivations_document(results),
        "claims.json": json.dumps(claims_json(results), indent=2) + "\n",
        "claims.md": claims_markdown(results),
    }
    written = []
    for name, text in files.items():
        path = out / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
