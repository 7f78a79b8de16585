"""Beyond rounding: GPTQ, AWQ, SmoothQuant and rotations on a toy layer whose every number can be shown.

Longer than 400 lines: three layer sources (generated, your .npy, an example model's tensor) and five tabs, each a
fragment with its own URL-synced controls; every number is computed in quantviz.algorithms and worded in
quantviz.teach.algorithms, so what stays here is widgets and their layout.
"""

import hashlib
from urllib.parse import urlencode

import numpy as np
import pandas as pd
import streamlit as st

import quantviz.algorithms as qa
from quantviz.algorithms.example_layer import example_tensors, example_weight
from quantviz.algorithms.layer import MAX_FILE_ELEMENTS, OwnLayer, one_blas_thread, own_layer, read_npy
from quantviz.app import algorithm_figures as af
from quantviz.app.state import (
    bool_field,
    choice_field,
    float_field,
    int_field,
    labels,
    plain,
    prime,
    remember,
    show_link_messages,
    show_problem,
    text_field,
)
from quantviz.app.widgets import page_header, quant_controls, show_figure, show_table
from quantviz.models.examples import EXAMPLES
from quantviz.teach import algorithms as words
from quantviz.teach.fmt import fmt
from quantviz.teach.glossary import link_jargon

IN_CHOICES = {"64": "64", "128": "128", "256": "256"}
BITS = {"2": "2 bits", "3": "3 bits", "4": "4 bits", "8": "8 bits"}
GROUPS = {"none": "one per row", "32": "32", "64": "64", "128": "128"}
DAMPS = {"0": "0", "0.001": "0.001", "0.01": "0.01", "0.1": "0.1", "1": "1"}
BLOCKS = {"32": "32", "64": "64", "128": "128"}
FORMS = {"llmcompressor": "llm-compressor: range, 2·max|W|", "paper": "paper: max|x|, max|W|"}
ALPHAS = np.round(np.linspace(0.0, 1.0, 21), 2)
SOURCES = {"toy": "Generated (seeded)", "upload": "Your own .npy", "example": "A weight tensor from Your model"}
MODELS = {k: e.label for k, e in EXAMPLES.items()}
UPLOADS = "_ab_uploads"  # this session's uploaded .npy bytes, by SHA-256, for the cached layer builder

settings = quant_controls(show=())
page_header(
    "Beyond rounding: GPTQ, AWQ, SmoothQuant, rotations",
    "The 4-bit checkpoints people download were not made by rounding each weight to its nearest code: GPTQ, AWQ, "
    "SmoothQuant and rotations decide *how* to round, using a few hundred calibration inputs. Here they run — exactly "
    "as llm-compressor runs them — on a toy layer y = x·Wᵀ with a few outlier input channels, small enough that every "
    "number can be shown — or on your own weight (a `.npy` file, or a tensor of an example model). Move a control "
    "and watch the layer's output error, not just the weights'.",
    settings,
)

LAYER_FIELDS = [
    choice_field("source", "toy", SOURCES),
    choice_field("model", "onnx_qdq", MODELS),
    text_field("tensor", "", 200),
    int_field("ab_out", 64, 4, 256),
    choice_field("ab_in", "128", IN_CHOICES),
    int_field("ab_samples", 256, 8, 1024),
    int_field("ab_outliers", 4, 0, 16),
    float_field("ab_oscale", 20.0, 1.0, 100.0),
    int_field("ab_seed", 0, 0, 2**31 - 1),
    choice_field("ab_bits", "4", BITS),
    choice_field("ab_group", "none", GROUPS),
    bool_field("ab_sym", True),
]
GPTQ_FIELDS = [
    bool_field("ab_act", False),
    choice_field("ab_damp", "0.01", DAMPS),
    choice_field("ab_block", "128", BLOCKS),
    int_field("ab_step", 0, 0, 255),
]
AWQ_FIELDS = [int_field("ab_grid", 20, 4, 40), bool_field("ab_duo", True), bool_field("ab_awqsym", False)]
SQ_FIELDS = [
    float_field("ab_alpha", 0.5, 0.0, 1.0),
    choice_field("ab_form", "llmcompressor", FORMS),
    bool_field("ab_token", False),
]
ROT_FIELDS = [int_field("ab_rseed", 0, 0, 10_000)]
FIELDS = LAYER_FIELDS + GPTQ_FIELDS + AWQ_FIELDS + SQ_FIELDS + ROT_FIELDS
prime(FIELDS)
show_link_messages()  # this page's own settings from the link, checked just now

