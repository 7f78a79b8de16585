"""Block formats against their references: the gguf package (bytes and values) and ml_dtypes (element casts)."""

from __future__ import annotations

import math

import ml_dtypes
import numpy as np
import pytest

from quantviz import blocks
from quantviz.blocks import mx, nf4, nvfp4
from quantviz.errors import UnsupportedError

gguf = pytest.importorskip("gguf")
QT = gguf.GGMLQuantizationType


def datasets(block: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Random, tie-heavy, outlier and degenerate data, each a whole number of blocks."""
    rng = np.random.default_rng(seed)
    n = block * 512
    ties = (rng.integers(-16, 17, n) / 2).astype(np.float32)  # halves: exact ties after scaling
    grid = (rng.integers(-8, 8, n) * 0.25).astype(np.float32)
    outliers = rng.normal(size=n).astype(np.float32)
    outliers[rng.random(n) < 0.01] *= 50
    special = np.zeros(n, np.float32)
    special[block : 2 * block] = 3.0  # a constant block
    special[2 * block : 3 * block] = -rng.random(block).astype(np.float32)  # negative max
    special[3 * block] = -7.0
    special[3 * block + 1] = 7.0  # equal magnitudes, signs differ
    return {
        "normal": rng.normal(size=n).astype(np.float32),
        "ties": ties,
        "grid": grid,
        "outliers": outliers,
        "special": special,
        "tiny": (rng.normal(size=n) * 1e-3).astype(np.float32),
    }


LEGACY = {"Q8_0": QT.Q8_0, "Q4_0": QT.Q4_0, "Q4_1": QT.Q4_1, "Q5_0": QT.Q5_0, "Q5_1": QT.Q5_1, "MXFP4_GGML": QT.MXFP4}


@pytest.mark.parametrize("name", list(LEGACY))
def test_gguf_types_equal_the_gguf_package_bytes_and_values(name: str) -> None:
    for label, x in datasets(32).items():
        ours = blocks.encode(x, name)
        ref = gguf.quants.quantize(x.reshape(-1, 32 * 16), LEGACY[name]).reshape(-1)
        assert ours.tobytes() == ref.tobytes(), (name, label, int(np.flatnonzero(ours != ref)[0]))
        back = blocks.decode(ours, name, x.size)
        ref_back = gguf.quants.dequantize(ref.reshape(-1, ref.size // 16), LEGACY[name]).reshape(-1)
        assert back.view(np.int32).tolist() == ref_back.astype(np.float32).view(np.int32).tolist(), (name, label)


@pytest.mark.parametrize(("name", "size"), [("Q4_K", 144), ("Q5_K", 176), ("Q6_K", 210)])
def test_k_quants_decode_like_the_gguf_package(name: str, size: int) -> None:
    rng = np.random.default_rng(size)
    data = rng.integers(0, 256, (64, size), dtype=np.uint8)
    # finite float16 super-scales where the layout has them
    scale_at = [0, 2] if name != "Q6_K" else [208]
    for at in scale_at:
        data[:, at : at + 2] = rng.normal(size=64).astype(np.float16).view(np.uint8).reshape(-1, 2)
    ours = blocks.decode(data, name, 64 * 256)
    ref = gguf.quants.dequantize(data, getattr(QT, name)).reshape(-1).astype(np.float32)
    assert ours.view(np.int32).tolist() == ref.view(np.int32).tolist()


OCP = ["MXFP8_E4M3", "MXFP8_E5M2", "MXFP6_E3M2", "MXFP6_E2M3", "MXFP4"]


def reference_mx(x: np.ndarray, name: str) -> np.ndarray:
    """The OCP rule written plainly, one block at a time: X = floor(log2 amax) − emax; clamp; ml_dtypes cast."""
    dtype, emax, _ = mx.ELEMENTS[name]
    top = float(ml_dtypes.finfo(dtype).max)
    out = []
    for block in x.reshape(-1, 32).astype(np.float64):
        amax = float(np.abs(block).max())
        shared = math.frexp(amax)[1] - 1 - emax if amax > 0 else -127
        shared = min(max(shared, -127), 127)
        scaled = np.clip(block / 2.0**shared, -top, top).astype(np.float32).astype(dtype).astype(np.float64)
        out.append(scaled * 2.0**shared)
    return np.concatenate(out).astype(np.float32)


@pytest.mark.parametrize("name", OCP)
def test_ocp_mx_follows_the_spec_with_ml_dtypes_casts(name: str) -> None:
    for label, x in datasets(32, seed=3).items():
        ours = blocks.fake_quantize(x, name)
        assert ours.view(np.int32).tolist() == reference_mx(x, name).view(np.int32).tolist(), (name, label)
        data = blocks.encode(x, name)
        assert data.size == x.size // 32 * (1 + 32 * mx.ELEMENTS[name][2] // 8)


def test_e8m0_is_floored_not_rounded_like_the_ml_dtypes_cast() -> None:
    x = np.zeros(32, np.float32)
    x[0] = 3.0  # log2 3 = 1.58: the spec's scale exponent floors to 1 − 2 = −1; ml_dtypes would round 3 to 4
    scale = blocks.encode(x, "MXFP4")[0]
    assert int(scale) - 127 == -1
    assert float(np.float32(3.0).astype(ml_dtypes.float8_e8m0fnu)) == 4.0


def test_ggml_mxfp4_ties_go_toward_zero_where_ocp_goes_to_even() -> None:
    x = np.zeros(32, np.float32)
    x[0] = 6.0  # scale 1 for both: amax 6 -> floor(log2 6) − 2 = 0
    x[1] = 2.5  # halfway between 2 and 3: even mantissa is 2 (toward zero here too)
    x[2] = 5.0  # halfway between 4 and 6: OCP's even choice is 4, ggml's toward zero is 4
    x[3] = 1.25  # halfway between 1 and 1.5: OCP even -> 1, ggml -> 1
    x[4] = 1.75  # halfway between 1.5 and 2: OCP even -> 2, ggml toward zero -> 1.5
    x[5] = -1.75
    ocp, ggml = blocks.fake_quantize(x, "MXFP4"), blocks.fake_quantize(x, "MXFP4_GGML")
    assert ocp[4] == 2.0 and ggml[4] == 1.5
    assert ocp[5] == -2.0 and ggml[5] == -1.5
    assert ocp[2] == ggml[2] == 4.0


def test_nf4_table_comes_from_normal_quantiles() -> None:
    derived = nf4.derive_table()
    assert np.abs(derived - nf4.PUBLISHED).max() < 3e-7
    assert (np.diff(nf4.TABLE) > 0).all() and nf4.TABLE[7] == 0 and (nf4.TABLE > 0).sum() == 8


def test_nf4_codes_are_nearest_with_ties_to_the_lower_code() -> None:
    rng = np.random.default_rng(5)
    v = np.concatenate([rng.uniform(-1, 1, 4000), nf4.MIDPOINTS, nf4.TABLE]).astype(np.float32)
    dist = np.abs(v[:, None] - nf4.TABLE[None, :])
    expected = dist.argmin(axis=1)  # first index on a tie: the lower code
    exact_mid = np.isin(v, nf4.MIDPOINTS)
    assert (nf4.nearest_codes(v)[~exact_mid] == expected[~exact_mid]).all()
    mids = np.searchsorted(nf4.MIDPOINTS, v[exact_mid])
    assert (nf4.nearest_codes(v[exact_mid]) == mids).all()


def test_nf4_round_trip_and_nibble_order() -> None:
    x = np.zeros(64, np.float32)
    x[0], x[1] = -1.0, 1.0
    data = blocks.encode(x, "NF4")
    assert data[4] == (0 << 4) | 15  # first value (−1, code 0) in the high nibble, second (1, code 15) low
    assert blocks.fake_quantize(x, "NF4")[:2].tolist() == [-1.0, 1.0]
    dq = nf4.DoubleQuantized(np.abs(np.random.default_rng(0).normal(size=1000)).astype(np.float32))
    assert np.abs(dq.values() - dq.values().round(6)).max() < 1e-3 and dq.bits_per_weight() == pytest.approx(
        4.127, abs=1e-3
    )


def test_nvfp4_scales_are_e4m3_and_elements_e2m1() -> None:
    rng = np.random.default_rng(2)
    x = (rng.normal(size=16 * 64) * 3).astype(np.float32)
    data = blocks.encode(x, "NVFP4")
    s = np.frombuffer(data[:4].tobytes(), "<f4")[0]
    assert s == np.float32(np.abs(x).max()) / np.float32(448 * 6)
    back = blocks.decode(data, "NVFP4", x.size)
    body = data[4:].reshape(-1, 9)
    scales = body[:, 0].view(ml_dtypes.float8_e4m3fn).astype(np.float32)
    assert (np.abs(back.reshape(-1, 16)) <= 6 * scales[:, None] * s * (1 + 1e-6)).all()
    # every decoded value is an E2M1 value times its block's scale
    ratio = back.reshape(-1, 16) / (scales[:, None] * s)
    assert np.isin(np.abs(ratio).round(6), [0, 0.5, 1, 1.5, 2, 3, 4, 6]).all()


@pytest.mark.parametrize("name", list(blocks.FORMATS))
def test_every_format_round_trips_and_bounds_its_error(name: str) -> None:
    fmt = blocks.FORMATS[name]
    x = np.random.default_rng(1).normal(size=fmt.block_size * 64).astype(np.float32)
    data = blocks.encode(x, name)
    assert data.dtype == np.uint8
    header = 32 / x.size if name == "NVFP4" else 0  # NVFP4's float32 tensor scale
    assert data.size * 8 / x.size == pytest.approx(fmt.bits_per_weight + header)
    back = blocks.fake_quantize(x, name)
    assert back.dtype == np.float32 and back.shape == x.shape
    assert np.abs(back - x).max() < 0.6 * np.abs(x).max()
    assert np.array_equal(blocks.decode(data, name, x.size), back)


def test_bad_input_is_refused_with_a_message() -> None:
    with pytest.raises(UnsupportedError, match="whole blocks of 32"):
        blocks.encode(np.ones(31, np.float32), "Q4_0")
    with pytest.raises(UnsupportedError, match="unknown block format"):
        blocks.encode(np.ones(32, np.float32), "Q3_X")
    with pytest.raises(UnsupportedError, match="NaN"):
        blocks.encode(np.full(32, np.nan, np.float32), "Q8_0")
    assert nvfp4.BLOCK == 16


@pytest.mark.parametrize("name", list(blocks.FORMATS))
def test_block_view_reads_its_numbers_from_the_bytes(name: str) -> None:
    from quantviz.teach.blocks import block_view

    rng = np.random.default_rng(9)
    x = (rng.normal(size=1024) * 2).astype(np.float32)
    view = block_view(x, name)
    n = blocks.FORMATS[name].block_size
    assert np.array_equal(view.decoded, blocks.fake_quantize(x, name)[:n])
    low = -(2 ** (view.code_bits - 1)) if name == "Q8_0" else 0  # Q8_0 stores signed int8 codes
    assert view.codes.size == n and (view.codes >= low).all() and (view.codes < low + 2**view.code_bits).all()
    covered = sorted(i for a, b, _ in view.fields for i in range(a, b))
    assert covered == list(range(view.data.size))
    if name in mx.ELEMENTS:
        amax = float(np.abs(x[:32]).max())
        shared = math.frexp(amax)[1] - 1 - mx.ELEMENTS[name][1]
        assert f"= {shared}: scale 2^{shared}" in view.scale_lines[0]
    if name in ("Q4_1", "Q5_1"):
        d = float(np.frombuffer(view.data[:2].tobytes(), np.float16)[0])
        m = float(np.frombuffer(view.data[2:4].tobytes(), np.float16)[0])
        assert ("not a whole number" in view.scale_lines[1]) == (not float(-m / d).is_integer())


def test_every_block_format_has_a_view_builder() -> None:
    from quantviz.teach.blocks import BUILDERS

    assert sorted(BUILDERS) == sorted(blocks.FORMATS)


def test_block_formats_page_shows_the_library_numbers() -> None:
    from quantviz.teach.blocks import block_view
    from tests.apptest_helpers import open_page

    at = open_page("block_formats.py", {"bf_fmt": "Q4_0", "bf_outlier": "50", "bf_size": "4096"})
    assert not at.exception
    from quantviz.samples import sample_data

    x = sample_data("normal", 4096, 0).astype(np.float32)
    shown = x[:128].copy()
    shown[0] *= np.float32(50)
    view = block_view(np.concatenate([shown, np.zeros(1024 - 128, np.float32)]), "Q4_0")
    table = at.dataframe[0].value
    assert table["code"].tolist() == view.codes.tolist()
    assert any("the outlier" in m.value and "left the others alone" in m.value for m in at.markdown)


@pytest.mark.parametrize("bits", [2, 3, 4, 8])
@pytest.mark.parametrize("size", [8, 32, 128])
def test_generic_block_and_group_rules(bits: int, size: int) -> None:
    from quantviz.blocks.group import block_absmax, group_affine

    x = np.random.default_rng(bits * size).normal(size=size * 16).astype(np.float32)
    back, s, q = block_absmax(x, size, bits)
    top = 2 ** (bits - 1) - 1
    assert np.abs(q).max() <= top and back.shape == (16, size)
    assert (np.abs(back - x.reshape(16, size)) <= s[:, None] / 2 * (1 + 1e-6) + 1e-6).all()
    back, s, z, q = group_affine(x, size, bits)
    assert (q >= 0).all() and (q <= 2**bits - 1).all() and ((z >= 0) & (z <= 2**bits - 1)).all()
    # the integer zero point makes real 0 exact in every group
    zero_back = (z - z) * s
    assert (zero_back == 0).all()
    inside = np.abs(back - x.reshape(16, size)) <= s[:, None] * (1 + 1e-3)
    assert inside.mean() > 0.99
