"""The RDF view of a graph, as a stream of quads (DESIGN.md "RDF"), no blank nodes anywhere.

Default graph
    Every entity (the node key is its IRI): ``rdf:type`` its mapped class, ``kgx:entityType`` the
    original type label, ``rdfs:label`` its name and ``skos:altLabel`` each alias (language-tagged),
    ``kgx:mentions``, ``owl:sameAs`` and ``schema:sameAs`` its knowledge-base id when linked
    (``--kb``). Every merged fact as a plain triple ``<head> <relation> <tail>`` (what QA
    queries want), plus its statement node ``{base}statement/{hash}`` (``rdf:Statement`` with
    ``rdf:subject/predicate/object``, ``kgx:score`` the aggregated score, ``kgx:evidenceCount``).
    Every document ``{base}document/{quoted doc_id}`` as a ``prov:Entity`` with ``kgx:documentId``,
    and what its reader or its JSONL line said of it (:mod:`kgx.graph.documents`) in Dublin Core:
    ``dcterms:title``, ``creator``, ``date``/``created``/``modified`` (``xsd:date``/``dateTime``
    where they read as dates), ``source`` (an IRI for an http(s) address), ``language``, and
    ``isPartOf`` the IRI of the document it came inside (an e-mail's attachment).
    Unmapped relations ``{base}relation/{label}`` and types ``{base}type/{label}`` are declared.

One named graph per document (named by the document IRI)
    The fact triples that document supports, and per evidence item a statement node
    (``rdf:Statement``, ``kgx:Evidence``) with ``kgx:confidence`` (xsd:double),
    ``prov:wasDerivedFrom`` the document, ``kgx:headStart/headEnd/tailStart/tailEnd/sentenceStart/
    sentenceEnd`` (xsd:integer), ``kgx:model``, ``kgx:headText``/``kgx:tailText``, ``kgx:sentence``
    when the record carried it, and ``kgx:supports`` the merged fact's statement node.

Triple-only formats flatten the dataset (``named_graphs=False``): the per-document copies of the
fact triples are left out (they are already in the default graph) and everything else, the
evidence nodes included, is written as triples, so provenance survives through
``prov:wasDerivedFrom``; only the graph membership itself is lost. RDF-star is not offered.
"""

from __future__ import annotations

from collections.abc import Iterator

import networkx as nx

from kgx.graph import DEFAULT_BASE, DOC_INDEX, DOC_META
from kgx.rdf.terms import (
    DCTERMS,
    IRI_BAD,
    KGX,
    LANG_TAG,
    OWL,
    PROV,
    RDF,
    RDFS,
    SCHEMA,
    SKOS,
    document_iri,
    evidence_iri,
    fact_iri,
    kb_iri,
    nt_date,
    nt_double,
    nt_integer,
    nt_iri,
    nt_string,
)
from kgx.rdf.vocabulary import Vocabulary

Quad = tuple[str, str, str, str | None]  # N-Triples terms: subject, predicate, object, graph


def doc_ids(G: nx.MultiDiGraph) -> list[str]:
    index = G.graph.get(DOC_INDEX)
    if isinstance(index, dict) and index:
        return sorted(index)
    return sorted({ev["doc_id"] for _, _, d in G.edges(data=True) for ev in d.get("evidence", [])})


#: a document field (:mod:`kgx.graph.documents`) → its Dublin Core term
FIELD_TERMS = {"title": "title", "author": "creator", "date": "date", "created": "created",
               "modified": "modified", "url": "source", "language": "language",
               "part_of": "isPartOf"}


def _field_term(name: str, value: str, base: str) -> str:
    """A document field's object: dates typed where they can be read, an address an IRI, the
    document another came inside (an e-mail's attachment) that document's IRI."""
    if name == "part_of":
        return f"<{document_iri(base, value)}>"
    if name in ("date", "created", "modified"):
        return nt_date(value)
    if name == "url" and value.startswith(("http://", "https://")) and not IRI_BAD.search(value):
        return nt_iri(value)
    return nt_string(value)


def graph_base(G: nx.MultiDiGraph) -> str:
    base = G.graph.get("base") or DEFAULT_BASE
    nt_iri(base)
    return base if base.endswith("/") else base + "/"


