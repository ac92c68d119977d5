"""Whole documents as users have them: sentence boundaries in every shipped pipeline, encoder
spans and candidate pairs that do not depend on a document's length, and corpora assembled
into documents for training and evaluation (issue 19)."""

from __future__ import annotations

import json
import random

import pytest
import spacy
from spacy.tokens import Span
from spacy.util import load_config, load_model_from_config, registry
from typer.testing import CliRunner

from helpers import TRAIN, make_example
from kgx.cli import app
from kgx.corpus import assemble_documents, read_docs
from kgx.encoders import sentence_windows
from kgx.pipeline.candidates import make_candidate_generator, make_candidate_generator_v2
from kgx.relations import raw_relations

SHIPPED = ["kgx_trf.cfg", "kgx_trf_fast.cfg", "kgx_demo.cfg"]


def sentences_doc(text: str):
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    return nlp(text)


# --- the shipped configs ---------------------------------------------------------------------


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_config_segments_sentences_before_everything(repo_root, name):
    config = load_config(repo_root / "configs" / name, interpolate=True)
    nlp = load_model_from_config(config, auto_fill=True, validate=True)
    assert nlp.pipe_names == ["sentencizer", "kgx_layout_boundaries", "transformer", "ner",
                              "kgx_relation_extractor"]
    assert config["training"]["annotating_components"] == ["sentencizer",
                                                           "kgx_layout_boundaries"]
    assert config["corpora"]["train"]["gold_tokens"] is False
    assert config["components"]["transformer"]["model"]["get_spans"]["@span_getters"] == \
        "kgx.sentence_spans.v1"


@pytest.mark.slow
@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_config_pipeline_sets_sentences_and_records_cite_them(repo_root, minilm_path,
                                                                     name):
    from kgx.records import doc_to_records

    config = load_config(repo_root / "configs" / name, interpolate=True)
    nlp = load_model_from_config(config, auto_fill=True, validate=True)
    examples = [make_example(nlp, *row) for row in TRAIN]
    nlp.initialize(lambda: examples)
    text = "Maria Lopez works for Acme in Paris. John Smith lives in Berlin."
    doc = nlp(text)
    assert doc.has_annotation("SENT_START")
    assert [s.text for s in doc.sents] == ["Maria Lopez works for Acme in Paris.",
                                          "John Smith lives in Berlin."]
    # a record made from this doc cites the whole sentence, not the text between the entities
    doc.ents = [doc.char_span(0, 11, label="PER"), doc.char_span(22, 26, label="ORG")]
    doc._.kgx_relations = [{"head": 0, "tail": 1, "label": "Work_For", "score": 0.9}]
    (record,) = doc_to_records(doc, "d")
    assert record["sentence"] == "Maria Lopez works for Acme in Paris."
    assert (record["sent_start_char"], record["sent_end_char"]) == (0, 36)


# --- what the encoder reads --------------------------------------------------------------------


def test_sentence_windows_one_span_per_sentence():
    doc = sentences_doc("Ann works here. Bob lives there. Done.")
    assert [s.text for s in sentence_windows(doc, 128, 96)] == [
        "Ann works here.", "Bob lives there.", "Done."]


def test_sentence_windows_cut_long_sentences_and_cover_every_token():
    doc = sentences_doc(" ".join(["word"] * 300) + ". Short one.")
    spans = sentence_windows(doc, 128, 96)
    assert max(len(s) for s in spans) <= 128
    covered = {i for s in spans for i in range(s.start, s.end)}
    assert covered == set(range(len(doc)))
    assert spans[-1].text == "Short one."
    # no span crosses a sentence boundary
    for span in spans:
        assert len({tok.sent.start for tok in span}) == 1


def test_sentence_windows_without_boundaries_fall_back_to_strided_windows():
    doc = spacy.blank("en")(" ".join(["w"] * 250))
    spans = sentence_windows(doc, 100, 80)
    assert [(s.start, s.end) for s in spans] == [(0, 100), (80, 180), (160, 250)]
    assert sentence_windows(spacy.blank("en")(""), 100, 80) == []


