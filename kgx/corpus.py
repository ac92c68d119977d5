"""Annotated corpora: converters to spaCy ``DocBin`` and the registered reader ``kgx.Corpus.v1``.

Gold annotation on a ``Doc``: entities in ``doc.ents``, relations in ``doc._.kgx_relations``
(indices into ``doc.ents``), saved with ``DocBin(store_user_data=True)``. Formats:

- ``spert``: a JSON list of ``{"tokens", "entities": [{"type","start","end"}],
  "relations": [{"type","head","tail"}]}`` (CoNLL04, ADE, SciERC; token offsets, end exclusive).
  ``doc.ents`` cannot hold nested entities: the longest (then the first) is kept and the others
  are dropped, with their relations, and counted in the summary.
- ``prodigy``: ``rel.manual`` JSONL (``tokens``, ``spans``, ``relations`` with ``head_span`` and
  ``child_span``); only ``"answer": "accept"`` records are used.
- ``kgx``: JSONL ``{"id", "text", "entities": [{"start","end","label"}],
  "relations": [{"head","tail","label"}]}`` with character offsets; head/tail index ``entities``.

Malformed records raise :class:`CorpusError` naming the file and line (item, for a JSON list);
with ``strict=False`` they are logged, counted and skipped instead.
"""

from __future__ import annotations

import json
import logging
import random
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import spacy
from spacy.language import Language
from spacy.tokens import Doc, DocBin, Span
from spacy.training import Example
from spacy.util import registry
from spacy.vocab import Vocab

from kgx.relations import raw_relations, set_relations

log = logging.getLogger("kgx")

FORMATS = ("spert", "prodigy", "kgx", "docbin")


class CorpusError(ValueError):
    """A malformed record, located by file and line (or item index)."""

    def __init__(self, path: Path | str, where: str, message: str) -> None:
        super().__init__(f"{path}:{where}: {message}")
        self.path, self.where, self.message = str(path), where, message


@dataclass
class ConvertStats:
    docs: int = 0
    entities: int = 0
    relations: int = 0
    skipped: list[str] = field(default_factory=list)
    dropped_entities: int = 0
    dropped_relations: int = 0
    blank_entities: int = 0  # entities covering no text but whitespace, dropped
    blank_relations: int = 0  # the relations of those, dropped with them
    rejected: int = 0  # prodigy answers other than accept

    def summary(self) -> str:
        parts = [f"{self.docs} docs", f"{self.entities} entities", f"{self.relations} relations"]
        if self.dropped_entities:
            parts.append(f"{self.dropped_entities} nested/overlapping entities dropped "
                         f"(with {self.dropped_relations} relations)")
        if self.blank_entities:
            parts.append(f"{self.blank_entities} entities without text dropped "
                         f"(with {self.blank_relations} relations)")
        if self.rejected:
            parts.append(f"{self.rejected} records not accepted (answer != accept)")
        if self.skipped:
            parts.append(f"{len(self.skipped)} malformed records skipped")
        return ", ".join(parts)


def _require(cond: Any, path: Path, where: str, message: str) -> None:
    if not cond:
        raise CorpusError(path, where, message)


def _has_surrogate(obj: Any) -> bool:
    """Whether parsed JSON holds a lone surrogate (``"\\ud800"``): not text, no DocBin holds it."""
    return any("\ud800" <= ch <= "\udfff" for ch in json.dumps(obj, ensure_ascii=False))


_SURROGATE_MESSAGE = "the record holds a lone surrogate (a \\ud800-\\udfff escape, not text)"


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _relation_triples(rels: list[Any], n_ents: int, label_key: str, path: Path,
                      where: str) -> list[tuple[int, int, str]]:
    """Validated ``(head, tail, label)`` of relations whose head/tail index the entities."""
    triples = []
    for k, rel in enumerate(rels):
        ok = (isinstance(rel, dict) and _is_int(rel.get("head")) and _is_int(rel.get("tail"))
              and isinstance(rel.get(label_key), str))
        _require(ok, path, where,
                 f"relation {k} needs integer 'head'/'tail' and a string '{label_key}'")
        _require(0 <= rel["head"] < n_ents and 0 <= rel["tail"] < n_ents, path, where,
                 f"relation {k} points outside the {n_ents} entities")
        triples.append((rel["head"], rel["tail"], rel[label_key]))
    return triples


