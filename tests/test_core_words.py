"""The closed sets (rounding rules, zero-point rules, scale dtypes): one table of words, read everywhere."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

import quantviz as qv
from quantviz.app.state import ROUNDING_LABELS
from quantviz.conventions.rules import ScaleDtype, ZeroRule
from quantviz.grid import every_grid_options
from quantviz.rounding import Rounding, rule_words
from quantviz.teach.causes import how
from quantviz.teach.exact import RULE_WORDS
from quantviz.teach.steps import qparams_steps


def test_the_menus_and_the_sentences_read_the_one_table() -> None:
    assert list(qv.ROUNDING_MODES) == [r.value for r in Rounding if r.selectable]
    assert {r.value: r.label for r in Rounding if r.selectable} == ROUNDING_LABELS
    assert {r: Rounding(r).adverb for r in ("half_to_even", "half_away_from_zero")} == RULE_WORDS
    assert (
        ROUNDING_LABELS["half_up"] == "round half up, floor(v + 0.5)" and ROUNDING_LABELS["toward_zero"] == "truncate"
    )
    with pytest.raises(ValueError, match="nearest"):
        rule_words("nearest")


@pytest.mark.parametrize("name", sorted(qv.CONVENTIONS))
def test_recipe_rounding_words_come_from_the_rule(name: str) -> None:
    recipe = qv.get_convention(name).recipe()
    assert how(recipe, "rounding") == f"rounds {Rounding(recipe.rounding).adverb}"
    assert how(recipe, "zero_rule") == ZeroRule(recipe.zero_rule).words
    assert isinstance(qv.get_convention(name).tie_rule, Rounding)


@given(st.sampled_from(sorted(qv.CONVENTIONS)), st.sampled_from(every_grid_options()))
def test_every_trace_is_built_from_the_closed_sets(name: str, options: qv.GridOptions) -> None:
    conv = qv.get_convention(name)
    if conv.unsupported_reason(options):
        return
    choice = conv.choose_trace(-2.0, 3.0, options)
    assert isinstance(choice.scale_dtype, ScaleDtype) and isinstance(choice.zero_rule, ZeroRule)
    assert choice.zero_tie_rule is None or isinstance(choice.zero_tie_rule, Rounding)
    assert (choice.zero_raw is None) == (choice.zero_rule is not ZeroRule.FROM_MIN)


def test_a_scale_computed_in_one_type_and_stored_in_another_says_so() -> None:
    choice = qv.get_convention("onnxruntime").choose_trace(-1.0, 1.0)
    assert choice.scale_dtype is ScaleDtype.FLOAT64_STORED_FLOAT32
    text = " ".join(" ".join(map(str, step)) for step in qparams_steps(-1.0, 1.0, convention="onnxruntime"))
    assert "computed in float64, stored as float32" in text
    assert "float64_stored_float32" not in text
    assert repr(Rounding.HALF_UP) == "'half_up'"  # messages show the string it always was
