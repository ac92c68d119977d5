"""Graph → RDF: vocabulary mapping, deterministic IRIs, provenance, streaming serialisation.

The RDF model (DESIGN.md "RDF"), no blank nodes anywhere:

Default graph
    Every entity (the node key is its IRI): ``rdf:type`` its mapped class, ``kgx:entityType`` the
    original type label, ``rdfs:label`` its name and ``skos:altLabel`` each alias (language-tagged),
    ``kgx:mentions``. Every merged fact as a plain triple ``<head> <relation> <tail>`` (what QA
    queries want), plus its statement node ``{base}statement/{hash}`` (``rdf:Statement`` with
    ``rdf:subject/predicate/object``, ``kgx:score`` the aggregated score, ``kgx:evidenceCount``).
    Every document ``{base}document/{quoted doc_id}`` as a ``prov:Entity`` with ``kgx:documentId``.
    Unmapped relations ``{base}relation/{label}`` and types ``{base}type/{label}`` are declared.

One named graph per document (named by the document IRI)
    The fact triples that document supports, and per evidence item a statement node
    (``rdf:Statement``, ``kgx:Evidence``) with ``kgx:confidence`` (xsd:double),
    ``prov:wasDerivedFrom`` the document, ``kgx:headStart/headEnd/tailStart/tailEnd/sentenceStart/
    sentenceEnd`` (xsd:integer), ``kgx:model``, ``kgx:headText``/``kgx:tailText``, ``kgx:sentence``
    when the record carried it, and ``kgx:supports`` the merged fact's statement node.

Triple-only formats (nt, ttl, xml) flatten the dataset: the per-document copies of the fact
triples are left out (they are already in the default graph) and everything else, the
evidence nodes included, is written as triples, so provenance survives through
``prov:wasDerivedFrom``; only the graph membership itself is lost. RDF-star is not offered.

N-Triples and N-Quads are written as a stream by this module's own term serialiser (memory does
not grow with the number of statements); Turtle, TriG, JSON-LD and RDF/XML go through rdflib.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import re
import tomllib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote

import networkx as nx

from kgx.graph import DEFAULT_BASE, DOC_INDEX

log = logging.getLogger("kgx")

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
XSD = "http://www.w3.org/2001/XMLSchema#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
PROV = "http://www.w3.org/ns/prov#"
SH = "http://www.w3.org/ns/shacl#"
KGX = "https://w3id.org/kgx/vocab#"

STANDARD_PREFIXES = {"rdf": RDF, "rdfs": RDFS, "xsd": XSD, "skos": SKOS, "prov": PROV, "kgx": KGX}

FORMATS = {
    # name: (rdflib format or None for the streaming writer, has named graphs, file suffixes)
    "nt": (None, False, (".nt",)),
    "nq": (None, True, (".nq",)),
    "ttl": ("turtle", False, (".ttl",)),
    "trig": ("trig", True, (".trig",)),
    "jsonld": ("json-ld", True, (".jsonld", ".json")),
    "xml": ("xml", False, (".rdf", ".xml", ".owl")),
}

DEFAULT_VOCAB = Path(__file__).resolve().parent.parent / "configs" / "vocab.toml"


# --- terms -----------------------------------------------------------------------------------

# Characters that may not appear in an N-Triples IRIREF (spaces and controls included).
_IRI_BAD = re.compile(r'[\x00-\x20<>"{}|^`\\]')
_LANG = re.compile(r"^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$")
_LIT_SPECIAL = re.compile(r'["\\\x00-\x1f\x7f\ud800-\udfff]')
_LIT_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape_char(m: re.Match[str]) -> str:
    ch = m.group()
    esc = _LIT_ESCAPES.get(ch)
    if esc is not None:
        return esc
    if "\ud800" <= ch <= "\udfff":  # a lone surrogate cannot be encoded: keep the text valid
        return "\ufffd"
    return f"\\u{ord(ch):04X}"


def nt_iri(iri: str) -> str:
    """``<iri>`` in N-Triples syntax; a clear error for a string that cannot be an IRI there."""
    if _IRI_BAD.search(iri) or ":" not in iri:
        raise ValueError(f"{iri!r} is not a valid absolute IRI (spaces, quotes, <>{{}}|^` or "
                         "backslashes must be percent-encoded)")
    return f"<{iri}>"


def nt_string(text: str) -> str:
    """A quoted N-Triples string: ``"`` ``\\`` newline, CR, tab and controls escaped, rest UTF-8."""
    return '"' + _LIT_SPECIAL.sub(_escape_char, text) + '"'


def nt_literal(text: str, lang: str | None = None, datatype: str | None = None) -> str:
    """A literal in N-Triples syntax (plain string, language-tagged, or typed)."""
    lex = nt_string(text)
    if lang:
        return f"{lex}@{lang}"
    if datatype and datatype != XSD + "string":
        return f"{lex}^^<{datatype}>"
    return lex


def nt_double(value: float) -> str:
    return f'"{float(value)!r}"^^<{XSD}double>'


def nt_integer(value: int) -> str:
    return f'"{int(value)}"^^<{XSD}integer>'


