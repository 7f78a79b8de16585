"""How to round, not only where: GPTQ, AWQ, SmoothQuant and Hadamard rotations on one linear layer y = x·Wᵀ.

Each algorithm is one pure numpy function returning a frozen result built by keyword, checked against
llm-compressor (``tests/oracles/make_algorithm_cases.py``): GPTQ's codes and AWQ's chosen ratio are those
llm-compressor computes, SmoothQuant's scales equal to float32 rounding. ``steps`` replays GPTQ column by
column; ``compare`` puts every method on one SQNR table.
"""

from quantviz.algorithms.awq import AWQResult, awq
from quantviz.algorithms.compare import METHODS, CompareRow, compare
from quantviz.algorithms.gptq import GPTQResult, gptq
from quantviz.algorithms.layer import ToyLayer, output_mse, sqnr_db, toy_layer
from quantviz.algorithms.rotation import RotationErrors, RotationResult, hadamard, rotate, rotation_errors
from quantviz.algorithms.smoothquant import SmoothQuantResult, W8A8Error, alpha_sweep, smoothquant, w8a8_error
from quantviz.algorithms.steps import ColumnStep, RunningError, column_step, running_error

__all__ = [
    "METHODS",
    "AWQResult",
    "ColumnStep",
    "CompareRow",
    "GPTQResult",
    "RotationErrors",
    "RotationResult",
    "RunningError",
    "SmoothQuantResult",
    "ToyLayer",
    "W8A8Error",
    "alpha_sweep",
    "awq",
    "column_step",
    "compare",
    "gptq",
    "hadamard",
    "output_mse",
    "rotate",
    "rotation_errors",
    "running_error",
    "smoothquant",
    "sqnr_db",
    "toy_layer",
    "w8a8_error",
]
