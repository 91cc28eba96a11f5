"""The package's shape stays as issue 11 left it: import-linter (make lint) checks which way imports point;
these check what it cannot. Program means everything in silhouette_infra/ but the synth tooling."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import cache
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "silhouette_infra"
MAX_FUNCTION_LINES = 80
LONG_REASON = "Long because"  # a function may run longer when its docstring says why, starting so


@cache
def _program_modules() -> tuple[tuple[Path, ast.Module], ...]:
    """Every program module and its syntax tree, parsed once for both tests."""
    return tuple(
        (path, ast.parse(path.read_text(), filename=str(path)))
        for path in sorted(PACKAGE.rglob("*.py"))
        if "synth" not in path.relative_to(PACKAGE).parts and path.name != "__main__.py"
    )


def _functions(tree: ast.Module) -> Iterator[ast.FunctionDef | ast.AsyncFunctionDef]:
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node


def test_no_program_function_runs_over_80_lines_without_a_written_reason() -> None:
    too_long = [
        f"{path.relative_to(PACKAGE.parent)}:{function.lineno} {function.name} "
        f"({(function.end_lineno or function.lineno) - function.lineno + 1} lines)"
        for path, tree in _program_modules()
        for function in _functions(tree)
        if (function.end_lineno or function.lineno) - function.lineno + 1 > MAX_FUNCTION_LINES
        and LONG_REASON not in (ast.get_docstring(function) or "")
    ]
    assert too_long == [], f"split these, or say why in the docstring ({LONG_REASON} ...): {too_long}"


def test_the_program_imports_nothing_inside_a_function() -> None:
    """A function-level import hides a dependency from import-linter (and usually dodges a cycle)."""
    hidden = [
        f"{path.relative_to(PACKAGE.parent)}:{node.lineno} in {function.name}"
        for path, tree in _program_modules()
        for function in _functions(tree)
        for node in ast.walk(function)
        if isinstance(node, ast.Import | ast.ImportFrom)
    ]
    assert hidden == [], f"move these imports to the top of their module: {hidden}"
