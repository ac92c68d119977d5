"""The registered spaCy reader ``kgx.Corpus.v1``."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

from spacy.language import Language
from spacy.tokens import Doc
from spacy.training import Example
from spacy.util import registry

from kgx.corpus.augment import mention_bank, replace_mentions
from kgx.corpus.documents import _check_layout, assemble_documents
from kgx.corpus.formats import read_docs
from kgx.corpus.gold import CorpusError


class RelationCorpus:
    """Examples whose reference docs keep entities, sentences and relations.

    spaCy's own ``Corpus(gold_preproc=True)`` rebuilds reference docs with ``Span.as_doc``,
    which drops ``user_data`` and so the relations; this reader keeps them, and with
    ``gold_tokens`` gives the predicted doc the reference tokenisation (what pre-tokenised
    corpora such as CoNLL04 are scored with). Without it the predicted doc is the reference
    *text* tokenised by the pipeline, as at inference time, and the gold spans are aligned onto
    those tokens.

    ``documents`` joins consecutive records (sentences, for CoNLL04 and ADE) into documents:
    ``documents = K`` for evaluation (K each), ``random_documents = true`` for training (1 to K
    each, regrouped every epoch), so that the model meets whole documents as it does in use.
    ``layout`` lays those records out as running text, lines, paragraphs, a list or
    hard-wrapped running text (``LAYOUTS``). The predicted doc has no sentence boundaries:
    the pipeline's own segmenter sets them.

    ``mention_replacement`` (training only) swaps each entity mention, at that probability and
    anew every time the corpus is read, for another mention of its label from the same
    corpus (``kgx.corpus.augment``).
    """

    def __init__(self, path: Path | str, gold_tokens: bool = False, max_length: int = 0,
                 limit: int = 0, shuffle: bool = False, documents: int = 1,
                 random_documents: bool = False, layout: str = "space",
                 mention_replacement: float = 0.0) -> None:
        self.path = Path(path)
        self.gold_tokens = gold_tokens
        self.max_length = max_length
        self.limit = limit
        self.shuffle = shuffle
        if documents < 1:
            raise ValueError(f"kgx.Corpus.v1: documents must be at least 1, got {documents}")
        self.documents = documents
        self.random_documents = random_documents
        _check_layout(layout)
        self.layout = layout
        if not 0.0 <= mention_replacement <= 1.0:
            raise ValueError("kgx.Corpus.v1: mention_replacement is a probability (0 to 1), "
                             f"got {mention_replacement}")
        self.mention_replacement = mention_replacement

    def _paths(self) -> list[Path]:
        if self.path.is_dir():
            found = sorted(p for p in self.path.iterdir()
                           if p.is_file() and p.suffix in (".spacy", ".json", ".jsonl"))
            if not found:
                raise CorpusError(self.path, "0", "no .spacy, .json or .jsonl file in the folder")
            return found
        return [self.path]

    def __call__(self, nlp: Language) -> Iterator[Example]:
        docs = [doc for path in self._paths()
                for doc in read_docs(path, vocab=nlp.vocab, lang=nlp.lang or "en")]
        if self.mention_replacement > 0:
            bank = mention_bank(docs)
            rng_mentions = random.Random(random.random())
            docs = [replace_mentions(doc, bank, self.mention_replacement, rng_mentions)
                    for doc in docs]
        if self.documents > 1:
            rng = random.Random(random.random()) if self.random_documents else None
            if self.shuffle:
                # shuffle whole groups, keeping each document's sentences in order
                starts = list(range(0, len(docs), self.documents))
                random.shuffle(starts)
                docs = [d for s in starts for d in docs[s:s + self.documents]]
            docs = list(assemble_documents(docs, self.documents, rng, self.layout))
        elif self.shuffle:
            random.shuffle(docs)
        n = 0
        for ref in docs:
            if self.max_length and len(ref) > self.max_length:
                continue
            if self.gold_tokens:
                pred = Doc(nlp.vocab, words=[t.text for t in ref],
                           spaces=[bool(t.whitespace_) for t in ref])
            else:
                pred = nlp.make_doc(ref.text)
            yield Example(pred, ref)
            n += 1
            if self.limit and n >= self.limit:
                break


@registry.readers("kgx.Corpus.v1")
def create_corpus_reader(path: Path | None, gold_tokens: bool = False, max_length: int = 0,
                         limit: int = 0, shuffle: bool = False, documents: int = 1,
                         random_documents: bool = False,
                         layout: str = "space",
                         mention_replacement: float = 0.0) -> RelationCorpus:
    """Gold examples with relations, from a file or a folder of files.

    path (Path): a ``.spacy`` DocBin, any ``kgx convert`` input, or a folder of them (read in
        name order: train and dev together for a final model, say).
    gold_tokens (bool): give the predicted doc the reference tokens (pre-tokenised corpora)
        instead of the pipeline's tokenisation of the text.
    max_length (int): skip documents longer than this many tokens (0: keep all).
    limit (int): stop after this many examples (0: all).
    shuffle (bool): shuffle the documents every time the corpus is read.
    documents (int): join this many consecutive records into one document.
    random_documents (bool): join a random 1 to ``documents`` records each time instead.
    layout (str): how joined records are laid out: "space" (running text), "lines",
        "paragraphs" (a blank line between records) or "list" ("- " items, one a line).
    mention_replacement (float): for training, the probability that an entity mention is
        swapped for another mention of its label from the corpus (0: none).
    """
    if path is None:
        raise ValueError("kgx.Corpus.v1 needs a path (set paths.train / paths.dev)")
    return RelationCorpus(path, gold_tokens, max_length, limit, shuffle, documents,
                          random_documents, layout, mention_replacement)
