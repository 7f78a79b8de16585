"""docs/notebook.ipynb runs top to bottom (nbclient, a real kernel) and shows the app's figures."""

from __future__ import annotations

import json
import os
from pathlib import Path

import nbclient
import nbformat
import pytest

from quantviz import plot

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "docs" / "notebook.ipynb"
PLOTLY = "application/vnd.plotly.v1+json"


@pytest.fixture(scope="module")
def executed() -> nbformat.NotebookNode:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    # The kernel imports this checkout's quantviz (a user would have it installed); it starts in docs/.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    client = nbclient.NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(ROOT / "docs")}}
    )
    client.execute(env=env)  # keyword arguments go to the kernel's start
    return nb


def figures(nb: nbformat.NotebookNode) -> list[dict]:
    return [
        out["data"][PLOTLY]
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.outputs
        if PLOTLY in out.get("data", {})
    ]


def test_the_notebook_is_committed_without_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    assert all(not cell.outputs for cell in nb.cells if cell.cell_type == "code")


def test_every_figure_cell_shows_a_plotly_figure(executed):
    errors = [
        out for cell in executed.cells if cell.cell_type == "code" for out in cell.outputs if out.output_type == "error"
    ]
    assert not errors
    shown = figures(executed)
    calls = sum("plot." in cell.source.splitlines()[-1] for cell in executed.cells if cell.cell_type == "code")
    assert len(shown) == calls == 6
    titles = [fig["layout"]["title"]["text"] for fig in shown]
    assert len(set(titles)) == len(titles)


def test_the_notebooks_figure_is_the_one_quantviz_plot_returns(executed):
    first = figures(executed)[0]
    ours = json.loads(plot.number_line(-1000, 1000, bits=8).to_json())
    assert first["data"] == ours["data"] and first["layout"]["title"] == ours["layout"]["title"]
    printed = "".join(
        out.get("text", "") for cell in executed.cells if cell.cell_type == "code" for out in cell.outputs
    )
    assert "s = 7.843137255, z = 128" in printed
