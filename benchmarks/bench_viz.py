"""HTML view benchmark: synthetic graph → kgx.viz.render_html → load in headless Chromium.

    python benchmarks/bench_viz.py --records 20000 --entities 5000

Builds a graph from synthetic relation records (benchmarks/_synth.py) with GraphBuilder, renders
the page with the default 2,000-entity cap, and prints the render time and page size. With
chromium installed it then opens the page (kgx.browser's DevTools-protocol client, the page
helper of tests/test_viz.py) and prints the time until the layout has stabilised and the first
frame is drawn, how the first view is framed (zoom, the focus entity's label height), and the
console errors (there should be none).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))

from _synth import synthetic_records  # noqa: E402

from kgx.browser import BrowserError, Chromium, find_chromium  # noqa: E402
from kgx.graph import GraphBuilder  # noqa: E402
from kgx.viz import DEFAULT_MAX_NODES, render_html  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=20_000)
    ap.add_argument("--entities", type=int, default=5_000)
    ap.add_argument("--max-nodes", type=int, default=DEFAULT_MAX_NODES)
    ap.add_argument("--no-browser", action="store_true")
    args = ap.parse_args()

    t0 = time.perf_counter()
    builder = GraphBuilder()
    builder.add_records(synthetic_records(args.records, n_entities=args.entities))
    G = builder.graph
    t1 = time.perf_counter()
    print(f"graph: {G.number_of_nodes()} nodes, {G.number_of_edges()} edges "
          f"from {args.records} records in {t1 - t0:.2f} s")
    page = render_html(G, title="bench", max_nodes=args.max_nodes)
    t2 = time.perf_counter()
    print(f"render_html (max_nodes={args.max_nodes}): {t2 - t1:.2f} s, "
          f"{len(page.encode()) / 1e6:.2f} MB")

    try:
        chromium = None if args.no_browser else find_chromium()
    except BrowserError as e:
        print(f"browser: skipped ({e})")
        return
    if chromium is None:
        print("browser: skipped")
        return
    from test_viz import Page

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.html"
        path.write_text(page, encoding="utf-8")
        browser = Chromium(chromium)
        try:
            tab = Page(browser)
            t3 = time.perf_counter()
            tab.open(path)
            t4 = time.perf_counter()
            tab.wait_for("document.body.dataset.state === 'ready'", timeout=600)
            t5 = time.perf_counter()
            shown = tab.js("kgxView.network.body.data.nodes.length")
            edges = tab.js("kgxView.network.body.data.edges.length")
            print(f"chromium: load event {t4 - t3:.2f} s, stabilised and drawn {t5 - t3:.2f} s; "
                  f"{shown} nodes, {edges} edges drawn; console errors: {tab.errors()}")
            first = tab.js("kgxView.firstView()")
            label = first.get("label") or {}
            print(f"first view: {first['how']} at zoom {first['scale']:.2f} on "
                  f"{first.get('name')!r}, its label {label.get('height', 0):.0f} px tall "
                  f"(drawn: {label.get('drawn')})")
            tab.close()
        finally:
            browser.close()


if __name__ == "__main__":
    main()
