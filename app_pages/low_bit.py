"""Low-bit and float formats: int8, int4, int2 and FP8 on one number line for the same data."""

import streamlit as st

from quantviz.app import figures, tables
from quantviz.app.state import show_problem
from quantviz.app.widgets import data_controls, page_header, quant_controls, show_figure, show_table
from quantviz.errors import QuantVizError
from quantviz.formats import compare_formats, fp8_values
from quantviz.teach.fmt import fmt
from quantviz.teach.formats import int8_vs_fp8

settings = quant_controls(show=())
page_header(
    "Low-bit and float formats",
    "An integer grid spaces its values evenly; a float format spaces them by powers of two, so it is fine near 0 and "
    "coarse far out. Here int8, int4, int2 and FP8 (E4M3, E5M2) quantize the same data, each scaled so that the "
    "largest |value| maps to its largest code. FP8 rounds to nearest even "
    "and saturates at ±448 (E4M3) or ±57344 (E5M2).",
    settings,
)
x = data_controls("lb_", size=20_000, max_size=2_000_000).values
try:
    results = compare_formats(x)
except QuantVizError as exc:
    show_problem("Cannot compare formats:", exc)
    st.stop()
show_table(
    settings,
    tables.formats_table(results),
    hide_index=True,
    column_config={"MSE": st.column_config.NumberColumn(format="%.3e")},
)
show_figure(figures.formats_figure(results), settings)
show_figure(
    figures.bars_figure(
        [r.name for r in results],
        {"SQNR (dB)": [r.sqnr_db for r in results]},
        title="SQNR side by side",
        x_title="format",
        y_title="SQNR (dB)",
    ),
    settings,
)
if not settings.presenter:
    e4, e5 = fp8_values("e4m3"), fp8_values("e5m2")
    st.markdown(
        f"- **E4M3**: 3 mantissa bits, max {fmt(e4[-1])}, smallest step {fmt(e4[1], 3)} — precision near 0.\n"
        f"- **E5M2**: 2 mantissa bits, max {fmt(e5[-1])} — range for gradients, less precision.\n"
        + int8_vs_fp8(results)
    )
