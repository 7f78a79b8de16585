"""SmoothQuant (Xiao et al. 2022): move the activations' outliers into the weights, y = (X/s)·(W·s)ᵀ unchanged.

llm-compressor's ``_calculate_smoothing_scales`` (the default form here) takes each input channel's activation
*dynamic range* r_j = max x_j − min x_j and twice the weight's max |W_ij| over the rows, m_j = 2·max_i|W_ij|:
s_j = r_j^α / m_j^(1−α) (s_j = r_j where m_j = 0), at least 1e-5. The paper's form is
s_j = max|x_j|^α / max|W_j|^(1−α). For activations symmetric about 0, r_j ≈ 2·max|x_j|, so the two differ by
about the one factor 2^(2α−1) on every channel — a uniform scale that no per-tensor or per-channel grid sees.
Float32, like the reference.

W8A8 here: int8 weights per output channel and int8 activations per tensor (or per token), both symmetric on
llm-compressor's min-max grid.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from quantviz.algorithms.layer import check_layer
from quantviz.algorithms.observer import round_to_nearest

F32 = np.float32
FORMS = ("llmcompressor", "paper")
MINIMUM_SCALE = F32(1e-5)


@dataclass(frozen=True)
class SmoothQuantResult:
    """Per-input-channel ``scales`` and the smoothed ``weight`` (W·s) and ``inputs`` (X/s).

    ``activation_stat`` and ``weight_stat`` are what the scales were made of (range and 2·max|W| for
    llm-compressor; max|x| and max|W| for the paper); ``paper_scales`` are the paper's form beside them.
    """

    alpha: float
    form: str
    scales: np.ndarray
    weight: np.ndarray
    inputs: np.ndarray
    activation_stat: np.ndarray
    weight_stat: np.ndarray
    paper_scales: np.ndarray


@dataclass(frozen=True)
class W8A8Error:
    """Layer-output MSE of a W·A8 layer, and the part of it each quantizer alone causes."""

    output_mse: float
    activation_mse: float
    weight_mse: float


def _scales(a: np.ndarray, m: np.ndarray, alpha: float) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.where(m > 0, a ** F32(alpha) / m ** F32(1 - alpha), a)
    return np.maximum(s.astype(F32), MINIMUM_SCALE)


def smoothquant(
    weight: np.ndarray, inputs: np.ndarray, alpha: float = 0.5, form: str = "llmcompressor"
) -> SmoothQuantResult:
    """Smoothing scales for ``weight`` (out, in) and ``inputs`` (samples, in), and both after smoothing.

    >>> w = np.array([[1.0, 0.5], [-2.0, 0.25]], np.float32)
    >>> x = np.array([[8.0, 1.0], [-8.0, -1.0]], np.float32)
    >>> r = smoothquant(w, x, alpha=0.5)
    >>> r.scales.astype(float).round(4).tolist(), r.inputs[0].astype(float).round(4).tolist()
    ([2.0, 1.4142], [4.0, 0.7071])
    """
    w_in, x_in = check_layer(weight, inputs)
    if not (np.isfinite(alpha) and 0 <= alpha <= 1):
        raise ValueError(f"alpha must be in [0, 1], got {alpha!r}")
    if form not in FORMS:
        raise ValueError(f"form must be one of {FORMS}, got {form!r}")
    w, x = w_in.astype(F32), x_in.astype(F32)
    w_max = np.abs(w).max(axis=0)
    paper = _scales(np.abs(x).max(axis=0), w_max, alpha)
    if form == "paper":
        a, m, s = np.abs(x).max(axis=0), w_max, paper
    else:
        a, m = x.max(axis=0) - x.min(axis=0), F32(2) * w_max
        s = _scales(a, m, alpha)
    return SmoothQuantResult(
        alpha=float(alpha),
        form=form,
        scales=s,
        weight=(w * s).astype(F32),
        inputs=(x / s).astype(F32),
        activation_stat=a,
        weight_stat=m,
        paper_scales=paper,
    )


def fake_quantize_activations(inputs: np.ndarray, per_token: bool = False, bits: int = 8) -> np.ndarray:
    """Symmetric int8 fake quantization of activations, one scale per tensor or per token (row).

    >>> fake_quantize_activations(np.array([[1.0, -0.5], [0.25, 0.0]], np.float32)).astype(float).round(4).tolist()
    [[0.9961, -0.502], [0.251, 0.0]]
    """
    x = np.asarray(inputs, F32)
    flat = x if per_token else x.reshape(1, -1)
    return round_to_nearest(flat, bits, None, True)[1].reshape(x.shape)


def w8a8_error(weight: np.ndarray, inputs: np.ndarray, weight_bits: int = 8, per_token: bool = False) -> W8A8Error:
    """The layer-output MSE of int-``weight_bits`` weights (per channel) times int8 activations, and each part.

    >>> w = np.array([[1.0, 0.5]], np.float32)
    >>> e = w8a8_error(w, np.array([[100.0, 1.0], [-100.0, 0.3]], np.float32))
    >>> e.activation_mse > e.weight_mse
    True
    """
    w_in, x_in = check_layer(weight, inputs)
    w, x = w_in.astype(np.float64), x_in.astype(np.float64)
    wq = round_to_nearest(w_in.astype(F32), weight_bits, None, True)[1].astype(np.float64)
    xq = fake_quantize_activations(x_in, per_token).astype(np.float64)
    y = x @ w.T
    return W8A8Error(
        output_mse=float(np.mean((y - xq @ wq.T) ** 2)),
        activation_mse=float(np.mean((y - xq @ w.T) ** 2)),
        weight_mse=float(np.mean((y - x @ wq.T) ** 2)),
    )


def alpha_sweep(
    weight: np.ndarray,
    inputs: np.ndarray,
    alphas: np.ndarray,
    weight_bits: int = 8,
    per_token: bool = False,
    form: str = "llmcompressor",
) -> tuple[W8A8Error, ...]:
    """The W8A8 error after smoothing with each α in ``alphas``, in order.

    >>> from quantviz.algorithms.layer import toy_layer
    >>> layer = toy_layer(16, 32, 64, outliers=2, outlier_scale=50.0)
    >>> errs = alpha_sweep(layer.weight, layer.inputs, np.array([0.0, 0.5, 1.0]))
    >>> errs[1].output_mse < errs[0].output_mse and errs[1].output_mse < errs[2].output_mse
    True
    """
    out = []
    for a in np.asarray(alphas, float):
        r = smoothquant(weight, inputs, float(a), form)
        out.append(w8a8_error(r.weight, r.inputs, weight_bits, per_token))
    return tuple(out)
