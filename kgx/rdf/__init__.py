"""Graph → RDF (DESIGN.md "RDF"): deterministic IRIs, no blank nodes, provenance per document.

``terms`` writes RDF terms and mints kgx's IRIs, ``vocabulary`` maps types and labels to IRIs,
``quads`` is the RDF view of a graph as a stream, ``formats`` names the formats (one class
each, in ``writers``), ``export`` writes a file, ``shacl`` checks domain and range. This layer
reads graphs (:mod:`kgx.graph`) and imports nothing of the store layer above it.

The names below are imported on first use, so that ``kgx.rdf.formats`` (the format names the
CLI lists) can be imported without networkx or rdflib.
"""

from __future__ import annotations

from kgx.registry import lazy_attributes

_LAZY = {
    **dict.fromkeys(
        ("RDF", "RDFS", "XSD", "SKOS", "PROV", "SH", "KGX", "STANDARD_PREFIXES", "nt_iri",
         "nt_string", "nt_double", "nt_integer", "document_iri", "relation_iri", "type_iri",
         "fact_iri", "evidence_iri"), "kgx.rdf.terms"),
    **dict.fromkeys(("Vocabulary", "RelationMapping", "DEFAULT_VOCAB"), "kgx.rdf.vocabulary"),
    **dict.fromkeys(("Quad", "iter_quads", "doc_ids", "graph_base"), "kgx.rdf.quads"),
    **dict.fromkeys(("FORMATS", "RdfFormat", "format_for", "get_format"), "kgx.rdf.formats"),
    **dict.fromkeys(("write_stream", "to_rdflib"), "kgx.rdf.writers"),
    **dict.fromkeys(("ExportResult", "export", "export_path"), "kgx.rdf.exporter"),
    **dict.fromkeys(("ValidationReport", "shapes_graph", "validate"), "kgx.rdf.shacl"),
}

__all__ = list(_LAZY)

__getattr__, __dir__ = lazy_attributes(__name__, _LAZY, globals())
