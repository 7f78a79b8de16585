"""What a quantization scheme costs on a real task: ``evaluate(task, weights, activations, algorithm)``.

Digits with static int8 activations and integer weights per tensor or per channel run TFLite's integer pipeline
end to end: int8 codes from layer to layer, int8 × int8 → int32 accumulators with an int32 bias, and the
fixed-point rescale of ``quantviz.intmath`` (Q31 multiplier and shift) into the next layer's int8 codes, ReLU as
the clamp at the output zero point. Every other integer case (per-group weights, per-token activations, the
language model whose next op is a float LayerNorm, GELU or softmax) multiplies int8 codes into exact int32 sums
per group and rescales them in float, as W8A8 kernels and llama.cpp's block dot products do. Block formats
(NF4, MX, …) are decoded to float32 weights; with int8 activations those are fake-quantized (quantized and
brought back) before the float matmul.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from quantviz.intmath import FullyConnectedSteps, quantized_fully_connected
from quantviz.metrics import sqnr_db
from quantviz.qparams import QParams
from quantviz.quantize import choose_qparams
from quantviz.tasks import networks, scores
from quantviz.tasks.calibrators import CALIBRATORS, Calibrator, check_calibration  # noqa: F401  (re-exported)
from quantviz.tasks.schemes import (
    SCALE_BITS,
    QuantizedWeight,
    WeightScheme,
    integer_linear,
    parse_activations,
    parse_weights,
    quantize_per_token,
    quantize_static,
    rtn,
)

F32 = np.float32
TASKS = ("digits", "tinylm")
METRICS = {"digits": "accuracy", "tinylm": "perplexity"}


class Algorithm(NamedTuple):
    """A way to round a weight matrix: ``quantize(weight, scheme, inputs) -> QuantizedWeight``."""

    name: str
    summary: str
    quantize: Callable[[np.ndarray, WeightScheme, np.ndarray | None], QuantizedWeight]
    needs_inputs: bool  # whether it wants the layer's calibration inputs (GPTQ, AWQ do; RTN does not)


def _integer_group(scheme: WeightScheme, algorithm: str, in_features: int) -> int | None:
    """The group size GPTQ and AWQ take for an integer scheme (None: one scale per output row).

    A group as long as the row or longer is one scale per row, as round to nearest pads it.
    """
    if scheme.kind != "int" or scheme.granularity == "tensor":
        raise ValueError(
            f"{algorithm} here runs on integer schemes with a scale per channel or per group, not "
            f"{scheme.name}; choose e.g. int4-per-channel or int4-g32"
        )
    if scheme.granularity == "channel" or scheme.group_size >= in_features:
        return None
    return scheme.group_size


def _from_algorithm(
    w: np.ndarray,
    dequantized: np.ndarray,
    codes: np.ndarray,
    scales: np.ndarray,
    group: int | None,
    zero_points: np.ndarray | None,
    scheme: WeightScheme,
) -> QuantizedWeight:
    """Package an algorithm's result; codes go on to the integer path only where codes × scales is the weight."""
    out_dim, in_dim = w.shape
    scales = np.asarray(scales, np.float64).reshape(out_dim, -1)
    group_size = in_dim if group is None else group
    back = np.asarray(dequantized, F32)
    n_params = scales.size + (0 if zero_points is None else np.asarray(zero_points).size)
    bpw = scheme.bits + SCALE_BITS * n_params / w.size
    expanded = np.repeat(scales, group_size, axis=1)[:, :in_dim]
    exact = zero_points is None or not np.any(zero_points)
    if exact and np.array_equal((np.asarray(codes) * expanded).astype(F32), back):
        return QuantizedWeight(
            dequantized=back,
            codes=np.asarray(codes).astype(np.int8),
            scales=scales.astype(F32),
            group_size=group_size,
            bits_per_weight=bpw,
        )
    return QuantizedWeight(dequantized=back, codes=None, scales=None, group_size=group_size, bits_per_weight=bpw)


def _gptq(w: np.ndarray, scheme: WeightScheme, inputs: np.ndarray | None) -> QuantizedWeight:
    from quantviz import algorithms

    group = _integer_group(scheme, "GPTQ", w.shape[1])
    x = np.asarray(inputs, np.float64).reshape(-1, w.shape[1])
    r = algorithms.gptq(np.asarray(w, np.float64), x, bits=scheme.bits, group_size=group, symmetric=True)
    return _from_algorithm(w, r.dequantized, r.codes, r.scales, group, r.zero_points, scheme)


