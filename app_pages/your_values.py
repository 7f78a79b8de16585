"""Your values: paste or upload numbers, see each one's code, error and the whole table."""

import streamlit as st

import quantviz as qv
from quantviz.app import figures
from quantviz.app.state import (
    bool_field,
    choice_field,
    labels,
    left_out_of_link,
    plain,
    prime,
    remember,
    set_user_values,
    show_problem,
    text_field,
)
from quantviz.app.tables import values_table
from quantviz.app.widgets import ALL_CONTROLS, page_header, qparams_metrics, quant_controls, show_figure, show_table
from quantviz.errors import QuantVizError
from quantviz.inputs import MAX_UPLOAD_BYTES, load_upload, parse_values
from quantviz.metrics import distinct_codes, error_stats
from quantviz.teach.fmt import fmt

TABLE_ROWS = 5_000
DOWNLOAD_ROWS = 1_000_000
settings = quant_controls(show=ALL_CONTROLS)
page_header(
    "Your values",
    "Paste numbers (separated by commas, spaces, semicolons or new lines; brackets and scientific notation are fine) "
    f"or upload a `.npy`, `.csv`, `.tsv` or `.txt` file of up to {MAX_UPLOAD_BYTES // 2**20} MB. Nothing you send is "
    "run or unpickled. Each value's code, dequantized value and error are below, ready to download.",
    settings,
)
RANGE_CHOICES = {"data": "From the data (min and max)", "sidebar": "From the sidebar"}
PASTED = text_field("values", "39.215686275, 0, 1000, -1000")
RANGE = choice_field("range_from", "sidebar", RANGE_CHOICES)
DROP = bool_field("drop_nonfinite", False)
FIELDS = [PASTED, RANGE, DROP]
prime(FIELDS)

left, right = st.columns([3, 2])
text = left.text_area(
    "Values", key="w_values", height=130, help="Your text stays here as typed, even when it cannot be read."
)
upload = right.file_uploader(
    "…or upload a file",
    type=["npy", "csv", "tsv", "txt"],
    key="w_upload",
    help="A .npy array of any shape (numeric dtypes only), or text with numbers; a header line is skipped.",
)
range_from = right.radio(
    "Range",
    list(RANGE_CHOICES),
    format_func=labels(RANGE_CHOICES),
    key="w_range_from",
    horizontal=True,
    help="Calibrate on your data (min-max), or use the range set in the sidebar.",
)
drop = right.checkbox(
    "Ignore NaN / inf values", key="w_drop_nonfinite", help="Drop them (and say how many) instead of stopping."
)
remember(FIELDS)
if left_out_of_link("values"):
    left.caption(":material/link_off: These values are too long to fit in a link; the link keeps your other settings.")


def _parsed(key: tuple, parse):
    """Parse once per distinct input: reruns (a slider moved) reuse the result instead of re-reading 80 MB."""
    cache = st.session_state.get("_qv_parsed")
    if cache is None or cache[0] != key:
        cache = (key, parse())
        st.session_state["_qv_parsed"] = cache
    return cache[1]


try:
    if upload is not None:
        parsed = _parsed(
            ("file", upload.file_id, drop), lambda: load_upload(upload.name, upload.getvalue(), drop_nonfinite=drop)
        )
        source = f"{upload.name} (shape {parsed.shape})"
    else:
        parsed = _parsed(("text", text, drop), lambda: parse_values(text, drop_nonfinite=drop))
        source = "pasted text"
except QuantVizError as exc:
    show_problem("Could not read your values:", exc)
    st.stop()
for note in parsed.notes:
    st.info(plain(note), icon=":material/info:")
x = parsed.values
set_user_values(x, source)

rmin, rmax = (float(x.min()), float(x.max())) if range_from == "data" else (settings.rmin, settings.rmax)
try:
    qp = qv.choose_qparams(rmin, rmax, convention=settings.convention, options=settings.options())
except QuantVizError as exc:
    show_problem(f"Cannot choose s and z for [{fmt(rmin)}, {fmt(rmax)}]:", exc)
    st.stop()
st.caption(
    f"{x.size:,} values from {source}; range used [{fmt(rmin, 8)}, {fmt(rmax, 8)}] "
    f"({RANGE_CHOICES[range_from].lower()})."
)
qparams_metrics(qp)
trace = qv.quantize_trace(
    x,
    qp,
    convention=settings.convention,
    rounding=settings.rounding,
    add_zero_point_before_rounding=settings.add_zero_point_before_rounding,
)
stats = error_stats(trace)
m = st.columns(5)
m[0].metric("MSE", fmt(stats.mse, 4))
m[1].metric("max |error|", fmt(stats.max_abs_error, 4), help=f"s/2 = {fmt(qp.scale / 2, 4)}")
m[2].metric("SQNR", f"{stats.sqnr_db:.2f} dB" if stats.sqnr_db != float("inf") else "∞ (no error)")
m[3].metric("clipped", f"{int(trace.clipped.sum()):,} ({stats.clipped_share:.1%})")
m[4].metric(
    "distinct codes used", f"{distinct_codes(trace.q, qp.storage_min):,} of {qp.storage_max - qp.storage_min + 1:,}"
)  # of the stored grid: PyTorch keeps 8-bit codes below 8 bits

show_figure(
    figures.number_line_figure(
        qp,
        chosen_range=(rmin, rmax),
        values=trace.x,
        codes=trace.q,
        title="Your values (top) and the codes they land on (bottom)",
    ),
    settings,
)
if x.size > 20:
    show_figure(
        figures.histogram_figure(x, ranges={"range used": (rmin, rmax), "representable": (qp.real_min, qp.real_max)}),
        settings,
    )

st.subheader("Every value")
table = values_table(trace, qp, limit=TABLE_ROWS)
show_table(
    settings,
    table,
    hide_index=True,
    height=min(38 + 35 * len(table), 420),
    column_config={
        "x": st.column_config.NumberColumn(format="%.10g"),
        "x / s": st.column_config.NumberColumn(format="%.10g"),
        "dequantized": st.column_config.NumberColumn(format="%.10g"),
        "error": st.column_config.NumberColumn(format="%.4g"),
    },
)
if x.size > TABLE_ROWS:
    st.caption(
        f"Showing the first {TABLE_ROWS:,} of {x.size:,} rows; the download has up to {min(x.size, DOWNLOAD_ROWS):,}."
    )


def _csv(x=x[:DOWNLOAD_ROWS], qp=qp, settings=settings) -> bytes:
    # Recomputed on click from the values alone, so no rerun keeps a 10-million-row trace alive for the button.
    rows = qv.quantize_trace(
        x,
        qp,
        convention=settings.convention,
        rounding=settings.rounding,
        add_zero_point_before_rounding=settings.add_zero_point_before_rounding,
    )
    return values_table(rows, qp).to_csv(index=False, float_format="%.17g").encode()


st.download_button(
    "Download the table (CSV)",
    data=_csv,
    file_name="quantviz_values.csv",
    mime="text/csv",
    icon=":material/download:",
    help="x, x/s, rounded value, q, binary, dequantized, error, clipped — full precision.",
)
