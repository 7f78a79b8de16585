"""The base of every framework convention: the trace of one quantization and the three verbs.

A :class:`Convention` says how a framework chooses (s, z) and how it rounds; each framework
overrides ``_trace`` (every step of choosing s and z) and ``_round`` (and, where the framework differs, the clamp)
in its own module. This module imports the math below it (errors, grid, qparams, rounding) and
never the conventions built on it, the teaching text or the app.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from quantviz.conventions.kernels import in_chunks
from quantviz.conventions.recipe import Recipe
from quantviz.conventions.traces import ChoiceTrace, ErrorTrace, QuantizeTrace
from quantviz.errors import RangeError, UnsupportedError
from quantviz.grid import GridOptions
from quantviz.qparams import QParams
from quantviz.rounding import Rounding

__all__ = ["F32", "F32_EPS", "F32_TINY", "ChoiceTrace", "Convention", "ErrorTrace", "QuantizeTrace"]

F32 = np.float32
F32_EPS = float(np.finfo(np.float32).eps)
F32_TINY = float(np.finfo(np.float32).tiny)


def _as_float_array(x: object) -> np.ndarray:
    """Return x as a float32 or float64 array (float32 stays float32: the frameworks take it as is)."""
    arr = np.asarray(x)
    if arr.dtype.kind not in "biuf":
        raise UnsupportedError(f"values must be real numbers, got an array of {arr.dtype}")
    if arr.dtype not in (np.float32, np.float64):
        arr = arr.astype(np.float64)
    return arr


def _check_nan(arr: np.ndarray) -> None:
    # The minimum is NaN exactly when a NaN is present, and one read pass costs less than isnan's mask plus any().
    if arr.size and np.isnan(np.minimum.reduce(arr, axis=None)):
        raise RangeError("values contain NaN (not a number), which has no code; remove them first")


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
    tie_rule : Rounding
        The rule used when quantizing.
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
    tie_rule: Rounding
    arithmetic: str
    widens_to_include_zero: bool
    adds_zero_point_before_rounding: bool

    order_can_change = False  # only the textbook lets you round after adding z

    # --- options -----------------------------------------------------------------
    def unsupported_reason(self, options: GridOptions | None = None, **loose: object) -> str | None:
        """Return why these options are not supported, or None when they are.

        Takes a :class:`~quantviz.grid.GridOptions`, or its five fields as loose keywords (converted once, here).

        >>> from quantviz.conventions import get_convention
        >>> get_convention("tflite").unsupported_reason(GridOptions(bits=4))[:26]
        '4-bit grids are not modell'
        >>> get_convention("tflite").unsupported_reason(bits=8, signed=True) is None
        True
        """
        return self._unsupported(GridOptions.coerce(options, loose))

    def _unsupported(self, options: GridOptions) -> str | None:
        """Return why ``options`` are not supported by this convention, or None (every combination by default)."""
        return None

    def check_options(self, options: GridOptions) -> None:
        """Raise UnsupportedError (naming the combination and the alternatives) if not supported."""
        reason = self._unsupported(options)
        if reason:
            raise UnsupportedError(f"{self.label}: {reason}")

    def check_rounding(self, rounding: str | None) -> Rounding:
        """Return the rounding mode to use; only the textbook convention lets you pick."""
        if rounding is None or rounding == self.tie_rule:
            return self.tie_rule
        raise UnsupportedError(
            f"{self.label} always rounds with {self.tie_rule!r}; choose the textbook convention to try {rounding!r}"
        )

    # --- the three verbs -------------------------------------------------------
    def choose_trace(
        self, rmin: float, rmax: float, options: GridOptions | None = None, **loose: object
    ) -> ChoiceTrace:
        """Return every step of choosing (s, z) for the range [rmin, rmax] (see ChoiceTrace).

        Takes a GridOptions or its fields as loose keywords; checks them first (UnsupportedError naming the
        alternatives), then runs the convention's ``_trace``.
        """
        opts = GridOptions.coerce(options, loose)
        self.check_options(opts)
        return self._trace(rmin, rmax, opts)

    def _trace(self, rmin: float, rmax: float, options: GridOptions) -> ChoiceTrace:  # pragma: no cover
        raise NotImplementedError

    def recipe(
        self,
        options: GridOptions | None = None,
        *,
        rounding: str | None = None,
        add_zero_point_before_rounding: bool = False,
        **loose: object,
    ) -> Recipe:
        """Return how this convention does each step for these options, as data (see :mod:`.recipe`).

        ``run_recipe(conv.recipe(**options), rmin, rmax, x)`` gives exactly what ``choose_qparams`` and ``quantize``
        give (tested); a recipe with a step replaced is the experiment a cause is found by.
        """
        opts = GridOptions.coerce(options, loose)
        self.check_options(opts)
        return self._recipe(
            opts,
            rounding=self._prepare(rounding, add_zero_point_before_rounding),
            z_first=add_zero_point_before_rounding,
        )

    def _recipe(self, options: GridOptions, *, rounding: str, z_first: bool) -> Recipe:  # pragma: no cover
        raise NotImplementedError

    def choose_qparams(self, rmin: float, rmax: float, options: GridOptions | None = None, **loose: object) -> QParams:
        """Return the QParams this convention chooses for [rmin, rmax]: the last step of ``choose_trace``."""
        return self.choose_trace(rmin, rmax, options, **loose).qparams

    def _round(
        self, x: np.ndarray, qparams: QParams, mode: str, seed: int, z_first: bool, scratch: bool = False
    ) -> tuple[np.ndarray, np.ndarray]:
        """Return (the number that gets rounded, the rounded code plus z before clamping). The convention's core.

        With ``scratch`` the caller needs only the second array, so the first may be overwritten.
        """
        raise NotImplementedError  # pragma: no cover

    def _final_codes(self, x: np.ndarray, qparams: QParams, unclamped: np.ndarray, scratch: bool = False) -> np.ndarray:
        """Return the stored codes (as floats) from the unclamped ones: the storage grid's clamp (scratch: in place)."""
        return np.clip(unclamped, qparams.storage_min, qparams.storage_max, out=unclamped if scratch else None)

    def _clipped(self, x: np.ndarray, qparams: QParams, unclamped: np.ndarray, q: np.ndarray) -> np.ndarray:
        return unclamped != q

    def _prepare(self, rounding: str | None, add_zero_point_before_rounding: bool) -> Rounding:
        mode = self.check_rounding(rounding)
        if add_zero_point_before_rounding and not self.order_can_change:
            raise UnsupportedError(
                f"{self.label} has a fixed order of operations; choose the textbook convention to add z before rounding"
            )
        return mode

    def quantize(
        self,
        x: object,
        qparams: QParams,
        *,
        rounding: str | None = None,
        seed: int = 0,
        add_zero_point_before_rounding: bool = False,
    ) -> np.ndarray:
        """Return the codes only, in the grid's storage type (``qparams.code_dtype``: uint8, int8, int16, ...).

        The fast path (chunked, parallel), same arithmetic as the trace. The codes are stored as the frameworks store
        them, so ``q - z`` on them wraps: widen first (``dequantize`` does).
        """
        mode = self._prepare(rounding, add_zero_point_before_rounding)
        xs = _as_float_array(x)
        flat = xs.reshape(-1)
        out = np.empty(flat.shape, dtype=qparams.code_dtype)

        def work(a: int, b: int) -> None:
            chunk = flat[a:b]
            _check_nan(chunk)
            _, unclamped = self._round(chunk, qparams, mode, seed, add_zero_point_before_rounding, scratch=True)
            out[a:b] = self._final_codes(chunk, qparams, unclamped, scratch=True)

        if mode == "stochastic":
            work(0, flat.size)  # one random stream for the whole array: reproducible from the seed
        else:
            in_chunks(flat.size, work)
        return out.reshape(xs.shape)

    def quantize_trace(
        self,
        x: object,
        qparams: QParams,
        *,
        rounding: str | None = None,
        seed: int = 0,
        add_zero_point_before_rounding: bool = False,
    ) -> QuantizeTrace:
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
        return QuantizeTrace(
            x64, scaled, pre_round, unclamped, q, deq, deq - x64, self._clipped(xs, qparams, unclamped, q)
        )

    def error_trace(
        self,
        x: object,
        qparams: QParams,
        *,
        rounding: str | None = None,
        seed: int = 0,
        add_zero_point_before_rounding: bool = False,
    ) -> ErrorTrace:
        """Return (x, error, clipped) as ``quantize_trace`` computes them, chunked and threaded: for large inputs.

        Equal to the trace's fields element for element (tested); it keeps three arrays instead of eight.
        """
        mode = self._prepare(rounding, add_zero_point_before_rounding)
        xs = _as_float_array(x)
        flat = xs.reshape(-1)
        x64 = flat.astype(np.float64, copy=False)
        error = np.empty(flat.shape, np.float64)
        clipped = np.empty(flat.shape, bool)

        def work(a: int, b: int) -> None:
            chunk = flat[a:b]
            _check_nan(chunk)
            _, unclamped = self._round(chunk, qparams, mode, seed, add_zero_point_before_rounding)
            q = self._final_codes(chunk, qparams, unclamped).astype(np.int64)
            clipped[a:b] = self._clipped(chunk, qparams, unclamped.astype(np.float64, copy=False), q)
            np.subtract(self.dequantize(q, qparams).astype(np.float64, copy=False), x64[a:b], out=error[a:b])

        if mode == "stochastic":
            work(0, flat.size)  # one random stream for the whole array, as quantize_trace draws it
        else:
            in_chunks(flat.size, work)
        return ErrorTrace(x64.reshape(xs.shape), error.reshape(xs.shape), clipped.reshape(xs.shape))

    def dequantize(self, q: object, qparams: QParams) -> np.ndarray:
        """Return (q - z) * s in this convention's float type (float32 for the frameworks).

        Codes of any integer type are taken as they are (uint8 codes with z = 200 give q − z < 0: the subtraction is
        done in the float type, never in the codes' own type, which would wrap).
        """
        codes = np.asarray(q)
        if codes.dtype.kind not in "iu":
            codes = codes.astype(np.int64)
        dtype = F32 if self.arithmetic == "float32" else np.float64
        scale = dtype(qparams.scale)
        # Codes of at most 16 bits and such a z are exact in float32 (and so is q − z, below 2^17): subtract there,
        # with no int64 copy. Wider codes are widened to int64 first, where the difference is exact.
        in_float = codes.dtype.itemsize <= 2 and abs(qparams.zero_point) <= 1 << 16
        zero = dtype(qparams.zero_point)
        flat = codes.reshape(-1)
        out = np.empty(flat.shape, dtype=dtype)

        def work(a: int, b: int) -> None:
            if in_float:
                np.subtract(flat[a:b], zero, out=out[a:b], dtype=dtype)
            else:
                out[a:b] = flat[a:b].astype(np.int64) - qparams.zero_point  # exact: integers
            out[a:b] *= scale

        in_chunks(flat.size, work)
        return out.reshape(codes.shape)

    def fake_quantize(self, x: object, qparams: QParams) -> np.ndarray:
        """Return dequantize(quantize(x)) in one fused pass (no codes in between), same arithmetic."""
        xs = _as_float_array(x)
        flat = xs.reshape(-1)
        dtype = F32 if self.arithmetic == "float32" else np.float64
        scale, zero = dtype(qparams.scale), dtype(qparams.zero_point)
        out = np.empty(flat.shape, dtype=dtype)

        # Steps from z, clamped to the grid shifted by z:
        # clamp(round(v) + z, lo, hi) − z = clamp(round(v), lo − z, hi − z) exactly
        # (z and the grid are small integers; past 2^24 both sides clamp to the same end).
        low, high = dtype(qparams.storage_min - qparams.zero_point), dtype(qparams.storage_max - qparams.zero_point)

        def work(a: int, b: int) -> None:
            chunk, dst = flat[a:b], out[a:b]
            if self._steps_into(chunk, qparams, dst):  # five passes, written straight into the output
                np.clip(dst, low, high, out=dst)
                dst += 0.0  # −0.0 (a small negative value rounded) becomes +0.0, as (q − z)·s gives
                dst *= scale
                _check_nan(dst)
                return
            _check_nan(chunk)
            _, unclamped = self._round(chunk, qparams, self.tie_rule, 0, False, scratch=True)
            codes = self._final_codes(chunk, qparams, unclamped, scratch=True).astype(dtype, copy=False)
            np.subtract(codes, zero, out=dst)  # exact: small integers
            dst *= scale

        in_chunks(flat.size, work)
        return out.reshape(xs.shape)

    def _steps_into(self, x: np.ndarray, qparams: QParams, out: np.ndarray) -> bool:
        """Write round(x / s), the steps from z, into ``out`` and return True, where the convention rounds that way.

        The fast path of fake_quantize; a convention whose arithmetic differs returns False (the general path runs).
        """
        return False