def _awq(w: np.ndarray, scheme: WeightScheme, inputs: np.ndarray | None) -> QuantizedWeight:
    from quantviz import algorithms

    group = _integer_group(scheme, "AWQ", w.shape[1])
    x = np.asarray(inputs, np.float64).reshape(-1, w.shape[1])
    r = algorithms.awq(np.asarray(w, np.float64), x, bits=scheme.bits, group_size=group)
    # the layer's effective weight has AWQ's per-input-channel scales folded back: no integer codes to hand on
    return QuantizedWeight(
        dequantized=np.asarray(r.dequantized, F32),
        codes=None,
        scales=None,
        group_size=w.shape[1] if group is None else group,
        bits_per_weight=scheme.bits
        + 2 * SCALE_BITS * (w.shape[0] * (1 if group is None else -(-w.shape[1] // group))) / w.size,
    )


def algorithm_supports(algorithm: str, weights: str) -> bool:
    """Whether ``algorithm`` can quantize to scheme ``weights`` (GPTQ and AWQ: integer, per channel or group).

    >>> algorithm_supports("gptq", "int4-g32"), algorithm_supports("gptq", "NF4"), algorithm_supports("rtn", "NF4")
    (True, False, True)
    """
    scheme = parse_weights(weights)
    return algorithm == "rtn" or (scheme.kind == "int" and scheme.granularity != "tensor")


ALGORITHMS: dict[str, Algorithm] = {
    "rtn": Algorithm(
        name="rtn",
        summary="round to nearest, each weight on its own",
        quantize=lambda w, scheme, _inputs: rtn(w, scheme),
        needs_inputs=False,
    ),
    "gptq": Algorithm(
        name="gptq",
        summary="GPTQ (quantviz.algorithms.gptq): columns in order, the error spread onto "
        "the rest with the layer's calibration Hessian; symmetric",
        quantize=_gptq,
        needs_inputs=True,
    ),
    "awq": Algorithm(
        name="awq",
        summary="AWQ (quantviz.algorithms.awq): per-input-channel scales from the "
        "calibration activations, searched over α; asymmetric, as AutoAWQ",
        quantize=_awq,
        needs_inputs=True,
    ),
}


def register_algorithm(algorithm: Algorithm) -> None:
    """Add ``algorithm`` to :data:`ALGORITHMS` (how quantviz.algorithms plugs GPTQ or AWQ in)."""
    if not isinstance(algorithm, Algorithm):
        raise ValueError(f"register an Algorithm record, got {type(algorithm).__name__}")
    ALGORITHMS[algorithm.name] = algorithm


def _check_task(task: object) -> str:
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}; choose one of {', '.join(TASKS)}")
    return str(task)


def _check_algorithm(algorithm: object) -> Algorithm:
    if algorithm not in ALGORITHMS:
        raise ValueError(f"unknown algorithm {algorithm!r}; choose one of {', '.join(ALGORITHMS)}")
    return ALGORITHMS[str(algorithm)]


@functools.lru_cache(maxsize=4)
def _calibration_inputs(task: str) -> dict[str, np.ndarray]:
    return networks.layer_inputs(task, networks.load(task).calibration)


def _tflite_qparams(x: np.ndarray, calibrator: Calibrator) -> QParams:
    lo, hi = calibrator.choose(x)
    return choose_qparams(min(lo, 0.0), max(hi, 0.0), signed=True, convention="tflite")


@functools.lru_cache(maxsize=16)
def static_qparams(task: str, calibration: str = "minmax") -> dict[str, QParams]:
    """Return the int8 qparams of every layer's input, calibrated on the task's calibration set.

    TFLite's asymmetric int8 rule on the range ``calibration`` chooses (a :data:`CALIBRATORS` name). Digits also
    gets ``"logits"``, the last layer's output.

    >>> qp = static_qparams("digits")["fc1"]; round(qp.scale * 255, 6), qp.zero_point
    (1.0, -128)
    """
    task, calibrator = _check_task(task), check_calibration(calibration)
    seen = _calibration_inputs(task)
    found = {name: _tflite_qparams(x, calibrator) for name, x in seen.items()}
    if task == "digits":
        found["logits"] = _tflite_qparams(networks.forward(task, networks.load(task).calibration), calibrator)
    return found


@functools.lru_cache(maxsize=48)
def quantized_weights(task: str, weights: str, algorithm: str = "rtn") -> dict[str, QuantizedWeight]:
    """Return every linear layer of ``task`` quantized to scheme ``weights`` by ``algorithm``, by layer name.

    >>> qw = quantized_weights("digits", "int4-per-channel"); qw["fc1"].codes.shape, int(abs(qw["fc1"].codes).max())
    ((128, 64), 7)
    """
    task, scheme, algo = _check_task(task), parse_weights(weights), _check_algorithm(algorithm)
    net = networks.load(task)
    inputs = _calibration_inputs(task) if algo.needs_inputs else {}
    return {name: algo.quantize(net.params[f"{name}.weight"], scheme, inputs.get(name)) for name in net.layers}


@functools.lru_cache(maxsize=4)
def float_logits(task: str) -> np.ndarray:
    """Return the float32 network's logits on the task's test split.

    >>> float_logits("digits").shape
    (450, 10)
    """
    task = _check_task(task)
    return networks.forward(task, networks.load(task).inputs)


def _linear(
    task: str, chosen: dict[str, QuantizedWeight], activations: str | None, calibration: str = "minmax"
) -> networks.Linear:
    params = networks.load(task).params
    base = networks.float_linear(params)
    qparams = static_qparams(task, calibration) if activations == "int8-per-tensor" else {}

    def linear(name: str, x: np.ndarray) -> np.ndarray:
        qw = chosen.get(name)
        if qw is None:
            return base(name, x)
        bias = params.get(f"{name}.bias")
        if activations is None:
            y = x @ qw.dequantized.T
        else:
            qp = qparams.get(name)
            acts = quantize_per_token(x) if qp is None else quantize_static(x, qp.scale, qp.zero_point)
            if qw.codes is not None:
                return integer_linear(acts, qw, bias)
            y = ((acts.codes - acts.zero_points) * acts.scales).astype(F32) @ qw.dequantized.T
        return y if bias is None else y + bias

    return linear


class DigitsTrace(NamedTuple):
    """The digits network's integer pipeline: the codes of every quantized tensor and each layer's steps."""

    input_qparams: QParams
    input_codes: np.ndarray  # int8 codes of the images
    steps: dict[str, FullyConnectedSteps]  # per layer on the integer path (accumulators, multipliers, output)
    output_qparams: dict[str, QParams]  # per layer on the integer path
    bias_int32: dict[str, np.ndarray]
    logits: np.ndarray  # float32, dequantized where the last layer is integer


def _integer_ready(qw: QuantizedWeight | None) -> bool:
    return qw is not None and qw.codes is not None and qw.scales is not None and qw.scales.shape[1] == 1


def digits_integer_forward(
    chosen: dict[str, QuantizedWeight], images: np.ndarray, calibration: str = "minmax"
) -> DigitsTrace:
    """Return the digits network run with static int8 activations, integer end to end where the weights allow.

    Layers in ``chosen`` with integer weights per tensor or per channel run TFLite's FULLY_CONNECTED
    (``quantviz.intmath.quantized_fully_connected``) and hand int8 codes on; others run :func:`integer_linear` or
    float, and the next integer layer quantizes their output with its calibrated qparams.
    """
    net = networks.load("digits")
    qparams = static_qparams("digits", calibration)
    linear = _linear("digits", chosen, "int8-per-tensor", calibration)
    x = np.asarray(images, dtype=F32)
    first = qparams["fc1"]
    input_codes = quantize_static(x, first.scale, first.zero_point).codes
    codes, codes_qp = input_codes, first
    steps, outputs, biases = {}, {}, {}
    for i, name in enumerate(net.layers):
        last = i == len(net.layers) - 1
        qw = chosen.get(name)
        if _integer_ready(qw):
            in_qp = qparams[name]
            if codes is None or codes_qp != in_qp:
                codes = quantize_static(x, in_qp.scale, in_qp.zero_point).codes
            out_qp = qparams["logits" if last else net.layers[i + 1]]
            w_scales = qw.scales[:, 0]
            bias_scale = (F32(in_qp.scale) * w_scales).astype(np.float64)
            bias = np.rint(net.params[f"{name}.bias"].astype(np.float64) / np.where(bias_scale > 0, bias_scale, 1.0))
            biases[name] = bias.astype(np.int64)
            s = quantized_fully_connected(codes, in_qp, qw.codes, w_scales, biases[name], out_qp)
            out = s.output if last else np.maximum(s.output, out_qp.zero_point)  # fused ReLU: clamp at real 0
            steps[name] = s._replace(output=out)
            outputs[name] = out_qp
            codes, codes_qp = out, out_qp
            x = (F32(out_qp.scale) * (out - out_qp.zero_point)).astype(F32)
        else:
            y = linear(name, x)
            x = y if last else np.maximum(y, F32(0))
            codes, codes_qp = None, None
    return DigitsTrace(
        input_qparams=first, input_codes=input_codes, steps=steps, output_qparams=outputs, bias_int32=biases, logits=x
    )


@dataclass(frozen=True, eq=False)
class TaskResult:
    """What one quantization costs on one task, beside the float network."""

    task: str
    weights: str
    activations: str | None
    algorithm: str
    calibration: str  # how static int8 activation ranges were chosen (unused otherwise)
    layers: tuple[str, ...]  # the layers quantized (the rest stay float)
    metric: str  # "accuracy" (digits, a fraction) or "perplexity" (tinylm)
    value: float
    float_value: float
    kl_divergence: float  # mean KL(float ‖ quantized), nats (over 10 classes for digits)
    top1_agreement: float  # fraction of predictions equal to the float network's
    weight_sqnr_db: float  # SQNR of the quantized layers' weights, all together
    bits_per_weight: float  # codes plus scale overhead, averaged over the quantized layers' weights
    predictions: np.ndarray | None  # digits: the quantized network's class per test image
    float_predictions: np.ndarray | None


def _weight_figures(net, chosen: dict[str, QuantizedWeight], layers: tuple[str, ...]) -> tuple[float, float]:
    """The weight SQNR (dB) over the chosen layers together, and their bits per weight, weighted by size."""
    originals = [net.params[f"{n}.weight"].astype(np.float64) for n in layers]
    signal = sum(float((w**2).sum()) for w in originals)
    noise = sum(float(((w - chosen[n].dequantized) ** 2).sum()) for w, n in zip(originals, layers, strict=True))
    sizes = [w.size for w in originals]
    bpw = sum(chosen[n].bits_per_weight * s for n, s in zip(layers, sizes, strict=True)) / sum(sizes)
    return sqnr_db(signal, noise), bpw


def evaluate(
    task: str,
    weights: str,
    activations: str | None = None,
    algorithm: str = "rtn",
    *,
    layers: tuple[str, ...] | None = None,
    calibration: str = "minmax",
) -> TaskResult:
    """Return a :class:`TaskResult`: ``task`` with ``weights`` (and ``activations``) quantized, against float.

    ``layers`` limits quantization to those layers (one at a time gives a sensitivity sweep); all by default.
    ``calibration`` chooses the static int8 activations' ranges (a :data:`CALIBRATORS` name).

    >>> r = evaluate("digits", "int8-per-channel", "int8-per-tensor")
    >>> r.metric, r.float_value > 0.97, abs(r.value - r.float_value) < 0.02
    ('accuracy', True, True)
    >>> evaluate("digits", "int3-per-tensor")
    Traceback (most recent call last):
    ...
    ValueError: unknown weight scheme 'int3-per-tensor'; choose one of int8-per-tensor, int8-per-channel, ...
    """
    task = _check_task(task)
    scheme = parse_weights(weights)
    activations = parse_activations(activations)
    _check_algorithm(algorithm)
    check_calibration(calibration)
    net = networks.load(task)
    chosen_layers = net.layers if layers is None else tuple(layers)
    unknown = [n for n in chosen_layers if n not in net.layers]
    if unknown or not chosen_layers:
        raise ValueError(f"unknown layers {unknown or chosen_layers!r}; choose among {', '.join(net.layers)}")
    everything = quantized_weights(task, scheme.name, algorithm)
    chosen = {name: everything[name] for name in chosen_layers}
    if task == "digits" and activations == "int8-per-tensor":
        logits = digits_integer_forward(chosen, net.inputs, calibration).logits
    else:
        logits = networks.forward(task, net.inputs, _linear(task, chosen, activations, calibration))
    got = scores.compare_logits(logits, float_logits(task), net.labels, classes=task == "digits")
    weight_sqnr, bpw = _weight_figures(net, chosen, chosen_layers)
    return TaskResult(
        task=task,
        weights=scheme.name,
        activations=activations,
        algorithm=algorithm,
        calibration=calibration,
        layers=chosen_layers,
        metric=METRICS[task],
        value=got.value,
        float_value=got.float_value,
        kl_divergence=got.kl_divergence,
        top1_agreement=got.top1_agreement,
        weight_sqnr_db=weight_sqnr,
        bits_per_weight=bpw,
        predictions=got.predictions,
        float_predictions=got.float_predictions,
    )
