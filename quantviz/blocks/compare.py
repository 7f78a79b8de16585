"""Every format on one scale: SQNR and max error against bits per weight, scale overhead included."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from quantviz.blocks import FORMATS, fake_quantize
from quantviz.formats import compare_formats
from quantviz.granularity import quantize_weights
from quantviz.metrics import sqnr_db

F32 = np.float32
ROW = 1024  # per-channel rows for the per-channel points
SEARCH_LIMIT = 65_536  # the K-quant / IQ4 searches are measured on at most this many values (they cost ~1 µs each)


def block_rms_error(original: np.ndarray, back: np.ndarray, block: int) -> np.ndarray:
    """Return the root-mean-square error of each block of ``block`` consecutive values (sizes a multiple of it).

    >>> block_rms_error(np.array([0.0, 0, 1, 1]), np.array([0.0, 0, 0, 2]), 2).tolist()
    [0.0, 1.0]
    """
    errors = np.asarray(back, np.float64) - np.asarray(original, np.float64)
    return np.sqrt(np.mean(errors.reshape(-1, block) ** 2, axis=1))


class FormatPoint(NamedTuple):
    """One format measured on one data set."""

    name: str
    family: str  # "block", "block + imatrix", "per tensor", "per channel"
    bits_per_weight: float
    sqnr_db: float
    max_error: float
    rule: str


def measure_all(x: np.ndarray, importance: np.ndarray | None = None) -> list[FormatPoint]:
    """Return every block format, int8/int4 per tensor and per channel, and FP8 measured on ``x``.

    ``x`` is float32 whose length is a multiple of 1024 (every block size divides it). With ``importance`` (one
    weight per column of a row whose length divides 1024) the formats that take one are measured again with it
    (family "block + imatrix"). The K-quant and IQ4 searches run on the first ``SEARCH_LIMIT`` values only.

    >>> pts = measure_all(np.random.default_rng(0).normal(size=4096).astype(np.float32))
    >>> sorted({p.family for p in pts})
    ['block', 'per channel', 'per tensor']
    """
    x = np.asarray(x, F32).reshape(-1)
    power = float(np.mean(x.astype(np.float64) ** 2))
    points = []
    for name, f in FORMATS.items():
        part = x[:SEARCH_LIMIT] if f.takes_importance else x
        p_power = float(np.mean(part.astype(np.float64) ** 2)) if f.takes_importance else power
        for weights in (None, importance) if f.takes_importance and importance is not None else (None,):
            err = fake_quantize(part, name, weights).astype(np.float64) - part
            points.append(
                FormatPoint(
                    name if weights is None else f"{name} + imatrix",
                    "block" if weights is None else "block + imatrix",
                    f.bits_per_weight,
                    sqnr_db(p_power, float(np.mean(err**2))),
                    float(np.abs(err).max()),
                    f.summary,
                )
            )
    for r in compare_formats(x.astype(np.float64), ("int8", "int4", "fp8 e4m3", "fp8 e5m2")):
        bits = 8 if r.name in ("int8", "fp8 e4m3", "fp8 e5m2") else 4
        err = r.dequantized - x
        points.append(
            FormatPoint(
                r.name,
                "per tensor",
                bits + 32 / x.size,
                r.sqnr_db,
                float(np.abs(err).max()),
                "one scale for the whole tensor, symmetric",
            )
        )
    for bits in (8, 4):
        q = quantize_weights(
            x.reshape(-1, ROW).astype(np.float64), "channel", bits=bits, signed=True, symmetric=True, narrow_range=True
        )
        err = q.dequantized.reshape(-1) - x
        points.append(
            FormatPoint(
                f"int{bits} per channel",
                "per channel",
                bits + 32 / ROW,
                sqnr_db(power, float(np.mean(err**2))),
                float(np.abs(err).max()),
                f"one float32 scale per row of {ROW}, symmetric",
            )
        )
    return points


class Disagreement(NamedTuple):
    """Where the OCP MXFP4 rule and ggml's MXFP4 part on the same data."""

    values: int
    differ: int
    scale_differ: int  # blocks whose E8M0 exponent differs (ggml's float32 log2)
    example: tuple[float, float, float] | None  # (x, OCP's value, ggml's value)


def mxfp4_disagreement(x: np.ndarray) -> Disagreement:
    """Count the values where OCP MXFP4 (ties to even, floored exponent) and ggml's MXFP4 decode differently.

    >>> d = mxfp4_disagreement(np.array([6.0, 1.75] + [0.0] * 30, np.float32)); d.differ, d.example
    (1, (1.75, 2.0, 1.5))
    """
    x = np.asarray(x, F32).reshape(-1)
    ocp, ggml = fake_quantize(x, "MXFP4"), fake_quantize(x, "MXFP4_GGML")
    differ = np.flatnonzero(ocp != ggml)
    from quantviz.blocks import encode

    scales_ocp = encode(x, "MXFP4").reshape(-1, 17)[:, 0]
    scales_ggml = encode(x, "MXFP4_GGML").reshape(-1, 17)[:, 0].astype(np.int32)  # the same byte when log2 agrees
    example = (float(x[differ[0]]), float(ocp[differ[0]]), float(ggml[differ[0]])) if differ.size else None
    return Disagreement(x.size, int(differ.size), int((scales_ocp.astype(np.int32) != scales_ggml).sum()), example)
