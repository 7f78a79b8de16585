"""Rounding error: what rounding and clipping cost, and the 6 dB-per-bit rule."""

import numpy as np
import streamlit as st

import quantviz as qv
from quantviz.app import figures
from quantviz.app.widgets import NOT_ORDER, choose_or_stop, data_controls, page_header, quant_controls, show_figure
from quantviz.metrics import error_stats, sqnr_by_bits, uniform_noise_power
from quantviz.teach.fmt import fmt
from quantviz.teach.sqnr import sqnr_curve_reasons

settings = quant_controls(show=NOT_ORDER)
page_header(
    "Rounding error",
    "Inside the range every value moves by at most half a step, and for most data the error is spread evenly over "
    "[−s/2, s/2]: its power is s²/12. Outside the range, values are clipped and the error is as large as the "
    "overshoot. Pick a distribution, move the range, and watch the two kinds of error trade places.",
    settings,
)
qp = choose_or_stop(settings)

data = data_controls("", spread=300.0)
x, dist, generated = data.values, data.distribution, data.generated


def _fit_range() -> None:
    st.session_state["w_rmin"], st.session_state["w_rmax"] = float(x.min()), float(x.max())


fit_col, note_col = st.columns([1, 3])
fit_col.button(
    "Fit the range to the data",
    on_click=_fit_range,
    icon=":material/fit_width:",
    help="Set the sidebar's range to the data's min and max (min-max calibration).",
)
data_span = float(x.max() - x.min())
if data_span > 0 and (qp.real_max - qp.real_min) > 20 * data_span:
    note_col.warning(
        f"The range is {(qp.real_max - qp.real_min) / data_span:.0f}× wider than the data: most values share a "
        "handful of codes and the error is large. Fit the range to the data.",
        icon=":material/warning:",
    )

# x, error and clipped only, chunked and threaded: the full trace of 10 million values would hold eight arrays
trace = qv.get_convention(settings.convention).error_trace(
    x, qp, rounding=settings.rounding, add_zero_point_before_rounding=settings.add_zero_point_before_rounding
)
stats = error_stats(trace)
m = st.columns(6)
m[0].metric("MSE", fmt(stats.mse, 4), help="Mean of (dequantized − x)².")
m[1].metric(
    "RMSE",
    fmt(stats.rmse, 4),
    help=f"Compare s/√12 = {fmt(uniform_noise_power(qp.scale) ** 0.5, 4)} for uniform rounding error.",
)
m[2].metric("max |error|", fmt(stats.max_abs_error, 4), help=f"Half a step is s/2 = {fmt(qp.scale / 2, 4)}.")
m[3].metric("SQNR", f"{stats.sqnr_db:.2f} dB" if np.isfinite(stats.sqnr_db) else "∞", help="10·log10(mean x² / MSE).")
m[4].metric("clipped", f"{stats.clipped_share:.2%}", help="Share of values clamped to the end codes.")
m[5].metric(
    "MSE from clipping",
    f"{stats.clipping_mse / stats.mse:.1%}" if stats.mse else "0%",
    help="How much of the MSE comes from clipped values; the rest is rounding.",
)

show_figure(
    figures.histogram_figure(
        x,
        ranges={"chosen": (settings.rmin, settings.rmax), "representable": (qp.real_min, qp.real_max)},
        title=f"{x.size:,} values and the range",
        log_y=dist == "outliers" and generated,
    ),
    settings,
)
show_figure(figures.error_histogram_figure(trace.error[~trace.clipped], trace.error[trace.clipped], qp.scale), settings)

st.subheader("SQNR against bit width")
curve = sqnr_by_bits(
    x[:200_000],
    settings.rmin,
    settings.rmax,
    signed=settings.signed,
    symmetric=settings.symmetric,
    convention=settings.convention,
)
show_figure(
    figures.sqnr_figure(curve, title="Each bit buys about 6.02 dB, until clipping or the data says otherwise"), settings
)
if not settings.presenter and curve.bits.size:
    st.markdown("\n".join(f"- {r}" for r in sqnr_curve_reasons(curve)))
    if x.size > 200_000:
        st.caption(f"The SQNR curve uses the first 200,000 of the {x.size:,} values.")
