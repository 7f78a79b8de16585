"""The two task networks in numpy float32: the digits MLP and the tiny byte-level transformer.

Each forward pass takes ``linear(name, x) -> y``, the one place a quantized layer differs from the float one, so
the same code runs float, weight-only, W8A8 and one-layer-at-a-time. The digits network also has its integer
pipeline (int8 codes from layer to layer) in ``quantviz.tasks.evaluate``. Weights and data are the npz files in
``quantviz/tasks/data`` written by ``scripts/train_digits.py`` and ``scripts/train_tinylm.py``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import numpy as np

from quantviz.algorithms.layer import one_blas_thread
from quantviz.tasks import corpus

F32 = np.float32
DATA = Path(__file__).resolve().parent / "data"
DIGITS_LAYERS = ("fc1", "fc2", "fc3")
CONTEXT, HEADS, N_BLOCKS = 128, 4, 2
TINYLM_LAYERS = (*(f"blocks.{b}.{m}" for b in range(N_BLOCKS) for m in ("qkv", "proj", "fc1", "fc2")), "head")
EVAL_CHUNKS = 16  # held-out chunks of CONTEXT bytes: the tiny LM's test split (1,008 scored positions)
CALIBRATION_CHUNKS = 8  # training chunks the static activation ranges are measured on
Linear = Callable[[str, np.ndarray], np.ndarray]


class Network(NamedTuple):
    """A task's float32 parameters, by name, and the data it is scored on."""

    params: dict[str, np.ndarray]
    layers: tuple[str, ...]  # the linear layers that quantization touches, in order
    inputs: np.ndarray  # digits: test images /16, float32 [n, 64]; tinylm: byte chunks int64 [n, 128]
    labels: np.ndarray  # digits: test labels; tinylm: the same chunks (the targets are shifted inputs)
    calibration: np.ndarray  # inputs for static activation ranges (digits: training images)
    reference_logits: np.ndarray  # PyTorch's float32 logits (digits: all test images; tinylm: first chunks)


@functools.cache
def load(task: str) -> Network:
    """Return the network and data of ``task`` ("digits" or "tinylm"), read once.

    >>> net = load("digits"); net.inputs.shape, net.layers
    ((450, 64), ('fc1', 'fc2', 'fc3'))
    """
    if task == "digits":
        with np.load(DATA / "digits.npz") as z:
            params = {k: z[k] for k in z.files if k.startswith("fc")}
            return Network(
                params=params,
                layers=DIGITS_LAYERS,
                inputs=z["x_test"].astype(F32) / F32(16),
                labels=z["y_test"].astype(np.int64),
                calibration=z["x_train"].astype(F32) / F32(16),
                reference_logits=z["reference_logits"],
            )
    if task == "tinylm":
        with np.load(DATA / "tinylm.npz") as z:
            params = {k: z[k] for k in z.files}
        with np.load(DATA / "tinylm_reference.npz") as z:
            reference = z["reference_logits"]
        train, held_out = corpus.split()
        chunks = held_out[: EVAL_CHUNKS * CONTEXT].astype(np.int64).reshape(EVAL_CHUNKS, CONTEXT)
        step = (train.size - CONTEXT) // CALIBRATION_CHUNKS
        calibration = np.stack([train[i * step : i * step + CONTEXT] for i in range(CALIBRATION_CHUNKS)]).astype(
            np.int64
        )
        return Network(
            params=params,
            layers=TINYLM_LAYERS,
            inputs=chunks,
            labels=chunks,
            calibration=calibration,
            reference_logits=reference,
        )
    raise ValueError(f"unknown task {task!r}; choose one of digits, tinylm")


def float_linear(params: dict[str, np.ndarray]) -> Linear:
    """Return the float32 ``linear(name, x) = x @ W.T + b`` over ``params``."""

    def linear(name: str, x: np.ndarray) -> np.ndarray:
        y = x @ params[f"{name}.weight"].T
        bias = params.get(f"{name}.bias")
        return y if bias is None else y + bias

    return linear


