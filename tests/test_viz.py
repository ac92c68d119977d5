"""kgx.viz: the self-contained HTML view, checked as text and in a real headless Chromium.

The browser tests drive Debian's ``chromium`` over the Chrome DevTools Protocol on a pipe
(``kgx.browser.Chromium``: ``--remote-debugging-pipe``, NUL-separated JSON on file descriptors 3
and 4), so they need no extra Python package and open no port. They skip when chromium is not
installed (``make browser`` installs it).
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import struct
import time
from pathlib import Path
from typing import Any

import networkx as nx
import pytest
from typer.testing import CliRunner

from kgx import browser as kgx_browser
from kgx.browser import BROWSERS, BrowserError, Chromium
from kgx.cli import app
from kgx.graph import GraphBuilder, save_graph
from kgx.viz import PALETTE, embed_json, graph_view_data, render_html, write_html

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = next((path for name in BROWSERS if (path := shutil.which(name))), None)
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None,
    reason="no chromium/chrome on PATH (apt-get install -y chromium chromium-driver; make browser)",
)
runner = CliRunner()

# --- graphs ----------------------------------------------------------------------------------

# (doc, sentence, head, head type, relation, tail, tail type, score)
FACTS = [
    ("d1", "Maria Lopez works for Acme Corp in Paris.", "Maria Lopez", "PER", "Work_For",
     "Acme Corp", "ORG", 0.93),
    ("d1", "Maria Lopez works for Acme Corp in Paris.", "Acme Corp", "ORG", "OrgBased_In",
     "Paris", "LOC", 0.81),
    ("d2", "Dr. Maria Lopez, who joined the Acme Corp in 2019, lives in Lyon.", "Maria Lopez",
     "PER", "Live_In", "Lyon", "LOC", 0.77),
    ("d2", "Dr. Maria Lopez, who joined the Acme Corp in 2019, lives in Lyon.", "Maria Lopez",
     "PER", "Work_For", "the Acme Corp", "ORG", 0.88),
    ("d3", "John Smith lives in Berlin.", "John Smith", "PER", "Live_In", "Berlin", "LOC", 0.42),
    ("d4", "Lyon is a city in France.", "Lyon", "LOC", "Located_In", "France", "LOC", 0.95),
    ("d5", "Ana Diaz joined Nordwind, a firm based in Oslo.", "Ana Diaz", "PER", "Work_For",
     "Nordwind", "ORG", 0.66),
    ("d5", "Ana Diaz joined Nordwind, a firm based in Oslo.", "Nordwind", "ORG", "OrgBased_In",
     "Oslo", "LOC", 0.7),
    ("d6", "Acme Corp opened an office in Berlin.", "Acme Corp", "ORG", "OrgBased_In", "Berlin",
     "LOC", 0.55),
    ("d7", "Zoë Ångström works for Société Générale in Montréal.", "Zoë Ångström", "PER",
     "Work_For", "Société Générale", "ORG", 0.9),
    ("d7", "Zoë Ångström works for Société Générale in Montréal.", "Société Générale", "ORG",
     "OrgBased_In", "Montréal", "LOC", 0.85),
]
N_NODES = 13  # Maria Lopez, Acme Corp, Paris, Lyon, John Smith, Berlin, France, Ana Diaz,
# Nordwind, Oslo, Zoë Ångström, Société Générale, Montréal
N_EDGES = 10  # the two Maria Lopez → Acme Corp Work_For records are one edge


def record(doc, sentence, head, hl, rel, tail, tl, score, sent_start=0):
    hs, ts = sentence.index(head), sentence.index(tail)
    return {
        "doc_id": doc,
        "head": {"text": head, "label": hl, "start_char": sent_start + hs,
                 "end_char": sent_start + hs + len(head)},
        "relation": rel,
        "tail": {"text": tail, "label": tl, "start_char": sent_start + ts,
                 "end_char": sent_start + ts + len(tail)},
        "score": score,
        "sent_start_char": sent_start,
        "sent_end_char": sent_start + len(sentence),
        "model": "kgx_test@0.1",
        "sentence": sentence,
    }


def build(facts) -> nx.MultiDiGraph:
    builder = GraphBuilder()
    builder.add_records([record(*f) for f in facts])
    return builder.graph


@pytest.fixture
def graph() -> nx.MultiDiGraph:
    return build(FACTS)


def node_by_name(G, name):
    return next(n for n, d in G.nodes(data=True) if d["name"] == name)


HOSTILE = [
    "</script><script>window.__kgxPwned = 1</script>",
    "<!-- <script>window.__kgxPwned = 2</script>",
    "<img src=x onerror=\"window.__kgxPwned = 3\">",
    "O'Brien \"The Boss\" & Sons",
    "Ελληνικά 北京 🚀 \u2028line",
]


def hostile_graph() -> nx.MultiDiGraph:
    """Names, types, relations, doc ids and sentences that would break a naive page."""
    G = nx.MultiDiGraph(base="http://kgx.example.org/", kgx_version="0.1.0")
    for i, name in enumerate(HOSTILE):
        G.add_node(f"http://kgx.example.org/entity/ORG/n{i}", label="ORG</script>", name=name,
                   aliases=[name + " alias"], mentions=1, docs=[f"doc-{i}</script>"])
    for i in range(len(HOSTILE) - 1):
        ev = {"doc_id": "<!--doc-->", "head_start": 0, "head_end": 1, "tail_start": 2,
              "tail_end": 3, "sent_start": 0, "sent_end": 40, "score": 0.5, "model": "m</script>",
              "head_text": HOSTILE[i], "tail_text": HOSTILE[i + 1],
              "sentence": HOSTILE[i] + " relates to " + HOSTILE[i + 1]}
        G.add_edge(f"http://kgx.example.org/entity/ORG/n{i}",
                   f"http://kgx.example.org/entity/ORG/n{i + 1}", key="rel</script><!--",
                   score=0.5, count=1, evidence=[ev])
    return G


def hub_graph(n_leaves: int, n_ring: int = 0) -> nx.MultiDiGraph:
    """A hub with ``n_leaves`` neighbours, plus a ring of ``n_ring`` entities with chords: a
    graph whose whole-graph fit is far too small to read, with one clear most connected entity."""
    G = nx.MultiDiGraph()

    def edge(u, v, relation, score):
        G.add_edge(f"http://x/{u}", f"http://x/{v}", key=relation, score=score, count=1,
                   evidence=[{"doc_id": f"d-{u}-{v}", "score": score, "head_text": u,
                              "tail_text": v}])

    for i in range(n_leaves):
        edge("hub", f"leaf{i}", ("Work_For", "Live_In", "Knows")[i % 3], 0.5 + (i % 5) / 10)
    for i in range(n_ring):
        edge(f"ring{i}", f"ring{(i + 1) % n_ring}", "Near", 0.8)
        if i % 4 == 0:
            edge(f"ring{i}", f"ring{(i * 7 + 3) % n_ring}", "Knows", 0.6)
    if n_ring:
        edge("leaf0", "ring0", "Near", 0.9)
    for node, d in G.nodes(data=True):
        name = node.rsplit("/", 1)[1]
        d.update(label="HUB" if name == "hub" else "LEAF" if name.startswith("leaf") else "RING",
                 name=name.capitalize(), aliases=[], mentions=1, docs=[])
    return G


def data_block(page: str) -> str:
    m = re.search(r'<script type="application/json" id="kgx-data">(.*?)</script>', page, re.S)
    assert m, "no data block"
    return m.group(1)


# --- the page as text ------------------------------------------------------------------------


def test_page_is_self_contained(graph):
    page = render_html(graph, title="Demo")
    assert page.startswith("<!DOCTYPE html>")
    assert "<script src" not in page and "<link" not in page and "@import" not in page
    assert "sourceMappingURL" not in page
    assert "default-src 'none'" in page  # the CSP forbids every network load
    assert "vis.js is dual licensed" in page and "@license" in page  # the bundled licence header
    assert page.count("</script>") == 3  # data block, vis-network, the view script
    assert len(page.encode()) < 1_000_000


def test_bundled_asset_and_licences_are_packaged():
    data = ROOT / "kgx" / "data"
    js = (data / "vis-network.min.js").read_text(encoding="utf-8")
    assert "@version 10." in js and "</script" not in js.lower()
    assert "MIT License" in (data / "vis-network.LICENSE-MIT").read_text(encoding="utf-8")
    assert "Apache License" in (data / "vis-network.LICENSE-APACHE-2.0").read_text(encoding="utf-8")


def test_view_data_follows_the_graph(graph):
    data = graph_view_data(graph)
    assert data["stats"] == {"nodes_total": N_NODES, "edges_total": N_EDGES, "nodes_shown": N_NODES,
                             "edges_shown": N_EDGES, "min_score": 0.0, "max_nodes": 2000,
                             "max_edges": 10_000, "nodes_truncated": False,
                             "edges_truncated": False, "truncated": False}
    nodes = {n["name"]: n for n in data["nodes"]}
    acme = nodes["Acme Corp"]
    assert acme["type"] == "ORG" and "the Acme Corp" in acme["aliases"]
    assert acme["id"] == node_by_name(graph, "Acme Corp")
    assert acme["docs"] == ["d1", "d2", "d6"] and acme["degree"] == 3
    assert nodes["Zoë Ångström"]["type"] == "PER"
    work = [e for e in data["edges"]
            if e["from"] == nodes["Maria Lopez"]["id"] and e["relation"] == "Work_For"]
    assert len(work) == 1
    (w,) = work
    assert w["to"] == acme["id"] and w["count"] == 2 and w["evidence_total"] == 2
    assert [ev["doc_id"] for ev in w["evidence"]] == ["d1", "d2"]  # best score first
    ev = w["evidence"][1]
    assert ev["sentence"].startswith("Dr. Maria Lopez")
    assert ev["sentence"][ev["tail_start"] - ev["sent_start"]:ev["tail_end"] - ev["sent_start"]] \
        == "the Acme Corp"
    assert w["score"] == pytest.approx(graph.edges[w["from"], w["to"], "Work_For"]["score"])
    types = {t["type"]: t for t in data["types"]}
    assert {t: types[t]["count"] for t in types} == {"LOC": 6, "PER": 4, "ORG": 3}
    assert [t["type"] for t in data["types"]] == ["LOC", "PER", "ORG"]  # most frequent first
    assert [t["color"] for t in data["types"]] == list(PALETTE[:3])


PARALLEL = [  # three relations between Ann Lee and Bolt, one of them the other way round
    ("a", "Ann Lee works for Bolt.", "Ann Lee", "PER", "Work_For", "Bolt", "ORG", 0.9),
    ("a", "Ann Lee works for Bolt.", "Ann Lee", "PER", "Founded", "Bolt", "ORG", 0.8),
    ("b", "Bolt employs Ann Lee.", "Bolt", "ORG", "Employs", "Ann Lee", "PER", 0.6),
    ("c", "Bolt is in Oslo.", "Bolt", "ORG", "OrgBased_In", "Oslo", "LOC", 0.7),
]


def test_parallel_relations_are_one_drawn_edge():
    G = build(PARALLEL)
    data = graph_view_data(G)
    ann, bolt = node_by_name(G, "Ann Lee"), node_by_name(G, "Bolt")
    rel = {e["id"]: e["relation"] for e in data["edges"]}
    assert len(data["edges"]) == 4 and len(data["groups"]) == 2
    pair = next(g for g in data["groups"] if {g["from"], g["to"]} == {ann, bolt})
    assert (pair["from"], pair["to"]) == (ann, bolt)
    assert [rel[i] for i in pair["edges"]] == ["Work_For", "Founded", "Employs"]  # strongest first
    assert {e["group"] for e in data["edges"] if e["id"] in pair["edges"]} == {pair["id"]}
    single = graph_view_data(build(FACTS[:1]))
    assert [g["edges"] for g in single["groups"]] == [[single["edges"][0]["id"]]]


def test_first_view_hints(graph):
    view = graph_view_data(graph)["view"]
    assert view["focus"] == node_by_name(graph, "Acme Corp")  # 3 relations, the most
    assert view["edge_labels"] == "always"
    star = hub_graph(80)
    view = graph_view_data(star)["view"]
    assert view["focus"] == "http://x/hub" and view["edge_labels"] == "focus"
    assert graph_view_data(nx.MultiDiGraph())["view"]["focus"] is None


def test_min_score_leaves_out_weak_edges_and_their_orphans(graph):
    data = graph_view_data(graph, min_score=0.6)
    names = {n["name"] for n in data["nodes"]}
    assert "John Smith" not in names and "Berlin" not in names  # only 0.42 / 0.55 edges
    assert all(e["score"] >= 0.6 for e in data["edges"])
    assert data["stats"]["edges_shown"] == N_EDGES - 2
    assert data["stats"]["min_score"] == 0.6
    graph.add_node("http://kgx.example.org/entity/LOC/nowhere", label="LOC", name="Nowhere",
                   aliases=[], mentions=1, docs=["d9"])
    assert "Nowhere" in {n["name"] for n in graph_view_data(graph, min_score=0.6)["nodes"]}


def test_large_graph_keeps_the_most_connected_entities():
    G = nx.MultiDiGraph()
    for hub in range(3):
        for leaf in range(10):
            G.add_edge(f"hub{hub}", f"leaf{hub}-{leaf}", key="rel", score=0.9, count=1, evidence=[])
    for n in G:
        G.nodes[n].update(label="X", name=n)
    data = graph_view_data(G, max_nodes=5)
    kept = {n["id"] for n in data["nodes"]}
    assert {"hub0", "hub1", "hub2"} <= kept and len(kept) == 5
    assert data["stats"]["truncated"] and data["stats"]["nodes_total"] == 33
    assert all(e["from"] in kept and e["to"] in kept for e in data["edges"])
    assert data["stats"]["edges_shown"] == 2


def test_edge_cap_keeps_the_strongest_relations(graph):
    data = graph_view_data(graph, max_edges=3)
    assert sorted(e["score"] for e in data["edges"]) == pytest.approx([0.9, 0.95, 0.9916])
    assert {n["name"] for n in data["nodes"]} == {
        "Maria Lopez", "Acme Corp", "Lyon", "France", "Zoë Ångström", "Société Générale"}
    st = data["stats"]
    assert st["edges_truncated"] and st["truncated"] and not st["nodes_truncated"]
    assert st["edges_shown"] == 3 and st["nodes_shown"] == 6


def test_default_cap_and_layout_budget_for_a_big_graph():
    G = nx.MultiDiGraph()
    for i in range(2600):
        G.add_edge(f"n{i}", f"n{(i * 7 + 1) % 2600}", key="r", score=0.5, count=1, evidence=[])
    data = graph_view_data(G)
    assert data["stats"]["nodes_shown"] == 2000 and data["stats"]["truncated"]
    assert data["view"]["large"] and data["view"]["stabilization_iterations"] <= 200
    assert not data["view"]["smooth_edges"]


def test_evidence_is_capped_best_first():
    ev = [{"doc_id": f"d{i}", "score": i / 100, "head_text": "a", "tail_text": "b"}
          for i in range(50)]
    G = nx.MultiDiGraph()
    G.add_edge("a", "b", key="r", score=0.9, count=50, evidence=ev)
    (edge,) = graph_view_data(G, max_evidence=5)["edges"]
    assert [e["doc_id"] for e in edge["evidence"]] == ["d49", "d48", "d47", "d46", "d45"]
    assert edge["evidence_total"] == 50 and edge["count"] == 50


def test_embedded_json_cannot_break_out_of_its_block():
    G = hostile_graph()
    page = render_html(G, title="</title><script>window.__kgxPwned = 4</script> {{DATA}}")
    block = data_block(page)
    assert "<" not in block and ">" not in block and "&" not in block
    assert "\u2028" not in block
    assert "<!--" not in page
    # the data survives exactly
    data = json.loads(block)
    assert sorted(n["name"] for n in data["nodes"]) == sorted(HOSTILE)
    assert {e["relation"] for e in data["edges"]} == {"rel</script><!--"}
    assert "<script>window.__kgxPwned" not in page
    assert "&lt;/title&gt;&lt;script&gt;window.__kgxPwned = 4&lt;/script&gt; {{DATA}}" in page
    assert page.count("</script>") == 3


def test_embed_json_round_trips():
    value = {"s": "</script><!-- & \u2028 \u2029 'q' \"dq\" é 🚀"}
    text = embed_json(value)
    assert json.loads(text) == value and "<" not in text


def test_bad_input_is_named():
    with pytest.raises(TypeError, match="networkx graph"):
        render_html({"nodes": []})
    G = nx.MultiDiGraph()
    G.add_edge("a", "b", key="rel", score=1.5)
    with pytest.raises(ValueError, match=r"edge a -\[rel\]-> b: score 1.5 is not in \[0, 1\]"):
        render_html(G)
    with pytest.raises(ValueError, match="min_score"):
        render_html(nx.MultiDiGraph(), min_score=2)
    with pytest.raises(ValueError, match="max_nodes"):
        render_html(nx.MultiDiGraph(), max_nodes=0)
    with pytest.raises(ValueError, match="max_edges"):
        render_html(nx.MultiDiGraph(), max_edges=0)


def test_write_html(tmp_path, graph):
    stats = write_html(graph, tmp_path / "sub" / "g.html", title="T", min_score=0.5)
    page = (tmp_path / "sub" / "g.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "<title>T</title>" in page
    assert stats == json.loads(data_block(page))["stats"]
    assert stats["edges_shown"] == N_EDGES - 1


# --- the CLI ---------------------------------------------------------------------------------


def test_cli_view(tmp_path, graph):
    save_graph(graph, tmp_path / "g.json")
    out = tmp_path / "g.html"
    result = runner.invoke(app, ["view", str(tmp_path / "g.json"), "--output", str(out),
                                 "--min-score", "0.5", "--title", "Demo graph"])
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    assert "<title>Demo graph</title>" in page
    data = json.loads(data_block(page))
    assert data["stats"]["edges_shown"] == N_EDGES - 1 and data["stats"]["min_score"] == 0.5
    assert f"{N_NODES - 1} entities" in result.output


def test_cli_view_graphml_and_default_output(tmp_path, graph):
    save_graph(graph, tmp_path / "g.graphml")
    result = runner.invoke(app, ["view", str(tmp_path / "g.graphml")])
    assert result.exit_code == 0, result.output
    data = json.loads(data_block((tmp_path / "g.html").read_text(encoding="utf-8")))
    assert data["stats"]["nodes_shown"] == N_NODES  # evidence lists survived GraphML
    assert any(ev.get("sentence") for e in data["edges"] for ev in e["evidence"])


def test_cli_view_errors(tmp_path):
    result = runner.invoke(app, ["view", str(tmp_path / "missing.json"), "-o",
                                 str(tmp_path / "x.html")])
    assert result.exit_code == 1
    assert "no such graph file" in result.output and not (tmp_path / "x.html").exists()
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    result = runner.invoke(app, ["view", str(bad)])
    assert result.exit_code == 1 and "bad.json" in result.output
    result = runner.invoke(app, ["view", str(bad), "--min-score", "3"])
    assert result.exit_code == 2


def test_screenshot_without_a_browser_names_what_to_install(tmp_path, graph, monkeypatch):
    monkeypatch.setattr(kgx_browser, "BROWSERS", ("kgx-no-such-browser",))
    with pytest.raises(BrowserError, match=r"no headless browser found .*apt-get install chromium"):
        kgx_browser.find_chromium()
    save_graph(graph, tmp_path / "g.json")
    out, png = tmp_path / "g.html", tmp_path / "g.png"
    result = runner.invoke(app, ["view", str(tmp_path / "g.json"), "-o", str(out),
                                 "--screenshot", str(png)])
    assert result.exit_code == 1
    assert "kgx: error: no headless browser found" in result.output
    assert "make browser" in result.output
    assert out.exists() and not png.exists()  # the page itself is written all the same


# --- a real headless Chromium ----------------------------------------------------------------


class Page:
    """One browser tab: loads a file, evaluates JS, collects errors and requests."""

    def __init__(self, browser: Chromium) -> None:
        self.browser = browser
        target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = browser.send("Target.attachToTarget",
                                    {"targetId": target, "flatten": True})["sessionId"]
        self.target = target
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.send(f"{domain}.enable")
        self.send("Emulation.setDeviceMetricsOverride",
                  {"width": 1280, "height": 860, "deviceScaleFactor": 1, "mobile": False})

    def send(self, method: str, params: dict | None = None) -> dict[str, Any]:
        return self.browser.send(method, params, self.session)

    def _events(self, method: str) -> list[dict[str, Any]]:
        return [e["params"] for e in list(self.browser.events)
                if e.get("sessionId") == self.session and e["method"] == method]

    def open(self, path: Path) -> None:
        self.url = path.resolve().as_uri()
        self.send("Page.navigate", {"url": self.url})
        self.wait_for("document.readyState === 'complete'")

    def js(self, expression: str) -> Any:
        result = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                                "awaitPromise": True})
        if "exceptionDetails" in result:
            raise AssertionError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 90) -> Any:
        """Poll until the expression is truthy (a deadline for slow machines, not an assertion
        on speed)."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.js(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {expression}; "
                                     f"errors: {self.errors()}")
            time.sleep(0.1)

    def errors(self) -> list[str]:
        out = []
        for p in self._events("Runtime.exceptionThrown"):
            d = p["exceptionDetails"]
            out.append(f"exception: {d.get('exception', {}).get('description') or d.get('text')}")
        for p in self._events("Runtime.consoleAPICalled"):
            if p["type"] in ("error", "assert"):
                out.append("console: " + " ".join(str(a.get("value", a.get("description")))
                                                  for a in p["args"]))
        for p in self._events("Log.entryAdded"):
            if p["entry"]["level"] == "error":
                out.append(f"log: {p['entry']['text']}")
        return out

    def requests(self) -> list[str]:
        return [p["request"]["url"] for p in self._events("Network.requestWillBeSent")]

    def click(self, x: float, y: float) -> None:
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            self.send("Input.dispatchMouseEvent", {"type": kind, "x": x, "y": y, "button": "left",
                                                   "clickCount": 1})

    def hover(self, x: float, y: float) -> None:
        self.send("Input.dispatchMouseEvent", {"type": "mouseMoved", "x": x, "y": y})

    def type_text(self, text: str) -> None:
        self.send("Input.insertText", {"text": text})

    def press_enter(self) -> None:
        key = {"key": "Enter", "code": "Enter", "windowsVirtualKeyCode": 13,
               "nativeVirtualKeyCode": 13}
        self.send("Input.dispatchKeyEvent", {"type": "keyDown", "text": "\r", **key})
        self.send("Input.dispatchKeyEvent", {"type": "keyUp", **key})

    def screenshot(self, path: Path) -> None:
        png = base64.b64decode(self.send("Page.captureScreenshot", {"format": "png"})["data"])
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(png)

    def close(self) -> None:
        self.browser.send("Target.closeTarget", {"targetId": self.target})


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        pytest.skip("chromium is not installed")
    b = Chromium(CHROMIUM)
    try:
        b.send("Browser.getVersion")
        yield b
    finally:
        b.close()


