"""Where settings live: each one in its widget, in a session dict that survives page switches, and in the URL.

The three are kept in step on every rerun (``prime`` before the widgets are drawn, ``remember``
after), so that a copied link reopens the same view. Link values are validated like any input:
a bad one is reported and replaced by its default, never passed on. Also here: the user's own
values for every page of a session, and showing user text safely.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

import quantviz as qv
from quantviz.app.serving import previous_session_id, reconnect_message
from quantviz.errors import ParseError
from quantviz.grid import MAX_BITS, MIN_BITS
from quantviz.inputs import parse_bool_param, parse_choice_param, parse_float_param, parse_int_param
from quantviz.rounding import Rounding

CONVENTION_LABELS = {name: conv.label for name, conv in qv.CONVENTIONS.items()}
ROUNDING_LABELS = {key: Rounding(key).label for key in qv.ROUNDING_MODES}
STORE = "_qv_values"
LOADED = "_qv_loaded_from_url"
LINK_MESSAGES = "_qv_link_messages"
TOO_LONG = "_qv_too_long_for_link"
CURRENT_PAGE = "_qv_current_page"
SEEDED = "_qv_seeded_widgets"
SESSION_GREETED = "_qv_session_greeted"
# Long: it only has to exist (see _rerun_on_reconnect); each tick reruns an empty fragment.
RECONNECT_RERUN_EVERY = "15m"


@dataclass(frozen=True)
class Field:
    """A setting that lives in a widget and in the URL under ``key``."""

    key: str
    default: Any
    parse: Callable[[str], Any]
    format: Callable[[Any], str] = str
    max_url_chars: int = 1500

    @property
    def widget_key(self) -> str:
        return f"w_{self.key}"


def float_field(key: str, default: float, lo: float | None = None, hi: float | None = None) -> Field:
    def parse(raw: str) -> float:
        value = parse_float_param(raw)
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            raise ParseError(f"must be between {lo:g} and {hi:g}")
        return value

    return Field(key, float(default), parse, lambda v: repr(float(v)))  # shortest exact form


def optional_float_field(key: str, lo: float, hi: float) -> Field:
    """A number the reader may leave empty (None, the default, stays out of the URL)."""
    inner = float_field(key, 0.0, lo, hi)
    return Field(key, None, inner.parse, inner.format)


def int_field(key: str, default: int, lo: int, hi: int) -> Field:
    return Field(key, int(default), lambda raw: parse_int_param(raw, lo, hi))


def bool_field(key: str, default: bool) -> Field:
    return Field(key, bool(default), parse_bool_param, lambda v: "true" if v else "false")


def text_field(key: str, default: str, max_chars: int = 1500) -> Field:
    def parse(raw: str) -> str:
        if len(raw) > max_chars:
            raise ParseError(f"is {len(raw):,} characters long (at most {max_chars:,} fit in a link)")
        return raw

    return Field(key, default, parse, str, max_chars)


def left_out_of_link(key: str) -> bool:
    """Whether the field's value was too long to put in the link."""
    return key in st.session_state.get(TOO_LONG, set())


def choice_field(key: str, default: str, choices: dict[str, str]) -> Field:
    return Field(key, default, lambda raw: parse_choice_param(raw, choices))


SHARED_FIELDS = (
    float_field("rmin", -1000.0),
    float_field("rmax", 1000.0),
    int_field("bits", 8, MIN_BITS, MAX_BITS),
    bool_field("signed", False),
    bool_field("symmetric", False),
    bool_field("narrow", False),
    bool_field("reduce", False),
    choice_field("conv", "textbook", CONVENTION_LABELS),
    choice_field("rounding", "half_to_even", ROUNDING_LABELS),
    bool_field("zfirst", False),
    bool_field("present", False),
    choice_field("set", "range", {"range": "a real range", "sz": "a scale and zero point"}),
    float_field("s", 0.1, 1e-30, 1e30),
    int_field("z", 0, -(2**31), 2**31 - 1),
)


# ----------------------------------------------------------------------------- showing user text
_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()#!|<>~$:])")


def plain(text: object) -> str:
    r"""Return text with every Markdown special character escaped, so user input shows as typed, never as markup.

    >>> print(plain("**b** :red[c] <i>"))
    \*\*b\*\* \:red\[c\] \<i\>
    """
    return _MARKDOWN_SPECIALS.sub(r"\\\1", str(text)).replace("/", "\\/")


def show_problem(headline: str, exc: object) -> None:
    """An error box: our headline in bold, then the message (which may quote user text) escaped."""
    st.error(f"**{headline}** {plain(exc)}", icon=":material/error:")


# ----------------------------------------------------------------------------- state plumbing
def _store() -> dict[str, Any]:
    return st.session_state.setdefault(STORE, {})


def _track_page() -> None:
    """Start a fresh set of seeded widgets when the user arrives on another page."""
    ctx = get_script_run_ctx()
    page = ctx.page_script_hash if ctx is not None else ""
    if st.session_state.get(CURRENT_PAGE) != page:
        st.session_state[CURRENT_PAGE] = page
        st.session_state[SEEDED] = set()


