"""Your model: open a model file and see how it was quantized, every quantized tensor, every float tensor measured."""

import hashlib
import time
from urllib.parse import urlencode

import numpy as np
import pandas as pd
import streamlit as st

import quantviz as qv
from quantviz.algorithms.example_layer import example_tensors
from quantviz.app import figures
from quantviz.app.model_figures import sqnr_along_graph_figure
from quantviz.app.state import choice_field, int_field, labels, plain, prime, remember, show_problem, text_field
from quantviz.app.widgets import page_header, quant_controls, show_figure, show_table
from quantviz.blocks import FORMATS
from quantviz.blocks.mix import match_mix
from quantviz.errors import QuantVizError
from quantviz.inputs import MAX_UPLOAD_BYTES
from quantviz.models import open_files, open_model
from quantviz.models.debug import (
    MAX_BATCHES,
    MAX_INPUT_BYTES,
    MAX_SECONDS,
    debug_run,
    explained_tensor,
    inputs_from_file,
    sample_inputs,
    worst_first,
)
from quantviz.models.examples import EXAMPLES, example_path
from quantviz.models.explain import explainable, explainable_tables, grid_query, slice_label, table_codes, view
from quantviz.models.problems import likely_problems
from quantviz.models.recover import recover_float
from quantviz.models.summary import describe, measure_floats, quantized_rows
from quantviz.teach.fmt import fmt
from quantviz.teach.mix import match_sentence
from quantviz.teach.model_run import debug_verdict, table_sentence

settings = quant_controls(show=())
SOURCES = {"upload": "Your own file (upload)", **{k: f"Example: {e.label}" for k, e in EXAMPLES.items()}}
SOURCE = choice_field("model_src", "onnx_qdq", SOURCES)
SEED = int_field("model_seed", 0, 0, 10**6)
BATCHES = int_field("model_batches", 4, 1, 16)
TENSOR = text_field("model_tensor", "")
prime([SOURCE, SEED, BATCHES, TENSOR])
page_header(
    "Your model",
    "Open the model you have — a quantized `.tflite` or ONNX file, a GGUF, a Hugging Face checkpoint (GPTQ, AWQ, "
    "compressed-tensors, FP8, bitsandbytes) with its `config.json`, or float weights as `.onnx`, `.safetensors` or "
    "`.npz` — and see what was done to it: the answer in words, every quantized tensor with its scale and zero point "
    "exactly as stored, and every float weight tensor measured at int8 and int4. Give an ONNX or TFLite model its "
    "float original and both run, side by side, to show which layer loses the accuracy. Pickled checkpoints (`.pt`, "
    "`.pth`, `.bin`, `.ckpt`) are refused unread, and ONNX external data is never followed.",
    settings,
)
source = st.selectbox(
    "Model",
    list(SOURCES),
    format_func=labels(SOURCES),
    key=SOURCE.widget_key,
    help="A small example, each made by a committed script (most by the producing tool's own quantizer, some "
    "with their float original), or your file.",
)
remember([SOURCE])


def opened(key: tuple, name: str, open_it):
    """The model, opened once per file and kept in the session with how long reading it took (refusals in words)."""
    stored = st.session_state.get("_qv_models", {})
    if key not in stored:
        start = time.perf_counter()
        try:
            model = open_it()
        except QuantVizError as exc:
            show_problem(f"{plain(name)} cannot be opened:", exc)
            st.stop()
        stored = {**{k: v for k, v in list(stored.items())[-3:]}, key: (model, time.perf_counter() - start)}
        st.session_state["_qv_models"] = stored
    return stored[key][0]


def read_seconds(model) -> float | None:
    """How long opening ``model`` took, where this session opened it."""
    return next((seconds for m, seconds in st.session_state.get("_qv_models", {}).values() if m is model), None)


original = None
if source == "upload":
    uploads = st.file_uploader(
        f"Model file, or a checkpoint's safetensors shards with its config.json (each at most "
        f"{MAX_UPLOAD_BYTES // 2**20} MB)",
        type=["tflite", "onnx", "safetensors", "gguf", "npz", "npy", "json", "pt", "pth", "bin", "ckpt"],
        accept_multiple_files=True,
        key="w_model_upload",
        help="A Hugging Face checkpoint's config.json says how its tensors are packed (bits, group size, method). "
        "Larger files: `python -m quantviz report MODEL --json report.json` gives the same report on the command "
        "line.",
    )
    if not uploads:
        st.info(
            "No model yet. Upload one of your own, pick an example above, or run `python -m quantviz report MODEL` "
            "for files over the upload limit.",
            icon=":material/upload_file:",
        )
        st.stop()
    files = [(u.name, u.getvalue()) for u in uploads]
    key = tuple((n, hashlib.sha256(d).hexdigest()) for n, d in files)
    model = opened(key, ", ".join(n for n, _ in files), lambda: open_files(files))