@pytest.fixture
def page(browser):
    p = Page(browser)
    yield p
    p.close()


READY = "document.body.dataset.state === 'ready'"


@needs_chromium
def test_page_in_chromium(tmp_path, graph, page):
    save_graph(graph, tmp_path / "g.json")
    out = tmp_path / "graph.html"
    result = runner.invoke(app, ["view", str(tmp_path / "g.json"), "-o", str(out),
                                 "--title", "kgx demo graph"])
    assert result.exit_code == 0, result.output
    page.open(out)
    page.wait_for(READY)
    assert page.errors() == []
    assert page.requests() == [page.url]  # nothing but the file itself
    assert page.js("window.kgxView.network.body.data.nodes.length") == N_NODES
    assert page.js("document.body.dataset.nodeCount") == str(N_NODES)
    assert page.js("document.body.dataset.edgeCount") == str(N_EDGES)
    assert page.js("document.body.dataset.visibleEdges") == str(N_EDGES)
    # every node is drawn inside the canvas
    assert page.js("""(() => { const net = kgxView.network, c = net.canvas.frame.canvas;
        return Object.values(net.getPositions()).every(p => { const d = net.canvasToDOM(p);
          return d.x >= 0 && d.y >= 0 && d.x <= c.clientWidth && d.y <= c.clientHeight; }); })()""")
    assert page.js("document.querySelectorAll('#kgx-legend-list li').length") == 3
    assert page.js("document.title") == "kgx demo graph"
    page.screenshot(ARTIFACTS / "graph.png")

    # a real click on a node opens its facts (once the nodes have stopped moving)
    page.wait_for("document.body.dataset.layout === 'stable'")
    acme = node_by_name(graph, "Acme Corp")
    x, y = page.js(f"""(() => {{ const net = kgxView.network;
        const p = net.canvasToDOM(net.getPositions([{json.dumps(acme)}])[{json.dumps(acme)}]);
        const r = net.canvas.frame.getBoundingClientRect();
        return [r.left + p.x, r.top + p.y]; }})()""")
    page.click(x, y)
    page.wait_for(f"document.body.dataset.selected === {json.dumps(acme)}")
    panel = page.js("document.getElementById('kgx-panel').innerText")
    assert "Acme Corp" in panel and "Facts (3)" in panel
    assert "Work_For" in panel and "Maria Lopez" in panel and "confidence" in panel
    assert "count 2" in panel and "doc d2" in panel
    assert "Dr. Maria Lopez, who joined the Acme Corp in 2019, lives in Lyon." in panel
    assert page.js("document.querySelector('#kgx-panel mark.kgx-tail').textContent") == "Acme Corp"
    page.screenshot(ARTIFACTS / "graph-selected.png")

    # search by alias: type it into the box and press Enter
    page.js("document.getElementById('kgx-search').focus()")
    page.type_text("the acme corp")
    page.press_enter()
    page.wait_for(f"document.body.dataset.selected === {json.dumps(acme)}")
    assert page.js("document.getElementById('kgx-status').textContent") == "found Acme Corp (ORG)"
    page.js("""(() => { document.getElementById('kgx-search').value = 'ångström';
        document.getElementById('kgx-search-form').requestSubmit(); })()""")
    assert page.js("document.body.dataset.selected") == node_by_name(graph, "Zoë Ångström")
    assert "Société Générale" in page.js("document.getElementById('kgx-panel').innerText")
    page.js("""(() => { document.getElementById('kgx-search').value = 'nobody at all';
        document.getElementById('kgx-search-form').requestSubmit(); })()""")
    assert page.js("document.getElementById('kgx-status').textContent") \
        == "no entity matches “nobody at all”"

    # the score slider hides the weak edge, and the entity left without relations
    john, berlin = node_by_name(graph, "John Smith"), node_by_name(graph, "Berlin")
    weak = page.js(f"kgxView.edges.get({{filter: e => e.from === {json.dumps(john)}}})[0].id")
    page.js("""(() => { const s = document.getElementById('kgx-min-score'); s.value = '0.5';
        s.dispatchEvent(new Event('input')); })()""")
    assert page.js(f"kgxView.network.body.data.edges.get({json.dumps(weak)}).hidden") is True
    assert page.js("document.body.dataset.visibleEdges") == str(N_EDGES - 1)
    assert page.js(f"kgxView.nodes.get({json.dumps(john)}).hidden") is True
    assert page.js(f"Boolean(kgxView.nodes.get({json.dumps(berlin)}).hidden)") is False  # 0.55
    assert page.js("document.getElementById('kgx-min-score-value').textContent") == "0.50"
    page.js("document.getElementById('kgx-hide-isolated').click()")
    assert page.js(f"Boolean(kgxView.nodes.get({json.dumps(john)}).hidden)") is False
    # the legend hides a type
    page.js("document.querySelector('#kgx-legend-list li[data-type=\"LOC\"]').click()")
    assert page.js("document.body.dataset.visibleNodes") == str(N_NODES - 6)
    assert page.errors() == []


