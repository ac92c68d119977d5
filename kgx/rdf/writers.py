"""The built-in RDF formats (:data:`kgx.rdf.formats.FORMATS`): one class each.

N-Triples and N-Quads are written as a stream by kgx's own term serialiser (memory does not grow
with the number of statements); Turtle, TriG, JSON-LD and RDF/XML go through rdflib, with two
repairs: doubles keep every digit in Turtle/TriG, and JSON-LD puts the default graph at the top.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

import networkx as nx

from kgx.rdf.formats import RdfFormat
from kgx.rdf.quads import Quad, iter_quads
from kgx.rdf.vocabulary import Vocabulary


def write_stream(quads: Iterable[Quad], out: IO[str], *, quads_format: bool = True,
                 chunk: int = 4096) -> int:
    """Write N-Quads (or N-Triples, graphs dropped) line by line; returns the number written."""
    n = 0
    lines: list[str] = []
    for s, p, o, g in quads:
        if g is not None and quads_format:
            lines.append(f"{s} {p} {o} {g} .\n")
        else:
            lines.append(f"{s} {p} {o} .\n")
        if len(lines) >= chunk:
            out.writelines(lines)
            n += len(lines)
            lines.clear()
    out.writelines(lines)
    return n + len(lines)


def to_rdflib(G: nx.MultiDiGraph, vocab: Vocabulary | None = None, *, lang: str = "en",
              named_graphs: bool = True):
    """The RDF view as an rdflib ``Dataset`` (or a flattened ``Graph``), prefixes bound."""
    import rdflib
    from rdflib.namespace import NamespaceManager

    vocab = vocab if vocab is not None else Vocabulary.default()
    buf = io.StringIO()
    write_stream(iter_quads(G, vocab, lang=lang, named_graphs=named_graphs), buf,
                 quads_format=named_graphs)
    target: rdflib.Graph
    if named_graphs:
        target = rdflib.Dataset()
        target.namespace_manager = NamespaceManager(target, bind_namespaces="none")
        target.parse(data=buf.getvalue(), format="nquads")
    else:
        target = rdflib.Graph(bind_namespaces="none")
        target.parse(data=buf.getvalue(), format="nt")
    for name, ns in vocab.all_prefixes().items():
        target.bind(name, ns, override=True, replace=True)
    return target


def _exact_double_serializer(fmt: str):
    """rdflib's Turtle/TriG serializer, but writing xsd:double literals with their lexical form.

    rdflib's Turtle shorthand for doubles is ``f"{value:e}"``, which keeps only 7 significant
    digits (0.123456789 becomes 1.234568e-01): scores would not survive the round trip.
    """
    from rdflib import XSD, Literal
    from rdflib.plugins.serializers.trig import TrigSerializer
    from rdflib.plugins.serializers.turtle import _GEN_QNAME_FOR_DT, TurtleSerializer

    parent = TrigSerializer if fmt == "trig" else TurtleSerializer

    class ExactDoubles(parent):  # type: ignore[valid-type, misc]
        def label(self, node, position):
            if isinstance(node, Literal) and node.datatype == XSD.double:
                return node._literal_n3(
                    use_plain=False,
                    qname_callback=lambda dt: self.get_pname(dt, _GEN_QNAME_FOR_DT))
            return super().label(node, position)

    return ExactDoubles


def _lift_default_graph(doc: Any) -> Any:
    """Put the default graph's nodes at the top level of rdflib's JSON-LD.

    With named graphs present, rdflib 7 writes the default graph as an ``{"@graph": [...]}``
    object without ``@id``, which JSON-LD parsers read as a graph named by a blank node.
    """
    if not isinstance(doc, dict) or not isinstance(doc.get("@graph"), list):
        return doc
    top: list[Any] = []
    for item in doc["@graph"]:
        if isinstance(item, dict) and "@graph" in item and "@id" not in item and len(item) == 1:
            top.extend(item["@graph"])
        else:
            top.append(item)
    doc["@graph"] = top
    return doc


# --- streamed --------------------------------------------------------------------------------


class _Streamed(RdfFormat):
    def write(self, G: nx.MultiDiGraph, path: Path, vocab: Vocabulary, lang: str) -> int:
        with open(path, "w", encoding="utf-8", newline="\n", buffering=1 << 20) as out:
            return write_stream(
                iter_quads(G, vocab, lang=lang, named_graphs=self.named_graphs), out,
                quads_format=self.named_graphs)


class NTriples(_Streamed):
    name, suffixes, media_type = "nt", (".nt",), "application/n-triples"
    named_graphs, rdflib = False, "nt"


class NQuads(_Streamed):
    name, suffixes, media_type = "nq", (".nq",), "application/n-quads"
    named_graphs, rdflib = True, "nquads"


# --- through rdflib --------------------------------------------------------------------------


class _ThroughRdflib(RdfFormat):
    def write(self, G: nx.MultiDiGraph, path: Path, vocab: Vocabulary, lang: str) -> int:
        data = to_rdflib(G, vocab, lang=lang, named_graphs=self.named_graphs)
        n = (sum(1 for _ in data.quads((None, None, None, None))) if self.named_graphs
             else len(data))
        self.serialize(data, path)
        return n

    def serialize(self, data: Any, path: Path) -> None:
        data.serialize(destination=str(path), format=self.rdflib, encoding="utf-8")


class _ExactDoubles(_ThroughRdflib):
    def serialize(self, data: Any, path: Path) -> None:
        with open(path, "wb") as fh:
            _exact_double_serializer(self.name)(data).serialize(fh, encoding="utf-8")


class Turtle(_ExactDoubles):
    name, suffixes, media_type = "ttl", (".ttl",), "text/turtle"
    named_graphs, rdflib = False, "turtle"


class TriG(_ExactDoubles):
    name, suffixes, media_type = "trig", (".trig",), "application/trig"
    named_graphs, rdflib = True, "trig"


class JsonLd(_ThroughRdflib):
    name, suffixes, media_type = "jsonld", (".jsonld", ".json"), "application/ld+json"
    named_graphs, rdflib = True, "json-ld"

    def serialize(self, data: Any, path: Path) -> None:
        doc = _lift_default_graph(json.loads(data.serialize(format="json-ld", auto_compact=True)))
        path.write_text(json.dumps(doc, ensure_ascii=False, indent=2), encoding="utf-8")


class RdfXml(_ThroughRdflib):
    name, suffixes, media_type = "xml", (".rdf", ".xml", ".owl"), "application/rdf+xml"
    named_graphs, rdflib = False, "xml"

    def serialize(self, data: Any, path: Path) -> None:
        """RDF/XML is XML 1.0, which cannot hold some characters (U+0001, U+FFFE, ...) at all,
        not even escaped: a graph holding one is refused with a clear message (the other
        formats carry them), never written as a file no XML parser reads back."""
        for term in (t for triple in data for t in triple):
            found = _XML_ILLEGAL.search(str(term))
            if found:
                raise ValueError(
                    f"RDF/XML is XML 1.0, which cannot hold the character "
                    f"U+{ord(found.group()):04X} (in {str(term)[:60]!r}): export as nt, nq, ttl, "
                    "trig or jsonld, which can")
        super().serialize(data, path)


_XML_ILLEGAL = re.compile("[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