st.subheader("The layer")
source = st.radio(
    "Layer",
    list(SOURCES),
    format_func=labels(SOURCES),
    key="w_source",
    horizontal=True,
    help="A generated layer with outlier channels, your own weight (and inputs) as .npy, or a weight tensor of one "
    "of the example models on Your model.",
)
c = st.columns(6 if source == "toy" else 4)
if source == "toy":
    n_out = c[0].number_input("Outputs (rows of W)", 4, 256, key="w_ab_out", help="out_features: rows of the weight.")
    n_in = int(
        c[1].selectbox(
            "Inputs (columns)",
            list(IN_CHOICES),
            key="w_ab_in",
            help="in_features: a power of two, so a Hadamard rotation exists.",
        )
    )
generated = "" if source == "toy" else " (drawn when no inputs are given)"
samples = c[-4].number_input(
    "Calibration inputs", 8, 1024, key="w_ab_samples", help="Rows of x the algorithms learn from" + generated + "."
)
outliers = c[-3].number_input(
    "Outlier channels", 0, 16, key="w_ab_outliers", help="Input channels with much larger activations" + generated + "."
)
oscale = c[-2].slider(
    "Outliers ×", 1.0, 100.0, key="w_ab_oscale", step=1.0, help="How much larger the outlier channels are."
)
seed = c[-1].number_input("Seed", 0, 2**31 - 1, key="w_ab_seed", help="Same seed, same inputs (and layer).")
GEN = (int(samples), int(outliers), float(oscale), int(seed))


def stop_here(message: str) -> None:
    st.info(message, icon=":material/upload_file:")
    remember(LAYER_FIELDS)
    st.stop()


def upload_spec() -> tuple:
    """The uploaded files' SHA-256 (kept in the session for the cached builder) and the generator settings."""
    c = st.columns(2)
    w_file = c[0].file_uploader(
        "Weight (.npy, out × in)",
        type=["npy"],
        key="w_ab_wfile",
        help=f"At most {MAX_FILE_ELEMENTS:,} values; a layer over 256 × 256 is cropped to its first 256 rows and "
        "columns. Object (pickled) arrays are refused unread.",
    )
    x_file = c[1].file_uploader(
        "Inputs (.npy, samples × in), optional",
        type=["npy"],
        key="w_ab_xfile",
        help="Calibration inputs; without them, inputs are drawn with the seed and outlier settings above.",
    )
    if w_file is None:
        stop_here("Upload a weight as a `.npy` file (`numpy.save`), shape (out_features, in_features).")
    kept, keys = {}, []
    for f in (w_file, x_file):
        data = None if f is None else f.getvalue()
        keys.append(None if data is None else hashlib.sha256(data).hexdigest())
        if data is not None:
            kept[keys[-1]] = data
    st.session_state[UPLOADS] = kept
    return ("upload", *keys, *GEN)


@st.cache_data(max_entries=16, show_spinner=False)
def tensors_of(model: str) -> tuple[str, ...]:
    return example_tensors(model)


def example_spec() -> tuple:
    c = st.columns(2)
    model = c[0].selectbox("Example model", list(MODELS), format_func=labels(MODELS), key="w_model")
    names = tensors_of(model)
    asked = st.session_state.get("w_tensor", "")
    last, st.session_state["_ab_last_model"] = st.session_state.get("_ab_last_model"), model
    if asked not in names:
        if asked and last in (None, model):  # a link's tensor, not the previous model's after a switch
            st.warning(f"{plain(MODELS[model])} has no weight tensor named {plain(asked)}; showing {names[0]}.")
        st.session_state["w_tensor"] = names[0]
    tensor = c[1].selectbox("Weight tensor", names, key="w_tensor", help="Its float weight, dequantized as stored.")
    return ("example", model, tensor, *GEN)


