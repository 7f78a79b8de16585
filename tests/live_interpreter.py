"""A Python interpreter of the live rules (``quantviz.conventions.live``), written the way live.js reads them.

Only floats and a float32 rounding function (``f32``, JavaScript's ``Math.fround``) are used, no convention code:
if this interpreter reproduces ``quantviz.choose_qparams`` and ``quantize`` on every case, the data describes the
conventions completely, and the browser's interpreter (which has the same shape) has all it needs.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np


class LiveError(Exception):
    """The settings cannot be quantized (quantviz raises a QuantVizError for the same settings)."""


def f32(x: float) -> float:
    """Round a float to the nearest float32 (ties to even), as Math.fround does."""
    with np.errstate(over="ignore"):
        return float(np.float32(x))


def _cast(x: float, dtype: str) -> float:
    return f32(x) if dtype == "float32" else x


def round_mode(t: float, mode: str) -> float:
    """Round t to a whole number with an exact tie test (t − floor(t) is exact)."""
    if math.isinf(t):
        return t
    if mode == "half_to_even":
        whole = math.floor(t)
        d = t - whole
        return whole + 1 if d > 0.5 or (d == 0.5 and whole % 2 == 1) else whole
    if mode == "half_away_from_zero":
        a = abs(t)
        whole = math.floor(a)
        return math.copysign(whole + (a - whole >= 0.5), t)
    if mode == "half_up":
        whole = math.floor(t)
        return whole + (t - whole >= 0.5)
    if mode == "floor":
        return math.floor(t)
    if mode == "ceil":
        return math.ceil(t)
    if mode == "toward_zero":
        return math.trunc(t)
    raise LiveError(f"rounding {mode!r} cannot be computed from the rules")


def round_exact(n: int, d: int, mode: str) -> int:
    """Round the fraction n/d (d > 0) to an integer with integer arithmetic only, as live.js does with BigInt."""
    floor, rest = divmod(n, d)  # Python's divmod floors: 0 <= rest < d
    if mode == "floor":
        return floor
    if mode == "ceil":
        return floor + (rest > 0)
    if mode == "toward_zero":
        return floor + (rest > 0 and n < 0)
    if 2 * rest != d:
        return floor + (2 * rest > d)
    if mode == "half_to_even":
        return floor + floor % 2
    if mode == "half_away_from_zero":
        return floor + (n > 0)
    if mode == "half_up":
        return floor + 1
    raise LiveError(f"no exact rounding for {mode!r}")


def choose(  # noqa: C901, PLR0915 — mirrors live.js's interpreter step for step, so the two read side by side
    rules: dict,
    rmin: float,
    rmax: float,
    *,
    bits: int,
    signed: bool,
    symmetric: bool,
    narrow_range: bool,
    reduce_range: bool,
    convention: str,
) -> dict:
    """Return {scale, zero_point, qmin, qmax, storage_min, storage_max, rmin, rmax} from the rules alone."""
    if not (math.isfinite(rmin) and math.isfinite(rmax)) or rmin > rmax:
        raise LiveError("bad range")
    if max(abs(rmin), abs(rmax)) > rules["limit"]:
        raise LiveError("range too large")
    conv = rules["conventions"][convention]
    # The key as the browser builds it (not through GridOptions: a bad value must miss, as it does there)
    key = ",".join(str(int(v)) for v in (bits, signed, symmetric, narrow_range, reduce_range))
    grid = conv["grids"].get(key)
    if grid is None:
        raise LiveError("unsupported options")
    rd, sd = conv["range_dtype"], conv["scale_dtype"]
    lo, hi = _cast(rmin, rd), _cast(rmax, rd)
    if conv["need_lo_lt_hi"] and not lo < hi:
        raise LiveError("needs min < max")
    given = (lo, hi)
    if conv["widen"]:
        lo, hi = min(lo, 0.0), max(hi, 0.0)
    qmin, qmax, shift = grid["qmin"], grid["qmax"], grid["shift"]
    zmin, zmax = qmin - shift, qmax - shift
    tiny = rules["f32_tiny"]
    if symmetric:
        sym = conv["symmetric"]
        absmax = max(-lo, hi) if sym["absmax_of"] == "widened" else max(abs(given[0]), abs(given[1]))
        lo, hi = -absmax, absmax
        if absmax == 0 and sym["zero_absmax"] == "unit_scale":
            unrounded = 1.0
        else:
            unrounded = _cast(_cast(absmax, sd) / grid["half"], sd)
        zero = grid["zsym"]
    else:
        if conv["empty"] == "unit_scale" and hi == lo:
            unrounded, zero = 1.0, min(max(0, qmin), qmax)
        else:
            if conv["empty"] == "widen_near_zero" and hi - lo < rules["near_zero"]:
                lo, hi = lo - rules["near_zero"], hi + rules["near_zero"]
            steps = zmax - zmin
            unrounded = _cast(_cast(_cast(hi, sd) - _cast(lo, sd), sd) / steps, sd)
            zero = None
    scale = unrounded
    if conv["scale_floor"] is not None:
        scale = unrounded = max(scale, conv["scale_floor"])
    if conv["tiny_scale"] == "unit_scale_zero_z" and scale < tiny:
        scale = unrounded = 1.0
        zero = 0
    if zero is None:
        z = conv["zero"]
        if z["quotient"] == "exact_ratio":
            # qmin − lo·(qmax − qmin)/(hi − lo) as an exact fraction n/d of integers, rounded exactly
            exact = zmin - Fraction(lo) * (zmax - zmin) / (Fraction(hi) - Fraction(lo))
            rounded = round_exact(exact.numerator, exact.denominator, z["tie"])
            zero = int(min(max(rounded, zmin), zmax)) if z["clamp"] == "after" else int(rounded)
            quotient = None
        else:
            s_used = _cast(unrounded, conv["scale_stored"]) if z["quotient_scale"] == "stored" else unrounded
            quotient = _cast(lo / s_used, z["quotient_dtype"])
        if quotient is None:
            pass
        elif z["round_target"] == "quotient":
            rounded = zmin - round_mode(quotient, z["tie"])
            raw = None
        else:
            raw = _cast(zmin - quotient, z["raw_dtype"])
        if quotient is None:
            pass
        elif z["clamp"] == "before" and raw < zmin:
            zero = zmin
        elif z["clamp"] == "before" and raw > zmax:
            zero = zmax
        else:
            if raw is not None:
                rounded = round_mode(raw, z["tie"])
            zero = int(min(max(rounded, zmin), zmax)) if z["clamp"] == "after" else int(rounded)
        zero += shift
    scale = _cast(scale, conv["scale_stored"])
    if conv["tiny_scale"] == "error" and not (math.isfinite(scale) and scale >= tiny):
        raise LiveError("scale too small")
    if not (math.isfinite(scale) and scale > 0):
        raise LiveError("scale not positive")
    if not grid["smin"] <= zero <= grid["smax"]:
        raise LiveError("zero point outside the grid")
    return {
        "scale": scale,
        "zero_point": zero,
        "qmin": qmin,
        "qmax": qmax,
        "storage_min": grid["smin"],
        "storage_max": grid["smax"],
        "rmin": lo,
        "rmax": hi,
    }


def fma_f32(a: float, b: float, c: float) -> float:
    """float32 a·b + c rounded once (a, b float32, c a small integer): a·b is exact in float64, the sum is rounded
    to odd (TwoSum), after which rounding to float32 is correct."""
    p = a * b
    s = p + c
    if not math.isfinite(s):
        return f32(s)
    bb = s - p
    err = (p - (s - bb)) + (c - bb)
    if err != 0:
        bits = np.float64(s).view(np.int64)
        if bits & 1 == 0:
            s = float(np.nextafter(s, math.inf if err > 0 else -math.inf))
    return f32(s)


def quantize(
    rules: dict, x: float, params: dict, *, convention: str, rounding: str | None = None, z_first: bool = False
) -> int:
    """Return the stored code of x under ``params`` (what ``choose`` returned), from the rules alone."""
    conv = rules["conventions"][convention]
    q = conv["quantize"]
    tie = rounding if (q["rounding_choice"] and rounding) else q["tie"]
    s, z = params["scale"], params["zero_point"]
    xv = _cast(x, q["x_dtype"])
    if q["op"] == "tf_nudge":
        qmin_f, qmax_f = float(params["qmin"]), float(params["qmax"])
        lo, hi = f32(params["rmin"] or 0.0), f32(params["rmax"] or 0.0)
        ranged = params.get("rmin") is not None and params.get("rmax") is not None and params["rmax"] > params["rmin"]
        inv = f32((qmax_f - qmin_f) / f32(hi - lo)) if ranged else f32(1 / s)
        nmin, nmax = f32((qmin_f - z) * s), f32((qmax_f - z) * s)
        quant_zero = math.floor(f32(f32(-nmin * inv) + 0.5))
        xc = max(min(xv, nmax), nmin)
        pre = f32(f32(f32(xc - nmin) * inv) - quant_zero)
        return int(math.floor(f32(pre + 0.5)) + z)
    if q["op"] == "fma_inverse":
        inv = f32(1 / s)
        unclamped = round_mode(fma_f32(xv, inv, float(z)), tie)
    else:
        if q["op"] == "multiply_inverse":
            pre = _cast(xv * _cast(1 / s, q["x_dtype"]), q["x_dtype"])
        else:
            pre = _cast(xv / s, q["x_dtype"])
        unclamped = round_mode(pre + z, tie) if z_first else round_mode(pre, tie) + z
    return int(min(max(unclamped, params["storage_min"]), params["storage_max"]))
