"""Build-time pages of the documentation site (an MkDocs hook; see ``mkdocs.yml``).

Two pages are not written by hand but generated on every ``mkdocs build``:

* ``claims.md``: the claims table, one row per claim registered in
  :data:`errorflow.verify.REGISTRY` (id, paper section, statement, how it is checked). It is
  read from the registry, not computed: no check runs at build time. The measured results
  (status, cases, worst error) are the report's ``claims.md`` (``errorflow report``).
* ``comparison.md``: the architectures compared (:mod:`errorflow.comparison`: derived factors,
  costs, and rates measured from each module's representative setting at build time);
* ``experiments.md``: the committed reproduction of the paper's long-lag experiments
  (:mod:`errorflow.experiments.reproduction`) with its learning curves;
* ``figures.md``: the report's figures, drawn by :func:`errorflow.figures.write_figures` into a
  scratch folder and copied into the site. When that module cannot be imported (not written
  yet, or matplotlib missing) the page says so instead; when it is there but fails, the build
  fails (a warning, and the site is built with ``--strict``).

The API reference is rendered by mkdocstrings from the sources (griffe, static analysis). The
package maps top-level folders into one namespace (``numeric/`` is ``errorflow.numeric``),
which griffe's finder does not follow, so :func:`on_config` lays out the package as it is
imported (a scratch folder of symbolic links) and puts it first on mkdocstrings' search path.

The docstrings are written for reading in the source (Sphinx roles such as
``:func:`forward```, ``#:`` comments above module constants); :class:`SphinxRoles`, a griffe
extension named in ``mkdocs.yml``, shows the roles as code and the ``#:`` comments as the
constants' docstrings.

Set ``ERRORFLOW_DOCS_FIGURES=0`` to skip drawing the figures (the page then says so).

:func:`claims_markdown` and :func:`figures_markdown` return the page text and need neither
MkDocs nor matplotlib; the ``on_*`` functions are MkDocs hook events.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "GUIDE_PAGES",
    "Figure",
    "SphinxRoles",
    "claims_markdown",
    "draw_figures",
    "figures_markdown",
    "guide_page",
    "import_tree",
    "on_config",
    "on_files",
    "on_post_build",
    "on_shutdown",
]

log = logging.getLogger("mkdocs.hooks.errorflow")

#: The guide page of each SPEC section letter, and of each claim with a page of its own (claim
#: ids link there: :func:`guide_page`).
GUIDE_PAGES: dict[str, str] = {
    "A": "squashing.md",
    "B": "bptt.md",
    "C": "cec.md",
    "L": "lstm.md",
    "S": "architectures.md",
    "S1": "forget_gate.md",
    "S2": "peephole.md",
    "S3": "gru.md",
    "S4": "spectral.md",
    "S5": "leaky.md",
    "S6": "rtrl.md",
    "S7": "narx.md",
    "S8": "kalman.md",
    "S9": "second_order.md",
    "S10": "guessing.md",
}


def guide_page(claim_id: str) -> str | None:
    """The guide page a claim id links to: its own page, else its section letter's."""
    return GUIDE_PAGES.get(claim_id) or GUIDE_PAGES.get(claim_id.rstrip("0123456789"))


_MD_SPECIALS = re.compile(r"([\\`*_\[\]|])")


def _md_text(text: str) -> str:
    """Plain text shown literally in a Markdown table cell."""
    return _MD_SPECIALS.sub(r"\\\1", text).replace("<", "&lt;").replace("$", "&#36;")


def claims_markdown(claims: Iterable | None = None) -> str:
    """The claims table page: every registered claim's id, section, statement and checks.

    ``claims`` defaults to every registered claim in id order (``errorflow.verify.select()``).
    """
    if claims is None:
        from errorflow import verify

        claims = verify.select()
    claims = list(claims)
    rows = []
    for c in claims:
        page = guide_page(c.id)
        cid = f"[{c.id}]({page})" if page else c.id
        rows.append(
            f"| {cid} | {_md_text(c.section)} | {_md_text(c.statement)} | {_md_text(c.how)} |"
        )
    return "\n".join(
        [
            "# Claims table",
            "",
            f"The {len(claims)} claims of the specification registered in "
            "`errorflow.verify.REGISTRY`, in id order. Each id links to its guide page. This "
            "table is generated from the registry when the site is built; it states what is "
            "checked, not the results. The results (symbolic and numeric status, cases, worst "
            "error, seconds) are in the report: `errorflow report` writes them to "
            "`errorflow-report/claims.md` and `claims.json`, and `errorflow verify` prints them "
            "(see [How the claims are checked](verification.md)).",
            "",
            "| id | section | statement | how it is checked |",
            "|---|---|---|---|",
            *rows,
            "",
        ]
    )


@dataclass(frozen=True)
class Figure:
    """One drawn figure: its name, title, caption (LaTeX), SPEC claims and files."""

    name: str
    title: str
    caption: str
    claims: tuple[str, ...]
    png: Path
    svg: Path | None


