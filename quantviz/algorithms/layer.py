"""The toy linear layer y = x·Wᵀ the algorithms run on: seeded weights and inputs, validation, output error.

Outlier *input channels* are what make the algorithms differ from rounding: a few channels whose activations
are many times larger than the rest (as in LLM hidden states), which the layer's Hessian, AWQ's activation
magnitude and SmoothQuant's ranges all see.
"""

from __future__ import annotations

import io
from contextlib import AbstractContextManager, nullcontext
from typing import NamedTuple

import numpy as np


class ToyLayer(NamedTuple):
    """A seeded layer: ``weight`` (out, in), calibration ``inputs`` (samples, in), the ``outliers`` channels."""

    weight: np.ndarray
    inputs: np.ndarray
    outliers: np.ndarray


def toy_layer(
    out_features: int = 64,
    in_features: int = 128,
    samples: int = 256,
    outliers: int = 4,
    outlier_scale: float = 20.0,
    seed: int = 0,
) -> ToyLayer:
    """A float32 layer with ``outliers`` input channels whose activations are ``outlier_scale`` times larger.

    Weights are Gaussian with std 1/sqrt(in); inputs are Gaussian with a per-channel scale drawn in [0.5, 1.5],
    the outlier channels (chosen by the seed) multiplied by ``outlier_scale``; rows are correlated a little
    (a shared component), as real activations are.

    >>> layer = toy_layer(8, 16, 32, outliers=2, seed=1)
    >>> layer.weight.shape, layer.inputs.shape, len(layer.outliers)
    ((8, 16), (32, 16), 2)
    """
    for name, value, low in (
        ("out_features", out_features, 1),
        ("in_features", in_features, 2),
        ("samples", samples, 1),
    ):
        if not (isinstance(value, int | np.integer) and value >= low):
            raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    if not (isinstance(outliers, int | np.integer) and 0 <= outliers <= in_features):
        raise ValueError(f"outliers must be an integer in 0..in_features={in_features}, got {outliers!r}")
    if not (np.isfinite(outlier_scale) and outlier_scale > 0):
        raise ValueError(f"outlier_scale must be a positive finite number, got {outlier_scale!r}")
    rng = np.random.default_rng(seed)
    weight = rng.standard_normal((out_features, in_features)) / np.sqrt(in_features)
    inputs, chosen = toy_inputs(rng, samples, in_features, outliers, outlier_scale)
    return ToyLayer(weight=weight.astype(np.float32), inputs=inputs, outliers=chosen)


def toy_inputs(
    rng: np.random.Generator, samples: int, in_features: int, outliers: int, outlier_scale: float
) -> tuple[np.ndarray, np.ndarray]:
    """(inputs, outlier channels): the toy layer's calibration inputs drawn from ``rng`` (float32).

    >>> x, chosen = toy_inputs(np.random.default_rng(0), 4, 8, 1, 10.0)
    >>> x.shape, x.dtype, chosen.shape
    ((4, 8), dtype('float32'), (1,))
    """
    channel = rng.uniform(0.5, 1.5, in_features)
    chosen = np.sort(rng.choice(in_features, size=outliers, replace=False))
    channel[chosen] *= outlier_scale
    shared = rng.standard_normal((samples, 1)) * rng.standard_normal((1, in_features)) * 0.5
    inputs = (rng.standard_normal((samples, in_features)) + shared) * channel
    return inputs.astype(np.float32), chosen


