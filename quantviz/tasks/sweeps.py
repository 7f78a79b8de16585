"""Sweeps over the schemes: every weight scheme on one task, and one layer at a time (sensitivity)."""

from __future__ import annotations

from typing import NamedTuple

from quantviz.tasks import networks
from quantviz.tasks.evaluate import TaskResult, evaluate
from quantviz.tasks.schemes import parse_weights, weight_scheme_names

# The language model's page sweep: one or two schemes of each family (each evaluation there costs ~0.3 s, not 0.03).
CORE_SCHEMES = (
    "int8-per-channel",
    "int4-per-tensor",
    "int4-per-channel",
    "int4-g32",
    "int2-g32",
    "Q8_0",
    "Q4_0",
    "Q4_1",
    "Q5_0",
    "NF4",
    "MXFP4",
    "NVFP4",
)


class SchemePoint(NamedTuple):
    """One weight scheme's cost on a task: the chart's point."""

    weights: str
    family: str  # "integer, per tensor", …, or "block format"
    bits_per_weight: float
    weight_sqnr_db: float
    value: float  # the task metric
    kl_divergence: float
    top1_agreement: float


def _family(name: str) -> str:
    scheme = parse_weights(name)
    if scheme.kind == "block":
        return "block format"
    return {"tensor": "integer, per tensor", "channel": "integer, per channel"}.get(
        scheme.granularity, "integer, per group"
    )


def point(result: TaskResult) -> SchemePoint:
    """Return the chart point of one evaluation."""
    return SchemePoint(
        weights=result.weights,
        family=_family(result.weights),
        bits_per_weight=result.bits_per_weight,
        weight_sqnr_db=result.weight_sqnr_db,
        value=result.value,
        kl_divergence=result.kl_divergence,
        top1_agreement=result.top1_agreement,
    )


def scheme_sweep(
    task: str,
    activations: str | None = None,
    algorithm: str = "rtn",
    schemes: tuple[str, ...] | None = None,
    calibration: str = "minmax",
) -> tuple[SchemePoint, ...]:
    """Return one :class:`SchemePoint` per weight scheme (all of them by default), in scheme order.

    >>> pts = scheme_sweep("digits", schemes=("int4-per-tensor", "int4-per-channel"))
    >>> [p.family for p in pts], pts[0].weight_sqnr_db < pts[1].weight_sqnr_db
    (['integer, per tensor', 'integer, per channel'], True)
    """
    names = weight_scheme_names() if schemes is None else schemes
    return tuple(point(evaluate(task, name, activations, algorithm, calibration=calibration)) for name in names)


class LayerCost(NamedTuple):
    """What quantizing one layer alone (the rest float) costs."""

    layer: str
    weights_count: int
    value: float
    kl_divergence: float
    top1_agreement: float
    weight_sqnr_db: float


def sensitivity(
    task: str, weights: str, activations: str | None = None, algorithm: str = "rtn", calibration: str = "minmax"
) -> tuple[LayerCost, ...]:
    """Return the cost of quantizing each linear layer of ``task`` alone, in network order.

    >>> [c.layer for c in sensitivity("digits", "int2-per-channel")]
    ['fc1', 'fc2', 'fc3']
    """
    net = networks.load(task) if task in ("digits", "tinylm") else None
    if net is None:
        evaluate(task, weights)  # raises the ValueError naming the tasks
    costs = []
    for layer in net.layers:
        r = evaluate(task, weights, activations, algorithm, layers=(layer,), calibration=calibration)
        costs.append(
            LayerCost(
                layer=layer,
                weights_count=int(net.params[f"{layer}.weight"].size),
                value=r.value,
                kl_divergence=r.kl_divergence,
                top1_agreement=r.top1_agreement,
                weight_sqnr_db=r.weight_sqnr_db,
            )
        )
    return tuple(costs)
