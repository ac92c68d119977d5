"""Name rules of entity resolution: keys, short forms, acronyms, folding, similarity.

Pure functions of strings (no graph): :func:`entity_key` turns a normalised name into the key an
entity merges on across documents (organisation designators and personal titles dropped), and
:func:`short_form_of`, :func:`initials` and :func:`fold` are the tests that the resolver
(:mod:`kgx.graph.resolve`) applies within a document and across documents.
"""

from __future__ import annotations

import unicodedata
from difflib import SequenceMatcher

# legal-form designators, as the normalisation leaves them (lower case, no punctuation):
# "Acme Corp." -> "acme corp", "Lumen S.A." -> "lumen sa", "Smith & Co." -> "smith co"
ORG_DESIGNATORS: frozenset[tuple[str, ...]] = frozenset(
    tuple(d.split()) for d in (
        "corp", "corporation", "inc", "incorporated", "ltd", "limited", "llc", "llp", "plc",
        "gmbh", "ag", "kg", "se", "sa", "s a", "sas", "sarl", "nv", "bv", "spa", "srl", "oy",
        "ab", "asa", "as", "co", "pty", "pte", "kk", "lda", "sl",
    )
)
# titles and honorifics before a person's name
PER_TITLES: frozenset[str] = frozenset(
    "mr mrs ms miss mx dr prof professor sir dame lord lady rev fr sr herr frau mme mlle "
    "madame monsieur senor señor senora señora judge justice capt captain gen general "
    "president senator minister mayor chancellor".split()
)
# words skipped when an acronym is formed from a name ("World Health Organization of ..." -> WHO)
ACRONYM_STOP: frozenset[str] = frozenset(
    "of the and for de la le les des du di da del der die das und für fur et y e".split()
)
ORG_TYPES = frozenset({"ORG", "ORGANIZATION", "ORGANISATION", "COMPANY", "NORP", "FAC"})
PER_TYPES = frozenset({"PER", "PERSON"})

_FOLD_EXTRA = str.maketrans({"ß": "ss", "ø": "o", "æ": "ae", "œ": "oe", "ł": "l", "đ": "d",
                             "ð": "d", "þ": "th", "ı": "i"})


def is_org(type_: str) -> bool:
    return type_.upper() in ORG_TYPES


def is_per(type_: str) -> bool:
    return type_.upper() in PER_TYPES


def entity_key(norm: str, type_: str) -> tuple[str, list[str]]:
    """The key a normalised name merges on, and the rules that changed it (``designator``,
    ``title``). A rule never leaves the key empty."""
    words = norm.split(" ")
    rules: list[str] = []
    if is_org(type_):
        changed = True
        while changed and len(words) > 1:
            changed = False
            for n in (2, 1):
                if len(words) > n and tuple(words[-n:]) in ORG_DESIGNATORS:
                    words = words[:-n]
                    changed = True
                    break
        if len(words) != len(norm.split(" ")):
            rules.append("designator")
    elif is_per(type_):
        n = 0
        while n < len(words) - 1 and words[n] in PER_TITLES:
            n += 1
        if n:
            words = words[n:]
            rules.append("title")
    return " ".join(words), rules


def fold(key: str) -> str:
    """Diacritics removed (``zoë`` -> ``zoe``, ``straße`` -> ``strasse``)."""
    decomposed = unicodedata.normalize("NFKD", key.translate(_FOLD_EXTRA))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def initials(key: str) -> str:
    """The acronym a name would have: first letters of its words, stop words skipped."""
    words = [w for w in key.split(" ") if w and w not in ACRONYM_STOP]
    return "".join(w[0] for w in words) if len(words) >= 2 else ""


def looks_like_acronym(surface: str) -> bool:
    """``WHO``, ``U.N.``, ``IBM``: two to eight capitals (dots allowed), one word."""
    letters = [c for c in surface if c not in ". "]
    return (2 <= len(letters) <= 8 and all(c.isalpha() and c.isupper() for c in letters)
            and " " not in surface.strip())


def short_form_of(short: str, long: str, type_: str, acronym: bool) -> str | None:
    """The rule by which ``short`` (a key) can stand for ``long`` in one document, or None.

    A person: the key is the name's last words (``lopez`` for ``maria lopez``,
    ``okonkwo brandt`` for ``zoë okonkwo brandt``). An organisation: its first words
    (``veltro`` for ``veltro systems``). Any type: an acronym of the name's initials when the
    surface is written as one (``WHO`` for ``world health organization``).
    """
    if short == long:
        return None
    s, lg = short.split(" "), long.split(" ")
    if acronym and len(s) == 1 and initials(long) == short:
        return "acronym"
    if len(s) >= len(lg):
        return None
    if is_per(type_) and lg[-len(s):] == s:
        return "surname"
    if is_org(type_) and lg[:len(s)] == s:
        return "short-name"
    return None


def similarity(a: str, b: str) -> float:
    """String similarity of two keys in [0, 1] (difflib's ratio)."""
    return SequenceMatcher(None, a, b, autojunk=False).ratio()
