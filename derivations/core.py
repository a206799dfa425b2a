"""Building blocks every derivation module uses: steps, proofs, sections, kernel specs.

A derivation is a list of :class:`Section` objects, one per SPEC claim (or group of claims).
A section holds the paper's statement as prose, the derivation as named intermediate
:class:`Step` objects, and the :class:`Proof` objects SymPy established. It renders itself as
LaTeX (an ``align*`` block of named steps, never one page-wide expression) or as plain text.

A derivation also hands codegen the expressions to print, as :class:`KernelSpec` objects.
Nothing here evaluates numbers with NumPy: this package is SymPy only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import sympy as sp

from .arrays import cost, shape
from .notation import latex, text

__all__ = [
    "Derivation",
    "KernelArg",
    "KernelSpec",
    "LoopKernelSpec",
    "LoopPhase",
    "Proof",
    "Section",
    "Step",
    "TimeInput",
    "is_zero",
    "prove_equal",
    "tex_plain",
]


def tex_plain(text: str) -> str:
    """``text`` safe for LaTeX outside its ``$...$`` math: ``_ & % #`` escaped (names such as
    ``expand_log`` in a proof's method print as written)."""
    parts = text.split("$")
    for i in range(0, len(parts), 2):
        parts[i] = re.sub(r"(?<!\\)([_&%#])", r"\\\1", parts[i])
    return "$".join(parts)


@dataclass(frozen=True)
class Step:
    """One named intermediate: ``lhs rel rhs``, with an optional remark.

    ``lhs`` and ``rhs`` are SymPy expressions or ready LaTeX strings; ``text`` is the
    plain-text rendering used when either side is a LaTeX string.
    """

    name: str
    lhs: object
    rhs: object
    rel: str = "="
    note: str = ""
    text: str = ""

    def to_latex(self) -> str:
        rel = {"=": "=", "<=": r"\le", "!=": r"\ne", "~tr": r"\approx_{tr}", "<": "<"}.get(
            self.rel, self.rel
        )
        tag = rf"\tag*{{\footnotesize {tex_plain(self.name)}}}"
        return rf"{latex(self.lhs)} &{rel} {latex(self.rhs)} {tag}"

    def to_text(self) -> str:
        if self.text:
            body = self.text
        else:
            body = f"{text(self.lhs)} {self.rel} {text(self.rhs)}"
            if "\\" in body:  # a symbol named in LaTeX (e.g. \tanh'(x)): plain text instead
                body = _strip_tex(body)
        line = f"  [{self.name}] {body}"
        return line + (f"\n      ({_strip_tex(self.note)})" if self.note else "")


@dataclass(frozen=True)
class Proof:
    """What SymPy established for a claim, and how.

    ``holds`` is the result of the check, ``method`` says how it was checked (for example
    ``simplify(lhs - rhs) == 0`` over stated cases) and ``detail`` what was found.
    """

    claim: str
    statement: str
    method: str
    holds: bool
    detail: str = ""


