"""Formats LLMs use: block scales (GGUF, NF4, MX, NVFP4), one block exactly, and all of them on one chart."""

import re

import numpy as np
import pandas as pd
import streamlit as st

from quantviz.app import figures
from quantviz.app.state import choice_field, float_field, int_field, labels, prime, remember
from quantviz.app.widgets import cached_format_map, data_controls, page_header, quant_controls, show_figure, show_table
from quantviz.blocks import FORMATS, fake_quantize, nf4
from quantviz.blocks.compare import block_rms_error, mxfp4_disagreement
from quantviz.teach.blocks import binary, block_view
from quantviz.teach.fmt import fmt

FOUR_BIT = re.compile(r"^Q4_|NF4|FP4|INT4")  # formats whose elements are 4 bits
settings = quant_controls(show=())
four_bit = [f.bits_per_weight for f in FORMATS.values() if FOUR_BIT.search(f.name)]
page_header(
    "Formats LLMs use: block scales",
    "A GGUF file that says Q4_0, a QLoRA notebook with NF4, a datasheet with MXFP4 and NVFP4: all are r = s·(q − z) "
    "with the scale shared by a small block of values instead of a whole tensor. A block's scale fits its own values, "
    "so an outlier costs only its block — and every scale costs bits, which is why the 4-bit formats here store "
    f"{min(four_bit):g} to {max(four_bit):g} bits per weight (NF4 with double quantization, below, a little less).",
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
FIELDS = [choice_field("bf_fmt", "Q4_0", {k: k for k in FORMATS}), int_field("bf_blocks", 4, 1, 8),
          float_field("bf_outlier", 20.0, 1.0, 1000.0)]
prime(FIELDS)
c = st.columns([2, 1, 2])
name = c[0].selectbox("Format", list(FORMATS), format_func=labels({k: f"{k} — {f.bits_per_weight:g} bits/weight" for k, f in FORMATS.items()}),
                      key="w_bf_fmt", help="The block format to look inside.")
n_blocks = c[1].number_input("Blocks shown", 1, 8, key="w_bf_blocks", help="How many consecutive blocks the error chart shows.")
outlier = c[2].slider("Outlier: multiply value 0 by", 1.0, 1000.0, key="w_bf_outlier", step=1.0,
                      help="Make the first value an outlier and watch its block, and only its block, lose precision.")
remember(FIELDS)
fmt_info = FORMATS[name]
block = fmt_info.block_size
shown = x[: block * int(n_blocks)].copy()
shown[0] *= np.float32(outlier)
padded = np.concatenate([shown, np.zeros((-shown.size) % 1024, np.float32)])
view = block_view(padded, name)
st.markdown(f"**{name}**: {fmt_info.summary}. {fmt_info.bits_per_weight:g} bits per weight with the scale; "
            f"checked against: {fmt_info.reference}.")
st.markdown("\n".join(f"{i}. {line}" for i, line in enumerate(view.scale_lines, start=1)))
show_table(settings, pd.DataFrame({
    "x": view.values, "code": view.codes, "bits": [binary(c, view.code_bits) for c in view.codes],
    # + 0.0: a code whose sign bit is set on a zero (E2M1's code 8) decodes to −0.0, shown as 0
    "dequantized": view.decoded + np.float32(0), "error": view.decoded.astype(np.float64) - view.values,
}), hide_index=True, height=280)

back = fake_quantize(padded, name)[: shown.size]
errors = back.astype(np.float64) - shown
per_block = block_rms_error(shown, back, block)
show_figure(figures.block_error_figure(shown, errors, block), settings)
if n_blocks > 1:
    others = per_block[1:].mean()
    st.markdown(f"RMS error of block 0: **{fmt(per_block[0], 4)}**; of the other blocks: {fmt(others, 4)} on average"
                + (f" — the outlier ({fmt(float(shown[0]), 5)}) made block 0's error {per_block[0] / others:.1f}× larger, "
                   "and left the others alone." if outlier > 1 and others > 0 else "."))

st.markdown("**The bytes of block 0 as stored**")
byte_fields = []
for start, stop, field in view.fields:
    for i in range(start, stop):
        byte_fields.append({"byte": i, "hex": f"{int(view.data[i]):02x}", "bits": f"{int(view.data[i]):08b}", "field": field})
bytes_table = pd.DataFrame(byte_fields)
palette = [figures.ORANGE, figures.SKY, figures.GREEN, figures.PURPLE]
colour_of = {f[2]: palette[i % len(palette)] for i, f in enumerate(view.fields)}
show_table(settings, bytes_table.style.apply(lambda col: [f"background-color: {colour_of[v]}40" for v in bytes_table["field"]], axis=0),
             hide_index=True, height=240)

st.subheader("All formats on one chart")
points = cached_format_map(x)
show_figure(figures.formats_map_figure(points), settings)
best = max((p for p in points if p.bits_per_weight < 5), key=lambda p: p.sqnr_db)
st.caption(f"{x.size:,} values. Under 5 bits per weight the best here is {best.name} ({best.sqnr_db:.1f} dB at "
           f"{best.bits_per_weight:g} bits). Hover a point for its rule.")

st.subheader("MXFP4: the OCP spec and ggml part ways")
tie_demo = np.array([6.0, 1.75, -1.75, 5.0] + [0.0] * 28, np.float32)
edge_demo = np.full(32, np.float32(1024) * np.float32(1 - 2**-24), np.float32)
here, ties, edge = mxfp4_disagreement(x), mxfp4_disagreement(tie_demo), mxfp4_disagreement(edge_demo)
st.markdown(
    f"- **Ties.** The spec rounds an element tie to even; ggml takes the smaller magnitude. x = 1.75 in a block "
    f"scaled by 1: the spec gives {fmt(ties.example[1])}, ggml {fmt(ties.example[2])}.\n"
    f"- **The exponent.** The spec floors log2(amax) exactly; ggml takes a float32 log2 first. A block whose amax is "
    f"{fmt(float(edge_demo[0]), 10)}, a hair under 1024: the block maximum decodes to {fmt(edge.example[1])} under "
    f"the spec and {fmt(edge.example[2])} under ggml. The spec's floored exponent leaves E2M1's largest value (6) "
    f"times its scale short of the maximum, so the maximum clips by "
    f"{(float(edge_demo[0]) - edge.example[1]) / float(edge_demo[0]):.0%}; ggml's rounded log2 picks the next "
    "exponent up and keeps it.\n"
    f"- **On your data** ({here.values:,} values): {here.differ:,} values decode differently, in {here.scale_differ:,} "
    "blocks the shared exponent differs.")

with st.expander("NF4's 16 values, and where they come from"):
    derived = nf4.derive_table()
    st.markdown("Quantiles of a standard normal at probabilities evenly spaced from 0.9677083 to 0.5 (8 positive, 7 "
                "negative, and 0), divided by the largest. Computed here with Python's `statistics.NormalDist`, beside "
                "the table bitsandbytes ships (the one used):")
    show_table(settings, pd.DataFrame({"code": np.arange(16), "bits": [binary(c, 4) for c in range(16)], "bitsandbytes": nf4.TABLE,
                               "from the quantiles": derived, "difference": derived.astype(np.float64) - nf4.TABLE}),
                 hide_index=True)
    dq = nf4.DoubleQuantized(np.abs(x.reshape(-1, 64)).max(axis=1))
    st.markdown(f"Double quantization stores each block's float32 absmax in 8 bits (bitsandbytes' dynamic map, blocks "
                f"of 256, mean {fmt(float(dq.mean), 6)} removed): {dq.bits_per_weight():.3f} bits per weight instead of "
                f"{FORMATS['NF4'].bits_per_weight:g}; the absmax values come back within "
                f"{fmt(dq.max_error(), 3)}.")