def test_sentence_windows_count_words_not_line_breaks():
    """A long sentence hard-wrapped: the encoder's windows hold the words they hold on one
    line (a line break has no word piece, and counted as a token it moved every window)."""
    words = [f"w{i}" for i in range(250)]
    line = spacy.blank("en")(" ".join(words))
    wrapped = spacy.blank("en")("".join(w + ("\n" if i % 7 == 6 else " ")
                                        for i, w in enumerate(words)).rstrip())
    assert sum(t.is_space for t in wrapped) == 35

    def window_words(doc):
        return [[t.text for t in span if not t.is_space]
                for span in sentence_windows(doc, 100, 80)]

    assert window_words(wrapped) == window_words(line)
    covered = {i for s in sentence_windows(wrapped, 100, 80) for i in range(s.start, s.end)}
    assert covered == set(range(len(wrapped)))


def test_sentence_spans_registered_and_validated():
    getter = registry.get("span_getters", "kgx.sentence_spans.v1")(max_tokens=10, stride=5)
    doc = sentences_doc("One two. Three four.")
    assert [[s.text for s in spans] for spans in getter([doc])] == [["One two.", "Three four."]]
    with pytest.raises(ValueError, match="stride"):
        registry.get("span_getters", "kgx.sentence_spans.v1")(max_tokens=10, stride=20)


# --- candidate pairs ----------------------------------------------------------------------------


def random_doc(rng: random.Random, n_sents: int):
    words, spaces, starts = [], [], []
    for _ in range(n_sents):
        length = rng.randint(3, 15)
        starts.append(len(words))
        words += [rng.choice(["Ann", "Acme", "Oslo", "was", "in", "the"]) for _ in range(length)]
        words.append(".")
    spaces = [True] * len(words)
    from spacy.tokens import Doc

    doc = Doc(spacy.blank("en").vocab, words=words, spaces=spaces)
    for tok in doc:
        tok.is_sent_start = tok.i in starts
    ents, i = [], 0
    while i < len(doc) - 1:
        if doc[i].text != "." and rng.random() < 0.3:
            end = i + rng.randint(1, 2)
            if all(t.text != "." and t.sent.start == doc[i].sent.start for t in doc[i:end]):
                ents.append(doc[i:end])
                i = end
                continue
        i += 1
    doc.ents = [doc.char_span(e.start_char, e.end_char, label="X") for e in ents]
    return doc


@pytest.mark.parametrize("max_sentences", [0, 1, 2])
def test_candidate_pairs_v2_equals_v1_while_no_cap_applies(max_sentences):
    rng = random.Random(7)
    v1 = make_candidate_generator(max_sentences=max_sentences, max_tokens=12, max_pairs=10**6)
    v2 = make_candidate_generator_v2(max_sentences=max_sentences, max_tokens=12, max_tails=10**6)
    for _ in range(30):
        doc = random_doc(rng, rng.randint(1, 6))
        ents = list(doc.ents)
        assert v2(doc, ents) == v1(doc, ents)
        shuffled = ents[:]
        rng.shuffle(shuffled)  # entity lists need not be sorted
        assert sorted(v2(doc, shuffled)) == sorted(v1(doc, shuffled))


def test_candidate_pairs_v2_keep_every_sentence_of_a_long_document():
    """v1's per-document cap kept the nearest pairs: across sentences, gap 1, so a long document
    lost its real pairs. v2's pairs of a sentence are the same at any document length."""
    one = sentences_doc("Wei Chen works for Globex in Osaka.")
    spans = [(0, 8, "PER"), (19, 25, "ORG"), (29, 34, "LOC")]
    one.ents = [one.char_span(s, e, label=lab) for s, e, lab in spans]
    text = " ".join(["Wei Chen works for Globex in Osaka."] * 600)
    doc = sentences_doc(text)
    ents = []
    for k in range(600):
        base = k * 36
        ents += [doc.char_span(base + s, base + e, label=lab) for s, e, lab in spans]
    doc.ents = ents
    v2 = make_candidate_generator_v2(max_sentences=1, max_tokens=100, max_tails=32)
    single = v2(one, list(one.ents))
    pairs = v2(doc, list(doc.ents))
    assert len(single) == 6
    assert len(pairs) == 600 * 6
    assert set(pairs) == {(3 * k + a, 3 * k + b) for k in range(600) for a, b in single}
    v1 = make_candidate_generator(max_sentences=1, max_tokens=100, max_pairs=1000)
    assert len(v1(doc, list(doc.ents))) == 1000  # the old cap: 2,600 pairs lost


