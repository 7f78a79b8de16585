"""Worked examples: the seed answer checked line by line, then presets, step by step."""

import streamlit as st

import quantviz as qv
from quantviz.app.state import bool_field, choice_field, int_field, labels, prime, remember, show_problem
from quantviz.app.widgets import (
    NOT_ROUNDING,
    SET_DIRECTLY,
    choose_or_stop,
    page_header,
    quant_controls,
    show_steps,
    show_table,
)
from quantviz.teach.compare import compare_conventions
from quantviz.teach.examples import (
    PRESETS,
    SEED_VALUES,
    Preset,
    preset_steps,
    preset_story,
    seed_corrected_qparams,
    seed_example_verdicts,
)
from quantviz.teach.fmt import fmt, tex
from quantviz.teach.glossary import link_jargon
from quantviz.teach.probe import probe_steps
from quantviz.teach.steps import Step

CHOICES = {**{k: p.title for k, p in PRESETS.items()}, "own": "Your own range (from the sidebar)"}
PRESET = choice_field("preset", "seed", CHOICES)
SLIDES = bool_field("slides", False)
SLIDE = int_field("slide", 0, 0, 999)
prime([PRESET, SLIDES, SLIDE])
# The seed answer is fixed; a preset fixes its range and grid but takes the sidebar's convention;
# "own" takes everything.
chosen = st.session_state["w_preset"]
settings = quant_controls(
    show=() if chosen == "seed" else ("convention",) if chosen in PRESETS else (*NOT_ROUNDING, SET_DIRECTLY)
)
page_header(
    "Worked examples",
    "Every number below is recomputed by QuantViz. We start with the answer the app grew from — a Stack Overflow "
    "explanation of the zero point — and check each of its lines, then work through more cases step by step.",
    settings,
)
top = st.columns([3, 1])
name = top[0].selectbox(
    "Example",
    list(CHOICES),
    format_func=labels(CHOICES),
    key="w_preset",
    help="Each example sets its own range and grid; 'your own' uses the sidebar.",
    on_change=lambda: st.session_state.update(w_slide=0),
)
slides = top[1].toggle(
    "Slides: one step at a time", key="w_slides", help="For the front of a class: show one step, then the next."
)
remember([PRESET, SLIDES, SLIDE])


def slide_show(items: list[tuple[str, str, str]]) -> None:
    """Show one (title, latex, note) item at a time with previous / next buttons."""
    count = len(items)
    index = min(int(st.session_state.get("w_slide", 0)), count - 1)
    st.session_state["w_slide"] = index
    title, formula, note = items[index]
    with st.container(border=True):
        st.caption(f"Step {index + 1} of {count}")
        st.markdown(f"### {title}")
        if formula:
            st.latex(formula)
        if note:
            st.markdown(note)
    prev, _, nxt = st.columns([1, 4, 1])
    prev.button(
        "Previous",
        icon=":material/arrow_back:",
        disabled=index == 0,
        use_container_width=True,
        on_click=lambda: st.session_state.update(w_slide=index - 1),
        help="The step before.",
    )
    nxt.button(
        "Next",
        icon=":material/arrow_forward:",
        disabled=index >= count - 1,
        use_container_width=True,
        on_click=lambda: st.session_state.update(w_slide=index + 1),
        help="The next step.",
    )
    remember([SLIDE])


if name == "seed" and slides:
    icons = {True: ":green[**holds**]", False: ":red[**does not hold**]", None: ":orange[**depends on the tie rule**]"}
    slide_show(
        [
            (f"`{v.claim}`", "", f"{icons[v.holds]}\n\nRecomputed: {v.recomputed}\n\n{v.why}")
            for v in seed_example_verdicts()
        ]
    )
    st.stop()
