"""Your model: open a model file and see how it was quantized, every quantized tensor, every float tensor measured."""

import hashlib

import numpy as np
import pandas as pd
import streamlit as st

import quantviz as qv
from quantviz.app import figures
from quantviz.app.state import plain, show_problem
from quantviz.app.widgets import page_header, quant_controls, show_figure, show_table
from quantviz.blocks import FORMATS
from quantviz.blocks.mix import match_mix
from quantviz.errors import QuantVizError
from quantviz.inputs import MAX_UPLOAD_BYTES
from quantviz.models import open_model
from quantviz.models.summary import INTEGER_GRIDS, describe, measure_floats, quantized_rows
from quantviz.teach.fmt import fmt
from quantviz.teach.mix import match_sentence

settings = quant_controls(show=())
page_header(
    "Your model",
    "Open the model you have — a quantized `.tflite` or ONNX file, or float weights as `.onnx`, `.safetensors`, `.gguf` "
    "or `.npz` — and see how it was quantized: the answer in words, every quantized tensor with its scale and zero point "
    "exactly as stored, and every float weight tensor measured at int8 and int4. Nothing in the file is run: pickled "
    "checkpoints (`.pt`, `.pth`, `.bin`, `.ckpt`) are refused unread, and ONNX external data is never followed.",
    settings,
)
upload = st.file_uploader(
    f"Model file (at most {MAX_UPLOAD_BYTES // 2**20} MB)",
    type=["tflite", "onnx", "safetensors", "gguf", "npz", "npy", "pt", "pth", "bin", "ckpt"], key="w_model_upload",
    help="Larger files: `python -m quantviz report MODEL --json report.json` gives the same report on the command line.",
)
if upload is None:
    st.info("No model yet. Try one of your own, or run `python -m quantviz report MODEL` for files over the upload limit.",
            icon=":material/upload_file:")
    st.stop()

data = upload.getvalue()
key = (upload.name, hashlib.sha256(data).hexdigest())
stored = st.session_state.get("_qv_model")
if stored is None or stored[0] != key:
    try:
        model = open_model(data, name=upload.name)
    except QuantVizError as exc:
        show_problem("This file cannot be opened:", exc)
        st.stop()
    st.session_state["_qv_model"] = (key, model)
else:
    model = stored[1]

st.subheader(f"{plain(model.name)}: how it was quantized")
st.markdown("\n".join(f"- {plain(line)}" for line in describe(model)))

rows = quantized_rows(model)
if rows:
    st.subheader(f"{len(rows)} quantized tensor{'s' if len(rows) != 1 else ''}")
    show_table(settings, pd.DataFrame([{**r._asdict(), "shape": " × ".join(map(str, r.shape))} for r in rows]), hide_index=True)

    st.subheader("One tensor, explained")
    per_tensor = [t for t in model.tensors if t.quantization is not None and t.dtype in INTEGER_GRIDS and t.quantization.scales.size >= 1]
    names = [t.name for t in per_tensor]
    chosen = st.selectbox("Tensor", names, key="w_model_tensor", help="Its number line with its own scale and zero point.")
    tensor = per_tensor[names.index(chosen)]
    q = tensor.quantization
    index = 0
    if q.scales.size > 1:
        index = st.number_input(f"Channel (axis {q.axis})", 0, q.scales.size - 1, 0, key="w_model_channel",
                                help="Per-axis quantization: each channel has its own scale and zero point.")
    qmin, qmax = INTEGER_GRIDS[tensor.dtype]
    try:
        qp = qv.QParams(float(np.float32(q.scales[index])), int(q.zero_points[index]), qmin, qmax)
    except QuantVizError as exc:
        show_problem("These parameters do not describe a grid:", exc)
        st.stop()
    codes = None
    if tensor.has_values and tensor.size <= 50_000_000:
        stored_codes = tensor.load()
        if q.axis is not None and q.scales.size > 1:
            stored_codes = np.take(stored_codes, index, axis=q.axis)
        codes = np.unique(stored_codes.reshape(-1).astype(np.int64))
        codes = codes[np.linspace(0, codes.size - 1, min(codes.size, 40)).round().astype(int)]
    values = qv.dequantize(codes, qp) if codes is not None else None
    st.markdown(f"r = s·(q − z) with s = **{fmt(qp.scale, 17)}** (float32 as stored) and z = **{qp.zero_point}** on "
                f"{tensor.dtype} [{qmin}, {qmax}]: real 0 is code {qp.zero_point}, the grid covers "
                f"[{fmt(qp.real_min, 8)}, {fmt(qp.real_max, 8)}].")
    show_figure(figures.number_line_figure(qp, chosen_range=(qp.real_min, qp.real_max), values=values, codes=codes,
                                           title=f"{tensor.name[:40]}: s = {fmt(qp.scale, 6)}, z = {qp.zero_point}"), settings)
    if codes is not None:
        st.caption(f"Markers: {codes.size} of the codes the tensor stores, at the real values they stand for.")
    bits = {"int8": 8, "uint8": 8, "int16": 16, "int4": 4, "uint4": 4}.get(tensor.dtype)
    if bits:
        signed = "false" if tensor.dtype.startswith("u") else "true"
        query = f"set=sz&s={float(np.float32(qp.scale))!r}&z={qp.zero_point}&bits={bits}&signed={signed}"
        st.markdown(f"[Open this s and z on the Number line](number_line?{query}) · "
                    f"[as a worked example](worked_examples?preset=own&{query}) — any value, step by step, with this "
                    "tensor's own scale and zero point.")

gguf_types = {t.name: t.dtype for t in model.tensors} if model.format == "gguf" else {}
if any(t in FORMATS for t in gguf_types.values()):
    mix = match_mix(gguf_types)
    st.subheader("The mix of types, against llama.cpp's rules")
    st.markdown(match_sentence(mix))
    show_table(settings, pd.DataFrame([{"tensor": n, "in the file": a, f"llama.cpp's {mix.file_type} rule": b,
                                        "same": a == b or {a, b} <= {"F32", "F16", "BF16"}} for n, a, b in mix.rows]),
               hide_index=True, height=280)

measured = measure_floats(model)
if measured:
    st.subheader("Float weight tensors, measured")
    st.caption("SQNR (dB) of int8 and int4, symmetric (z = 0) and affine (an integer zero point), with one scale per "
               "tensor, per channel (first axis) or per group of 128 or 32 along a row, and what TFLite, ONNX Runtime and "
               "PyTorch do by default; the worst tensors first. Higher is better; each bit is worth about 6 dB.")
    show_figure(figures.bars_figure(
        [m.name[-28:] for m in measured[:30]],
        {label: np.array([m.sqnr.get(label, np.nan) for m in measured[:30]]) for label in
         ("int8 symmetric per channel", "int4 symmetric group 32", "int4 affine group 128", "TFLite default (int8 per channel)")},
        title="SQNR per tensor, worst first", x_title="tensor", y_title="SQNR (dB)"), settings)
    table = pd.DataFrame([{"name": m.name, "dtype": m.dtype, "shape": " × ".join(map(str, m.shape)),
                           **{f"SQNR {k}": v for k, v in m.sqnr.items()},
                           **{f"max |error| {k}": v for k, v in m.max_error.items()}} for m in measured])
    show_table(settings, table, hide_index=True)
    st.download_button("Download this table (CSV)", table.to_csv(index=False), file_name=f"{model.name}-measured.csv",
                       mime="text/csv", icon=":material/download:", help="SQNR and max |error| of every scheme, per tensor.")