@needs_chromium
def test_hostile_names_stay_text_in_chromium(tmp_path, page):
    title = "</title><script>window.__kgxPwned = 4</script>"
    out = tmp_path / "hostile.html"
    write_html(hostile_graph(), out, title=title)
    page.open(out)
    page.wait_for(READY)
    assert page.errors() == []
    assert page.js("typeof window.__kgxPwned") == "undefined"
    assert page.js("document.title") == title
    assert page.js("document.querySelectorAll('script').length") == 3
    assert page.js("document.querySelectorAll('img').length") == 0
    assert page.js("kgxView.network.body.data.nodes.length") == len(HOSTILE)
    for name in HOSTILE:
        assert page.js(f"kgxView.search({json.dumps(name)}) !== null")
        assert page.js("document.querySelector('#kgx-panel h2').textContent") == name
    panel = page.js("document.getElementById('kgx-panel').textContent")
    assert "rel</script><!--" in panel and "<!--doc-->" in panel
    assert page.js("typeof window.__kgxPwned") == "undefined"
    assert page.errors() == []


@needs_chromium
@pytest.mark.parametrize("n_nodes", [0, 1])
def test_empty_and_single_entity_graphs_in_chromium(tmp_path, page, n_nodes):
    G = nx.MultiDiGraph()
    if n_nodes:
        G.add_node("http://x/alone", label="LOC", name="Alone", aliases=[], mentions=1,
                   docs=["d1"])
    out = tmp_path / "small.html"
    write_html(G, out)
    page.open(out)
    page.wait_for(READY)
    assert page.errors() == []
    assert page.js("kgxView.network.body.data.nodes.length") == n_nodes
    assert page.js("document.body.dataset.visibleNodes") == str(n_nodes)
    assert page.js("kgxView.search('alone')") == ("http://x/alone" if n_nodes else None)