def _finish_doc(doc: Doc, spans: list[Span], rels: list[tuple[int, int, str]],
                path: Path, where: str, stats: ConvertStats | None = None) -> Doc:
    """Set entities and relations; ``rels`` index ``spans`` (the record's order).

    An entity that covers no text but whitespace (``doc.ents`` cannot hold it) is dropped with
    every relation that names it, counted and logged; the other relations keep pointing at
    their own entities."""
    blank = {i for i, span in enumerate(spans) if not span.text.strip()}
    if blank:
        lost = [r for r in rels if r[0] in blank or r[1] in blank]
        log.warning("%s:%s: %d entities without text dropped (%s), with %d relations", path,
                    where, len(blank), ", ".join(repr(spans[i].text) for i in sorted(blank)),
                    len(lost))
        if stats is not None:
            stats.blank_entities += len(blank)
            stats.blank_relations += len(lost)
        keep = [i for i in range(len(spans)) if i not in blank]
        index = {old: new for new, old in enumerate(keep)}
        spans = [spans[i] for i in keep]
        rels = [(index[h], index[t], label) for h, t, label in rels
                if h in index and t in index]
    order = sorted(range(len(spans)), key=lambda i: (spans[i].start, spans[i].end))
    for a, b in zip(order, order[1:], strict=False):
        if spans[b].start < spans[a].end:
            raise CorpusError(path, where, f"overlapping entities {spans[a].text!r} "
                                           f"and {spans[b].text!r}")
    doc.ents = [spans[i] for i in order]
    if len(doc.ents) != len(spans):  # never silently shift the relations' indices
        raise CorpusError(path, where, f"{len(spans)} entities given, doc.ents kept "
                                       f"{len(doc.ents)}")
    position = {old: new for new, old in enumerate(order)}
    set_relations(doc, [{"head": position[h], "tail": position[t], "label": label, "score": 1.0}
                        for h, t, label in rels])
    return doc


# --- SpERT ---------------------------------------------------------------------------------


def _spert_doc(vocab: Vocab, item: Any, path: Path, where: str, stats: ConvertStats) -> Doc:
    _require(isinstance(item, dict), path, where, "record is not a JSON object")
    _require(not _has_surrogate(item), path, where, _SURROGATE_MESSAGE)
    tokens = item.get("tokens")
    _require(isinstance(tokens, list) and tokens and all(isinstance(t, str) and t for t in tokens),
             path, where, "'tokens' must be a non-empty list of non-empty strings")
    ents = item.get("entities", [])
    rels = item.get("relations", [])
    _require(isinstance(ents, list) and isinstance(rels, list), path, where,
             "'entities' and 'relations' must be lists")
    doc = Doc(vocab, words=tokens, spaces=[True] * (len(tokens) - 1) + [False])
    for tok in doc:
        tok.is_sent_start = tok.i == 0
    spans: list[Span] = []
    for k, ent in enumerate(ents):
        ok = (isinstance(ent, dict) and _is_int(ent.get("start")) and _is_int(ent.get("end"))
              and isinstance(ent.get("type"), str))
        _require(ok, path, where, f"entity {k} needs integer 'start'/'end' and a string 'type'")
        _require(0 <= ent["start"] < ent["end"] <= len(tokens), path, where,
                 f"entity {k} [{ent['start']}, {ent['end']}) is outside the "
                 f"{len(tokens)} tokens")
        spans.append(Span(doc, ent["start"], ent["end"], label=ent["type"]))
    # nested entities: keep the longest, then the first
    keep: list[int] = []
    for i in sorted(range(len(spans)), key=lambda i: (-(spans[i].end - spans[i].start),
                                                        spans[i].start)):
        if all(spans[i].end <= spans[j].start or spans[j].end <= spans[i].start for j in keep):
            keep.append(i)
    dropped = len(spans) - len(keep)
    new_index = {old: new for new, old in enumerate(sorted(keep))}
    triples: list[tuple[int, int, str]] = []
    for head, tail, label in _relation_triples(rels, len(spans), "type", path, where):
        if head in new_index and tail in new_index:
            triples.append((new_index[head], new_index[tail], label))
        else:
            stats.dropped_relations += 1
    if dropped:
        stats.dropped_entities += dropped
        log.warning("%s:%s: %d nested entities dropped (doc.ents cannot hold them)",
                    path, where, dropped)
    doc = _finish_doc(doc, [spans[i] for i in sorted(keep)], triples, path, where, stats)
    if "orig_id" in item:
        doc.user_data["kgx_id"] = str(item["orig_id"])
    return doc