@dataclass
class Section:
    """One claim (or a group of claims) of the paper: statement, derivation steps, proofs."""

    claims: tuple[str, ...]
    title: str
    paper_ref: str
    prose: str
    steps: list[Step] = field(default_factory=list)
    proofs: list[Proof] = field(default_factory=list)

    def to_latex(self) -> str:
        ids = ", ".join(self.claims)
        out = [rf"\subsection*{{{ids}: {self.title}}}", rf"\emph{{Paper: {self.paper_ref}.}}", ""]
        out.append(self.prose.strip())
        if self.steps:
            out.append(r"\begin{align*}")
            out.append(" \\\\\n".join(step.to_latex() for step in self.steps))
            out.append(r"\end{align*}")
            notes = [s for s in self.steps if s.note]
            if notes:
                out.append(r"\begin{itemize}")
                out.extend(rf"\item[] \textbf{{{tex_plain(s.name)}}}: {s.note}" for s in notes)
                out.append(r"\end{itemize}")
        if self.proofs:
            out.append(r"\paragraph{Machine-checked.}")
            out.append(r"\begin{itemize}")
            for proof in self.proofs:
                mark = r"\textbf{proved}" if proof.holds else r"\textbf{FAILED}"
                detail = f" {proof.detail}" if proof.detail else ""
                out.append(
                    rf"\item {proof.claim}: {proof.statement} --- {mark} by "
                    rf"{tex_plain(proof.method)}.{detail}"
                )
            out.append(r"\end{itemize}")
        return "\n".join(out) + "\n"

    def to_text(self) -> str:
        ids = ", ".join(self.claims)
        head = _strip_tex(f"{ids}: {self.title}  [paper: {self.paper_ref}]")
        out = [head, _strip_tex(self.prose.strip())]
        out.extend(step.to_text() for step in self.steps)
        for proof in self.proofs:
            status = "proved" if proof.holds else "FAILED"
            line = f"  {status}: {proof.statement} ({proof.method}) {proof.detail}".rstrip()
            out.append(_strip_tex(line))
        return "\n".join(out) + "\n"


_TEX_COMMANDS = {
    "tfrac12": "1/2",
    "partial": "d",
    "dots": "...",
    "ldots": "...",
    "cdots": "...",
    "le": "<=",
    "ge": ">=",
    "ne": "!=",
    "infty": "inf",
    "pm": "+-",
    "to": "->",
    "iff": "<=>",
    "in": "in",
    "max": "max",
    "sup": "sup",
    "left": "",
    "right": "",
    "Bigl": "",
    "Bigr": "",
    "quad": " ",
    "alpha": "alpha",
    "vartheta": "vartheta",
    "tau": "tau",
    "rho": "rho",
    "prod": "prod",
    "sum": "sum",
    "log": "log",
    "tanh": "tanh",
    "coth": "coth",
    "cosh": "cosh",
}


def _strip_tex(prose: str) -> str:
    """A readable plain-text form of short prose containing inline TeX."""
    prose = prose.replace("\\tfrac12", "1/2").replace("\\_", "_")
    prose = re.sub(r"\\t?frac\{([^{}]*)\}\{([^{}]*)\}", r"(\1)/(\2)", prose)
    prose = re.sub(r"\\(?:emph|texttt|mathrm|text|operatorname)\{([^{}]*)\}", r"\1", prose)
    prose = re.sub(r"\^\{([^{}]*)\}", r"^(\1)", prose)
    prose = re.sub(r"_\{([^{}]*)\}", r"_\1", prose)
    prose = prose.replace(r"\{", "\0").replace(r"\}", "\1")  # literal braces survive

    def word(m: re.Match) -> str:
        name = _TEX_COMMANDS.get(m.group(1), m.group(1))
        glue = " " if name and m.start() > 0 and prose[m.start() - 1].isalnum() else ""
        return glue + name

    prose = re.sub(r"\\([A-Za-z]+)", word, prose)
    for a, b in ((r"\,", " "), (r"\;", " "), (r"\|", "||"), (r"\&", "&"), ("$", ""), ("~", " ")):
        prose = prose.replace(a, b)
    prose = prose.replace("{", "").replace("}", "")
    return prose.replace("\0", "{").replace("\1", "}")


LATEX_PREAMBLE = r"""\documentclass[10pt]{article}
\usepackage[margin=2.2cm]{geometry}
\usepackage{amsmath,amssymb}
\usepackage{lmodern}
\usepackage[T1]{fontenc}
\allowdisplaybreaks
\setlength{\parindent}{0pt}
\setlength{\parskip}{4pt}
"""