_TEX_TEXT = (
    (re.compile(r"\\(?:texttt)\{([^{}]*)\}"), r"`\1`"),
    (re.compile(r"\\(?:emph|textit)\{([^{}]*)\}"), r"*\1*"),
    (re.compile(r"\\(?:textbf)\{([^{}]*)\}"), r"**\1**"),
    (re.compile(r"(?<!\\)~"), " "),
    (re.compile(r"---"), "\u2014"),
    (re.compile(r"--"), "\u2013"),
    (re.compile(r"``|''"), '"'),
    (re.compile(r"\\([%&#_])"), r"\1"),
)


def _caption_markdown(caption: str) -> str:
    """A LaTeX figure caption as Markdown (math in ``$...$`` is kept for KaTeX)."""
    parts = re.split(r"(\$[^$]*\$)", caption)
    out = []
    for part in parts:
        if not part.startswith("$"):
            for pattern, repl in _TEX_TEXT:
                part = pattern.sub(repl, part)
        out.append(part)
    return " ".join("".join(out).split())


def figures_markdown(figures: Sequence[Figure], missing: str | None = None) -> str:
    """The figures page: each figure (PNG, with a link to its SVG) under its caption."""
    lines = [
        "# Figures",
        "",
        "The figures of the report (`errorflow report` writes them to "
        "`errorflow-report/figures/`, as PNG and SVG), drawn from the same generated kernels "
        "the claims verify, under the `ci` profile. They are drawn again each time the site is "
        "built.",
        "",
    ]
    if missing:
        lines += ['!!! warning "Figures not drawn in this build"', "", f"    {missing}", ""]
    for fig in figures:
        claims = ", ".join(f"[{c}]({guide_page(c)})" if guide_page(c) else c for c in fig.claims)
        links = f"[PNG](figures/{fig.png.name})"
        if fig.svg is not None:
            links += f", [SVG](figures/{fig.svg.name})"
        lines += [
            f"## {fig.title}",
            "",
            f"![{_md_text(fig.title)}](figures/{fig.png.name})",
            "",
            _caption_markdown(fig.caption),
            "",
            f"Claims: {claims}. Files: {links}. Drawn by `errorflow.figures.{fig.name}`"
            if claims
            else f"Files: {links}. Drawn by `errorflow.figures.{fig.name}`",
            "",
        ]
    return "\n".join(lines)


def draw_figures(out: Path, profile: str = "ci") -> tuple[list[Figure], str | None]:
    """Draw the report's figures into ``out``; ``([], reason)`` when they cannot be drawn
    here (``errorflow.figures`` or matplotlib missing, or ``ERRORFLOW_DOCS_FIGURES=0``)."""
    if os.environ.get("ERRORFLOW_DOCS_FIGURES", "1") == "0":
        return [], "Skipped: `ERRORFLOW_DOCS_FIGURES=0` was set for this build."
    try:
        from errorflow import figures
    except ImportError as exc:
        return [], (
            f"`errorflow.figures` could not be imported here ({exc}). Install the package with "
            "its plotting dependencies and build again, or see the report: `errorflow report` "
            "writes the figures to `errorflow-report/figures/`."
        )
    figures.write_figures(out, profile=profile)
    drawn = []
    for name, info in figures.FIGURES.items():
        png, svg = out / f"{name}.png", out / f"{name}.svg"
        if not png.exists():
            log.warning("errorflow.figures wrote no %s", png.name)
            continue
        drawn.append(
            Figure(
                name,
                getattr(info, "title", name.replace("_", " ")),
                info.caption,
                tuple(getattr(info, "claims", ())),
                png,
                svg if svg.exists() else None,
            )
        )
    return drawn, None


def import_tree(out: Path) -> Path:
    """Lay out the ``errorflow`` package under ``out`` as Python imports it: the package
    folder's own entries, and each subpackage mapped from another folder (``derivations/``,
    ``numeric/``, ``verify/``) linked in under its import name. Returns ``out``."""
    import importlib.util

    import errorflow

    (root,) = errorflow.__path__
    pkg = out / "errorflow"
    pkg.mkdir(parents=True)
    mapped = {}
    for name in ("derivations", "numeric", "verify"):
        spec = importlib.util.find_spec(f"errorflow.{name}")
        if spec is None or not spec.submodule_search_locations:
            raise ImportError(f"errorflow.{name} is not importable")
        mapped[name] = Path(next(iter(spec.submodule_search_locations)))
    for entry in Path(root).iterdir():
        if entry.name not in mapped and entry.name != "__pycache__":
            (pkg / entry.name).symlink_to(entry)
    for name, path in mapped.items():
        (pkg / name).symlink_to(path, target_is_directory=True)
    return out


# -- griffe extension (API reference) ---------------------------------------------------------

try:  # griffe comes with the docs extra (mkdocstrings-python)
    from griffe import Docstring, Extension
except ImportError:  # pragma: no cover
    Docstring, Extension = None, object

_ROLE = re.compile(r":(?:py:)?(?:func|class|mod|meth|attr|data|obj|exc|const):`~?([^`]+)`")


