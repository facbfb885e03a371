"""No import cycles within model/ or within experiments/ (type-checking imports included):
each module can be understood from the ones below it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _graph(package: str) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for path in (REPO / package).glob("*.py"):
        name = path.stem
        deps: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                if node.level == 1 and node.module:
                    deps.add(node.module.split(".")[0])
                elif node.level == 1:
                    deps.update(a.name for a in node.names)
                elif node.module and node.module.startswith(f"{package}."):
                    deps.add(node.module.split(".")[1])
        graph[name] = {d for d in deps if (REPO / package / f"{d}.py").exists()} - {name}
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(n: str) -> list[str] | None:
        state[n] = 1
        stack.append(n)
        for m in sorted(graph.get(n, ())):
            if state.get(m) == 1:
                return [*stack[stack.index(m):], m]
            if m not in state and (found := visit(m)):
                return found
        stack.pop()
        state[n] = 2
        return None

    for n in sorted(graph):
        if n not in state and (found := visit(n)):
            return found
    return None


@pytest.mark.parametrize("package", ["model", "experiments"])
def test_no_import_cycles(package):
    graph = _graph(package)
    graph.pop("__init__", None)
    for deps in graph.values():
        deps.discard("__init__")
    assert _cycle(graph) is None, " -> ".join(_cycle(graph))


def test_the_cycle_finder_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


TESTED_ELSEWHERE = {
    "model/adoption.py": "test_decisions.py, test_economy.py (decisions through the model)",
    "model/levers.py": "test_policy.py (what each lever does to the firms)",
    "experiments/adhoc.py": "test_exp_cli.py (sme-abm simulate)",
    "experiments/outcomes.py": "test_exp_runner.py (constants of the stored layout)",
    "experiments/plots.py": "test_exp_report.py (figures of a report)",
}
"""Modules without a test file of their own, and where their tests are (README, Layout)."""


@pytest.mark.parametrize("package", ["model", "experiments"])
def test_every_module_has_its_test_file_or_says_where_it_is_tested(package):
    prefix = "test_" if package == "model" else "test_exp_"
    for path in sorted((REPO / package).glob("*.py")):
        if path.stem == "__init__":
            continue
        key = f"{package}/{path.name}"
        own = (REPO / "tests" / f"{prefix}{path.stem}.py").exists()
        assert own != (key in TESTED_ELSEWHERE), (
            f"{key}: add tests/{prefix}{path.stem}.py" if not own
            else f"{key} has its own test file; drop it from TESTED_ELSEWHERE")
