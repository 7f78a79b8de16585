"""Why the measured SQNR curve leaves the 6.02 dB-per-bit line: sentences built from the curve's own numbers.

The model (noise s²/12) assumes every value is inside the range and its rounding error is spread evenly over a step.
The curve carries, per bit width, the error split by cause (``rounding_mse``, ``clipping_mse``), the share of values
clipped and s²/12 itself, so each sentence states what was measured, not what usually happens.
"""

from __future__ import annotations

import math

import numpy as np

from quantviz.metrics import SqnrCurve

# A departure smaller than this (in dB) is not worth a sentence.
NOTABLE_DB = 1.0


def clipping_part(curve: SqnrCurve) -> np.ndarray:
    """The fraction of each width's measured MSE that comes from clipped values (0 where there is no error).

    >>> from quantviz.metrics import sqnr_by_bits
    >>> c = sqnr_by_bits(np.array([-1.0, 0.3, 5.0]), -1, 1, bits_list=[8])
    >>> round(float(clipping_part(c)[0]), 3)
    1.0
    """
    total = curve.rounding_mse + curve.clipping_mse
    return np.where(total > 0, curve.clipping_mse / np.where(total > 0, total, 1.0), 0.0)


def rounding_vs_model(curve: SqnrCurve) -> np.ndarray:
    """Mean squared rounding error per in-range value, in units of s²/12 (nan where every value is clipped).

    1 is what the model assumes; below 1 the in-range values sit closer to their codes than an even spread over
    a step would, above 1 nearer the midpoints between codes.
    """
    in_range = 1.0 - curve.clipped_share  # s²/12 is never 0: only the in-range share needs guarding
    return np.where(in_range > 0, curve.rounding_mse / np.where(in_range > 0, in_range, 1.0) / curve.model_mse, np.nan)


def _pct(share: float) -> str:
    return f"{share:.0%}" if share >= 0.01 else f"{share:.2%}"


def _clipping_dominates(curve: SqnrCurve, clip_part: np.ndarray, i: int) -> str:
    """Clipping is most of the error from width i on: what more bits do, said from the curve.

    "More bits shrink only the rounding part" holds only where the clipped share stays the same across the widths;
    where it moves (PyTorch below 8 bits stores 8-bit codes, so its clipping changes with the width), the sentence
    says that instead.
    """
    bits = curve.bits.tolist()
    last = len(bits) - 1
    clipped = float(curve.clipped_share.max())
    gain = curve.measured_db[last] - curve.measured_db[i]
    model_gain = curve.predicted_db[last] - curve.predicted_db[i]
    moves = "rises" if gain >= 0 else "falls"
    head = (
        f"{_pct(clipped)} of the values are clipped at the most. From {bits[i]} bits on, clipping is most of the "
        f"error ({_pct(clip_part[i])} of it at {bits[i]} bits, {_pct(clip_part[last])} at {bits[last]})"
    )
    shares = curve.clipped_share[i:]
    # the grid's ends move a little with the width (z is rounded anew), so a share within a factor of 2 counts as
    # the same; PyTorch below 8 bits (8-bit storage) moves it by orders of magnitude
    if float(shares.max()) <= 2 * float(shares.min()):
        return (
            f"{head}: about as many values are clipped at every width ({_pct(float(shares.min()))} to "
            f"{_pct(float(shares.max()))}), and more bits shrink only "
            f"the rounding part, so the measured SQNR {moves} {abs(gain):.1f} dB from {bits[i]} to {bits[last]} "
            f"bits where the model, which knows no clipping, rises {model_gain:.1f} dB."
        )
    return (
        f"{head}, but the clipped share itself changes with the width ({_pct(float(curve.clipped_share[i]))} at "
        f"{bits[i]} bits, {_pct(float(curve.clipped_share[last]))} at {bits[last]}): the representable range is not "
        f"the same at every width, so the measured SQNR {moves} {abs(gain):.1f} dB from {bits[i]} to "
        f"{bits[last]} bits where the model rises {model_gain:.1f} dB."
    )


