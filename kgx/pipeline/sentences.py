"""Sentence boundaries from two sources: a trained segmenter's and the punctuation rules'.

A relation pipeline trained with spaCy's ``sentencizer`` annotating its single training records
learnt from sentences split at every sentence-final period, inside a record too. A ``senter``
trained on a corpus's record boundaries (``configs/kgx_senter.cfg``) finds the joins the rules
miss (CoNLL04's datelines and fragments) but, having learnt that a record is one unit, no
longer splits inside it. ``kgx_punct_boundaries`` after the senter keeps both: every boundary
the senter set, and every one the rules would set. On CoNLL04 dev documents that union scored
higher than either segmenter alone with the same trained pipelines (BENCHMARKS.md).
"""

from __future__ import annotations

from spacy.language import Language
from spacy.pipeline import Sentencizer
from spacy.tokens import Doc


class PunctBoundaries:
    """Adds the rule-based sentencizer's sentence starts to those a doc has; removes none."""

    def __init__(self, name: str, punct_chars: list[str] | None = None) -> None:
        self.name = name
        self.rules = Sentencizer(name=name, punct_chars=punct_chars)

    def __call__(self, doc: Doc) -> Doc:
        (starts,) = self.rules.predict([doc])
        for i, is_start in enumerate(starts):
            if is_start and i:
                doc[i].is_sent_start = True
        return doc


@Language.factory(
    "kgx_punct_boundaries",
    assigns=["token.is_sent_start"],
    default_config={"punct_chars": None},
)
def make_punct_boundaries(nlp: Language, name: str,
                          punct_chars: list[str] | None) -> PunctBoundaries:
    """``punct_chars``: the sentence-final characters (spaCy's sentencizer's list when null)."""
    return PunctBoundaries(name, punct_chars)