def test_candidate_pairs_v2_cap_is_per_head_and_keeps_the_nearest():
    doc = spacy.blank("en")(" ".join(f"E{i}" for i in range(10)))
    doc.ents = [Span(doc, i, i + 1, label="X") for i in range(10)]
    v2 = make_candidate_generator_v2(max_sentences=0, max_tokens=100, max_tails=2)
    pairs = v2(doc, list(doc.ents))
    assert [b for a, b in pairs if a == 5] == [4, 6]
    assert [b for a, b in pairs if a == 0] == [1, 2]
    with pytest.raises(ValueError, match="max_tails"):
        make_candidate_generator_v2(max_tails=0)


# --- the span suggester ---------------------------------------------------------------------------


def test_sentence_ngram_suggester_stays_inside_sentences_and_off_whitespace():
    suggest = registry.misc.get("kgx.sentence_ngram_suggester.v1")(min_size=1, max_size=3)
    doc = sentences_doc("Ann Lee left. Acme\n\nOslo")
    spans = suggest([doc]).dataXd.tolist()
    texts = {doc[s:e].text for s, e in spans}
    assert "Ann Lee left" in texts and "Acme" in texts and "Oslo" in texts
    for s, e in spans:
        span = doc[s:e]
        assert len({t.sent.start for t in span}) == 1, span.text
        assert not span[0].is_space and not span[-1].is_space, repr(span.text)
    assert suggest([spacy.blank("en")("")]).lengths.tolist() == [0]


def test_sentence_ngram_suggester_counts_words_not_line_breaks():
    """A name a line break splits (hard-wrapped text) is proposed as it is on one line; on a
    doc without whitespace tokens or boundaries the spans are spaCy's n-gram suggester's."""
    suggest = registry.misc.get("kgx.sentence_ngram_suggester.v1")(min_size=1, max_size=3)
    nlp = spacy.blank("en")
    wrapped, line = nlp("in New\nYork City ."), nlp("in New York City .")
    texts = [wrapped[s:e].text for s, e in suggest([wrapped]).dataXd.tolist()]
    assert "New\nYork City" in texts and "in New\nYork" in texts
    as_words = sorted(t.replace("\n", " ") for t in texts)
    assert as_words == sorted(line[s:e].text for s, e in suggest([line]).dataXd.tolist())
    spacy_own = registry.misc.get("spacy.ngram_range_suggester.v1")(min_size=1, max_size=3)
    docs = [line, nlp("Acme"), nlp("")]
    ours, theirs = suggest(docs), spacy_own(docs)
    assert ours.dataXd.tolist() == theirs.dataXd.tolist()
    assert ours.lengths.tolist() == theirs.lengths.tolist()


# --- boundaries from the layout --------------------------------------------------------------


def layout_sents(text: str, **config) -> list[str]:
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("kgx_layout_boundaries", config=config)
    return [s.text for s in nlp(text).sents]


