"""What it costs: accuracy and perplexity on two real tasks, for every weight scheme, format and activation choice."""

from urllib.parse import urlencode

import numpy as np
import streamlit as st

from quantviz.app import tables, task_figures
from quantviz.app.state import choice_field, labels, prime, remember, show_problem
from quantviz.app.widgets import page_header, quant_controls, show_figure, show_table
from quantviz.blocks import FORMATS
from quantviz.tasks import ALGORITHMS, CALIBRATORS, algorithm_supports, evaluate, load, parse_weights
from quantviz.tasks.schemes import GROUP_SIZES, INT_BITS, weight_scheme_names
from quantviz.tasks.sweeps import CORE_SCHEMES, point, sensitivity
from quantviz.teach import costs
from quantviz.teach.fmt import fmt
from quantviz.teach.glossary import link_jargon

TASK_LABELS = {
    "digits": "Digits: an MLP on 8×8 handwritten digits (accuracy)",
    "tinylm": "Tiny LM: a byte-level transformer on numpy's docstrings (perplexity)",
}
KIND_LABELS = {"integer": "integer codes", "block": "a block format"}
BITS_LABELS = {str(b): f"{b} bits" for b in INT_BITS}
GRAN_LABELS = {
    "per-tensor": "per tensor",
    "per-channel": "per channel",
    **{f"g{g}": f"per group of {g}" for g in GROUP_SIZES},
}
ACT_LABELS = {
    "float": "float (weight-only)",
    "int8-per-tensor": "int8 per tensor (static, calibrated)",
    "int8-per-token": "int8 per token (dynamic)",
}


@st.cache_data(max_entries=160, show_spinner=False)
def cached_evaluate(task: str, weights: str, activations: str | None, algorithm: str, calibration: str):
    return evaluate(task, weights, activations, algorithm, calibration=calibration)


@st.cache_data(max_entries=32, show_spinner="Quantizing one layer at a time…")
def cached_sensitivity(task: str, weights: str, activations: str | None, algorithm: str, calibration: str):
    return sensitivity(task, weights, activations, algorithm, used_calibration)