@st.cache_data(max_entries=8, show_spinner=False)
def layer(spec: tuple) -> OwnLayer:
    """The layer of a spec: ("toy", out, in, *GEN), ("upload", weight sha, inputs sha, *GEN), ("example", ...)."""
    kind, *rest = spec
    if kind == "toy":
        t = qa.toy_layer(rest[0], rest[1], rest[2], outliers=rest[3], outlier_scale=rest[4], seed=rest[5])
        return OwnLayer(weight=t.weight, inputs=t.inputs, notes=(), source_shape=t.weight.shape, generated=True)
    n, k, scale, s = rest[2:]
    if kind == "example":
        e = example_weight(rest[0], rest[1])
        made = own_layer(e.weight, samples=n, outliers=k, outlier_scale=scale, seed=s)
        return made._replace(notes=e.notes + made.notes)
    stored = st.session_state[UPLOADS]
    w = read_npy(stored[rest[0]], "the weight file")
    x = None if rest[1] is None else read_npy(stored[rest[1]], "the inputs file")
    return own_layer(w, x, samples=n, outliers=k, outlier_scale=scale, seed=s)


SPECS = {"toy": lambda: ("toy", int(n_out), n_in, *GEN), "upload": upload_spec, "example": example_spec}
LAYER = SPECS[source]()
try:
    lay = layer(LAYER)
except ValueError as exc:
    show_problem("This layer cannot be used:", exc)
    remember(LAYER_FIELDS)
    st.stop()
n_in = lay.weight.shape[1]
if lay.notes:
    st.caption(" ".join(plain(n) for n in lay.notes))
if source != "toy":
    st.caption(f"The layer: W is {lay.weight.shape[0]} × {n_in}, with {lay.inputs.shape[0]} calibration inputs.")
c = st.columns(3)
bits = int(
    c[0].selectbox(
        "Bit width", list(BITS), format_func=labels(BITS), key="w_ab_bits", help="Weight bits of every method."
    )
)
group_key = c[1].selectbox(
    "Group size",
    list(GROUPS),
    format_func=labels(GROUPS),
    key="w_ab_group",
    help="Columns sharing one scale and zero point; 'one per row' is per output channel.",
)
symmetric = c[2].toggle(
    "Symmetric grid",
    key="w_ab_sym",
    help="Zero point 0 (llm-compressor's int grid [−2^(b−1), 2^(b−1)−1], "
    "scale = max|w| / ((2^b − 1)/2)); off: min-max with a zero point.",
)
group = None if group_key == "none" else int(group_key)
if group is not None and n_in % group:
    show_problem("Cannot group these columns:", f"group size {group} does not divide the {n_in} inputs")
    remember(LAYER_FIELDS)
    st.stop()


@st.cache_data(max_entries=16, show_spinner=False)
def run_gptq(spec: tuple, b: int, g, sym: bool, act: bool, damp: float, block: int):
    lay = layer(spec)
    with one_blas_thread():
        r = qa.gptq(
            lay.weight, lay.inputs, bits=b, group_size=g, symmetric=sym, act_order=act, damp=damp, block_size=block
        )
        return r, qa.running_error(r, lay.weight, lay.inputs, points=16)


@st.cache_data(max_entries=16, show_spinner=False)
def run_awq(spec: tuple, b: int, g, sym: bool, n_grid: int, duo: bool) -> qa.AWQResult:
    lay = layer(spec)
    with one_blas_thread():
        return qa.awq(lay.weight, lay.inputs, bits=b, group_size=g, n_grid=n_grid, duo_scaling=duo, symmetric=sym)


