"""Integer-only arithmetic as gemmlowp and TFLite do it: Q31 multipliers, rounding shifts, quantized matmul.

Every function is exact integer arithmetic on numpy int64 (no floats after the multiplier is chosen).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from quantviz.conventions import get_convention
from quantviz.errors import QuantVizError
from quantviz.qparams import QParams
from quantviz.quantize import choose_qparams
from quantviz.rounding import round_half_away_from_zero

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1


def quantize_multiplier(multiplier: float) -> tuple[int, int]:
    """Return (M0, shift) with multiplier ≈ M0 · 2^(shift − 31), M0 a Q31 int32 in [2^30, 2^31).

    TFLite's QuantizeMultiplier: frexp, round half away from zero, renormalise at 2^31,
    flush shifts below −31 to zero and saturate shifts above 30.

    >>> quantize_multiplier(0.5)
    (1073741824, 0)
    >>> quantize_multiplier(0.0003)
    (1319413953, -11)
    """
    if not math.isfinite(multiplier) or multiplier < 0:
        raise QuantVizError(f"the real multiplier must be a finite number ≥ 0, got {multiplier!r}")
    if multiplier == 0:
        return 0, 0
    q, shift = math.frexp(multiplier)
    q_fixed = int(round_half_away_from_zero(np.float64(q * 2**31)))  # exact: q * 2^31 only moves the exponent
    if q_fixed == 2**31:
        q_fixed //= 2
        shift += 1
    if shift < -31:
        return 0, 0
    if shift > 30:
        return 2**31 - 1, 30
    return q_fixed, shift


def _trunc_div(a: np.ndarray, b: int) -> np.ndarray:
    """C-style integer division (truncates toward zero)."""
    q = np.abs(a) // b
    return np.where(a < 0, -q, q)


def saturating_rounding_doubling_high_mul(a: np.ndarray | int, b: np.ndarray | int) -> np.ndarray:
    """Return the high 32 bits of 2·a·b, rounded (ties toward +inf), saturating a = b = −2^31.

    >>> saturating_rounding_doubling_high_mul(np.array([2**30, -(2**31)]), np.array([2**30, -(2**31)])).tolist()
    [536870912, 2147483647]
    """
    a64, b64 = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
    overflow = (a64 == b64) & (a64 == INT32_MIN)
    ab = a64 * b64
    nudge = np.where(ab >= 0, np.int64(1 << 30), np.int64(1 - (1 << 30)))
    high = _trunc_div(ab + nudge, 1 << 31)
    return np.where(overflow, np.int64(INT32_MAX), high)


def rounding_divide_by_pot(x: np.ndarray | int, exponent: int) -> np.ndarray:
    """Return x / 2^exponent rounded to nearest, ties away from zero (gemmlowp RoundingDivideByPOT).

    >>> rounding_divide_by_pot(np.array([5, -5, 6, -6, 7]), 2).tolist()
    [1, -1, 2, -2, 2]
    """
    if not 0 <= exponent <= 31:
        raise QuantVizError(f"exponent must be in 0..31, got {exponent}")
    x64 = np.asarray(x, dtype=np.int64)
    mask = (1 << exponent) - 1
    remainder = x64 & mask
    threshold = (mask >> 1) + (x64 < 0)
    return (x64 >> exponent) + (remainder > threshold)


def multiply_by_quantized_multiplier(
    x: np.ndarray | int, quantized_multiplier: int, shift: int, *, single_rounding: bool = True
) -> np.ndarray:
    """Return x · M0 · 2^(shift − 31) rounded, as TFLite's MultiplyByQuantizedMultiplier.

    ``single_rounding=True`` (the build in the tensorflow 2.21 wheel): (x·M0 + 2^(30−shift)) >> (31 − shift).
    ``False``: the classic double rounding, RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(x·2^left, M0), right).

    >>> m0, shift = quantize_multiplier(0.25)
    >>> multiply_by_quantized_multiplier(np.array([10, -10, 6, -6]), m0, shift).tolist()
    [3, -2, 2, -1]
    >>> multiply_by_quantized_multiplier(np.array([10, -10, 6, -6]), m0, shift, single_rounding=False).tolist()
    [3, -3, 2, -2]
    """
    x64 = np.asarray(x, dtype=np.int64)
    if single_rounding:
        total_shift = 31 - shift
        return (x64 * np.int64(quantized_multiplier) + (np.int64(1) << (total_shift - 1))) >> total_shift
    left, right = max(shift, 0), max(-shift, 0)
    return rounding_divide_by_pot(saturating_rounding_doubling_high_mul(x64 * (1 << left), quantized_multiplier), right)


class FullyConnectedSteps(NamedTuple):
    """Every intermediate of an int8 fully connected layer."""

    acc_raw: np.ndarray  # Σ q_in·q_w (int32 range)
    zero_point_term: np.ndarray  # −z_in·Σ q_w, the cross term moved out of the inner loop
    acc: np.ndarray  # Σ (q_in − z_in)·q_w + bias
    multipliers: np.ndarray  # real M = s_in·s_w/s_out per output channel
    m0: np.ndarray  # Q31 multipliers
    shifts: np.ndarray
    scaled: np.ndarray  # acc · M, rounded, before adding z_out
    output: np.ndarray  # clamped int8 result


def quantized_fully_connected(
    q_in: np.ndarray,
    in_qparams: QParams,
    q_weights: np.ndarray,
    weight_scales: np.ndarray | float,
    bias_int32: np.ndarray | None,
    out_qparams: QParams,
    *,
    single_rounding: bool = True,
) -> FullyConnectedSteps:
    """Return TFLite's int8 FULLY_CONNECTED of q_in [batch, in] with q_weights [out, in], step by step.

    Weights are symmetric (zero point 0) with one scale, or one per output channel; bias is int32
    with scale s_in·s_w and zero point 0. The multiplier is computed in double from the float32 scales.
    """
    q_in = np.atleast_2d(np.asarray(q_in, dtype=np.int64))
    w = np.asarray(q_weights, dtype=np.int64)
    if q_in.shape[1] != w.shape[1]:
        raise QuantVizError(f"input has {q_in.shape[1]} features but the weights expect {w.shape[1]}")
    scales = np.broadcast_to(np.asarray(weight_scales, dtype=np.float32), (w.shape[0],))
    bias = np.zeros(w.shape[0], dtype=np.int64) if bias_int32 is None else np.asarray(bias_int32, dtype=np.int64)
    acc_raw = q_in @ w.T
    zero_term = -in_qparams.zero_point * w.sum(axis=1)
    acc = acc_raw + zero_term + bias
    multipliers = (float(np.float32(in_qparams.scale)) * scales.astype(np.float64)) / float(
        np.float32(out_qparams.scale)
    )
    pairs = [quantize_multiplier(float(m)) for m in multipliers]
    m0 = np.array([p[0] for p in pairs], dtype=np.int64)
    shifts = np.array([p[1] for p in pairs], dtype=np.int64)
    scaled = np.empty_like(acc)
    for c in range(w.shape[0]):
        scaled[:, c] = multiply_by_quantized_multiplier(
            acc[:, c], int(m0[c]), int(shifts[c]), single_rounding=single_rounding
        )
    output = np.clip(scaled + out_qparams.zero_point, -128, 127)
    return FullyConnectedSteps(
        acc_raw, np.broadcast_to(zero_term, acc.shape), acc, multipliers, m0, shifts, scaled, output
    )


def quantized_add(q_a: np.ndarray, qp_a: QParams, q_b: np.ndarray, qp_b: QParams, qp_out: QParams) -> np.ndarray:
    """Return a quantized addition: both inputs rescaled to the output scale, added, clamped.

    Computed in float64 and rounded half away from zero; TFLite's ADD reaches the same result with left
    shifts and Q31 multipliers, and can differ by one code where the sum sits on a tie.
    """
    a = (np.asarray(q_a, dtype=np.int64) - qp_a.zero_point) * qp_a.scale
    b = (np.asarray(q_b, dtype=np.int64) - qp_b.zero_point) * qp_b.scale
    rounded = round_half_away_from_zero((a + b) / qp_out.scale).astype(np.int64)
    return np.clip(rounded + qp_out.zero_point, qp_out.storage_min, qp_out.storage_max)


class WorkedFullyConnected(NamedTuple):
    """A small float layer, its quantized version, and every integer step between them."""

    x: np.ndarray
    weights: np.ndarray  # [out, in]
    bias: np.ndarray
    float_output: np.ndarray
    in_qparams: QParams
    weight_scales: np.ndarray
    out_qparams: QParams
    q_in: np.ndarray
    q_weights: np.ndarray
    bias_int32: np.ndarray
    steps: FullyConnectedSteps
    dequantized_output: np.ndarray


def worked_fully_connected(
    *, batch: int = 2, n_in: int = 4, n_out: int = 3, per_channel: bool = False, seed: int = 0
) -> WorkedFullyConnected:
    """Return a random layer quantized as TFLite does (int8 asymmetric activations, symmetric int8 weights)."""
    if not (1 <= batch <= 16 and 1 <= n_in <= 64 and 1 <= n_out <= 64):
        raise QuantVizError("keep the layer small: batch ≤ 16, inputs and outputs ≤ 64")
    rng = np.random.default_rng(seed)
    tfl = get_convention("tflite")
    x = (rng.normal(size=(batch, n_in)) + 0.5).astype(np.float32).astype(np.float64)
    w = (rng.normal(size=(n_out, n_in)) * rng.uniform(0.2, 2.0, (n_out, 1))).astype(np.float32).astype(np.float64)
    b = rng.normal(size=n_out).astype(np.float32).astype(np.float64)
    y = x @ w.T + b
    in_qp = choose_qparams(float(x.min()), float(x.max()), signed=True, convention="tflite")
    out_qp = choose_qparams(float(y.min()), float(y.max()), signed=True, convention="tflite")
    rows = [w[c] for c in range(n_out)] if per_channel else [w]
    w_qps = [
        choose_qparams(
            float(r.min()), float(r.max()), signed=True, symmetric=True, narrow_range=True, convention="tflite"
        )
        for r in rows
    ]
    scales = np.array([qp.scale for qp in w_qps] if per_channel else [w_qps[0].scale] * n_out)
    q_w = np.vstack([tfl.quantize_trace(w[c], w_qps[c if per_channel else 0]).q for c in range(n_out)])
    q_in = tfl.quantize_trace(x, in_qp).q
    bias_scale = np.float32(in_qp.scale) * scales.astype(np.float32)
    bias_int32 = np.rint(b / bias_scale.astype(np.float64)).astype(np.int64)
    steps = quantized_fully_connected(q_in, in_qp, q_w, scales, bias_int32, out_qp)
    deq = tfl.dequantize(steps.output, out_qp).astype(np.float64)
    return WorkedFullyConnected(x, w, b, y, in_qp, scales, out_qp, q_in, q_w, bias_int32, steps, deq)


# ----------------------------------------------------------------------------- the pieces, one at a time
class ZeroPointTerms(NamedTuple):
    """Σ(q1 − z1)(q2 − z2) expanded into its four terms (all exact integers)."""

    products: int  # Σ q1·q2: the only term in the inner loop
    weight_zero: int  # −z2·Σ q1: vanishes when the weights are symmetric (z2 = 0)
    input_zero: int  # −z1·Σ q2: precomputable, the weights are constant
    constant: int  # N·z1·z2
    total: int  # Σ(q1 − z1)(q2 − z2)


def zero_point_terms(q1: np.ndarray, z1: int, q2: np.ndarray, z2: int) -> ZeroPointTerms:
    """Return the four terms of Σ(q1 − z1)(q2 − z2) = Σq1q2 − z2Σq1 − z1Σq2 + N·z1·z2.

    >>> t = zero_point_terms(np.array([3, 5]), 1, np.array([2, -4]), 0)
    >>> t.products, t.weight_zero, t.input_zero, t.constant, t.total
    (-14, 0, 2, 0, -12)
    """
    a = np.asarray(q1, dtype=np.int64).ravel()
    b = np.asarray(q2, dtype=np.int64).ravel()
    if a.shape != b.shape:
        raise QuantVizError(f"the two code vectors need the same length, got {a.size} and {b.size}")
    z1, z2 = int(z1), int(z2)
    return ZeroPointTerms(
        int(a @ b), -z2 * int(a.sum()), -z1 * int(b.sum()), a.size * z1 * z2, int((a - z1) @ (b - z2))
    )


INT16_MIN, INT16_MAX = -(2**15), 2**15 - 1


class PairSums(NamedTuple):
    """The largest and smallest a0·b0 + a1·b1 over two integer grids, and what an int16 keeps of them.

    A saturating int16 (x86 VPMADDUBSW) clamps; a plain int16 lane (ARM NEON SMLAL) wraps modulo 2^16.
    """

    a_grid: tuple[int, int]
    b_grid: tuple[int, int]
    high: int
    high_codes: tuple[int, int]  # (a, b) giving the largest product (used twice)
    low: int
    low_codes: tuple[int, int]
    high_saturated: int
    low_saturated: int
    high_wrapped: int
    low_wrapped: int

    @property
    def fits_int16(self) -> bool:
        """Whether every pair sum fits in int16 (no saturation)."""
        return self.low >= INT16_MIN and self.high <= INT16_MAX


def _wrap16(v: int) -> int:
    return (v - INT16_MIN) % 2**16 + INT16_MIN


def pair_sum_extremes(a_grid: tuple[int, int], b_grid: tuple[int, int]) -> PairSums:
    """Return the extreme two-term sums a0·b0 + a1·b1 and their int16-saturated and int16-wrapped values.

    x86's VPMADDUBSW multiplies uint8 by int8 and adds neighbouring pairs into a *saturating* int16:
    that is the overflow PyTorch's reduce_range avoids (7-bit activations).

    >>> p = pair_sum_extremes((0, 255), (-128, 127)); p.high, p.high_saturated, p.fits_int16
    (64770, 32767, False)
    >>> pair_sum_extremes((0, 127), (-128, 127)).fits_int16
    True
    >>> p = pair_sum_extremes((-128, 127), (-128, 127)); p.high, p.high_saturated, p.high_wrapped
    (32768, 32767, -32768)
    """
    for name, (lo, hi) in (("a_grid", a_grid), ("b_grid", b_grid)):
        if int(lo) > int(hi):
            raise QuantVizError(f"{name} must be (lowest, highest) with lowest ≤ highest, got ({lo}, {hi})")
    corners = [(int(a), int(b)) for a in a_grid for b in b_grid]
    hi_a, hi_b = max(corners, key=lambda ab: ab[0] * ab[1])
    lo_a, lo_b = min(corners, key=lambda ab: ab[0] * ab[1])
    high, low = 2 * hi_a * hi_b, 2 * lo_a * lo_b
    return PairSums(
        a_grid=(int(a_grid[0]), int(a_grid[1])),
        b_grid=(int(b_grid[0]), int(b_grid[1])),
        high=high,
        high_codes=(hi_a, hi_b),
        low=low,
        low_codes=(lo_a, lo_b),
        high_saturated=min(max(high, INT16_MIN), INT16_MAX),
        low_saturated=min(max(low, INT16_MIN), INT16_MAX),
        high_wrapped=_wrap16(high),
        low_wrapped=_wrap16(low),
    )


class MultiplierSteps(NamedTuple):
    """How a real multiplier M becomes a Q31 integer M0 and a shift, and what it does to one accumulator."""

    multiplier: float
    mantissa: float  # M = mantissa · 2^exponent, mantissa in [0.5, 1)
    exponent: int
    mantissa_q31: float  # mantissa · 2^31 before rounding
    rounded: int  # round(mantissa · 2^31), half away from zero: 2^31 at most
    renormalised: bool  # the rounding reached 2^31: M0 halved to 2^30, shift + 1
    flushed: bool  # the shift fell below −31: M0 = 0 and shift = 0, every product rescales to 0
    saturated: bool  # the shift rose above 30: M0 = 2^31 − 1 and shift = 30
    m0: int
    shift: int
    represented: float  # M0 · 2^(shift − 31), the multiplier actually used
    acc: int
    exact: float  # acc · M in real arithmetic
    result: int  # (acc·M0 + 2^(30 − shift)) >> (31 − shift)
    result_double_rounding: int | None  # None where acc·2^shift does not fit the int32 the classic build uses


def multiplier_steps(multiplier: float, acc: int) -> MultiplierSteps:
    """Return every step of turning M into (M0, shift) and rescaling ``acc`` with it.

    >>> s = multiplier_steps(0.0003, 1000); s.mantissa, s.exponent, s.m0, s.shift, s.result
    (0.6144, -11, 1319413953, -11, 0)
    >>> s = multiplier_steps(1 - 2**-40, 1); s.rounded, s.renormalised, s.m0, s.shift
    (2147483648, True, 1073741824, 1)
    >>> s = multiplier_steps(1e-12, 1); s.exponent, s.flushed, s.m0, s.shift
    (-39, True, 0, 0)
    """
    m0, shift = quantize_multiplier(multiplier)
    mantissa, exponent = math.frexp(multiplier)
    q31 = mantissa * 2**31
    rounded = int(round_half_away_from_zero(np.float64(q31)))
    renormalised = multiplier != 0 and rounded == 2**31
    normal_shift = exponent + renormalised
    acc = int(acc)
    if not INT32_MIN <= acc <= INT32_MAX:
        raise QuantVizError(f"the accumulator is an int32: it must lie in [{INT32_MIN}, {INT32_MAX}], got {acc}")
    return MultiplierSteps(
        multiplier=multiplier,
        mantissa=mantissa,
        exponent=exponent,
        mantissa_q31=q31,
        rounded=rounded,
        renormalised=renormalised,
        flushed=multiplier != 0 and normal_shift < -31,
        saturated=normal_shift > 30,
        m0=m0,
        shift=shift,
        represented=m0 * 2.0 ** (shift - 31),
        acc=acc,
        exact=acc * multiplier,
        result=int(multiply_by_quantized_multiplier(acc, m0, shift)),
        # The classic build shifts acc left by the shift first: in int32, which a shift > 0 can overflow.
        result_double_rounding=(
            int(multiply_by_quantized_multiplier(acc, m0, shift, single_rounding=False))
            if INT32_MIN <= acc * 2 ** max(shift, 0) <= INT32_MAX
            else None
        ),
    )