@needs_chromium
def test_truncated_graph_says_so_in_chromium(tmp_path, page):
    G = nx.MultiDiGraph()
    for hub in range(4):
        for leaf in range(10):
            G.add_edge(f"http://x/hub{hub}", f"http://x/leaf{hub}-{leaf}", key="rel", score=0.8,
                       count=1, evidence=[])
    for n in G:
        G.nodes[n].update(label="HUB" if "hub" in n else "LEAF", name=n.rsplit("/", 1)[1])
    out = tmp_path / "big.html"
    write_html(G, out, max_nodes=12)
    page.open(out)
    page.wait_for(READY)
    assert page.errors() == []
    assert page.js("kgxView.network.body.data.nodes.length") == 12
    notice = page.js("document.getElementById('kgx-notice').innerText")
    assert "showing the 12 entities with the most relations out of 44" in notice
    assert page.js("document.getElementById('kgx-notice').hidden") is False
    write_html(G, out, max_nodes=12, max_edges=5)
    page.open(out)
    page.wait_for(READY)
    assert page.errors() == []
    assert page.js("kgxView.network.body.data.edges.length") == 5
    notice = page.js("document.getElementById('kgx-notice').innerText")
    assert "out of 44 and the 5 strongest relations among them" in notice


@needs_chromium
@pytest.mark.slow
def test_large_graph_in_chromium(tmp_path, page):
    """2,500 entities: the default cap keeps 2,000, the layout settles and physics stops."""
    G = nx.MultiDiGraph()
    n = 2500
    for i in range(n):
        for step in (1, 7):
            if i % 3 or step == 1:
                G.add_edge(f"http://x/e{i}", f"http://x/e{(i * step + 1) % n}", key="r",
                           score=0.5 + (i % 50) / 100, count=1,
                           evidence=[{"doc_id": f"d{i}", "score": 0.5, "head_text": "a",
                                      "tail_text": "b"}])
    for node in G:
        G.nodes[node].update(label=("PER", "ORG", "LOC")[int(node[10:]) % 3], name=node[9:])
    out = tmp_path / "large.html"
    stats = write_html(G, out)
    assert stats["nodes_shown"] == 2000 and stats["truncated"]
    page.open(out)
    page.wait_for(READY, timeout=300)
    assert page.errors() == []
    assert page.js("kgxView.network.body.data.nodes.length") == 2000
    assert page.js("kgxView.network.physics.options.enabled") is False
    assert "out of 2,500" in page.js("document.getElementById('kgx-notice').innerText")
    assert page.js("kgxView.search('e42') !== null")
    page.screenshot(ARTIFACTS / "graph-large.png")


