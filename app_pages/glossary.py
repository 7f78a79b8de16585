"""Glossary: every term of the trade QuantViz uses, with the page where it can be moved."""

import streamlit as st

from quantviz.app.widgets import page_header, quant_controls
from quantviz.teach.glossary import ENTRIES, slug

settings = quant_controls(show=())
page_header(
    "Glossary",
    "The words of the trade, each in a line and then a little more. Wherever one of them appears in QuantViz it links "
    "here, with the one-line version as its tooltip.",
    settings,
)
for entry in sorted(ENTRIES, key=lambda e: e.term.lower()):
    st.subheader(entry.term, anchor=slug(entry.term))
    st.markdown(f"**{entry.short}** {entry.long}")