@pytest.mark.parametrize("text, sents", [
    # a paragraph or a heading without a final period ends at the blank line
    ("Company news\n\nWei Chen works for Globex in Osaka.",
     ["Company news\n\n", "Wei Chen works for Globex in Osaka."]),
    ("Wei Chen works for Globex\n\nAnna Berg lives in Oslo",
     ["Wei Chen works for Globex\n\n", "Anna Berg lives in Oslo"]),
    ("Wei Chen works for Globex\r\n \r\nAnna Berg", ["Wei Chen works for Globex\r\n \r\n",
                                                     "Anna Berg"]),
    # after a period the sentencizer has split already: no sentence of whitespace alone
    ("Osaka.\n\nAnna Berg", ["Osaka.", "\n\nAnna Berg"]),
    # list items: the marker is a sentence of its own, the item another
    ("- Wei Chen works for Globex\n- Anna Berg lives in Oslo\n* Bob\n\u2022 Carl",
     ["-", "Wei Chen works for Globex\n", "-", "Anna Berg lives in Oslo\n", "*", "Bob\n",
      "\u2022", "Carl"]),
    ("3) Carl left\na) Dan left\n(4) Eve left",
     ["3)", "Carl left\n", "a)", "Dan left\n", "(4)", "Eve left"]),
    # an item after a sentence-final period: the sentencizer's start stays on the line break
    ("- Ann left.\n- Bob came", ["-", "Ann left.", "\n-", "Bob came"]),
    # a Markdown heading is one line; "#hashtag" opens no heading
    ("## Results\nAcme grew\nagain", ["##", "Results\n", "Acme grew\nagain"]),
    ("#hashtag rules\nok", ["#hashtag rules\nok"]),
    # hard-wrapped text: a single line break is not a boundary, nor a year opening a line
    ("Wei Chen works for Globex\nin Osaka. Anna Berg was born in\n1990. She left",
     ["Wei Chen works for Globex\nin Osaka.", "Anna Berg was born in\n1990.", "She left"]),
    ("\n\nHello there\n\n", ["\n\nHello there\n\n"]),
    # nor a dash that a wrapped line happens to begin with ("gold\n- salt", "drug\n\u2014 a")
    ("Ann had gold\n- salt nephropathy and was\ntreated",
     ["Ann had gold\n- salt nephropathy and was\ntreated"]),
    ("The drug\n\u2014 as reported \u2014 failed", ["The drug\n\u2014 as reported \u2014 failed"]),
    # a list may follow a line that ends its text, or one without a period when another item
    # follows; the items of one paragraph are a list however their lines wrap
    ("We found:\n- Ann left", ["We found:\n", "-", "Ann left"]),
    ("## Results\n- Ann left", ["##", "Results\n", "-", "Ann left"]),
    ("Highlights\n- Ann left\n- Bob came", ["Highlights\n", "-", "Ann left\n", "-", "Bob came"]),
    ("- Ann left and then\nsome more\n- Bob came",
     ["-", "Ann left and then\nsome more\n", "-", "Bob came"]),
    ("Intro\n\n1. Ann left\n2. Bob came", ["Intro\n\n", "1.", "Ann left\n", "2.", "Bob came"]),
])
def test_layout_boundaries_start_sentences_at_paragraphs_items_and_headings(text, sents):
    assert layout_sents(text) == sents


@pytest.mark.parametrize("brk, para", [("\r\n", "\r\n\r\n"), ("\r", "\r\r"),
                                       ("\u2028", "\u2029"), ("\x85", "\x85\x85"),
                                       ("\f", "\f\f")])
def test_layout_boundaries_read_every_line_break(brk, para):
    """Windows and classic Mac files, text from Word or JavaScript (U+2028, U+2029), NEL and
    pdftotext's form feed: the same sentences as with "\\n"."""
    text = ("## Results\nGlobex hired Wei Chen\n\nHighlights:\n- Ann left Osaka\n- Bob joined "
            "Initech\n\nWei Chen works for Globex\nin Osaka. Then more.")
    other = text.replace("\n\n", para).replace("\n", brk)

    def words(t: str) -> list[list[str]]:
        nlp = spacy.blank("en")
        nlp.add_pipe("sentencizer")
        nlp.add_pipe("kgx_layout_boundaries")
        return [[tok.text for tok in s if not tok.is_space] for s in nlp(t).sents]

    assert words(other) == words(text)
    assert len(words(text)) == 10


def test_layout_boundaries_options_and_plain_text():
    text = "Company news\n\n- Wei Chen works for Globex\n- Anna Berg"
    assert layout_sents(text, paragraphs=False, list_items=False) == [text]
    assert layout_sents(text, paragraphs=False) == ["Company news\n\n", "-",
                                                    "Wei Chen works for Globex\n", "-",
                                                    "Anna Berg"]
    assert layout_sents(text, list_items=False) == ["Company news\n\n",
                                                    "- Wei Chen works for Globex\n- Anna Berg"]
    # one unit a line: every line break, only when asked (hard-wrapped prose breaks lines
    # inside sentences)
    lines = "Wei Chen works for Globex\nAnna Berg lives in Oslo\n\nBo Li left"
    assert layout_sents(lines) == ["Wei Chen works for Globex\nAnna Berg lives in Oslo\n\n",
                                   "Bo Li left"]
    assert layout_sents(lines, line_breaks=True) == ["Wei Chen works for Globex\n",
                                                     "Anna Berg lives in Oslo\n\n", "Bo Li left"]
    assert layout_sents("Osaka.\nAnna", line_breaks=True) == ["Osaka.", "\nAnna"]
    # without a line break the sentencizer's boundaries stay exactly as they were
    plain = "Ann Lee left. Acme - a firm - grew (1) fast. Bob"
    assert layout_sents(plain) == [s.text for s in sentences_doc(plain).sents]


