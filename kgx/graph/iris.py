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
    spells the name exactly (words separated by single spaces): ``[a-z0-9-]`` only. Otherwise
    (non-ASCII letters, symbols such as emoji, upper case or punctuation kept by the
    normalisation, no ASCII letter or digit) a readable ASCII part (accents folded; ``entity``
    when nothing is left) is followed by ``_`` and 32 hex digits (128 bits) of the SHA-256 of the
    normalised name. A plain slug never holds ``_``, so no name can spell another's hashed slug
    (issue 13: "Zoe Angstrom 1fdc419ff189" took the IRI of "Zoë Ångström"), and the type is
    percent-encoded: IRIs are injective on (normalised name, type).
    """
    base = base if base.endswith("/") else base + "/"
    words = re.findall(r"[a-z0-9]+", normalised_name)
    if words and " ".join(words) == normalised_name:
        slug = "-".join(words)
    else:
        readable = "-".join(_ascii_words(normalised_name)) or "entity"
        digest = hashlib.sha256(normalised_name.encode("utf-8", "surrogatepass")).hexdigest()
        slug = f"{readable}_{digest[:32]}"
    return f"{base}entity/{quote(type, safe='-_.~', errors='surrogatepass')}/{slug}"
