"""Integer-only arithmetic: a quantized fully connected layer worked out in integers, as TFLite runs it."""

import numpy as np
import streamlit as st

import quantviz as qv
from quantviz.app import tables
from quantviz.app.state import bool_field, choice_field, float_field, int_field, labels, prime, remember
from quantviz.app.widgets import page_header, quant_controls, show_table
from quantviz.intmath import (
    multiplier_steps,
    pair_sum_extremes,
    quantized_add,
    worked_fully_connected,
    zero_point_terms,
)
from quantviz.teach.fmt import fmt
from quantviz.teach.glossary import term
from quantviz.teach.integers import describe_pair_sums, describe_zero_point_terms, multiplier_lines

settings = quant_controls(show=())
page_header(
    "Integer-only arithmetic",
    "An integer-only runtime never touches a float at inference: it multiplies int8 codes, sums them in int32, moves "
    "the zero-point cross terms out of the inner loop, adds an int32 bias, and rescales with an integer multiplier M0 "
    "and a shift instead of the real M = s_in·s_w/s_out. Every integer below is what TFLite's FULLY_CONNECTED computes "
    "(checked bit for bit against the interpreter in our tests).",
    settings,
)
FIELDS = [
    int_field("ia_batch", 2, 1, 16),
    int_field("ia_in", 4, 1, 64),
    int_field("ia_out", 3, 1, 64),
    int_field("ia_seed", 0, 0, 2**31 - 1),
    bool_field("ia_pc", False),
]
prime(FIELDS)
c = st.columns([1, 1, 1, 1, 1.4])
batch = c[0].number_input("Batch", 1, 16, key="w_ia_batch", help="Rows of the input.")
n_in = c[1].number_input("Inputs", 1, 64, key="w_ia_in", help="Features per row.")
n_out = c[2].number_input("Outputs", 1, 64, key="w_ia_out", help="Output channels.")
seed = c[3].number_input("Seed", 0, 2**31 - 1, key="w_ia_seed", help="Same seed, same layer.")
per_channel = c[4].toggle(
    "Per-channel weights", key="w_ia_pc", help="One weight scale per output channel, as TFLite does by default."
)
remember(FIELDS)
r = worked_fully_connected(batch=int(batch), n_in=int(n_in), n_out=int(n_out), per_channel=per_channel, seed=int(seed))
s = r.steps

st.latex(r"q_3 = z_3 + M\sum_k (q_1 - z_1)(q_2 - z_2),\qquad M = \frac{s_1 s_2}{s_3} = M_0 \cdot 2^{\,shift - 31}")
st.markdown(
    f"Input: s₁ = {fmt(r.in_qparams.scale, 8)}, z₁ = **{r.in_qparams.zero_point}** · Weights: symmetric, z₂ = 0, "
    f"s₂ = {', '.join(fmt(v, 6) for v in np.unique(r.weight_scales))} · Output: "
    f"s₃ = {fmt(r.out_qparams.scale, 8)}, z₃ = **{r.out_qparams.zero_point}**"
)


left, right = st.columns(2)
left.markdown("**1. int8 input codes q₁**")
show_table(settings, where=left, data=tables.codes_table(r.q_in, "in "), hide_index=True)
right.markdown("**2. int8 weight codes q₂** (one row per output)")
show_table(settings, where=right, data=tables.codes_table(r.q_weights, "in "), hide_index=True)
st.markdown("**3. int32 accumulator**, the zero-point term moved out of the loop: Σ q₁q₂ − z₁·Σq₂ + bias")
show_table(settings, tables.accumulator_table(r), hide_index=True)
st.markdown("**4. Requantize** with the integer multiplier, add z₃, clamp to int8 — and compare with the float layer")
show_table(
    settings,
    tables.requantize_table(r),
    hide_index=True,
    column_config={"M (real)": st.column_config.NumberColumn(format="%.6e")},
)
if not settings.presenter:
    st.markdown(
        "- **acc·M rounded** is (acc·M0 + 2^(30−shift)) >> (31−shift): one rounding, ties toward +∞ — the build "
        "in the tensorflow 2.21 wheel.\n- The error against the float layer comes from rounding the inputs, weights, "
        "bias and output, plus clamping to int8."
    )

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
back = qv.dequantize(out, qo, convention="tflite")
show_table(settings, tables.addition_table(a, codes_a, b, codes_b, out, back), hide_index=True)
st.caption(
    f"s_a = {fmt(qa.scale, 6)}, z_a = {qa.zero_point}; s_b = {fmt(qb.scale, 6)}, z_b = {qb.zero_point}; "
    f"s_out = {fmt(qo.scale, 6)}, z_out = {qo.zero_point}. "
    f"q_out = round((s_a(q_a − z_a) + s_b(q_b − z_b)) / s_out) + z_out."
)

