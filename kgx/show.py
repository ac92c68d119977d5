"""Showing what the pipeline found in one document: a terminal table and a displaCy page."""

from __future__ import annotations

import html
from typing import Any

from spacy import displacy
from spacy.tokens import Doc

from kgx.records import doc_to_records, model_name
from kgx.relations import get_relations


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


def render_html(doc: Doc) -> str:
    """A self-contained page: displaCy's entity view with the relations listed under it."""
    ents = displacy.render(doc, style="ent", page=False, jupyter=False)
    rows = "".join(
        f"<tr><td>{html.escape(r.head.text)}</td><td>{html.escape(r.label)}</td>"
        f"<td>{html.escape(r.tail.text)}</td><td>{r.score:.3f}</td></tr>"
        for r in get_relations(doc)
    ) or '<tr><td colspan="4">no relations</td></tr>'
    return (
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>kgx show</title>"
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:4px 8px}</style></head><body>"
        f"{ents}<h2>Relations</h2><table><tr><th>head</th><th>relation</th><th>tail</th>"
        f"<th>score</th></tr>{rows}</table></body></html>"
    )


def show_records(doc: Doc, nlp: Any) -> dict[str, Any]:
    """Entities and relation records of one document, for ``--json``."""
    return {
        "entities": [{"text": e.text, "label": e.label_, "start_char": e.start_char,
                      "end_char": e.end_char} for e in doc.ents],
        "relations": list(doc_to_records(doc, "input", model_name(nlp))),
    }
