"""Showing what the pipeline found in one document: a terminal table and an HTML page.

The page draws each relation as an arc over its sentence (displaCy's dependency style: entities
highlighted in the text, an arc from head to tail labelled with the relation and its score), so
a reader sees which words a fact came from. A document says the same fact many times (a name
repeated, a sentence quoted twice): the same head, label and tail are drawn once, in the first
sentence that says it, with a count, and only sentences with something new get a block. The SVG
is written here rather than by displaCy, whose dependency view puts every token a fixed distance
apart and cannot mark multi-token entities; displaCy's entity view shows the whole text above.
"""

from __future__ import annotations

import html
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from spacy import displacy
from spacy.tokens import Doc, Span

from kgx.records import doc_to_records, model_name
from kgx.relations import get_relations
from kgx.viz import type_colors

# the arcs view, in pixels: each token is stretched to its characters x CHAR_W (textLength),
# so entity boxes and arc ends line up whatever monospace font the browser picks
CHAR_W = 9.0
FONT = 15
LEVEL_H = 26
PAD = 16


def render_table(doc: Doc) -> str:
    """Entities, then relations, as aligned plain-text tables."""
    lines = [f"{'entity':<40}{'label':<14}{'chars':>14}"]
    for ent in doc.ents:
        lines.append(f"{ent.text[:39]:<40}{ent.label_:<14}{ent.start_char:>7}-{ent.end_char:<6}")
    if not doc.ents:
        lines.append("(no entities)")
    lines += ["", f"{'head':<30}{'relation':<18}{'tail':<30}{'score':>7}"]
    rels = get_relations(doc)
    for rel in rels:
        lines.append(f"{rel.head.text[:29]:<30}{rel.label[:17]:<18}{rel.tail.text[:29]:<30}"
                     f"{rel.score:7.3f}")
    if not rels:
        lines.append("(no relations)")
    return "\n".join(lines)


@dataclass
class Fact:
    """One distinct (head, label, tail) of a document: where it is first said, and how often."""

    head: Span
    tail: Span
    label: str
    scores: list[float] = field(default_factory=list)
    sentences: list[int] = field(default_factory=list)

    @property
    def score(self) -> float:
        """The best mention's score (what ``kgx graph`` keeps per document)."""
        return max(self.scores)


def _sentence_range(doc: Doc, head: Span, tail: Span) -> tuple[int, int]:
    """Tokens of the sentence(s) holding ``head`` and ``tail`` (the whole doc without
    sentence boundaries)."""
    try:
        a, b = head.sent, tail.sent
    except ValueError:  # E030: no sentence boundaries
        return 0, len(doc)
    return min(a.start, b.start), max(a.end, b.end)


def group_relations(doc: Doc) -> list[Fact]:
    """The document's relations with repeats folded: same head text and type, label, tail text
    and type → one :class:`Fact`, at its first mention, in order of first mention."""
    starts = {s.start: i for i, s in enumerate(doc.sents)} if _has_sents(doc) else {}
    facts: dict[tuple[str, ...], Fact] = {}
    for rel in get_relations(doc):
        key = (rel.head.text, rel.head.label_, rel.label, rel.tail.text, rel.tail.label_)
        fact = facts.setdefault(key, Fact(rel.head, rel.tail, rel.label))
        fact.scores.append(rel.score)
        first = _sentence_range(doc, rel.head, rel.tail)[0]
        fact.sentences.append(starts.get(first, 0) + 1)
    return list(facts.values())


def _has_sents(doc: Doc) -> bool:
    return doc.has_annotation("SENT_START") or doc.has_annotation("DEP")


def _blocks(doc: Doc, facts: list[Fact]) -> list[tuple[int, int, list[Fact]]]:
    """Token ranges to draw, each with its facts: the sentence(s) of each fact's first mention,
    ranges that overlap merged (a relation across a sentence boundary joins the two)."""
    ranged = sorted((_sentence_range(doc, f.head, f.tail), i) for i, f in enumerate(facts))
    blocks: list[tuple[int, int, list[Fact]]] = []
    for (start, end), i in ranged:
        if blocks and start < blocks[-1][1]:
            s, e, fs = blocks[-1]
            blocks[-1] = (s, max(e, end), [*fs, facts[i]])
        else:
            blocks.append((start, end, [facts[i]]))
    return blocks