def document_iri(base: str, doc_id: str) -> str:
    """``{base}document/{doc_id}`` with every reserved or non-ASCII character percent-encoded."""
    return f"{base}document/{quote(doc_id, safe='')}"


def relation_iri(base: str, label: str) -> str:
    return f"{base}relation/{quote(label, safe='-_.~')}"


def type_iri(base: str, label: str) -> str:
    return f"{base}type/{quote(label, safe='-_.~')}"


def _digest(*parts: Any) -> str:
    return hashlib.sha1("\x1f".join(str(p) for p in parts).encode("utf-8", "surrogatepass")
                        ).hexdigest()[:24]


def fact_iri(base: str, head: str, relation: str, tail: str) -> str:
    """The statement node of a merged fact (deterministic: hash of head, relation, tail)."""
    return f"{base}statement/{_digest('fact', head, relation, tail)}"


def evidence_iri(base: str, doc_id: str, head: str, relation: str, tail: str,
                 ev: dict[str, Any]) -> str:
    """The statement node of one evidence item: hash of document, triple and offsets."""
    return f"{base}statement/" + _digest(
        doc_id, head, relation, tail, ev.get("head_start"), ev.get("head_end"),
        ev.get("tail_start"), ev.get("tail_end"), ev.get("sent_start"), ev.get("sent_end"))


# --- vocabulary ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RelationMapping:
    iri: str | None = None
    domain: str | None = None
    range: str | None = None


