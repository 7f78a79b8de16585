"""One object per framework convention: how it chooses (s, z) and how it rounds.

Each convention reproduces its framework bit for bit, float32 arithmetic and ties
included (checked against the real frameworks by ``tests/oracles``). The plain-word
``rules`` of each object are what the app shows next to its numbers.
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import pairwise
from typing import NamedTuple

import numpy as np

from quantviz.errors import BitsError, RangeError, UnsupportedError
from quantviz.grid import check_bits, int_range
from quantviz.qparams import QParams
from quantviz.rounding import (
    ROUNDING_MODES,
    apply_rounding,
    fma_float32,
    round_half_away_from_zero,
)

F32 = np.float32
F32_EPS = float(np.finfo(np.float32).eps)
F32_TINY = float(np.finfo(np.float32).tiny)
TFLITE_NEAR_ZERO = 1e-6


class QuantizeTrace(NamedTuple):
    """Every step of quantizing an array, as the convention computes it.

    Attributes
    ----------
    x : ndarray of float64
        The input values.
    scaled : ndarray of float64
        x / s in float64, for display (real value measured in grid steps).
    pre_round : ndarray
        The exact number the convention rounds (float32 for the frameworks); it already
        contains z when the convention adds z before rounding.
    unclamped : ndarray of float64
        The integer code before clamping (rounded value plus z).
    q : ndarray of int64
        The stored code, clamped to the grid.
    dequantized : ndarray of float64
        (q - z) * s as the convention computes it.
    error : ndarray of float64
        dequantized - x.
    clipped : ndarray of bool
        Whether the value was clamped to the end of the grid.
    """

    x: np.ndarray
    scaled: np.ndarray
    pre_round: np.ndarray
    unclamped: np.ndarray
    q: np.ndarray
    dequantized: np.ndarray
    error: np.ndarray
    clipped: np.ndarray


def _as_float_array(x: object) -> np.ndarray:
    """Return x as a float32 or float64 array (float32 stays float32: the frameworks take it as is)."""
    arr = np.asarray(x)
    if arr.dtype.kind not in "biuf":
        raise UnsupportedError(f"values must be real numbers, got an array of {arr.dtype}")
    if arr.dtype not in (np.float32, np.float64):
        arr = arr.astype(np.float64)
    return arr


def _check_nan(arr: np.ndarray) -> None:
    if np.isnan(arr).any():
        raise RangeError("values contain NaN (not a number), which has no code; remove them first")


# Large arrays are processed in small chunks (temporaries stay in cache and below malloc's mmap
# threshold), in a few blocks run on a thread pool: numpy releases the GIL inside ufuncs.
CHUNK = 1 << 16
PARALLEL_FROM = 1 << 17
_POOL: ThreadPoolExecutor | None = None
_WORKERS = max(1, min(4, os.cpu_count() or 1))


def _in_chunks(n: int, work) -> None:
    """Call work(start, stop) over [0, n) chunk by chunk, splitting large n across threads."""
    global _POOL

    def block(a: int, b: int) -> None:
        for start in range(a, b, CHUNK):
            work(start, min(start + CHUNK, b))

    if n < PARALLEL_FROM or _WORKERS == 1:
        block(0, n)
        return
    if _POOL is None:
        _POOL = ThreadPoolExecutor(max_workers=_WORKERS, thread_name_prefix="quantviz")
    edges = np.linspace(0, n, 2 * _WORKERS + 1).astype(int)
    list(_POOL.map(lambda ab: block(*ab), pairwise(edges.tolist())))


@dataclass(frozen=True)
class Convention:
    """A named way of choosing (s, z) and rounding.

    Attributes
    ----------
    name : str
        Key in ``CONVENTIONS``.
    label : str
        Human name for the app.
    summary : str
        One sentence.
    rules : tuple of str
        The rules in plain words, in the order they are applied.
    tie_rule : str
        Key of ``ROUNDING_MODES`` used when quantizing.
    arithmetic : str
        ``"float64"`` or ``"float32"``.
    widens_to_include_zero : bool
        Whether [rmin, rmax] is first widened to contain 0.
    adds_zero_point_before_rounding : bool
        Whether z is added before rounding (the two orders differ at ties).
    """

    name: str
    label: str
    summary: str
    rules: tuple[str, ...]
    tie_rule: str
    arithmetic: str
    widens_to_include_zero: bool
    adds_zero_point_before_rounding: bool

    order_can_change = False  # only the textbook lets you round after adding z

    # --- options -----------------------------------------------------------------
    def unsupported_reason(
        self,
        *,
        bits: int = 8,
        signed: bool = False,
        symmetric: bool = False,
        narrow_range: bool = False,
        reduce_range: bool = False,
    ) -> str | None:
        """Return why these options are not supported, or None when they are."""
        return None

    def check_options(self, **options: object) -> None:
        """Raise UnsupportedError (naming the combination and the alternatives) if not supported."""
        check_bits(options.get("bits", 8))
        reason = self.unsupported_reason(**options)  # type: ignore[arg-type]
        if reason:
            raise UnsupportedError(f"{self.label}: {reason}")

    def check_rounding(self, rounding: str | None) -> str:
        """Return the rounding mode to use; only the textbook convention lets you pick."""
        if rounding is None or rounding == self.tie_rule:
            return self.tie_rule
        raise UnsupportedError(
            f"{self.label} always rounds with {self.tie_rule!r}; choose the textbook convention to try {rounding!r}"
        )

    # --- the three verbs -------------------------------------------------------
    def choose_qparams(self, rmin: float, rmax: float, **options: object) -> QParams:  # pragma: no cover
        raise NotImplementedError

    def _round(self, x: np.ndarray, qparams: QParams, mode: str, seed: int, z_first: bool, scratch: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Return (the number that gets rounded, the rounded code plus z before clamping). The convention's core.

        With ``scratch`` the caller needs only the second array, so the first may be overwritten.
        """
        raise NotImplementedError  # pragma: no cover

    def _final_codes(self, x: np.ndarray, qparams: QParams, unclamped: np.ndarray, scratch: bool = False) -> np.ndarray:
        """Return the stored codes (as floats) from the unclamped ones: clamp to the storage grid (in place with scratch)."""
        return np.clip(unclamped, qparams.storage_min, qparams.storage_max, out=unclamped if scratch else None)

    def _clipped(self, x: np.ndarray, qparams: QParams, unclamped: np.ndarray, q: np.ndarray) -> np.ndarray:
        return unclamped != q

    def _prepare(self, rounding: str | None, add_zero_point_before_rounding: bool) -> str:
        mode = self.check_rounding(rounding)
        if add_zero_point_before_rounding and not self.order_can_change:
            raise UnsupportedError(
                f"{self.label} has a fixed order of operations; choose the textbook convention to add z before rounding"
            )
        return mode

    def quantize(self, x: object, qparams: QParams, *, rounding: str | None = None, seed: int = 0,
                 add_zero_point_before_rounding: bool = False) -> np.ndarray:
        """Return the int64 codes only: the fast path (chunked, parallel), same arithmetic as the trace."""
        mode = self._prepare(rounding, add_zero_point_before_rounding)
        xs = _as_float_array(x)
        flat = xs.reshape(-1)
        out = np.empty(flat.shape, dtype=np.int64)

        def work(a: int, b: int) -> None:
            chunk = flat[a:b]
            _check_nan(chunk)
            _, unclamped = self._round(chunk, qparams, mode, seed, add_zero_point_before_rounding, scratch=True)
            out[a:b] = self._final_codes(chunk, qparams, unclamped, scratch=True)

        if mode == "stochastic":
            work(0, flat.size)  # one random stream for the whole array: reproducible from the seed
        else:
            _in_chunks(flat.size, work)
        return out.reshape(xs.shape)

    def quantize_trace(self, x: object, qparams: QParams, *, rounding: str | None = None, seed: int = 0,
                       add_zero_point_before_rounding: bool = False) -> QuantizeTrace:
        """Return every step of quantizing x (see QuantizeTrace)."""
        mode = self._prepare(rounding, add_zero_point_before_rounding)
        xs = _as_float_array(x)
        _check_nan(xs)
        pre_round, unclamped = self._round(xs, qparams, mode, seed, add_zero_point_before_rounding)
        q = self._final_codes(xs, qparams, unclamped).astype(np.int64)
        x64 = xs.astype(np.float64, copy=False)
        with np.errstate(over="ignore"):
            scaled = x64 / qparams.scale
        deq = self.dequantize(q, qparams).astype(np.float64, copy=False)
        unclamped = unclamped.astype(np.float64, copy=False)
        return QuantizeTrace(x64, scaled, pre_round, unclamped, q, deq, deq - x64, self._clipped(xs, qparams, unclamped, q))

    def dequantize(self, q: object, qparams: QParams) -> np.ndarray:
        """Return (q - z) * s in this convention's float type (float32 for the frameworks)."""
        codes = np.asarray(q, dtype=np.int64)
        dtype = F32 if self.arithmetic == "float32" else np.float64
        scale = dtype(qparams.scale)
        flat = codes.reshape(-1)
        out = np.empty(flat.shape, dtype=dtype)

        def work(a: int, b: int) -> None:
            out[a:b] = flat[a:b] - qparams.zero_point  # exact: codes and z are small integers
            out[a:b] *= scale

        _in_chunks(flat.size, work)
        return out.reshape(codes.shape)

    def fake_quantize(self, x: object, qparams: QParams) -> np.ndarray:
        """Return dequantize(quantize(x)) in one fused pass (no int64 codes in between), same arithmetic."""
        xs = _as_float_array(x)
        flat = xs.reshape(-1)
        dtype = F32 if self.arithmetic == "float32" else np.float64
        scale, zero = dtype(qparams.scale), dtype(qparams.zero_point)
        out = np.empty(flat.shape, dtype=dtype)

        def work(a: int, b: int) -> None:
            chunk = flat[a:b]
            _check_nan(chunk)
            _, unclamped = self._round(chunk, qparams, self.tie_rule, 0, False, scratch=True)
            codes = self._final_codes(chunk, qparams, unclamped, scratch=True).astype(dtype, copy=False)
            np.subtract(codes, zero, out=out[a:b])  # exact: small integers
            out[a:b] *= scale

        _in_chunks(flat.size, work)
        return out.reshape(xs.shape)


