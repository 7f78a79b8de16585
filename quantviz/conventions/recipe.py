"""A convention as a list of swappable steps: the data that causes are found by experiment with.

Every convention computes (s, z) and a code in the same dozen steps; they differ in *how* each step
is done. A :class:`Recipe` records one convention's choice for every step, for one set of options,
and :func:`run_recipe` computes with any recipe. Each convention's ``recipe(...)`` is tested to give
exactly what the convention itself gives (``tests/test_causes.py``), so a recipe with one step
replaced by another convention's is a real experiment: "what would TFLite get if it rounded its zero
point half to even?" The teaching layer (:mod:`quantviz.teach.causes`) runs those experiments to name
the smallest set of steps whose replacement makes two conventions agree.

>>> from quantviz.conventions import get_convention
>>> r = get_convention("tflite").recipe(bits=8, signed=False)
>>> r.zero_frame, r.zero_rounding
(128, 'half_away_from_zero')
>>> run_recipe(r, -1000, 1000).zero_point, run_recipe(r.replace(zero_frame=0), -1000, 1000).zero_point
(127, 128)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace
from fractions import Fraction
from typing import NamedTuple

import numpy as np

from quantviz.conventions.rules import ZeroRule
from quantviz.errors import RangeError
from quantviz.rounding import Rounding, apply_rounding, fma_float32, round_exact

TFLITE_NEAR_ZERO = 1e-6  # the TFLite converter widens a range narrower than this by it on each side

F32 = np.float32
_F32_EPS = F32(np.finfo(np.float32).eps)
_F32_TINY = float(np.finfo(np.float32).tiny)

# The steps, in the order they happen. Each is a field of Recipe; its values are listed in STEP_VALUES.
STEPS: tuple[str, ...] = (
    "range_dtype",
    "widening",
    "empty_range",
    "grid",
    "divisor",
    "scale_arithmetic",
    "scale_storage",
    "zero_rule",
    "zero_frame",
    "zero_arithmetic",
    "zero_rounding",
    "zero_clamp",
    "quantize_arithmetic",
    "order",
    "rounding",
    "storage",
)


@dataclass(frozen=True)
class Recipe:
    """One convention's way of doing each step, for one set of options (all fields are plain values).

    Attributes
    ----------
    range_dtype : str
        ``"float32"`` or ``"float64"``: the type the range's ends are read in.
    widening : str
        ``"include_zero"`` (widen [rmin, rmax] to contain 0) or ``"as_given"``.
    empty_range : str
        What a (nearly) empty range gets: ``"unit_scale"`` (s = 1; a scale below float32's smallest normal is
        refused), ``"widen_1e-6"`` (widened by 1e−6 on each side), ``"eps_floor"`` (s is at least float32 eps),
        ``"unit_scale_zero_0"`` (s = 1, z = 0) or ``"refuse"``.
    grid : tuple of int
        (qmin, qmax), the grid s and z are chosen on.
    symmetric : bool
        Whether the range is made [−a, a] (an option, not a step: both sides of a comparison share it).
    divisor : str
        ``"full"`` (s = (rmax − rmin) / (qmax − qmin)) or ``"shorter_side"`` (s = a / the codes on the shorter side
        of z, so [−a, a] never clips).
    scale_arithmetic, scale_storage : str
        ``"float32"`` or ``"float64"``: the type s is computed in, and the type it is stored (and quantized) in.
    zero_rule : str
        ``"from_min"`` (z = qmin − rmin / s), ``"middle"`` (round_half_even of the grid's middle), ``"middle_floor"``
        (its middle rounded down) or ``"zero"``.
    zero_frame : int
        The zero point is computed on the grid shifted down by this much and shifted back after (128: TFLite
        computes a uint8 zero point on int8).
    zero_arithmetic : str
        How qmin − rmin / s is evaluated: ``"exact_ratio"`` (qmin − rmin·(qmax − qmin)/(rmax − rmin), in exact rational
        arithmetic and rounded exactly),
        ``"float64"``, ``"float64_to_float32"`` (in double with the float32 s, then rounded to float32),
        ``"float32"``, or ``"float32_steps"`` (rmin / s in float32, and that is what gets rounded:
        qmin − round(rmin/s)).
    zero_rounding : str
        A key of ``ROUNDING_MODES``: how the raw zero point is rounded.
    zero_clamp : bool
        Whether the zero point is clamped to the grid.
    quantize_arithmetic : str
        How x becomes a number of steps: ``"float64_divide"``, ``"float32_divide"``, ``"float32_multiply_inverse"``
        (x · (1/s)), ``"float32_fma"`` (fma(x, 1/s, z): one rounding, z included when it is added first) or
        ``"tf_nudged"`` ((clamp(x) − nudged_min) · inv − qz, in float32).
    order : str
        ``"round_then_add"`` or ``"add_then_round"``: when z is added.
    rounding : str
        A key of ``ROUNDING_MODES``, or ``"half_up_float32"`` (floor(v + 0.5) with the sum in float32, TF's).
    storage : tuple of int
        The grid the code is clamped to.
    """

    range_dtype: str
    widening: str
    empty_range: str
    grid: tuple[int, int]
    symmetric: bool
    divisor: str
    scale_arithmetic: str
    scale_storage: str
    zero_rule: ZeroRule
    zero_frame: int
    zero_arithmetic: str
    zero_rounding: Rounding
    zero_clamp: bool
    quantize_arithmetic: str
    order: str
    rounding: Rounding
    storage: tuple[int, int]

    def replace(self, **steps: object) -> Recipe:
        """Return this recipe with the named steps done another way."""
        return replace(self, **steps)

    def differing_steps(self, other: Recipe) -> tuple[str, ...]:
        """The steps (in order) that ``other`` does differently."""
        return tuple(s for s in STEPS if getattr(self, s) != getattr(other, s))


assert {f.name for f in fields(Recipe)} == {*STEPS, "symmetric"}


class RecipeResult(NamedTuple):
    """What a recipe computes for a range and a probe, with the intermediate numbers a sentence may quote."""

    range_used: tuple[float, float]
    scale_computed: float
    scale: float
    zero_raw: float | None
    zero_point: int
    steps: float | None
    unclamped: float | None
    code: int | None


def _read(value: float, dtype: str) -> float:
    return float(F32(value)) if dtype == "float32" else float(value)


def _scale(lo: float, hi: float, divisor: float, arithmetic: str) -> float:
    if arithmetic == "float32":
        with np.errstate(over="ignore"):
            return float(F32(F32(F32(hi) - F32(lo)) / F32(divisor)))
    return (hi - lo) / divisor


def _middle(rule: str, qmin: int, qmax: int) -> int:
    if rule == "middle_floor":
        return (qmin + qmax) // 2
    if rule == "zero":
        return 0
    return int(np.rint((qmin + qmax) / 2))


def _zero_raw(recipe: Recipe, lo: float, hi: float, qmin: int, qmax: int, scale: float) -> float | Fraction:
    """qmin − lo / s in the recipe's arithmetic (for float32_steps: lo / s itself, the number that is rounded)."""
    how = recipe.zero_arithmetic
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        if how == "exact_ratio":
            return qmin - Fraction(lo) * (qmax - qmin) / (Fraction(hi) - Fraction(lo))
        if how == "float64":
            return qmin - lo / scale
        if how == "float64_to_float32":
            return float(F32(qmin - lo / float(F32(scale))))
        if how == "float32":
            return float(F32(F32(qmin) - F32(F32(lo) / F32(scale))))
        if how == "float32_steps":
            return float(F32(F32(lo) / F32(scale)))
    raise ValueError(f"unknown zero-point arithmetic {how!r}")


def _round_one(value: float | Fraction, rule: str) -> int:
    if isinstance(value, Fraction):
        return round_exact(value, rule)
    return int(apply_rounding(np.array([value], dtype=np.float64), rule)[0])


def _range_used(recipe: Recipe, rmin: float, rmax: float) -> tuple[float, float]:
    """The range as the recipe reads it, widened, symmetrised and (nearly empty) widened again, or refused."""
    lo, hi = _read(rmin, recipe.range_dtype), _read(rmax, recipe.range_dtype)
    if recipe.widening == "include_zero":
        lo, hi = min(lo, 0.0), max(hi, 0.0)
    if recipe.symmetric:
        absmax = max(abs(lo), abs(hi))
        lo, hi = -absmax, absmax
    if recipe.empty_range == "refuse" and not lo < hi:
        raise RangeError(f"min < max is needed, got [{lo}, {hi}]")
    if recipe.empty_range == "widen_1e-6" and not recipe.symmetric and hi - lo < TFLITE_NEAR_ZERO:
        lo, hi = lo - TFLITE_NEAR_ZERO, hi + TFLITE_NEAR_ZERO
    return lo, hi


def _divisor(recipe: Recipe, middle: int | None) -> float:
    """How many steps of s the range spans: the whole grid, or twice the codes on the shorter side of z."""
    qmin, qmax = recipe.grid
    if recipe.divisor != "shorter_side":
        return float(qmax - qmin)
    z_mid = _middle("middle", qmin, qmax) if middle is None else middle
    return 2.0 * min(qmax - z_mid, z_mid - qmin)


def choose(recipe: Recipe, rmin: float, rmax: float) -> tuple[tuple[float, float], float, float, float | None, int]:
    """Return (range used, scale as computed, scale as stored, raw zero point, zero point) for [rmin, rmax]."""
    lo, hi = _range_used(recipe, rmin, rmax)
    qmin, qmax = recipe.grid
    middle = _middle(recipe.zero_rule, qmin, qmax) if recipe.zero_rule != "from_min" else None
    divisor = _divisor(recipe, middle)
    scale = _scale(lo, hi, divisor, recipe.scale_arithmetic)
    if recipe.empty_range == "eps_floor":
        scale = max(scale, float(_F32_EPS))
    degenerate = scale == 0 or (recipe.empty_range == "unit_scale_zero_0" and scale < _F32_TINY)
    if degenerate and (recipe.empty_range in ("unit_scale", "unit_scale_zero_0", "widen_1e-6") or recipe.symmetric):
        zero = (
            0
            if recipe.empty_range == "unit_scale_zero_0"
            else (middle if middle is not None else min(max(0, qmin), qmax))
        )
        return (lo, hi), 1.0, 1.0, None, int(zero)
    if not math.isfinite(scale) or scale < _F32_TINY:
        raise RangeError(f"range width {hi - lo:.3g} gives an unusable scale {scale!r}")
    stored = float(F32(scale)) if recipe.scale_storage == "float32" else scale
    if middle is not None:
        return (lo, hi), scale, stored, None, middle
    shift = recipe.zero_frame
    raw = _zero_raw(recipe, lo, hi, qmin - shift, qmax - shift, scale)
    if recipe.zero_arithmetic == "float32_steps":
        zero = (qmin - shift) - _round_one(raw, recipe.zero_rounding)
        raw = (qmin - shift) - raw
    else:
        zero = _round_one(raw, recipe.zero_rounding)
    zero += shift
    raw = float(raw) + shift
    if recipe.zero_clamp:
        zero = min(max(zero, qmin), qmax)
    return (lo, hi), scale, stored, raw, int(zero)


def steps_of(recipe: Recipe, x: float, scale: float, zero_point: int, range_used: tuple[float, float]) -> float:
    """The number the recipe rounds for x (z included when it is added first)."""
    how = recipe.quantize_arithmetic
    z_first = recipe.order == "add_then_round"
    with np.errstate(over="ignore", invalid="ignore"):
        if how == "float64_divide":
            v = float(x) / scale
            return v + zero_point if z_first else v
        x32 = F32(x)
        if how == "float32_fma":
            return float(fma_float32(np.array([x32]), F32(1) / F32(scale), zero_point if z_first else 0.0)[0])
        if how == "float32_divide":
            v = x32 / F32(scale)
        elif how == "float32_multiply_inverse":
            v = x32 * (F32(1) / F32(scale))
        elif how == "tf_nudged":
            qmin, qmax = recipe.grid
            lo, hi = F32(range_used[0]), F32(range_used[1])
            inv = F32((F32(qmax) - F32(qmin)) / F32(hi - lo)) if hi > lo else F32(1) / F32(scale)
            nmin, nmax = (
                F32((F32(qmin) - F32(zero_point)) * F32(scale)),
                F32((F32(qmax) - F32(zero_point)) * F32(scale)),
            )
            quant_zero = np.floor(F32(F32(-nmin * inv) + F32(0.5)))
            clamped = F32(max(min(x32, nmax), nmin))
            v = F32(F32(clamped - nmin) * inv) - quant_zero
        else:
            raise ValueError(f"unknown quantize arithmetic {how!r}")
        return float(F32(v + F32(zero_point))) if z_first else float(v)


def _round_steps(value: float, rule: str) -> float:
    if rule == "half_up_float32":
        return float(np.floor(F32(F32(value) + F32(0.5))))
    return float(apply_rounding(np.array([value], dtype=np.float64), rule)[0])


def run_recipe(recipe: Recipe, rmin: float, rmax: float, x: float | None = None) -> RecipeResult:
    """Return what ``recipe`` computes for the range [rmin, rmax] and, when given, the probe ``x``.

    >>> from quantviz.conventions import get_convention
    >>> r = get_convention("pytorch").recipe()
    >>> res = run_recipe(r, -1000, 1000, 1000.0)
    >>> res.zero_point, res.code
    (128, 255)
    """
    range_used, computed, scale, raw, zero = choose(recipe, rmin, rmax)
    if x is None or not math.isfinite(float(x)):
        return RecipeResult(range_used, computed, scale, raw, zero, None, None, None)
    v = steps_of(recipe, x, scale, zero, range_used)
    rounded = _round_steps(v, recipe.rounding)
    unclamped = rounded if recipe.order == "add_then_round" else rounded + zero
    code = (
        int(min(max(unclamped, recipe.storage[0]), recipe.storage[1]))
        if math.isfinite(unclamped)
        else (recipe.storage[1] if unclamped > 0 else recipe.storage[0])
    )
    return RecipeResult(range_used, computed, scale, raw, zero, v, unclamped, code)
