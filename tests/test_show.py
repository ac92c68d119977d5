"""kgx.show's HTML page: relation arcs over the sentences, repeats grouped, nothing fetched."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import spacy

from kgx.relations import set_relations
from kgx.show import group_relations, render_html

SVG = "{http://www.w3.org/2000/svg}"


def make_doc(text: str, names: dict[str, str], rels: list[tuple[str, int, str, int, str, float]],
             sentences: bool = True):
    """``text`` with every occurrence of each name as an entity, and relations given as
    (head name, its occurrence, label, tail name, its occurrence, score)."""
    nlp = spacy.blank("en")
    if sentences:
        nlp.add_pipe("sentencizer")
    doc = nlp(text)
    spans = [doc.char_span(m.start(), m.end(), label=label)
             for name, label in names.items() for m in re.finditer(re.escape(name), text)]
    doc.ents = sorted(spans, key=lambda s: s.start)
    ents = list(doc.ents)

    def index(name: str, k: int) -> int:
        return [i for i, e in enumerate(ents) if e.text == name][k]

    set_relations(doc, [{"head": index(h, hk), "tail": index(t, tk), "label": label,
                         "score": score} for h, hk, label, t, tk, score in rels])
    return doc


NAMES = {"Maria Lopez": "PER", "Acme Corporation": "ORG", "Paris": "LOC", "John Smith": "PER"}
TEXT = ("Maria Lopez works for Acme Corporation in Paris. Acme Corporation hired John Smith. "
        "Maria Lopez works for Acme Corporation. John Smith lives in Paris and works for "
        "Acme Corporation.")
RELS = [
    ("Maria Lopez", 0, "Work_For", "Acme Corporation", 0, 0.9),
    ("Acme Corporation", 0, "Located_In", "Paris", 0, 0.8),
    ("Maria Lopez", 0, "Live_In", "Paris", 0, 0.6),
    ("John Smith", 0, "Work_For", "Acme Corporation", 1, 0.7),
    ("Maria Lopez", 1, "Work_For", "Acme Corporation", 2, 0.95),  # a repeat (sentence 3)
    ("John Smith", 1, "Live_In", "Paris", 1, 0.85),
    ("John Smith", 1, "Work_For", "Acme Corporation", 3, 0.75),  # a repeat (sentence 4)
]


def arcs(page: str) -> list[tuple[str, str, str]]:
    """(data-label, arc label text, block heading) for every arc drawn on the page."""
    found = []
    for heading, svg in re.findall(r"<h3>(.*?)</h3><div[^>]*>(<svg.*?</svg>)", page, re.S):
        for g in ET.fromstring(svg).iter(f"{SVG}g"):
            if g.get("class") != "kgx-rel":
                continue
            paths = [p for p in g.iter(f"{SVG}path") if p.get("class") == "kgx-arc"]
            assert len(paths) == 1 and paths[0].get("d", "").startswith("M")
            label = next(t for t in g.iter(f"{SVG}text") if t.get("class") == "kgx-arc-label")
            found.append((g.get("data-label"), label.text, heading))
    return found


def test_one_arc_per_distinct_relation_with_its_label_and_repeats_grouped():
    doc = make_doc(TEXT, NAMES, RELS)
    facts = group_relations(doc)
    assert [(f.head.text, f.label, f.tail.text, len(f.scores)) for f in facts] == [
        ("Maria Lopez", "Work_For", "Acme Corporation", 2),
        ("Acme Corporation", "Located_In", "Paris", 1),
        ("Maria Lopez", "Live_In", "Paris", 1),
        ("John Smith", "Work_For", "Acme Corporation", 2),
        ("John Smith", "Live_In", "Paris", 1),
    ]
    assert facts[0].sentences == [1, 3] and facts[0].score == 0.95
    page = render_html(doc)
    drawn = arcs(page)
    assert sorted(drawn) == sorted([
        ("Work_For", "Work_For 0.95 ×2", "Sentence 1"),
        ("Located_In", "Located_In 0.80", "Sentence 1"),
        ("Live_In", "Live_In 0.60", "Sentence 1"),
        ("Work_For", "Work_For 0.75 ×2", "Sentence 2"),
        ("Live_In", "Live_In 0.85", "Sentence 4"),
    ])
    assert page.count('class="kgx-arc"') == len(facts) == 5
    # sentence 3 says nothing new: no block for it
    assert re.findall(r"<h3>(.*?)</h3>", page) == ["Sentence 1", "Sentence 2", "Sentence 4"]
    assert "7 relations (5 distinct" in page
    # every entity of a drawn sentence is boxed with its type
    assert page.count('class="kgx-ent"') == 3 + 2 + 3


def test_the_page_is_self_contained():
    page = render_html(make_doc(TEXT, NAMES, RELS))
    assert "<script" not in page
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", page)
    assert "url(http" not in page and "@import" not in page


def test_a_relation_across_sentences_joins_them_and_text_is_escaped():
    names = {"Wei Chen": "PER", "AT&T <Labs>": "ORG", "Osaka": "LOC"}
    text = "Wei Chen joined AT&T <Labs>. It is in Osaka. Wei Chen likes tea."
    rels = [("AT&T <Labs>", 0, "Located_In", "Osaka", 0, 0.7),
            ("Wei Chen", 0, "Work_For", "AT&T <Labs>", 0, 0.9)]
    page = render_html(make_doc(text, names, rels))
    assert sorted(arcs(page)) == [("Located_In", "Located_In 0.70", "Sentences 1–2"),
                                  ("Work_For", "Work_For 0.90", "Sentences 1–2")]
    assert "AT&amp;T" in page and "<Labs>" not in page
    # without sentence boundaries the whole text is one block
    page = render_html(make_doc(text, names, rels, sentences=False))
    assert {heading for *_, heading in arcs(page)} == {"Text"}


def test_no_relations():
    doc = make_doc("Maria Lopez is here.", {"Maria Lopez": "PER"}, [])
    page = render_html(doc)
    assert "No relations." in page and "kgx-arc" not in page.split("<h2>Relations</h2>")[1]
