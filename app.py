"""QuantViz: the router. Page config and navigation only."""

from pathlib import Path

import streamlit as st

from quantviz.app.pages import PAGES, SECTIONS
from quantviz.app.state import link_panel, reconnect_notice

# Served by this server: a classroom without internet still gets its icon (a material icon name would be fetched).
ICON = Path(__file__).parent / "assets" / "quantviz-icon.svg"

# A presenter link opens with the sidebar folded away: the class sees the page, the presenter unfolds the controls.
PRESENTING = st.query_params.get("present") == "true"
st.set_page_config(
    page_title="QuantViz — affine quantization, exactly",
    page_icon=str(ICON),
    layout="wide",
    initial_sidebar_state="collapsed" if PRESENTING else "auto",
)

reconnect_notice()  # a student moved to another server of a course is told why the page reloaded
menu: dict[str, list] = {section: [] for section in SECTIONS}
for page in PAGES:
    menu[page.section].append(st.Page(page.file, title=page.title, icon=page.icon, default=page.default))
st.navigation(menu).run()
link_panel()  # after the page, so the link holds the page's own settings too