# ----------------------------------------------------------------------------------
class Textbook(Convention):
    """Exact float64 arithmetic, every option and rounding mode available."""

    order_can_change = True

    def unsupported_reason(self, *, bits=8, signed=False, symmetric=False, narrow_range=False, reduce_range=False):
        try:
            qmin, qmax = int_range(bits, signed=signed, narrow_range=narrow_range, reduce_range=reduce_range)
        except BitsError as exc:
            return f"{exc}; use more bits or fewer of narrow range / reduce range"
        middle = int(np.rint((qmin + qmax) / 2))
        if symmetric and min(qmax - middle, middle - qmin) == 0:
            return f"a symmetric scheme needs codes on both sides of z, and the grid [{qmin}, {qmax}] has none; use more bits"
        return None

    def choose_qparams(
        self,
        rmin: float,
        rmax: float,
        *,
        bits: int = 8,
        signed: bool = False,
        symmetric: bool = False,
        narrow_range: bool = False,
        reduce_range: bool = False,
    ) -> QParams:
        self.check_options(
            bits=bits, signed=signed, symmetric=symmetric, narrow_range=narrow_range, reduce_range=reduce_range
        )
        qmin, qmax = int_range(bits, signed=signed, narrow_range=narrow_range, reduce_range=reduce_range)
        lo, hi = min(rmin, 0.0), max(rmax, 0.0)
        if symmetric:
            absmax = max(-lo, hi)
            zero_point = int(np.rint((qmin + qmax) / 2))
            # Divide by the shorter side so that [-absmax, absmax] never clips.
            steps = min(qmax - zero_point, zero_point - qmin)
            lo, hi = -absmax, absmax
            scale = absmax / steps if absmax > 0 else 1.0
        elif hi == lo:
            scale, zero_point = 1.0, min(max(0, qmin), qmax)
        else:
            scale = (hi - lo) / (qmax - qmin)
            # z from the exact ratio, not from the rounded scale: ties stay ties.
            zero_float = qmin - lo * (qmax - qmin) / (hi - lo)
            zero_point = int(min(max(np.rint(zero_float), qmin), qmax))
        if scale < F32_TINY:
            raise RangeError(
                f"range width {hi - lo:.3g} is too small: the scale {scale:.3g} would underflow "
                f"float32 (below {F32_TINY:.3g}); widen the range"
            )
        return QParams(scale, zero_point, qmin, qmax, rmin=lo, rmax=hi)

    def check_rounding(self, rounding: str | None) -> str:
        mode = rounding or self.tie_rule
        if mode not in ROUNDING_MODES:
            raise UnsupportedError(f"unknown rounding mode {mode!r}; choose one of {', '.join(ROUNDING_MODES)}")
        return mode

    def _round(self, x, qparams, mode, seed, z_first, scratch=False):
        with np.errstate(over="ignore"):
            scaled = x.astype(np.float64, copy=False) / qparams.scale
        if z_first:
            pre_round = scaled + qparams.zero_point
            return pre_round, apply_rounding(pre_round, mode, seed=seed)
        rounded = apply_rounding(scaled, mode, seed=seed)
        rounded += qparams.zero_point
        return scaled, rounded


