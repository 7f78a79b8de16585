"""Worked examples: the seed answer checked line by line, then presets, step by step."""

import streamlit as st

import quantviz as qv
from quantviz.explain import (
    PRESETS,
    SEED_VALUES,
    compare_conventions,
    fmt,
    preset_steps,
    seed_corrected_qparams,
    seed_example_verdicts,
)
from quantviz.widgets import choice_field, labels, page_header, prime, quant_controls, remember

settings = quant_controls(rounding=False)
page_header(
    "Worked examples",
    "Every number below is recomputed by QuantViz. We start with the answer the app grew from — a Stack Overflow "
    "explanation of the zero point — and check each of its lines, then work through more cases step by step.",
    settings,
)
CHOICES = {**{k: p.title for k, p in PRESETS.items()}, "own": "Your own range (from the sidebar)"}
PRESET = choice_field("preset", "seed", CHOICES)
prime([PRESET])
name = st.selectbox("Example", list(CHOICES), format_func=labels(CHOICES), key="w_preset", help="Each example sets its own range and grid; 'your own' uses the sidebar.")
remember([PRESET])

if name == "seed":
    st.subheader("The published example, line by line")
    st.markdown("> Given an input tensor with data ranging from −1000 to +1000 … that element's quantized value would be "
                "133 when using 128 as the zero point: `quantizedValue = round(realValue / scale + quantizedZeroPoint)`")
    icons = {True: ":green[**holds**]", False: ":red[**does not hold**]", None: ":orange[**depends on the tie rule**]"}
    for v in seed_example_verdicts():
        with st.container(border=True):
            a, b = st.columns([2, 3])
            a.markdown(f"`{v.claim}`\n\n{icons[v.holds]}")
            b.markdown(f"Recomputed: {v.recomputed}")
            if not settings.presenter:
                b.caption(v.why)
    st.subheader("What the scheme meant: a symmetric uint8 grid")
    good = seed_corrected_qparams()
    codes = qv.quantize(SEED_VALUES, good)
    st.markdown(f"Narrow range [1, 255], z = {good.zero_point}, s = 1000/127 = {fmt(good.scale)}: the representable range is "
                f"[{fmt(good.real_min, 7)}, {fmt(good.real_max, 7)}], so ±1000 fit exactly.")
    st.latex(r"q = \operatorname{round}\!\left(\frac{x}{1000/127}\right) + 128")
    back = qv.dequantize(codes, good)
    st.dataframe(
        [{"x": fmt(x, 11), "q": int(q), "dequantized": fmt(float(r), 10)} for x, q, r in zip(SEED_VALUES, codes, back, strict=True)],
        hide_index=True,
    )
    st.subheader("What each framework gives for the same numbers")
    rows = compare_conventions(-1000, 1000, SEED_VALUES)
    st.dataframe(
        [{"convention": r.label, "scale": fmt(r.qparams.scale, 10), "zero point": r.qparams.zero_point,
          **{f"x = {fmt(x, 11)}": q for x, q in zip(SEED_VALUES, r.codes, strict=True)}} for r in rows if r.qparams],
        hide_index=True,
    )
    st.caption("uint8 grid, range [−1000, 1000]. See *Frameworks compared* for why they differ.")
    st.stop()

if name == "own":
    from quantviz.explain import Preset

    preset = Preset("Your own range", settings.rmin, settings.rmax, settings.bits, settings.signed, settings.symmetric,
                    settings.narrow_range, (settings.rmin, 0.0, (settings.rmin + settings.rmax) / 2, settings.rmax), "The sidebar's settings.")
    convention = settings.convention
else:
    preset = PRESETS[name]
    convention = "textbook"
    st.caption("Presets use the textbook convention; pick *your own* to use the sidebar's convention.")
st.markdown(f"**{preset.title}.** {preset.story}")
try:
    qp, choose_steps, per_value = preset_steps(preset, convention)
except qv.QuantVizError as exc:
    st.error(f"**This example cannot be quantized with these settings:** {exc}")
    st.stop()
st.subheader("Choosing s and z")
for step in choose_steps:
    st.markdown(f"**{step.label}**" + (f" — {step.note}" if step.note and not settings.presenter else ""))
    st.latex(step.formula)
st.subheader("Quantizing the values")
tabs = st.tabs([f"x = {fmt(v, 8)}" for v in per_value])
for tab, steps in zip(tabs, per_value.values(), strict=True):
    with tab:
        for step in steps:
            mark = "" if step.check is None else (" :green[✔]" if step.check else " :orange[⚠]")
            st.markdown(f"**{step.label}**{mark}" + (f" — {step.note}" if step.note and not settings.presenter else ""))
            st.latex(step.formula)
