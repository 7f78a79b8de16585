"""One table of layer-output SQNR: round-to-nearest, GPTQ, AWQ, SmoothQuant (W·A8), rotation + RTN, rotation + GPTQ.

Every method quantizes the same layer's weight to ``bits`` with the same group size on llm-compressor's min-max
grid; SmoothQuant's point also quantizes the activations to int8 (per tensor), which is what it is for, so its
SQNR includes that error; the others keep float activations. Rotations need a power-of-two in_features.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from quantviz.algorithms.awq import awq
from quantviz.algorithms.gptq import gptq
from quantviz.algorithms.layer import check_layer
from quantviz.algorithms.observer import round_to_nearest
from quantviz.algorithms.rotation import rotate
from quantviz.algorithms.smoothquant import fake_quantize_activations, smoothquant

METHODS = ("RTN", "GPTQ", "AWQ", "SmoothQuant W·A8", "rotation + RTN", "rotation + GPTQ")


class CompareRow(NamedTuple):
    """One method at one bit width and group size (None: per row), and its layer-output SQNR in dB."""

    method: str
    bits: int
    group_size: int | None
    sqnr_db: float


def method_weights(
    method: str,
    weight: np.ndarray,
    inputs: np.ndarray,
    bits: int,
    group_size: int | None,
    symmetric: bool = True,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """(effective weight, effective inputs) of one method: the layer that method runs, in the original basis.

    >>> from quantviz.algorithms.layer import toy_layer
    >>> layer = toy_layer(8, 32, 64)
    >>> w, x = method_weights("rotation + RTN", layer.weight, layer.inputs, 4, None)
    >>> w.shape, x.shape
    ((8, 32), (64, 32))
    """
    w, x = (a.astype(np.float32) for a in check_layer(weight, inputs))
    if method == "RTN":
        return round_to_nearest(w, bits, group_size, symmetric)[1], x
    if method == "GPTQ":
        return gptq(w, x, bits=bits, group_size=group_size, symmetric=symmetric).dequantized, x
    if method == "AWQ":
        return awq(w, x, bits=bits, group_size=group_size, symmetric=symmetric).dequantized, x
    if method == "SmoothQuant W·A8":
        s = smoothquant(w, x, 0.5)
        wq = round_to_nearest(s.weight, bits, group_size, symmetric)[1]
        # back in the original basis: (Q(x/s))·Q(W·s)ᵀ = (Q(x/s)·s)·(Q(W·s)/s)ᵀ
        return wq / s.scales, fake_quantize_activations(s.inputs) * s.scales
    if method in ("rotation + RTN", "rotation + GPTQ"):
        r = rotate(w, x, seed)
        if method == "rotation + RTN":
            wq = round_to_nearest(r.weight, bits, group_size, symmetric)[1]
        else:
            wq = gptq(r.weight, r.inputs, bits=bits, group_size=group_size, symmetric=symmetric).dequantized
        return (wq.astype(np.float64) @ r.rotation.T).astype(np.float32), x
    raise ValueError(f"method must be one of {METHODS}, got {method!r}")


def compare(
    weight: np.ndarray,
    inputs: np.ndarray,
    bits: tuple[int, ...] = (2, 3, 4, 8),
    group_sizes: tuple[int | None, ...] = (None,),
    methods: tuple[str, ...] = METHODS,
    symmetric: bool = True,
    seed: int = 0,
) -> tuple[CompareRow, ...]:
    """The SQNR of every method at every bit width and group size, against the float layer.

    >>> from quantviz.algorithms.layer import toy_layer
    >>> layer = toy_layer(16, 64, 128, outliers=2, outlier_scale=20.0)
    >>> rows = {r.method: r.sqnr_db for r in compare(layer.weight, layer.inputs, bits=(3,))}
    >>> rows["GPTQ"] > rows["RTN"], rows["rotation + GPTQ"] > rows["rotation + RTN"]
    (True, True)
    """
    w, x = (a.astype(np.float32) for a in check_layer(weight, inputs))
    out = []
    for g in group_sizes:
        for b in bits:
            for m in methods:
                wq, xq = method_weights(m, w, x, b, g, symmetric, seed)
                y = x.astype(np.float64) @ w.T.astype(np.float64)
                noise = float(np.mean((y - xq.astype(np.float64) @ wq.T.astype(np.float64)) ** 2))
                signal = float(np.mean(y**2))
                db = float("inf") if noise == 0 else 10 * float(np.log10(signal / noise))
                out.append(CompareRow(method=m, bits=int(b), group_size=g, sqnr_db=db))
    return tuple(out)


__all__ = ["METHODS", "CompareRow", "compare", "method_weights"]