# ----------------------------------------------------------------------------------
def _pytorch_grid(bits: int, signed: bool, narrow_range: bool, reduce_range: bool) -> tuple[int, int]:
    """quant_min/quant_max as torch.ao's calculate_qmin_qmax computes them."""
    customized = bits != 8 or narrow_range
    qmin, qmax = int_range(bits, signed=signed, narrow_range=narrow_range)
    if reduce_range:
        if customized:
            qmin, qmax = qmin // 2, qmax // 2
        else:
            qmin, qmax = int_range(8, signed=signed, reduce_range=True)
    return qmin, qmax


class PyTorch(Convention):
    """torch.ao MinMaxObserver + quantize_per_tensor / fake_quantize_per_tensor_affine."""

    def unsupported_reason(self, *, bits=8, signed=False, symmetric=False, narrow_range=False, reduce_range=False):
        if bits > 8:
            return f"{bits}-bit grids are not supported; PyTorch quantizes to quint8/qint8 (2 to 8 bits via quant_min/quant_max)"
        if narrow_range and not signed:
            return "narrow range on an unsigned grid ([1, 255]) is refused by PyTorch's observers, whose range must contain 0; use a signed grid"
        if symmetric and reduce_range and not signed:
            return "PyTorch cannot reduce the range of symmetric quint8 (NotImplementedError); use qint8 (signed) or turn reduce_range off"
        return None

    def choose_qparams(
        self, rmin, rmax, *, bits=8, signed=False, symmetric=False, narrow_range=False, reduce_range=False
    ):
        self.check_options(
            bits=bits, signed=signed, symmetric=symmetric, narrow_range=narrow_range, reduce_range=reduce_range
        )
        qmin, qmax = _pytorch_grid(bits, signed, narrow_range, reduce_range)
        storage_min, storage_max = int_range(8, signed=signed)
        customized = bits != 8 or narrow_range
        min_neg = min(F32(rmin), F32(0))
        max_pos = max(F32(rmax), F32(0))
        eps = F32(F32_EPS)
        if symmetric:
            absmax = max(-min_neg, max_pos)
            scale = max(F32(absmax / F32((qmax - qmin) / 2)), eps)
            zero_point = 0 if signed else (qmin + qmax) // 2 if customized else 128
            lo, hi = -absmax, absmax
        else:
            scale = max(F32(F32(max_pos - min_neg) / F32(qmax - qmin)), eps)
            zero_point = qmin - int(np.rint(F32(min_neg / scale)))
            zero_point = min(max(zero_point, qmin), qmax)
            lo, hi = min_neg, max_pos
        return QParams(float(scale), zero_point, qmin, qmax, storage_min, storage_max, rmin=float(lo), rmax=float(hi))

    def _round(self, x, qparams, mode, seed, z_first, scratch=False):
        inv = F32(1) / F32(qparams.scale)
        # x86 with FMA: round(fma(x, 1/s, z)), the fused product-sum rounded once to float32.
        pre_round = fma_float32(x.astype(F32, copy=False), inv, qparams.zero_point)
        return pre_round, np.rint(pre_round, out=pre_round if scratch else None)

    def fake_quantize(self, x, qparams):
        """torch.fake_quantize_per_tensor_affine: rounds x*(1/s) first, then adds z, clamps to [qmin, qmax]."""
        xs = _as_float_array(x).astype(F32)
        _check_nan(xs)
        scale = F32(qparams.scale)
        inv = F32(1) / scale
        with np.errstate(over="ignore", invalid="ignore"):
            codes = np.rint(xs * inv) + F32(qparams.zero_point)
            codes = np.clip(codes, F32(qparams.qmin), F32(qparams.qmax))
            return (codes - F32(qparams.zero_point)) * scale


