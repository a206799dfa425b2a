"""The LaTeX checks every emitted equation must pass (no TeX needed): balanced groups and
delimiters, only commands the document's packages define, and no leftovers of Python or SymPy
printing. Shared by tests/test_latex_equations.py (every derivation) and the module tests."""

import re

#: Control sequences the preamble's packages (amsmath, amssymb) define that equations may use.
KNOWN = set(
    """Big Bigl Bigr Delta Rightarrow alpha approx beta bigl bigr cdot cdots cosh coth delta dots
    footnotesize forall frac ge in le left log mathrm max ne operatorname otimes partial phi prod
    quad rho right sum tag tanh tau text textstyle tfrac to top vartheta exp ln min sigma gamma
    infty leq geq lim ldots mid lvert rvert vert lVert rVert sqrt sinh prime times hat bar tilde
    mathbf mathcal boldsymbol limits sup inf neq sim equiv pm mp lambda mu nu epsilon varepsilon
    omega Omega theta pi eta kappa xi zeta psi chi Gamma Lambda Sigma Phi Psi Theta big""".split()
)

#: Text that means a printer fell back to Python/SymPy names instead of mathematics.
LEFTOVERS = re.compile(r"MatVec|Contract\(|Outer\(|CellSum|Cat\(|Part\(|None|\*\*|_x\d|Subs\(")


def check_equation(tex: str) -> list[str]:
    """Problems found in one ``align*`` row (empty when it looks like valid LaTeX)."""
    problems = []
    body = re.sub(r"\\[{}]", "", tex)  # escaped braces are not groups
    depth = 0
    for ch in body:
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if depth < 0:
            problems.append("'}' closes a group that was never opened")
            break
    if depth > 0:
        problems.append(f"{depth} unclosed '{{'")
    lefts, rights = len(re.findall(r"\\left\b", tex)), len(re.findall(r"\\right\b", tex))
    if lefts != rights:
        problems.append(f"\\left x{lefts} but \\right x{rights}")
    # a piecewise formula's cases environment has its own '&' columns
    outside = re.sub(r"\\begin\{cases\}.*?\\end\{cases\}", "", tex)
    if outside.count("&") != 1:
        problems.append(f"{outside.count('&')} alignment points (expected 1)")
    environments = set(re.findall(r"\\(?:begin|end)\{(\w+)\}", tex))
    if environments - {"cases"}:
        problems.append(f"unexpected environments {sorted(environments - {'cases'})}")
    unknown = sorted(set(re.findall(r"\\([A-Za-z]+)", tex)) - KNOWN - {"begin", "end"})
    if unknown:
        problems.append(f"unknown commands {unknown}")
    if LEFTOVERS.search(tex):
        problems.append(f"printer leftover {LEFTOVERS.search(tex).group(0)!r}")
    if re.search(r"([_^])\s*(?:\{[^{}]*\}|\\[A-Za-z]+|[^\s{\\])\s*\1", tex):
        problems.append("double sub/superscript")
    return problems
