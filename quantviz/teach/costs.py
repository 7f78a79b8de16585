"""The words of "What it costs": sentences built from the task evaluations, omitted where they do not apply."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from quantviz.tasks.evaluate import TaskResult
from quantviz.tasks.sweeps import LayerCost, SchemePoint
from quantviz.teach.fmt import fmt

SQNR_MARGIN_DB = 0.5  # two schemes' SQNRs closer than this are not called different
PERPLEXITY_MARGIN = 0.002  # nor two perplexities within 0.2 % (accuracy: one test image is already a difference)


def metric_text(metric: str, value: float) -> str:
    """Return a metric value as the page writes it: accuracy in percent, perplexity with 4 digits.

    >>> metric_text("accuracy", 0.97556), metric_text("perplexity", 3.04567)
    ('97.56 %', '3.046')
    """
    return f"{100 * value:.2f} %" if metric == "accuracy" else fmt(value, 4)


def metric_texts(metric: str, a: float, b: float) -> tuple[str, str]:
    """Return two metric values written with as many digits as it takes to tell them apart (up to 8).

    >>> metric_texts("perplexity", 6.68712, 6.68749)
    ('6.6871', '6.6875')
    """
    if metric == "accuracy":
        return metric_text(metric, a), metric_text(metric, b)
    for digits in range(4, 9):
        ta, tb = fmt(a, digits), fmt(b, digits)
        if ta != tb:
            break
    return ta, tb


def better(metric: str, a: float, b: float) -> bool:
    """Return whether metric value ``a`` is strictly better than ``b`` (higher accuracy, lower perplexity).

    >>> better("accuracy", 0.9, 0.8), better("perplexity", 3.0, 2.0)
    (True, False)
    """
    return a > b if metric == "accuracy" else a < b


def verdict(result: TaskResult) -> str:
    """Return what the quantization costs, in one or two sentences.

    >>> from quantviz.tasks import evaluate
    >>> verdict(evaluate("digits", "int8-per-channel"))[:60]
    'With int8-per-channel weights (8.33 bits per weight) the net'
    """
    m, v, f = result.metric, result.value, result.float_value
    acts = "" if result.activations is None else f" and {result.activations} activations"
    if result.activations == "int8-per-tensor" and result.calibration != "minmax":
        acts += f" (ranges by {result.calibration})"
    where = "" if len(result.layers) > 1 else f" (only {result.layers[0]} quantized)"
    head = f"With {result.weights} weights ({fmt(result.bits_per_weight, 3)} bits per weight){acts}{where} the network"
    if m == "accuracy":
        if v == f:
            text = f"{head} keeps exactly its float accuracy, {metric_text(m, v)}"
        else:
            change = "loses" if v < f else "gains"
            text = (
                f"{head} {change} {fmt(abs(v - f) * 100, 3)} points of accuracy: {metric_text(m, v)} against "
                f"{metric_text(m, f)} in float"
            )
        changed = 1 - result.top1_agreement
        tail = (
            f"; {fmt(changed * 100, 3)} % of the test images change their answer."
            if changed > 0
            else "; every test image keeps its float answer."
        )
        return text + tail
    change = (v - f) / f
    text = (
        f"{head} has perplexity {metric_text(m, v)} against {metric_text(m, f)} in float "
        f"({'+' if change >= 0 else '−'}{fmt(abs(change) * 100, 3)} %)"
    )
    return (
        text + f"; the mean KL divergence from the float model is {fmt(result.kl_divergence, 3)} nats and the "
        f"top next byte is the same at {fmt(result.top1_agreement * 100, 4)} % of positions."
    )


class Disagreement(NamedTuple):
    """Schemes ranked one way by weight SQNR and the other way by the task."""

    pairs: int  # pairs whose SQNRs differ by more than the margin
    reversed_pairs: int  # of those, pairs the task metric ranks strictly the other way
    example: tuple[SchemePoint, SchemePoint] | None  # (higher SQNR, better metric) with the largest SQNR gap


def clearly_better(metric: str, a: float, b: float) -> bool:
    """Return whether ``a`` beats ``b`` by more than the noise margin (any accuracy gain; perplexity by 0.2 %).

    >>> clearly_better("perplexity", 6.6871, 6.6873), clearly_better("perplexity", 6.5, 6.7)
    (False, True)
    """
    if metric == "accuracy":
        return better(metric, a, b)
    return better(metric, a, b) and abs(a - b) > PERPLEXITY_MARGIN * max(abs(a), abs(b))


def disagreement(points: Sequence[SchemePoint], metric: str) -> Disagreement:
    """Return how often weight SQNR and the task metric rank two schemes in opposite orders."""
    pairs = reversed_pairs = 0
    example, gap = None, -1.0
    for i, a in enumerate(points):
        for b in points[i + 1 :]:
            hi, lo = (a, b) if a.weight_sqnr_db > b.weight_sqnr_db else (b, a)
            d = hi.weight_sqnr_db - lo.weight_sqnr_db
            if not np.isfinite(d) or d <= SQNR_MARGIN_DB:
                continue
            pairs += 1
            if clearly_better(metric, lo.value, hi.value):
                reversed_pairs += 1
                if d > gap:
                    example, gap = (hi, lo), d
    return Disagreement(pairs=pairs, reversed_pairs=reversed_pairs, example=example)


def disagreement_sentence(points: Sequence[SchemePoint], metric: str) -> str:
    """Return whether SQNR and the task rank the schemes alike, with the most striking counter-example.

    >>> p = [SchemePoint("a", "x", 4, 20.0, 0.9, 0, 1), SchemePoint("b", "x", 4, 18.0, 0.95, 0, 1)]
    >>> disagreement_sentence(p, "accuracy")[:52]
    'Of 1 pairs of schemes whose weight SQNRs differ by m'
    """
    d = disagreement(points, metric)
    if d.pairs == 0:
        return ""
    text = (
        f"Of {d.pairs} pairs of schemes whose weight SQNRs differ by more than {fmt(SQNR_MARGIN_DB)} dB, "
        f"{d.reversed_pairs} are ranked clearly the other way by {metric}"
        + ("." if metric == "accuracy" else f" (by more than {fmt(PERPLEXITY_MARGIN * 100)} %).")
    )
    if d.example is None:
        return text + f" Here SQNR predicts {metric} perfectly."
    hi, lo = d.example
    lo_text, hi_text = metric_texts(metric, lo.value, hi.value)
    return (
        text + f" The widest: {lo.weights} has the lower weight SQNR ({fmt(lo.weight_sqnr_db, 3)} dB against "
        f"{hi.weights}'s {fmt(hi.weight_sqnr_db, 3)} dB), yet the better {metric} ({lo_text} against {hi_text})."
    )


def sensitivity_sentence(costs: Sequence[LayerCost], metric: str) -> str:
    """Return which layer hurts most when quantized alone (by KL divergence from float) and which least.

    >>> c = [LayerCost("fc1", 10, 0.5, 1.0, 0.5, 3.0), LayerCost("fc2", 10, 0.9, 0.1, 0.9, 3.0)]
    >>> print(sensitivity_sentence(c, "accuracy"))  # doctest: +NORMALIZE_WHITESPACE
    Quantized alone, the rest float, fc1 hurts most (KL divergence 1 nats, accuracy 50.00 %)
    and fc2 least (KL divergence 0.1 nats, accuracy 90.00 %).
    """
    if len(costs) < 2:
        return ""
    worst = max(costs, key=lambda c: c.kl_divergence)
    least = min(costs, key=lambda c: c.kl_divergence)
    if worst.kl_divergence == least.kl_divergence:
        return (
            "Quantized alone, every layer moves the output by the same KL divergence, "
            f"{fmt(worst.kl_divergence, 3)} nats."
        )
    return (
        f"Quantized alone, the rest float, {worst.layer} hurts most (KL divergence {fmt(worst.kl_divergence, 3)} nats, "
        f"{metric} {metric_text(metric, worst.value)}) and {least.layer} least "
        f"(KL divergence {fmt(least.kl_divergence, 3)} nats, {metric} {metric_text(metric, least.value)})."
    )


class Mistakes(NamedTuple):
    """The test images whose answer changed: newly wrong, newly right."""

    now_wrong: np.ndarray  # indices the float network got right and the quantized one gets wrong
    now_right: np.ndarray


def mistakes(result: TaskResult, labels: np.ndarray) -> Mistakes:
    """Return the digits test images the quantization broke, and those it fixed."""
    if result.predictions is None or result.float_predictions is None:
        raise ValueError(f"{result.task} has no per-image predictions")
    ok_float = result.float_predictions == labels
    ok_now = result.predictions == labels
    return Mistakes(now_wrong=np.flatnonzero(ok_float & ~ok_now), now_right=np.flatnonzero(~ok_float & ok_now))


def mistakes_sentence(found: Mistakes) -> str:
    """Return how many images the quantization broke and fixed.

    >>> mistakes_sentence(Mistakes(np.array([3, 9]), np.array([], int)))
    'Quantized, the network now gets 2 test images wrong that it got right in float.'
    """
    wrong, right = found.now_wrong.size, found.now_right.size
    if wrong == 0 and right == 0:
        return "No test image changes between right and wrong."
    parts = []
    if wrong:
        parts.append(f"now gets {wrong} test image{'s' if wrong != 1 else ''} wrong that it got right in float")
    if right:
        parts.append(f"{'and ' if wrong else 'now '}gets {right} right that it got wrong")
    return "Quantized, the network " + ", ".join(parts) + "."
