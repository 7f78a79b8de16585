"""QuantViz as a package: the wheel holds only ``quantviz``, installs in a fresh venv with numpy and ml_dtypes alone,
imports there without streamlit, and its ``quantviz`` console script runs the report command.

Nothing is downloaded: the wheel is built with the setuptools already installed (``--no-build-isolation``), and the
fresh venv (no system site-packages) sees only numpy and ml_dtypes (then tflite and flatbuffers, the ``models`` extra
the TFLite fixture needs), linked in from this environment, so an import of anything else fails there.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import numpy as np
import pytest
from packaging.requirements import Requirement

pytestmark = pytest.mark.package

ROOT = Path(__file__).resolve().parents[1]
# Not part of a source checkout's package (the docs' screenshots are large; the rest is local state).
NOT_COPIED = shutil.ignore_patterns(
    ".git",
    ".venv*",
    "__pycache__",
    "*.pyc",
    "docs",
    "build",
    "*.egg-info",
    "test-artifacts",
    ".hypothesis",
    ".pytest_cache",
    ".ruff_cache",
)


def run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run a command; on failure the assertion shows its output."""
    done = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PIP_NO_INDEX": "1", "PYTHONDONTWRITEBYTECODE": "1"},
    )
    assert done.returncode == 0, f"{args}: exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done


def link_distribution(name: str, site: Path) -> None:
    """Make an installed distribution (its packages, shared libraries and dist-info) visible in ``site``."""
    dist = importlib.metadata.distribution(name)
    tops = {f.parts[0] for f in dist.files or () if f.parts[0] != ".." and not f.parts[0].endswith(".py")}
    tops |= {f.parts[0] for f in dist.files or () if len(f.parts) == 1 and f.parts[0].endswith(".py")}
    for top in tops:
        source = Path(dist.locate_file(top))
        if source.exists() and not (site / top).exists():
            (site / top).symlink_to(source)


# Data files a package may carry beside its code, in a package and in a plain folder under one (no __init__.py).
PROBES = ("quantviz/app/probe_component.js", "quantviz/probe_data/tables/probe.json", "quantviz/probe_data/probe.onnx")


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    """A copy of the source tree (the build leaves build/ and egg-info behind it), with probe data files added."""
    source = tmp_path_factory.mktemp("package") / "src"
    shutil.copytree(ROOT, source, ignore=NOT_COPIED, symlinks=True)
    for probe in PROBES:
        (source / probe).parent.mkdir(parents=True, exist_ok=True)
        (source / probe).write_text("probe\n")
    return source


@pytest.fixture(scope="module")
def wheel(source) -> Path:
    """The wheel, built offline from the copy."""
    out = source.parent / "dist"
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", out, source)
    (found,) = out.glob("quantviz-*.whl")
    return found


@pytest.fixture(scope="module")
def venv(wheel, tmp_path_factory) -> Path:
    """A fresh venv (system site-packages off) with the wheel installed by pip and only numpy and ml_dtypes."""
    env = tmp_path_factory.mktemp("venv") / "v"
    run(sys.executable, "-m", "venv", "--without-pip", env)
    (site,) = env.glob("lib/python*/site-packages")
    for name in ("numpy", "ml_dtypes"):
        link_distribution(name, site)
    run(sys.executable, "-m", "pip", "--python", env / "bin" / "python", "install", "--no-deps", "-q", wheel)
    return env


def test_the_wheel_holds_only_quantviz_and_all_of_it(wheel, source):
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names}
    assert tops == {"quantviz", f"{wheel.name.split('-py3')[0]}.dist-info"}
    expected = {
        p.relative_to(source).as_posix()
        for p in (source / "quantviz").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    }
    assert set(PROBES) <= expected  # the data files travel with the code
    assert {n for n in names if n.startswith("quantviz/")} == expected


