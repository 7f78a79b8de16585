"""Small real tasks that ship with the project: what a quantization costs in accuracy and perplexity.

``evaluate(task, weights, activations=None, algorithm="rtn")`` quantizes the digits MLP (accuracy on
scikit-learn's bundled handwritten digits) or the tiny byte-level language model (perplexity, KL divergence and
top-token agreement against float on held-out numpy docstrings) and returns a :class:`TaskResult`. Numpy only; the
weights and data are committed npz files made by ``scripts/train_digits.py`` and ``scripts/train_tinylm.py``.
"""

from quantviz.tasks.evaluate import (
    ALGORITHMS,
    CALIBRATORS,
    METRICS,
    TASKS,
    Algorithm,
    Calibrator,
    TaskResult,
    algorithm_supports,
    evaluate,
    float_logits,
    quantized_weights,
    register_algorithm,
    static_qparams,
)
from quantviz.tasks.networks import load
from quantviz.tasks.schemes import ACTIVATIONS, int_scheme_names, parse_weights, weight_scheme_names

__all__ = [
    "ACTIVATIONS",
    "ALGORITHMS",
    "CALIBRATORS",
    "METRICS",
    "TASKS",
    "Algorithm",
    "Calibrator",
    "TaskResult",
    "algorithm_supports",
    "evaluate",
    "float_logits",
    "int_scheme_names",
    "load",
    "parse_weights",
    "quantized_weights",
    "register_algorithm",
    "static_qparams",
    "weight_scheme_names",
]
