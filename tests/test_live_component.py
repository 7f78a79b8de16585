"""The live component's Python side: what it is mounted with, and what a release writes into the widgets."""

from __future__ import annotations

import json

import pytest

import quantviz as qv
from quantviz.app import live
from quantviz.app.widgets import Settings


def _settings(**changes) -> Settings:
    base = dict(
        rmin=-1.0,
        rmax=3.0,
        bits=8,
        signed=False,
        symmetric=False,
        narrow_range=False,
        reduce_range=False,
        convention="textbook",
        rounding=None,
        add_zero_point_before_rounding=False,
        presenter=False,
    )
    return Settings(**{**base, **changes})


def test_component_data_is_json_and_carries_every_convention() -> None:
    s = _settings(convention="tflite")
    data = live.component_data(s, qv.choose_qparams(-1, 3, convention="tflite"), probe=0.5)
    assert json.loads(json.dumps(data)) == data
    assert set(data["rules"]["conventions"]) == set(qv.CONVENTIONS)
    assert data["settings"]["convention"] == "tflite" and data["settings"]["probe"] == 0.5
    assert data["settings"]["bits_fixed"] is True  # TFLite has 8 bits only: the stepper is disabled
    assert data["settings"]["direct"] is None and data["settings"]["server_only"] is False


def test_component_data_for_typed_s_and_z_and_stochastic_rounding() -> None:
    qp = qv.QParams(0.5, 3, 0, 15)
    data = live.component_data(
        _settings(bits=4, scale=0.5, zero_point=3, rounding="stochastic"), qp, probe=1.0, probe_code=5
    )
    assert data["settings"]["direct"]["scale"] == 0.5 and data["settings"]["direct"]["zero_point"] == 3
    assert data["settings"]["server_only"] is True and data["settings"]["server_probe"] == {"x": 1.0, "q": 5}


@pytest.mark.parametrize(
    ("released", "expected"),
    [
        (
            {"rmin": -2.5, "rmax": 4.0, "probe": 1.0, "bits": 6},
            {"w_rmin": -2.5, "w_rmax": 4.0, "w_probe": 1.0, "w_bits": 6},
        ),
        # bad values from the browser are ignored, never passed on
        ({"rmin": "x", "rmax": float("inf"), "probe": None, "bits": 40}, {"w_rmin": -1.0, "w_rmax": 3.0, "w_bits": 8}),
        ({"rmin": True, "bits": 7.5}, {"w_rmin": -1.0, "w_rmax": 3.0, "w_bits": 8}),
        # a reversed pair is put in order
        ({"rmin": 5.0, "rmax": 2.0}, {"w_rmin": 2.0, "w_rmax": 5.0, "w_bits": 8}),
    ],
)
def test_a_release_writes_only_valid_values(monkeypatch, released: dict, expected: dict) -> None:
    state = {"w_rmin": -1.0, "w_rmax": 3.0, "w_bits": 8, "qv_live": {"release": released}}
    monkeypatch.setattr(live.st, "session_state", state)
    live._apply_release("qv_live")
    assert {k: v for k, v in state.items() if k.startswith("w_")} == expected


def test_no_release_changes_nothing(monkeypatch) -> None:
    state = {"w_rmin": -1.0, "qv_live": {"release": None}}
    monkeypatch.setattr(live.st, "session_state", state)
    live._apply_release("qv_live")
    assert state == {"w_rmin": -1.0, "qv_live": {"release": None}}


def test_the_component_ships_inline_and_never_writes_html() -> None:
    js = live._asset("live.js")
    assert "innerHTML" not in js and "insertAdjacentHTML" not in js and "outerHTML" not in js
    assert "http://" not in js.replace("http://www.w3.org/2000/svg", "") and "https://" not in js
    assert "@import" not in live._asset("live.css") and "url(" not in live._asset("live.css")
    assert 'performance.measure("qv-live-update"' in js and "window.quantvizLive" in js