def prime(fields: tuple[Field, ...] | list[Field]) -> None:
    """Load each field once per session from the URL (validated), then seed its widget from the store.

    A widget is seeded from the store on the first run of each page visit: the same key on
    another page belongs to another widget, whose leftover state must not leak in.
    """
    _track_page()
    seeded: set[str] = st.session_state.setdefault(SEEDED, set())
    store = _store()
    loaded: set[str] = st.session_state.setdefault(LOADED, set())
    messages: list[str] = st.session_state.setdefault(LINK_MESSAGES, [])
    for field in fields:
        if field.key not in loaded:
            loaded.add(field.key)
            value = field.default
            raw = st.query_params.get_all(field.key)
            if raw:
                if len(raw) > 1:
                    messages.append(f"The link gives `{field.key}` {len(raw)} times; the last one is used.")
                try:
                    value = field.parse(raw[-1])
                except ParseError as exc:
                    shown = raw[-1] if len(raw[-1]) <= 40 else raw[-1][:39] + "…"
                    messages.append(
                        f"The link's `{field.key}={shown}` {exc}; using the default {field.format(field.default)}."
                    )
            store[field.key] = value
        store.setdefault(field.key, field.default)
        if field.widget_key not in seeded or field.widget_key not in st.session_state:
            seeded.add(field.widget_key)
            st.session_state[field.widget_key] = store[field.key]


def remember(fields: tuple[Field, ...] | list[Field]) -> None:
    """Copy widget values to the store and the URL (a value equal to its default leaves the URL)."""
    store = _store()
    for field in fields:
        if field.widget_key in st.session_state:
            store[field.key] = st.session_state[field.widget_key]
        value = store.get(field.key, field.default)
        if value == field.default:
            if field.key in st.query_params:
                del st.query_params[field.key]
        else:
            text = field.format(value)
            if len(text) > field.max_url_chars:
                # Too long for a link: leave it out rather than make a link that breaks.
                if field.key in st.query_params:
                    del st.query_params[field.key]
                st.session_state.setdefault(TOO_LONG, set()).add(field.key)
                continue
            st.session_state.get(TOO_LONG, set()).discard(field.key)
            if st.query_params.get(field.key) != text:
                st.query_params[field.key] = text


def show_link_messages() -> None:
    """Show, once, what was wrong with the link this session opened."""
    messages = st.session_state.get(LINK_MESSAGES)
    if messages:
        st.warning(
            "**This link had settings that could not be used:**\n\n" + "\n".join(f"- {plain(m)}" for m in messages),
            icon=":material/link_off:",
        )
        st.session_state[LINK_MESSAGES] = []


# ----------------------------------------------------------------------------- the user's values
USER_VALUES = "_qv_user_values"


def set_user_values(values: Any, source: str) -> None:
    """Keep the user's parsed values for every page of this session."""
    st.session_state[USER_VALUES] = (values, source)


def user_values() -> Any:
    """Return the values from the Your values page (numpy array), or None."""
    stored = st.session_state.get(USER_VALUES)
    return None if stored is None else stored[0]


# ----------------------------------------------------------------------------- lesson links
MAX_LINK_CHARS = 2000


def link_panel() -> None:
    """A sidebar panel with the link that reopens this exact view (settings, probe and pasted values).

    Values too long for a link are left out of it; the panel says so and offers the settings as a file.
    """
    base = (st.context.url or "").split("?")[0]
    query = urlencode(st.query_params.to_dict())
    link = f"{base}?{query}" if query else base
    with st.sidebar.expander("Link to this view", icon=":material/link:"):
        st.code(link or "(open the app in a browser to get its link)", language=None, wrap_lines=True)
        st.caption("Copy it with the button at its corner: it reopens this page with every setting shown here.")
        too_long = sorted(st.session_state.get(TOO_LONG, set()))
        if too_long or len(link) > MAX_LINK_CHARS:
            st.warning(
                (
                    f"Left out of the link (too long): {', '.join(too_long) or 'some values'}. "
                    "Download the settings instead."
                ),
                icon=":material/link_off:",
            )
            st.download_button(
                "Download these settings (JSON)",
                data=json.dumps(_store(), indent=1, default=str),
                file_name="quantviz_view.json",
                mime="application/json",
                icon=":material/download:",
            )


@st.fragment(run_every=RECONNECT_RERUN_EVERY)
def _rerun_on_reconnect() -> None:
    """Draws nothing. A page with a timed fragment is rerun whole by Streamlit's frontend when its websocket
    reconnects (without one, a browser moved to another server waits idle, showing the old server's page, until
    the next click); the rerun resends the link and the widgets, so the new server draws the same view at once."""


def reconnect_notice() -> None:
    """Once per session: if the browser names a session this server never held, say what happened.

    That is a student moved to another server of a course (or back to a restarted one); the frontend resends the
    link's settings, so the view is the same, and the notice says why.
    """
    _rerun_on_reconnect()
    if st.session_state.get(SESSION_GREETED):
        return
    st.session_state[SESSION_GREETED] = True
    ctx = get_script_run_ctx()
    message = reconnect_message(
        previous_session_id(st.context.headers.get("Sec-Websocket-Protocol")),
        ctx.session_id if ctx else None,
        os.environ.get("QUANTVIZ_REPLICA"),
    )
    if message:
        st.toast(message, icon=":material/sync:", duration="long")


def labels(names: dict[str, str]) -> Callable[[str], str]:
    """A format_func showing each option's label (a label maps to itself, so it is safe to apply twice)."""
    return lambda option: names.get(option, option)
