"""A fast check of every equation the derivations emit, one by one (no TeX needed): balanced
groups and delimiters, only commands the document's packages define, and no leftovers of
Python or SymPy printing. The full document is compiled by test_derivations / test_report."""

import pytest
from _latex import KNOWN, LEFTOVERS, check_equation  # noqa: F401

from errorflow import derivations


def _equations():
    for name in derivations.NAMES:
        for section in derivations.get(name).derivation().sections:
            for step in section.steps:
                yield f"{name}:{section.claims[0]}:{step.name}", step.to_latex()


EQUATIONS = list(_equations())


def test_there_are_equations_from_every_derivation():
    assert {key.split(":")[0] for key, _ in EQUATIONS} == set(derivations.NAMES)
    assert len(EQUATIONS) > 100


@pytest.mark.parametrize(("key", "tex"), EQUATIONS, ids=[k for k, _ in EQUATIONS])
def test_equation_is_valid_latex(key, tex):
    assert check_equation(tex) == []


@pytest.mark.parametrize(
    "bad",
    [
        r"a &= \frac{1}{2",
        r"a &= \left( b",
        r"a &= b & c",
        r"a &= \foo{b}",
        r"a &= MatVec(W, z)",
        r"a &= x_i_j",
    ],
)
def test_the_checker_catches_broken_equations(bad):
    assert check_equation(bad) != []