# ----------------------------------------------------------------------------------
_ORT_SIGNED = {4: (-8, 7), 8: (-128, 127), 16: (-32768, 32767)}
_ORT_UNSIGNED = {4: (0, 15), 8: (0, 255), 16: (0, 65535)}
_ORT_REDUCED_SIGNED = {4: (-4, 3), 8: (-64, 64), 16: (-16384, 16384)}
_ORT_REDUCED_UNSIGNED = {4: (0, 7), 8: (0, 127), 16: (0, 32767)}
_ORT_SYMMETRIC_SIGNED = {8: (-127, 127), 16: (-32767, 32767)}


def onnxruntime_grid(bits: int, signed: bool, symmetric: bool, reduce_range: bool) -> tuple[int, int]:
    """Return (qmin, qmax) as onnxruntime's get_qmin_qmax_for_qType does (reduced int8 is [-64, 64])."""
    if reduce_range:
        table = _ORT_REDUCED_SIGNED if signed else _ORT_REDUCED_UNSIGNED
    elif symmetric and signed and bits in _ORT_SYMMETRIC_SIGNED:
        table = _ORT_SYMMETRIC_SIGNED
    else:
        table = _ORT_SIGNED if signed else _ORT_UNSIGNED
    if bits not in table:
        raise BitsError(f"onnxruntime quantizes to 4, 8 or 16 bits, got {bits}")
    return table[bits]


