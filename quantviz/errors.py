"""Exceptions raised by quantviz: every one is a ``ValueError`` with a message for a student."""

from __future__ import annotations


class QuantVizError(ValueError):
    """Base class: a bad value given to quantviz, described in plain words."""


class ParseError(QuantVizError):
    """Pasted text or an uploaded file could not be read as numbers.

    Attributes
    ----------
    token : str or None
        The offending piece of text, when there is one.
    position : int or None
        1-based position of the token among the values (or the byte offset for files).
    """

    def __init__(self, message: str, *, token: str | None = None, position: int | None = None) -> None:
        super().__init__(message)
        self.token = token
        self.position = position


class RangeError(QuantVizError):
    """A real range [rmin, rmax] that cannot be quantized as asked."""


class BitsError(QuantVizError):
    """A bit width or integer grid that is not supported."""


class UnsupportedError(QuantVizError):
    """A combination of options that a convention does not support."""


class QParamsError(QuantVizError):
    """A scale or zero point that cannot describe a quantization grid."""


class ModelFileError(QuantVizError):
    """A model file that cannot be opened: refused (pickles, external data) or broken (truncated, garbage).

    The message names the file and the problem.
    """