if name == "seed":
    st.subheader("The published example, line by line")
    st.markdown(
        "> Given an input tensor with data ranging from −1000 to +1000 … that element's quantized value would be "
        "133 when using 128 as the zero point: `quantizedValue = round(realValue / scale + quantizedZeroPoint)`"
    )
    icons = {True: ":green[**holds**]", False: ":red[**does not hold**]", None: ":orange[**depends on the tie rule**]"}
    for v in seed_example_verdicts():
        with st.container(border=True):
            a, b = st.columns([2, 3])
            a.markdown(f"`{v.claim}`\n\n{icons[v.holds]}")
            b.markdown(f"Recomputed: {v.recomputed}")
            if not settings.presenter:
                b.caption(link_jargon(v.why))
    st.subheader("What the scheme meant: a symmetric uint8 grid")
    good = seed_corrected_qparams()
    codes = qv.quantize(SEED_VALUES, good)
    fits = (
        "so ±1000 fit exactly"
        if (round(good.real_min, 9), round(good.real_max, 9)) == (-1000, 1000)
        else "so ±1000 do not both fit"
    )
    st.markdown(
        f"Narrow range [{good.qmin}, {good.qmax}], z = {good.zero_point}, s = 1000/127 = {fmt(good.scale)}: the "
        f"representable range is [{fmt(good.real_min, 7)}, {fmt(good.real_max, 7)}], {fits}."
    )
    st.latex(r"q = \operatorname{round}\!\left(\frac{x}{1000/127}\right) + 128")
    back = qv.dequantize(codes, good)
    show_table(
        settings,
        [
            {"x": fmt(x, 11), "q": int(q), "dequantized": fmt(float(r), 10)}
            for x, q, r in zip(SEED_VALUES, codes, back, strict=True)
        ],
        hide_index=True,
    )
    st.subheader("What each framework gives for the same numbers")
    rows = compare_conventions(-1000, 1000, SEED_VALUES)
    show_table(
        settings,
        [
            {
                "convention": r.label,
                "scale": fmt(r.qparams.scale, 10),
                "zero point": r.qparams.zero_point,
                **{f"x = {fmt(x, 11)}": q for x, q in zip(SEED_VALUES, r.codes, strict=True)},
            }
            for r in rows
            if r.qparams
        ],
        hide_index=True,
    )
    st.caption("uint8 grid, range [−1000, 1000]. See *Frameworks compared* for why they differ.")
    st.stop()

if name == "own":
    preset = Preset(
        "Your own range",
        settings.rmin,
        settings.rmax,
        settings.bits,
        settings.signed,
        settings.symmetric,
        settings.narrow_range,
        (settings.rmin, 0.0, (settings.rmin + settings.rmax) / 2, settings.rmax),
        "The sidebar's settings.",
    )
else:
    preset = PRESETS[name]
    st.caption(
        f"The preset fixes the range and grid; the convention is the sidebar's: "
        f"**{qv.get_convention(settings.convention).label}**."
    )
convention = settings.convention
if name == "own" and settings.scale is not None:  # s and z as a model file stores them: nothing to choose
    qp = choose_or_stop(settings)
    choose_steps = [
        Step(
            "Scale and zero point, as stored",
            rf"s = {tex(qp.scale, 17)},\quad z = {qp.zero_point}",
            f"s = {fmt(qp.scale, 17)}, z = {qp.zero_point}",
            note=f"Entered directly, not chosen from a range: the grid [{qp.qmin}, {qp.qmax}] covers "
            f"[{fmt(qp.real_min, 8)}, {fmt(qp.real_max, 8)}].",
        )
    ]
    per_value = {
        v: probe_steps(v, qp, convention=convention, bits=settings.bits, signed=settings.signed)
        for v in (qp.real_min, 0.0, qp.scale * 0.5, qp.real_max)
    }
    st.markdown(
        f"**A stored scale and zero point.** s = {fmt(qp.scale, 17)}, z = {qp.zero_point}: each value below "
        "is quantized with them, step by step."
    )
else:
    try:
        qp, choose_steps, per_value = preset_steps(preset, convention)
    except qv.QuantVizError as exc:
        show_problem(f"{qv.get_convention(convention).label} cannot quantize this example:", exc)
        st.stop()
    st.markdown(f"**{preset.title}.** {preset_story(preset, qp)}")
if slides:
    items = [(f"Choosing s and z: {step.label}", step.formula, step.note) for step in choose_steps]
    for value, steps in per_value.items():
        items += [(f"x = {fmt(value, 8)}: {step.label}", step.formula, step.note) for step in steps]
    slide_show(items)
    st.stop()
st.subheader("Choosing s and z")
show_steps(choose_steps, presenter=settings.presenter, marks=False)
st.subheader("Quantizing the values")
tabs = st.tabs([f"x = {fmt(v, 8)}" for v in per_value])
for tab, steps in zip(tabs, per_value.values(), strict=True):
    with tab:
        show_steps(steps, presenter=settings.presenter)