def sqnr_curve_reasons(curve: SqnrCurve) -> list[str]:
    """The sentences under the SQNR-against-bits chart, each built from the curve.

    >>> from quantviz.metrics import sqnr_by_bits
    >>> x = np.random.default_rng(0).normal(size=20_000)
    >>> for line in sqnr_curve_reasons(sqnr_by_bits(x, -2, 2, bits_list=range(2, 11))):
    ...     print(line)   # doctest: +ELLIPSIS
    4% of the values are clipped at the most. From 4 bits on, clipping is most of the error (68% of it ...
    Largest departure from the model: ... dB below it at 10 bits, where clipping is 100% of the error.
    """
    if not curve.bits.size:
        return []
    clip_part, vs_model = clipping_part(curve), rounding_vs_model(curve)
    found = [
        _clipping_reason(curve, clip_part),
        _in_range_reason(curve, float(vs_model[0])),
        _departure_reason(curve, clip_part, vs_model),
    ]
    reasons = [r for r in found if r]
    if not reasons:
        reasons.append(
            f"The measured curve stays within {NOTABLE_DB:g} dB of the model at every width shown: nothing "
            "is clipped and rounding behaves as the model assumes."
        )
    return reasons


def _clipping_reason(curve: SqnrCurve, clip_part: np.ndarray) -> str:
    """How much is clipped and from which width clipping is most of the error ("" when nothing is clipped)."""
    clipped = float(curve.clipped_share.max())
    if clipped <= 0:
        return ""
    bits = curve.bits.tolist()
    dominant = np.flatnonzero(clip_part >= 0.5)
    if dominant.size and dominant[0] < len(bits) - 1:
        return _clipping_dominates(curve, clip_part, int(dominant[0]))
    if dominant.size:
        i = int(dominant[0])
        return (
            f"{_pct(clipped)} of the values are clipped; at {bits[i]} bits clipping is "
            f"{_pct(clip_part[i])} of the error."
        )
    return (
        f"{_pct(clipped)} of the values are clipped, yet rounding is most of the error at every "
        f"width shown (clipping at most {_pct(float(clip_part.max()))} of it)."
    )


def _in_range_reason(curve: SqnrCurve, ratio: float) -> str:
    """Where the in-range values sit against the uniform-error model at the first width ("" when they agree)."""
    # below 1e-9 × s²/12 is float residue of values sitting on their codes (the MSE split is a subtraction)
    if not (math.isfinite(ratio) and ratio > 1e-9 and abs(10 * math.log10(ratio)) > NOTABLE_DB):
        return ""
    where = "closer to their codes" if ratio < 1 else "farther from their codes (nearer the midpoints)"
    return (
        f"At {int(curve.bits[0])} bits the values inside the range sit {where} than the model assumes: their "
        f"rounding error is {ratio:.2f} × s²/12 (the model spreads it evenly over each step)."
    )


def _departure_reason(curve: SqnrCurve, clip_part: np.ndarray, vs_model: np.ndarray) -> str:
    """The width where the measured SQNR departs most from the model, and what causes it ("" when close)."""
    departure = curve.measured_db - curve.predicted_db
    finite = np.isfinite(departure)
    if not finite.any():
        return ""
    worst = int(np.flatnonzero(finite)[np.argmax(np.abs(departure[finite]))])
    if abs(departure[worst]) <= NOTABLE_DB:
        return ""
    side = "below" if departure[worst] < 0 else "above"
    if clip_part[worst] >= 0.5:
        cause = f"where clipping is {_pct(clip_part[worst])} of the error"
    else:
        cause = (
            f"where rounding is {_pct(1 - clip_part[worst])} of the error, at "
            f"{vs_model[worst]:.2f} × s²/12 per value in range"
        )
    return (
        f"Largest departure from the model: {abs(departure[worst]):.1f} dB {side} it at "
        f"{int(curve.bits[worst])} bits, {cause}."
    )
