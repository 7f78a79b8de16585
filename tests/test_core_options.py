"""GridOptions: validated once, hashable, and the same answers as the loose keywords it replaces."""

from __future__ import annotations

import doctest
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import quantviz as qv
from quantviz.conventions import resolve_options
from quantviz.errors import BitsError
from quantviz.grid import MAX_BITS, MIN_BITS, GridOptions, every_grid_options

options_st = st.builds(
    GridOptions,
    bits=st.integers(MIN_BITS, MAX_BITS),
    signed=st.booleans(),
    symmetric=st.booleans(),
    narrow_range=st.booleans(),
    reduce_range=st.booleans(),
)


@pytest.mark.parametrize(
    ("changes", "named"),
    [({"bits": 1}, "1"), ({"bits": 17}, "17"), ({"bits": 8.0}, "8.0"), ({"signed": "yes"}, "'yes'")],
)
def test_bad_values_are_refused_naming_them(changes: dict, named: str) -> None:
    with pytest.raises(BitsError, match=named):
        GridOptions(**changes)
    with pytest.raises(BitsError, match=named):
        GridOptions().replace(**changes)


def test_unknown_and_doubled_options_are_refused() -> None:
    with pytest.raises(BitsError, match="'narrow'"):
        GridOptions.from_mapping({"narrow": True})
    with pytest.raises(BitsError, match="not both"):
        qv.choose_qparams(-1, 1, options=GridOptions(), bits=4)


@given(options_st)
def test_options_are_their_own_cache_key(o: GridOptions) -> None:
    same = GridOptions.from_mapping(o.as_kwargs())
    assert same == o and hash(same) == hash(o)
    assert len({o, same, o.replace(bits=MIN_BITS + (o.bits == MIN_BITS))}) == 2


@given(options_st, st.sampled_from(sorted(qv.CONVENTIONS)))
def test_options_and_loose_keywords_agree(o: GridOptions, convention: str) -> None:
    conv = qv.get_convention(convention)
    reason = conv.unsupported_reason(o)
    assert reason == conv.unsupported_reason(**o.as_kwargs())
    if reason is None:
        by_options = qv.choose_qparams(-3.0, 5.0, convention=convention, options=o)
        assert by_options == qv.choose_qparams(-3.0, 5.0, convention=convention, **o.as_kwargs())
        assert conv.recipe(o) == conv.recipe(**o.as_kwargs())


def test_every_combination_once_and_resolved_options_are_supported() -> None:
    combos = every_grid_options()
    assert len(set(combos)) == len(combos) == (MAX_BITS - MIN_BITS + 1) * 16
    for name in qv.CONVENTIONS:
        for asked in combos[::7]:
            got = resolve_options(name, asked).options
            assert isinstance(got, GridOptions)
            assert qv.get_convention(name).unsupported_reason(got) is None
            assert (got == asked) == (qv.get_convention(name).unsupported_reason(asked) is None)


def test_the_options_doc_runs() -> None:
    doc = Path(__file__).resolve().parents[1] / "docs" / "options.md"
    result = doctest.testfile(str(doc), module_relative=False, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 10 and result.failed == 0
