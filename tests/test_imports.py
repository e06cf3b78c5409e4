"""The package's import graph, read from the sources with ``ast`` (nothing is imported).

- The imports a module runs when it is imported (its module-level imports) form no circle.
- Figures, reports and results files import no command-line module, and no module imports
  one: the one-line error formatter the commands share lives in ``sim.errors``.
- An import inside a function is one of the few listed below, each with its reason, so a
  new one (the usual way to paper over a circle) fails here until it is listed.

Imports under ``if TYPE_CHECKING:`` never run, so they are not edges of the graph.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

SIM = Path(__file__).resolve().parent.parent / "sim"

#: edges of the module-level graph not enforced yet (none)
KNOWN_UNTIL_RESTRUCTURE: set[tuple[str, str]] = set()

#: the imports of ``sim`` modules allowed inside functions: (module, imported) -> reason
ALLOWED_FUNCTION_LOCAL = {
    ("sim", "sim.api"): "PEP 562: `import sim` stays light; sim.api loads on first use of a "
    "name it re-exports (sim.api imports the package, so this one cannot be at the top)",
    ("sim.config", "sim.events"): "a model module, its owners' call: the ladder check's "
    "event vocabulary (sim.events loads the compiled numerics)",
    ("sim.validate", "sim.forecast"): "escalation-validate --forecast: the forecast is built "
    "on validate's checks and scorecard windows, so validate loads it only when --forecast "
    "is given",
}
#: at most this many import statements of ``sim`` modules inside functions
MAX_FUNCTION_LOCAL = 3

#: modules that exist to be a command: nothing imports them
COMMAND_LINE_MODULES = {"sim.cli", "sim.app.launch", "sim.bench"}
#: the modules around the model (commands, results files, figures, reports, the app, the Mesa
#: view): no circle among them, even through an import inside a function
AROUND_THE_MODEL = (
    "sim.agents", "sim.analysis", "sim.api", "sim.app", "sim.bench", "sim.bench_sweep",
    "sim.calibrate", "sim.cli", "sim.compare", "sim.ema", "sim.errors", "sim.io", "sim.model",
    "sim.plots", "sim.record", "sim.report", "sim.scorecard", "sim.sweep", "sim.validate",
)  # fmt: skip


@dataclass(frozen=True)
class Import:
    """One imported ``sim`` module: who imports it, where, and when it runs."""

    module: str
    imported: str
    line: int
    kind: str  # "module": runs on import; "function": runs when called; "typing": never


def module_name(path: Path) -> str:
    parts = path.relative_to(SIM.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(SIM.rglob("*.py"))}
PACKAGES = {module_name(p) for p in SIM.rglob("__init__.py")}


def _known(name: str) -> str:
    """``name`` if it is a module or package of ``sim``, else its nearest enclosing one."""
    while name not in MODULES and "." in name:
        name = name.rpartition(".")[0]
    return name


def _targets(node: ast.Import | ast.ImportFrom, module: str) -> Iterator[str]:
    """The ``sim`` modules an import statement loads (``from sim.plots import x``: the
    package's ``__init__``, or the submodule ``sim.plots.x`` when there is one)."""
    if isinstance(node, ast.Import):
        for alias in node.names:
            if alias.name == "sim" or alias.name.startswith("sim."):
                yield _known(alias.name)
        return
    base = node.module or ""
    if node.level:  # relative: from the module's package up
        package = module if module in PACKAGES else module.rpartition(".")[0]
        for _ in range(node.level - 1):
            package = package.rpartition(".")[0]
        base = f"{package}.{base}".rstrip(".")
    if base != "sim" and not base.startswith("sim."):
        return
    for alias in node.names:
        submodule = f"{base}.{alias.name}"
        yield submodule if submodule in MODULES else _known(base)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_of(module: str, source: str) -> list[Import]:
    """Every import of a ``sim`` module in ``source``, with the kind of its context."""
    found: list[Import] = []

    def visit(node: ast.AST, kind: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import | ast.ImportFrom):
                found.extend(Import(module, t, child.lineno, kind) for t in _targets(child, module))
            elif isinstance(child, ast.If) and _is_type_checking(child.test):
                for statement in child.body:
                    visit(ast.Module(body=[statement], type_ignores=[]), "typing")
                for statement in child.orelse:
                    visit(ast.Module(body=[statement], type_ignores=[]), kind)
            elif isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                visit(child, "typing" if kind == "typing" else "function")
            else:
                visit(child, kind)

    visit(ast.parse(source), "module")
    return [i for i in found if i.imported != module]


IMPORTS = [i for m, path in MODULES.items() for i in imports_of(m, path.read_text())]


def module_graph(kinds: tuple[str, ...] = ("module",)) -> dict[str, set[str]]:
    """module -> the ``sim`` modules its imports of these kinds load."""
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for i in IMPORTS:
        if i.kind in kinds and (i.module, i.imported) not in KNOWN_UNTIL_RESTRUCTURE:
            graph[i.module].add(i.imported)
    return graph


def around_the_model(module: str) -> bool:
    return any(module == m or module.startswith(f"{m}.") for m in AROUND_THE_MODEL)


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One circle of ``graph`` as [a, b, ..., a], or None."""
    done: set[str] = set()
    path: list[str] = []
    on_path: set[str] = set()

    def visit(node: str) -> list[str] | None:
        path.append(node)
        on_path.add(node)
        for target in sorted(graph.get(node, ())):
            if target in on_path:
                return [*path[path.index(target) :], target]
            if target not in done and (cycle := visit(target)):
                return cycle
        path.pop()
        on_path.discard(node)
        done.add(node)
        return None

    for start in sorted(graph):
        if start not in done and (cycle := visit(start)):
            return cycle
    return None


# --- the reader itself ---------------------------------------------------------------------


def test_the_reader_tells_module_level_function_local_and_typing_imports_apart():
    source = (
        "from typing import TYPE_CHECKING\n"
        "import sim\n"
        "from sim.plots import timeline_figure\n"
        "from sim import errors, plots\n"
        "if TYPE_CHECKING:\n"
        "    from sim.compare import Comparison\n"
        "def f():\n"
        "    from sim.plots.style import FONT\n"
        "class C:\n"
        "    import sim.io\n"
        "    def g(self):\n"
        "        from . import sweep\n"
    )
    found = {(i.imported, i.kind) for i in imports_of("sim.report", source)}
    assert found == {
        ("sim", "module"),
        ("sim.plots", "module"),
        ("sim.errors", "module"),
        ("sim.compare", "typing"),
        ("sim.plots.style", "function"),
        ("sim.io", "module"),
        ("sim.sweep", "function"),
    }
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None


def test_the_reader_sees_the_whole_package():
    assert {"sim", "sim.cli", "sim.errors", "sim.io", "sim.plots", "sim.plots.sweep"} <= set(
        MODULES
    )
    assert ("sim.cli", "sim.errors") in {(i.module, i.imported) for i in IMPORTS}


# --- the rules -----------------------------------------------------------------------------


def test_module_level_imports_form_no_circle():
    cycle = find_cycle(module_graph())
    assert cycle is None, "import circle: " + " -> ".join(cycle or [])


def test_modules_around_the_model_form_no_circle_even_inside_functions():
    graph = module_graph(("module", "function"))
    around = {m: {t for t in ts if around_the_model(t)} for m, ts in graph.items()}
    cycle = find_cycle({m: ts for m, ts in around.items() if around_the_model(m)})
    assert cycle is None, "import circle: " + " -> ".join(cycle or [])


def test_imports_inside_functions_are_only_the_listed_ones():
    local = [i for i in IMPORTS if i.kind == "function"]
    unlisted = [
        f"{MODULES[i.module].relative_to(SIM.parent)}:{i.line} imports {i.imported}"
        for i in local
        if (i.module, i.imported) not in ALLOWED_FUNCTION_LOCAL
        and (i.module, i.imported) not in KNOWN_UNTIL_RESTRUCTURE
    ]
    assert not unlisted, "move to the top of the module (or list it, with the reason): " + (
        "; ".join(unlisted)
    )
    statements = {
        (i.module, i.line) for i in local if (i.module, i.imported) not in KNOWN_UNTIL_RESTRUCTURE
    }
    assert len(statements) <= MAX_FUNCTION_LOCAL, sorted(statements)


FIGURES_REPORTS_AND_FILES = sorted(
    m for m in MODULES if m in ("sim.plots", "sim.report", "sim.io") or m.startswith("sim.plots.")
)


@pytest.mark.parametrize("module", FIGURES_REPORTS_AND_FILES)
def test_figures_reports_and_results_files_import_no_command_line_module(module):
    found = {i.imported for i in IMPORTS if i.module == module} & COMMAND_LINE_MODULES
    assert not found, f"{module} imports {', '.join(sorted(found))}"


def test_no_module_imports_a_command_line_module():
    found = [
        f"{i.module} imports {i.imported} (line {i.line})"
        for i in IMPORTS
        if i.imported in COMMAND_LINE_MODULES
    ]
    assert not found, "; ".join(found) + " (shared helpers of the commands: sim.errors)"


def test_the_engine_and_the_rules_import_no_metrics_or_command():
    """The engine steps the rules and packages outcomes; the summaries, reports and
    commands are built on top of it, never under it."""
    below = ("sim.engine", "sim.rules", "sim.numerics", "sim.params", "sim.state", "sim.daily")
    above = ("sim.metrics", "sim.io", "sim.report", "sim.plots", *COMMAND_LINE_MODULES)
    graph = module_graph(("module", "function"))
    for module, imported in graph.items():
        if any(module == b or module.startswith(f"{b}.") for b in below):
            assert not {i for i in imported if i.startswith(above)}, module