def _tint(color: str, amount: float = 0.3) -> str:
    """``color`` mixed with white: a background black text stays readable on."""
    rgb = [int(color[i:i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(255 - (255 - c) * amount):02x}" for c in rgb)


def _levels(spans: list[tuple[float, float]]) -> list[int]:
    """A height per arc: shorter arcs lower, an arc above every arc it overlaps, so that no
    two overlapping arcs share a height and their labels stay apart."""
    levels = [0] * len(spans)
    placed: list[int] = []
    for i in sorted(range(len(spans)), key=lambda j: (abs(spans[j][1] - spans[j][0]), j)):
        a, b = sorted(spans[i])
        under = [levels[j] for j in placed if min(spans[j]) <= b and a <= max(spans[j])]
        levels[i] = 1 + max(under, default=0)
        placed.append(i)
    return levels


def _arc_path(x1: float, x2: float, y0: float, top: float) -> str:
    """Up from ``x1``, across at ``top`` with rounded corners, down to ``x2``."""
    sign = 1 if x2 >= x1 else -1
    r = min(6.0, abs(x2 - x1) / 2, (y0 - top) / 2)
    return (f"M{x1:.1f},{y0:.1f} V{top + r:.1f} Q{x1:.1f},{top:.1f} {x1 + sign * r:.1f},"
            f"{top:.1f} H{x2 - sign * r:.1f} Q{x2:.1f},{top:.1f} {x2:.1f},{top + r:.1f} "
            f"V{y0:.1f}")


def render_arcs(doc: Doc, start: int, end: int, facts: list[Fact],
                colors: dict[str, str]) -> str:
    """One SVG: the tokens ``start:end`` of ``doc`` on a line, entities boxed and typed, and an
    arc from head to tail per fact, labelled "label score" (and "×n" when said n times)."""
    base = doc[start:end].start_char
    e = html.escape

    def x(char: int) -> float:
        return PAD + (char - base) * CHAR_W

    # several arcs on one entity leave it from points spread across its width
    touching: dict[tuple[int, int], list[tuple[int, int]]] = defaultdict(list)
    for i, f in enumerate(facts):
        touching[(f.head.start_char, f.head.end_char)].append((i, 0))
        touching[(f.tail.start_char, f.tail.end_char)].append((i, 1))
    anchor: dict[tuple[int, int], float] = {}
    for (a, b), ends in touching.items():
        for k, end_ in enumerate(ends):
            anchor[end_] = x(a) + (x(b) - x(a)) * (k + 1) / (len(ends) + 1)
    spans = [(anchor[(i, 0)], anchor[(i, 1)]) for i in range(len(facts))]
    levels = _levels(spans)
    y0 = PAD + FONT + (max(levels, default=0)) * LEVEL_H
    y_text = y0 + FONT + 4
    width = x(doc[end - 1].idx + len(doc[end - 1].text)) + PAD
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="kgx-arcs" width="{width:.0f}" '
             f'height="{y_text + 26:.0f}" font-size="{FONT}">',
             '<defs><marker id="kgx-arrow" viewBox="0 0 10 10" refX="9" refY="5" '
             'markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
             '<path d="M0,0 L10,5 L0,10 z" fill="#444"/></marker></defs>']
    for ent in doc.ents:
        if ent.start >= start and ent.end <= end:
            color = colors.get(ent.label_, "#999999")
            parts.append(
                f'<g class="kgx-ent"><rect x="{x(ent.start_char) - 2:.1f}" y="{y0 + 1:.1f}" '
                f'width="{(ent.end_char - ent.start_char) * CHAR_W + 4:.1f}" height="{FONT + 8}"'
                f' rx="3" fill="{_tint(color)}" stroke="{color}"/><text x="'
                f'{x(ent.start_char):.1f}" y="{y_text + 17:.1f}" font-size="11" fill="{color}" '
                f'font-family="sans-serif">{e(ent.label_)}</text></g>')
    for tok in doc[start:end]:
        if tok.text.strip():
            parts.append(f'<text x="{x(tok.idx):.1f}" y="{y_text:.1f}" font-family="monospace" '
                         f'textLength="{len(tok.text) * CHAR_W:.1f}" lengthAdjust='
                         f'"spacingAndGlyphs">{e(tok.text)}</text>')
    for f, (x1, x2), level in zip(facts, spans, levels, strict=True):
        top = y0 - level * LEVEL_H
        said = f" ×{len(f.scores)}" if len(f.scores) > 1 else ""
        where = ", ".join(str(s) for s in f.sentences)
        title = (f"{f.head.text} —{f.label}→ {f.tail.text}: said {len(f.scores)} time(s), "
                 f"sentence(s) {where}; scores " + ", ".join(f"{s:.3f}" for s in f.scores))
        parts.append(
            f'<g class="kgx-rel" data-label="{e(f.label)}" data-count="{len(f.scores)}">'
            f'<title>{e(title)}</title><path class="kgx-arc" d="{_arc_path(x1, x2, y0, top)}" '
            f'fill="none" stroke="#444" stroke-width="1.5" marker-end="url(#kgx-arrow)"/>'
            f'<text class="kgx-arc-label" x="{(x1 + x2) / 2:.1f}" y="{top - 4:.1f}" '
            f'text-anchor="middle" font-size="12" font-family="sans-serif">{e(f.label)} '
            f'{f.score:.2f}{said}</text></g>')
    parts.append("</svg>")
    return "".join(parts)


_STYLE = (
    "body{font-family:sans-serif;margin:2em;color:#222}"
    ".kgx-block{margin:1.5em 0}.kgx-scroll{overflow-x:auto;border:1px solid #eee;padding:4px}"
    ".kgx-arc-label{paint-order:stroke;stroke:#fff;stroke-width:4px}"
    ".kgx-rel:hover .kgx-arc{stroke:#c00;stroke-width:2.5}.summary{color:#555}"
)


def render_html(doc: Doc) -> str:
    """A self-contained page (inline CSS and SVG, nothing fetched): a summary, displaCy's
    entity view of the whole text, then a block of relation arcs per sentence saying
    something new."""
    labels = sorted({ent.label_ for ent in doc.ents})
    colors = type_colors(labels)
    ents = displacy.render(doc, style="ent", page=False, jupyter=False,
                           options={"colors": {k: _tint(v, 0.45) for k, v in colors.items()}})
    facts = group_relations(doc)
    n_rels = sum(len(f.scores) for f in facts)
    starts = [s.start for s in doc.sents] if _has_sents(doc) else []
    blocks = []
    for start, end, block_facts in _blocks(doc, facts):
        where = [n + 1 for n, s in enumerate(starts) if start <= s < end]
        heading = ("Text" if not where else f"Sentence {where[0]}" if len(where) == 1
                   else f"Sentences {where[0]}–{where[-1]}")
        blocks.append(f'<section class="kgx-block"><h3>{html.escape(heading)}</h3>'
                      f'<div class="kgx-scroll">{render_arcs(doc, start, end, block_facts, colors)}'
                      f"</div></section>")
    summary = (f"{len(doc.ents)} entities, {n_rels} relations ({len(facts)} distinct: the same "
               "head, relation and tail said again is drawn once, with ×n)")
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>kgx show</title>'
        f"<style>{_STYLE}</style></head><body><h1>kgx show</h1>"
        f'<p class="summary">{html.escape(summary)}</p><h2>Entities</h2>{ents}'
        f"<h2>Relations</h2>{''.join(blocks) or '<p>No relations.</p>'}</body></html>"
    )


def show_records(doc: Doc, nlp: Any) -> dict[str, Any]:
    """Entities and relation records of one document, for ``--json``."""
    return {
        "entities": [{"text": e.text, "label": e.label_, "start_char": e.start_char,
                      "end_char": e.end_char} for e in doc.ents],
        "relations": list(doc_to_records(doc, "input", model_name(nlp))),
    }
