"""Example models that ship with QuantViz, so a first visit to *Your model* shows a real file.

The ONNX ones are made by ``tests/fixtures/make_onnx.py`` with onnxruntime's own quantizers from tiny float models
(a 3-layer CNN and a 2-layer "LLM"), each with its float original so a debug run has something to compare with;
two TFLite models by ``tests/fixtures/make_tflite.py`` (TensorFlow's converter, in ``make oracles``), and a TFLite
int8 CNN with its float original (same weights, run side by side on LiteRT) by ``tests/fixtures/make_tflite_pair.py``;
a compressed-tensors W4A16 checkpoint, a bitsandbytes NF4 checkpoint and two GGUFs (the ``gguf`` package's
Q4_0/Q8_0 quantizers; a Q4_K_M mix by ``quantviz.blocks``' K-quant encoders) by ``tests/fixtures/make_examples.py``.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

HERE = Path(__file__).parent


class Example(NamedTuple):
    """A shipped quantized model and its float original (None where there is none to run)."""

    label: str
    quantized: str
    original: str | None


EXAMPLES = {
    "onnx_qdq": Example(
        label="ONNX QDQ CNN (quantize_static, per tensor)", quantized="onnx_qdq.onnx", original="onnx_float.onnx"
    ),
    "onnx_qoperator": Example(
        label="ONNX QOperator CNN (quantize_static, per channel)",
        quantized="onnx_qoperator.onnx",
        original="onnx_float.onnx",
    ),
    "onnx_dynamic": Example(
        label="ONNX dynamic CNN (quantize_dynamic, uint8 weights)",
        quantized="onnx_dynamic.onnx",
        original="onnx_float.onnx",
    ),
    "onnx_nbits": Example(
        label="ONNX 4-bit LLM (MatMulNBits, GatherBlockQuantized)",
        quantized="onnx_nbits.onnx",
        original="onnx_llm_float.onnx",
    ),
    "tflite_int8": Example(
        label="TFLite full-integer int8, per-tensor weights (channels 100× apart)",
        quantized="tflite_full_int8_per_tensor.tflite",
        original=None,
    ),
    "tflite_cnn": Example(
        label="TFLite int8 CNN with its float original (per-tensor weights; fc1's channels 100× apart)",
        quantized="tflite_cnn_int8.tflite",
        original="tflite_cnn_float.tflite",
    ),
    "tflite_16x8": Example(
        label="TFLite 16x8 (int16 activations, int8 weights)", quantized="tflite_int16x8.tflite", original=None
    ),
    "ct_w4a16": Example(
        label="compressed-tensors W4A16 checkpoint (int4, groups of 32)",
        quantized="ct_w4a16.safetensors",
        original=None,
    ),
    "bnb_nf4": Example(
        label="bitsandbytes NF4 checkpoint (load_in_4bit layout, double quantization)",
        quantized="bnb_nf4.safetensors",
        original=None,
    ),
    "gguf_q4_0": Example(label="GGUF Q4_0 with a Q8_0 output layer", quantized="gguf_q4_0.gguf", original=None),
    "gguf_q4_k_m": Example(
        label="GGUF Q4_K_M mix (K-quants: Q4_K and Q6_K, a one-block llama)",
        quantized="gguf_q4_k_m.gguf",
        original=None,
    ),
}


def example_path(name: str) -> Path:
    """The path of a shipped example file, refusing any name that is not one of them.

    >>> example_path("onnx_qdq.onnx").name
    'onnx_qdq.onnx'
    """
    shipped = {e.quantized for e in EXAMPLES.values()} | {e.original for e in EXAMPLES.values() if e.original}
    if name not in shipped:
        raise ValueError(f"{name!r} is not a shipped example; they are {', '.join(sorted(shipped))}")
    return HERE / name