# --- first sight: the view opens readable, and a screenshot waits for the drawing -------------


def png_stats(page: Page, png: bytes, colors: list[str], region: tuple[int, int, int, int]):
    """Decode a PNG in the browser: its size, how many distinct colours it has, and per colour
    in ``colors`` how many pixels inside ``region`` (x0, y0, x1, y1) have it (±6 a channel)."""
    b64 = base64.b64encode(png).decode()
    rgb = [[int(c[i:i + 2], 16) for i in (1, 3, 5)] for c in colors]
    return page.js(f"""(async () => {{
        const img = new Image(); img.src = "data:image/png;base64,{b64}"; await img.decode();
        const c = document.createElement("canvas"); c.width = img.width; c.height = img.height;
        const ctx = c.getContext("2d"); ctx.drawImage(img, 0, 0);
        const d = ctx.getImageData(0, 0, c.width, c.height).data;
        const seen = new Set(), want = {json.dumps(rgb)}, counts = want.map(() => 0);
        const [x0, y0, x1, y1] = {json.dumps(list(region))};
        for (let y = 0; y < c.height; y++) for (let x = 0; x < c.width; x++) {{
            const i = 4 * (y * c.width + x);
            seen.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
            if (x < x0 || x >= x1 || y < y0 || y >= y1) continue;
            want.forEach((w, k) => {{ if (Math.abs(d[i] - w[0]) <= 6
                && Math.abs(d[i + 1] - w[1]) <= 6 && Math.abs(d[i + 2] - w[2]) <= 6)
                counts[k]++; }});
        }}
        return {{width: c.width, height: c.height, colours: seen.size, counts: counts}};
    }})()""")


