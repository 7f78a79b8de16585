"""Formats LLMs use: block scales (GGUF, NF4, MX, NVFP4), one block exactly, and all of them on one chart."""

import re

import numpy as np
import streamlit as st

from quantviz.app import figures, tables
from quantviz.app.state import choice_field, float_field, int_field, labels, prime, remember, show_link_messages
from quantviz.app.widgets import cached_format_map, data_controls, page_header, quant_controls, show_figure, show_table
from quantviz.blocks import FORMATS, fake_quantize, importance_matrix, nf4
from quantviz.blocks.compare import block_rms_error, mxfp4_disagreement
from quantviz.blocks.mix import FILE_TYPES, outlier_activations
from quantviz.teach import superblock
from quantviz.teach.blocks import block_view
from quantviz.teach.fmt import fmt
from quantviz.teach.glossary import link_jargon
from quantviz.teach.mix import mix_sentence, mix_summary

FOUR_BIT = re.compile(r"^I?Q4_|NF4|FP4|INT4")  # formats whose elements are 4 bits
settings = quant_controls(show=())
four_bit = [f.bits_per_weight for f in FORMATS.values() if FOUR_BIT.search(f.name)]
page_header(
    "Formats LLMs use: block scales",
    "A GGUF file that says Q4_0, a QLoRA notebook with NF4, a datasheet with MXFP4 and NVFP4: all are r = s·(q − z) "
    "with the scale shared by a small block of values instead of a whole tensor. A block's scale fits its own values, "
    "so an outlier costs only its block — and every scale costs bits, which is why the 4-bit formats here store "
    f"{min(four_bit):g} to {max(four_bit):g} bits per weight (NF4 with double quantization, below, a little less). "
    "llama.cpp's K-quants (Q4_K …) nest two levels: 256-value super-blocks with a float16 scale, whose "
    "sub-blocks of 16 or 32 keep 6-bit scales of their own; Q4_K_M is a file mixing them (below).",
    settings,
)
data = data_controls("bf_", size=32_768, max_size=2_000_000, spread=1.0)
x_all = np.asarray(data.values, np.float32).reshape(-1)
usable = x_all.size // 1024 * 1024
if usable == 0:
    st.info("Block formats need at least 1,024 values (whole blocks of every size): add some.", icon=":material/info:")
    st.stop()
x = x_all[:usable]
if usable < x_all.size:
    st.caption(f"Using the first {usable:,} of {x_all.size:,} values (whole blocks of every format).")

