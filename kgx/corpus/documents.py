"""Raw documents assembled from gold sentences (records), laid out as users' documents are."""

from __future__ import annotations

import random
import re
import warnings
from collections.abc import Iterable, Iterator
from typing import Any, cast

from spacy.tokens import Doc

from kgx.relations import raw_relations, set_relations

# How records are laid out in an assembled document: (text before each record, text between
# records). Users' documents are running text, lines, paragraphs and lists; a segmenter that
# only reads punctuation misses the boundaries that the layout marks (issue 19).
LAYOUTS: dict[str, tuple[str, str]] = {
    "space": ("", " "),
    "lines": ("", "\n"),
    "paragraphs": ("", "\n\n"),
    "list": ("- ", "\n"),
    # running text hard-wrapped (e-mail, plain-text files, text taken out of PDFs): a line
    # break in place of the space before a word that would pass column WRAP_WIDTH
    "wrapped": ("", " "),
}
WRAP_WIDTH = 72


def _check_layout(layout: str) -> tuple[str, str]:
    if layout not in LAYOUTS:
        raise ValueError(f"unknown document layout {layout!r}: choose one of "
                         f"{', '.join(LAYOUTS)}")
    return LAYOUTS[layout]


def _text_doc(vocab: Any, text: str) -> Doc:
    """``text`` (a list marker or whitespace) as one token with no trailing space."""
    word, space = (text[:-1], True) if text.endswith(" ") and text.strip() else (text, False)
    return Doc(vocab, words=[word], spaces=[space])


def join_docs(docs: list[Doc], layout: str = "space") -> Doc:
    """One document from consecutive gold docs, laid out as ``layout`` says (``LAYOUTS``:
    joined by a space by default); entities, sentence starts and relations kept (relation
    indices shifted to the joined ``doc.ents``)."""
    prefix, separator = _check_layout(layout)
    if layout == "wrapped":
        return wrap_doc(join_docs(docs, "space"))
    if len(docs) == 1 and not prefix:
        return docs[0]
    if layout == "space":
        pieces, ensure_whitespace = docs, True
    else:
        vocab = docs[0].vocab
        pieces, ensure_whitespace = [], False
        kinds: list[str] = []
        for i, doc in enumerate(docs):
            if i:
                pieces.append(_text_doc(vocab, separator))
                kinds.append("separator")
            if prefix:
                pieces.append(_text_doc(vocab, prefix))
                kinds.append("marker")
            pieces.append(doc)
            kinds.append("record")
    with warnings.catch_warnings():
        # W101/W102: from_docs does not carry extensions and user data; relations and ids
        # are carried over below
        warnings.filterwarnings("ignore", message=r"\[W10[12]\]")
        joined = Doc.from_docs(pieces, ensure_whitespace=ensure_whitespace)
    if layout != "space":
        # the separators belong to the sentence before them; a list item's marker is a sentence
        starts = joined.to_array("SENT_START").view("int64")
        i = 0
        for piece, kind in zip(pieces, kinds, strict=True):
            if kind == "separator":
                starts[i:i + len(piece)] = -1
            elif kind == "marker":  # its own sentence, as kgx_layout_boundaries makes it
                starts[i] = 1
            i += len(piece)
        joined.from_array(["SENT_START"], cast(Any, starts.view("uint64")))
    rels: list[dict[str, Any]] = []
    offset = 0
    for doc in docs:
        for rel in raw_relations(doc):
            rels.append({**rel, "head": rel["head"] + offset, "tail": rel["tail"] + offset})
        offset += len(doc.ents)
    if len(joined.ents) != offset:  # pragma: no cover - Doc.from_docs keeps every entity
        raise ValueError("joining documents lost entities")
    set_relations(joined, rels)
    ids = [str(d.user_data.get("kgx_id", "")) for d in docs]
    if any(ids):
        joined.user_data["kgx_id"] = "+".join(ids)
    return joined


def wrap_text(text: str, width: int = WRAP_WIDTH) -> str:
    """``text`` hard-wrapped at ``width`` columns, greedily, as ``fmt`` and e-mail clients
    wrap: the space before a word that would pass the column becomes a line break; a word
    longer than a line stays whole; line breaks already there start a line. The text keeps
    its length."""
    out = list(text)
    line_start, last = 0, -1  # the line's first character, its last space
    for word in _WORD.finditer(text):
        start, end = word.span()
        newline = text.rfind("\n", line_start, start)
        if newline >= 0:
            line_start, last = newline + 1, -1
        if end - line_start > width and last >= 0:
            out[last] = "\n"
            line_start, last = last + 1, -1
        if end < len(text) and text[end] == " ":
            last = end
    return "".join(out)


_WORD = re.compile(r"[^ \n]+")


def wrap_doc(doc: Doc, width: int = WRAP_WIDTH) -> Doc:
    """``doc`` hard-wrapped as ``wrap_text`` wraps its text, each line break a token of its
    own as spaCy's tokenizer makes it. The text keeps its length, so entities, sentence starts
    and relations keep their character offsets; a line break inside an entity (a name wrapped
    across two lines) is part of it."""
    text = doc.text
    wrapped_text = wrap_text(text, width)
    # the tokens whose trailing space became a line break
    wrapped_after = {tok.i for tok in doc if tok.whitespace_ == " "
                     and wrapped_text[tok.idx + len(tok.text)] == "\n"}
    if not wrapped_after:
        return doc
    words: list[str] = []
    spaces: list[bool] = []
    sent_starts: list[bool | int | None] = []
    has_sents = doc.has_annotation("SENT_START")
    for tok in doc:
        words.append(tok.text)
        spaces.append(bool(tok.whitespace_) and tok.i not in wrapped_after)
        sent_starts.append(bool(tok.is_sent_start) if has_sents else None)
        if tok.i in wrapped_after:
            words.append("\n")
            spaces.append(False)
            sent_starts.append(False if has_sents else None)
    wrapped = Doc(doc.vocab, words=words, spaces=spaces, sent_starts=sent_starts)
    if len(wrapped.text) != len(text):  # pragma: no cover - one space becomes one newline
        raise ValueError("wrapping changed the text's length")
    wrapped.ents = [cast(Any, wrapped.char_span(e.start_char, e.end_char, label=e.label_))
                    for e in doc.ents]
    set_relations(wrapped, raw_relations(doc))
    wrapped.user_data.update({k: v for k, v in doc.user_data.items()
                              if isinstance(k, str)})
    return wrapped


def assemble_documents(docs: Iterable[Doc], size: int,
                       rng: random.Random | None = None,
                       layout: str = "space") -> Iterator[Doc]:
    """Consecutive docs joined into multi-sentence documents, as users' raw documents are.

    ``size`` sentences (docs) each; with ``rng``, a random number from 1 to ``size`` each, so
    that training sees single sentences and documents of every length up to ``size``.
    ``layout``: how the sentences are laid out (``LAYOUTS``).
    """
    _check_layout(layout)
    if size < 1:
        raise ValueError(f"documents need at least one sentence, got {size}")
    group: list[Doc] = []
    want = rng.randint(1, size) if rng is not None else size
    for doc in docs:
        group.append(doc)
        if len(group) >= want:
            yield join_docs(group, layout)
            group = []
            want = rng.randint(1, size) if rng is not None else size
    if group:
        yield join_docs(group, layout)
