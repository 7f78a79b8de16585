"""QuantViz: exact affine quantization, r = s * (q - z), in pure numpy.

The top level is the math and its public API: ``grid`` (integer ranges), ``qparams`` (the
QParams type), ``rounding``, ``quantize`` (choose_qparams -> quantize -> dequantize),
``metrics``, ``calibrate``, ``intmath``, ``granularity``, ``formats``, ``inputs``, ``samples``,
``errors``. Above it, each in its own subpackage: ``conventions`` (one module per framework),
``teach`` (explanations, examples, comparison, exercises) and ``app`` (Streamlit glue and plotly
figures). Data flows upwards only; ``import quantviz`` loads neither streamlit, plotly nor pandas.
"""

from quantviz.conventions import CONVENTIONS, Convention, QuantizeTrace, get_convention, tf_nudge
from quantviz.errors import BitsError, ParseError, QParamsError, QuantVizError, RangeError, UnsupportedError
from quantviz.grid import GridOptions, grid_label, int_range, to_binary
from quantviz.qparams import QParams, validate_range
from quantviz.quantize import (
    choose_qparams,
    dequantize,
    fake_quantize,
    fake_quantize_range,
    quantize,
    quantize_trace,
    ste_mask,
)
from quantviz.rounding import ROUNDING_MODES, Rounding

__all__ = [
    "CONVENTIONS",
    "ROUNDING_MODES",
    "BitsError",
    "Convention",
    "GridOptions",
    "ParseError",
    "QParams",
    "QParamsError",
    "QuantVizError",
    "QuantizeTrace",
    "RangeError",
    "Rounding",
    "UnsupportedError",
    "choose_qparams",
    "dequantize",
    "fake_quantize",
    "fake_quantize_range",
    "get_convention",
    "grid_label",
    "int_range",
    "quantize",
    "quantize_trace",
    "ste_mask",
    "tf_nudge",
    "to_binary",
    "validate_range",
]
