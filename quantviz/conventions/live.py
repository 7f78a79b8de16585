"""Each convention's rules as data: the one description that the browser's live number line interprets.

The app's live component (``quantviz/app/live/live.js``) computes s, z and the probe's code on every pointer move,
in the browser. It does not carry its own copy of any framework's rules: it interprets the dictionary that
:func:`live_rules` returns, and a browser test holds its answers equal to :func:`quantviz.choose_qparams` and
:func:`quantviz.quantize` (so does a Python interpreter of the same data, ``tests/live_interpreter.py``).

Two parts:

- ``steps``: how the convention computes, written once per convention below (the arithmetic of every step,
  float32 or float64, the divisor, the zero point's rounding and clamping, the quantize op, the tie rule);
- ``grids``: for every option combination the convention supports, the grid the parameters are chosen on, the grid
  the zero point is computed on (TFLite: int8, then shifted), the storage grid the quantize op clamps to
  (PyTorch's ``reduce_range`` stores 8 bits), the symmetric zero point and the symmetric divisor. It is read from
  the convention's own ``choose_trace``, so it cannot disagree with it; a combination that is absent is unsupported.

A convention added to :data:`quantviz.conventions.CONVENTIONS` without a ``steps`` entry here fails
``tests/test_live_rules.py``: the two sides cannot drift apart.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from quantviz.conventions.base import F32_EPS, F32_TINY
from quantviz.conventions.registry import CONVENTIONS
from quantviz.conventions.tflite import TFLITE_NEAR_ZERO
from quantviz.errors import QuantVizError
from quantviz.grid import OPTION_FIELDS, GridOptions, every_grid_options

# One entry per convention. Keys:
#   range_dtype   the range ends are read in this type ("float32": rounded to float32 first)
#   widen         [rmin, rmax] widened to contain 0
#   need_lo_lt_hi the range must satisfy rmin < rmax (in range_dtype), else an error
#   empty         "unit_scale": rmin == rmax (after widening) gives s = 1, z = clamp(0);
#                 "widen_near_zero": rmax − rmin < near_zero (float64) widens each end by near_zero; "none"
#   scale_dtype   s = (rmax − rmin) / (qmax − qmin), each operation rounded to this type
#   scale_floor   s = max(s, scale_floor) (PyTorch's float32 eps), or None
#   scale_stored  the type s is stored in (ONNX Runtime: computed in float64, stored as float32)
#   tiny_scale    "error": s below float32's smallest normal is refused; "unit_scale_zero_z": s = 1, z = 0; "none"
#   zero          asymmetric zero point: quotient "lo_over_scale" (rmin / s) or "exact_ratio" (qmin − rmin · (qmax −
#                 qmin) / (rmax − rmin) in exact rational arithmetic, rounded exactly); quotient_scale "stored" or
#                 "unrounded";
#                 quotient_dtype and raw_dtype round the quotient and qmin − quotient; round_target "raw" (round
#                 qmin − quotient) or "quotient" (qmin − round(quotient)); tie; clamp "before" (compare the raw value
#                 with the grid first), "after" (clamp the rounded value) or "none"
#   symmetric     absmax_of "widened" (max(−rmin, rmax) after widening) or "abs" (max(|rmin|, |rmax|));
#                 s = absmax / half, in scale_dtype; zero_absmax: "unit_scale" (s = 1 when absmax = 0) or "formula"
#   quantize      op "divide" (x / s), "multiply_inverse" (x · (1/s)), "fma_inverse" (fma(x, 1/s, z), rounded once)
#                 or "tf_nudge" (TF's nudged range and floor(v + 0.5)); x_dtype; tie; rounding_choice (the textbook
#                 lets the user pick the rounding mode and the order); clamp "storage" or "nudged_range"
STEPS: dict[str, dict[str, Any]] = {
    "textbook": {
        "range_dtype": "float64",
        "widen": True,
        "need_lo_lt_hi": False,
        "empty": "unit_scale",
        "scale_dtype": "float64",
        "scale_floor": None,
        "scale_stored": "float64",
        "tiny_scale": "error",
        "zero": {
            "quotient": "exact_ratio",
            "quotient_scale": "unrounded",
            "quotient_dtype": "float64",
            "raw_dtype": "float64",
            "round_target": "raw",
            "tie": "half_to_even",
            "clamp": "after",
        },
        "symmetric": {"absmax_of": "widened", "zero_absmax": "unit_scale"},
        "quantize": {
            "op": "divide",
            "x_dtype": "float64",
            "tie": "half_to_even",
            "rounding_choice": True,
            "clamp": "storage",
        },
    },
    "tflite": {
        "range_dtype": "float32",
        "widen": True,
        "need_lo_lt_hi": False,
        "empty": "widen_near_zero",
        "scale_dtype": "float32",
        "scale_floor": None,
        "scale_stored": "float32",
        "tiny_scale": "none",
        "zero": {
            "quotient": "lo_over_scale",
            "quotient_scale": "stored",
            "quotient_dtype": "float64",
            "raw_dtype": "float32",
            "round_target": "raw",
            "tie": "half_away_from_zero",
            "clamp": "before",
        },
        "symmetric": {"absmax_of": "abs", "zero_absmax": "unit_scale"},
        "quantize": {
            "op": "multiply_inverse",
            "x_dtype": "float32",
            "tie": "half_to_even",
            "rounding_choice": False,
            "clamp": "storage",
        },
    },
    "tflite_reference": {
        "range_dtype": "float32",
        "widen": True,
        "need_lo_lt_hi": False,
        "empty": "widen_near_zero",
        "scale_dtype": "float32",
        "scale_floor": None,
        "scale_stored": "float32",
        "tiny_scale": "none",
        "zero": {
            "quotient": "lo_over_scale",
            "quotient_scale": "stored",
            "quotient_dtype": "float64",
            "raw_dtype": "float32",
            "round_target": "raw",
            "tie": "half_away_from_zero",
            "clamp": "before",
        },
        "symmetric": {"absmax_of": "abs", "zero_absmax": "unit_scale"},
        "quantize": {
            "op": "divide",
            "x_dtype": "float32",
            "tie": "half_away_from_zero",
            "rounding_choice": False,
            "clamp": "storage",
        },
    },
    "pytorch": {
        "range_dtype": "float32",
        "widen": True,
        "need_lo_lt_hi": False,
        "empty": "none",
        "scale_dtype": "float32",
        "scale_floor": F32_EPS,
        "scale_stored": "float32",
        "tiny_scale": "none",
        "zero": {
            "quotient": "lo_over_scale",
            "quotient_scale": "stored",
            "quotient_dtype": "float32",
            "raw_dtype": "float64",
            "round_target": "quotient",
            "tie": "half_to_even",
            "clamp": "after",
        },
        "symmetric": {"absmax_of": "widened", "zero_absmax": "formula"},
        "quantize": {
            "op": "fma_inverse",
            "x_dtype": "float32",
            "tie": "half_to_even",
            "rounding_choice": False,
            "clamp": "storage",
        },
    },
    "onnxruntime": {
        "range_dtype": "float32",
        "widen": True,
        "need_lo_lt_hi": False,
        "empty": "none",
        "scale_dtype": "float64",
        "scale_floor": None,
        "scale_stored": "float32",
        "tiny_scale": "unit_scale_zero_z",
        "zero": {
            "quotient": "lo_over_scale",
            "quotient_scale": "unrounded",
            "quotient_dtype": "float64",
            "raw_dtype": "float64",
            "round_target": "raw",
            "tie": "half_to_even",
            "clamp": "none",
        },
        "symmetric": {"absmax_of": "abs", "zero_absmax": "formula"},
        "quantize": {
            "op": "divide",
            "x_dtype": "float32",
            "tie": "half_to_even",
            "rounding_choice": False,
            "clamp": "storage",
        },
    },
    "tf_fake_quant": {
        "range_dtype": "float32",
        "widen": False,
        "need_lo_lt_hi": True,
        "empty": "none",
        "scale_dtype": "float32",
        "scale_floor": None,
        "scale_stored": "float32",
        "tiny_scale": "error",
        "zero": {
            "quotient": "lo_over_scale",
            "quotient_scale": "stored",
            "quotient_dtype": "float32",
            "raw_dtype": "float32",
            "round_target": "raw",
            "tie": "half_away_from_zero",
            "clamp": "before",
        },
        "symmetric": None,
        "quantize": {
            "op": "tf_nudge",
            "x_dtype": "float32",
            "tie": "half_up",
            "rounding_choice": False,
            "clamp": "nudged_range",
        },
    },
}

NEAR_ZERO = TFLITE_NEAR_ZERO


def grid_key(options: GridOptions) -> str:
    """Return the key of an option combination in a convention's ``grids`` table.

    >>> grid_key(GridOptions(bits=8, symmetric=True))
    '8,0,1,0,0'
    """
    return ",".join(str(int(getattr(options, name))) for name in OPTION_FIELDS)


def _grid_entry(name: str, options: GridOptions) -> dict | None:
    conv = CONVENTIONS[name]
    if conv.unsupported_reason(options):
        return None
    try:
        trace = conv.choose_trace(-1.0, 1.0, options)  # any range with 0 inside: the grids do not depend on it
    except QuantVizError:
        return None
    qp = trace.qparams
    entry = {
        "qmin": qp.qmin,
        "qmax": qp.qmax,
        "smin": qp.storage_min,
        "smax": qp.storage_max,
        "shift": trace.zero_shift,
    }
    if options.symmetric:
        entry["zsym"] = qp.zero_point
        entry["half"] = trace.scale_divisor / 2  # s = absmax / half (the codes on one side of z)
    return entry


@cache
def _grids(name: str) -> dict[str, dict]:
    table = {}
    for options in every_grid_options():
        entry = _grid_entry(name, options)
        if entry is not None:
            table[grid_key(options)] = entry
    return table


def live_rules(name: str) -> dict[str, Any]:
    """Return convention ``name``'s rules as a JSON-able dict: its computation steps and its grids table.

    >>> rules = live_rules("pytorch")
    >>> rules["quantize"]["op"], rules["grids"]["8,0,0,0,1"]["qmax"], rules["grids"]["8,0,0,0,1"]["smax"]
    ('fma_inverse', 127, 255)
    >>> live_rules("tflite")["grids"]["8,0,0,0,0"]["shift"]
    128
    """
    if name not in CONVENTIONS:
        raise ValueError(f"unknown convention {name!r}; choose one of {', '.join(CONVENTIONS)}")
    if name not in STEPS:
        raise ValueError(f"convention {name!r} has no live rules in quantviz.conventions.live.STEPS")
    conv = CONVENTIONS[name]
    # dequantize_dtype: (q − z) · s is computed in the convention's own float type
    return {
        "name": name,
        "label": conv.label,
        **STEPS[name],
        "dequantize_dtype": conv.arithmetic,
        "grids": _grids(name),
    }


def all_live_rules() -> dict[str, Any]:
    """Return every convention's rules and the constants they refer to, as the browser component receives them.

    >>> sorted(all_live_rules()["conventions"]) == sorted(CONVENTIONS)
    True
    """
    return {
        "f32_tiny": F32_TINY,
        "near_zero": NEAR_ZERO,
        "limit": _range_limit(),
        "conventions": {name: live_rules(name) for name in CONVENTIONS},
    }


def _range_limit() -> float:
    """The largest range end ``validate_range`` accepts."""
    import numpy as np

    return float(np.finfo(np.float32).max) / 2