def digits_forward(params: dict[str, np.ndarray], x: np.ndarray, linear: Linear) -> np.ndarray:
    """Return the digits MLP's logits [n, 10] for images ``x`` [n, 64] (pixels / 16): fc1, ReLU, fc2, ReLU, fc3."""
    h = np.maximum(linear("fc1", x), F32(0))
    h = np.maximum(linear("fc2", h), F32(0))
    return linear("fc3", h)


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + F32(1e-5)) * weight + bias


def _gelu_tanh(x: np.ndarray) -> np.ndarray:
    return F32(0.5) * x * (F32(1) + np.tanh(F32(np.sqrt(2 / np.pi)) * (x + F32(0.044715) * (x * x * x))))


def tinylm_forward(params: dict[str, np.ndarray], tokens: np.ndarray, linear: Linear) -> np.ndarray:
    """Return the tiny LM's next-byte logits [n, t, 256] for byte chunks ``tokens`` [n, t].

    Pre-LayerNorm GPT blocks: causal 4-head attention, tanh-GELU MLP; every linear goes through ``linear`` on
    [n·t, features] rows (one row per token, which is what per-token activation quantization scales).
    """
    n, t = tokens.shape
    width = params["tok.weight"].shape[1]
    head_dim = width // HEADS
    x = (params["tok.weight"][tokens] + params["pos.weight"][:t]).reshape(n * t, width)
    mask = np.triu(np.ones((t, t), dtype=bool), 1)
    for b in range(N_BLOCKS):
        p = f"blocks.{b}."
        qkv = linear(p + "qkv", _layer_norm(x, params[p + "ln1.weight"], params[p + "ln1.bias"]))
        # contiguous heads: numpy's batched matmul on strided views skips BLAS and is 100× slower
        q, k, v = np.ascontiguousarray(qkv.reshape(n, t, 3, HEADS, head_dim).transpose(2, 0, 3, 1, 4))
        att = (q @ np.ascontiguousarray(k.transpose(0, 1, 3, 2))) / F32(np.sqrt(head_dim))
        att = np.where(mask, F32(-np.inf), att)
        att = np.exp(att - att.max(axis=-1, keepdims=True))
        att /= att.sum(axis=-1, keepdims=True)
        mixed = (att @ v).transpose(0, 2, 1, 3).reshape(n * t, width)
        x = x + linear(p + "proj", mixed)
        hidden = _gelu_tanh(linear(p + "fc1", _layer_norm(x, params[p + "ln2.weight"], params[p + "ln2.bias"])))
        x = x + linear(p + "fc2", hidden)
    logits = linear("head", _layer_norm(x, params["ln_f.weight"], params["ln_f.bias"]))
    return logits.reshape(n, t, -1)


def forward(task: str, inputs: np.ndarray, linear: Linear | None = None) -> np.ndarray:
    """Return ``task``'s float32 logits on ``inputs`` through ``linear`` (float when None).

    >>> net = load("digits"); forward("digits", net.inputs[:2]).shape
    (2, 10)
    """
    net = load(task)
    linear = linear or float_linear(net.params)
    if task == "digits":
        return digits_forward(net.params, inputs, linear)
    # One BLAS thread: the attention is 2·n·heads small matmuls, and OpenBLAS's threads, synchronising on each,
    # made them 20× slower on a busy machine (measured: 2.2 s against 0.1 s for one q·kᵀ).
    with one_blas_thread():
        return tinylm_forward(net.params, inputs, linear)


def layer_inputs(task: str, inputs: np.ndarray) -> dict[str, np.ndarray]:
    """Return the float input rows each linear layer sees on ``inputs`` (for calibration), by layer name."""
    net = load(task)
    seen: dict[str, np.ndarray] = {}
    base = float_linear(net.params)

    def recording(name: str, x: np.ndarray) -> np.ndarray:
        seen[name] = x
        return base(name, x)

    forward(task, inputs, recording)
    return seen
