"""Generated cases for the live rules: ranges, options and probe values per convention, ties and near-ties included.

Shared by ``tests/test_live_rules.py`` (the Python interpreter) and ``tests/browser/test_live.py`` (live.js), so
that both sides are held to the same cases. Seeded: the same cases on every run.
"""

from __future__ import annotations

from functools import cache

import numpy as np

import quantviz as qv
from quantviz.conventions.live import live_rules
from quantviz.errors import QuantVizError


def _options(key: str) -> dict:
    bits, signed, symmetric, narrow, reduce = (int(v) for v in key.split(","))
    return {
        "bits": bits,
        "signed": bool(signed),
        "symmetric": bool(symmetric),
        "narrow_range": bool(narrow),
        "reduce_range": bool(reduce),
    }


def _neighbours(x: float, rng: np.random.Generator) -> float:
    """x, or one float32 or float64 step either side of it (near-ties)."""
    kind = rng.integers(0, 5)
    if kind == 0:
        return x
    if kind in (1, 2):
        return float(np.nextafter(x, np.inf if kind == 1 else -np.inf))
    x32 = np.float32(x)
    return float(np.nextafter(x32, np.float32(np.inf if kind == 3 else -np.inf)))


def _range(rng: np.random.Generator, grid: dict) -> tuple[float, float]:
    """A range: random, or one whose zero point lands on (or next to) a tie, or a degenerate one."""
    kind = rng.integers(0, 10)
    width = float(np.float32(10.0 ** rng.uniform(-4, 4)))
    if kind <= 3:  # random, any sign
        lo = float(np.float32(rng.uniform(-1.2, 0.2) * width))
        return lo, float(np.float32(lo + width))
    if kind <= 7:  # the zero point qmin − rmin/s exactly half way between two codes
        steps = grid["qmax"] - grid["qmin"]
        k = int(rng.integers(0, max(steps, 1)))
        lo = -(k + 0.5) * width / steps
        lo = _neighbours(lo, rng) if kind >= 6 else float(np.float32(lo))
        return lo, float(np.float32(lo + width)) if rng.integers(0, 2) else lo + width
    if kind == 8:  # positive only, or negative only
        lo = float(np.float32(rng.uniform(0, 2) * width))
        return (lo, lo + width) if rng.integers(0, 2) else (-lo - width, -lo)
    return (0.0, 0.0) if rng.integers(0, 2) else (0.0, float(np.float32(width * 1e-9)))


def _probe(rng: np.random.Generator, qp: qv.QParams) -> float:
    """A probe value: random over (and past) the grid, or an exact tie k + 0.5 steps from 0, or next to one."""
    span = qp.real_max - qp.real_min
    if rng.integers(0, 3) == 0:
        return float(rng.uniform(qp.real_min - 0.2 * span, qp.real_max + 0.2 * span))
    k = int(rng.integers(qp.qmin - qp.zero_point - 2, qp.qmax - qp.zero_point + 2))
    x = (k + 0.5) * qp.scale
    if rng.integers(0, 2):
        x = float(np.float32(x))
    return _neighbours(x, rng)


@cache
def live_cases(convention: str, n: int, seed: int = 0) -> list[dict]:
    """Return n cases for ``convention``: each the choose() arguments, quantviz's answer, probes and their codes.

    A case whose settings quantviz refuses has ``"error": True`` and no probes.
    """
    rng = np.random.default_rng([seed, sum(map(ord, convention))])
    grids = live_rules(convention)["grids"]
    keys = sorted(grids)
    modes = [m for m in qv.ROUNDING_MODES if m != "stochastic"] if convention == "textbook" else [None]
    cases = []
    while len(cases) < n:
        key = keys[int(rng.integers(0, len(keys)))]
        options = _options(key)
        rmin, rmax = _range(rng, grids[key])
        rounding = modes[int(rng.integers(0, len(modes)))]
        z_first = bool(convention == "textbook" and rng.integers(0, 4) == 0)
        case = {
            "rmin": rmin,
            "rmax": rmax,
            **options,
            "convention": convention,
            "rounding": rounding,
            "z_first": z_first,
        }
        try:
            qp = qv.choose_qparams(rmin, rmax, convention=convention, **options)
        except QuantVizError:
            cases.append({**case, "error": True})
            continue
        xs = [_probe(rng, qp) for _ in range(4)]
        codes = qv.quantize(
            np.array(xs), qp, convention=convention, rounding=rounding, add_zero_point_before_rounding=z_first
        )
        cases.append(
            {
                **case,
                "error": False,
                "expect": {
                    "scale": qp.scale,
                    "zero_point": qp.zero_point,
                    "qmin": qp.qmin,
                    "qmax": qp.qmax,
                    "storage_min": qp.storage_min,
                    "storage_max": qp.storage_max,
                },
                "xs": xs,
                "codes": [int(c) for c in codes],
            }
        )
    return cases


@cache
def typed_cases(convention: str, n: int, seed: int = 1) -> list[dict]:
    """Return n cases of s and z typed by hand (as a model file stores them: no range), with probes and their codes."""
    rng = np.random.default_rng([seed, sum(map(ord, convention))])
    grids = live_rules(convention)["grids"]
    keys = sorted(grids)
    cases = []
    for _ in range(n):
        grid = grids[keys[int(rng.integers(0, len(keys)))]]
        scale = float(np.float32(10.0 ** rng.uniform(-5, 3)))
        zero = int(rng.integers(grid["qmin"], grid["qmax"] + 1))
        qp = qv.QParams(scale, zero, grid["qmin"], grid["qmax"], grid["smin"], grid["smax"])
        xs = [_probe(rng, qp) for _ in range(4)]
        codes = qv.quantize(np.array(xs), qp, convention=convention)
        cases.append(
            {
                "params": {
                    "scale": scale,
                    "zero_point": zero,
                    "qmin": qp.qmin,
                    "qmax": qp.qmax,
                    "storage_min": qp.storage_min,
                    "storage_max": qp.storage_max,
                    "rmin": None,
                    "rmax": None,
                    "convention": convention,
                    "rounding": None,
                    "z_first": False,
                },
                "xs": xs,
                "codes": [int(c) for c in codes],
            }
        )
    return cases
