"""Entity IRIs: the base IRI and the one place entity IRIs are minted.

An entity's IRI is the node key of the graph and the subject of its RDF: stable, derived from
the normalised name and the type (``{base}entity/{type}/{slug-or-hash}``).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from urllib.parse import quote

DEFAULT_BASE = "http://kgx.example.org/"


def normalize_base(base: str | None) -> str:
    """The base IRI, always ending with ``/``; a clear error for something that is not an IRI."""
    base = (base or DEFAULT_BASE).strip()
    if not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$", base):
        raise ValueError(f"base IRI {base!r} is not an absolute IRI (e.g. {DEFAULT_BASE})")
    return base if base.endswith("/") else base + "/"


def _ascii_words(text: str) -> list[str]:
    folded = unicodedata.normalize("NFKD", text)
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    return re.findall(r"[a-z0-9]+", folded.lower())


def entity_iri(base: str, type: str, normalised_name: str) -> str:
    """The IRI of an entity: ``{base}entity/{type}/{slug}``, the one place entity IRIs are minted.

    The slug is the normalised name's lowercase ASCII letters/digits joined by ``-`` when that
    spells the name exactly (words separated by single spaces). Otherwise (non-ASCII letters,
    symbols such as emoji, upper case or punctuation kept by the normalisation, no ASCII letter
    or digit) a readable ASCII part (accents folded; ``entity`` when nothing is left) is followed
    by ``-`` and the first 12 hex digits of the SHA-1 of the normalised name, so distinct names
    never share an IRI.
    """
    base = base if base.endswith("/") else base + "/"
    words = re.findall(r"[a-z0-9]+", normalised_name)
    if words and " ".join(words) == normalised_name:
        slug = "-".join(words)
    else:
        readable = "-".join(_ascii_words(normalised_name)) or "entity"
        digest = hashlib.sha1(normalised_name.encode("utf-8")).hexdigest()[:12]
        slug = f"{readable}-{digest}"
    return f"{base}entity/{quote(type, safe='-_.~')}/{slug}"
