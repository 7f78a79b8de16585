"""Calibration and clipping: min-max, percentile, MSE-optimal and KL-entropy ranges on data with outliers."""

import numpy as np
import pandas as pd
import streamlit as st

from quantviz.app import figures
from quantviz.app.state import float_field, prime, remember, show_problem
from quantviz.app.widgets import NOT_ROUNDING, data_controls, page_header, quant_controls, show_figure, show_table
from quantviz.calibrate import MAX_CALIBRATION_SAMPLES, MethodResult, best_method, calibrate_all, measure_calibrations
from quantviz.errors import QuantVizError
from quantviz.grid import GridOptions
from quantviz.teach.fmt import fmt
from quantviz.teach.glossary import link_jargon

settings = quant_controls(show=tuple(c for c in NOT_ROUNDING if c != "range"))
page_header(
    "Calibration and clipping",
    "A few outliers stretch a min-max range and waste codes on values that almost never occur; clip too hard and the "
    "clipped values carry large errors. Calibrators choose where to cut. The curve shows the total error for every "
    "threshold, split into its rounding and clipping parts, with each method's choice marked on it.",
    settings,
)
data = data_controls("cal_", distribution="outliers", size=50_000, max_size=2_000_000)
x = data.values
PCT = float_field("cal_pct", 99.9, 99.0, 100.0)
prime([PCT])
pct = st.slider(
    "Percentile",
    99.0,
    100.0,
    key="w_cal_pct",
    step=0.01,
    format="%.2f",
    help="Keep this share of values inside the range; clip the rest.",
)
remember([PCT])


@st.cache_data(max_entries=16, show_spinner="Calibrating…")
def _calibrate(x: np.ndarray, pct: float, options: GridOptions, convention: str) -> tuple:
    calibrations, curve = calibrate_all(x, percentile=pct, options=options, convention=convention)
    return calibrations, curve, measure_calibrations(x, calibrations, options=options, convention=convention)


try:
    calibrations, curve, results = _calibrate(x, float(pct), settings.options(), settings.convention)
except QuantVizError as exc:
    show_problem("Cannot calibrate these values:", exc)
    st.stop()


def _table_row(r: MethodResult) -> dict:
    cal = r.calibration
    row = {"method": cal.method, "range": f"[{fmt(cal.rmin, 5)}, {fmt(cal.rmax, 5)}]"}
    if r.stats is None:
        return {**row, "note": r.problem}
    s = r.stats
    return {
        **row,
        "scale": fmt(r.qparams.scale, 5),
        "MSE": s.mse,
        "rounding MSE": s.rounding_mse,
        "clipping MSE": s.clipping_mse,
        "SQNR (dB)": round(s.sqnr_db, 2),
        "clipped": f"{s.clipped_share:.3%}",
    }


rows = [_table_row(r) for r in results]
table = pd.DataFrame(rows)
best = best_method(results)
show_table(
    settings,
    table,
    hide_index=True,
    column_config={c: st.column_config.NumberColumn(format="%.3e") for c in ("MSE", "rounding MSE", "clipping MSE")},
)
if best is not None:
    note = ""
    minmax = table.iloc[0]
    if not settings.presenter and best != 0 and minmax["method"] == "min-max":
        winner = table.loc[best]
        clips = "clips nothing" if minmax["clipped"] == f"{0:.3%}" else f"clips almost nothing ({minmax['clipped']})"
        note = (
            f"Min-max {clips}, but its rounding MSE is "
            f"{minmax['rounding MSE'] / winner['MSE']:.1f}× the total MSE of {winner['method']}: the range it keeps "
            "for the few largest values makes every step coarser."
        )
    elif not settings.presenter and best == 0:
        note = "Here clipping would cost more than the coarser steps min-max takes: keeping every value wins."
    st.markdown(f"Lowest total error here: **{table.loc[best, 'method']}**. {note}")
show_figure(figures.clipping_figure(curve, calibrations), settings)
show_figure(
    figures.histogram_figure(
        x,
        ranges={c.method: (c.rmin, c.rmax) for c in calibrations},
        log_y=True,
        title="The data (log counts) and each method's range",
    ),
    settings,
)


def _result(method: str) -> MethodResult | None:
    return next((r for r in results if r.calibration.method.startswith(method) and r.stats is not None), None)


def _clipped(method: str) -> str:
    r = _result(method)
    return "—" if r is None else f"{r.stats.clipped_share:.3%}"


def _fewer_clipped_than_cut() -> bool:
    r = _result("percentile")
    return r is not None and r.stats.clipped_share < 0.5 * (100.0 - float(pct)) / 100 * (2 if settings.symmetric else 1)


if not settings.presenter:
    st.markdown(
        link_jargon(
            f"- **Min-max** takes the data's own ends: it clips {_clipped('min-max')} here (more than nothing only "
            "where the convention moves the range, as TF's nudge does), so its error is rounding — large when outliers "
            "stretch the range.\n"
            f"- **Percentile** sets its range at the {fmt(pct)}th percentile whatever that costs; here it clips "
            f"{_clipped('percentile')} of the values"
            + (
                ", fewer than its range leaves out, because the codes are stored on a wider grid than the one s and z "
                "were chosen on, and that grid reaches past the range"
                if _fewer_clipped_than_cut()
                else ""
            )
            + ".\n"
            f"- **MSE-optimal** searches the threshold with the lowest total error (the bottom of the thick "
            f"{figures.COLOUR_NAMES[figures.INK]} curve).\n"
            "- **KL entropy** (TensorRT's calibrator) keeps the histogram's shape: it compares the clipped "
            f"distribution with its {2 ** (settings.bits - 1)}-level version and picks the threshold that loses the "
            "least information."
        )
    )
    st.caption(
        f"Curve computed on {min(np.size(x), MAX_CALIBRATION_SAMPLES):,} evenly spaced values; {settings.bits} bits, "
        + ("symmetric" if settings.symmetric else "asymmetric")
        + ", from the sidebar."
    )