settings = quant_controls(show=())
FIELDS = [
    choice_field("wc_task", "digits", TASK_LABELS),
    choice_field("wc_kind", "integer", KIND_LABELS),
    choice_field("wc_bits", "4", BITS_LABELS),
    choice_field("wc_gran", "per-tensor", GRAN_LABELS),
    choice_field("wc_fmt", "NF4", {k: k for k in FORMATS}),
    choice_field("wc_acts", "float", ACT_LABELS),
    choice_field("wc_algo", "rtn", {k: a.summary for k, a in ALGORITHMS.items()}),
    choice_field("wc_cal", "minmax", {k: c.summary for k, c in CALIBRATORS.items()}),
]
prime(FIELDS)  # before the header, which shows what was wrong with the link
page_header(
    "What it costs",
    "MSE and SQNR measure the error in the weights; what a user loses is accuracy or perplexity. Here two small "
    "networks that ship with QuantViz are quantized every way the app knows — integer codes per tensor, per channel "
    "or per group, every block format, with float or int8 activations — and scored on data they never saw: a "
    "digits classifier by its accuracy, a tiny language model by its perplexity and by how far its next-byte "
    "distribution moves from the float model's (KL divergence and same top byte, as llama.cpp's "
    "`perplexity --kl-divergence` reports them).",
    settings,
)
c = st.columns([2.2, 1.2, 1, 1.2, 1.4])
task = c[0].selectbox(
    "Task",
    list(TASK_LABELS),
    format_func=labels(TASK_LABELS),
    key="w_wc_task",
    help="Which network to quantize and how it is scored.",
)
kind = c[1].radio(
    "Weights as",
    list(KIND_LABELS),
    format_func=labels(KIND_LABELS),
    key="w_wc_kind",
    help="Integer codes with float32 scales, or one of the block formats of quantviz.blocks.",
)
bits = c[2].selectbox(
    "Bits",
    list(BITS_LABELS),
    format_func=labels(BITS_LABELS),
    key="w_wc_bits",
    disabled=kind != "integer",
    help="Symmetric integer codes in [−(2^(b−1)−1), 2^(b−1)−1].",
)
gran = c[3].selectbox(
    "Granularity",
    list(GRAN_LABELS),
    format_func=labels(GRAN_LABELS),
    key="w_wc_gran",
    disabled=kind != "integer",
    help="How many weights share one scale.",
)
block = c[4].selectbox(
    "Block format",
    list(FORMATS),
    key="w_wc_fmt",
    disabled=kind != "block",
    format_func=labels({k: f"{k} ({f.bits_per_weight:g} bits/weight)" for k, f in FORMATS.items()}),
    help="GGUF, NF4, MX, NVFP4 or group-wise int: a scale per small block.",
)
c2 = st.columns(3)
acts_choice = c2[0].selectbox(
    "Activations",
    list(ACT_LABELS),
    format_func=labels(ACT_LABELS),
    key="w_wc_acts",
    help="Float, or int8 into an integer matmul (int8 × int8 → int32).",
)
calibration = c2[2].selectbox(
    "Activation ranges from",
    list(CALIBRATORS),
    key="w_wc_cal",
    format_func=labels({k: c.summary for k, c in CALIBRATORS.items()}),
    disabled=acts_choice != "int8-per-tensor",
    help="How the static int8 ranges are chosen on the calibration set (see Calibration "
    "and clipping); per-token ranges are each row's own absmax.",
)
algorithm = c2[1].selectbox(
    "Rounding algorithm",
    list(ALGORITHMS),
    key="w_wc_algo",
    format_func=labels({k: f"{k}: {a.summary}" for k, a in ALGORITHMS.items()}),
    disabled=len(ALGORITHMS) == 1,
    help="How each weight is rounded to its grid: on its own (round to nearest), or by GPTQ "
    "or AWQ from the layer's calibration inputs (integer schemes per channel or group).",
)
remember(FIELDS)
weights = f"int{bits}-{gran}" if kind == "integer" else block
activations = None if acts_choice == "float" else acts_choice
used_calibration = calibration if activations == "int8-per-tensor" else "minmax"  # unused otherwise: share the cache
net = load(task)
try:
    result = cached_evaluate(task, weights, activations, algorithm, used_calibration)
except ValueError as exc:  # e.g. GPTQ asked for a per-tensor scheme: say so, keep the settings
    show_problem("Cannot evaluate these settings:", exc)
    st.stop()
metric = result.metric

m = st.columns(6)
m[0].metric(
    "float " + metric, costs.metric_text(metric, result.float_value), help="The float32 network on the test split."
)
m[1].metric(
    f"quantized {metric}",
    costs.metric_text(metric, result.value),
    delta=(
        None
        if result.value == result.float_value
        else f"{(result.value - result.float_value) * 100:+.2f} points"
        if metric == "accuracy"
        else f"{(result.value / result.float_value - 1) * 100:+.2f} %"
    ),
    delta_color="normal" if metric == "accuracy" else "inverse",
    help="The quantized network, same data.",
)
m[2].metric(
    "KL from float (nats)",
    fmt(result.kl_divergence, 3),
    help="Mean KL(float ‖ quantized) of the output distribution"
    + (" over the scored positions." if task == "tinylm" else " over the 10 classes."),
)
m[3].metric(
    "same top answer", f"{result.top1_agreement * 100:.2f} %", help="How often the argmax equals the float network's."
)
m[4].metric(
    "weight SQNR (dB)", fmt(result.weight_sqnr_db, 4), help="Signal to quantization noise of all quantized weights."
)
m[5].metric(
    "bits per weight", fmt(result.bits_per_weight, 4), help="Codes plus scales (float32 for the integer schemes)."
)
st.markdown(costs.verdict(result))

