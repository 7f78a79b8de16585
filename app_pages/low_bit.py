"""Low-bit and float formats: int8, int4, int2 and FP8 on one number line for the same data."""

import pandas as pd
import streamlit as st

from quantviz import figures
from quantviz.errors import QuantVizError
from quantviz.explain import fmt
from quantviz.formats import compare_formats, fp8_values
from quantviz.samples import DISTRIBUTIONS, sample_data
from quantviz.widgets import (
    choice_field,
    int_field,
    page_header,
    prime,
    quant_controls,
    remember,
    show_figure,
    show_problem,
)

settings = quant_controls(rounding=False)
page_header(
    "Low-bit and float formats",
    "An integer grid spaces its values evenly; a float format spaces them by powers of two, so it is fine near 0 and "
    "coarse far out. Here int8, int4, int2 and FP8 (E4M3, E5M2) quantize the same data, each scaled so that the "
    "largest |value| maps to its largest code. FP8 rounds to nearest even and saturates at ±448 (E4M3) or ±57344 (E5M2).",
    settings,
)
FIELDS = [choice_field("lb_dist", "normal", {k: k for k in DISTRIBUTIONS}), int_field("lb_size", 20_000, 10, 2_000_000), int_field("lb_seed", 0, 0, 2**31 - 1)]
prime(FIELDS)
c = st.columns(3)
dist = c[0].selectbox("Distribution", list(DISTRIBUTIONS), key="w_lb_dist", help="Long tails favour FP8; uniform data favours integers.")
size = c[1].number_input("Sample size", 10, 2_000_000, key="w_lb_size", step=10_000, help="Number of values.")
seed = c[2].number_input("Seed", 0, 2**31 - 1, key="w_lb_seed", help="Same seed, same sample.")
remember(FIELDS)
x = sample_data(dist, int(size), int(seed))
try:
    results = compare_formats(x)
except QuantVizError as exc:
    show_problem("Cannot compare formats:", exc)
    st.stop()
st.dataframe(pd.DataFrame([{"format": r.name, "MSE": r.mse, "SQNR (dB)": round(r.sqnr_db, 2), "distinct values": int(r.grid.size)} for r in results]),
             hide_index=True, column_config={"MSE": st.column_config.NumberColumn(format="%.3e")})
show_figure(figures.formats_figure(results), settings)
show_figure(figures.bars_figure([r.name for r in results], {"SQNR (dB)": [r.sqnr_db for r in results]},
                                title="SQNR side by side", x_title="format", y_title="SQNR (dB)"), settings)
if not settings.presenter:
    e4, e5 = fp8_values("e4m3"), fp8_values("e5m2")
    st.markdown(f"- **E4M3**: 3 mantissa bits, max {fmt(e4[-1])}, smallest step {fmt(e4[1], 3)} — precision near 0.\n"
                f"- **E5M2**: 2 mantissa bits, max {fmt(e5[-1])} — range for gradients, less precision.\n"
                "- **int8** beats FP8 when values fill the range evenly; FP8 wins on long-tailed data, where most values are small.")