@st.cache_data(max_entries=16, show_spinner=False)
def run_sweep(spec: tuple, form: str, per_token: bool):
    lay = layer(spec)
    with one_blas_thread():
        return qa.w8a8_error(lay.weight, lay.inputs, per_token=per_token), qa.alpha_sweep(
            lay.weight, lay.inputs, ALPHAS, per_token=per_token, form=form
        )


@st.cache_data(max_entries=16, show_spinner=False)
def run_smooth(spec: tuple, alpha: float, form: str, per_token: bool):
    lay = layer(spec)
    with one_blas_thread():
        r = qa.smoothquant(lay.weight, lay.inputs, alpha, form)
        return r, qa.w8a8_error(r.weight, r.inputs, per_token=per_token)


@st.cache_data(max_entries=16, show_spinner=False)
def run_rotation(spec: tuple, rseed: int, b: int, g, sym: bool):
    lay = layer(spec)
    with one_blas_thread():
        return qa.rotate(lay.weight, lay.inputs, rseed), qa.rotation_errors(lay.weight, lay.inputs, b, g, sym, rseed)


@st.cache_data(max_entries=8, show_spinner="Running every method at 2, 3, 4 and 8 bits…")
def run_compare(spec: tuple, groups: tuple, sym: bool, rseed: int) -> tuple:
    lay = layer(spec)
    with one_blas_thread():
        return qa.compare(lay.weight, lay.inputs, bits=(2, 3, 4, 8), group_sizes=groups, symmetric=sym, seed=rseed)


remember(LAYER_FIELDS)
tabs = st.tabs(["GPTQ", "AWQ", "SmoothQuant", "Rotation", "Compare"])


# Each tab is a fragment: a control inside it reruns that tab only (a slider move stays well under 150 ms).
def gptq_matrices(r: qa.GPTQResult) -> None:
    """The Hessian's heat map and the final codes' difference from rounding's."""
    show_figure(
        af.matrix_figure(
            af.log_magnitude(r.hessian),
            title="The Hessian H = 2/n·XᵀX, log10 |H_ij|: outlier channels are the bright lines",
            x_title="input j",
            y_title="input i",
            colour_title="log10 |H|",
            max_cells=128,
        ),
        settings,
    )
    show_figure(
        af.matrix_figure(
            r.codes - r.rtn_codes,
            title="Final codes: GPTQ's minus round-to-nearest's",
            x_title="input column",
            y_title="output row",
            colour_title="Δ code",
            diverging=True,
        ),
        settings,
    )


@st.fragment
def gptq_tab() -> None:
    st.markdown(
        "H = 2/n·XᵀX measures how much each pair of input columns matters to the output. GPTQ rounds one column "
        "at a time and moves the rounding error onto the columns not yet rounded, where H says it costs least."
    )
    c = st.columns(3)
    act = c[0].toggle(
        "Act-order",
        key="w_ab_act",
        help="Round the columns with the largest H_jj (the busiest inputs) first; "
        "groups keep the original columns (llm-compressor's actorder='weight').",
    )
    damp = float(
        c[1].select_slider(
            "Damp (× mean diag H)",
            list(DAMPS),
            key="w_ab_damp",
            help="Added to H's diagonal before inverting: larger is more stable and closer to rounding.",
        )
    )
    block = int(
        c[2].selectbox(
            "Block size",
            list(BLOCKS),
            key="w_ab_block",
            help="Columns updated together (lazy batch): same result up to float rounding, faster.",
        )
    )
    r, run = run_gptq(LAYER, bits, group, bool(symmetric), bool(act), damp, block)
    m = st.columns(4)
    m[0].metric("Output MSE, GPTQ", fmt(r.output_mse, 4))
    m[1].metric("Output MSE, rounding", fmt(r.rtn_output_mse, 4))
    m[2].metric("Weight MSE, GPTQ", fmt(r.weight_mse, 4))
    m[3].metric("Weight MSE, rounding", fmt(r.rtn_weight_mse, 4))
    st.markdown("\n\n".join(words.gptq_summary(r)))
    show_figure(af.running_error_figure(run), settings)
    step = st.slider(
        "GPTQ step (column rounded)", 0, n_in - 1, key="w_ab_step", help="Which step of the sweep to show."
    )
    s = qa.column_step(r, min(int(step), n_in - 1))
    st.markdown(words.step_sentence(s, f"{bits}-bit"))
    show_figure(
        af.column_step_figure(s, title=f"Step {s.step + 1}: column {s.column}, before and after rounding"), settings
    )
    gptq_matrices(r)
    remember(GPTQ_FIELDS)