def dark_pixels(page: Page, box: dict[str, float]) -> int:
    """Dark (text-coloured) pixels the graph canvas holds inside a box given in window pixels."""
    return page.js(f"""(() => {{
        const c = kgxView.network.canvas.frame.canvas, r = c.getBoundingClientRect();
        const k = c.width / r.width, b = {json.dumps(box)};
        const d = c.getContext("2d").getImageData(Math.floor((b.x - r.left) * k),
            Math.floor((b.y - r.top) * k), Math.ceil(b.width * k), Math.ceil(b.height * k)).data;
        let n = 0;
        for (let i = 0; i < d.length; i += 4)
            if (d[i + 3] > 200 && Math.max(d[i], d[i + 1], d[i + 2]) < 90) n++;
        return n; }})()""")


@needs_chromium
def test_cli_view_screenshot_in_chromium(tmp_path, page):
    """`kgx view --screenshot` waits for the drawing: the PNG shows nodes, not a blank canvas
    (this graph takes long enough to lay out for a screenshot taken at once to be blank)."""
    save_graph(hub_graph(40, n_ring=160), tmp_path / "g.json")
    out, png = tmp_path / "g.html", tmp_path / "g.png"
    result = runner.invoke(app, ["view", str(tmp_path / "g.json"), "-o", str(out),
                                 "--screenshot", str(png)])
    assert result.exit_code == 0, result.output
    assert f"screenshot: {png}" in result.output
    raw = png.read_bytes()
    assert raw[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", raw[16:24]) == (1280, 860)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "graph-screenshot.png").write_bytes(raw)
    # the graph area: right of the legend, below the header, left of the side panel
    stats = png_stats(page, raw, list(PALETTE[:3]), (140, 90, 880, 860))
    assert stats["width"] == 1280 and stats["colours"] > 50  # not one colour, not a blank page
    assert min(stats["counts"]) >= 100, stats  # nodes of each of the three types are drawn


@needs_chromium
def test_first_view_is_readable_in_chromium(tmp_path, page):
    """A graph too big to read whole opens on its hub, zoomed so that its label is legible."""
    G = hub_graph(40, n_ring=160)
    out = tmp_path / "hub.html"
    write_html(G, out)
    page.open(out)
    page.wait_for(READY)
    assert page.errors() == []
    assert page.js("window.kgxReady") is True
    first = page.js("kgxView.firstView()")
    assert first["focus"] == "http://x/hub" and first["name"] == "Hub"
    assert first["how"] in ("neighbours", "entity") and first["scale"] >= 0.8
    box = first["label"]
    assert box["drawn"] and box["inside"] and box["uncovered"], box
    assert box["height"] >= 10 and box["font_px"] >= 12, box
    assert dark_pixels(page, box) >= 30  # the label's text is really on the canvas there
    assert json.loads(page.js("document.body.dataset.firstView")) == first  # for --dump-dom
    page.screenshot(ARTIFACTS / "graph-hub.png")

    # few relation labels: none until an entity or edge is pointed at or selected
    labelled = "kgxView.edges.get().filter(e => e.label.trim()).map(e => e.id).sort()"
    assert page.js(labelled) == []
    leaf, x, y = page.js("""(() => { const net = kgxView.network, r = net.canvas.frame.canvas
        .getBoundingClientRect();
        for (const id of net.getConnectedNodes("http://x/hub")) {
            if (id === "http://x/leaf0") continue;
            const p = net.canvasToDOM(net.getPosition(id));
            if (p.x > 160 && p.x < r.width - 160 && p.y > 120 && p.y < r.height - 60)
                return [id, r.left + p.x, r.top + p.y];
        } return [null, 0, 0]; })()""")
    assert leaf is not None
    (edge,) = [e for e in json.loads(data_block(out.read_text(encoding="utf-8")))["edges"]
               if e["to"] == leaf]
    page.hover(x, y)
    page.wait_for(f"kgxView.edges.get({json.dumps(edge['group'])}).label === "
                  f"{json.dumps(edge['relation'])}")
    page.js("kgxView.selectNode('http://x/hub', false)")
    assert len(page.js(labelled)) == 40  # every relation of the hub

    # zoomed out, small labels are not drawn while the hub's larger one still is
    page.js("kgxView.network.moveTo({scale: 0.5}); kgxView.network.redraw(); true")
    assert page.js("kgxView.labelBox('http://x/hub').drawn") is True
    assert page.js("kgxView.labelBox('http://x/leaf1').drawn") is False
    # and the whole graph at once would have been unreadable: the test graph is a real hairball
    assert page.js("kgxView.network.fit({animation: false}); kgxView.network.getScale()") < 0.8
    assert page.errors() == []


@needs_chromium
def test_parallel_relations_in_chromium(tmp_path, page):
    G = build(PARALLEL)
    out = tmp_path / "parallel.html"
    write_html(G, out)
    page.open(out)
    page.wait_for(READY)
    assert page.errors() == []
    assert page.js("kgxView.network.body.data.edges.length") == 2
    ann, bolt = node_by_name(G, "Ann Lee"), node_by_name(G, "Bolt")
    (group,) = [g["id"] for g in graph_view_data(G)["groups"] if g["from"] == ann]
    drawn = f"""(() => {{ const e = kgxView.edges.get({json.dumps(group)});
        return [e.label, e.hidden || false, e.arrows.to.enabled, e.arrows.from.enabled]; }})()"""
    assert page.js(drawn) == ["Work_For · Founded · Employs", False, True, True]
    # a real click on the drawn edge lists the three facts between the two entities
    x, y = page.js(f"""(() => {{ const net = kgxView.network;
        const p = net.canvasToDOM(net.body.edges[{json.dumps(group)}].edgeType.getPoint(0.5));
        const r = net.canvas.frame.canvas.getBoundingClientRect();
        return [r.left + p.x, r.top + p.y]; }})()""")
    page.click(x, y)
    panel = page.js("document.getElementById('kgx-panel').innerText")
    assert "Facts (3)" in panel and "Bolt employs Ann Lee." in panel
    assert all(rel in panel for rel in ("Work_For", "Founded", "Employs"))
    # the score filter takes relations off the edge, then the edge itself
    page.js("kgxView.setMinScore(0.75)")
    assert page.js(drawn) == ["Work_For · Founded", False, True, False]
    page.js("kgxView.setMinScore(0.95)")
    assert page.js(drawn)[1] is True
    assert bolt and page.errors() == []