class OnnxRuntime(Convention):
    """onnxruntime.quantization compute_scale_zp + the QuantizeLinear operator."""

    def unsupported_reason(self, *, bits=8, signed=False, symmetric=False, narrow_range=False, reduce_range=False):
        if bits not in (4, 8, 16):
            return f"{bits}-bit grids are not supported; onnxruntime quantizes to 4, 8 or 16 bits"
        if narrow_range:
            return "narrow range is not an option: onnxruntime picks [-127, 127] itself for symmetric int8 (and [-32767, 32767] for int16); turn narrow range off"
        return None

    def choose_qparams(
        self, rmin, rmax, *, bits=8, signed=False, symmetric=False, narrow_range=False, reduce_range=False
    ):
        self.check_options(
            bits=bits, signed=signed, symmetric=symmetric, narrow_range=narrow_range, reduce_range=reduce_range
        )
        qmin, qmax = onnxruntime_grid(bits, signed, symmetric, reduce_range)
        storage_min, storage_max = (_ORT_SIGNED if signed else _ORT_UNSIGNED)[bits]
        lo = min(F32(rmin), F32(0))
        hi = max(F32(rmax), F32(0))
        if symmetric:
            absmax = max(abs(lo), abs(hi))
            lo, hi = -absmax, absmax
        scale = (np.float64(hi) - np.float64(lo)) / (np.float64(qmax) - np.float64(qmin))
        if scale < F32_TINY:
            scale, zero_point = 1.0, 0
        elif symmetric:
            zero_point = int(np.rint((qmin + qmax) / 2.0))
        else:
            zero_point = int(np.rint(qmin - np.float64(lo) / scale))
        return QParams(
            float(F32(scale)), zero_point, qmin, qmax, storage_min, storage_max, rmin=float(lo), rmax=float(hi)
        )

    def _round(self, x, qparams, mode, seed, z_first, scratch=False):
        with np.errstate(over="ignore"):
            pre_round = x.astype(F32, copy=False) / F32(qparams.scale)  # QuantizeLinear divides in float32
        rounded = np.rint(pre_round, out=pre_round if scratch else None)
        rounded += F32(qparams.zero_point)  # exact for |rounded| < 2^24; beyond that it clamps anyway
        return pre_round, rounded


# ----------------------------------------------------------------------------------
class TFLite(Convention):
    """The TFLite converter's parameters and the interpreter's QUANTIZE op."""

    reference_kernels: bool = False

    def unsupported_reason(self, *, bits=8, signed=False, symmetric=False, narrow_range=False, reduce_range=False):
        if bits != 8:
            return f"{bits}-bit grids are not supported here; TFLite's integer models use 8 bits (int8, or uint8 inputs/outputs)"
        if reduce_range:
            return "reduce_range is a PyTorch option; TFLite has none (use the PyTorch or textbook convention)"
        if symmetric and not signed:
            return "symmetric quantization is for int8 weights; choose a signed grid, or asymmetric for uint8"
        if narrow_range and not symmetric:
            return "narrow range [-127, 127] is used only for symmetric int8 weights; tick symmetric or turn narrow range off"
        return None

    def choose_qparams(
        self, rmin, rmax, *, bits=8, signed=False, symmetric=False, narrow_range=False, reduce_range=False
    ):
        self.check_options(
            bits=bits, signed=signed, symmetric=symmetric, narrow_range=narrow_range, reduce_range=reduce_range
        )
        lo, hi = float(F32(rmin)), float(F32(rmax))
        if symmetric:
            # Weights: int8, narrow range [-127, 127], z = 0.
            absmax = max(abs(lo), abs(hi))
            scale = float(F32(absmax) / F32(127)) if absmax > 0 else 1.0
            return QParams(scale, 0, -127, 127, -128, 127, rmin=-absmax, rmax=absmax)
        lo, hi = min(lo, 0.0), max(hi, 0.0)
        qmin, qmax = -128, 127
        # Measured on TF 2.21 (186 calibrated ranges): the scale is computed in float32,
        # the zero point from the minimum in double with that float32 scale.
        if hi - lo < TFLITE_NEAR_ZERO:
            # A (nearly) empty range is widened by 1e-6 on each side, not given a zero scale.
            lo, hi = lo - TFLITE_NEAR_ZERO, hi + TFLITE_NEAR_ZERO
        scale = F32(F32(hi) - F32(lo)) / F32(qmax - qmin)
        zero_float = qmin - lo / float(scale)
        if zero_float < qmin:
            zero_point = qmin
        elif zero_float > qmax:
            zero_point = qmax
        else:
            zero_point = int(round_half_away_from_zero(np.float64(zero_float)))
        scale = float(F32(scale))
        if signed:
            return QParams(scale, zero_point, qmin, qmax, rmin=lo, rmax=hi)
        # A uint8 input/output: the converter quantizes to int8 and shifts by 128.
        return QParams(scale, zero_point + 128, 0, 255, rmin=lo, rmax=hi)

    def _round(self, x, qparams, mode, seed, z_first, scratch=False):
        x32 = x.astype(F32, copy=False)
        scale = F32(qparams.scale)
        with np.errstate(over="ignore"):
            if self.reference_kernels:
                pre_round = x32 / scale
                rounded = round_half_away_from_zero(pre_round)
            else:
                pre_round = x32 * (F32(1) / scale)
                rounded = np.rint(pre_round, out=pre_round if scratch else None)
        rounded += F32(qparams.zero_point)
        return pre_round, rounded