def test_the_wheel_declares_the_library_dependencies_extras_and_command(wheel):
    archive = zipfile.ZipFile(wheel)
    info = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
    metadata = archive.read(info).decode()
    requires = [
        Requirement(line.split(": ", 1)[1]) for line in metadata.splitlines() if line.startswith("Requires-Dist: ")
    ]
    plain = {r.name for r in requires if r.marker is None}
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert plain == {Requirement(r).name for r in project["dependencies"]} and {"numpy", "ml_dtypes"} <= plain
    assert not plain & {"streamlit", "plotly", "pandas"}  # the app's libraries are an extra, not the library's
    extras = {line.split(": ", 1)[1] for line in metadata.splitlines() if line.startswith("Provides-Extra: ")}
    assert {"app", "models"} <= extras
    points = archive.read(info.replace("METADATA", "entry_points.txt")).decode()
    assert "quantviz = quantviz.__main__:main" in points


def test_the_extras_hold_the_pinned_versions():
    """Every range in pyproject.toml admits the version requirements.txt pins (the one the suite tests)."""
    pins = dict(
        line.split("==")
        for line in (ROOT / "requirements.txt").read_text().splitlines()
        if "==" in line and not line.startswith("#")
    )
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    ranges = [*project["dependencies"], *(r for extra in project["optional-dependencies"].values() for r in extra)]
    undeclared = sorted(set(pins) - {Requirement(r).name for r in ranges})
    assert not undeclared, f"requirements.txt pins {undeclared}: declare them in pyproject.toml (library or an extra)"
    for text in ranges:
        requirement = Requirement(text)
        assert requirement.specifier.contains(pins[requirement.name]), (text, pins[requirement.name])


def test_the_installed_package_imports_without_the_app_libraries(venv):
    code = (
        "import importlib.util, sys, quantviz as qv; "
        "print(qv.__file__); "
        "print([m for m in ('streamlit', 'plotly', 'pandas') if importlib.util.find_spec(m)]); "
        "print(qv.quantize([1000.0], qv.choose_qparams(-1000, 1000, bits=8, signed=False)).tolist())"
    )
    lines = run(venv / "bin" / "python", "-c", code, cwd=venv).stdout.splitlines()
    assert lines[0].startswith(str(venv)) and "site-packages" in lines[0]  # the installed copy, not the source tree
    assert lines[1] == "[]"  # none of them can even be found there
    assert lines[2] == "[255]"
    plot = subprocess.run([venv / "bin" / "python", "-c", "import quantviz.plot"], capture_output=True, text=True)
    assert plot.returncode == 1 and "pip install 'quantviz[app]'" in plot.stderr  # says what to install


def test_the_console_script_reports_a_model_file(venv, tmp_path):
    rng = np.random.default_rng(0)
    model = tmp_path / "weights.npz"
    np.savez(model, dense=rng.normal(size=(16, 32)).astype(np.float32), codes=np.arange(-8, 8, dtype=np.int8))
    out = tmp_path / "report.json"
    done = run(venv / "bin" / "quantviz", "report", model, "--json", out, cwd=tmp_path)
    assert "2 tensors" in done.stdout.splitlines()[-1]
    report = json.loads(out.read_text())
    assert report["format"] == "npz" and {t["name"] for t in report["tensors"]} == {"dense", "codes"}
    assert [t["name"] for t in report["float_tensors"]] == ["dense"]


def test_the_console_script_reads_tflite_with_the_models_extra(venv, tmp_path):
    (site,) = venv.glob("lib/python*/site-packages")
    for name in ("tflite", "flatbuffers"):
        link_distribution(name, site)
    done = run(venv / "bin" / "quantviz", "report", ROOT / "tests" / "fixtures" / "full_int8.tflite", cwd=tmp_path)
    local = subprocess.run(
        [sys.executable, "-m", "quantviz", "report", ROOT / "tests/fixtures/full_int8.tflite"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    assert done.stdout == local.stdout and "quantized" in done.stdout
