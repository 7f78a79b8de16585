"""The page registry: every page of the app, once. ``app.py``, the tests and the benchmarks read it.

A page is a record built by keyword; ``PAGES`` keeps the menu's order. Adding a page means adding one
``Page(...)`` here: the router, the AppTest suites, the browser suite and the benchmarks pick it up.

This module imports no screen library: the router turns each record into an ``st.Page``.

>>> [p.slug for p in PAGES][:3]
['zero_point', 'number_line', 'rounding_error']
>>> by_slug("number_line").heading
'Number line'
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Page:
    """One page of the app.

    ``slug`` is the script's stem and its URL path (the default page is served at ``/``); ``title`` the menu entry;
    ``heading`` the page's own ``st.title``; ``charts`` how many plotly charts it draws at its defaults;
    ``bench_slider`` the label of the slider the latency benchmark moves (None: the page has no slider to move);
    ``takes_links`` whether the page reads the shared range settings from a link (the hostile-link suite opens those).
    """

    slug: str
    title: str
    heading: str
    icon: str
    section: str
    charts: int
    bench_slider: str | None = "Bit width"
    takes_links: bool = True
    default: bool = False

    @property
    def file(self) -> str:
        """The script's path from the repository root, as ``st.Page`` and ``AppTest.from_file`` take it."""
        return f"app_pages/{self.slug}.py"

    @property
    def path(self) -> str:
        """The URL path the page is served at ("" for the default page)."""
        return "" if self.default else self.slug


PAGES: tuple[Page, ...] = (
    Page(
        slug="zero_point",
        title="The zero point in one minute",
        heading="The zero point in one minute",
        icon=":material/looks_one:",
        section="Start here",
        charts=0,
        default=True,
    ),
    Page(
        slug="number_line",
        title="Number line",
        heading="Number line",
        icon=":material/linear_scale:",
        section="Explore",
        charts=1,
    ),
    Page(
        slug="rounding_error",
        title="Rounding error",
        heading="Rounding error",
        icon=":material/ssid_chart:",
        section="Explore",
        charts=3,
    ),
    Page(
        slug="worked_examples",
        title="Worked examples",
        heading="Worked examples",
        icon=":material/calculate:",
        section="Explore",
        charts=0,
        bench_slider=None,
    ),
    Page(
        slug="your_values",
        title="Your values",
        heading="Your values",
        icon=":material/table_chart:",
        section="Your data",
        charts=1,
    ),
    Page(
        slug="frameworks",
        title="Frameworks compared",
        heading="Frameworks compared",
        icon=":material/compare_arrows:",
        section="Your data",
        charts=0,
    ),
    Page(
        slug="your_model",
        title="Your model",
        heading="Your model",
        icon=":material/model_training:",
        section="Your data",
        charts=2,
        bench_slider=None,
        takes_links=False,
    ),  # an example opens: its number line, its run
    Page(
        slug="calibration",
        title="Calibration and clipping",
        heading="Calibration and clipping",
        icon=":material/tune:",
        section="Beyond the basics",
        charts=2,
    ),
    Page(
        slug="per_channel",
        title="Per tensor, channel, group",
        heading="Per tensor, per channel, per group",
        icon=":material/grid_on:",
        section="Beyond the basics",
        charts=2,
    ),
    Page(
        slug="integer_arithmetic",
        title="Integer-only arithmetic",
        heading="Integer-only arithmetic",
        icon=":material/functions:",
        section="Beyond the basics",
        charts=0,
        bench_slider="Input zero point",
    ),
    Page(
        slug="low_bit",
        title="Low-bit and FP8",
        heading="Low-bit and float formats",
        icon=":material/compress:",
        section="Beyond the basics",
        charts=2,
        bench_slider=None,
    ),
    Page(
        slug="fake_quant",
        title="Fake quant and STE",
        heading="Fake quantization and the straight-through estimator",
        icon=":material/school:",
        section="Beyond the basics",
        charts=1,
    ),
    Page(
        slug="block_formats",
        title="Block formats (GGUF, NF4, MX)",
        heading="Formats LLMs use: block scales",
        icon=":material/view_module:",
        section="Beyond the basics",
        charts=2,
        bench_slider=None,
        takes_links=False,
    ),
    Page(
        slug="beyond_rounding",
        title="Beyond rounding: GPTQ, AWQ…",
        heading="Beyond rounding: GPTQ, AWQ, SmoothQuant, rotations",
        icon=":material/auto_fix_high:",
        section="Beyond the basics",
        charts=10,
        bench_slider="α (migration strength)",
    ),
    Page(
        slug="what_it_costs",
        title="What it costs",
        heading="What it costs",
        icon=":material/price_check:",
        section="Beyond the basics",
        charts=4,
        bench_slider=None,
        takes_links=False,
    ),
    Page(
        slug="exercises",
        title="Exercises",
        heading="Exercises",
        icon=":material/quiz:",
        section="Classroom",
        charts=0,
        bench_slider=None,
    ),
    Page(
        slug="glossary",
        title="Glossary",
        heading="Glossary",
        icon=":material/menu_book:",
        section="Classroom",
        charts=0,
        bench_slider=None,
        takes_links=False,
    ),
)

SECTIONS: tuple[str, ...] = tuple(dict.fromkeys(p.section for p in PAGES))


def by_slug(slug: str) -> Page:
    """The page whose script stem is ``slug``; ``ValueError`` naming the known slugs otherwise.

    >>> by_slug("glossary").section
    'Classroom'
    """
    for page in PAGES:
        if page.slug == slug:
            return page
    raise ValueError(f"no page {slug!r}; pages are {', '.join(p.slug for p in PAGES)}")
