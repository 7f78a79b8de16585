"""Exercises: a seeded set of questions, answers checked by quantviz, solutions after an attempt."""

import random

import streamlit as st

from quantviz.app.state import choice_field, int_field, labels, plain, prime, remember
from quantviz.app.widgets import page_header, quant_controls
from quantviz.errors import ParseError
from quantviz.inputs import parse_float_param
from quantviz.teach.exercises import DIFFICULTIES, check, make_exercises, score
from quantviz.teach.fmt import fmt

settings = quant_controls(show=())
page_header(
    "Exercises",
    "Seven questions on the core skills. The set comes from a seed: share this page's link and every student gets the "
    "same questions; press *New set* for fresh ones. Every number shown is exact as written, and every answer is "
    "computed from those very digits. Answers are checked by QuantViz (integers exactly, real numbers to 4 significant "
    "digits) and the worked solution opens after your first try.",
    settings,
)
SEED = int_field("ex_seed", 1, 0, 10**9)
LEVEL = choice_field("ex_level", "easy", DIFFICULTIES)
prime([SEED, LEVEL])


def _new_set() -> None:
    st.session_state["w_ex_seed"] = random.SystemRandom().randint(0, 10**6)


c = st.columns([2, 3, 2])
seed = c[0].number_input(
    "Set number (seed)", 0, 10**9, key="w_ex_seed", help="The same number gives the same questions."
)
level = c[1].selectbox(
    "Difficulty",
    list(DIFFICULTIES),
    format_func=labels(DIFFICULTIES),
    key="w_ex_level",
    help="Easy: 8-bit grids. Medium: low bits and symmetric grids. "
    "Hard: ties, framework conventions and integer steps.",
)
c[2].button(
    "New set", on_click=_new_set, icon=":material/casino:", help="A fresh random set (the link changes with it)."
)
remember([SEED, LEVEL])

exercises = make_exercises(int(seed), level)
responses = st.session_state.setdefault("_qv_ex_responses", {}).setdefault((int(seed), level), {})
right, attempted = score(exercises, responses)
st.metric("Score", f"{right} / {len(exercises)}", help=f"{attempted} attempted")
for i, ex in enumerate(exercises):
    with st.container(border=True):
        st.markdown(f"**{i + 1}.** {ex.prompt}")
        with st.form(key=f"ex_{seed}_{level}_{i}", border=False):
            cols = st.columns(len(ex.answers) + 1)
            given = {}
            for col, answer in zip(cols, ex.answers, strict=False):
                if answer.kind == "choice":
                    given[answer.name] = col.radio(
                        answer.label,
                        answer.choices,
                        index=None,
                        key=f"ex_{seed}_{level}_{i}_{answer.name}",
                        horizontal=len(answer.choices) < 3,
                        help="Pick one, then press Check.",
                    )
                else:
                    given[answer.name] = col.text_input(
                        answer.label,
                        key=f"ex_{seed}_{level}_{i}_{answer.name}",
                        placeholder="whole number" if answer.kind == "int" else "a number, e.g. 0.0235",
                        help="Checked exactly."
                        if answer.kind == "int"
                        else "Checked to 4 significant digits; scientific notation is fine.",
                    )
            submitted = cols[-1].form_submit_button(
                "Check", icon=":material/check:", help="Check your answer; the worked solution opens after it."
            )
        if submitted:
            for answer in ex.answers:
                raw = given[answer.name]
                if answer.kind != "choice" and raw:
                    try:
                        raw = parse_float_param(raw)
                    except ParseError:
                        st.warning(f"“{plain(raw)}” is not a number.")
                        raw = None
                responses[(i, answer.name)] = raw
            st.rerun()
        tried = any((i, a.name) in responses for a in ex.answers)
        if tried:
            marks = []
            for answer in ex.answers:
                ok = check(answer, responses.get((i, answer.name)))
                marks.append(f"{answer.label}: " + (":green[**right**]" if ok else ":red[**not yet**]"))
            st.markdown(" · ".join(marks))
            with st.expander("Worked solution", expanded=False):
                st.markdown("\n".join(f"- {line}" for line in ex.solution))
                st.markdown(
                    "**Answer:** "
                    + ", ".join(
                        f"{a.label} = {fmt(a.expected) if a.kind == 'float' else a.expected}" for a in ex.answers
                    )
                )
