"""The documentation site: it builds in strict mode, has every page, lists every claim, and
loads nothing from the network.

The site tests need the ``docs`` extra (``pip install -e '.[docs]'``) and are skipped without
it; the page generators of ``errorflow.docs_support`` are tested either way.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import ClassVar

import pytest

from errorflow import docs_support, verify

ROOT = Path(__file__).resolve().parents[1]
DOCS_EXTRA = "the docs extra is not installed (pip install -e '.[docs]')"

#: Every page of the site, as ``use_directory_urls`` lays it out.
GUIDE_PAGES = ("squashing", "bptt", "cec", "lstm", "errata")
PAGES = (
    "",
    "quickstart",
    *GUIDE_PAGES,
    "verification",
    "claims",
    "figures",
    "architecture",
    "api/rnn",
    "api/lstm",
    "api/activations",
    "api/logspace",
    "api/verify",
    "api/derivations",
)


# -- the page generators (no MkDocs needed) ---------------------------------------------------


def test_claims_markdown_lists_every_registered_claim_in_order():
    text = docs_support.claims_markdown()
    ids = re.findall(r"^\| \[([A-Z]\d+)\]\(", text, flags=re.MULTILINE)
    assert ids == [c.id for c in verify.select()]
    assert len(ids) == len(verify.REGISTRY)


def test_claims_markdown_escapes_table_and_emphasis_characters():
    claim = verify.Claim("X1", "X", "a | b with *stars* and w_ij_k", "how <it> is checked")
    row = docs_support.claims_markdown([claim]).splitlines()[-1]
    assert row.count(" | ") == 3  # the statement's pipe is escaped
    assert r"a \| b with \*stars\* and w\_ij\_k" in row and "&lt;it>" in row


def test_figure_captions_become_markdown_with_the_math_kept():
    caption = r"Flow over $q$ steps (eq.~1), \texttt{log} space -- see $\|W\|_A$."
    assert docs_support._caption_markdown(caption) == (
        "Flow over $q$ steps (eq. 1), `log` space \u2013 see $\\|W\\|_A$."
    )


def test_docstrings_are_rewritten_as_markdown_for_the_api_reference():
    doc = (
        "Wraps :func:`forward` and :class:`~errorflow.numeric.lstm.Layout`::\n\n"
        "    code\n\nParameters\n----------\nW : (n, n) array\n    weights; finite.\n"
        "nets : array\n    net inputs.\n\nMore text."
    )
    assert docs_support.sphinx_roles_to_markdown(doc) == (
        "Wraps `forward` and `errorflow.numeric.lstm.Layout`:\n\n    code\n\n**Parameters**\n\n"
        "- `W` ((n, n) array): weights; finite.\n- `nets` (array): net inputs.\n\nMore text."
    )


# -- the built site ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """``mkdocs build --strict`` into a scratch folder (about 10-30 s, figures included)."""
    for module in ("mkdocs", "material", "mkdocstrings", "mkdocstrings_handlers.python"):
        pytest.importorskip(module, reason=DOCS_EXTRA)
    pytest.importorskip("pymdownx", reason=DOCS_EXTRA)
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", "mkdocs.yml", "-d", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log
    assert "WARNING" not in log, log
    return out


def _page(site: Path, name: str) -> str:
    return (site / name / "index.html").read_text(encoding="utf-8")


def test_every_page_is_built(site):
    missing = [p or "index" for p in PAGES if not (site / p / "index.html").is_file()]
    assert not missing


def test_guide_pages_typeset_math_with_the_vendored_katex(site):
    for name in GUIDE_PAGES:
        page = _page(site, name)
        assert 'class="arithmatex"' in page, name
        assert "assets/katex/katex.min.js" in page and "assets/math.js" in page, name
    for asset in ("katex.min.js", "katex.min.css", "contrib/auto-render.min.js", "LICENSE"):
        assert (site / "assets" / "katex" / asset).is_file(), asset
    fonts = list((site / "assets" / "katex" / "fonts").glob("*.woff2"))
    assert len(fonts) >= 20


def test_claims_table_lists_every_registered_claim(site):
    page = _page(site, "claims")
    table = page[page.index("<table") : page.index("</table>")]
    ids = re.findall(r"<tr>\s*<td><a [^>]*>([A-Z]\d+)</a></td>", table)
    assert ids == [c.id for c in verify.select()]
    assert set(ids) == set(verify.REGISTRY)


def test_figures_page_shows_the_report_figures(site):
    page = _page(site, "figures")
    try:
        from errorflow import figures
    except ImportError:  # the page says why there are none
        assert "Figures not drawn" in page
        return
    if os.environ.get("ERRORFLOW_DOCS_FIGURES", "1") == "0":
        pytest.skip("ERRORFLOW_DOCS_FIGURES=0: figures not drawn in this build")
    for name in figures.FIGURES:
        assert (site / "figures" / f"{name}.png").is_file(), name
        assert f'src="{name}.png"' in page, name


def test_api_reference_is_rendered_from_the_docstrings(site):
    lstm_page = _page(site, "api/lstm")
    for name in ("truncated_gradient", "full_gradient", "init_params", "Layout", "PAPER_LAYOUTS"):
        assert f'id="errorflow.numeric.lstm.{name}"' in lstm_page, name
    assert "stop-gradient" in lstm_page
    assert 'id="errorflow.numeric.rnn.scaling_factor"' in _page(site, "api/rnn")
    assert 'id="errorflow.verify.registry.Claim"' in _page(site, "api/verify")


class _Resources(HTMLParser):
    """Every URL a page loads: script and image sources, stylesheets and other linked files."""

    LOADS: ClassVar[dict[str, str]] = {
        "script": "src",
        "img": "src",
        "iframe": "src",
        "source": "src",
        "embed": "src",
    }

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in self.LOADS and a.get(self.LOADS[tag]):
            self.urls.append(a[self.LOADS[tag]])
        if tag == "link" and a.get("href") and a.get("rel") not in ("canonical", "alternate"):
            self.urls.append(a["href"])
        if a.get("style"):
            self.urls += re.findall(r"url\(\s*['\"]?([^'\")]+)", a["style"])


def _remote(url: str) -> bool:
    return bool(re.match(r"^(?:[a-z][a-z0-9+.-]*:)?//", url.strip(), flags=re.IGNORECASE))


def test_no_page_loads_anything_from_the_network(site):
    remote = []
    for path in site.rglob("*.html"):
        parser = _Resources()
        parser.feed(path.read_text(encoding="utf-8"))
        remote += [f"{path.relative_to(site)}: {u}" for u in parser.urls if _remote(u)]
    for path in site.rglob("*.css"):
        text = path.read_text(encoding="utf-8")
        urls = re.findall(r"url\(\s*['\"]?([^'\")]+)", text)
        urls += re.findall(r"@import\s+['\"]([^'\"]+)", text)
        remote += [f"{path.relative_to(site)}: {u}" for u in urls if _remote(u)]
    assert not remote


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not on PATH")
def test_every_formula_parses_with_the_vendored_katex(site):
    """The browser would show a red error for a formula KaTeX cannot parse: parse them all."""
    formulas = []
    pattern = re.compile(r'<(span|div) class="arithmatex">(.*?)</\1>', re.DOTALL)
    for path in sorted(site.rglob("*.html")):
        for m in pattern.finditer(path.read_text(encoding="utf-8")):
            tex = html.unescape(m.group(2)).strip()
            formulas.append(
                {"page": str(path.relative_to(site)), "tex": tex[2:-2], "display": tex[1] == "["}
            )
    assert len(formulas) > 500
    script = """
const katex = require(process.argv[1]);
const bad = [];
for (const f of JSON.parse(require("fs").readFileSync(0, "utf8"))) {
  const options = {displayMode: f.display, throwOnError: true, strict: "error"};
  try { katex.renderToString(f.tex, options); }
  catch (e) { bad.push(f.page + ": " + e.message.split("\\n")[0] + " in " + f.tex.slice(0, 80)); }
}
console.log(JSON.stringify(bad));
"""
    proc = subprocess.run(
        ["node", "-e", script, str(site / "assets" / "katex" / "katex.min.js")],
        input=json.dumps(formulas),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert json.loads(proc.stdout) == []