swept = weight_scheme_names() if task == "digits" else tuple(dict.fromkeys((*CORE_SCHEMES, weights)))
swept = tuple(name for name in swept if algorithm_supports(algorithm, name))  # GPTQ/AWQ: integer, channel or group
with st.spinner(f"Evaluating {len(swept)} schemes…"):
    points = [point(cached_evaluate(task, name, activations, algorithm, used_calibration)) for name in swept]
if kind == "integer":
    st.subheader(f"Per tensor, per channel or per group, at {bits} bits")
    same_bits = [p for p in points if p.weights.startswith(f"int{bits}-")]
    show_table(settings, tables.schemes_table(same_bits, metric), hide_index=True)

st.subheader("Every scheme: the task beside the SQNR")
cols = st.columns(2)
with cols[0]:
    show_figure(
        task_figures.scheme_map_figure(
            points,
            metric,
            float_value=result.float_value,
            chosen=weights,
            title=f"{metric.capitalize()} against bits per weight",
        ),
        settings,
    )
with cols[1]:
    show_figure(
        task_figures.scheme_map_figure(
            points, metric, y="sqnr", chosen=weights, title="Weight SQNR against bits per weight"
        ),
        settings,
    )
if task == "tinylm":
    st.caption(
        f"{len(swept)} schemes here, one or two of each family (each costs a forward pass of the language "
        "model); docs/tasks.md has all of them."
    )
sentence = costs.disagreement_sentence(points, metric)
if sentence:
    st.markdown(link_jargon(sentence))
if metric == "accuracy":
    st.caption(
        f"One test image is {fmt(100 / net.labels.size, 3)} points of accuracy: a difference of one or two "
        "images is luck of the split; the KL divergence ranks the schemes more finely."
    )


def link_to(name: str) -> str:
    """The link that reopens this page on scheme ``name``, the other settings as they are (defaults left out)."""
    scheme = parse_weights(name)
    wanted = {"wc_task": task, "wc_acts": acts_choice, "wc_algo": algorithm, "wc_cal": calibration}
    if scheme.kind == "block":
        wanted |= {"wc_kind": "block", "wc_fmt": name}
    else:
        wanted |= {"wc_bits": str(scheme.bits), "wc_gran": name.split("-", 1)[1]}
    defaults = {f.key: f.default for f in FIELDS}
    return "what_it_costs?" + urlencode({k: v for k, v in wanted.items() if v != defaults[k]})


with st.expander(f"Every point as a link ({len(points)} schemes)"):
    show_table(
        settings,
        tables.scheme_links_table(points, metric, [link_to(p.weights) for p in points]),
        hide_index=True,
        column_config={"open": st.column_config.LinkColumn("open", display_text="open this view")},
    )

st.subheader("Which layer hurts most")
layer_costs = cached_sensitivity(task, weights, activations, algorithm, used_calibration)
show_figure(task_figures.sensitivity_figure(layer_costs), settings)
st.markdown(costs.sensitivity_sentence(layer_costs, metric))

if task == "digits":
    st.subheader("The images it now gets wrong")
    found = costs.mistakes(result, net.labels)
    idx = found.now_wrong
    show_figure(
        task_figures.digits_figure(
            net.inputs[idx], net.labels[idx], result.float_predictions[idx], result.predictions[idx]
        ),
        settings,
    )
    st.markdown(costs.mistakes_sentence(found))
    if idx.size > task_figures.MAX_IMAGES:
        st.caption(f"The first {task_figures.MAX_IMAGES} of {idx.size} shown.")
else:
    st.caption(
        "Scored on the first " + fmt(net.inputs.size) + " held-out bytes, in chunks of "
        f"{net.inputs.shape[1]}; each chunk's second half is scored, as llama.cpp's perplexity does. "
        f"{np.unique(net.inputs).size} distinct byte values appear there."
    )