def read_spert(path: Path, vocab: Vocab, strict: bool = True,
               stats: ConvertStats | None = None) -> Iterator[Doc]:
    stats = stats if stats is not None else ConvertStats()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise CorpusError(path, f"{e.lineno}", f"not valid JSON: {e.msg}") from e
    if not isinstance(data, list):
        raise CorpusError(path, "1", "a SpERT file is a JSON list of sentences")
    for i, item in enumerate(data):
        where = f"item {i}"
        try:
            yield _spert_doc(vocab, item, path, where, stats)
        except CorpusError as e:
            if strict:
                raise
            log.warning("skipped: %s", e)
            stats.skipped.append(str(e))


# --- JSONL formats -------------------------------------------------------------------------


def _jsonl_records(path: Path) -> Iterator[tuple[int, Any]]:
    with path.open(encoding="utf-8") as f:
        for n, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as e:
                yield n, CorpusError(path, str(n), f"not valid JSON: {e.msg}")
                continue
            yield n, CorpusError(path, str(n), _SURROGATE_MESSAGE) if _has_surrogate(rec) else rec


def _kgx_doc(nlp: Language, rec: Any, path: Path, where: str,
             stats: ConvertStats | None = None) -> Doc:
    _require(isinstance(rec, dict), path, where, "record is not a JSON object")
    text = rec.get("text")
    _require(isinstance(text, str), path, where, "missing or non-string 'text'")
    ents, rels = rec.get("entities", []), rec.get("relations", [])
    _require(isinstance(ents, list) and isinstance(rels, list), path, where,
             "'entities' and 'relations' must be lists")
    doc = nlp(text)
    spans: list[Span] = []
    for k, ent in enumerate(ents):
        ok = (isinstance(ent, dict) and _is_int(ent.get("start")) and _is_int(ent.get("end"))
              and isinstance(ent.get("label"), str))
        _require(ok, path, where, f"entity {k} needs integer 'start'/'end' and a string 'label'")
        start, end = ent["start"], ent["end"]
        _require(0 <= start < end <= len(text), path, where,
                 f"entity {k} [{start}, {end}) is outside the text ({len(text)} characters)")
        span = doc.char_span(start, end, label=ent["label"], alignment_mode="strict")
        if span is None:
            span = doc.char_span(start, end, label=ent["label"], alignment_mode="expand")
            log.warning("%s:%s: entity %r does not match token boundaries; expanded to %r",
                        path, where, text[start:end], span.text if span else None)
        _require(span is not None, path, where, f"entity {k} {text[start:end]!r} has no tokens")
        spans.append(span)  # type: ignore[arg-type]
    triples = _relation_triples(rels, len(spans), "label", path, where)
    doc = _finish_doc(doc, spans, triples, path, where, stats)
    if rec.get("id") is not None:
        doc.user_data["kgx_id"] = str(rec["id"])
    return doc