@st.fragment
def awq_tab() -> None:
    st.markdown(
        'AWQ scales each input channel by s = x̄^α (or x̄^α / w̄^(1−α), "duo") before rounding and divides the '
        "inputs by s: a busy channel's weights get more of the grid. It tries α on a grid and keeps the best."
    )
    c = st.columns(3)
    n_grid = c[0].slider("Grid points (n_grid)", 4, 40, key="w_ab_grid", help="How many α the search tries.")
    duo = c[1].toggle(
        "Duo scaling", key="w_ab_duo", help="Divide by the weight magnitude w̄^(1−α) too (llm-compressor's default)."
    )
    awq_sym = c[2].toggle(
        "Symmetric (AWQ)", key="w_ab_awqsym", help="AWQ checkpoints are asymmetric; this is off by default."
    )
    a = run_awq(LAYER, bits, group, bool(awq_sym), int(n_grid), bool(duo))
    st.markdown("\n\n".join(words.awq_summary(a)))
    show_figure(af.awq_loss_figure(a), settings)
    show_figure(
        af.channel_bars_figure(
            {"mean |x| per channel": a.x_mean, "AWQ scale s": a.scales},
            title="Activation magnitude and AWQ's scale, per input channel",
            y_title="value",
            highlight=a.protected,
        ),
        settings,
    )
    remember(AWQ_FIELDS)


@st.fragment
def smoothquant_tab() -> None:
    st.markdown(
        link_jargon(
            "W8A8 quantizes activations too. A few huge activation channels ruin a per-tensor int8 "
            "grid; SmoothQuant divides them by s_j and multiplies the weights' column j by s_j, so y is "
            "unchanged and both are easy."
        )
    )
    c = st.columns(3)
    alpha = c[0].slider(
        "α (migration strength)",
        0.0,
        1.0,
        key="w_ab_alpha",
        step=0.05,
        help="0: s = 1/max|W|, every weight column scaled to one size, all the channels' differences left on the "
        "activations (the weights do change); 1: every activation channel scaled to one size, the weights take it all.",
    )
    form = c[1].radio(
        "Scales", list(FORMS), format_func=labels(FORMS), key="w_ab_form", help="llm-compressor's form or the paper's."
    )
    per_token = c[2].toggle(
        "Per-token activations", key="w_ab_token", help="One int8 scale per input row instead of one per tensor."
    )
    unsmoothed, sweep = run_sweep(LAYER, form, bool(per_token))
    sq, after = run_smooth(LAYER, float(alpha), form, bool(per_token))
    st.markdown("\n\n".join(words.smoothquant_summary(unsmoothed, after, float(alpha))))
    st.markdown(words.smoothquant_alpha_sentence(float(alpha), words.smoothing_spans(sq, lay.inputs, lay.weight)))
    show_figure(
        af.channel_bars_figure(
            {
                "max |x| before": np.abs(lay.inputs).max(axis=0),
                "max |x| after": np.abs(sq.inputs).max(axis=0),
                "max |W| before": np.abs(lay.weight).max(axis=0),
                "max |W| after": np.abs(sq.weight).max(axis=0),
            },
            title="Activations and weights per input channel, before and after smoothing",
            y_title="largest magnitude",
        ),
        settings,
    )
    show_figure(af.alpha_sweep_figure(ALPHAS, sweep, float(alpha)), settings)
    if form == "llmcompressor":
        ratio = sq.scales / sq.paper_scales
        st.caption(
            f"llm-compressor's scales are {fmt(float(ratio.min()), 3)}–{fmt(float(ratio.max()), 3)}× the paper's here "
            f"(2^(2α−1) = {fmt(2 ** (2 * float(alpha) - 1), 3)} for activations symmetric about 0): a near-uniform "
            "factor, which a per-tensor activation grid and a per-channel weight grid do not see."
        )
    remember(SQ_FIELDS)


