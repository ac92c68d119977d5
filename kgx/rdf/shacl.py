"""SHACL: shapes from the vocabulary mapping, and checking a graph against them (pyshacl)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from urllib.parse import quote

import networkx as nx

from kgx.rdf.quads import graph_base, iter_quads
from kgx.rdf.terms import SH
from kgx.rdf.vocabulary import Vocabulary
from kgx.rdf.writers import write_stream


def shapes_graph(vocab: Vocabulary, base: str):
    """SHACL shapes from the mapping: subjects of each relation in its domain, objects in its
    range (``sh:class``, so the entity typing in the default graph is what is checked)."""
    import rdflib

    sh = rdflib.Namespace(SH)
    shapes = rdflib.Graph()
    shapes.bind("sh", SH)
    for label, mapped in sorted(vocab.relations.items()):
        p = rdflib.URIRef(vocab.predicate_for(base, label))
        for side, cls, target in (("domain", mapped.domain, sh.targetSubjectsOf),
                                  ("range", mapped.range, sh.targetObjectsOf)):
            if not cls:
                continue
            shape = rdflib.URIRef(f"{base}shape/{quote(label, safe='-_.~')}-{side}")
            shapes.add((shape, rdflib.RDF.type, sh.NodeShape))
            shapes.add((shape, target, p))
            shapes.add((shape, sh["class"], rdflib.URIRef(cls)))
            shapes.add((shape, sh.message, rdflib.Literal(
                f"{side} of {label} must be a {cls}")))
    return shapes


@dataclass
class ValidationReport:
    conforms: bool
    violations: int
    results: list[dict[str, str]]

    def summary(self, first: int = 5) -> str:
        if self.conforms:
            return "SHACL: conforms (0 violations)"
        lines = [f"SHACL: {self.violations} violation(s)"]
        for r in self.results[:first]:
            lines.append(f"  {r['focus']}: {r['message']} (shape {r['shape']})")
        if self.violations > first:
            lines.append(f"  ... and {self.violations - first} more")
        return "\n".join(lines)


def validate(G: nx.MultiDiGraph, vocab: Vocabulary | None = None) -> ValidationReport:
    """Check the default graph (facts and entity typing) against the mapping's shapes."""
    import pyshacl
    import rdflib

    vocab = vocab if vocab is not None else Vocabulary.default()
    base = graph_base(G)
    data = rdflib.Graph()
    buf = io.StringIO()
    write_stream((q for q in iter_quads(G, vocab) if q[3] is None), buf, quads_format=False)
    data.parse(data=buf.getvalue(), format="nt")
    conforms, report, _ = pyshacl.validate(data, shacl_graph=shapes_graph(vocab, base),
                                           inference="none")
    sh = rdflib.Namespace(SH)
    results = []
    for r in report.subjects(rdflib.RDF.type, sh.ValidationResult):
        results.append({
            "focus": str(report.value(r, sh.focusNode)),
            "message": str(report.value(r, sh.resultMessage) or ""),
            "shape": str(report.value(r, sh.sourceShape)),
            "severity": str(report.value(r, sh.resultSeverity)).rsplit("#", 1)[-1],
        })
    results.sort(key=lambda r: (r["focus"], r["shape"]))
    return ValidationReport(bool(conforms), len(results), results)