@dataclass
class Derivation:
    """A derivation module's whole content: sections in the paper's order."""

    name: str
    title: str
    source: str
    notation: str
    sections: list[Section]

    @property
    def proofs(self) -> list[Proof]:
        return [p for s in self.sections for p in s.proofs]

    def claims(self) -> list[str]:
        seen: dict[str, None] = {}
        for section in self.sections:
            seen.update(dict.fromkeys(section.claims))
        return list(seen)

    def to_latex_body(self) -> str:
        """The derivation as a LaTeX ``\\section`` (to be placed in a document)."""
        parts = [
            rf"\section{{{self.title}}}",
            rf"\emph{{Source: {self.source}.}}",
            "",
            self.notation.strip(),
            "",
        ]
        parts.extend(section.to_latex() for section in self.sections)
        return "\n".join(parts)

    def to_latex(self) -> str:
        """A complete, compilable LaTeX article containing this derivation."""
        return latex_document(f"errorflow: {self.title}", [self.to_latex_body()])

    def to_text(self) -> str:
        head = f"{self.title}\nSource: {_strip_tex(self.source)}\n{'=' * len(self.title)}\n"
        return head + "\n".join(section.to_text() for section in self.sections)


def latex_document(title: str, bodies: Iterable[str], packages: Sequence[str] = ()) -> str:
    """Wrap section bodies in one complete amsmath article (``packages``: extra ones)."""
    extra = "".join(rf"\usepackage{{{p}}}" + "\n" for p in packages)
    return (
        LATEX_PREAMBLE
        + extra
        + rf"\title{{{title}}}"
        + "\n\\date{}\n\\begin{document}\n\\maketitle\n"
        + "\n".join(bodies)
        + "\n\\end{document}\n"
    )


def is_zero(expr: sp.Expr) -> bool:
    """True when SymPy can show ``expr`` is identically zero (expand, then simplify)."""
    expanded = sp.expand(expr)
    if expanded == 0:
        return True
    return sp.simplify(expanded) == 0


def prove_equal(claim: str, statement: str, lhs: sp.Expr, rhs: sp.Expr, detail: str = "") -> Proof:
    """Prove ``lhs == rhs`` identically as ``simplify(lhs - rhs) == 0``."""
    return Proof(claim, statement, "simplify(lhs - rhs) = 0", is_zero(lhs - rhs), detail)


@dataclass(frozen=True)
class KernelArg:
    """An argument of a generated kernel: its name and what it holds (shape, meaning)."""

    name: str
    doc: str


@dataclass(frozen=True)
class KernelSpec:
    """A numeric kernel for codegen: inputs, named output expressions, and the math it computes.

    ``kind`` is ``"elementwise"`` (symbols stand for NumPy arrays of any shape, evaluated
    elementwise) or ``"matrix"`` (``MatrixSymbol`` arguments; vectors are 1-D arrays).
    """

    name: str
    summary: str
    math: str
    claims: tuple[str, ...]
    args: tuple[KernelArg, ...]
    symbols: tuple[sp.Basic, ...]
    outputs: tuple[sp.Basic, ...]
    kind: str = "elementwise"
    #: ``"step"`` kernels only: the ordered assignments ``(target, expression)``, the shape of
    #: every argument (tuples of size symbols), the size symbols the body needs as
    #: ``(symbol, Python source reading it off an argument)``, and the size symbols of the
    #: generated ``<name>_flops`` function, in its argument order.
    statements: tuple[tuple[sp.Symbol, sp.Basic], ...] = ()
    shapes: dict[sp.Basic, tuple[sp.Expr, ...]] = field(default_factory=dict)
    dims: tuple[tuple[sp.Symbol, str], ...] = ()
    sizes: tuple[sp.Symbol, ...] = ()

    def __post_init__(self) -> None:
        if len(self.args) != len(self.symbols):
            raise ValueError(
                f"kernel {self.name}: {len(self.args)} args, {len(self.symbols)} symbols"
            )
        if self.kind not in ("elementwise", "matrix", "step"):
            raise ValueError(f"kernel {self.name}: unknown kind {self.kind!r}")
        if self.kind == "step" and not self.statements:
            raise ValueError(f"step kernel {self.name}: no statements")

    def flops(self) -> sp.Expr:
        """Operations of one call of a ``"step"`` kernel, as a polynomial in :attr:`sizes`."""
        shapes = dict(self.shapes)
        total = sp.Integer(0)
        for target, expr in self.statements:
            total += cost(expr, shapes)
            shapes.setdefault(target, shape(expr, shapes))
        return sp.expand(total)


