"""How a task network's weights and activations are quantized: the scheme names and the quantizers.

Weight schemes are ``int{8,4,2}-per-tensor``, ``int{8,4,2}-per-channel``, ``int{8,4,2}-g{32,64,128}`` (symmetric,
narrow range [−(2^(b−1)−1), 2^(b−1)−1], scale = absmax / qmax in float32, round half to even; int2 symmetric is
ternary) and every ``quantviz.blocks.FORMATS`` name (encoded and decoded by ``quantviz.blocks``). Weights are
[out, in]; a channel is a row (an output), a group is ``g`` consecutive inputs of a row; a row shorter than a
block is padded with zeros, which cannot raise its absmax. Activations are float (None), ``int8-per-tensor``
(static: asymmetric TFLite qparams from a calibration set) or ``int8-per-token`` (dynamic: symmetric, absmax/127
per row).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from quantviz import blocks

F32 = np.float32
INT_BITS = (8, 4, 2)
GROUP_SIZES = (32, 64, 128)
GRANULARITIES = ("per-tensor", "per-channel")
ACTIVATIONS = ("int8-per-tensor", "int8-per-token")
SCALE_BITS = 32  # every integer scheme stores float32 scales


def int_scheme_names() -> tuple[str, ...]:
    """Return the integer weight scheme names, widest first.

    >>> int_scheme_names()[:3]
    ('int8-per-tensor', 'int8-per-channel', 'int8-g32')
    """
    return tuple(f"int{b}-{g}" for b in INT_BITS for g in (*GRANULARITIES, *(f"g{n}" for n in GROUP_SIZES)))


def weight_scheme_names() -> tuple[str, ...]:
    """Return every weight scheme name: the integer schemes, then the block formats.

    >>> "NF4" in weight_scheme_names() and "int4-g32" in weight_scheme_names()
    True
    """
    return (*int_scheme_names(), *blocks.FORMATS)


class WeightScheme(NamedTuple):
    """A parsed weight scheme: integer (bits, granularity, group size) or a block format."""

    name: str
    kind: str  # "int" or "block"
    bits: int  # integer bits, or the block format's element bits rounded down
    granularity: str  # "tensor", "channel", "group" or "block"
    group_size: int  # inputs sharing a scale (0 for per tensor and per channel)


def parse_weights(name: object) -> WeightScheme:
    """Return the :class:`WeightScheme` called ``name``, or raise ValueError listing the valid names.

    >>> parse_weights("int4-g32")
    WeightScheme(name='int4-g32', kind='int', bits=4, granularity='group', group_size=32)
    >>> parse_weights("NF4").granularity
    'block'
    """
    if isinstance(name, str) and name in blocks.FORMATS:
        fmt = blocks.FORMATS[name]
        return WeightScheme(
            name=name, kind="block", bits=int(fmt.bits_per_weight), granularity="block", group_size=fmt.block_size
        )
    if not isinstance(name, str) or name not in int_scheme_names():
        raise ValueError(f"unknown weight scheme {name!r}; choose one of {', '.join(weight_scheme_names())}")
    bits_part, rest = name.split("-", 1)
    bits = int(bits_part[3:])
    if rest.startswith("g"):
        return WeightScheme(name=name, kind="int", bits=bits, granularity="group", group_size=int(rest[1:]))
    return WeightScheme(name=name, kind="int", bits=bits, granularity=rest.removeprefix("per-"), group_size=0)


def parse_activations(name: object) -> str | None:
    """Return ``name`` if it is a valid activation scheme (None = float), else raise ValueError.

    >>> parse_activations("int8-per-token")
    'int8-per-token'
    """
    if name is None or name in ACTIVATIONS:
        return name
    raise ValueError(f"unknown activation scheme {name!r}; choose None (float) or one of {', '.join(ACTIVATIONS)}")


class QuantizedWeight(NamedTuple):
    """One weight matrix after quantization: what the network multiplies by, and how it is stored."""

    dequantized: np.ndarray  # float32 [out, in]
    codes: np.ndarray | None  # int8 [out, in] for integer schemes; None for block formats
    scales: np.ndarray | None  # float32 [out, groups] (groups = 1 per tensor/channel); None for block formats
    group_size: int  # inputs per scale (the row length per tensor and per channel)
    bits_per_weight: float  # codes plus scale overhead


def _padded_rows(w: np.ndarray, block: int) -> np.ndarray:
    pad = (-w.shape[1]) % block
    return np.pad(w, ((0, 0), (0, pad))) if pad else w


def rtn(w: np.ndarray, scheme: WeightScheme) -> QuantizedWeight:
    """Return ``w`` [out, in] quantized to ``scheme`` by round to nearest.

    >>> q = rtn(np.array([[0.5, -1.0], [0.1, 0.2]], np.float32), parse_weights("int8-per-channel"))
    >>> q.codes.tolist(), bool(q.scales[1, 0] == np.float32(0.2) / 127)
    ([[64, -127], [64, 127]], True)
    """
    w = np.asarray(w, dtype=F32)
    if w.ndim != 2:
        raise ValueError(f"a weight matrix needs 2 dimensions, got shape {w.shape}")
    out_dim, in_dim = w.shape
    if scheme.kind == "block":
        fmt = blocks.FORMATS[scheme.name]
        padded = _padded_rows(w, fmt.block_size)
        with np.errstate(all="ignore"):  # the GGUF encoders divide by a zero scale in all-zero blocks, then mask it
            back = blocks.fake_quantize(padded.reshape(-1), scheme.name).reshape(padded.shape)[:, :in_dim]
        return QuantizedWeight(
            dequantized=np.ascontiguousarray(back, dtype=F32),
            codes=None,
            scales=None,
            group_size=fmt.block_size,
            bits_per_weight=fmt.bits_per_weight,
        )
    qmax = 2 ** (scheme.bits - 1) - 1
    group = {"tensor": in_dim, "channel": in_dim, "group": scheme.group_size}[scheme.granularity]
    padded = _padded_rows(w, group)
    units = padded.reshape(out_dim, -1, group)  # [out, groups, group]
    amax = np.abs(units).max(axis=2)  # [out, groups]
    if scheme.granularity == "tensor":
        amax = np.full_like(amax, np.abs(w).max())
    scales = (amax / F32(qmax)).astype(F32)
    safe = np.where(scales > 0, scales, F32(1))  # an all-zero unit keeps code 0
    codes = np.clip(np.rint(units / safe[:, :, None]), -qmax, qmax).astype(np.int8)
    back = (codes.astype(F32) * scales[:, :, None]).reshape(out_dim, -1)[:, :in_dim]
    n_scales = 1 if scheme.granularity == "tensor" else scales.size
    bpw = scheme.bits + SCALE_BITS * n_scales / w.size
    return QuantizedWeight(
        dequantized=np.ascontiguousarray(back),
        codes=codes.reshape(out_dim, -1)[:, :in_dim].copy(),
        scales=scales,
        group_size=group,
        bits_per_weight=bpw,
    )


class QuantizedActivations(NamedTuple):
    """Activations [rows, features] as int8 codes, with the scale and zero point of each row (or of all)."""

    codes: np.ndarray  # int8-range integers, int64 [rows, features]
    scales: np.ndarray  # float32 [rows, 1] (per token) or [1, 1] (per tensor)
    zero_points: np.ndarray  # int64, same shape as scales


def quantize_per_token(x: np.ndarray) -> QuantizedActivations:
    """Return ``x`` [rows, features] quantized per row: symmetric int8, scale absmax/127, round half to even.

    >>> q = quantize_per_token(np.array([[1.0, -0.5], [0.0, 0.0]], np.float32)); q.codes.tolist()
    [[127, -64], [0, 0]]
    """
    x = np.asarray(x, dtype=F32)
    scales = (np.abs(x).max(axis=1, keepdims=True) / F32(127)).astype(F32)
    safe = np.where(scales > 0, scales, F32(1))
    codes = np.clip(np.rint(x / safe), -127, 127).astype(np.int64)
    return QuantizedActivations(codes=codes, scales=scales, zero_points=np.zeros_like(codes[:, :1]))


def quantize_static(x: np.ndarray, scale: float, zero_point: int) -> QuantizedActivations:
    """Return ``x`` quantized with one calibrated (scale, zero point): round(x / s) + z, half to even, into int8.

    The division is float32, as onnxruntime's QuantizeLinear does it.

    >>> quantize_static(np.array([[0.0, 0.5, 2.0]], np.float32), 1 / 255, -128).codes.tolist()  # 0.5/s: 127.49999
    [[-128, -1, 127]]
    """
    x = np.asarray(x, dtype=F32)
    codes = np.clip(np.rint(x / F32(scale)) + zero_point, -128, 127).astype(np.int64)
    return QuantizedActivations(
        codes=codes, scales=np.full((1, 1), scale, F32), zero_points=np.full((1, 1), zero_point, np.int64)
    )


def exact_int_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Return the integer product a [m, k] @ b [k, n] as int64, computed exactly through float BLAS.

    Every product and every partial sum, in whatever order BLAS adds them, is an integer no larger than
    k·max|a|·max|b|: below 2^24 float32 holds each exactly (an int8 × int8 kernel's int32 accumulator up to
    k = 1040), below 2^53 float64 does. So the result is the integer one, at BLAS speed.

    >>> exact_int_matmul(np.array([[127, -128]]), np.array([[127], [127]])).tolist()
    [[-127]]
    """
    a, b = np.asarray(a), np.asarray(b)
    bound = a.shape[-1] * (int(np.abs(a).max(initial=0)) * int(np.abs(b).max(initial=0)))
    if bound >= 2**53:
        raise ValueError(f"an integer matmul of bound {bound} is not exact in float64")
    exact = np.float32 if bound < 2**24 else np.float64
    return (a.astype(exact) @ b.astype(exact)).astype(np.int64)


def integer_linear(acts: QuantizedActivations, qw: QuantizedWeight, bias: np.ndarray | None) -> np.ndarray:
    """Return y = Σ_groups s_x·s_w·Σ (q_x − z_x)·q_w + b: int8 × int8 → int32 sums per group, a float32 epilogue.

    The epilogue is what W8A8 kernels (and llama.cpp's q8_0 dot products, per block) do: the int32 sum of each
    group times its two scales, in float.
    """
    if qw.codes is None or qw.scales is None:
        raise ValueError("integer_linear needs an integer weight scheme (codes and scales)")
    centred = acts.codes - acts.zero_points
    in_dim = qw.codes.shape[1]
    out = np.zeros((centred.shape[0], qw.codes.shape[0]), np.float32)
    for g, start in enumerate(range(0, in_dim, qw.group_size)):
        stop = min(start + qw.group_size, in_dim)
        acc = exact_int_matmul(centred[:, start:stop], qw.codes[:, start:stop].T)
        out += acc.astype(F32) * qw.scales[:, g][None, :]
    out *= acts.scales
    return out if bias is None else out + bias