else:
    example = EXAMPLES[source]
    model = opened(
        ("example", example.quantized), example.quantized, lambda: open_model(example_path(example.quantized))
    )
    if example.original:
        path = example_path(example.original)
        original = opened(("example", example.original), example.original, lambda: open_model(path))

st.subheader(f"{plain(model.name)}: how it was quantized" + (f" ({model.file_type})" if model.file_type else ""))
st.markdown("\n".join(f"- {plain(line)}" for line in describe(model)))
seconds = read_seconds(model)
if seconds is not None:
    st.caption(f"Read {len(model.tensors)} tensors in {seconds:.2f} s; nothing in the file is run to read it.")
problems = likely_problems(model)
if problems:
    st.markdown(
        "**Likely problems**, most serious first:\n"
        + "\n".join(f"{i}. **{plain(p.tensor)}**: {plain(p.text)}" for i, p in enumerate(problems[:10], 1))
    )
if model.notes:
    with st.expander(f"What the reader noticed ({len(model.notes)})"):
        st.markdown("\n".join(f"- {plain(note)}" for note in model.notes))


def one_tensor(per_tensor: list) -> None:
    """One tensor on its number line, with its own scale and zero point (and its channel or block)."""
    names = [t.name for t in per_tensor]
    asked = st.session_state.get(TENSOR.widget_key)
    if asked not in names:  # another file's tensor, or none named by the link
        if asked:
            st.caption(f"{plain(model.name)} has no quantized tensor named {plain(asked)}; showing the first.")
        st.session_state[TENSOR.widget_key] = names[0]
    chosen = st.selectbox(
        "Tensor", names, key=TENSOR.widget_key, help="Its number line with its own scale and zero point."
    )
    remember([TENSOR])
    tensor = per_tensor[names.index(chosen)]
    label, index = slice_label(tensor), 0
    if label:
        help_text = "Per-axis or per-block quantization: each has its own scale and zero point."
        index = st.number_input(label, 0, tensor.quantization.scales.size - 1, 0, key="w_model_channel", help=help_text)
    seen = view(tensor, model, int(index))
    try:
        qp = qv.QParams(seen.scale, seen.zero_point, seen.qmin, seen.qmax)
    except QuantVizError as exc:
        show_problem("These parameters do not describe a grid:", exc)
        return
    show_number_line(tensor, qp, seen)


def one_table_tensor(tables: list) -> None:
    """A table-coded tensor (bitsandbytes NF4/FP4), one block at a time: each code's value and how often it is used."""
    names = [t.name for t in tables]
    if st.session_state.get(TENSOR.widget_key) not in names:
        st.session_state[TENSOR.widget_key] = names[0]
    chosen = st.selectbox("Tensor", names, key=TENSOR.widget_key, help="Its codes, block by block.")
    remember([TENSOR])
    tensor = tables[names.index(chosen)]
    q = tensor.quantization
    where = "along each row" if q.axis == 1 else "of the flattened tensor"
    help_text = "Each block has its own absmax; the codes are the same 16 table values scaled by it."
    index = int(
        st.number_input(
            f"Block (of {q.block_size} {where})", 0, q.scales.size - 1, 0, key="w_model_channel", help=help_text
        )
    )
    rows = table_codes(tensor, index)
    st.markdown(plain(table_sentence(tensor.dtype, index, float(np.float32(q.scales[index])), rows)))
    columns = {"code": "code q", "table_value": "table[q]", "value": "table[q] × absmax", "count": "values"}
    show_table(settings, pd.DataFrame([r._asdict() for r in rows]).rename(columns=columns), hide_index=True)


