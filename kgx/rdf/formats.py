"""RDF formats by name: one class per format, one table entry each (:data:`FORMATS`).

A format class says what it is called, its file suffixes, its media type (which is also how a
triple store reads it: :mod:`kgx.store` asks pyoxigraph for the format of that media type),
whether it keeps named graphs, rdflib's name for it (to read it back), and how to write a
graph in it. Built-in formats are listed as ``"module:Class"`` and imported when used, so
listing the names (``kgx --help``) imports nothing; other packages add formats through the
``kgx_rdf_formats`` entry-point group (see :mod:`kgx.registry`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from kgx.registry import Registry

if TYPE_CHECKING:
    import networkx as nx

    from kgx.rdf.vocabulary import Vocabulary


class RdfFormat:
    """A serialisation of the RDF view of a graph (:mod:`kgx.rdf.quads`), registered by name in
    :data:`FORMATS`.

    name (str): The name in the table (``--format``).
    suffixes (tuple[str, ...]): File suffixes; the first is the one kgx writes.
    media_type (str): The IANA media type; a triple store reads the file as this.
    named_graphs (bool): Whether it keeps the per-document named graphs (False flattens).
    rdflib (str): rdflib's name of the format, to read a file back.
    """

    name: ClassVar[str]
    suffixes: ClassVar[tuple[str, ...]]  # the first is the one kgx writes
    media_type: ClassVar[str]
    named_graphs: ClassVar[bool]  # False: the dataset is flattened (kgx.rdf.quads)
    rdflib: ClassVar[str]  # rdflib's format name, for reading the file back

    def write(self, G: nx.MultiDiGraph, path: Path, vocab: Vocabulary, lang: str) -> int:
        """Write the RDF view of a graph.

        G (nx.MultiDiGraph): The graph (:mod:`kgx.graph`).
        path (Path): The file to write (a temporary name: :func:`kgx.rdf.exporter.export`
            renames it when this returns).
        vocab (Vocabulary): The mapping of types and relation labels to IRIs.
        lang (str): The language tag of labels.
        RETURNS (int): The number of statements written.
        """
        raise NotImplementedError


#: name → format class; the first suffix of each is what ``kgx extract --then-export`` writes.
FORMATS: Registry[type[RdfFormat]] = Registry("RDF format", "kgx_rdf_formats", {
    "nt": "kgx.rdf.writers:NTriples",
    "nq": "kgx.rdf.writers:NQuads",
    "ttl": "kgx.rdf.writers:Turtle",
    "trig": "kgx.rdf.writers:TriG",
    "jsonld": "kgx.rdf.writers:JsonLd",
    "xml": "kgx.rdf.writers:RdfXml",
})


def get_format(name: str) -> type[RdfFormat]:
    """The format class of ``name``; a ValueError listing the formats otherwise."""
    return FORMATS.get_or_raise(name)


def format_for(path: str | Path, fmt: str | None = None) -> str:
    """The format name from ``fmt`` or the file suffix; a clear error otherwise."""
    if fmt:
        get_format(fmt)
        return fmt
    suffix = Path(path).suffix.lower()
    for name in FORMATS:
        if suffix in FORMATS[name].suffixes:
            return name
    raise ValueError(f"{path}: cannot tell the RDF format from the suffix; pass --format "
                     f"({', '.join(FORMATS)})")
