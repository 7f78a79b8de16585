"""One quantizer, written the ways texts and frameworks write it, each mapped onto r = s·(q − z).

Some texts multiply by a scale that others divide by, some add z and some subtract it, some have no
zero point at all. ``notations`` writes one (s, z) in each form with its numbers; ``to_affine``
translates parameters written in another form back into s and z.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from quantviz.errors import QuantVizError
from quantviz.qparams import QParams
from quantviz.schemes import real_zero_back
from quantviz.teach.fmt import fmt


class Notation(NamedTuple):
    """A way of writing the quantizer, with this (s, z)'s parameters in it."""

    key: str
    where: str
    quantize: str
    dequantize: str
    parameters: str
    onto_ours: str


FORMS = {
    "paper": (
        "Jacob et al. 2018 (the TFLite paper), gemmlowp",
        "q = Z + round(r / S)",
        "r = S·(q − Z)",
        "S = s, Z = z",
    ),
    "tflite": (
        "TensorFlow Lite (tensor details)",
        "q = round(r / scale) + zero_point",
        "r = scale·(q − zero_point)",
        "scale = s, zero_point = z",
    ),
    "pytorch": (
        "PyTorch (torch.quantize_per_tensor)",
        "x_q = round(x / scale + zero_point)",
        "x = (x_q − zero_point)·scale",
        "scale = s, zero_point = z; z added before rounding",
    ),
    "onnx": (
        "ONNX QuantizeLinear / DequantizeLinear",
        "y = saturate(round(x / y_scale) + y_zero_point)",
        "x = (y − x_zero_point)·x_scale",
        "y_scale = s, y_zero_point = z",
    ),
    "inverse": (
        "An inverse scale (the seed answer; many DSP texts)",
        "q = round(r·k) + z",
        "r = (q − z) / k",
        "k = 1/s: a multiplier, not a step",
    ),
    "minus": (
        "Zero point subtracted (some lecture notes)",
        "q = round(r / S − Z′)",
        "r = S·(q + Z′)",
        "S = s, Z′ = −z: same map, sign flipped",
    ),
    "offset": ("A min offset, no zero point (GGUF Q4_1)", "q = round((x − m) / d)", "x = d·q + m", "d = s, m = −z·s"),
    "absmax": (
        "Absmax (symmetric weights, LLM.int8())",
        "q = round(qmax·x / absmax)",
        "x = absmax·q / qmax",
        "absmax / qmax = s; only for z = 0",
    ),
}


def notations(qp: QParams) -> list[Notation]:
    """Return the quantizer (s, z) written in every form of FORMS, with its numbers.

    >>> qp = QParams(2000 / 255, 128, 0, 255)
    >>> [n.parameters for n in notations(qp) if n.key in ("inverse", "offset")]
    ['k = 0.1275', 'd = 7.843137255, m = −1003.921569']
    """
    s, z = qp.scale, qp.zero_point
    values = {
        "paper": f"S = {fmt(s)}, Z = {z}",
        "tflite": f"scale = {fmt(s)}, zero_point = {z}",
        "pytorch": f"scale = {fmt(s)}, zero_point = {z}",
        "onnx": f"y_scale = {fmt(s)}, y_zero_point = {z}",
        "inverse": f"k = {fmt(1 / s)}",
        "minus": f"S = {fmt(s)}, Z′ = {_minus(-z)}",
        "offset": f"d = {fmt(s)}, m = {_minus(-z * s)}",
        "absmax": (
            f"absmax = {fmt(s * (qp.qmax - z))}, qmax = {qp.qmax - z}"
            if z == 0
            else f"none: this grid has z = {z}, and absmax forms need z = 0"
        ),
    }
    return [Notation(key, where, quant, deq, values[key], onto) for key, (where, quant, deq, onto) in FORMS.items()]


def _minus(value: float) -> str:
    """fmt with a typographic minus sign in front (an exponent's minus stays as it is)."""
    text = fmt(value)
    return "−" + text[1:] if text.startswith("-") else text


INPUTS = {
    "paper": ("S", "Z"),
    "tflite": ("scale", "zero_point"),
    "pytorch": ("scale", "zero_point"),
    "onnx": ("y_scale", "y_zero_point"),
    "inverse": ("k", "z"),
    "minus": ("S", "Z′"),
    "offset": ("d", "m"),
    "absmax": ("absmax", "qmax"),
}


def to_affine(key: str, first: float, second: float) -> tuple[float, float]:
    """Return (s, z) of r = s·(q − z) for parameters written in form ``key`` (z may come out fractional).

    >>> to_affine("inverse", 0.1275, 128)
    (7.8431372549019605, 128.0)
    >>> to_affine("offset", 0.5, -3.25)
    (0.5, 6.5)
    """
    if key not in FORMS:
        raise QuantVizError(f"unknown notation {key!r}; choose one of {', '.join(FORMS)}")
    if not (math.isfinite(first) and math.isfinite(second)):
        raise QuantVizError("both parameters must be finite numbers")
    if first <= 0:
        raise QuantVizError(f"{INPUTS[key][0]} must be positive, got {first}")
    if key == "inverse":
        return 1 / first, float(second)
    if key == "minus":
        return float(first), -float(second)
    if key == "offset":
        return float(first), -second / first
    if key == "absmax":
        if second <= 0:
            raise QuantVizError(f"qmax must be positive, got {second}")
        return first / second, 0.0
    return float(first), float(second)


def form_parameters(key: str, qp: QParams) -> tuple[float, float] | None:
    """Return the two parameters that write ``qp`` in form ``key`` (None where the form cannot write it).

    The inverse of :func:`to_affine`:

    >>> form_parameters("inverse", QParams(2000 / 255, 128, 0, 255))
    (0.1275, 128.0)
    >>> form_parameters("absmax", QParams(0.5, 0, -127, 127)), form_parameters("absmax", QParams(0.5, 3, 0, 15))
    ((63.5, 127.0), None)
    """
    s, z = qp.scale, float(qp.zero_point)
    if key == "inverse":
        return 1 / s, z
    if key == "minus":
        return s, -z
    if key == "offset":
        return s, -z * s
    if key == "absmax":
        return (s * (qp.qmax - z), float(qp.qmax - z)) if z == 0 else None
    if key not in FORMS:
        raise QuantVizError(f"unknown notation {key!r}; choose one of {', '.join(FORMS)}")
    return s, z


def translation_sentence(scale: float, zero_point: float) -> str:
    """Say what a translated (s, z) means for real 0: exact when z is whole, else what 0 comes back as.

    >>> translation_sentence(2.0, 128.0)
    'In r = s·(q − z): **s = 2**, **z = 128**. z is a whole number, so real 0 has an exact code.'
    >>> translation_sentence(2.0, 127.25).split("number: ")[1]
    'no code stands for real 0 (the nearest, 127, comes back as -0.5). See *Break it* on the first page.'
    """
    head = f"In r = s·(q − z): **s = {fmt(scale)}**, **z = {fmt(zero_point)}**. "
    if float(zero_point).is_integer():
        return head + "z is a whole number, so real 0 has an exact code."
    return head + (
        f"z is not a whole number: no code stands for real 0 (the nearest, {int(np.rint(zero_point))}, "
        f"comes back as {fmt(real_zero_back(scale, zero_point))}). See *Break it* on the first page."
    )