def show_number_line(tensor, qp, seen) -> None:
    """The slice's grid in words, on its number line with the codes it stores, and links to the Number line."""
    values = qv.dequantize(seen.codes, qp) if seen.codes is not None else None
    st.markdown(
        f"r = s·(q − z) with s = **{fmt(qp.scale, 17)}** (float32 as stored) and z = **{qp.zero_point}** on "
        f"{tensor.dtype} [{seen.qmin}, {seen.qmax}]: real 0 is code {qp.zero_point}, the grid covers "
        f"[{fmt(qp.real_min, 8)}, {fmt(qp.real_max, 8)}]."
        + (f" The grid is [{seen.qmin}, {seen.qmax}]: {seen.why}." if seen.why else "")
    )
    title = f"{tensor.name[:40]}: s = {fmt(qp.scale, 6)}, z = {qp.zero_point}"
    line = figures.number_line_figure(
        qp, chosen_range=(qp.real_min, qp.real_max), values=values, codes=seen.codes, title=title
    )
    show_figure(line, settings)
    if seen.codes is not None:
        st.caption(f"Markers: {seen.codes.size} of the codes the tensor stores, at the real values they stand for.")
    query = grid_query(qp.scale, qp.zero_point, tensor.dtype)
    if query:
        st.markdown(
            f"[Open this s and z on the Number line](number_line?{query}) · "
            f"[as a worked example](worked_examples?preset=own&{query}) — any value, step by step, with this "
            "tensor's own scale and zero point."
        )
    if source in EXAMPLES and tensor.name in example_tensors(source):  # the example reopens there by name
        where = urlencode({"source": "example", "model": source, "tensor": tensor.name})
        st.markdown(f"[Open this weight as the layer on Beyond rounding](beyond_rounding?{where})")


try:  # values are read lazily: a corrupt entry is found when its codes are first loaded
    rows = quantized_rows(model)
    measured = measure_floats(model)
except QuantVizError as exc:
    show_problem("This file cannot be read to the end:", exc)
    st.stop()
if rows:
    st.subheader(f"{len(rows)} quantized tensor{'s' if len(rows) != 1 else ''}")
    quantized_table = pd.DataFrame([{**r._asdict(), "shape": " × ".join(map(str, r.shape))} for r in rows])
    show_table(settings, quantized_table, hide_index=True)

    st.subheader("One tensor, explained")
    per_tensor = explainable(model)  # int32 biases have 2^32 codes, too many to draw: the table above shows them
    tables = explainable_tables(model)
    if per_tensor:
        one_tensor(per_tensor)
    elif tables:
        one_table_tensor(tables)
    else:
        st.caption(
            "No quantized tensor has integer codes on an affine grid to draw (int32 biases are too wide a grid, "
            "FP8 codes are not evenly spaced); the table above lists them."
        )

if model.format in ("onnx", "tflite") and model.file_type not in ("onnx-float", "tflite-float"):
    st.subheader("Run it: float against quantized, tensor by tensor")
    if original is None:
        float_upload = st.file_uploader(
            f"Float original (.{model.format})",
            type=[model.format],
            key="w_model_float",
            help="The float model this one was quantized from: both run on the same inputs.",
        )
        if float_upload is not None:
            float_data = float_upload.getvalue()
            float_key = (float_upload.name, hashlib.sha256(float_data).hexdigest())
            original = opened(float_key, float_upload.name, lambda: open_model(float_data, name=float_upload.name))
        elif model.file_type == "onnx-qdq":
            try:
                original = recover_float(model)
            except QuantVizError as exc:
                show_problem("No float model can be recovered from this one:", exc)
            else:
                st.caption(
                    "No float original given: compared with this model's own weights dequantized and its "
                    "activations clipped to their grids but not rounded, so the table shows the activations' "
                    "rounding alone. Upload the float original to see the weights' error too."
                )
        else:
            st.caption("Upload the float model this one was quantized from to compare them layer by layer.")
    if original is not None:
        c = st.columns(3)
        seed = c[0].number_input(
            "Seed",
            0,
            10**6,
            key=SEED.widget_key,
            help="Inputs are drawn from a standard normal (ids below the vocabulary) with this seed.",
        )
        batches = c[1].number_input("Inputs", 1, 16, key=BATCHES.widget_key, help="How many inputs both models run.")
        sample = c[2].file_uploader(
            "Your inputs (.npy, .npz)",
            type=["npy", "npz"],
            key="w_model_inputs",
            help="Entries named after the inputs, or any entries for a one-input model; replaces the generated inputs.",
        )
        remember([SEED, BATCHES])
        try:
            if sample is not None:
                sample_data = sample.getvalue()
                inputs_key = hashlib.sha256(sample_data).hexdigest()
                inputs = inputs_from_file(original, sample.name, sample_data)
            else:
                inputs_key = (int(seed), int(batches))
                inputs = sample_inputs(original, int(batches), int(seed))
            runs = st.session_state.setdefault("_qv_debug_runs", {})
            run_key = (original.name, model.name, id(original), id(model), inputs_key)
            if run_key not in runs:
                runs.clear()
                runs[run_key] = debug_run(original, model, inputs)
            run = runs[run_key]
        except QuantVizError as exc:
            show_problem("The two models cannot be run side by side:", exc)
        else:
            st.markdown(" ".join(plain(line) for line in debug_verdict(run.rows)))
            how = (
                "CPU, graph optimisations off, as onnxruntime's qdq_loss_debug"
                if run.runtime == "onnxruntime"
                else "CPU, builtin kernels, every tensor preserved; the time limit is checked between inputs"
            )
            st.caption(
                f"Ran {plain(original.name)} and {plain(model.name)} with {run.runtime} on {run.batches} input"
                f"{'s' if run.batches != 1 else ''} in {run.seconds:.2f} s ({how}). Limits: {MAX_BATCHES} inputs, "
                f"{MAX_INPUT_BYTES >> 20} MiB of them, {MAX_SECONDS:.0f} s; external data and custom operators are "
                "never loaded. The matched column says how each quantized tensor was paired with the float one."
            )
            show_figure(sqnr_along_graph_figure(run.rows), settings)
            debug_table = pd.DataFrame(
                [
                    {
                        "tensor": r.name,
                        "op": r.op,
                        "SQNR (dB)": round(r.sqnr_db, 3),
                        "max |error|": r.max_abs_error,
                        "dB lost since previous": None if r.added_db is None else round(r.added_db, 3),
                        "previous": r.previous,
                        "quantized tensor": r.quantized_name,
                        "clipped (%)": None if r.clipped is None else round(100 * r.clipped, 3),
                        "matched": r.matched,
                        **(
                            {
                                "explain": f"your_model?model_src={source}&model_tensor={explained}"
                                if (explained := explained_tensor(r, model))
                                else None
                            }
                            if source != "upload"
                            else {}
                        ),
                    }
                    for r in worst_first(run.rows)
                ]
            )
            st.caption("Worst first: the graph's last tensor on top, then every shared tensor by SQNR, lowest first.")
            show_table(
                settings,
                debug_table,
                hide_index=True,
                column_config={
                    "explain": st.column_config.LinkColumn(
                        "explain", display_text="one tensor", help="Open this tensor's codes on One tensor, explained."
                    )
                },
            )
            st.download_button(
                "Download the debug table (CSV)",
                debug_table.to_csv(index=False),
                file_name=f"{model.name}-debug.csv",
                mime="text/csv",
                icon=":material/download:",
                key="w_model_debug_csv",
                help="Every shared tensor: SQNR, max |error|, dB lost.",
            )

