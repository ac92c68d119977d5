"""RDF terms in N-Triples syntax, and the IRIs kgx mints (DESIGN.md "RDF": no blank nodes).

Namespaces; :func:`nt_iri`, :func:`nt_string`, :func:`nt_double`, :func:`nt_integer`,
:func:`nt_date` write terms
(the streaming writers and the store use exactly these); ``document_iri``, ``relation_iri``,
``type_iri``, ``fact_iri`` and ``evidence_iri`` are deterministic under a base IRI (entity IRIs
are minted by :func:`kgx.graph.iris.entity_iri`).
"""

from __future__ import annotations

import hashlib
import re
from datetime import date, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
XSD = "http://www.w3.org/2001/XMLSchema#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
PROV = "http://www.w3.org/ns/prov#"
SH = "http://www.w3.org/ns/shacl#"
KGX = "https://w3id.org/kgx/vocab#"
OWL = "http://www.w3.org/2002/07/owl#"
SCHEMA = "https://schema.org/"
DCTERMS = "http://purl.org/dc/terms/"

STANDARD_PREFIXES = {"rdf": RDF, "rdfs": RDFS, "xsd": XSD, "skos": SKOS, "prov": PROV, "kgx": KGX,
                     "dcterms": DCTERMS}

# Characters that may not appear in an N-Triples IRIREF (spaces and controls included).
IRI_BAD = re.compile(r'[\x00-\x20<>"{}|^`\\]')
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
LANG_TAG = re.compile(r"^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$")
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
    if IRI_BAD.search(iri) or ":" not in iri:
        raise ValueError(f"{iri!r} is not a valid absolute IRI (spaces, quotes, <>{{}}|^` or "
                         "backslashes must be percent-encoded)")
    return f"<{iri}>"


def nt_string(text: str) -> str:
    """A quoted N-Triples string: ``"`` ``\\`` newline, CR, tab and controls escaped, rest UTF-8."""
    return '"' + _LIT_SPECIAL.sub(_escape_char, text) + '"'

def nt_double(value: float) -> str:
    return f'"{float(value)!r}"^^<{XSD}double>'


def nt_integer(value: int) -> str:
    return f'"{int(value)}"^^<{XSD}integer>'


def nt_date(text: str) -> str:
    """A date as written in a document's metadata, typed where it can be read: ISO 8601
    ("2026-11-02", "2026-11-02T10:00:00Z") or an e-mail's ("Mon, 02 Nov 2026 10:00:00 +0100")
    as ``xsd:date`` / ``xsd:dateTime``; anything else as a plain string."""
    try:
        if _ISO_DATE.fullmatch(text):
            return f'"{date.fromisoformat(text).isoformat()}"^^<{XSD}date>'
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return nt_string(text)
    return f'"{when.isoformat()}"^^<{XSD}dateTime>'


#: the longest percent-encoded document id kept whole in a document IRI; a document IRI names
#: a graph, which the Graph Store Protocol sends in a URL (servers refuse long ones: 400, 414)
MAX_ID_IN_IRI = 200


def document_iri(base: str, doc_id: str) -> str:
    """``{base}document/{doc_id}`` with every reserved or non-ASCII character percent-encoded.

    An id longer than :data:`MAX_ID_IN_IRI` encoded characters becomes
    ``{base}document/long/{readable start}-{sha256 of the id}``: short ids never contain a
    ``/`` once encoded, so the two forms cannot meet, and the id itself stays in the
    document's ``kgx:documentId``."""
    quoted = quote(doc_id, safe="", errors="surrogatepass")
    if len(quoted) <= MAX_ID_IN_IRI:
        return f"{base}document/{quoted}"
    start = quoted[:96]
    if "%" in start[-2:]:  # do not cut a %XX escape in half
        start = start[:start.rindex("%")]
    digest = hashlib.sha256(doc_id.encode("utf-8", "surrogatepass")).hexdigest()
    return f"{base}document/long/{start}-{digest}"


def kb_iri(base: str, kb_id: str) -> str:
    """The IRI of a knowledge-base id (``owl:sameAs`` of a linked entity): the id itself when it
    is an absolute IRI (``http://www.wikidata.org/entity/Q42``), else ``{base}kb/{quoted id}``."""
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s]+$", kb_id) and not IRI_BAD.search(kb_id):
        return kb_id
    return f"{base}kb/{quote(kb_id, safe='', errors='surrogatepass')}"


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