st.subheader("One block, every number")
IMATRIX = {"none": "no importance matrix", "imatrix": "importance matrix"}
FIELDS = [
    choice_field("bf_fmt", "Q4_0", {k: k for k in FORMATS}),
    int_field("bf_blocks", 4, 1, 8),
    float_field("bf_outlier", 20.0, 1.0, 1000.0),
    choice_field("bf_imatrix", "none", IMATRIX),
    int_field("bf_ochan", 8, 0, 64),
]
MIX_FIELDS = [choice_field("bf_ftype", "Q4_K_M", {k: k for k in FILE_TYPES}), int_field("bf_layers", 32, 1, 128)]
prime(FIELDS + MIX_FIELDS)
show_link_messages()  # this page's own fields are checked after the header: say so on the first view
c = st.columns([2, 1, 2])
name = c[0].selectbox(
    "Format",
    list(FORMATS),
    format_func=labels({k: f"{k} — {f.bits_per_weight:g} bits/weight" for k, f in FORMATS.items()}),
    key="w_bf_fmt",
    help="The block format to look inside.",
)
n_blocks = c[1].number_input(
    "Blocks shown", 1, 8, key="w_bf_blocks", help="How many consecutive blocks the error chart shows."
)
outlier = c[2].slider(
    "Outlier: multiply value 0 by",
    1.0,
    1000.0,
    key="w_bf_outlier",
    step=1.0,
    help="Make the first value an outlier and watch its block, and only its block, lose precision.",
)
ic = st.columns([2, 3])
use_imatrix = (
    ic[0].radio(
        "K-quants and IQ4",
        list(IMATRIX),
        format_func=labels(IMATRIX),
        horizontal=True,
        key="w_bf_imatrix",
        help="llama.cpp's importance matrix: per input column, the mean of x² of "
        "the activations that reach the layer. Only the K-quants and IQ4 use it.",
    )
    == "imatrix"
)
n_outliers = ic[1].slider(
    "Outlier input channels in the calibration activations",
    0,
    64,
    key="w_bf_ochan",
    help="Columns whose activations are 10× larger: their importance is 100× larger.",
)
remember(FIELDS)
# the importance of one row of 256 weights: activations of 128 calibration tokens, a few channels 10x larger
importance = importance_matrix(outlier_activations(128, 256, int(n_outliers), 10.0, seed=26))
fmt_info = FORMATS[name]
weights = importance if use_imatrix and fmt_info.takes_importance else None
block = fmt_info.block_size
shown = x[: block * int(n_blocks)].copy()
shown[0] *= np.float32(outlier)
padded = np.concatenate([shown, np.zeros((-shown.size) % 1024, np.float32)])
view = block_view(padded, name, weights)
st.markdown(
    f"**{name}**: {fmt_info.summary}. {fmt_info.bits_per_weight:g} bits per weight with the scale; "
    f"checked against: {fmt_info.reference}."
)
st.markdown("\n".join(f"{i}. {line}" for i, line in enumerate(view.scale_lines, start=1)))
if fmt_info.takes_importance:
    effect = superblock.imatrix_effect(padded, name, np.tile(importance, padded.size // importance.size))
    values_table = tables.block_values_table(
        view,
        importance=np.tile(importance, 2)[: view.values.size],
        other_codes=(
            "code " + ("without" if use_imatrix else "with") + " imatrix",
            effect.plain_codes if use_imatrix else effect.weighted_codes,
        ),
    )
else:
    values_table = tables.block_values_table(view)
show_table(settings, values_table, hide_index=True, height=280)
if name in superblock.SCALE_BITS:
    sb = superblock.superblock_view(padded, name, weights)
    st.markdown(
        f"**The super-block's two levels of scales** (d = {fmt(sb.d, 6)}"
        + (f", dmin = {fmt(sb.dmin, 6)}" if sb.dmin is not None else "")
        + ")"
    )
    show_table(settings, tables.superblock_table(sb), hide_index=True)
if fmt_info.takes_importance:
    st.markdown(superblock.imatrix_sentence(effect))
    per = superblock.imatrix_effects(shown, name, importance, int(n_blocks))
    if len(per) > 1:
        show_table(settings, tables.imatrix_blocks_table(per), hide_index=True)

back = fake_quantize(padded, name, None if weights is None else np.tile(weights, padded.size // weights.size))[
    : shown.size
]
errors = back.astype(np.float64) - shown
per_block = block_rms_error(shown, back, block)
show_figure(figures.block_error_figure(shown, errors, block), settings)
if n_blocks > 1:
    others = per_block[1:].mean()
    st.markdown(
        f"RMS error of block 0: **{fmt(per_block[0], 4)}**; of the other blocks: {fmt(others, 4)} on average"
        + (
            f" — the outlier ({fmt(float(shown[0]), 5)}) made block 0's error {per_block[0] / others:.1f}× larger, "
            "and left the others alone."
            if outlier > 1 and others > 0 and per_block[0] > 1.05 * others
            else f" — block 0's is {per_block[0] / others:.2f}× theirs: its outlier ({fmt(float(shown[0]), 5)}) is "
            "not large enough to stretch this block's scale."
            if outlier > 1 and others > 0
            else "."
        )
    )

st.markdown("**The bytes of block 0 as stored**")
show_table(settings, tables.block_bytes_table(view), hide_index=True, height=240)

st.subheader("All formats on one chart")
points = cached_format_map(x, importance)
show_figure(figures.formats_map_figure(points), settings)
best = max((p for p in points if p.bits_per_weight < 5), key=lambda p: p.sqnr_db)
st.caption(
    f"{x.size:,} values (the K-quants and IQ4 on the first {min(x.size, 65_536):,}). Orange, unlabelled "
    "(hover them): with the importance matrix above. This SQNR is unweighted, while the importance matrix aims at "
    "the importance-weighted error, so its points can sit lower. Under 5 bits per weight the best here is "
    f"{best.name} ({best.sqnr_db:.1f} dB at {best.bits_per_weight:g} bits). Hover a point for its rule."
)

st.subheader("What Q4_K_M means: a mix of types")
mf = st.columns([2, 3])
ftype = mf[0].selectbox(
    "GGUF file type",
    list(FILE_TYPES),
    key="w_bf_ftype",
    help="llama.cpp's file types: a default K-quant, with more bits for some tensors.",
)
layers = mf[1].number_input(
    "Layers of the llama model",
    1,
    128,
    key="w_bf_layers",
    help='n_layers: llama.cpp counts attn_v and ffn_down layers to pick the "more bits" ones.',
)
remember(MIX_FIELDS)
summary = mix_summary(ftype, int(layers))
show_table(settings, tables.mix_table(summary), hide_index=True)
st.markdown(
    mix_sentence(summary) + ' The rules are llama.cpp\'s `llama_tensor_get_type`; the "more bits" layers are '
    "the first and last eighth and every third layer between."
)

st.subheader("MXFP4: the OCP spec and ggml part ways")
tie_demo = np.array([6.0, 1.75, -1.75, 5.0] + [0.0] * 28, np.float32)
edge_demo = np.full(32, np.float32(1024) * np.float32(1 - 2**-24), np.float32)
here, ties, edge = mxfp4_disagreement(x), mxfp4_disagreement(tie_demo), mxfp4_disagreement(edge_demo)
st.markdown(
    link_jargon(
        f"- **Ties.** The spec rounds an element tie to even; ggml takes the smaller magnitude. x = 1.75 in a block "
        f"scaled by 1: the spec gives {fmt(ties.example[1])}, ggml {fmt(ties.example[2])}.\n"
        f"- **The exponent.** The spec floors log2(amax) exactly; ggml takes a float32 log2 first. "
        f"A block whose amax is "
        f"{fmt(float(edge_demo[0]), 10)}, a hair under 1024: the block maximum decodes to {fmt(edge.example[1])} under "
        f"the spec and {fmt(edge.example[2])} under ggml. The spec's floored exponent leaves E2M1's largest value (6) "
        f"times its scale short of the maximum, so the maximum clips by "
        f"{(float(edge_demo[0]) - edge.example[1]) / float(edge_demo[0]):.0%}; ggml's rounded log2 picks the next "
        "exponent up and keeps it.\n"
        f"- **On your data** ({here.values:,} values): {here.differ:,} values decode differently, "
        f"in {here.scale_differ:,} "
        "blocks the shared exponent differs."
    )
)

with st.expander("NF4's 16 values, and where they come from"):
    derived = nf4.derive_table()
    st.markdown(
        "Quantiles of a standard normal at probabilities evenly spaced from 0.9677083 to 0.5 (8 positive, 7 "
        "negative, and 0), divided by the largest. Computed here with Python's `statistics.NormalDist`, beside "
        "the table bitsandbytes ships (the one used):"
    )
    show_table(settings, tables.nf4_table(nf4.TABLE, derived), hide_index=True)
    dq = nf4.DoubleQuantized(np.abs(x.reshape(-1, 64)).max(axis=1))
    st.markdown(
        f"Double quantization stores each block's float32 absmax in 8 bits (bitsandbytes' dynamic map, blocks "
        f"of 256, mean {fmt(float(dq.mean), 6)} removed): {dq.bits_per_weight():.3f} bits per weight instead of "
        f"{FORMATS['NF4'].bits_per_weight:g}; the absmax values come back within "
        f"{fmt(dq.max_error(), 3)}."
    )
