"""The app's figures for notebooks: plain values in, the same ``plotly.graph_objects.Figure`` the app shows out.

Each function computes with quantviz (``choose_qparams``, ``quantize``, the convention's traces, the block formats)
and hands the result to the builder in :mod:`quantviz.app.figures` that the app's page calls; nothing here draws
on its own. It needs plotly (``pip install 'quantviz[app]'``), so ``import quantviz`` does not import this module:
``import quantviz.plot`` does.

>>> from quantviz import plot
>>> fig = plot.number_line(-1000, 1000, bits=8)
>>> fig.layout.title.text
'uint8: real 0 is stored as code 128'
"""

from __future__ import annotations

import numpy as np

try:
    import plotly.graph_objects as go
except ModuleNotFoundError as exc:  # the library alone (pip install quantviz) has no plotly
    raise ModuleNotFoundError(
        "quantviz.plot draws with plotly, which is not installed: pip install 'quantviz[app]'", name="plotly"
    ) from exc

from quantviz.app import figures
from quantviz.blocks import FORMATS, fake_quantize
from quantviz.conventions import get_convention
from quantviz.grid import MAX_BITS, MIN_BITS, grid_label
from quantviz.metrics import sqnr_by_bits, transfer_curve
from quantviz.qparams import QParams
from quantviz.quantize import choose_qparams, quantize

__all__ = ["block_format", "error_histogram", "number_line", "sqnr_against_bits", "staircase"]

STEPS_AROUND = 8  # the Number line page's zoom: ±8 steps around the probe
MARGIN = 0.15  # and its whole-range view: 15 % of the span past each end, where clipping shows
WHOLE_BLOCKS = 1024  # the Block formats page pads to whole blocks of every format (superblocks included)
SQNR_TITLE = "Each bit buys about 6.02 dB, until clipping or the data says otherwise"


def _qparams(
    rmin: float,
    rmax: float,
    bits: int,
    signed: bool,
    symmetric: bool,
    narrow_range: bool,
    reduce_range: bool,
    convention: str,
) -> QParams:
    """The QParams ``convention`` chooses, as every figure here starts from."""
    return choose_qparams(
        rmin,
        rmax,
        bits=bits,
        signed=signed,
        symmetric=symmetric,
        narrow_range=narrow_range,
        reduce_range=reduce_range,
        convention=convention,
    )


def _values(values: object, name: str = "values") -> np.ndarray:
    """``values`` as a flat float64 array; ValueError if it is empty or not finite."""
    arr = np.asarray(values, dtype=np.float64).reshape(-1)
    if arr.size == 0:
        raise ValueError(f"{name} is empty: give at least one value")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} holds {float(arr[~np.isfinite(arr)][0])!r}: only finite values can be quantized")
    return arr


def _data_range(x: np.ndarray, rmin: float | None, rmax: float | None) -> tuple[float, float]:
    """The range asked for, or the data's own min and max (min-max calibration) where it is not given."""
    return float(x.min()) if rmin is None else float(rmin), float(x.max()) if rmax is None else float(rmax)


def number_line(
    rmin: float,
    rmax: float,
    *,
    bits: int = 8,
    signed: bool = False,
    symmetric: bool = False,
    narrow_range: bool = False,
    reduce_range: bool = False,
    convention: str = "textbook",
    rounding: str | None = None,
    values: object = None,
    title: str | None = None,
) -> go.Figure:
    """Return the real number line over the integer grid, each marked value drawn over its code.

    The figure of *Your values* (and of the landing page where it draws the line with plotly): the representable
    range shaded, real 0 tied to the zero point.

    Parameters
    ----------
    rmin, rmax : float
        The real range the convention chooses s and z for.
    bits, signed, symmetric, narrow_range, reduce_range, convention :
        As in :func:`quantviz.choose_qparams`.
    rounding : str, optional
        As in :func:`staircase`.
    values : array-like, optional
        Values to mark; by default rmin, 0 and rmax, as the app's landing page marks them.
    title : str, optional
        By default, which code real 0 is stored as.

    Examples
    --------
    >>> fig = number_line(-1, 1, bits=8, signed=True, convention="tflite", values=[0.5])
    >>> fig.layout.title.text
    'int8: real 0 is stored as code -1'
    >>> number_line(1, 0)
    Traceback (most recent call last):
    ...
    quantviz.errors.RangeError: range minimum 1.0 is larger than range maximum 0.0; swap them
    """
    qp = _qparams(rmin, rmax, bits, signed, symmetric, narrow_range, reduce_range, convention)
    shown = np.array([rmin, 0.0, rmax], dtype=np.float64) if values is None else _values(values)
    codes = quantize(shown, qp, convention=convention, rounding=rounding)
    if title is None:
        title = f"{grid_label(bits, signed=signed)}: real 0 is stored as code {qp.zero_point}"
    return figures.number_line_figure(
        qp, chosen_range=(float(rmin), float(rmax)), values=shown, codes=codes, title=title
    )