def iter_quads(
    G: nx.MultiDiGraph,
    vocab: Vocabulary | None = None,
    *,
    lang: str = "en",
    named_graphs: bool = True,
) -> Iterator[Quad]:
    """Every statement of the RDF view of ``G`` as N-Triples-serialised terms (module docstring).

    With ``named_graphs=False`` the dataset is flattened for triple-only formats: all statements
    go to the default graph (``None``) and the per-document copies of fact triples are dropped.
    Statements are generated on the fly; nothing is accumulated.
    """
    vocab = vocab if vocab is not None else Vocabulary.default()
    if not LANG_TAG.match(lang):
        raise ValueError(f"{lang!r} is not a language tag (e.g. en, de, pt-BR)")
    base = graph_base(G)
    a = f"<{RDF}type>"
    r_subj, r_pred, r_obj = f"<{RDF}subject>", f"<{RDF}predicate>", f"<{RDF}object>"
    statement = f"<{RDF}Statement>"
    k = {name: f"<{KGX}{name}>" for name in (
        "entityType", "mentions", "score", "evidenceCount", "relationLabel", "Evidence",
        "confidence", "headStart", "headEnd", "tailStart", "tailEnd", "sentenceStart",
        "sentenceEnd", "model", "headText", "tailText", "sentence", "supports", "documentId",
        "Document")}
    label_p, alt_p = f"<{RDFS}label>", f"<{SKOS}altLabel>"
    derived = f"<{PROV}wasDerivedFrom>"

    classes: dict[str, str] = {}
    nodes: dict[str, str] = {}
    for node in sorted(G.nodes):  # sorted: the output does not depend on insertion order
        data = G.nodes[node]
        s = nodes[node] = nt_iri(str(node))
        type_label = str(data.get("label", ""))
        if type_label not in classes:
            classes[type_label] = nt_iri(vocab.class_for(base, type_label))
        yield s, a, classes[type_label], None
        yield s, k["entityType"], nt_string(type_label), None
        if data.get("name"):
            yield s, label_p, f"{nt_string(str(data['name']))}@{lang}", None
        for alias in data.get("aliases") or []:
            yield s, alt_p, f"{nt_string(str(alias))}@{lang}", None
        if "mentions" in data:
            yield s, k["mentions"], nt_integer(data["mentions"]), None
        if data.get("kb_id"):  # linked to the user's knowledge base (kgx.graph.kb)
            same = nt_iri(kb_iri(base, str(data["kb_id"])))
            yield s, f"<{OWL}sameAs>", same, None
            yield s, f"<{SCHEMA}sameAs>", same, None

    docs: dict[str, str] = {}
    doc_fields = G.graph.get(DOC_META) or {}
    for doc_id in doc_ids(G):
        d = docs[doc_id] = f"<{document_iri(base, doc_id)}>"
        yield d, a, f"<{PROV}Entity>", None
        yield d, a, k["Document"], None
        yield d, k["documentId"], nt_string(doc_id), None
        for name, value in sorted((doc_fields.get(doc_id) or {}).items()):
            if name in FIELD_TERMS:
                term = _field_term(name, str(value), base)
                yield d, f"<{DCTERMS}{FIELD_TERMS[name]}>", term, None

    predicates: dict[str, str] = {}
    adjacency = G._adj  # the edge data without building a view per edge
    for h, t, label in sorted(G.edges(keys=True), key=lambda e: (e[0], e[1], str(e[2]))):
        data = adjacency[h][t][label]
        label = str(label)
        p = predicates.get(label)
        if p is None:
            p = predicates[label] = nt_iri(vocab.predicate_for(base, label))
        hs, ts = nodes[h], nodes[t]
        yield hs, p, ts, None
        fact = f"<{fact_iri(base, h, label, t)}>"
        yield fact, a, statement, None
        yield fact, r_subj, hs, None
        yield fact, r_pred, p, None
        yield fact, r_obj, ts, None
        yield fact, k["relationLabel"], nt_string(label), None
        yield fact, k["score"], nt_double(data.get("score", 0.0)), None
        evidence = data.get("evidence") or []
        yield fact, k["evidenceCount"], nt_integer(data.get("count", len(evidence))), None
        if named_graphs:
            for doc_id in sorted({str(ev["doc_id"]) for ev in evidence}):
                known = docs.get(doc_id)
                if known is None:
                    known = docs[doc_id] = f"<{document_iri(base, doc_id)}>"
                yield hs, p, ts, known
        for ev in evidence:
            doc_id = str(ev["doc_id"])
            known = docs.get(doc_id)
            if known is None:
                known = docs[doc_id] = f"<{document_iri(base, doc_id)}>"
            d = known
            g = d if named_graphs else None
            e = f"<{evidence_iri(base, doc_id, h, label, t, ev)}>"
            yield e, a, statement, g
            yield e, a, k["Evidence"], g
            yield e, r_subj, hs, g
            yield e, r_pred, p, g
            yield e, r_obj, ts, g
            yield e, k["supports"], fact, g
            yield e, derived, d, g
            yield e, k["confidence"], nt_double(ev.get("score", 0.0)), g
            for key, prop in (("head_start", "headStart"), ("head_end", "headEnd"),
                              ("tail_start", "tailStart"), ("tail_end", "tailEnd"),
                              ("sent_start", "sentenceStart"), ("sent_end", "sentenceEnd")):
                if ev.get(key) is not None:
                    yield e, k[prop], nt_integer(ev[key]), g
            if ev.get("model"):
                yield e, k["model"], nt_string(str(ev["model"])), g
            if ev.get("head_text") is not None:
                yield e, k["headText"], nt_string(str(ev["head_text"])), g
            if ev.get("tail_text") is not None:
                yield e, k["tailText"], nt_string(str(ev["tail_text"])), g
            if ev.get("sentence") is not None:
                yield e, k["sentence"], nt_string(str(ev["sentence"])), g

    # Declarations of the kgx-namespace terms used (mapped vocabularies are not re-declared).
    for type_label, cls in classes.items():
        if type_label not in vocab.types:
            yield cls, a, f"<{RDFS}Class>", None
            yield cls, label_p, nt_string(type_label), None
    for label, p in predicates.items():
        mapped = vocab.relations.get(label)
        if mapped is None or not mapped.iri:
            yield p, a, f"<{RDF}Property>", None
            yield p, label_p, nt_string(label), None
            if mapped is not None and mapped.domain:
                yield p, f"<{RDFS}domain>", nt_iri(mapped.domain), None
            if mapped is not None and mapped.range:
                yield p, f"<{RDFS}range>", nt_iri(mapped.range), None
