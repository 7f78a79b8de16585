"""Per tensor, per channel, per group: one scale for a whole matrix or one per row or block."""

import numpy as np
import streamlit as st

import quantviz as qv
from quantviz.app import figures
from quantviz.app.state import float_field, int_field, labels, prime, remember, show_link_messages, show_problem
from quantviz.app.widgets import NOT_ROUNDING, page_header, quant_controls, show_figure
from quantviz.errors import QuantVizError
from quantviz.granularity import SCHEMES, quantize_weights, weight_matrix
from quantviz.inputs import load_upload
from quantviz.teach.fmt import fmt

settings = quant_controls(show=tuple(c for c in NOT_ROUNDING if c != "range"))
page_header(
    "Per tensor, per channel, per group",
    "Weight matrices often have output channels (rows) of very different sizes. One scale for the whole tensor is set "
    "by the largest row, so small rows get only a few codes. One scale per row — or per group of k values — fits each "
    "part. That is why weights are usually quantized symmetric per channel, while activations, which change with every "
    "input, are asymmetric per tensor.",
    settings,
)
FIELDS = [
    int_field("pc_rows", 32, 1, 1024),
    int_field("pc_cols", 128, 1, 4096),
    float_field("pc_spread", 2.0, 0.0, 4.0),
    int_field("pc_group", 32, 1, 4096),
    int_field("pc_seed", 0, 0, 2**31 - 1),
]
prime(FIELDS)
show_link_messages()  # this page's own fields are checked after the header: say so on the first view
c = st.columns(5)
rows = c[0].number_input("Rows (output channels)", 1, 1024, key="w_pc_rows", help="Number of output channels.")
cols = c[1].number_input("Columns (inputs)", 1, 4096, key="w_pc_cols", help="Number of inputs per channel.")
spread = c[2].slider(
    "Spread of row sizes (decades)", 0.0, 4.0, key="w_pc_spread", step=0.1, help="Rows' magnitudes span 10^spread."
)
group = c[3].number_input("Group size k", 1, 4096, key="w_pc_group", help="Values per group in the per-group scheme.")
seed = c[4].number_input("Seed", 0, 2**31 - 1, key="w_pc_seed", help="Same seed, same matrix.")
remember(FIELDS)
upload = st.file_uploader(
    "…or upload a 2-D weight matrix (.npy)", type=["npy"], key="w_pc_upload", help="Rows are output channels."
)

try:
    if upload is not None:
        loaded = load_upload(upload.name, upload.getvalue())
        if len(loaded.shape) != 2:
            raise QuantVizError(f"{upload.name} has shape {loaded.shape}; a weight matrix needs 2 dimensions")
        w = loaded.values.reshape(loaded.shape)
    else:
        w = weight_matrix(int(rows), int(cols), spread_decades=float(spread), seed=int(seed))
    options = {**settings.options().as_kwargs(), "convention": settings.convention}
    if options.pop("reduce_range"):
        st.caption(
            "reduce_range is an activation option (7-bit activations for some integer kernels); weights here "
            "use the full grid, so it is left off on this page."
        )
    results = {name: quantize_weights(w, name, group_size=int(group), **options) for name in SCHEMES}
except QuantVizError as exc:
    show_problem("Cannot quantize this matrix:", exc)
    st.stop()

m = st.columns(3)
for col, (name, r) in zip(m, results.items(), strict=True):
    col.metric(SCHEMES[name], f"MSE {fmt(float(np.mean(r.row_mse)), 3)}", help=f"{r.scales.size:,} scale(s) stored")
st.caption(
    f"{'Symmetric' if settings.symmetric else 'Asymmetric'} {qv.grid_label(settings.bits, signed=settings.signed)}"
    f"{', narrow range' if settings.narrow_range else ''}, {qv.get_convention(settings.convention).label} convention "
    f"(from the sidebar); matrix {w.shape[0]}×{w.shape[1]}."
)
order = np.argsort(np.abs(w).max(axis=1))
labels_rows = [str(i) for i in order]
show_figure(
    figures.bars_figure(
        labels_rows[:64] if len(order) > 64 else labels_rows,
        {SCHEMES[n]: r.row_relative_mse[order][:64] for n, r in results.items()},
        title="Noise relative to each row's own size, smallest rows first" + (" (first 64)" if len(order) > 64 else ""),
        x_title="row (sorted by its largest |weight|)",
        y_title="MSE / row's mean square (log)",
        log_y=True,
    ),
    settings,
)
scheme = st.radio(
    "Heatmap of |error| for",
    list(SCHEMES),
    format_func=labels(SCHEMES),
    horizontal=True,
    key="w_pc_heat",
    help="Where in the matrix the error sits.",
)
show_figure(
    figures.heatmap_figure(
        np.abs(results[scheme].dequantized - w), title=f"|error|, {SCHEMES[scheme]}", x_title="column", y_title="row"
    ),
    settings,
)
