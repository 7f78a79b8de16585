"""The app layer: Streamlit glue and plotly figures, the only code that knows a screen exists.

``state`` keeps each setting in its widget, the session and the URL (validated like any input);
``widgets`` draws the shared controls and the page frame; ``figures`` builds pure ``go.Figure``
objects from result arrays (never quantizing anything itself); ``tables`` builds the pandas tables.

May import anything below it: the core, ``quantviz.conventions`` and ``quantviz.teach``; and
streamlit, plotly and pandas. Nothing below imports this package. ``figures`` and ``tables`` do not
import streamlit, so they can be tested without it.
"""
