"""Every convention by name: ``CONVENTIONS`` and ``get_convention``."""

from __future__ import annotations

from quantviz.conventions.base import Convention
from quantviz.conventions.onnxruntime import ONNXRUNTIME
from quantviz.conventions.pytorch import PYTORCH
from quantviz.conventions.textbook import TEXTBOOK
from quantviz.conventions.tf_fake_quant import TF_FAKE_QUANT
from quantviz.conventions.tflite import TFLITE, TFLITE_REFERENCE
from quantviz.errors import UnsupportedError

# The order is the order of the app's menus and comparison tables.
CONVENTIONS: dict[str, Convention] = {
    conv.name: conv for conv in (TEXTBOOK, TFLITE, TFLITE_REFERENCE, PYTORCH, ONNXRUNTIME, TF_FAKE_QUANT)
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