_NUMPY_SECTION = re.compile(
    r"^(Parameters|Returns|Raises|Yields|Attributes)\n-{3,}\n((?:[^\n]+\n?)+)", re.MULTILINE
)


def _numpy_section(match: re.Match) -> str:
    """A numpydoc section (``name : type`` lines with indented descriptions) as a list."""
    items: list[str] = []
    for line in match.group(2).splitlines():
        if line.startswith((" ", "\t")) and items:
            items[-1] += " " + line.strip()
        else:
            name, _, kind = line.partition(" : ")
            items.append(f"- `{name.strip()}` ({kind.strip()}):" if kind else f"- {line.strip()}")
    return f"**{match.group(1)}**\n\n" + "\n".join(items) + "\n"


def sphinx_roles_to_markdown(text: str) -> str:
    """Docstring text as Markdown: ``:func:`name``` (and the other Sphinx roles) as a code span
    ```name```, reST's ``text::`` before a literal block as ``text:``, and numpydoc sections
    (``Parameters`` over a dashed line) as lists."""
    text = _ROLE.sub(r"`\1`", text)
    text = re.sub(r"(?<=\S)::(?=\n[ \t]*\n)", ":", text)
    return _NUMPY_SECTION.sub(_numpy_section, text)


class SphinxRoles(Extension):
    """Griffe extension: Sphinx roles in docstrings become code spans, and a module constant's
    ``#:`` comment lines (Sphinx's attribute-docstring convention) become its docstring."""

    def on_object(self, *, obj, **kwargs) -> None:
        if obj.docstring is None and obj.is_attribute and Docstring is not None:
            text = _comment_docstring(obj)
            if text:
                obj.docstring = Docstring(text, lineno=obj.lineno, parent=obj)
        if obj.docstring is not None:
            obj.docstring.value = sphinx_roles_to_markdown(obj.docstring.value)


def _comment_docstring(obj) -> str:
    try:
        lines = obj.lines_collection[obj.filepath]
    except (KeyError, TypeError, AttributeError):
        return ""
    comment: list[str] = []
    index = (obj.lineno or 0) - 2  # the line above the assignment
    while 0 <= index < len(lines) and lines[index].lstrip().startswith("#:"):
        comment.insert(0, lines[index].lstrip()[2:].strip())
        index -= 1
    return " ".join(comment)


# -- MkDocs hook events ----------------------------------------------------------------------

_SCRATCH: list[Path] = []

try:  # MkDocs is only needed at build time; the page generators above work without it.
    from mkdocs.plugins import event_priority
except ImportError:  # pragma: no cover

    def event_priority(priority):
        return lambda fn: fn


@event_priority(100)  # before mkdocstrings' on_config, which creates the handler
def on_config(config):
    """Put the package's import layout (:func:`import_tree`) first on mkdocstrings' paths."""
    try:
        python = config.plugins["mkdocstrings"].config.handlers["python"]
    except (KeyError, AttributeError) as exc:
        raise RuntimeError(
            f"docs_support: no mkdocstrings python handler configured ({exc!r})"
        ) from exc
    scratch = Path(tempfile.mkdtemp(prefix="errorflow-docs-src-"))
    _SCRATCH.append(scratch)
    python["paths"] = [str(import_tree(scratch)), *python.get("paths", [])]
    return config


def on_files(files, config):
    """Add the generated ``claims.md``, ``figures.md``, ``comparison.md`` and
    ``experiments.md`` pages and the figure files."""
    from mkdocs.structure.files import File

    files.append(File.generated(config, "claims.md", content=claims_markdown()))
    scratch = Path(tempfile.mkdtemp(prefix="errorflow-docs-figures-"))
    _SCRATCH.append(scratch)
    try:
        figures, missing = draw_figures(scratch)
    except Exception as exc:  # a broken figures module fails the (strict) build, with its reason
        log.warning("errorflow.figures.write_figures failed: %s: %s", type(exc).__name__, exc)
        figures, missing = [], f"Drawing the figures failed: {type(exc).__name__}: {exc}"
    if missing:
        log.info("figures page without figures: %s", missing)
    for fig in figures:
        for path in (fig.png, fig.svg):
            if path is not None:
                files.append(File.generated(config, f"figures/{path.name}", abs_src_path=path))
    files.append(File.generated(config, "figures.md", content=figures_markdown(figures, missing)))
    from errorflow import comparison
    from errorflow.experiments import reproduction

    files.append(File.generated(config, "comparison.md", content=comparison.markdown()))
    files.append(File.generated(config, "experiments.md", content=reproduction.markdown()))
    for path in reproduction.copy_figures(scratch / "experiments"):
        files.append(File.generated(config, f"experiments/{path.name}", abs_src_path=path))
    return files


def on_post_build(config):
    """Remove the scratch folders the figures were drawn into (copied into the site by now)."""
    while _SCRATCH:
        shutil.rmtree(_SCRATCH.pop(), ignore_errors=True)


def on_shutdown():
    """The same cleanup when a build stopped early."""
    on_post_build(None)
