"""Entity names → the normalised form that entities merge on.

Mentions merge when their normalised names are equal (:class:`NormalizationConfig`: NFKC,
whitespace, casefold, possessive ``'s``, punctuation, leading articles) or when an alias table
(:mod:`kgx.graph.aliases`) maps them to the same canonical name. Different entity types never
merge unless ``merge_across_types`` is set. Every step that changed a form is reported
(:func:`explain_normalization`), so the builder's merge log can say why two forms merged.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass
from functools import cached_property
from typing import Any

from ..text import join_line_end_hyphens


@dataclass(frozen=True)
class NormalizationConfig:
    """How surface forms are normalised before entities merge. Each step can be switched off.

    Steps run in this order, and the merge log names each one that changed a form:
    ``line_end_hyphen`` (a word broken at a line end by a hyphen, as justified text from PDFs
    has it, joined: ``Glo-\nbex`` → ``Globex``; not before a capital: ``Hewlett-\nPackard``),
    ``nfkc``
    (Unicode compatibility forms: full-width letters, ligatures), ``ignorable`` (the characters
    Unicode makes default-ignorable, which NFKC_Casefold drops too: soft hyphens and
    zero-width spaces from HTML and PDFs, a byte-order mark, joiners, direction marks,
    variation selectors: ``Glo\u00adbex`` → ``Globex``), ``whitespace`` (runs
    collapsed, ends stripped), ``casefold``, ``possessive`` (a trailing ``'s``/``’s`` or ``s'``),
    ``punctuation``
    (dashes and slashes become spaces, other punctuation is dropped: ``Acme Corp.`` → ``acme corp``,
    ``U.S.`` → ``us``), ``article`` (one leading article from ``articles``, only if a word remains).
    """

    casefold: bool = True
    whitespace: bool = True
    unicode_nfkc: bool = True
    punctuation: bool = True
    strip_articles: bool = True
    articles: tuple[str, ...] = ("the", "a", "an")
    possessive: bool = True
    merge_across_types: bool = False
    drop_ignorable: bool = True
    line_end_hyphens: bool = True

    @cached_property
    def article_set(self) -> frozenset[str]:
        return frozenset(a.casefold() for a in self.articles)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> NormalizationConfig:
        """The settings a graph stored (``to_dict``); unknown keys are ignored."""
        known = {f for f in cls.__dataclass_fields__}
        clean = {k: v for k, v in data.items() if k in known}
        # settings stored by a kgx before the step existed: its graph's keys were made
        # without it, so it stays off for that graph
        clean.setdefault("drop_ignorable", False)
        clean.setdefault("line_end_hyphens", False)
        if "articles" in clean:
            clean["articles"] = tuple(clean["articles"])
        return cls(**clean)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["articles"] = list(self.articles)
        return data


WHITESPACE = re.compile(r"\s+")
# Unicode's Default_Ignorable_Code_Point (DerivedCoreProperties.txt)
IGNORABLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
    "\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufff8\U0001bca0-\U0001bca3"
    "\U0001d173-\U0001d17a\U000e0000-\U000e0fff]")
_POSSESSIVE = re.compile(r"(?:(?<=\S)['’]s|(?<=s)['’])$", re.IGNORECASE)


def _strip_punctuation(text: str) -> str:
    out = []
    for ch in text:
        cat = unicodedata.category(ch)
        if cat in ("Pd", "Pc") or ch in "/\\":
            out.append(" ")
        elif cat.startswith("P"):
            continue
        else:
            out.append(ch)
    return "".join(out)


def explain_normalization(text: str, config: NormalizationConfig) -> tuple[str, list[str]]:
    """The normalised form of ``text`` and the names of the steps that changed it."""
    rules: list[str] = []

    def step(name: str, value: str) -> str:
        nonlocal text
        if value != text:
            rules.append(name)
            text = value
        return text

    if config.line_end_hyphens:
        step("line_end_hyphen", join_line_end_hyphens(text))
    if config.unicode_nfkc:
        step("nfkc", unicodedata.normalize("NFKC", text))
    if config.drop_ignorable:
        step("ignorable", IGNORABLE.sub("", text))
    if config.whitespace:
        step("whitespace", WHITESPACE.sub(" ", text).strip())
    if config.casefold:
        step("casefold", text.casefold())
    if config.possessive:
        step("possessive", _POSSESSIVE.sub("", text).rstrip())
    if config.punctuation:
        value = _strip_punctuation(text)
        step("punctuation", WHITESPACE.sub(" ", value).strip() if config.whitespace else value)
    if config.strip_articles and config.articles:
        words = text.split(" ", 1)
        if len(words) == 2 and words[1].strip() and words[0].casefold() in config.article_set:
            step("article", words[1].strip())
    return text, rules


def display_name(text: str) -> str:
    """``text`` as a node shows it: words broken at line ends joined, whitespace (a line break
    of wrapped text) one space. Case, punctuation and other characters kept as written."""
    return WHITESPACE.sub(" ", join_line_end_hyphens(text)).strip()


def normalize_name(text: str, config: NormalizationConfig | None = None) -> str:
    """The normalised form of an entity name (the identity entities merge on)."""
    return explain_normalization(text, config or NormalizationConfig())[0]