gguf_types = {t.name: t.dtype for t in model.tensors} if model.format == "gguf" else {}
if any(t in FORMATS for t in gguf_types.values()):
    mix = match_mix(gguf_types)
    st.subheader("The mix of types, against llama.cpp's rules")
    st.markdown(match_sentence(mix))
    show_table(
        settings,
        pd.DataFrame(
            [
                {
                    "tensor": n,
                    "in the file": a,
                    f"llama.cpp's {mix.file_type} rule": b,
                    "same": a == b or {a, b} <= {"F32", "F16", "BF16"},
                }
                for n, a, b in mix.rows
            ]
        ),
        hide_index=True,
        height=280,
    )

if measured:
    st.subheader("Float weight tensors, measured")
    st.caption(
        "SQNR (dB) of int8 and int4, symmetric (z = 0) and affine (an integer zero point), with one scale per "
        "tensor, per channel (first axis) or per group of 128 or 32 along a row, and what TFLite, ONNX Runtime and "
        "PyTorch do by default; the worst tensors first. Higher is better; each bit is worth about 6 dB."
    )
    show_figure(
        figures.bars_figure(
            [m.name[-28:] for m in measured[:30]],
            {
                label: np.array([m.sqnr.get(label, np.nan) for m in measured[:30]])
                for label in (
                    "int8 symmetric per channel",
                    "int4 symmetric group 32",
                    "int4 affine group 128",
                    "TFLite default (int8 per channel)",
                )
            },
            title="SQNR per tensor, worst first",
            x_title="tensor",
            y_title="SQNR (dB)",
        ),
        settings,
    )
    table = pd.DataFrame(
        [
            {
                "name": m.name,
                "dtype": m.dtype,
                "shape": " × ".join(map(str, m.shape)),
                **{f"SQNR {k}": v for k, v in m.sqnr.items()},
                **{f"max |error| {k}": v for k, v in m.max_error.items()},
            }
            for m in measured
        ]
    )
    show_table(settings, table, hide_index=True)
    st.download_button(
        "Download this table (CSV)",
        table.to_csv(index=False),
        file_name=f"{model.name}-measured.csv",
        mime="text/csv",
        icon=":material/download:",
        help="SQNR and max |error| of every scheme, per tensor.",
    )
