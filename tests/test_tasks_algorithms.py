"""GPTQ and AWQ from quantviz.algorithms, plugged into the tasks: what they cost, measured."""

from __future__ import annotations

import numpy as np
import pytest

from quantviz import tasks
from quantviz.tasks.schemes import parse_weights


def test_gptq_recovers_what_round_to_nearest_loses_at_two_bits() -> None:
    rtn = tasks.evaluate("digits", "int2-g32")
    gptq = tasks.evaluate("digits", "int2-g32", algorithm="gptq")
    assert gptq.float_value == rtn.float_value
    assert gptq.value > rtn.value + 0.02  # 0.911 → 0.971 when this was written


def test_gptq_codes_go_on_to_the_integer_path_only_where_they_are_the_weight() -> None:
    qw = tasks.quantized_weights("digits", "int4-per-channel", algorithm="gptq")["fc1"]
    assert qw.codes is not None and qw.scales is not None
    assert np.array_equal(
        (qw.codes.astype(np.float32) * qw.scales.astype(np.float32)).astype(np.float32), qw.dequantized
    )
    awq = tasks.quantized_weights("digits", "int4-g32", algorithm="awq")["fc1"]
    assert awq.codes is None  # AWQ's scales are folded into the weight: no integer codes to hand on


@pytest.mark.parametrize("algorithm", ["gptq", "awq"])
@pytest.mark.parametrize("weights", ["int4-per-tensor", "NF4"])
def test_algorithms_refuse_schemes_they_do_not_have(algorithm: str, weights: str) -> None:
    with pytest.raises(ValueError, match="per channel or per group"):
        tasks.evaluate("digits", weights, algorithm=algorithm)


def test_unknown_algorithm_lists_the_valid_ones() -> None:
    with pytest.raises(ValueError, match="gptq") as info:
        tasks.evaluate("digits", "int4-g32", algorithm="nope")
    assert "awq" in str(info.value) and "rtn" in str(info.value)
    assert parse_weights("int4-g32").group_size == 32