def _prodigy_doc(vocab: Vocab, rec: Any, path: Path, where: str,
                 stats: ConvertStats | None = None) -> Doc:
    _require(isinstance(rec, dict), path, where, "record is not a JSON object")
    text, tokens = rec.get("text"), rec.get("tokens")
    _require(isinstance(text, str) and isinstance(tokens, list) and tokens, path, where,
             "a rel.manual record needs 'text' and 'tokens'")
    try:
        words = [t["text"] for t in tokens]
        spaces = [bool(t.get("ws", True)) for t in tokens]
    except (TypeError, KeyError) as e:
        raise CorpusError(path, where, f"malformed token: {e}") from e
    doc = Doc(vocab, words=words, spaces=spaces)
    _require(doc.text == text, path, where, "the tokens do not reproduce 'text'")
    spans: list[Span] = []
    by_chars: dict[tuple[int, int], int] = {}
    for k, sp in enumerate(rec.get("spans", [])):
        ok = isinstance(sp, dict) and _is_int(sp.get("start")) and _is_int(sp.get("end")) \
            and isinstance(sp.get("label"), str)
        _require(ok, path, where, f"span {k} needs integer 'start'/'end' and a string 'label'")
        _require(0 <= sp["start"] < sp["end"] <= len(text), path, where,
                 f"span {k} [{sp['start']}, {sp['end']}) is outside the text")
        span = doc.char_span(sp["start"], sp["end"], label=sp["label"])
        _require(span is not None, path, where,
                 f"span {k} {text[sp['start']:sp['end']]!r} does not match token boundaries")
        by_chars[(sp["start"], sp["end"])] = len(spans)
        spans.append(span)  # type: ignore[arg-type]
    triples = []
    for k, rel in enumerate(rec.get("relations", [])):
        try:
            head = by_chars[(rel["head_span"]["start"], rel["head_span"]["end"])]
            tail = by_chars[(rel["child_span"]["start"], rel["child_span"]["end"])]
            label = rel["label"]
        except (KeyError, TypeError) as e:
            raise CorpusError(path, where, f"relation {k} does not point at a span ({e})") from e
        _require(isinstance(label, str), path, where, f"relation {k} has no string 'label'")
        triples.append((head, tail, label))
    doc = _finish_doc(doc, spans, triples, path, where, stats)
    if "_input_hash" in rec:
        doc.user_data["kgx_id"] = str(rec["_input_hash"])
    return doc


def _read_jsonl(path: Path, make: Callable[[Any, str], Doc], strict: bool, stats: ConvertStats,
                prodigy: bool = False) -> Iterator[Doc]:
    for n, rec in _jsonl_records(path):
        where = f"{n}"
        try:
            if isinstance(rec, CorpusError):
                raise rec
            if prodigy and isinstance(rec, dict) and rec.get("answer", "accept") != "accept":
                stats.rejected += 1
                continue
            yield make(rec, where)
        except CorpusError as e:
            if strict:
                raise
            log.warning("skipped: %s", e)
            stats.skipped.append(str(e))


# --- format detection and the public API ---------------------------------------------------


def detect_format(path: Path) -> str:
    """``spert``, ``prodigy``, ``kgx`` or ``docbin``, from the suffix and the first record."""
    if path.suffix == ".spacy":
        return "docbin"
    with path.open(encoding="utf-8") as f:
        head = f.read(4096).lstrip()
    if head.startswith("["):
        return "spert"
    first = next((line for line in head.splitlines() if line.strip()), "")
    try:
        rec = json.loads(first)
    except json.JSONDecodeError:
        rec = {}
        if '"spans"' in first:
            return "prodigy"
    if isinstance(rec, dict) and "spans" in rec:
        return "prodigy"
    if isinstance(rec, dict) and "text" in rec:
        return "kgx"
    raise CorpusError(path, "1", "cannot tell the format (expected a SpERT JSON list, Prodigy "
                                 "rel.manual JSONL or kgx JSONL); pass --format")


def _sentencizing(lang: str, vocab: Vocab | None) -> Language:
    nlp = spacy.blank(lang, vocab=vocab) if vocab is not None else spacy.blank(lang)
    nlp.add_pipe("sentencizer")
    return nlp


