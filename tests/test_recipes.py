"""Each convention's recipe computes exactly what the convention computes: (s, z) and every code, ties included.

The recipes are the data causes are found with (quantviz.teach.causes); if a recipe drifted from its convention,
a "why" found by swapping steps would be about a computation no framework does.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import quantviz as qv
from quantviz.conventions.recipe import STEPS, run_recipe
from tests.strategies import ranges

OPTION_SETS = [
    dict(bits=b, signed=s, symmetric=y, narrow_range=n, reduce_range=r)
    for b, s, y, n, r in itertools.product((2, 4, 8, 16), (False, True), (False, True), (False, True), (False, True))
]


def supported(name: str) -> list[dict]:
    conv = qv.get_convention(name)
    return [o for o in OPTION_SETS if not conv.unsupported_reason(**o)]


def probes(qp: qv.QParams, seed: int) -> np.ndarray:
    """Values around the grid: random, exact ties (k + 0.5)·s, their float32 neighbours, the ends and beyond."""
    rng = np.random.default_rng(seed)
    k = rng.integers(qp.storage_min - qp.zero_point - 2, qp.storage_max - qp.zero_point + 3, 12)
    ties = (k + 0.5) * qp.scale
    near = np.concatenate(
        [
            np.nextafter(ties.astype(np.float32), np.float32(np.inf)),
            np.nextafter(ties.astype(np.float32), np.float32(-np.inf)),
        ]
    ).astype(np.float64)
    span = qp.real_max - qp.real_min
    rand = rng.uniform(qp.real_min - 0.2 * span, qp.real_max + 0.2 * span, 12)
    return np.concatenate([ties, near, rand, [0.0, qp.real_min, qp.real_max, qp.rmin or 0.0, qp.rmax or 0.0]])


def assert_recipe_is_convention(name: str, options: dict, lo: float, hi: float, seed: int = 0, **quant) -> None:
    conv = qv.get_convention(name)
    try:
        qp = conv.choose_qparams(lo, hi, **options)
    except ValueError:
        with pytest.raises(ValueError):
            run_recipe(conv.recipe(**options, **quant), lo, hi)
        return
    recipe = conv.recipe(**options, **quant)
    found = run_recipe(recipe, lo, hi)
    assert (found.scale, found.zero_point) == (qp.scale, qp.zero_point), (name, options, lo, hi)
    xs = probes(qp, seed)
    codes = conv.quantize(xs, qp, **quant)
    mine = [run_recipe(recipe, lo, hi, float(x)).code for x in xs]
    bad = [(float(x), int(c), m) for x, c, m in zip(xs, codes, mine, strict=True) if int(c) != m]
    assert not bad, (name, options, lo, hi, bad[:5])


@pytest.mark.parametrize("name", list(qv.CONVENTIONS))
def test_recipe_equals_convention_on_named_ranges(name: str) -> None:
    named = [
        (-1000, 1000),
        (-1, 1),
        (0, 6),
        (250, 1000),
        (-1000, -250),
        (1, 2),
        (0, 1e-7),
        (-0.5, 3),
        (3, 3),
        (0, 0),
        (-2, 6),
        (-1e-30, 1e-30),
        (0.1, 0.7),
        (-127.5, 127.5),
        (-128, 127),
    ]
    for options in supported(name):
        for lo, hi in named:
            assert_recipe_is_convention(name, options, lo, hi)


@settings(max_examples=150, deadline=None)
@given(name=st.sampled_from(list(qv.CONVENTIONS)), data=st.data(), rng=ranges(), seed=st.integers(0, 2**16))
def test_recipe_equals_convention_on_random_ranges(name: str, data, rng, seed: int) -> None:
    options = data.draw(st.sampled_from(supported(name)))
    assert_recipe_is_convention(name, options, *rng, seed=seed)


@pytest.mark.parametrize("rounding", ["half_to_even", "half_away_from_zero", "half_up", "floor", "ceil", "toward_zero"])
@pytest.mark.parametrize("z_first", [False, True])
def test_textbook_recipe_follows_its_rounding_and_order(rounding: str, z_first: bool) -> None:
    for lo, hi in [(-1000, 1000), (-1, 1), (0, 6), (-0.5, 3)]:
        assert_recipe_is_convention(
            "textbook", {"bits": 8}, lo, hi, rounding=rounding, add_zero_point_before_rounding=z_first
        )


def test_every_step_is_a_field_and_conventions_differ_in_many() -> None:
    recipes = [qv.get_convention(n).recipe() for n in ("textbook", "tflite", "pytorch", "onnxruntime")]
    differing = {s for a, b in itertools.combinations(recipes, 2) for s in a.differing_steps(b)}
    assert differing <= set(STEPS) and len(differing) >= 8
