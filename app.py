"""QuantViz: the router. Page config and navigation only."""

from pathlib import Path

import streamlit as st

from quantviz.app.state import link_panel, reconnect_notice

# Served by this server: a classroom without internet still gets its icon (a material icon name would be fetched).
ICON = Path(__file__).parent / "assets" / "quantviz-icon.svg"

# A presenter link opens with the sidebar folded away: the class sees the page, the presenter unfolds the controls.
PRESENTING = st.query_params.get("present") == "true"
st.set_page_config(page_title="QuantViz — affine quantization, exactly", page_icon=str(ICON), layout="wide",
                   initial_sidebar_state="collapsed" if PRESENTING else "auto")

pages = {
    "Start here": [
        st.Page("app_pages/zero_point.py", title="The zero point in one minute", icon=":material/looks_one:", default=True),
    ],
    "Explore": [
        st.Page("app_pages/number_line.py", title="Number line", icon=":material/linear_scale:"),
        st.Page("app_pages/rounding_error.py", title="Rounding error", icon=":material/ssid_chart:"),
        st.Page("app_pages/worked_examples.py", title="Worked examples", icon=":material/calculate:"),
    ],
    "Your data": [
        st.Page("app_pages/your_values.py", title="Your values", icon=":material/table_chart:"),
        st.Page("app_pages/frameworks.py", title="Frameworks compared", icon=":material/compare_arrows:"),
        st.Page("app_pages/your_model.py", title="Your model", icon=":material/model_training:"),
    ],
    "Beyond the basics": [
        st.Page("app_pages/calibration.py", title="Calibration and clipping", icon=":material/tune:"),
        st.Page("app_pages/per_channel.py", title="Per tensor, channel, group", icon=":material/grid_on:"),
        st.Page("app_pages/integer_arithmetic.py", title="Integer-only arithmetic", icon=":material/functions:"),
        st.Page("app_pages/low_bit.py", title="Low-bit and FP8", icon=":material/compress:"),
        st.Page("app_pages/fake_quant.py", title="Fake quant and STE", icon=":material/school:"),
        st.Page("app_pages/block_formats.py", title="Block formats (GGUF, NF4, MX)", icon=":material/view_module:"),
    ],
    "Classroom": [
        st.Page("app_pages/exercises.py", title="Exercises", icon=":material/quiz:"),
        st.Page("app_pages/glossary.py", title="Glossary", icon=":material/menu_book:"),
    ],
}
reconnect_notice()  # a student moved to another server of a course is told why the page reloaded
st.navigation(pages).run()
link_panel()  # after the page, so the link holds the page's own settings too
