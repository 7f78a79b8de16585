"""The teaching layer: explanations, worked examples, the framework comparison and the exercises.

``fmt`` formats numbers (for prose and for LaTeX); ``steps`` walks a range to (s, z) and one value
through every step of its quantization; ``examples`` checks the seed answer line by line and holds
the worked-example presets; ``compare`` puts the conventions side by side and says why they differ;
``exercises`` makes seeded exercises and checks answers.

Every sentence here is built from a computation of the core below it. May import: numpy and the
core (``quantviz`` top level and ``quantviz.conventions``). Never ``quantviz.app``, streamlit, plotly
or pandas.
"""
