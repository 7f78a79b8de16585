"""GPTQ step by step, from a finished ``GPTQResult``: one column's round and update, and the running output error.

Both are recomputed from what the sweep kept (U, the scaled errors, each column's value before rounding), not
re-run: the update column i made to a later column j is −e_i · U_ij, the same product the sweep applied.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from quantviz.algorithms.gptq import GPTQResult


class ColumnStep(NamedTuple):
    """Step ``step`` of the sweep: input ``column`` before and after rounding, its error, and the update it made.

    ``update`` is (rows, later columns): what this column's error added to each column rounded after it
    (``later`` gives those columns' indices, in the order they were rounded).
    """

    step: int
    column: int
    before: np.ndarray
    rounded: np.ndarray
    error: np.ndarray
    update: np.ndarray
    later: np.ndarray


class RunningError(NamedTuple):
    """After ``steps[k]`` columns are rounded: layer-output MSE of GPTQ's weight (rounded columns plus updated
    columns still to go) and of round-to-nearest's (rounded columns plus original ones)."""

    steps: np.ndarray
    gptq: np.ndarray
    rtn: np.ndarray


def column_step(result: GPTQResult, step: int) -> ColumnStep:
    """The ``step``-th column GPTQ rounded (0-based, in its order), and the update its error made.

    >>> from quantviz.algorithms import gptq, toy_layer
    >>> layer = toy_layer(8, 32, 64, seed=2)
    >>> s = column_step(gptq(layer.weight, layer.inputs, bits=3), 0)
    >>> s.update.shape, bool(np.allclose(s.before - s.rounded, s.error))
    ((8, 31), True)
    """
    cols = result.order.size
    if not (isinstance(step, int | np.integer) and 0 <= step < cols):
        raise ValueError(f"step must be an integer in 0..{cols - 1}, got {step!r}")
    pos = int(step)
    d = result.hinv[pos, pos]
    scaled = result.errors[:, pos].astype(np.float64)
    before = result.pre_rounding[:, pos].astype(np.float64)
    return ColumnStep(
        step=pos,
        column=int(result.order[pos]),
        before=before,
        rounded=before - scaled * d,
        error=scaled * d,
        update=-np.outer(scaled, result.hinv[pos, pos + 1 :]),
        later=result.order[pos + 1 :],
    )


def running_error(result: GPTQResult, weight: np.ndarray, inputs: np.ndarray, points: int = 16) -> RunningError:
    """The layer-output MSE of GPTQ and of round-to-nearest after k columns, at ``points`` + 1 values of k.

    At k = all columns they are the two final output errors.

    >>> from quantviz.algorithms import gptq, toy_layer
    >>> layer = toy_layer(8, 32, 64, seed=2)
    >>> r = gptq(layer.weight, layer.inputs, bits=3)
    >>> e = running_error(r, layer.weight, layer.inputs, points=4)
    >>> e.steps.tolist(), bool(np.isclose(e.gptq[-1], r.output_mse)), bool(np.isclose(e.rtn[-1], r.rtn_output_mse))
    ([0, 8, 16, 24, 32], True, True)
    """
    order = result.order
    cols = order.size
    w = np.asarray(weight, np.float64)[:, order]
    x = np.asarray(inputs, np.float64)[:, order]
    c = x.T @ x / x.shape[0]
    deq = result.dequantized.astype(np.float64)[:, order]
    rtn = result.rtn_dequantized.astype(np.float64)[:, order]
    err = result.errors.astype(np.float64)
    dead = np.diag(result.hessian)[order] == 0
    start = np.where(dead, 0.0, w)
    steps = np.unique(np.linspace(0, cols, points + 1).round().astype(int))
    g, r = [], []
    for k in steps:
        tail = start[:, k:] - err[:, :k] @ result.hinv[:k, k:] if k < cols else np.zeros((w.shape[0], 0))
        dg = np.concatenate([deq[:, :k], tail], axis=1) - w
        dr = np.concatenate([rtn[:, :k], w[:, k:]], axis=1) - w
        g.append(float(np.sum((dg @ c) * dg) / w.shape[0]))
        r.append(float(np.sum((dr @ c) * dr) / w.shape[0]))
    return RunningError(steps=steps, gptq=np.array(g), rtn=np.array(r))
