"""``errorflow report``, the main job: run once, end to end, then check what it wrote."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from _spec import SPEC_IDS

from errorflow import report
from errorflow.cli import main

STAGES = ["[1/5] derivations", "[2/5] claims", "[3/5] figures", "[4/5] files", "[5/5] pdf"]


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "rep"
    out.mkdir()
    (out / "notes.txt").write_text("mine")  # not the report's: must survive
    run = subprocess.run(
        [sys.executable, "-m", "errorflow", "report", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PYTHONWARNINGS": "error::RuntimeWarning"},
    )
    return out, run


def test_report_succeeds_with_progress_per_stage_and_claim(made):
    _, run = made
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    lines = run.stdout.splitlines()
    positions = [next(i for i, line in enumerate(lines) if line.startswith(s)) for s in STAGES]
    assert positions == sorted(positions)
    for cid in SPEC_IDS:
        assert any(line.split()[:2] == [cid, "PASSED"] for line in lines), cid
    assert lines[-1].startswith(f"{len(SPEC_IDS)} claims passed, 0 failed")


def test_report_files(made):
    out, _ = made
    claims = json.loads((out / "claims.json").read_text())
    assert [c["id"] for c in claims] == SPEC_IDS
    assert all("seconds" in c and "details" in c for c in claims)
    assert (out / "claims.md").read_text().startswith("| id |")
    tex = (out / "derivations.tex").read_text()
    for part in ("claims table", "Measured figures", r"\end{document}", "truncated gradient"):
        assert part in tex
    assert (out / "notes.txt").read_text() == "mine"


def test_report_pdf_compiles_without_overfull_boxes(made, pdflatex):
    out, run = made
    pdf = out / "derivations.pdf"
    assert pdf.read_bytes().startswith(b"%PDF")
    line = next(x for x in run.stdout.splitlines() if "derivations.pdf (" in x)
    assert " 0 overfull boxes" in line


def test_figures_are_placed_and_referenced(made):
    out, _ = made
    figures = pytest.importorskip("errorflow.figures")
    tex = (out / "derivations.tex").read_text()
    for name in figures.FIGURES:
        assert (out / "figures" / f"{name}.png").is_file()
        assert (out / "figures" / f"{name}.svg").is_file()
        assert rf"\ref{{fig:{name}}}" in tex and f"figures/{name}.png" in tex


def test_pdf_is_reproducible(tmp_path, pdflatex):
    tex = tmp_path / "d.tex"
    tex.write_text(report.derivations_document(bodies=[r"\section{x} $a^2$"]))
    first = report.compile_pdf(tex).path.read_bytes()
    second = report.compile_pdf(tex).path.read_bytes()
    assert first == second


def test_missing_pdflatex_is_one_line_with_the_fix(tmp_path, monkeypatch):
    monkeypatch.setattr(report.shutil, "which", lambda name: None)
    result = report.compile_pdf(tmp_path / "d.tex")
    assert result.path is None and "apt-get install texlive-latex-base" in result.message
    assert "\n" not in result.message


def test_report_into_a_missing_parent_is_a_usage_error(tmp_path, capsys):
    assert main(["report", "--out", str(tmp_path / "no" / "such")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("errorflow: error: cannot write") and err.count("\n") == 1


def test_report_onto_a_file_is_a_usage_error(tmp_path, capsys):
    target = tmp_path / "file"
    target.write_text("x")
    assert main(["report", "--out", str(target)]) == 2
    assert "not a folder" in capsys.readouterr().err


def test_write_report_alone_writes_the_three_files(tmp_path):
    paths = report.write_report(tmp_path, [])
    assert sorted(p.name for p in paths) == ["claims.json", "claims.md", "derivations.tex"]
    assert Path(tmp_path, "claims.json").read_text().strip() == "[]"