def symbols_in(exprs: Sequence[sp.Basic]) -> set[sp.Basic]:
    """All free symbols of a sequence of expressions."""
    out: set[sp.Basic] = set()
    for e in exprs:
        out |= e.free_symbols
    return out


@dataclass(frozen=True)
class TimeInput:
    """A step-kernel argument read at step ``t`` from a ``(T, ...)`` array of the sequence.

    ``mask``: the name of a bool ``(T, ...)`` (or ``(1, ...)``, the same for every step) array;
    the value is 0 where it is False, so placeholders there (NaN targets) are never read.
    ``indicator=True``: the value is the mask itself as 1.0 / 0.0 (``array`` is then the mask).
    """

    array: str
    mask: str | None = None
    indicator: bool = False


@dataclass(frozen=True)
class LoopPhase:
    """One pass over the time steps of a sequence kernel (see :class:`LoopKernelSpec`).

    ``statements`` run once per step (``reverse``: from t = T down to 1). ``inputs`` reads
    arguments per step; ``carry`` pairs ``(new, prev)``: ``prev`` is 0 at the first step and
    ``new`` of one step is ``prev`` of the next; ``save`` stores values for a later phase
    (``load`` reads them back at the same t); ``accumulate`` pairs ``(target, output)``:
    ``output`` is the sum of ``target`` over all steps; ``sums`` pairs ``(expr, output)``:
    the scalar sum of every entry of ``expr`` over all steps; ``detach``: arrays set to 0 at
    every step when the kernel is called with ``detach=True``; ``learn`` triples
    ``(target, weight, keep)``: at the end of every step, ``weight -= lr * keep * target``
    in place (real-time learning: the next step runs on the new weights; ``keep`` is 1.0 where
    a weight exists, 0.0 where it is masked; ``lr`` is a kernel argument).
    """

    statements: tuple[tuple[sp.Symbol, sp.Basic], ...]
    reverse: bool = False
    inputs: tuple[tuple[sp.Symbol, TimeInput], ...] = ()
    carry: tuple[tuple[sp.Symbol, sp.Symbol], ...] = ()
    save: tuple[sp.Symbol, ...] = ()
    load: tuple[sp.Symbol, ...] = ()
    accumulate: tuple[tuple[sp.Symbol, str], ...] = ()
    sums: tuple[tuple[sp.Basic, str], ...] = ()
    detach: tuple[sp.Symbol, ...] = ()
    learn: tuple[tuple[sp.Symbol, str, str], ...] = ()


@dataclass(frozen=True)
class LoopKernelSpec:
    """A whole-sequence kernel printed as explicit loops (numba-compilable Python).

    The phases' statements are the same step statements the NumPy step kernels are printed
    from; codegen writes every array operation as loops over its entries, so one function runs
    all T steps with no per-step allocation. ``args`` documents the arguments in order (the
    ``(T, ...)`` arrays, the weights, one integer code per squashing function, the flags);
    ``functions`` maps each squashing function or slope to ``(helper, code argument)``;
    ``outputs`` names what the function returns, in order.
    """

    name: str
    summary: str
    math: str
    claims: tuple[str, ...]
    args: tuple[KernelArg, ...]
    phases: tuple[LoopPhase, ...]
    shapes: dict[sp.Basic, tuple[sp.Expr, ...]]
    dims: tuple[tuple[sp.Symbol, str], ...]
    functions: dict[sp.Basic, tuple[str, str]]
    outputs: tuple[str, ...]
    sizes: tuple[sp.Symbol, ...] = ()