class TFLiteReference(TFLite):
    """TFLite with the interpreter's reference kernels (ties away from zero)."""

    reference_kernels = True


# ----------------------------------------------------------------------------------
class TFNudge(NamedTuple):
    """TF fake-quant's float32 nudged range and the values its kernel derives from it."""

    scale: np.float32
    inv_scale: np.float32
    zero_point: int
    nudged_min: np.float32
    nudged_max: np.float32


def tf_nudge(qparams: QParams) -> TFNudge:
    """Return TF's ``Nudge()`` results for parameters chosen by the tf_fake_quant convention."""
    scale = F32(qparams.scale)
    qmin_f, qmax_f = F32(qparams.qmin), F32(qparams.qmax)
    if qparams.rmin is not None and qparams.rmax is not None and qparams.rmax > qparams.rmin:
        inv = F32((qmax_f - qmin_f) / F32(F32(qparams.rmax) - F32(qparams.rmin)))
    else:
        inv = F32(1) / scale
    z = F32(qparams.zero_point)
    return TFNudge(scale, inv, qparams.zero_point, F32((qmin_f - z) * scale), F32((qmax_f - z) * scale))


class TFFakeQuant(Convention):
    """tf.quantization.fake_quant_with_min_max_args: no widening, nudged range, floor(v + 0.5)."""

    def unsupported_reason(self, *, bits=8, signed=False, symmetric=False, narrow_range=False, reduce_range=False):
        if signed:
            return "TF fake-quant works on unsigned grids only ([0, 2^b - 1], or [1, 2^b - 1] with narrow range); untick signed, or use the TFLite/PyTorch/ONNX Runtime convention for int8"
        if symmetric:
            return (
                "TF fake-quant has no symmetric mode: pass a range such as [-a, a] instead, or use another convention"
            )
        if reduce_range:
            return "reduce_range is a PyTorch option; TF fake-quant has none"
        return None

    def choose_qparams(
        self, rmin, rmax, *, bits=8, signed=False, symmetric=False, narrow_range=False, reduce_range=False
    ):
        self.check_options(
            bits=bits, signed=signed, symmetric=symmetric, narrow_range=narrow_range, reduce_range=reduce_range
        )
        lo, hi = F32(rmin), F32(rmax)
        if not lo < hi:
            raise RangeError(f"TF fake-quant needs min < max (in float32), got min = max = {float(lo)}")
        qmin, qmax = int_range(bits, narrow_range=narrow_range)
        qmin_f, qmax_f = F32(qmin), F32(qmax)
        with np.errstate(over="ignore"):
            scale = F32(F32(hi - lo) / (qmax_f - qmin_f))
            zero_from_min = F32(qmin_f - F32(lo / scale))
        if zero_from_min < qmin_f:
            zero_point = qmin
        elif zero_from_min > qmax_f:
            zero_point = qmax
        else:
            zero_point = int(round_half_away_from_zero(zero_from_min))
        if not math.isfinite(float(scale)) or scale < F32_TINY:
            raise RangeError(f"range [{float(lo)}, {float(hi)}] gives an unusable scale {float(scale)!r}")
        return QParams(float(scale), zero_point, qmin, qmax, rmin=float(lo), rmax=float(hi))

    def _codes(self, x32: np.ndarray, nudge: TFNudge, clamp: bool) -> tuple[np.ndarray, np.ndarray]:
        """Return (value rounded half up, floor(value + 0.5)) exactly as TF's float32 kernel computes them."""
        quant_zero = np.floor(F32(F32(-nudge.nudged_min * nudge.inv_scale) + F32(0.5)))
        with np.errstate(over="ignore", invalid="ignore"):
            if clamp:
                x32 = np.maximum(np.minimum(x32, nudge.nudged_max), nudge.nudged_min)
            shifted = x32 - nudge.nudged_min
            pre_round = shifted * nudge.inv_scale - quant_zero
            return pre_round, np.floor(pre_round + F32(0.5))

    def _round(self, x, qparams, mode, seed, z_first, scratch=False):
        # For display: the same float32 arithmetic without TF's clamp (the clamp comes first in TF).
        pre_round, steps = self._codes(x.astype(F32, copy=False), tf_nudge(qparams), clamp=False)
        return pre_round, steps + F32(qparams.zero_point)

    def _final_codes(self, x, qparams, unclamped, scratch=False):
        _, steps = self._codes(x.astype(F32, copy=False), tf_nudge(qparams), clamp=True)
        return steps + F32(qparams.zero_point)

    def _clipped(self, x, qparams, unclamped, q):
        nudge = tf_nudge(qparams)
        x32 = x.astype(F32, copy=False)
        return (x32 < nudge.nudged_min) | (x32 > nudge.nudged_max)

    def fake_quantize(self, x, qparams):
        """The op's float32 output: floor(...) * scale, exactly as TF's kernel computes it."""
        nudge = tf_nudge(qparams)
        xs = _as_float_array(x)
        _check_nan(xs)
        _, steps = self._codes(xs.astype(F32, copy=False), nudge, clamp=True)
        return steps * nudge.scale


