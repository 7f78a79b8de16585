"""The README and docs/: every Python example runs (doctest), every command is run or shown to exist, the README
stays a page (≤ 200 lines) whose page table is the registry's, and every local link points at a file.

Commands are the lines of ``sh`` blocks and the inline code spans that start like a command (``make``, ``pip``,
``.venv/bin/…``, ``PYTHONPATH=…``, ``python``, ``quantviz``, ``haproxy``, ``streamlit``). A cheap one is run here
(``CHEAP``); a long one (a benchmark, a server, an install) is checked to exist: its Makefile target, its module's
``__main__``, its options in that module, its file. A command the test does not know fails it: add it to one of them.
"""

from __future__ import annotations

import ast
import doctest
import importlib.util
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from quantviz.app.pages import PAGES

ROOT = Path(__file__).resolve().parents[1]
# The documents this test holds to its rules (other docs/*.md join the list when they follow them).
DOCS = (
    "README.md",
    "docs/library.md",
    "docs/models.md",
    "docs/block-formats.md",
    "docs/deploy.md",
    "docs/performance.md",
    "docs/references.md",
    "docs/teaching.md",
)
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.M | re.S)
INLINE = re.compile(r"(?<!`)`([^`\n]+)`(?!`)")
COMMAND_START = re.compile(r"^(make |pip |\.venv/bin/|PYTHONPATH=|python3? |quantviz |haproxy |streamlit )")
MAKE_TARGETS = set(re.findall(r"^([a-z][\w-]*):", (ROOT / "Makefile").read_text(), re.M))


def text(doc: str) -> str:
    return (ROOT / doc).read_text()


def commands(doc: str) -> list[str]:
    """Every command of ``doc``: the lines of its sh blocks (comments dropped) and command-like inline spans."""
    found = []
    body = text(doc)
    for lang, block in FENCE.findall(body):
        if lang in ("sh", "bash", "console"):
            found += [line.split("  #")[0].strip() for line in block.splitlines() if line.strip()]
    prose = FENCE.sub("", body)
    found += [span.strip() for span in INLINE.findall(prose) if COMMAND_START.match(span.strip())]
    return found


def run_shell(command: str, cwd: Path) -> str:
    done = subprocess.run(
        ["bash", "-c", command],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={
            "PATH": f"{Path(sys.executable).parent}:/usr/sbin:/usr/bin:/bin",
            "PYTHONPATH": str(ROOT),
            "HOME": str(cwd),
        },
    )
    assert done.returncode == 0, f"{command}: exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _report(command: str, tmp: Path) -> None:
    # `quantviz` is the console script of the installed package (tests/test_package.py runs it); here the same main
    line = command.replace("/tmp/", f"{tmp}/").replace(".venv/bin/python -m quantviz", "quantviz")
    out = run_shell(line.replace("quantviz report", f"{shlex.quote(sys.executable)} -m quantviz report", 1), ROOT)
    assert "tensors" in out.splitlines()[-1]
    for written in re.findall(r"--(?:json|csv) (\S+)", line):
        assert Path(written).stat().st_size > 0


def _balancer(command: str, tmp: Path) -> None:
    run_shell(command.replace(".venv/bin/python", shlex.quote(sys.executable)), tmp)
    config = (tmp / "haproxy.cfg").read_text()
    assert "10.0.0.11:8501" in config and "10.0.0.12:8501" in config


def _haproxy_check(command: str, tmp: Path) -> None:
    """`haproxy -c -f haproxy.cfg && haproxy -f haproxy.cfg`: the check runs here; the second starts the balancer."""
    if shutil.which("haproxy", path="/usr/sbin:/usr/bin") is None:
        pytest.skip("haproxy is not installed (make test installs it)")
    check = command.split("&&")[0].strip()
    assert check == "haproxy -c -f haproxy.cfg"
    _balancer(
        ".venv/bin/python -m deploy.course config --server 10.0.0.11:8501 --server 10.0.0.12:8501 "
        "--bind '*:80' > haproxy.cfg",
        tmp,
    )
    run_shell(check, tmp)


CHEAP = {
    "quantviz report tests/fixtures/full_int8.tflite": _report,
    ".venv/bin/python -m quantviz report tests/fixtures/full_int8.tflite --json /tmp/quantviz-report.json": _report,
    ".venv/bin/python -m quantviz report tests/fixtures/full_int8.tflite --json /tmp/quantviz-report.json "
    "--csv /tmp/quantviz-floats.csv": _report,
    ".venv/bin/python -m deploy.course config --server 10.0.0.11:8501 --server 10.0.0.12:8501 --bind '*:80' "
    "> haproxy.cfg": _balancer,
    "haproxy -c -f haproxy.cfg && haproxy -f haproxy.cfg": _haproxy_check,
}
# Installs: what they do is what tests/test_package.py checks (the wheel, its dependencies, its extras).
INSTALLS = {"pip install .", "pip install '.[app,models]'"}


