"""Mention replacement: training records whose entity mentions are swapped for other mentions
of the same label, drawn from the training corpus.

CoNLL04 has 922 training sentences, about 3,400 mentions: a model of that size learns many
names by heart. Replacing a mention with another of its label keeps the sentence's context and
its relations (a person still works for an organisation) while the name changes, so the model
has to read the context (Dai & Adel 2020, "An Analysis of Simple Data Augmentation for Named
Entity Recognition", COLING: mention replacement among the most useful on small corpora).
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, cast

from spacy.tokens import Doc, Span

from kgx.relations import raw_relations, set_relations

Mention = tuple[tuple[str, ...], tuple[bool, ...]]  # words, and a space after each but the last


def _mention(ent: Span) -> Mention:
    return (tuple(t.text for t in ent), tuple(bool(t.whitespace_) for t in ent[:-1]))


def mention_bank(docs: Iterable[Doc]) -> dict[str, list[Mention]]:
    """Every entity mention of ``docs`` by label, as words (duplicates kept, so common names
    are drawn as often as the corpus has them)."""
    bank: dict[str, list[Mention]] = {}
    for doc in docs:
        for ent in doc.ents:
            bank.setdefault(ent.label_, []).append(_mention(ent))
    return bank


def replace_mentions(doc: Doc, bank: Mapping[str, Sequence[Mention]], rate: float,
                     rng: random.Random) -> Doc:
    """``doc`` with each entity mention, at probability ``rate``, replaced by a random mention
    of the same label from ``bank``. Entities keep their order, so the relations (which name
    entities by index) hold unchanged; sentence starts and user data are kept."""
    if rate <= 0 or not doc.ents:
        return doc
    choices: dict[int, Mention] = {}
    for i, ent in enumerate(doc.ents):
        pool = bank.get(ent.label_)
        if pool and rng.random() < rate:
            choices[i] = pool[rng.randrange(len(pool))]
    if not choices:
        return doc
    has_sents = doc.has_annotation("SENT_START")
    words: list[str] = []
    spaces: list[bool] = []
    starts: list[bool | None] = []
    spans: list[tuple[int, int, str]] = []
    ents = list(doc.ents)
    e = 0
    i = 0
    while i < len(doc):
        if e < len(ents) and ents[e].start == i:
            ent = ents[e]
            new_words, new_spaces = choices.get(e) or _mention(ent)
            begin = len(words)
            words.extend(new_words)
            spaces.extend(new_spaces)
            spaces.append(bool(ent[-1].whitespace_))
            if has_sents:
                starts.append(bool(ent[0].is_sent_start))
                starts.extend([False] * (len(new_words) - 1))
            spans.append((begin, len(words), ent.label_))
            i, e = ent.end, e + 1
            continue
        tok = doc[i]
        words.append(tok.text)
        spaces.append(bool(tok.whitespace_))
        if has_sents:
            starts.append(bool(tok.is_sent_start))
        i += 1
    new = Doc(doc.vocab, words=words, spaces=spaces,
              sent_starts=cast(Any, starts) if has_sents else None)
    new.ents = [Span(new, a, b, label=label) for a, b, label in spans]
    set_relations(new, raw_relations(doc))
    new.user_data.update({k: v for k, v in doc.user_data.items() if isinstance(k, str)})
    return new
