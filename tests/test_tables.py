"""The pages' table builders (quantviz.app.tables): each row read from the result it is built from."""

from __future__ import annotations

import numpy as np

from quantviz.app import tables
from quantviz.formats import compare_formats
from quantviz.intmath import worked_fully_connected
from quantviz.teach.blocks import block_view
from quantviz.teach.compare import compare_conventions
from quantviz.teach.zero_point import zero_point_fates


def test_requantize_table_error_is_dequantized_minus_float() -> None:
    r = worked_fully_connected(batch=2, n_in=4, n_out=3, per_channel=True, seed=5)
    table = tables.requantize_table(r)
    assert len(table) == r.steps.acc.size
    assert np.array_equal(table["+ z₃, clamp → q₃"], r.steps.output.ravel())
    assert np.allclose(table["error"], r.dequantized_output.ravel() - r.float_output.ravel(), atol=0)
    acc = tables.accumulator_table(r)
    assert np.array_equal(acc["= acc"], acc["Σ q₁·q₂"] + acc["− z₁·Σ q₂"] + acc["+ bias (int32, scale s₁s₂)"])


def test_codes_table_names_its_columns() -> None:
    table = tables.codes_table(np.array([1, 2, 3]), "in ")
    assert list(table.columns) == ["in 0", "in 1", "in 2"] and table.shape == (1, 3)


def test_conventions_table_colours_only_cells_unlike_the_first_row() -> None:
    probes = np.array([0.0, 0.5, 1.0])
    rows = compare_conventions(-1.0, 1.0, probes.tolist(), bits=8, signed=False)
    styled = tables.conventions_table(rows, probes)
    assert styled is not None
    frame = styled.data
    styles = styled._compute().ctx  # {(row, col): [(prop, value)]}, only the coloured cells
    for (i, j), _ in styles.items():
        assert frame.iat[i, j] != frame.iat[0, j]
    assert all(i > 0 for i, _ in styles)
    assert tables.conventions_table([r._replace(qparams=None) for r in rows], probes) is None


def test_block_bytes_table_has_one_row_per_stored_byte() -> None:
    view = block_view(np.linspace(-1, 1, 32, dtype=np.float32), "Q4_0")
    frame = tables.block_bytes_table(view).data
    assert list(frame["byte"]) == list(range(view.data.size))
    assert [int(h, 16) for h in frame["hex"]] == view.data.tolist()
    values = tables.block_values_table(view)
    assert np.array_equal(values["code"], view.codes)
    assert np.allclose(values["error"], view.decoded.astype(np.float64) - view.values, atol=0)


def test_zero_point_fates_table_one_row_per_convention() -> None:
    fates = zero_point_fates(250, 1000)
    table = tables.zero_point_fates_table(fates)
    assert list(table["convention"]) == [f.label for f in fates]
    assert list(table["z"]) == [f.zero_point for f in fates]


def test_formats_table_reads_the_results() -> None:
    results = compare_formats(np.random.default_rng(0).normal(size=2000))
    table = tables.formats_table(results)
    assert list(table["format"]) == [r.name for r in results]
    assert list(table["distinct values"]) == [int(r.grid.size) for r in results]
