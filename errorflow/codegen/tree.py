"""Generate the whole ``numeric/_generated/`` tree, write it, or compare it with what is on disk.

``generate()`` returns ``{file name: text}`` for every generated module (rendering only);
``write()`` puts that on disk and deletes stale generated files; ``compare()`` returns a
unified diff naming every file that differs, is missing or is stale (empty when the committed
tree is byte-identical to a fresh generation).
"""

from __future__ import annotations

import difflib
import importlib
import importlib.util
from pathlib import Path

from errorflow.derivations.core import LoopKernelSpec

from .loops import render_loop_module, render_squashing_helpers
from .render import PREAMBLE, render_module

__all__ = ["SOURCES", "compare", "default_target", "generate", "write"]

#: Derivation modules that codegen prints, in order. Each exposes ``kernel_specs()`` and
#: ``GENERATED_DOC`` (the generated module's docstring); a module that also exposes
#: ``loop_specs()`` and ``LOOPS_DOC`` gets a ``<name>_loops.py`` of loop kernels (plus the
#: drivers of ``errorflow.codegen.loops.DRIVERS`` its ``LOOP_DRIVERS`` names).
SOURCES: tuple[str, ...] = (
    "squashing",
    "bptt",
    "lstm",
    "forget_gate",
    "peephole",
    "gru",
    "spectral",
    "leaky",
    "rtrl",
    "narx",
    "kalman",
    "second_order",
    "guessing",
)


def default_target() -> Path:
    """The ``_generated`` folder of the installed ``errorflow.numeric`` (without importing it)."""
    spec = importlib.util.find_spec("errorflow.numeric")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("cannot locate the errorflow.numeric package")
    return Path(next(iter(spec.submodule_search_locations))) / "_generated"


def _render_init(sources: tuple[str, ...]) -> str:
    sources = tuple(sorted(sources))
    names = "\n".join(f"    {name}," for name in sources)
    return (
        PREAMBLE.format(source="*")
        + '"""Kernels printed from the derivations by ``errorflow codegen``."""\n\n'
        + f"from . import (\n{names}\n)\n\n"
        + "__all__ = [\n"
        + "\n".join(f'    "{name}",' for name in sources)
        + "\n]\n"
    )


def _squashing_helpers() -> str:
    """``activate`` / ``slope`` for the loop kernels, printed from the squashing derivation."""
    squashing = importlib.import_module("errorflow.derivations.squashing")
    functions = {
        n: (s.stable_f if s.scalar_f is None else s.scalar_f, s.stable_df)
        for n, s in squashing.SQUASHING.items()
    }
    return render_squashing_helpers(functions)


def generate() -> dict[str, str]:
    """Render every generated module; returns ``{file name: source text}``."""
    files: dict[str, str] = {}
    for name in SOURCES:
        module = importlib.import_module(f"errorflow.derivations.{name}")
        files[f"{name}.py"] = render_module(name, module.GENERATED_DOC, module.kernel_specs())
        if hasattr(module, "loop_specs"):
            specs = module.loop_specs()
            sequences = any(isinstance(s, LoopKernelSpec) for s in specs)
            files[f"{name}_loops.py"] = render_loop_module(
                name,
                module.LOOPS_DOC,
                _squashing_helpers() if sequences else "",
                specs,
                getattr(module, "LOOP_DRIVERS", ()),
            )
    files["__init__.py"] = _render_init(SOURCES)
    return files


def _on_disk(target: Path) -> dict[str, str]:
    if not target.is_dir():
        return {}
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(target.glob("*.py"))}


def compare(target: Path, files: dict[str, str] | None = None) -> str:
    """Unified diff from the tree at ``target`` to a fresh generation ('' when identical)."""
    files = generate() if files is None else files
    current = _on_disk(target)
    chunks: list[str] = []
    for name in sorted(set(files) | set(current)):
        old, new = current.get(name), files.get(name)
        if old == new:
            continue
        label = "stale" if new is None else "missing" if old is None else "differs"
        chunks.append(f"# {name}: {label}\n")
        chunks.extend(
            difflib.unified_diff(
                (old or "").splitlines(keepends=True),
                (new or "").splitlines(keepends=True),
                fromfile=f"committed/{name}",
                tofile=f"generated/{name}",
            )
        )
    return "".join(chunks)


def write(target: Path, files: dict[str, str] | None = None) -> list[str]:
    """Write a fresh generation to ``target``; delete stale ``*.py``. Returns changed names."""
    files = generate() if files is None else files
    target.mkdir(parents=True, exist_ok=True)
    changed = []
    for name in _on_disk(target):
        if name not in files:
            (target / name).unlink()
            changed.append(name)
    for name, text in files.items():
        path = target / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            changed.append(name)
    return sorted(changed)
