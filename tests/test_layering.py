"""The layers of the package, asserted: core -> conventions -> teach -> app, never upwards, no circles."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "quantviz"
SCREEN_LIBRARIES = ("streamlit", "plotly", "pandas")
MAX_LINES = 400


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def layer(name: str) -> str:
    """core (top-level math), conventions, teach or app."""
    parts = name.split(".")
    if name == "quantviz.plot":  # the notebook face of the app's figures (plotly): not loaded by `import quantviz`
        return "app"
    if len(parts) > 1 and parts[1] in ("conventions", "teach", "app"):
        return parts[1]
    return "core"


def imports_of(path: Path) -> set[str]:
    """Every module this file imports, at the top or inside a function (resolved to quantviz modules where it can)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                found.add(sub if sub in MODULES else node.module)
    return found


GRAPH = {name: {m for m in imports_of(path) if m in MODULES and m != name} for name, path in MODULES.items()}


def test_the_folders_show_the_layers():
    assert {layer(name) for name in MODULES} == {"core", "conventions", "teach", "app"}
    assert "quantviz.conventions.pytorch" in MODULES and "quantviz.conventions.tflite" in MODULES


@pytest.mark.parametrize("name", sorted(n for n in MODULES if layer(n) in ("core", "conventions")))
def test_core_imports_neither_teaching_nor_app_nor_screen_libraries(name):
    imported = imports_of(MODULES[name])
    upward = sorted(m for m in imported if m.startswith(("quantviz.app", "quantviz.teach")))
    screen = sorted(m for m in imported if m.split(".")[0] in SCREEN_LIBRARIES)
    assert not upward, f"{name} imports {upward}"
    assert not screen, f"{name} imports {screen}"


@pytest.mark.parametrize("name", sorted(n for n in MODULES if layer(n) == "teach"))
def test_teaching_text_imports_no_app_and_no_screen_library(name):
    imported = imports_of(MODULES[name])
    assert not [m for m in imported if m.startswith("quantviz.app") or m.split(".")[0] in SCREEN_LIBRARIES]


def test_conventions_import_no_top_level_module_that_imports_them():
    # conventions sit on errors, grid, qparams, rounding; quantize and everything above ask them.
    allowed = {"quantviz.errors", "quantviz.grid", "quantviz.qparams", "quantviz.rounding"}
    for name in (n for n in MODULES if layer(n) == "conventions"):
        core = {m for m in GRAPH[name] if layer(m) == "core"}
        assert core <= allowed, f"{name} imports {sorted(core - allowed)}"


def find_circle(graph: dict[str, set[str]]) -> list[str] | None:
    """Return one import circle in ``graph`` (a path that comes back to its start), or None."""
    visiting: list[str] = []
    done: set[str] = set()

    def visit(name: str) -> list[str] | None:
        if name in done:
            return None
        if name in visiting:
            return [*visiting[visiting.index(name) :], name]
        visiting.append(name)
        for other in sorted(graph.get(name, ())):
            circle = visit(other)
            if circle:
                return circle
        visiting.pop()
        done.add(name)
        return None

    for name in sorted(graph):
        circle = visit(name)
        if circle:
            return circle
    return None


def test_no_import_circle():
    circle = find_circle(GRAPH)
    assert circle is None, "import circle: " + " -> ".join(circle or [])


def test_the_circle_check_finds_a_circle():
    # The way qparams and conventions once imported each other.
    graph = {"quantviz.qparams": {"quantviz.conventions"}, "quantviz.conventions": {"quantviz.qparams"}, "x": set()}
    assert find_circle(graph) == ["quantviz.conventions", "quantviz.qparams", "quantviz.conventions"]
    assert find_circle({"a": {"b"}, "b": set()}) is None


def test_only_the_streamlit_glue_imports_streamlit():
    importers = sorted(n for n, p in MODULES.items() if any(m.split(".")[0] == "streamlit" for m in imports_of(p)))
    assert importers == ["quantviz.app.live", "quantviz.app.state", "quantviz.app.widgets"]


def test_import_quantviz_loads_no_screen_library():
    code = (
        "import sys, quantviz, quantviz.conventions, quantviz.teach.steps, quantviz.teach.compare, "
        "quantviz.teach.examples, quantviz.teach.exercises, quantviz.calibrate, quantviz.granularity, "
        "quantviz.formats, quantviz.intmath, quantviz.inputs\n"
        f"print(sorted(m for m in {SCREEN_LIBRARIES!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_module_over_400_lines_without_a_reason(name):
    path = MODULES[name]
    lines = path.read_text().count("\n")
    doc = ast.get_docstring(ast.parse(path.read_text())) or ""
    assert lines <= MAX_LINES or "Longer than 400 lines" in doc, f"{name} has {lines} lines"


MAX_FUNCTION_LINES = 60
LONG_FUNCTION_REASON = "Longer than 60 lines:"
FUNCTION_FILES = {
    str(p.relative_to(ROOT)): p for p in [*sorted(PACKAGE.rglob("*.py")), *sorted((ROOT / "app_pages").glob("*.py"))]
}


def long_functions(source: str) -> list[str]:
    """Every function over 60 lines (def to last line) whose docstring's first paragraph gives no reason."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            length = node.end_lineno - node.lineno + 1
            first_paragraph = (ast.get_docstring(node) or "").split("\n\n")[0]
            if length > MAX_FUNCTION_LINES and LONG_FUNCTION_REASON not in first_paragraph:
                found.append(f"{node.name} ({length} lines)")
    return found


@pytest.mark.parametrize("name", sorted(FUNCTION_FILES))
def test_no_function_over_60_lines_without_a_reason(name):
    assert long_functions(FUNCTION_FILES[name].read_text()) == [], name


def test_the_long_function_check_finds_one_and_accepts_a_reason():
    body = "".join(f"    x{i} = {i}\n" for i in range(60))
    assert long_functions(f"def f():\n{body}") == ["f (61 lines)"]
    assert long_functions(f"def f():\n{body[: -len('    x59 = 59') - 1]}") == []
    reason = '    """Longer than 60 lines: a record built by keyword."""\n'
    assert long_functions(f"def f():\n{reason}{body}") == []
    late_reason = '    """Short.\n\n    Longer than 60 lines: said too late."""\n'
    assert long_functions(f"def f():\n{late_reason}{body}") == ["f (64 lines)"]


def test_public_names_still_import_from_the_package():
    import quantviz as qv

    for name in qv.__all__:
        assert hasattr(qv, name), name
