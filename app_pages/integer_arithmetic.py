"""Integer-only arithmetic: a quantized fully connected layer worked out in integers, as TFLite runs it."""

import numpy as np
import pandas as pd
import streamlit as st

import quantviz as qv
from quantviz.app.state import bool_field, int_field, prime, remember
from quantviz.app.widgets import page_header, quant_controls
from quantviz.intmath import quantized_add, worked_fully_connected
from quantviz.teach.fmt import fmt

settings = quant_controls(show=())
page_header(
    "Integer-only arithmetic",
    "An integer-only runtime never touches a float at inference: it multiplies int8 codes, sums them in int32, moves "
    "the zero-point cross terms out of the inner loop, adds an int32 bias, and rescales with an integer multiplier M0 "
    "and a shift instead of the real M = s_in·s_w/s_out. Every integer below is what TFLite's FULLY_CONNECTED computes "
    "(checked bit for bit against the interpreter in our tests).",
    settings,
)
FIELDS = [int_field("ia_batch", 2, 1, 16), int_field("ia_in", 4, 1, 64), int_field("ia_out", 3, 1, 64),
          int_field("ia_seed", 0, 0, 2**31 - 1), bool_field("ia_pc", False)]
prime(FIELDS)
c = st.columns([1, 1, 1, 1, 1.4])
batch = c[0].number_input("Batch", 1, 16, key="w_ia_batch", help="Rows of the input.")
n_in = c[1].number_input("Inputs", 1, 64, key="w_ia_in", help="Features per row.")
n_out = c[2].number_input("Outputs", 1, 64, key="w_ia_out", help="Output channels.")
seed = c[3].number_input("Seed", 0, 2**31 - 1, key="w_ia_seed", help="Same seed, same layer.")
per_channel = c[4].toggle("Per-channel weights", key="w_ia_pc", help="One weight scale per output channel, as TFLite does by default.")
remember(FIELDS)
r = worked_fully_connected(batch=int(batch), n_in=int(n_in), n_out=int(n_out), per_channel=per_channel, seed=int(seed))
s = r.steps

st.latex(r"q_3 = z_3 + M\sum_k (q_1 - z_1)(q_2 - z_2),\qquad M = \frac{s_1 s_2}{s_3} = M_0 \cdot 2^{\,shift - 31}")
st.markdown(f"Input: s₁ = {fmt(r.in_qparams.scale, 8)}, z₁ = **{r.in_qparams.zero_point}** · Weights: symmetric, z₂ = 0, "
            f"s₂ = {', '.join(fmt(v, 6) for v in np.unique(r.weight_scales))} · Output: s₃ = {fmt(r.out_qparams.scale, 8)}, z₃ = **{r.out_qparams.zero_point}**")

def frame(a: np.ndarray, prefix: str) -> pd.DataFrame:
    a = np.atleast_2d(a)
    return pd.DataFrame(a, columns=[f"{prefix}{j}" for j in range(a.shape[1])])


left, right = st.columns(2)
left.markdown("**1. int8 input codes q₁**")
left.dataframe(frame(r.q_in, "in "), hide_index=True)
right.markdown("**2. int8 weight codes q₂** (one row per output)")
right.dataframe(frame(r.q_weights, "in "), hide_index=True)
pairs = [f"{i}, {j}" for i in range(s.acc.shape[0]) for j in range(s.acc.shape[1])]
st.markdown("**3. int32 accumulator**, the zero-point term moved out of the loop: Σ q₁q₂ − z₁·Σq₂ + bias")
st.dataframe(pd.DataFrame({
    "row, output": pairs, "Σ q₁·q₂": s.acc_raw.ravel(), "− z₁·Σ q₂": s.zero_point_term.ravel(),
    "+ bias (int32, scale s₁s₂)": np.tile(r.bias_int32, s.acc.shape[0]), "= acc": s.acc.ravel(),
}), hide_index=True)
st.markdown("**4. Requantize** with the integer multiplier, add z₃, clamp to int8 — and compare with the float layer")
requant = pd.DataFrame({
    "row, output": pairs, "acc": s.acc.ravel(),
    "M (real)": np.tile(s.multipliers, s.acc.shape[0]), "M0 (Q31)": np.tile(s.m0, s.acc.shape[0]), "shift": np.tile(s.shifts, s.acc.shape[0]),
    "acc·M rounded": s.scaled.ravel(), "+ z₃, clamp → q₃": s.output.ravel(),
    "dequantized": r.dequantized_output.ravel(), "float result": r.float_output.ravel(),
})
requant["error"] = requant["dequantized"] - requant["float result"]
st.dataframe(requant, hide_index=True, column_config={"M (real)": st.column_config.NumberColumn(format="%.6e")})
if not settings.presenter:
    st.markdown("- **acc·M rounded** is (acc·M0 + 2^(30−shift)) >> (31−shift): one rounding, ties toward +∞ — the build "
                "in the tensorflow 2.21 wheel.\n- The error against the float layer comes from rounding the inputs, weights, "
                "bias and output, plus clamping to int8.")

st.subheader("A quantized addition")
if not settings.presenter:
    st.markdown("Codes with different scales cannot be added directly: both are rescaled to the output's scale first.")
rng = np.random.default_rng(int(seed))
a, b = rng.normal(size=5), rng.normal(size=5) * 3
qa = qv.choose_qparams(float(a.min()), float(a.max()), signed=True, convention="tflite")
qb = qv.choose_qparams(float(b.min()), float(b.max()), signed=True, convention="tflite")
qo = qv.choose_qparams(float((a + b).min()), float((a + b).max()), signed=True, convention="tflite")
codes_a, codes_b = qv.quantize(a, qa, convention="tflite"), qv.quantize(b, qb, convention="tflite")
out = quantized_add(codes_a, qa, codes_b, qb, qo)
st.dataframe(pd.DataFrame({"a": a, "q_a": codes_a, "b": b, "q_b": codes_b, "q_out": out,
                           "dequantized": qv.dequantize(out, qo, convention="tflite"), "a + b": a + b}), hide_index=True)
st.caption(f"s_a = {fmt(qa.scale, 6)}, z_a = {qa.zero_point}; s_b = {fmt(qb.scale, 6)}, z_b = {qb.zero_point}; "
           f"s_out = {fmt(qo.scale, 6)}, z_out = {qo.zero_point}. q_out = round((s_a(q_a − z_a) + s_b(q_b − z_b)) / s_out) + z_out.")