def check_layer(weight: np.ndarray, inputs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(weight, inputs) as float arrays after checking shapes and values; ValueError names what is wrong.

    >>> check_layer(np.ones((2, 3)), np.ones((4, 2)))
    Traceback (most recent call last):
    ...
    ValueError: inputs have 2 features but the weight has in_features=3
    """
    w, x = np.asarray(weight), np.asarray(inputs)
    for name, a in (("weight", w), ("inputs", x)):
        if a.ndim != 2 or 0 in a.shape:
            raise ValueError(f"{name} must be a non-empty 2-D array, got shape {a.shape}")
        if not np.issubdtype(a.dtype, np.floating) and not np.issubdtype(a.dtype, np.integer):
            raise ValueError(f"{name} must be numeric, got dtype {a.dtype}")
        if not np.isfinite(a).all():
            raise ValueError(f"{name} contains NaN or inf ({int((~np.isfinite(a)).sum())} values)")
    if x.shape[1] != w.shape[1]:
        raise ValueError(f"inputs have {x.shape[1]} features but the weight has in_features={w.shape[1]}")
    return w, x


def output_mse(weight: np.ndarray, approx: np.ndarray, inputs: np.ndarray) -> float:
    """Mean squared error of the layer output, mean over samples and outputs of (x·(W − Ŵ)ᵀ)².

    The difference W − Ŵ is taken in float64; the product in the inputs' precision (float32 inputs: a float32
    product, relative error ~1e-6, at half the time on a 4096-wide layer); the mean in float64.

    >>> output_mse(np.eye(2), np.eye(2) * 0.5, np.array([[2.0, 0.0]]))
    0.5
    """
    x = np.asarray(inputs)
    diff = np.asarray(weight, np.float64) - np.asarray(approx, np.float64)
    if x.dtype == np.float32:
        return float(np.mean((x @ diff.T.astype(np.float32)).astype(np.float64) ** 2))
    return float(np.mean((x.astype(np.float64) @ diff.T) ** 2))


def sqnr_db(weight: np.ndarray, approx: np.ndarray, inputs: np.ndarray) -> float:
    """Layer-output SQNR in dB, 10·log10(‖x·Wᵀ‖² / ‖x·Wᵀ − x·Ŵᵀ‖²); inf when the output is exact.

    >>> round(sqnr_db(np.eye(2), np.eye(2) * 0.9, np.array([[1.0, 1.0]])), 3)
    20.0
    """
    x = np.asarray(inputs, np.float64)
    signal = float(np.mean((x @ np.asarray(weight, np.float64).T) ** 2))
    noise = output_mse(weight, approx, inputs)
    return float("inf") if noise == 0 else 10.0 * float(np.log10(signal / noise))


def one_blas_thread() -> AbstractContextManager:
    """A context in which BLAS runs on one thread: toy-sized matrices are many times faster so on a busy machine
    (threads of several sessions fighting over two cores), and no slower on an idle one.

    >>> with one_blas_thread():
    ...     float(np.ones((2, 2)) @ np.ones(2) @ np.ones(2))
    4.0
    """
    try:  # the app and tasks extras install it; the library alone runs the same numbers without it
        from threadpoolctl import threadpool_limits
    except ImportError:
        return nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


# ----------------------------------------------------------------------------- the user's own layer
MAX_FILE_ELEMENTS = 1 << 24  # a 4096 × 4096 weight: larger arrays are refused before they are read
MAX_ROWS = 256  # the page reruns a layer of at most 256 × 256 (1024 calibration rows) within a slider move
MAX_IN = 256
MAX_SAMPLES = 1024


class OwnLayer(NamedTuple):
    """A layer the algorithms can run on, and what was done to the given arrays to make it, in ``notes``.

    ``source_shape`` is the weight's shape as given; ``generated`` says whether the inputs were drawn (seeded).
    """

    weight: np.ndarray
    inputs: np.ndarray
    notes: tuple[str, ...]
    source_shape: tuple[int, ...]
    generated: bool


def read_npy(data: bytes, what: str, max_elements: int = MAX_FILE_ELEMENTS) -> np.ndarray:
    """The numeric array stored in ``.npy`` bytes; ValueError in words for anything else (nothing is unpickled).

    The header is read first, so an object array (which only pickle can store) or an array of more than
    ``max_elements`` values is refused before its data is touched.

    >>> import io
    >>> buf = io.BytesIO(); np.save(buf, np.array([[1.0, 2.0]]))
    >>> read_npy(buf.getvalue(), "weight").tolist()
    [[1.0, 2.0]]
    >>> buf = io.BytesIO(); np.save(buf, np.array([{"a": 1}], dtype=object))
    >>> read_npy(buf.getvalue(), "weight")
    Traceback (most recent call last):
    ...
    ValueError: weight: an object array (pickled Python objects) is refused unread; save a numeric array
    """
    f = io.BytesIO(data)
    try:
        version = np.lib.format.read_magic(f)
        header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, _, dtype = header(f)
    except (ValueError, OSError, EOFError, SyntaxError) as exc:
        raise ValueError(f"{what}: not a .npy file ({exc})") from None
    if dtype.hasobject:
        raise ValueError(f"{what}: an object array (pickled Python objects) is refused unread; save a numeric array")
    if not (np.issubdtype(dtype, np.floating) or np.issubdtype(dtype, np.integer)):
        raise ValueError(f"{what}: dtype {dtype} is not a real number type (float or integer)")
    size = int(np.prod(shape, dtype=np.int64))
    if size > max_elements:
        raise ValueError(f"{what}: {size:,} values in shape {shape}; at most {max_elements:,} are read")
    try:
        return np.load(io.BytesIO(data), allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise ValueError(f"{what}: the .npy data cannot be read ({exc})") from None


def as_matrix(weight: np.ndarray, what: str = "weight") -> tuple[np.ndarray, str]:
    """(a 2-D weight, a sentence or ""): 2-D as given, a 4-D convolution kernel reshaped to (out, the rest).

    >>> w, note = as_matrix(np.zeros((4, 3, 3, 3)))
    >>> w.shape, note
    ((4, 27), 'The 4-D convolution weight (4, 3, 3, 3) is reshaped to (4, 27): each output kernel as one row.')
    """
    w = np.asarray(weight)
    if w.ndim == 4:
        flat = w.reshape(w.shape[0], -1)
        return flat, (
            f"The 4-D convolution weight {w.shape} is reshaped to {flat.shape}: each output kernel as one row."
        )
    if w.ndim != 2:
        raise ValueError(
            f"{what} must be 2-D (out_features, in_features) or a 4-D convolution weight, got shape {w.shape}"
        )
    return w, ""


def _finite(a: np.ndarray, what: str) -> np.ndarray:
    if 0 in a.shape:
        raise ValueError(f"{what} is empty (shape {a.shape})")
    bad = int((~np.isfinite(a)).sum())
    if bad:
        raise ValueError(f"{what} contains NaN or inf ({bad:,} values)")
    return a.astype(np.float32)


def _crop(w: np.ndarray, x: np.ndarray | None) -> tuple[np.ndarray, np.ndarray | None, list[str]]:
    """The first MAX_ROWS rows and MAX_IN columns (the inputs' same columns, their first MAX_SAMPLES rows)."""
    notes = []
    rows, cols = w.shape
    if rows > MAX_ROWS or cols > MAX_IN:
        w = w[:MAX_ROWS, :MAX_IN]
        notes.append(
            f"Cropped from {rows} × {cols} to its first {w.shape[0]} rows and first {w.shape[1]} input columns "
            f"(the page reruns at most {MAX_ROWS} × {MAX_IN} interactively); the inputs keep the same columns."
        )
    if x is not None and x.shape[0] > MAX_SAMPLES:
        notes.append(f"The first {MAX_SAMPLES} of the {x.shape[0]} input rows are used.")
    return w, None if x is None else x[:MAX_SAMPLES, : w.shape[1]], notes


def _pad(w: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, str]:
    """Zero input columns up to a power of two (a Hadamard rotation's size); y = x·Wᵀ is unchanged by them."""
    cols = w.shape[1]
    width = 1 << max(1, (cols - 1).bit_length())
    if width == cols:
        return w, x, ""
    extra = width - cols
    w = np.pad(w, ((0, 0), (0, extra)))
    x = np.pad(x, ((0, 0), (0, extra)))
    return (
        w,
        x,
        (
            f"{extra} zero input columns are appended ({cols} → {width}, a power of two, as a Hadamard rotation "
            "needs): a zero column changes no output, and the grids include 0 already."
        ),
    )


def own_layer(
    weight: np.ndarray,
    inputs: np.ndarray | None = None,
    *,
    samples: int = 256,
    outliers: int = 0,
    outlier_scale: float = 20.0,
    seed: int = 0,
) -> OwnLayer:
    """A layer from a given weight (and inputs): checked, cropped to the page's size, padded to a power of two.

    Without ``inputs``, ``samples`` rows are drawn as the toy layer's (``seed``, ``outliers`` channels
    ``outlier_scale`` times larger). Every change made is said in ``notes``.

    >>> r = own_layer(np.ones((3, 5)), seed=1, samples=8)
    >>> r.weight.shape, r.inputs.shape, r.generated, len(r.notes)
    ((3, 8), (8, 8), True, 2)
    >>> own_layer(np.ones((3, 5)), np.ones((8, 4)))
    Traceback (most recent call last):
    ...
    ValueError: inputs have 4 features but the weight has in_features=5
    """
    w, reshaped = as_matrix(weight)
    w = _finite(w, "weight")
    x = None
    if inputs is not None:
        x = np.asarray(inputs)
        if x.ndim != 2:
            raise ValueError(f"inputs must be 2-D (samples, in_features), got shape {x.shape}")
        if x.shape[1] != w.shape[1]:
            raise ValueError(f"inputs have {x.shape[1]} features but the weight has in_features={w.shape[1]}")
        x = _finite(x, "inputs")
    w, x, notes = _crop(w, x)
    if x is None:
        k = min(int(outliers), w.shape[1])
        x, _ = toy_inputs(np.random.default_rng(seed), int(samples), w.shape[1], k, float(outlier_scale))
        notes.append(f"No inputs given: {int(samples)} rows drawn with seed {seed} ({k} outlier channels).")
    w, x, padded = _pad(w, x)
    return OwnLayer(
        weight=w,
        inputs=x,
        notes=tuple(n for n in (reshaped, *notes, padded) if n),
        source_shape=tuple(np.shape(weight)),
        generated=inputs is None,
    )