def exists(command: str) -> str:
    """How a command that is not run here is shown to exist; AssertionError if it does not, or is not understood."""
    words = shlex.split(command)
    if words[0] == "make":
        assert words[1] in MAKE_TARGETS, f"{command}: no Makefile target {words[1]!r}"
        return "make target"
    if command in INSTALLS:
        return "tests/test_package.py"
    while words and "=" in words[0]:  # PYTHONPATH=. and friends
        words = words[1:]
    if words[:2] == ["streamlit", "run"] or words[:4] == [".venv/bin/python", "-m", "streamlit", "run"]:
        script = words[2] if words[0] == "streamlit" else words[4]
        assert (ROOT / script).is_file(), command
        return "script exists"
    if words[0] == "haproxy":  # the configuration check, run in CHEAP on a generated file
        assert set(words[1:]) <= {"-c", "-f", "haproxy.cfg"}, command
        return "run as the haproxy check"
    if words[0] == "quantviz":  # the console script is python -m quantviz (tests/test_package.py runs the script)
        words = ["python", "-m", "quantviz", *words[1:]]
    if words[0] in (".venv/bin/python", "python", "python3") and words[1] in ("-c", "-m"):
        return _python_exists(command, words)
    raise AssertionError(f"{command!r} is neither run nor checked by tests/test_docs.py: add it to CHEAP or exists()")


def _python_exists(command: str, words: list[str]) -> str:
    """A ``python -c`` (its code compiles, its modules exist) or ``python -m`` (the module and its options exist)."""
    if words[1] == "-c":
        for node in ast.walk(ast.parse(words[2])):
            modules = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom):
                modules = [f"{node.module}.{a.name}" for a in node.names]
            for module in modules:
                assert importlib.util.find_spec(module.split(".")[0]) and (
                    module.split(".")[0] not in ("bench", "deploy", "quantviz") or _module_file(module)
                ), f"{command}: no module {module}"
        return "code compiles, modules exist"
    if words[1] == "-m":
        source = _module_file(words[2])
        assert source and "__main__" in source.read_text(), f"{command}: {words[2]} has no __main__"
        for option in (w.split("=")[0] for w in words[3:] if w.startswith("--")):
            assert option in source.read_text(), f"{command}: {words[2]} does not know {option}"
        return "module and options exist"
    raise AssertionError(command)


def _module_file(module: str) -> Path | None:
    base = ROOT.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__main__.py"):
        if candidate.is_file():
            return candidate
    return None


RAN: set[str] = set()  # a command two documents show is run once


@pytest.mark.parametrize("doc", DOCS)
def test_every_command_is_run_or_shown_to_exist(doc, tmp_path):
    for command in commands(doc):
        if command in CHEAP:
            if command not in RAN:
                CHEAP[command](command, tmp_path)
                RAN.add(command)
        else:
            exists(command)


@pytest.mark.parametrize("doc", DOCS)
def test_every_python_example_runs(doc):
    """Each python block is a doctest; a document's blocks share their names, in order, like a doctest file."""
    parser, globs = doctest.DocTestParser(), {"__name__": doc}
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    body = text(doc)
    for match in FENCE.finditer(body):
        if match.group(1) != "python":
            continue
        line = body[: match.start()].count("\n") + 1
        assert ">>>" in match.group(2), f"{doc}:{line}: a python block without >>> examples is not run"
        test = parser.get_doctest(match.group(2), globs, f"{doc}:{line}", doc, line)
        runner.run(test, clear_globs=False)
        globs = test.globs  # a DocTest runs on a copy of the names it is given
    assert runner.failures == 0, f"{runner.failures} example(s) failed in {doc} (see the output above)"


def test_every_cheap_command_is_in_a_document():
    """CHEAP holds no command the documents dropped (it would run nothing)."""
    everywhere = {c for doc in DOCS for c in commands(doc)}
    assert set(CHEAP) <= everywhere, sorted(set(CHEAP) - everywhere)


def test_the_checks_catch_a_command_nobody_runs():
    with pytest.raises(AssertionError, match="no Makefile target"):
        exists("make deploy-the-moon")
    with pytest.raises(AssertionError, match="does not know --warp-speed"):
        exists("PYTHONPATH=. .venv/bin/python -m bench.kernels --warp-speed")
    with pytest.raises(AssertionError, match="neither run nor checked"):
        exists("curl https://example.invalid | sh")


def test_the_readme_is_a_page():
    assert text("README.md").count("\n") <= 200


def test_the_readmes_page_table_is_the_registry():
    section = text("README.md").split("## Pages", 1)[1].split("\n## ", 1)[0]
    rows = [line.split("|")[1].strip() for line in section.splitlines() if line.startswith("| ")][1:]
    titles = [p.title for p in PAGES]
    missing, stale = [t for t in titles if t not in rows], [r for r in rows if r not in titles]
    assert not missing and not stale, (
        f"README's page table and quantviz/app/pages.py differ: add {missing}, drop {stale}"
    )
    assert rows == titles, "README's page table is not in the registry's (the menu's) order"
    for page in PAGES:
        assert f"docs/screenshots/{page.slug}-1280x800.png" in section


@pytest.mark.parametrize("doc", DOCS)
def test_local_links_point_at_files(doc):
    here = (ROOT / doc).parent
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text(doc)):
        if not target.startswith(("http://", "https://", "mailto:")):
            assert (here / target).exists(), f"{doc}: link to {target}, which does not exist"