# ----------------------------------------------------------------------------------
CONVENTIONS: dict[str, Convention] = {
    "textbook": Textbook(
        name="textbook",
        label="Textbook",
        summary="The formula on the blackboard, computed exactly in float64; every option and rounding mode.",
        rules=(
            "Widen [rmin, rmax] to include 0, so that real 0 gets an exact code.",
            "Asymmetric: s = (rmax − rmin) / (qmax − qmin); z = round(qmin − rmin / s), clamped to the grid.",
            "Symmetric: z = the middle code (0 for signed grids, 2^(b−1) for unsigned); s = absmax divided by the codes on the shorter side of z, so that [−absmax, absmax] never clips.",
            "Quantize: q = clamp(round(x / s) + z, qmin, qmax), any rounding mode; or round(x / s + z) as the seed example writes it.",
            "Dequantize: r = s · (q − z), in float64.",
        ),
        tie_rule="half_to_even",
        arithmetic="float64",
        widens_to_include_zero=True,
        adds_zero_point_before_rounding=False,
    ),
    "tflite": TFLite(
        name="tflite",
        label="TFLite",
        summary="The TFLite converter's parameters and the interpreter's default (XNNPACK/optimized) QUANTIZE kernel.",
        rules=(
            "Activations (asymmetric): widen to include 0; s = (rmax − rmin) / 255 in float32; z = qmin − rmin / s (in double, with that float32 s), clamped to the int8 grid [−128, 127], else rounded half away from zero.",
            "A uint8 input or output gets the int8 zero point + 128 (so [−1000, 1000] gets 127, not 128).",
            "Weights (symmetric): int8 narrow range [−127, 127], s = max(|rmin|, |rmax|) / 127, z = 0.",
            "The scale is stored as float32.",
            "Quantize (default kernels): q = clamp(round_half_even(x · (1/s)) + z), with 1/s computed in float32.",
        ),
        tie_rule="half_to_even",
        arithmetic="float32",
        widens_to_include_zero=True,
        adds_zero_point_before_rounding=False,
    ),
    "tflite_reference": TFLiteReference(
        name="tflite_reference",
        label="TFLite (reference kernels)",
        summary="The same parameters as TFLite, quantized by the interpreter's reference kernels.",
        rules=(
            "Same s and z as the TFLite converter.",
            "Quantize (reference kernels, BUILTIN_REF): q = clamp(round_half_away_from_zero(x / s) + z), float32 division.",
            "At every exact tie this gives a different code from the default kernels: the same model, two answers.",
        ),
        tie_rule="half_away_from_zero",
        arithmetic="float32",
        widens_to_include_zero=True,
        adds_zero_point_before_rounding=False,
    ),
    "pytorch": PyTorch(
        name="pytorch",
        label="PyTorch",
        summary="torch.ao MinMaxObserver, torch.quantize_per_tensor and fake_quantize_per_tensor_affine (x86 CPU).",
        rules=(
            "Work in float32; widen to include 0.",
            "Affine: s = max((rmax − rmin) / (qmax − qmin), float32 eps); z = qmin − round_half_even(rmin / s), clamped.",
            "Symmetric: s = absmax / ((qmax − qmin) / 2), so int8 divides by 127.5 and the top value clips; z = 0 (qint8) or 128 (quint8).",
            "reduce_range chooses s on a 7-bit grid (quint8 [0, 127], qint8 [−64, 63]) but still stores 8 bits.",
            "quantize_per_tensor: q = round_half_even(fma(x, 1/s, z)): z is added before rounding, in one fused multiply-add.",
            "fake_quantize_per_tensor_affine: rounds x · (1/s) first, then adds z.",
        ),
        tie_rule="half_to_even",
        arithmetic="float32",
        widens_to_include_zero=True,
        adds_zero_point_before_rounding=True,
    ),
    "onnxruntime": OnnxRuntime(
        name="onnxruntime",
        label="ONNX Runtime",
        summary="onnxruntime.quantization's compute_scale_zp and the QuantizeLinear operator.",
        rules=(
            "Widen to include 0; both ends promoted to float64, s computed in float64 and stored as float32.",
            "Asymmetric: z = round_half_even(qmin − rmin / s).",
            "Symmetric: s = 2·absmax / (qmax − qmin) on int8 [−127, 127] (uint8 keeps [0, 255]); z = 0 for int8, 128 for uint8.",
            "reduce_range: uint8 [0, 127], int8 [−64, 64].",
            "QuantizeLinear: q = clamp(round_half_even(x / s) + z) with the division in float32, clamped to the full type.",
        ),
        tie_rule="half_to_even",
        arithmetic="float32",
        widens_to_include_zero=True,
        adds_zero_point_before_rounding=False,
    ),
    "tf_fake_quant": TFFakeQuant(
        name="tf_fake_quant",
        label="TF fake-quant",
        summary="tf.quantization.fake_quant_with_min_max_args: unsigned grids, no widening, a nudged range.",
        rules=(
            "No widening: [min, max] is used as given (it must have min < max).",
            "s = (max − min) / (qmax − qmin) in float32 on [0, 2^b − 1] (or [1, 2^b − 1] with narrow range).",
            "z = qmin − min / s, clamped to the grid, else rounded half away from zero.",
            "The range is then 'nudged' to [(qmin − z)·s, (qmax − z)·s], so 0 is exact but the ends move.",
            "Output: floor((clamp(x) − nudged_min) · inv − qz + 0.5) · s in float32, with inv computed separately (not 1/s): ties round up.",
        ),
        tie_rule="half_up",
        arithmetic="float32",
        widens_to_include_zero=False,
        adds_zero_point_before_rounding=False,
    ),
}