# --- documents assembled from sentences ---------------------------------------------------


SPERT = [
    {"tokens": ["Ann", "Lee", "works", "for", "Acme", "."],
     "entities": [{"type": "Peop", "start": 0, "end": 2}, {"type": "Org", "start": 4, "end": 5}],
     "relations": [{"type": "Work_For", "head": 0, "tail": 1}]},
    {"tokens": ["No", "one", "here", "."], "entities": [], "relations": []},
    {"tokens": ["Paris", "is", "in", "France", "."],
     "entities": [{"type": "Loc", "start": 0, "end": 1}, {"type": "Loc", "start": 3, "end": 4}],
     "relations": [{"type": "Located_In", "head": 0, "tail": 1}]},
]


def char_triples(doc):
    ents = doc.ents
    return {((ents[r["head"]].start_char, ents[r["head"]].end_char), r["label"],
             (ents[r["tail"]].start_char, ents[r["tail"]].end_char))
            for r in raw_relations(doc)}


def test_assembled_documents_keep_entities_relations_and_sentences(tmp_path):
    path = tmp_path / "s.json"
    path.write_text(json.dumps(SPERT))
    (doc,) = list(assemble_documents(read_docs(path), 3))
    assert doc.text == "Ann Lee works for Acme . No one here . Paris is in France ."
    assert [e.text for e in doc.ents] == ["Ann Lee", "Acme", "Paris", "France"]
    assert [s.text for s in doc.sents] == ["Ann Lee works for Acme .", "No one here .",
                                          "Paris is in France ."]
    ents = doc.ents
    assert {(ents[r["head"]].text, r["label"], ents[r["tail"]].text)
            for r in raw_relations(doc)} == {("Ann Lee", "Work_For", "Acme"),
                                             ("Paris", "Located_In", "France")}
    assert [len(d) for d in assemble_documents(read_docs(path), 2)] == [10, 5]
    with pytest.raises(ValueError):
        list(assemble_documents(read_docs(path), 0))


RECORDS = ["Ann Lee works for Acme .", "No one here .", "Paris is in France ."]


@pytest.mark.parametrize("layout, text, sents", [
    ("space", " ".join(RECORDS), RECORDS),
    ("lines", "\n".join(RECORDS), [r + "\n" for r in RECORDS[:2]] + RECORDS[2:]),
    ("paragraphs", "\n\n".join(RECORDS), [r + "\n\n" for r in RECORDS[:2]] + RECORDS[2:]),
    # a list item's marker is a sentence of its own, as kgx_layout_boundaries makes it
    ("list", "\n".join("- " + r for r in RECORDS),
     ["-", RECORDS[0] + "\n", "-", RECORDS[1] + "\n", "-", RECORDS[2]]),
    # 58 characters: no line reaches the wrapping column (72)
    ("wrapped", " ".join(RECORDS), RECORDS),
])
def test_assembled_documents_laid_out(tmp_path, layout, text, sents):
    path = tmp_path / "s.json"
    path.write_text(json.dumps(SPERT))
    (doc,) = list(assemble_documents(read_docs(path), 3, layout=layout))
    assert doc.text == text
    assert [s.text for s in doc.sents] == sents
    assert [(e.text, e.label_) for e in doc.ents] == [
        ("Ann Lee", "Peop"), ("Acme", "Org"), ("Paris", "Loc"), ("France", "Loc")]
    ents = doc.ents
    assert {(ents[r["head"]].text, r["label"], ents[r["tail"]].text)
            for r in raw_relations(doc)} == {("Ann Lee", "Work_For", "Acme"),
                                             ("Paris", "Located_In", "France")}
    reader = registry.readers.get("kgx.Corpus.v1")
    (eg,) = list(reader(path=path, documents=3, layout=layout)(spacy.blank("en")))
    assert eg.predicted.text == text and eg.reference.text == text
    # the segmenter of the shipped configs finds the layout's sentences here (where the
    # whitespace between two goes is spaCy's convention, not a boundary)
    segment = spacy.blank("en")
    segment.add_pipe("sentencizer")
    segment.add_pipe("kgx_layout_boundaries")
    assert [s.text.strip() for s in segment(text).sents] == [s.strip() for s in sents]


