"""Hypothesis properties of the quantization math, for every convention."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import quantviz as qv
from quantviz.grid import STORAGE_DTYPES
from tests.strategies import ranges, setups, values_for

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(setups(), st.data())
def test_codes_stay_in_storage_grid(setup, data) -> None:
    name, _, qp = setup
    x = data.draw(values_for(qp))
    q = qv.quantize(x, qp, convention=name)
    # stored as frameworks store them: the smallest integer type holding the stored grid (one byte for sub-byte)
    assert q.dtype == qp.code_dtype
    assert np.iinfo(q.dtype).min <= qp.storage_min and qp.storage_max <= np.iinfo(q.dtype).max
    smaller = [d for d in STORAGE_DTYPES if d.kind == q.dtype.kind and d.itemsize < q.dtype.itemsize]
    assert not any(np.iinfo(d).min <= qp.storage_min and qp.storage_max <= np.iinfo(d).max for d in smaller)
    assert (q >= qp.storage_min).all() and (q <= qp.storage_max).all()


@SETTINGS
@given(setups(), st.data())
def test_quantize_is_monotone(setup, data) -> None:
    name, _, qp = setup
    x = np.sort(data.draw(values_for(qp)))
    q = qv.quantize(x, qp, convention=name).astype(np.int64)  # widened: np.diff of uint8 codes would wrap
    assert (np.diff(q) >= 0).all()


@SETTINGS
@given(setups())
def test_zero_round_trips_exactly(setup) -> None:
    name, _, qp = setup
    conv = qv.get_convention(name)
    if not conv.widens_to_include_zero and not qp.real_min <= 0 <= qp.real_max:
        return
    q = qv.quantize([0.0], qp, convention=name)
    assert q[0] == qp.zero_point
    assert qv.dequantize(q, qp, convention=name)[0] == 0.0


@SETTINGS
@given(setups(), st.data())
def test_error_within_half_step_inside_range(setup, data) -> None:
    name, _, qp = setup
    x = data.draw(values_for(qp))
    inside = x[(x >= qp.real_min) & (x <= qp.real_max)]
    if inside.size == 0:
        return
    deq = qv.dequantize(qv.quantize(inside, qp, convention=name), qp, convention=name).astype(np.float64)
    # float32 conventions: half a step plus float32 rounding of input, product and output
    slack = 1e-6 * max(abs(qp.real_min), abs(qp.real_max)) + 1e-12
    assert (np.abs(deq - inside) <= qp.scale / 2 + slack).all()


@pytest.mark.parametrize("name", sorted(qv.CONVENTIONS))
def test_dequantize_widens_before_subtracting(name: str) -> None:
    # uint8 codes below a large z: q − z in uint8 would wrap (0 − 200 = 56); it must be −200 steps.
    qp = qv.QParams(scale=0.5, zero_point=200, qmin=0, qmax=255)
    q = np.array([0, 200, 255], dtype=np.uint8)
    assert qv.dequantize(q, qp, convention=name).tolist() == [-100.0, 0.0, 27.5]
    # int8 codes above a negative z, and int16 codes: −128 − 100 and 32767 + 32768 leave their own types
    q8 = np.array([-128, 127], dtype=np.int8)
    assert qv.dequantize(q8, qv.QParams(1.0, 100, -128, 127), convention=name).tolist() == [-228.0, 27.0]
    q16 = np.array([32767], dtype=np.int16)
    assert qv.dequantize(q16, qv.QParams(1.0, -32768, -32768, 32767), convention=name).tolist() == [65535.0]
    codes = qv.quantize([-1e9, 1e9], qp, convention=name)
    assert codes.dtype == np.uint8 and qv.dequantize(codes, qp, convention=name).tolist() == [-100.0, 27.5]


@SETTINGS
@given(setups())
def test_grid_points_round_trip(setup) -> None:
    name, _, qp = setup
    codes = np.unique(np.linspace(qp.qmin, qp.qmax, num=min(qp.levels, 200)).round().astype(np.int64))
    real = qv.dequantize(codes, qp, convention=name)
    assert np.array_equal(qv.quantize(real, qp, convention=name), codes)


@SETTINGS
@given(setups(), st.data())
def test_fake_quantize_equals_dequantized_codes_inside_grid(setup, data) -> None:
    name, _, qp = setup
    if name == "pytorch":  # fake-quant clamps to [qmin, qmax], quantize_per_tensor to the storage type
        return
    x = data.draw(values_for(qp))
    fq = qv.fake_quantize(x, qp, convention=name)
    assert np.array_equal(fq, qv.dequantize(qv.quantize(x, qp, convention=name), qp, convention=name))


@SETTINGS
@given(ranges(), st.sampled_from([2, 4, 8, 16]), st.booleans(), st.booleans())
def test_textbook_range_contains_zero_and_z_in_grid(rng, bits, signed, symmetric) -> None:
    lo, hi = rng
    qp = qv.choose_qparams(lo, hi, bits=bits, signed=signed, symmetric=symmetric)
    assert qp.qmin <= qp.zero_point <= qp.qmax
    assert qp.rmin <= 0 <= qp.rmax
    if symmetric:  # the textbook symmetric scale never clips [-absmax, absmax]
        assert qp.real_min <= qp.rmin + 1e-9 * abs(qp.rmin) and qp.real_max >= qp.rmax - 1e-9 * abs(qp.rmax)


@SETTINGS
@given(
    st.lists(st.floats(min_value=-1e3, max_value=1e3, allow_nan=False), min_size=1, max_size=50),
    st.sampled_from(list(qv.ROUNDING_MODES)),
)
def test_rounding_modes_are_whole_and_within_one(values, mode) -> None:
    t = np.array(values)
    from quantviz.rounding import apply_rounding

    r = apply_rounding(t, mode, seed=1)
    assert np.array_equal(r, np.round(r)) and (np.abs(r - t) <= 1).all()
    if mode.startswith("half"):
        assert (np.abs(r - t) <= 0.5).all()


@SETTINGS
@given(
    st.floats(min_value=-(2.0**100), max_value=2.0**100, allow_nan=False, width=32),
    st.floats(min_value=2.0**-100, max_value=2.0**100, width=32),
    st.integers(-32768, 65535),
)
def test_fma_float32_is_correctly_rounded(a, b, c) -> None:
    from fractions import Fraction

    from quantviz.rounding import fma_float32

    got = fma_float32(np.array([a], np.float32), np.float32(b), c)[0]
    exact = Fraction(a) * Fraction(b) + c
    if not np.isfinite(got):
        return
    # the neighbours of the result are no closer to the exact value
    for other in (np.nextafter(got, np.float32(np.inf)), np.nextafter(got, np.float32(-np.inf))):
        assert abs(Fraction(float(got)) - exact) <= abs(Fraction(float(other)) - exact)


@settings(max_examples=12, deadline=None)
@given(setups(), st.integers(0, 2**31 - 1))
def test_fast_path_equals_trace_on_large_arrays(setup, seed) -> None:
    """quantize (chunked, threaded) and quantize_trace (whole array) give the same codes, ties included."""
    name, _, qp = setup
    rng = np.random.default_rng(seed)
    n = 300_000  # more than two chunks
    k = rng.integers(qp.qmin - qp.zero_point - 2, qp.qmax - qp.zero_point + 2, n)
    x = np.where(rng.random(n) < 0.5, (k + 0.5) * qp.scale, rng.uniform(qp.real_min, qp.real_max, n))
    x = x.astype(np.float32) if seed % 2 else x
    fast = qv.quantize(x, qp, convention=name)
    assert np.array_equal(fast, qv.quantize_trace(x, qp, convention=name).q)
    deq = qv.dequantize(fast, qp, convention=name)
    assert np.array_equal(deq[:1000], qv.dequantize(fast[:1000], qp, convention=name))  # chunked = unchunked


@settings(max_examples=12, deadline=None)
@given(setups(), st.integers(0, 2**31 - 1))
def test_fused_fake_quantize_equals_dequantized_codes_on_large_arrays(setup, seed) -> None:
    """The four-pass fake_quantize (clamp in steps from z) is dequantize(quantize(x)) bit for bit.

    Ties, far values and ±inf included.
    """
    name, _, qp = setup
    if name == "pytorch":  # fake-quant clamps to [qmin, qmax], quantize_per_tensor to the storage type
        return
    rng = np.random.default_rng(seed)
    n = 300_000
    k = rng.integers(qp.storage_min - qp.zero_point - 3, qp.storage_max - qp.zero_point + 3, n)
    x = np.where(rng.random(n) < 0.5, (k + 0.5) * qp.scale, rng.uniform(qp.real_min * 1.1, qp.real_max * 1.1, n))
    x[:6] = [np.inf, -np.inf, 3e38, -3e38, 0.0, -0.0]
    x = x.astype(np.float32) if seed % 2 else x
    with np.errstate(over="ignore"):
        expected = qv.dequantize(qv.quantize(x, qp, convention=name), qp, convention=name)
    assert qv.fake_quantize(x, qp, convention=name).tobytes() == expected.tobytes()
    with pytest.raises(qv.RangeError, match="NaN"):
        qv.fake_quantize(np.array([1.0, np.nan] * 100_000), qp, convention=name)


@settings(max_examples=12, deadline=None)
@given(setups(), st.integers(0, 2**31 - 1))
def test_error_trace_equals_the_full_trace(setup, seed) -> None:
    """The chunked (x, error, clipped) of large inputs is the full trace's, element for element, ties included."""
    name, _, qp = setup
    rng = np.random.default_rng(seed)
    n = 300_000
    k = rng.integers(qp.storage_min - qp.zero_point - 3, qp.storage_max - qp.zero_point + 3, n)
    x = np.where(rng.random(n) < 0.5, (k + 0.5) * qp.scale, rng.uniform(qp.real_min * 1.1, qp.real_max * 1.1, n))
    x = x.astype(np.float32) if seed % 2 else x
    conv = qv.get_convention(name)
    light, full = conv.error_trace(x, qp), conv.quantize_trace(x, qp)
    assert light.x.tobytes() == full.x.tobytes()
    assert light.error.tobytes() == full.error.tobytes()
    assert np.array_equal(light.clipped, full.clipped)
    if name == "textbook":
        for mode in ("half_away_from_zero", "stochastic", "floor"):
            a = conv.error_trace(x, qp, rounding=mode, seed=seed, add_zero_point_before_rounding=bool(seed % 3))
            b = conv.quantize_trace(x, qp, rounding=mode, seed=seed, add_zero_point_before_rounding=bool(seed % 3))
            assert a.error.tobytes() == b.error.tobytes() and np.array_equal(a.clipped, b.clipped)


@pytest.mark.timeout(120)
def test_a_kernel_inside_a_kernel_runs_in_its_worker_and_does_not_wait_for_the_pool() -> None:
    """error_trace calls dequantize on each chunk; with chunks large enough to go parallel themselves, the inner call
    must not queue on the pool its caller occupies (that hung before the guard)."""
    from quantviz.conventions import kernels

    n = 4 * kernels.CHUNK + 12_345  # every block's chunks are past PARALLEL_FROM
    assert kernels.CHUNK >= kernels.PARALLEL_FROM
    x = np.random.default_rng(3).normal(size=n) * 600
    qp = qv.choose_qparams(-1000, 1000)
    light, full = qv.get_convention("textbook").error_trace(x, qp), qv.quantize_trace(x, qp)
    assert light.error.tobytes() == full.error.tobytes() and np.array_equal(light.clipped, full.clipped)