def get_convention(name: str) -> Convention:
    """Return the convention called ``name``, or raise UnsupportedError listing the known ones.

    >>> get_convention("pytorch").label
    'PyTorch'
    """
    try:
        return CONVENTIONS[name]
    except (KeyError, TypeError):
        raise UnsupportedError(f"unknown convention {name!r}; choose one of {', '.join(CONVENTIONS)}") from None


OPTION_NAMES = ("signed", "symmetric", "narrow_range", "reduce_range")


class ResolvedOptions(NamedTuple):
    """Options a convention can run with, and why any asked-for option was changed or is fixed.

    Attributes
    ----------
    options : dict
        bits, signed, symmetric, narrow_range, reduce_range: the nearest supported combination.
    changed : dict
        option name -> why the asked-for value could not be used.
    locked : dict
        option name -> why its other value is not available (the control should be disabled).
    """

    options: dict[str, int | bool]
    changed: dict[str, str]
    locked: dict[str, str]


def resolve_options(
    convention: str, *, bits: int = 8, signed: bool = False, symmetric: bool = False,
    narrow_range: bool = False, reduce_range: bool = False,
) -> ResolvedOptions:
    """Return the supported options nearest to those asked for (fewest changes, bits closest).

    >>> r = resolve_options("tf_fake_quant", bits=8, signed=True)
    >>> r.options["signed"], "unsigned" in r.changed["signed"], "signed" in r.locked
    (False, True, True)
    >>> resolve_options("tflite", bits=4).options["bits"]
    8
    """
    conv = get_convention(convention)
    asked = {"bits": int(bits), "signed": bool(signed), "symmetric": bool(symmetric),
             "narrow_range": bool(narrow_range), "reduce_range": bool(reduce_range)}
    reason = conv.unsupported_reason(**asked)
    best = asked
    if reason:
        candidates = []
        for b in range(2, 17):
            for flags in range(16):
                option = {"bits": b, **{name: bool(flags >> i & 1) for i, name in enumerate(OPTION_NAMES)}}
                if conv.unsupported_reason(**option):
                    continue
                flips = sum(option[n] != asked[n] for n in OPTION_NAMES)
                # a flipped switch costs more than a few bits; prefer turning options off
                cost = (10 * flips + abs(b - asked["bits"]) + sum(option[n] for n in OPTION_NAMES if option[n] != asked[n]), b)
                candidates.append((cost, option))
        best = min(candidates, key=lambda c: c[0])[1]
    changed = {
        name: conv.unsupported_reason(**{**best, name: asked[name]}) or reason
        for name in asked
        if best[name] != asked[name] and reason
    }
    locked = {}
    for name in OPTION_NAMES:
        other = {**best, name: not best[name]}
        why = conv.unsupported_reason(**other)
        if why:
            locked[name] = why
    return ResolvedOptions(best, changed, locked)