@st.fragment
def rotation_tab() -> None:
    st.markdown(
        link_jargon(
            "A random Hadamard matrix Q (±1/√n entries, random signs) rotates the inputs and the "
            "weights: (x·Q)·(W·Q)ᵀ = x·Wᵀ. Every rotated channel mixes all the old ones, so an outlier "
            "channel is spread thin."
        )
    )
    rseed = st.columns(3)[0].number_input("Rotation seed", 0, 10_000, key="w_ab_rseed", help="Which random signs.")
    rot, rerr = run_rotation(LAYER, int(rseed), bits, group, bool(symmetric))
    m = st.columns(4)
    m[0].metric(f"int{bits} activations, before", f"{fmt(rerr.activations_before_db, 3)} dB")
    m[1].metric(f"int{bits} activations, after", f"{fmt(rerr.activations_after_db, 3)} dB")
    m[2].metric(f"int{bits} weights, before", f"{fmt(rerr.weights_before_db, 3)} dB")
    m[3].metric(f"int{bits} weights, after", f"{fmt(rerr.weights_after_db, 3)} dB")
    st.markdown(
        "\n\n".join(
            words.rotation_summary(
                rot, rerr.activations_before_db, rerr.activations_after_db, f"int{bits} activations per token"
            )
        )
    )
    show_figure(
        af.channel_bars_figure(
            {
                "max |x| before": np.abs(lay.inputs).max(axis=0),
                "max |x| after the rotation": np.abs(rot.inputs).max(axis=0),
            },
            title="The outliers before and after the rotation",
            y_title="largest magnitude",
        ),
        settings,
    )
    remember(ROT_FIELDS)


def compare_tab() -> None:
    groups = tuple(g for g in dict.fromkeys((group, None, 32, 64)) if g is None or n_in % g == 0)
    every = run_compare(LAYER, groups, bool(symmetric), 0)
    rows = tuple(r for r in every if r.group_size == group)
    st.markdown("\n\n".join(words.compare_summary(rows)))
    show_figure(af.compare_figure(rows, title=f"Layer-output SQNR, groups: {GROUPS[group_key]}"), settings)
    st.caption(
        "Weights only, except SmoothQuant (α = 0.5), whose activations are int8 per tensor too. GPTQ: no act-order, "
        "damp 0.01; AWQ: n_grid 20, duo scaling, this grid; rotations: seed 0. The table adds other group sizes."
    )
    # a point's link: this layer, at the point's bit width and group size
    base = {
        f.key: f.format(st.session_state.get(f.widget_key, f.default))
        for f in LAYER_FIELDS
        if f.key not in ("ab_bits", "ab_group") and st.session_state.get(f.widget_key, f.default) != f.default
    }
    table = pd.DataFrame(
        {
            "method": [r.method for r in every],
            "bits": [r.bits for r in every],
            "group": [GROUPS["none" if r.group_size is None else str(r.group_size)] for r in every],
            "SQNR (dB)": [round(r.sqnr_db, 3) for r in every],
            "open": [
                "?"
                + urlencode(
                    {
                        **base,
                        "ab_bits": str(r.bits),
                        **({} if r.group_size is None else {"ab_group": str(r.group_size)}),
                    }
                )
                for r in every
            ],
        }
    )
    show_table(
        settings,
        table,
        hide_index=True,
        column_config={"open": st.column_config.LinkColumn("open these settings", display_text="link")},
    )


for tab, body in zip(tabs, (gptq_tab, awq_tab, smoothquant_tab, rotation_tab, compare_tab), strict=True):
    with tab:
        body()
