"""Draw docs/tasks/<task>.png (the task metric and the weight SQNR against bits per weight, every weight scheme)
and print the numbers as a Markdown table, for docs/tasks.md.

    PYTHONPATH=. .venv/bin/python scripts/task_charts.py [digits|tinylm ...]

The figures are the page's own (quantviz.app.task_figures), drawn offline by Debian's Chromium through playwright
(plotly.js comes from the plotly package; nothing is downloaded).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402

from quantviz.app.task_figures import scheme_map_figure  # noqa: E402
from quantviz.tasks import float_logits, load  # noqa: E402
from quantviz.tasks.scores import accuracy, perplexity  # noqa: E402
from quantviz.tasks.sweeps import scheme_sweep  # noqa: E402
from quantviz.teach.costs import disagreement_sentence, metric_text  # noqa: E402

OUT = ROOT / "docs" / "tasks"
METRIC = {"digits": "accuracy", "tinylm": "perplexity"}


def main(tasks: list[str]) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"])
        for task in tasks:
            net, metric = load(task), METRIC[task]
            base = float_logits(task)
            float_value = accuracy(base, net.labels) if task == "digits" else perplexity(base, net.labels)
            points = scheme_sweep(task)
            left = scheme_map_figure(
                points, metric, float_value=float_value, title=f"{task}: {metric} against bits per weight"
            )
            right = scheme_map_figure(points, metric, y="sqnr", title=f"{task}: weight SQNR against bits per weight")
            html = "<html><body style='margin:0;display:flex;background:white'>"
            for i, fig in enumerate((left, right)):
                fig.update_layout(width=620, height=460)
                html += fig.to_html(full_html=False, include_plotlyjs=(i == 0), div_id=f"f{i}")
            html += "</body></html>"
            with tempfile.NamedTemporaryFile("w", suffix=".html", delete=False) as f:
                f.write(html)
            page = browser.new_page(viewport={"width": 1240, "height": 470})
            page.goto(f"file://{f.name}")
            page.wait_for_function("document.querySelectorAll('.main-svg').length >= 4", timeout=60_000)
            page.screenshot(path=str(OUT / f"{task}.png"))
            page.close()
            Path(f.name).unlink()
            print(f"\n### {task} (float {metric_text(metric, float_value)})\n")
            print(f"| weights | bits/weight | weight SQNR (dB) | {metric} | KL (nats) | same top answer |")
            print("|---|---|---|---|---|---|")
            for pt in sorted(points, key=lambda q: q.bits_per_weight):
                print(
                    f"| {pt.weights} | {pt.bits_per_weight:.3f} | {pt.weight_sqnr_db:.2f} "
                    f"| {metric_text(metric, pt.value)} | {pt.kl_divergence:.4g} | {pt.top1_agreement * 100:.2f} % |"
                )
            print("\n" + disagreement_sentence(points, metric))
        browser.close()


if __name__ == "__main__":
    main(sys.argv[1:] or ["digits", "tinylm"])