def test_wrapped_documents_keep_offsets_entities_sentences_and_relations(tmp_path):
    """Hard-wrapped text: a line break in place of the space before a word that would pass
    the column; a name wrapped across two lines keeps the line break inside it."""
    from kgx.corpus.documents import wrap_doc, wrap_text

    path = tmp_path / "s.json"
    path.write_text(json.dumps(SPERT))
    (doc,) = list(assemble_documents(read_docs(path), 3))
    wrapped = wrap_doc(doc, width=10)
    assert wrapped.text == "Ann Lee\nworks for\nAcme . No\none here .\nParis is\nin France\n."
    assert wrapped.text.replace("\n", " ") == doc.text
    assert [t.text for t in wrapped if t.is_space] == ["\n"] * 6
    assert [(e.start_char, e.end_char, e.label_) for e in wrapped.ents] == [
        (e.start_char, e.end_char, e.label_) for e in doc.ents]
    assert [s.start_char for s in wrapped.sents] == [s.start_char for s in doc.sents]
    assert raw_relations(wrapped) == raw_relations(doc)
    names = wrap_doc(doc, width=4)
    assert [e.text for e in names.ents][0] == "Ann\nLee"
    assert max(len(line) for line in names.text.split("\n")) == len("France")  # its longest word
    assert wrap_doc(doc, width=100) is doc
    # a line break already there starts a line; a word longer than a line stays whole
    assert wrap_text("a\nbbbbbbbbbbbbbbb cc dd", 5) == "a\nbbbbbbbbbbbbbbb\ncc dd"
    # the reader lays documents out wrapped at 72 columns: six records, 117 characters
    path.write_text(json.dumps(SPERT * 2))
    reader = registry.readers.get("kgx.Corpus.v1")
    (eg,) = list(reader(path=path, documents=6, layout="wrapped")(spacy.blank("en")))
    assert eg.predicted.text == eg.reference.text == wrap_text(" ".join(RECORDS * 2))
    assert eg.reference.text.count("\n") == 1
    assert [e.text for e in eg.reference.ents] == ["Ann Lee", "Acme", "Paris", "France"] * 2
    assert len(raw_relations(eg.reference)) == 4


def test_unknown_layout_is_refused(tmp_path):
    path = tmp_path / "s.json"
    path.write_text(json.dumps(SPERT))
    with pytest.raises(ValueError, match="unknown document layout 'table'.*paragraphs"):
        registry.readers.get("kgx.Corpus.v1")(path=path, documents=3, layout="table")
    r = CliRunner().invoke(app, ["evaluate", str(tmp_path), str(path), "--as-documents", "3",
                                 "--layout", "table"])
    assert r.exit_code != 0 and "--layout 'table': choose one of" in r.output


def test_reader_documents_raw_text_and_random_sizes(tmp_path):
    path = tmp_path / "s.json"
    path.write_text(json.dumps(SPERT * 4))
    nlp = spacy.blank("en")
    reader = registry.readers.get("kgx.Corpus.v1")
    fixed = list(reader(path=path, documents=3)(nlp))
    assert len(fixed) == 4
    for eg in fixed:
        # raw text: the predicted doc is the pipeline's tokenisation, without sentences
        assert eg.predicted.text == eg.reference.text
        assert not eg.predicted.has_annotation("SENT_START")
        assert len(list(eg.reference.sents)) == 3
    random.seed(3)
    sizes = {len(list(eg.reference.sents)) for eg in reader(path=path, documents=3,
                                                            random_documents=True)(nlp)}
    assert sizes <= {1, 2, 3} and len(sizes) > 1
    # every relation survives, whatever the grouping
    total = sum(len(raw_relations(eg.reference)) for eg in reader(
        path=path, documents=3, random_documents=True, shuffle=True)(nlp))
    assert total == 8