def read_docs(path: Path | str, vocab: Vocab | None = None, fmt: str = "auto", lang: str = "en",
              strict: bool = True, stats: ConvertStats | None = None) -> Iterator[Doc]:
    """Gold docs from any supported file (entities, relations, sentence starts)."""
    path = Path(path)
    if not path.is_file():
        raise CorpusError(path, "0", "no such file")
    stats = stats if stats is not None else ConvertStats()
    fmt = detect_format(path) if fmt == "auto" else fmt
    nlp = _sentencizing(lang, vocab)
    if fmt == "docbin":
        docs: Iterable[Doc] = DocBin(store_user_data=True).from_disk(path).get_docs(nlp.vocab)
    elif fmt == "spert":
        docs = read_spert(path, nlp.vocab, strict, stats)
    elif fmt == "kgx":
        docs = _read_jsonl(path, lambda r, w: _kgx_doc(nlp, r, path, w, stats), strict, stats)
    elif fmt == "prodigy":
        docs = _read_jsonl(path, lambda r, w: _prodigy_doc(nlp.vocab, r, path, w, stats), strict,
                           stats, prodigy=True)
    else:
        raise ValueError(f"unknown format {fmt!r}; use one of {FORMATS} or 'auto'")
    for doc in docs:
        stats.docs += 1
        stats.entities += len(doc.ents)
        stats.relations += len(raw_relations(doc))
        yield doc


def convert(input_path: Path | str, output_path: Path | str, fmt: str = "auto", lang: str = "en",
            strict: bool = True) -> ConvertStats:
    """Write the gold docs of ``input_path`` to a ``.spacy`` DocBin (relations kept)."""
    stats = ConvertStats()
    db = DocBin(store_user_data=True)
    for doc in read_docs(input_path, fmt=fmt, lang=lang, strict=strict, stats=stats):
        db.add(doc)
    out = Path(output_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    db.to_disk(out)
    log.debug("%s -> %s: %s", input_path, out, stats.summary())
    return stats


def docs_to_kgx_jsonl(docs: Iterable[Doc]) -> Iterator[dict[str, Any]]:
    """Gold docs back to kgx JSONL records (for round trips and exporting corpora)."""
    for i, doc in enumerate(docs):
        yield {
            "id": doc.user_data.get("kgx_id", str(i)),
            "text": doc.text,
            "entities": [{"start": e.start_char, "end": e.end_char, "label": e.label_}
                         for e in doc.ents],
            "relations": [{"head": r["head"], "tail": r["tail"], "label": r["label"]}
                          for r in raw_relations(doc)],
        }


# --- documents assembled from sentences --------------------------------------------------


# How records are laid out in an assembled document: (text before each record, text between
# records). Users' documents are running text, lines, paragraphs and lists; a segmenter that
# only reads punctuation misses the boundaries that the layout marks (issue 19).
LAYOUTS: dict[str, tuple[str, str]] = {
    "space": ("", " "),
    "lines": ("", "\n"),
    "paragraphs": ("", "\n\n"),
    "list": ("- ", "\n"),
}


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


# --- the spaCy reader ----------------------------------------------------------------------


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
    ``layout`` lays those records out as running text, lines, paragraphs or a list
    (``LAYOUTS``). The predicted doc has no sentence boundaries: the pipeline's own segmenter
    sets them.
    """

    def __init__(self, path: Path | str, gold_tokens: bool = False, max_length: int = 0,
                 limit: int = 0, shuffle: bool = False, documents: int = 1,
                 random_documents: bool = False, layout: str = "space") -> None:
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
                         layout: str = "space") -> RelationCorpus:
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
    """
    if path is None:
        raise ValueError("kgx.Corpus.v1 needs a path (set paths.train / paths.dev)")
    return RelationCorpus(path, gold_tokens, max_length, limit, shuffle, documents,
                          random_documents, layout)
