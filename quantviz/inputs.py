"""Parse pasted text and uploaded files into numbers, with messages a student understands.

Nothing here evaluates or unpickles what the user sends: text is split and read with
``float``; ``.npy`` files are read with ``allow_pickle=False`` and only plain numeric
dtypes are accepted.
"""

from __future__ import annotations

import io
import re
import unicodedata
from typing import NamedTuple

import numpy as np

from quantviz.errors import ParseError

MAX_VALUES = 10_000_000
MAX_TEXT_CHARS = 50_000_000
MAX_UPLOAD_BYTES = 100 * 1024 * 1024

_SEPARATORS = re.compile(r"[\s,;]+")
_BRACKETS = str.maketrans({c: " " for c in "[](){}"})
# Minus-like characters people paste from documents and spreadsheets.
_MINUS = str.maketrans({"\u2212": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\ufe63": "-", "\uff0d": "-"})
_TEXT_SUFFIXES = (".csv", ".txt", ".tsv")


class Values(NamedTuple):
    """Numbers read from the user, flattened, with what the app should tell about them.

    Attributes
    ----------
    values : ndarray of float64
        The finite values, in order.
    shape : tuple of int
        The shape of the original array (``(n,)`` for text).
    notes : tuple of str
        Things worth telling the user (a skipped header, dropped NaN values...).
    """

    values: np.ndarray
    shape: tuple[int, ...]
    notes: tuple[str, ...] = ()


def _shorten(token: str, limit: int = 30) -> str:
    return token if len(token) <= limit else token[: limit - 1] + "…"


def _tokens(text: str) -> list[str]:
    text = unicodedata.normalize("NFKC", text).translate(_MINUS).translate(_BRACKETS)
    return [t for t in _SEPARATORS.split(text) if t]


def _describe_nonfinite(values: np.ndarray) -> str:
    nan = int(np.isnan(values).sum())
    pos_inf = int(np.isposinf(values).sum())
    neg_inf = int(np.isneginf(values).sum())
    first = int(np.flatnonzero(~np.isfinite(values))[0]) + 1
    parts = [f"{n} {name}" for n, name in ((nan, "NaN"), (pos_inf, "+inf"), (neg_inf, "−inf")) if n]
    return f"{' and '.join(parts)} (first at value {first})"


def _finish(values: np.ndarray, shape: tuple[int, ...], notes: list[str], drop_nonfinite: bool) -> Values:
    finite = np.isfinite(values)
    if not finite.all():
        what = _describe_nonfinite(values)
        if not drop_nonfinite:
            raise ParseError(
                f"found {what}: NaN and infinity have no place on a number line. "
                "Remove them, or tick 'ignore NaN/inf' to drop them.",
                position=int(np.flatnonzero(~finite)[0]) + 1,
            )
        values = values[finite]
        notes.append(f"dropped {what}")
        if values.size == 0:
            raise ParseError("every value was NaN or infinite: nothing is left to quantize")
    return Values(values, shape, tuple(notes))


def _as_floats(tokens: list[str]) -> np.ndarray:
    """The tokens as float64, or a ParseError naming the first one that is not a number."""
    try:
        values = np.array(tokens, dtype=np.float64)
    except (ValueError, OverflowError):
        values = None
    if values is not None and len(tokens) == values.size:
        return values
    for position, token in enumerate(tokens, start=1):
        try:
            float(token)
        except (ValueError, OverflowError):
            raise ParseError(
                f"value {position}, {_shorten(token)!r}, is not a number",
                token=token,
                position=position,
            ) from None
    raise ParseError("the text could not be read as numbers")  # pragma: no cover


def parse_values(text: str, *, drop_nonfinite: bool = False, max_values: int = MAX_VALUES) -> Values:
    """Return the numbers in pasted ``text``.

    Separators: commas, spaces, tabs, new lines and semicolons; brackets are ignored;
    scientific notation (``1e-3``) and unicode minus signs (``−2``) are understood.
    A comma always separates values, so ``1,5`` is two numbers.

    Raises
    ------
    ParseError
        With the offending token and its 1-based position, for empty text, words,
        NaN/inf (unless ``drop_nonfinite``), numbers beyond float64, or too many values.

    Examples
    --------
    >>> parse_values("[1, -2.5; 3e2]\\n\u22124").values.tolist()
    [1.0, -2.5, 300.0, -4.0]
    >>> parse_values("1, two, 3")
    Traceback (most recent call last):
    ...
    quantviz.errors.ParseError: value 2, 'two', is not a number
    """
    if not isinstance(text, str):
        raise ParseError(f"expected text, got {type(text).__name__}")
    if len(text) > MAX_TEXT_CHARS:
        raise ParseError(
            f"the text is {len(text):,} characters long; paste at most {MAX_TEXT_CHARS:,} or upload a .npy file instead"
        )
    tokens = _tokens(text)
    if not tokens:
        raise ParseError("no numbers found: paste values separated by commas, spaces or new lines")
    if len(tokens) > max_values:
        raise ParseError(f"found {len(tokens):,} values; at most {max_values:,} are accepted")
    values = _as_floats(tokens)
    for index in np.flatnonzero(np.isinf(values)):
        token = tokens[index]
        if "inf" not in token.lower():  # a finite literal that overflowed, such as 1e400
            raise ParseError(
                f"value {index + 1}, {_shorten(token)!r}, is beyond the largest float64 (about 1.8e308)",
                token=token,
                position=int(index) + 1,
            )
    return _finish(values, (values.size,), [], drop_nonfinite)


def load_upload(name: str, data: bytes, *, drop_nonfinite: bool = False, max_bytes: int = MAX_UPLOAD_BYTES) -> Values:
    """Return the numbers in an uploaded ``.npy``, ``.csv``, ``.tsv`` or ``.txt`` file.

    ``.npy`` files must hold a plain numeric array (bool, integer or float, any shape);
    pickled objects, complex, structured and string arrays are refused. Text files are
    read like pasted text; a first line that is not numeric is taken as a header and skipped.

    Examples
    --------
    >>> load_upload("w.csv", b"a,b\\n1,2\\n3,4\\n").values.tolist()
    [1.0, 2.0, 3.0, 4.0]
    >>> buf = io.BytesIO(); np.save(buf, np.arange(6, dtype=np.int8).reshape(2, 3))
    >>> v = load_upload("w.npy", buf.getvalue()); v.shape, v.values.tolist()
    ((2, 3), [0.0, 1.0, 2.0, 3.0, 4.0, 5.0])
    """
    lower = str(name).lower()
    if len(data) > max_bytes:
        raise ParseError(f"{name} is {len(data) / 2**20:.1f} MB; the limit is {max_bytes / 2**20:.0f} MB")
    if not data:
        raise ParseError(f"{name} is empty")
    if lower.endswith(".npy"):
        return _load_npy(name, data, drop_nonfinite)
    if lower.endswith(_TEXT_SUFFIXES):
        return _load_text(name, data, drop_nonfinite)
    raise ParseError(f"{name}: only .npy, .csv, .tsv and .txt files are accepted")


def _load_npy(name: str, data: bytes, drop_nonfinite: bool) -> Values:
    try:
        arr = np.load(io.BytesIO(data), allow_pickle=False)
    except ValueError as exc:
        if "allow_pickle" in str(exc) or "Object arrays" in str(exc):
            raise ParseError(
                f"{name} holds Python objects (a pickle), which are never loaded here; save a numeric array"
            ) from None
        raise ParseError(f"{name} is not a valid .npy file ({exc})") from None
    except Exception as exc:
        raise ParseError(f"{name} is not a valid .npy file ({type(exc).__name__})") from None
    _check_numeric_array(name, arr)
    notes = [] if arr.dtype.kind == "f" else [f"converted {arr.dtype} values to floats"]
    if arr.ndim == 0:
        notes.append("the file holds a single number (a 0-d array)")
    values = arr.astype(np.float64).ravel()
    return _finish(values, tuple(int(n) for n in arr.shape), notes, drop_nonfinite)


def _check_numeric_array(name: str, arr: object) -> None:
    """Refuse what np.load returned unless it is one non-empty real numeric array of at most MAX_VALUES values."""
    if not isinstance(arr, np.ndarray):
        raise ParseError(f"{name} is an .npz archive or not an array; save a single array with np.save")
    if arr.dtype.names is not None:
        raise ParseError(f"{name} holds a structured array with fields {arr.dtype.names}; save one numeric field")
    if arr.dtype.kind == "c":
        raise ParseError(
            f"{name} holds complex numbers ({arr.dtype}); quantize the real and imaginary parts separately"
        )
    if arr.dtype.kind not in "biuf":
        raise ParseError(f"{name} holds {arr.dtype} values, not numbers")
    if arr.size == 0:
        raise ParseError(f"{name} holds an empty array (shape {arr.shape})")
    if arr.size > MAX_VALUES:
        raise ParseError(f"{name} holds {arr.size:,} values; at most {MAX_VALUES:,} are accepted")


def _load_text(name: str, data: bytes, drop_nonfinite: bool) -> Values:
    if b"\x00" in data[:4096]:
        raise ParseError(f"{name} is not a text file (it contains binary data); upload a .npy file for arrays")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ParseError(
            f"{name} is not UTF-8 text (bad byte at offset {exc.start}); save it as UTF-8 CSV", position=exc.start
        ) from None
    try:
        return parse_values(text, drop_nonfinite=drop_nonfinite)
    except ParseError as first_error:
        head, _, rest = text.partition("\n")
        if not rest.strip() or first_error.position is None:
            raise
        try:
            parsed = parse_values(rest, drop_nonfinite=drop_nonfinite)
        except ParseError:
            raise first_error from None
        header = _shorten(head.strip(), 40)
        return Values(parsed.values, parsed.shape, (f"skipped the header line {header!r}", *parsed.notes))


# ----------------------------------------------------------------------------- link parameters
MAX_PARAM_CHARS = 200


def _param_text(raw: object) -> str:
    if not isinstance(raw, str):
        raise ParseError(f"expected text, got {type(raw).__name__}")
    if len(raw) > MAX_PARAM_CHARS:
        raise ParseError(f"is {len(raw):,} characters long (at most {MAX_PARAM_CHARS})")
    return raw.strip()


def parse_float_param(raw: str) -> float:
    """Return a link parameter as a finite float (unicode minus accepted).

    >>> parse_float_param("-2.5e3"), parse_float_param("\u22121")
    (-2500.0, -1.0)
    >>> parse_float_param("nan")
    Traceback (most recent call last):
    ...
    quantviz.errors.ParseError: is not a finite number
    """
    text = unicodedata.normalize("NFKC", _param_text(raw)).translate(_MINUS)
    try:
        value = float(text)
    except ValueError:
        raise ParseError("is not a number") from None
    if not np.isfinite(value):
        raise ParseError("is not a finite number")
    if abs(value) > float(np.finfo(np.float32).max) / 2:
        raise ParseError("is too large (the frameworks work in float32)")
    return value


def parse_int_param(raw: str, lo: int, hi: int) -> int:
    """Return a link parameter as a whole number in [lo, hi].

    >>> parse_int_param("8", 2, 16)
    8
    >>> parse_int_param("99", 2, 16)
    Traceback (most recent call last):
    ...
    quantviz.errors.ParseError: must be a whole number from 2 to 16
    """
    text = _param_text(raw)
    try:
        value = int(text)
    except ValueError:
        raise ParseError(f"must be a whole number from {lo} to {hi}") from None
    if not lo <= value <= hi:
        raise ParseError(f"must be a whole number from {lo} to {hi}")
    return value


def parse_bool_param(raw: str) -> bool:
    """Return a link parameter as a bool: true/false, 1/0, yes/no, on/off.

    >>> parse_bool_param("True"), parse_bool_param("0")
    (True, False)
    """
    text = _param_text(raw).lower()
    if text in ("true", "1", "yes", "on"):
        return True
    if text in ("false", "0", "no", "off"):
        return False
    raise ParseError("must be true or false")


def parse_choice_param(raw: str, choices: dict[str, str]) -> str:
    """Return the key of ``choices`` (key -> label) that a link parameter names, by key or label, any case.

    >>> parse_choice_param("PyTorch", {"pytorch": "PyTorch", "textbook": "Textbook"})
    'pytorch'
    """
    text = _param_text(raw).lower()
    for key, label in choices.items():
        if text in (key.lower(), label.lower()):
            return key
    raise ParseError(f"must be one of {', '.join(choices)}")
