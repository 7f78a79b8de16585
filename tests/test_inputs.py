"""quantviz.inputs: pasted text and uploaded files, good and hostile."""

from __future__ import annotations

import io

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quantviz.errors import ParseError
from quantviz.inputs import load_upload, parse_values


def npy(arr) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=True)
    return buf.getvalue()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1, 2, 3", [1, 2, 3]),
        ("1 2\t3\n4;5", [1, 2, 3, 4, 5]),
        ("[1.5e3, -2E-2]", [1500, -0.02]),
        ("\u22121, \u22122.5", [-1, -2.5]),
        ("(1; 2) {3}", [1, 2, 3]),
        ("\uff11\uff12", [12]),
        ("-0.0", [-0.0]),
        ("1e-320", [1e-320]),
        ("1e308", [1e308]),
    ],
)
def test_parse_good(text: str, expected: list[float]) -> None:
    assert parse_values(text).values.tolist() == expected


@pytest.mark.parametrize(
    ("text", "match", "position"),
    [
        ("", "no numbers", None),
        (" , ;\n\t", "no numbers", None),
        ("1, abc, 3", "value 2, 'abc'", 2),
        ("__import__('os').system('ls')", "is not a number", 1),
        ("1, nan", "1 NaN", 2),
        ("inf, -inf, 2", r"\+inf and 1 −inf", 1),
        ("1e400", "beyond the largest", 1),
        ("<b>1</b>", "is not a number", 1),
    ],
)
def test_parse_bad(text: str, match: str, position: int | None) -> None:
    with pytest.raises(ParseError, match=match) as info:
        parse_values(text)
    assert info.value.position == position


def test_drop_nonfinite_reports() -> None:
    v = parse_values("1, nan, inf, 2", drop_nonfinite=True)
    assert v.values.tolist() == [1, 2] and "dropped 1 NaN and 1 +inf" in v.notes[0]
    with pytest.raises(ParseError, match="every value"):
        parse_values("nan", drop_nonfinite=True)


def test_too_many_values() -> None:
    with pytest.raises(ParseError, match="at most 5"):
        parse_values("1 " * 6, max_values=5)


def test_a_million_tokens_is_fast_enough() -> None:
    text = " ".join(["1.5"] * 1_000_000)
    assert parse_values(text).values.size == 1_000_000


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.floats(allow_nan=False, allow_infinity=False), min_size=1, max_size=50),
    st.sampled_from([", ", " ", "\n", ";", "\t"]),
)
def test_parse_round_trips_repr(values, sep) -> None:
    assert parse_values(sep.join(repr(v) for v in values)).values.tolist() == values


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_parse_never_crashes(text) -> None:
    try:
        v = parse_values(text)
    except ParseError as e:
        assert str(e)
    else:
        assert np.isfinite(v.values).all() and v.values.size > 0


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300), st.sampled_from(["x.csv", "x.npy", "x.txt"]))
def test_upload_never_crashes(data, name) -> None:
    try:
        v = load_upload(name, data)
    except ParseError as e:
        assert str(e)
    else:
        assert np.isfinite(v.values).all()


def test_npy_good_dtypes() -> None:
    for arr in (np.arange(4, dtype=np.int8), np.ones((2, 2), np.float16), np.array([True, False]), np.float32(3.0)):
        v = load_upload("a.npy", npy(np.asarray(arr)))
        assert v.values.tolist() == np.asarray(arr, dtype=np.float64).ravel().tolist()
    assert load_upload("a.npy", npy(np.zeros((2, 3)))).shape == (2, 3)


@pytest.mark.parametrize(
    ("arr", "match"),
    [
        (np.array([{"a": 1}], dtype=object), "pickle"),
        (np.array([1 + 2j]), "complex"),
        (np.zeros(2, dtype=[("a", "f4"), ("b", "i4")]), "structured"),
        (np.array(["a", "b"]), "not numbers"),
        (np.zeros((0,)), "empty array"),
        (np.array([1.0, np.nan]), "NaN"),
    ],
)
def test_npy_refused(arr, match) -> None:
    with pytest.raises(ParseError, match=match):
        load_upload("bad.npy", npy(arr))


def test_text_files() -> None:
    assert load_upload("a.csv", b"\xef\xbb\xbfx,y\n1,2\n3,4").values.tolist() == [1, 2, 3, 4]
    assert "header" in load_upload("a.csv", b"value\n1\n2").notes[0]
    with pytest.raises(ParseError, match="not a text file"):
        load_upload("a.csv", b"\x00\x01\x02garbage")
    with pytest.raises(ParseError, match="UTF-8"):
        load_upload("a.csv", b"\xff\xfe1,2")
    with pytest.raises(ParseError, match="value 2"):
        load_upload("a.csv", b"1\nfoo\n3")
    with pytest.raises(ParseError, match=r"only \.npy"):
        load_upload("a.exe", b"1")
    with pytest.raises(ParseError, match="limit"):
        load_upload("a.csv", b"1" * 100, max_bytes=10)
    with pytest.raises(ParseError, match="empty"):
        load_upload("a.csv", b"")
