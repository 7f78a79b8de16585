"""One module per framework convention: how each chooses (s, z) and how it rounds.

Each convention reproduces its framework bit for bit, float32 arithmetic and ties included
(checked against the real frameworks by ``tests/oracles``). The plain-word ``rules`` of each
object are what the app shows next to its numbers.

Where is PyTorch's rule? In ``pytorch.py``; likewise ``textbook``, ``tflite`` (default and
reference kernels), ``onnxruntime`` and ``tf_fake_quant``. ``base`` holds the shared
:class:`Convention` and :class:`QuantizeTrace`, ``kernels`` the chunked, threaded loop the
fast paths run in, ``registry`` the name -> convention table, and ``options`` which option
combinations each convention supports.

May import: numpy and the math at the top of ``quantviz`` (errors, grid, qparams, rounding).
Never the teaching text (``quantviz.teach``), the app (``quantviz.app``), streamlit, plotly or pandas.
"""

from quantviz.conventions.base import F32, F32_EPS, F32_TINY, ChoiceTrace, Convention, ErrorTrace, QuantizeTrace
from quantviz.conventions.onnxruntime import OnnxRuntime, onnxruntime_grid
from quantviz.conventions.options import OPTION_NAMES, ResolvedOptions, resolve_options
from quantviz.conventions.pytorch import PyTorch
from quantviz.conventions.registry import CONVENTIONS, get_convention
from quantviz.conventions.textbook import Textbook
from quantviz.conventions.tf_fake_quant import TFFakeQuant, TFNudge, tf_nudge
from quantviz.conventions.tflite import TFLITE_NEAR_ZERO, TFLite, TFLiteReference

__all__ = [
    "CONVENTIONS",
    "F32",
    "F32_EPS",
    "F32_TINY",
    "OPTION_NAMES",
    "TFLITE_NEAR_ZERO",
    "ChoiceTrace",
    "Convention",
    "ErrorTrace",
    "OnnxRuntime",
    "PyTorch",
    "QuantizeTrace",
    "ResolvedOptions",
    "TFFakeQuant",
    "TFLite",
    "TFLiteReference",
    "TFNudge",
    "Textbook",
    "get_convention",
    "onnxruntime_grid",
    "resolve_options",
    "tf_nudge",
]
