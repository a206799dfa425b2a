"""The command line: subcommands, help, exit codes and one-line errors."""

import json
import os
import subprocess
import sys

import pytest
from _spec import SPEC_IDS

from errorflow.cli import main


def run(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "errorflow", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=600,
    )


@pytest.mark.parametrize("cmd", [[], ["derive"], ["codegen"], ["verify"], ["report"]])
def test_help(cmd, capsys):
    with pytest.raises(SystemExit) as exc:
        main([*cmd, "--help"])
    assert exc.value.code == 0
    assert "usage: errorflow" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        ([], "missing COMMAND"),
        (["bogus"], "invalid choice"),
        (["derive", "nope"], "unknown derivation 'nope'"),
        (["derive", "bptt", "--format", "pdf"], "invalid choice"),
        (["verify", "--claim", "Z9"], "unknown claim id 'Z9'"),
        (["derive", "bptt", "-o", "/nonexistent-dir/x.tex"], "cannot write"),
        (["report", "--out", "/nonexistent-dir/sub/report"], "does not exist"),
    ],
)
def test_usage_errors_exit_2_with_one_line(args, needle, capsys):
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("errorflow: error: ") and needle in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_python_dash_m_and_console_script_agree():
    out = run("derive", "bptt", "--format", "text")
    assert out.returncode == 0
    assert "B3: Hochreiter's scaling factor" in out.stdout
    bad = run("verify", "--claim", "Q1")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


def test_derive_writes_latex_file(tmp_path):
    target = tmp_path / "bptt.tex"
    assert main(["derive", "bptt", "--format", "latex", "-o", str(target)]) == 0
    tex = target.read_text()
    assert tex.startswith(r"\documentclass") and r"\coth" in tex


def test_verify_json_reports_every_claim_passed():
    out = run("verify", "--json")
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    records = json.loads(out.stdout)
    assert [r["id"] for r in records] == SPEC_IDS
    for r in records:
        assert set(r) == {"id", "section", "statement", "status", "symbolic", "cases", "max_error"}
        assert r["status"] == "passed", r
        assert r["symbolic"] in {"proved", "not applicable"}
        assert isinstance(r["cases"], int) and r["cases"] > 0
        assert r["max_error"] is None or isinstance(r["max_error"], float)


def test_verify_selected_claims(capsys):
    assert main(["verify", "--json", "--claim", "b4", "A2"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert [r["id"] for r in records] == ["B4", "A2"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_report_on_read_only_parent(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        assert main(["report", "--out", str(ro / "rep")]) == 2
    finally:
        ro.chmod(0o700)