def staircase(
    rmin: float,
    rmax: float,
    *,
    bits: int = 8,
    signed: bool = False,
    symmetric: bool = False,
    narrow_range: bool = False,
    reduce_range: bool = False,
    convention: str = "textbook",
    rounding: str | None = None,
    around: float | None = None,
) -> go.Figure:
    """Return the staircase (x against its dequantized value) with the rounding error below it.

    The Number line page's second chart: with ``around`` the window is ±8 steps around that value (the page's
    default zoom, where single steps show), without it the whole range and 15 % of it past each end.

    Parameters
    ----------
    rmin, rmax, bits, signed, symmetric, narrow_range, reduce_range, convention :
        As in :func:`number_line`.
    rounding : str, optional
        One of ``quantviz.ROUNDING_MODES`` (the textbook convention only); the convention's own rule by default.
    around : float, optional
        Centre of a window of ±8 steps.

    Examples
    --------
    >>> fig = staircase(-1, 1, bits=3)
    >>> [trace.name for trace in fig.data][:2]
    ['no quantization (y = x)', 'dequantized x']
    >>> staircase(-1, 1, around=float("nan"))
    Traceback (most recent call last):
    ...
    ValueError: around holds nan: only finite values can be quantized
    """
    qp = _qparams(rmin, rmax, bits, signed, symmetric, narrow_range, reduce_range, convention)
    if around is not None:
        centre = float(_values(around, "around")[0])
        lo, hi = centre - STEPS_AROUND * qp.scale, centre + STEPS_AROUND * qp.scale
    else:
        span = max(qp.real_max - qp.real_min, 1e-12)
        lo, hi = qp.real_min - MARGIN * span, qp.real_max + MARGIN * span
    curve = transfer_curve(qp, lo, hi, convention=convention, rounding=rounding)
    return figures.transfer_figure(curve, qp, chosen_range=(float(rmin), float(rmax)))


def error_histogram(
    values: object,
    rmin: float | None = None,
    rmax: float | None = None,
    *,
    bits: int = 8,
    signed: bool = False,
    symmetric: bool = False,
    narrow_range: bool = False,
    reduce_range: bool = False,
    convention: str = "textbook",
    rounding: str | None = None,
) -> go.Figure:
    """Return the histogram of the quantization error of ``values``: rounding inside the range, clipping apart.

    The Rounding error page's second chart, with the Uniform(−s/2, s/2) density drawn over the rounding part.

    Parameters
    ----------
    values : array-like
        The values to quantize (finite).
    rmin, rmax : float, optional
        The range to quantize with; by default the values' own min and max.
    bits, signed, symmetric, narrow_range, reduce_range, convention, rounding :
        As in :func:`staircase`.

    Examples
    --------
    >>> x = np.linspace(-3, 3, 10_001)
    >>> fig = error_histogram(x, -2, 2, bits=4)
    >>> sorted(trace.name for trace in fig.data)
    ['Uniform(−s/2, s/2): 1/s', 'clipped values', 'measured density']
    >>> error_histogram([])
    Traceback (most recent call last):
    ...
    ValueError: values is empty: give at least one value
    """
    x = _values(values)
    lo, hi = _data_range(x, rmin, rmax)
    qp = _qparams(lo, hi, bits, signed, symmetric, narrow_range, reduce_range, convention)
    trace = get_convention(convention).error_trace(x, qp, rounding=rounding)
    return figures.error_histogram_figure(trace.error[~trace.clipped], trace.error[trace.clipped], qp.scale)


def sqnr_against_bits(
    values: object,
    rmin: float | None = None,
    rmax: float | None = None,
    *,
    bits: range | list[int] = range(MIN_BITS, MAX_BITS + 1),
    signed: bool = False,
    symmetric: bool = False,
    convention: str = "textbook",
) -> go.Figure:
    """Return the SQNR of ``values`` at each bit width, measured, beside the 6.02 dB-per-bit model.

    The Rounding error page's third chart (the page measures the first 200,000 values; this measures all given).
    Bit widths the convention does not support are left out.

    Examples
    --------
    >>> fig = sqnr_against_bits(np.linspace(-1, 1, 1001), bits=[4, 8])
    >>> fig.data[1].name, [round(float(y), 1) for y in fig.data[1].y]
    ('measured', [23.5, 48.1])
    """
    x = _values(values)
    lo, hi = _data_range(x, rmin, rmax)
    curve = sqnr_by_bits(x, lo, hi, bits_list=bits, signed=signed, symmetric=symmetric, convention=convention)
    return figures.sqnr_figure(curve, title=SQNR_TITLE)


def block_format(values: object, fmt: str = "Q4_0", *, blocks: int = 1) -> go.Figure:
    """Return the error of every value of the first ``blocks`` blocks of ``values`` stored in block format ``fmt``.

    The Block formats page's chart: each block's values coded against its own scale, the blocks apart.

    Parameters
    ----------
    values : array-like
        At least ``blocks`` whole blocks of ``fmt`` (zeros pad the rest of the format's largest unit).
    fmt : str
        One of ``quantviz.blocks.FORMATS`` (Q4_0, Q8_0, NF4, MXFP4, NVFP4, ...).
    blocks : int
        How many consecutive blocks to show.

    Examples
    --------
    >>> x = np.linspace(-1, 1, 64)
    >>> fig = block_format(x, "Q8_0", blocks=2)
    >>> [len(trace.x) for trace in fig.data], fig.layout.title.text
    ([32, 32], 'Error of every value, block by block')
    >>> block_format(x, "Q9_9")
    Traceback (most recent call last):
    ...
    ValueError: fmt must be one of ..., got 'Q9_9'
    """
    if fmt not in FORMATS:
        raise ValueError(f"fmt must be one of {', '.join(FORMATS)}, got {fmt!r}")
    if isinstance(blocks, bool) or not isinstance(blocks, int | np.integer) or blocks < 1:
        raise ValueError(f"blocks must be a whole number of at least 1, got {blocks!r}")
    size = FORMATS[fmt].block_size
    x = _values(values).astype(np.float32)
    if x.size < size * blocks:
        raise ValueError(f"values holds {x.size} values; {blocks} block(s) of {fmt} need {size * blocks}")
    shown = x[: size * blocks]
    padded = np.concatenate([shown, np.zeros((-shown.size) % WHOLE_BLOCKS, np.float32)])
    errors = fake_quantize(padded, fmt)[: shown.size].astype(np.float64) - shown
    return figures.block_error_figure(shown, errors, size)
