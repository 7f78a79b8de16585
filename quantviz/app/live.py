"""The live number line: a client-side component (``st.components.v2``) that follows the hand while it drags.

The browser draws the figure and computes s, z and the probe's code on every pointer move from the rules that
:mod:`quantviz.conventions.live` exports (``live/live.js`` interprets them; ``tests/browser/test_live.py`` holds
it equal to quantviz). On release the component sends one trigger, ``release``, with the new range, probe and
bit width; :func:`_apply_release` writes them into the widgets' session state before the page reruns, once, so
the sidebar, the URL and the explanations follow.

The HTML, CSS and JavaScript are our own constant files, shipped inline (no CDN, no font download); the component
writes every number with ``textContent``, never as HTML.
"""

from __future__ import annotations

import math
from functools import cache
from pathlib import Path
from typing import Any

import streamlit as st

import quantviz as qv
from quantviz.app import figures
from quantviz.conventions.live import all_live_rules
from quantviz.conventions.options import supported_bits

ASSETS = Path(__file__).with_name("live")
COMPONENT_NAME = "quantviz.live_number_line"
WIDGET_KEYS = {"rmin": "w_rmin", "rmax": "w_rmax", "probe": "w_probe", "bits": "w_bits"}


@cache
def _asset(name: str) -> str:
    return (ASSETS / name).read_text(encoding="utf-8")


@cache
def _component() -> Any:
    return st.components.v2.component(
        COMPONENT_NAME, html=_asset("live.html"), css=_asset("live.css"), js=_asset("live.js")
    )


@cache
def _rules() -> dict[str, Any]:
    return all_live_rules()


COLOURS = {
    "chosen": figures.CHOSEN,
    "representable": figures.REPRESENTABLE,
    "clipped": figures.CLIPPED,
    "zero": figures.ORANGE,
    "probe": figures.BLUE,
}


def component_data(settings: Any, qp: qv.QParams, *, probe: float | None, probe_code: int | None = None) -> dict:
    """Return the JSON-able data the component is mounted with: the rules, the settings, the palette.

    ``probe_code`` is the server's code for the probe, shown when the browser cannot compute it (stochastic
    rounding draws from numpy's generator).
    """
    direct = None
    if settings.scale is not None:
        direct = {
            "scale": qp.scale,
            "zero_point": qp.zero_point,
            "qmin": qp.qmin,
            "qmax": qp.qmax,
            "storage_min": qp.storage_min,
            "storage_max": qp.storage_max,
            "rmin": qp.rmin,
            "rmax": qp.rmax,
        }
    bits_fixed = supported_bits(settings.convention, settings.options()) == [settings.bits]
    data_settings = {
        "rmin": settings.rmin,
        "rmax": settings.rmax,
        "bits": settings.bits,
        "signed": settings.signed,
        "symmetric": settings.symmetric,
        "narrow_range": settings.narrow_range,
        "reduce_range": settings.reduce_range,
        "convention": settings.convention,
        "rounding": settings.rounding,
        "z_first": settings.add_zero_point_before_rounding,
        "presenter": settings.presenter,
        "probe": probe if probe is None or math.isfinite(probe) else None,
        "direct": direct,
        "bits_fixed": bits_fixed or direct is not None,
        "server_only": settings.rounding == "stochastic",
        "server_probe": None if probe_code is None else {"x": probe, "q": int(probe_code)},
    }
    return {"rules": _rules(), "settings": data_settings, "colours": COLOURS}


def _apply_release(key: str) -> None:
    """Copy the released values into the widgets' state: the page's rerun then draws them everywhere."""
    state = st.session_state.get(key)
    released = state.get("release") if state is not None else None
    if not isinstance(released, dict):
        return
    for name, widget in WIDGET_KEYS.items():
        value = released.get(name)
        if value is None or isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        if name == "bits":
            if int(value) == value and 2 <= value <= 16:
                st.session_state[widget] = int(value)
        elif math.isfinite(value) and (name == "probe" or abs(value) <= 1e30):
            st.session_state[widget] = float(value)
    lo, hi = st.session_state.get("w_rmin"), st.session_state.get("w_rmax")
    if isinstance(lo, float) and isinstance(hi, float) and lo > hi:  # never hand the page a reversed range
        st.session_state["w_rmin"], st.session_state["w_rmax"] = hi, lo


def live_number_line(
    settings: Any, qp: qv.QParams, *, probe: float | None, probe_code: int | None = None, key: str = "qv_live"
) -> None:
    """Draw the live number line for these settings; a release updates the range, probe and bit width."""
    _component()(
        key=key,
        data=component_data(settings, qp, probe=probe, probe_code=probe_code),
        on_release_change=lambda: _apply_release(key),
    )