def test_reader_reads_a_folder_of_files(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "a.json").write_text(json.dumps(SPERT[:1]))
    (tmp_path / "data" / "b.json").write_text(json.dumps(SPERT[2:]))
    reader = registry.readers.get("kgx.Corpus.v1")(path=tmp_path / "data")
    texts = [eg.reference.text for eg in reader(spacy.blank("en"))]
    assert texts == ["Ann Lee works for Acme .", "Paris is in France ."]
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no .spacy"):
        list(registry.readers.get("kgx.Corpus.v1")(path=tmp_path / "empty")(spacy.blank("en")))


def test_evaluate_as_documents_scores_by_character_offsets(trained, tmp_path):
    from helpers import ruled_pipeline

    nlp, examples = trained[0], trained[1]
    model = tmp_path / "ruled"
    ruled_pipeline(nlp, examples).to_disk(model)
    data = tmp_path / "dev.json"
    data.write_text(json.dumps([
        {"tokens": text.split(), "entities": [], "relations": []} for text, _, _ in TRAIN]))
    # gold from the TRAIN rows, as SpERT records
    rows = []
    for text, ents, rels in TRAIN:
        tokens = text.split()
        starts = [len(" ".join(tokens[:i])) + (1 if i else 0) for i in range(len(tokens))]
        spert_ents = []
        for s, e, label in ents:
            first = starts.index(s)
            last = max(i for i, st in enumerate(starts) if st < e)
            spert_ents.append({"type": label, "start": first, "end": last + 1})
        rows.append({"tokens": tokens, "entities": spert_ents,
                     "relations": [{"type": lab, "head": h, "tail": t} for h, t, lab in rels]})
    data.write_text(json.dumps(rows))
    out1, out4 = tmp_path / "s.json", tmp_path / "d.json"
    runner = CliRunner()
    r1 = runner.invoke(app, ["evaluate", str(model), str(data), "--output", str(out1)])
    r4 = runner.invoke(app, ["evaluate", str(model), str(data), "--as-documents", "4",
                             "--output", str(out4)])
    assert r1.exit_code == 0, r1.output
    assert r4.exit_code == 0, r4.output
    one, four = json.loads(out1.read_text()), json.loads(out4.read_text())
    assert one["n_docs"] == 4 and four["n_docs"] == 1
    assert four["input"]["documents_of"] == 4
    assert one["rel_strict_micro_f"] > 0.9
    # the same relations found in one document as in four
    assert four["rel_strict_micro_f"] == pytest.approx(one["rel_strict_micro_f"])
    assert four["ents_f"] == pytest.approx(one["ents_f"])

    out = tmp_path / "c.json"
    rc = runner.invoke(app, ["evaluate", str(model), str(data), "--compare", "--as-documents",
                             "4", "--output", str(out)])
    assert rc.exit_code == 0, rc.output
    assert "documents_raw_4" in rc.output and "sentences_gold_tokens" in rc.output
    both = json.loads(out.read_text())
    assert list(both) == ["sentences_gold_tokens", "sentences_raw", "documents_raw_4"]
    assert both["documents_raw_4"]["n_docs"] == 1
    assert both["sentences_raw"]["rel_strict_micro_f"] == pytest.approx(
        one["rel_strict_micro_f"])

    # laid out as paragraphs, the records keep their scores and the layout is reported
    out = tmp_path / "p.json"
    rp = runner.invoke(app, ["evaluate", str(model), str(data), "--as-documents", "4",
                             "--layout", "paragraphs", "--output", str(out)])
    assert rp.exit_code == 0, rp.output
    assert "laid out as paragraphs" in rp.output
    para = json.loads(out.read_text())
    assert para["input"]["layout"] == "paragraphs"
    assert para["rel_strict_micro_f"] == pytest.approx(one["rel_strict_micro_f"])


def test_whitespace_noise_keeps_every_character_offset(repo_root):
    """benchmarks/eval_whitespace_noise.py compares a document with a noisy copy by character
    offsets: the noise replaces spaces only, one character for one."""
    import random

    from helpers import load_benchmark

    module = load_benchmark("eval_whitespace_noise")  # it imports eval_trailing_period beside it
    text = "Ann Lee works for Acme in Paris . " * 20
    out = module.noisy(text, 0.5, random.Random(0))
    assert len(out) == len(text) and out != text
    assert all(a == b or (a == " " and b in module.NOISE) for a, b in zip(text, out, strict=True))
    assert set(out) - set(text) == set(module.NOISE)
    assert module.noisy(text, 0.0, random.Random(0)) == text