@dataclass
class Vocabulary:
    """Entity types and relation labels → IRIs, with the prefixes declared in outputs."""

    prefixes: dict[str, str] = field(default_factory=dict)
    types: dict[str, str] = field(default_factory=dict)
    relations: dict[str, RelationMapping] = field(default_factory=dict)
    source: str = "<built-in>"

    def expand(self, value: str, where: str) -> str:
        """A prefixed name or full IRI from the mapping file as a full IRI."""
        if not isinstance(value, str) or not value:
            raise ValueError(f"{self.source}: {where} must be a non-empty string, got {value!r}")
        prefix, sep, local = value.partition(":")
        if sep and not local.startswith("//"):
            ns = self.prefixes.get(prefix) or STANDARD_PREFIXES.get(prefix)
            if ns is not None:
                value = ns + local
            elif prefix not in ("http", "https", "urn"):
                raise ValueError(f"{self.source}: {where}: unknown prefix {prefix!r} in {value!r}")
        try:
            nt_iri(value)
        except ValueError as e:
            raise ValueError(f"{self.source}: {where}: {e}") from e
        return value

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "<dict>") -> Vocabulary:
        if not isinstance(data, dict):
            raise ValueError(f"{source}: a vocabulary must be an object/table")
        vocab = cls(source=source)
        prefixes = data.get("prefixes", {})
        if not isinstance(prefixes, dict):
            raise ValueError(f"{source}: [prefixes] must map names to namespace IRIs")
        for name, ns in prefixes.items():
            if not isinstance(ns, str) or _IRI_BAD.search(ns) or ":" not in ns:
                raise ValueError(f"{source}: prefix {name!r}: {ns!r} is not a namespace IRI")
            vocab.prefixes[name] = ns
        types = data.get("types", {})
        if not isinstance(types, dict):
            raise ValueError(f"{source}: [types] must map entity types to class IRIs")
        for label, value in types.items():
            vocab.types[label] = vocab.expand(value, f"type {label!r}")
        relations = data.get("relations", {})
        if not isinstance(relations, dict):
            raise ValueError(f"{source}: [relations] must map relation labels to tables")
        for label, value in relations.items():
            if isinstance(value, str):
                value = {"iri": value}
            if not isinstance(value, dict) or set(value) - {"iri", "domain", "range"}:
                raise ValueError(f"{source}: relation {label!r} must be an IRI or a table with "
                                 "iri, domain, range")
            vocab.relations[label] = RelationMapping(
                **{k: vocab.expand(v, f"relation {label!r} {k}") for k, v in value.items()})
        return vocab

    @classmethod
    def from_file(cls, path: str | Path) -> Vocabulary:
        """Read a mapping file (``.toml`` or ``.json``)."""
        path = Path(path)
        try:
            raw = path.read_bytes()
        except OSError as e:
            raise ValueError(f"cannot read the vocabulary mapping {path}: {e}") from e
        try:
            if path.suffix == ".json":
                data = json.loads(raw.decode("utf-8"))
            elif path.suffix == ".toml":
                data = tomllib.loads(raw.decode("utf-8"))
            else:
                raise ValueError(f"{path}: a vocabulary mapping must be .toml or .json")
        except (json.JSONDecodeError, tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
            raise ValueError(f"vocabulary mapping {path} is not valid: {e}") from e
        return cls.from_dict(data, str(path))

    @classmethod
    def default(cls) -> Vocabulary:
        """The repository's configs/vocab.toml, or an empty mapping when it is not there."""
        if DEFAULT_VOCAB.is_file():
            return cls.from_file(DEFAULT_VOCAB)
        log.warning("no default vocabulary at %s: every type and relation stays in the kgx "
                    "namespace", DEFAULT_VOCAB)
        return cls()

    def class_for(self, base: str, type_label: str) -> str:
        return self.types.get(type_label) or type_iri(base, type_label)

    def predicate_for(self, base: str, label: str) -> str:
        mapped = self.relations.get(label)
        return (mapped.iri if mapped and mapped.iri else None) or relation_iri(base, label)

    def all_prefixes(self) -> dict[str, str]:
        return {**STANDARD_PREFIXES, **self.prefixes}


# --- statements ------------------------------------------------------------------------------

Quad = tuple[str, str, str, str | None]  # N-Triples terms: subject, predicate, object, graph


def _doc_ids(G: nx.MultiDiGraph) -> list[str]:
    index = G.graph.get(DOC_INDEX)
    if isinstance(index, dict) and index:
        return sorted(index)
    return sorted({ev["doc_id"] for _, _, d in G.edges(data=True) for ev in d.get("evidence", [])})


def _base(G: nx.MultiDiGraph) -> str:
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
    if not _LANG.match(lang):
        raise ValueError(f"{lang!r} is not a language tag (e.g. en, de, pt-BR)")
    base = _base(G)
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

    docs: dict[str, str] = {}
    for doc_id in _doc_ids(G):
        d = docs[doc_id] = f"<{document_iri(base, doc_id)}>"
        yield d, a, f"<{PROV}Entity>", None
        yield d, a, k["Document"], None
        yield d, k["documentId"], nt_string(doc_id), None

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
                d = docs.get(doc_id)
                if d is None:
                    d = docs[doc_id] = f"<{document_iri(base, doc_id)}>"
                yield hs, p, ts, d
        for ev in evidence:
            doc_id = str(ev["doc_id"])
            d = docs.get(doc_id)
            if d is None:
                d = docs[doc_id] = f"<{document_iri(base, doc_id)}>"
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


# --- writing ---------------------------------------------------------------------------------


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


def format_for(path: str | Path, fmt: str | None = None) -> str:
    """The format name from ``fmt`` or the file suffix; a clear error otherwise."""
    if fmt:
        if fmt not in FORMATS:
            raise ValueError(f"unknown RDF format {fmt!r} (use one of {', '.join(FORMATS)})")
        return fmt
    suffix = Path(path).suffix.lower()
    for name, (_, _, suffixes) in FORMATS.items():
        if suffix in suffixes:
            return name
    raise ValueError(f"{path}: cannot tell the RDF format from the suffix; pass --format "
                     f"({', '.join(FORMATS)})")


def to_rdflib(G: nx.MultiDiGraph, vocab: Vocabulary | None = None, *, lang: str = "en",
              named_graphs: bool = True):
    """The RDF view as an rdflib ``Dataset`` (or a flattened ``Graph``), prefixes bound."""
    import rdflib
    from rdflib.namespace import NamespaceManager

    vocab = vocab if vocab is not None else Vocabulary.default()
    buf = io.StringIO()
    write_stream(iter_quads(G, vocab, lang=lang, named_graphs=named_graphs), buf,
                 quads_format=named_graphs)
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


@dataclass
class ExportResult:
    path: str
    format: str
    statements: int
    documents: int


def export(
    G: nx.MultiDiGraph,
    path: str | Path,
    fmt: str | None = None,
    *,
    vocab: Vocabulary | None = None,
    lang: str = "en",
) -> ExportResult:
    """Write the RDF view of ``G`` to ``path`` (atomically: a ``.tmp`` file, then renamed)."""
    path = Path(path)
    fmt = format_for(path, fmt)
    vocab = vocab if vocab is not None else Vocabulary.default()
    rdflib_format, has_graphs, _ = FORMATS[fmt]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    try:
        if rdflib_format is None:
            with open(tmp, "w", encoding="utf-8", newline="\n", buffering=1 << 20) as out:
                n = write_stream(iter_quads(G, vocab, lang=lang, named_graphs=has_graphs), out,
                                 quads_format=has_graphs)
        else:
            data = to_rdflib(G, vocab, lang=lang, named_graphs=has_graphs)
            n = sum(1 for _ in data.quads((None, None, None, None))) if has_graphs else len(data)
            if fmt in ("ttl", "trig"):
                with open(tmp, "wb") as fh:
                    _exact_double_serializer(fmt)(data).serialize(fh, encoding="utf-8")
            elif fmt == "jsonld":
                doc = _lift_default_graph(json.loads(data.serialize(format="json-ld",
                                                                    auto_compact=True)))
                tmp.write_text(json.dumps(doc, ensure_ascii=False, indent=2), encoding="utf-8")
            else:
                data.serialize(destination=str(tmp), format=rdflib_format, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    n_docs = len(_doc_ids(G))
    log.info("exported %d statements (%d documents) to %s as %s", n, n_docs, path, fmt)
    return ExportResult(str(path), fmt, n, n_docs)


# --- SHACL -----------------------------------------------------------------------------------


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
    base = _base(G)
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
