"""How to round, not only where: GPTQ, AWQ, SmoothQuant and Hadamard rotations on one linear layer y = x·Wᵀ.

Each algorithm is one pure numpy function returning a frozen result built by keyword, exact against
llm-compressor (``tests/oracles/make_algorithm_cases.py``): GPTQ's codes and AWQ's chosen ratio are those
llm-compressor computes, SmoothQuant's scales equal to float32 rounding.
"""

from quantviz.algorithms.gptq import GPTQResult, gptq
from quantviz.algorithms.layer import ToyLayer, output_mse, sqnr_db, toy_layer

__all__ = ["GPTQResult", "ToyLayer", "gptq", "output_mse", "sqnr_db", "toy_layer"]