st.subheader("Zero points in the sum: switch the four terms on and off")
if not settings.presenter:
    st.markdown(
        "The real product needs Σ(q₁ − z₁)(q₂ − z₂). Expanded, it has four terms; only Σq₁q₂ has to run in "
        "the inner loop. Move the zero points and switch terms off to see what each one carries."
    )
ZP = [
    int_field("ia_z1", int(r.in_qparams.zero_point), -128, 127),
    int_field("ia_z2", 0, -128, 127),
    bool_field("ia_t1", True),
    bool_field("ia_t2", True),
    bool_field("ia_t3", True),
    bool_field("ia_t4", True),
]
prime(ZP)
zc = st.columns(2)
z1 = zc[0].slider(
    "Input zero point z₁", -128, 127, key="w_ia_z1", help="The activation's zero point (asymmetric: any code)."
)
z2 = zc[1].slider(
    "Weight zero point z₂",
    -128,
    127,
    key="w_ia_z2",
    help="0 for symmetric weights, which is why weights are symmetric.",
)
terms = zero_point_terms(r.q_in[0], z1, r.q_weights[0], z2)
names = [
    ("w_ia_t1", "Σq₁q₂", terms.products, "The inner loop: the only term that needs every product."),
    ("w_ia_t2", "−z₂·Σq₁", terms.weight_zero, "Needs the input's sum: computed again for every row. Zero when z₂ = 0."),
    ("w_ia_t3", "−z₁·Σq₂", terms.input_zero, "The weights are constant: precomputed once, folded into the bias."),
    (
        "w_ia_t4",
        f"N·z₁·z₂ (N = {r.q_in.shape[1]})",
        terms.constant,
        "A constant: precomputed. Zero when either zero point is 0.",
    ),
]
tc = st.columns(4)
on = [
    col.checkbox(f"{label} = {value}", key=key, help=help_text)
    for col, (key, label, value, help_text) in zip(tc, names, strict=True)
]
remember(ZP)
partial = sum(value for (_, _, value, _), use in zip(names, on, strict=True) if use)
st.markdown(describe_zero_point_terms(terms, on, z1=z1, z2=z2))
st.caption(
    f"Row 0 of the layer above: q₁ = {r.q_in[0].tolist()}, weights of output 0: q₂ = {r.q_weights[0].tolist()}; "
    f"terms switched on sum to {partial}."
)

st.subheader("The multiplier M as an integer M0 and a shift")
if not settings.presenter:
    st.markdown(
        f"M = s₁s₂/s₃ is a real number, but an integer-only chip has no floats. It stores M as a {term('Q31')} "
        "integer M0 (a fraction with 31 bits after the point) and a power-of-two shift. Type any M."
    )
MF = [
    float_field("ia_m", float(s.multipliers[0]), 0.0, 1e6),
    int_field("ia_acc", int(s.acc.ravel()[0]), -(2**31), 2**31 - 1),
]
prime(MF)
mc = st.columns(2)
m_real = mc[0].number_input(
    "Real multiplier M", 0.0, 1e6, key="w_ia_m", format="%.10g", help="Any M ≥ 0; the layer's own M is the default."
)
acc_value = mc[1].number_input("int32 accumulator", -(2**31), 2**31 - 1, key="w_ia_acc", help="The value to rescale.")
remember(MF)
for label, formula, note in multiplier_lines(multiplier_steps(float(m_real), int(acc_value))):
    st.markdown(f"**{label}**" + (f" — {note}" if note and not settings.presenter else ""))
    st.latex(formula)

st.subheader("Why 7-bit activations and [−127, 127] weights: 16-bit pair sums")
if not settings.presenter:
    st.markdown(
        f"Fast int8 kernels multiply two pairs of codes and add the two products into a 16-bit register: x86's "
        f"{term('saturating', 'saturates')}, an ARM int16 lane wraps. Pick the grids and see whether the worst pair "
        "sum fits, and what would make it fit."
    )
GRIDS_A = {
    "u8": "uint8 activations [0, 255]",
    "u7": "uint8 with reduce_range [0, 127]",
    "s8": "int8 activations [−128, 127]",
}
GRIDS_B = {"s8": "int8 weights [−128, 127]", "s7": "int8 narrow range [−127, 127]"}
GF = [choice_field("ia_ga", "u8", GRIDS_A), choice_field("ia_gb", "s8", GRIDS_B)]
prime(GF)
gc = st.columns(2)
grid_a = gc[0].radio(
    "Activation codes",
    list(GRIDS_A),
    format_func=labels(GRIDS_A),
    key="w_ia_ga",
    help="x86 VPMADDUBSW takes uint8 × int8.",
)
grid_b = gc[1].radio(
    "Weight codes", list(GRIDS_B), format_func=labels(GRIDS_B), key="w_ia_gb", help="Narrow range drops −128."
)
remember(GF)
RANGES = {"u8": (0, 255), "u7": (0, 127), "s8": (-128, 127), "s7": (-127, 127)}
sums = pair_sum_extremes(RANGES[grid_a], RANGES[grid_b])
st.markdown(describe_pair_sums(sums))
