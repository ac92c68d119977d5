"""The encoder's word pieces (kgx/pipeline/wordpieces.py): ligatures and fullwidth forms read
as their letters and words broken at line ends whole, offsets kept in the text as written, and
a training pass that reads the pieces spacy-transformers' own pass reads."""

from __future__ import annotations

import numpy
import pytest
from spacy.util import fix_random_seed, load_config, load_model_from_config
from thinc.api import Adam

from helpers import TRAIN, make_example
from kgx.pipeline.wordpieces import tokenize_spans
from kgx.text import (
    fold_for_models,
    fold_presentation_forms,
    join_line_end_hyphens,
    line_end_hyphens,
    restore_offsets,
)


def test_fold_maps_every_character_back_to_where_it_came_from():
    text = "the ofﬁce of Ｇｌｏｂｅｘ，Sheﬃeld"
    folded, origin = fold_presentation_forms(text)
    assert folded == "the office of Globex,Sheffield"
    assert len(origin) == len(folded)
    # every folded character points at the character it came from
    assert all(text[j] == folded[i] or text[j] in "ﬁﬃＧｌｏｂｅｘ，"
               for i, j in enumerate(origin))
    assert [text[j] for j in origin[4:8]] == ["o", "f", "ﬁ", "ﬁ"]
    # text without such forms is left alone, and "™", "µ", "²" are not touched
    assert fold_presentation_forms("Globex™ 10 µg X²") == ("Globex™ 10 µg X²", None)


def test_restore_offsets_covers_whole_folded_characters():
    text = "ofﬁce X"
    folded, origin = fold_presentation_forms(text)  # "office X"
    # pieces "of", "fi", "ce" (one cuts a ligature), "x", special tokens and padding (0, 0)
    offsets = numpy.array([[0, 0], [0, 2], [2, 4], [4, 6], [7, 8], [0, 0], [0, 0]])
    restored = restore_offsets(offsets, origin)
    assert [text[a:b] for a, b in restored] == ["", "of", "ﬁ", "ce", "X", "", ""]
    assert restored.dtype == offsets.dtype


def _nlp(repo_root):
    config = load_config(repo_root / "configs" / "kgx_trf.cfg", interpolate=True)
    return load_model_from_config(config, auto_fill=True, validate=True)


@pytest.mark.slow
def test_ligature_and_fullwidth_text_gets_the_pieces_and_vectors_of_plain_text(repo_root,
                                                                             minilm_path):
    fix_random_seed(0)
    nlp = _nlp(repo_root)
    nlp.initialize(lambda: [make_example(nlp, *row) for row in TRAIN])
    plain = "The official said Maria Lopez works for Globex in Sheffield ."
    forms = "The oﬃcial said Maria Lopez works for Ｇｌｏｂｅｘ in Sheﬃeld ."
    a, b = nlp(plain), nlp(forms)
    assert [t.text for t in b][1] == "oﬃcial" and len(a) == len(b)
    pieces_a, pieces_b = a._.trf_data.wordpieces, b._.trf_data.wordpieces
    assert "[UNK]" not in pieces_b.strings[0]
    numpy.testing.assert_array_equal(pieces_a.input_ids, pieces_b.input_ids)
    # each token is aligned to the same pieces, and so reads the same vectors
    align_a, align_b = a._.trf_data.align, b._.trf_data.align
    numpy.testing.assert_array_equal(align_a.lengths, align_b.lengths)
    numpy.testing.assert_array_equal(align_a.dataXd, align_b.dataXd)
    numpy.testing.assert_allclose(a._.trf_data.model_output.last_hidden_state,
                                  b._.trf_data.model_output.last_hidden_state, atol=1e-5)
    # without folding, "Sheﬃeld" is an unknown word piece; tokenize_spans folds it
    tokenizer = nlp.get_pipe("transformer").model.tokenizer
    raw = tokenizer(forms)
    assert "[UNK]" in tokenizer.convert_ids_to_tokens(raw["input_ids"])
    spans = [b[:]]
    pieces, align = tokenize_spans(tokenizer, spans)
    assert pieces.strings[0] == pieces_a.strings[0]


@pytest.mark.slow
def test_training_pass_matches_spacy_transformers_own(repo_root, minilm_path):
    """v2's training pass (kgx's word pieces) and v1's (spacy-transformers' forward) give the
    same losses, update for update, on text without presentation forms."""
    losses = []
    for arch in ("kgx.TransformerModel.v1", "kgx.TransformerModel.v2"):
        fix_random_seed(0)
        config = load_config(repo_root / "configs" / "kgx_trf.cfg", interpolate=True)
        section = config["components"]["transformer"]["model"]
        section["@architectures"] = arch
        if arch.endswith("v1"):
            for key in ("frozen_layers", "quantize", "max_batch_items", "runtime",
                        "frozen_embeddings"):
                section.pop(key, None)
        nlp = load_model_from_config(config, auto_fill=True, validate=True)
        examples = [make_example(nlp, *row) for row in TRAIN]
        nlp.initialize(lambda examples=examples: examples)
        optimizer = Adam(2e-4, grad_clip=1.0)
        run = []
        for _ in range(3):
            step: dict[str, float] = {}
            nlp.update(examples, sgd=optimizer, losses=step, annotates=["sentencizer"])
            run.append(step)
        losses.append(run)
    for v1_step, v2_step in zip(*losses, strict=True):
        assert v1_step.keys() == v2_step.keys()
        for name in v1_step:
            assert v2_step[name] == pytest.approx(v1_step[name], rel=1e-5)


def _lexical_rows(*docs):
    """The recogniser's hashed lexical features of each doc (its table sized on the first)."""
    from spacy.ml.models import MultiHashEmbed

    from kgx.pipeline.features import DEFAULT_ATTRS, DEFAULT_ROWS

    embed = MultiHashEmbed(width=16, attrs=DEFAULT_ATTRS, rows=DEFAULT_ROWS,
                           include_static_vectors=False)
    embed.initialize(X=[docs[0]])
    return embed.predict(list(docs))


def test_lexical_features_of_ligature_tokens_are_those_of_their_letters():
    """The recogniser's hashed lexical features read a folded token as its letters; every
    other token keeps its own norm (a tokenizer exception's)."""
    import spacy

    from kgx.pipeline.features import folded_doc

    nlp = spacy.blank("en")
    plain = nlp("The official in Sheffield isn't here")
    forms = nlp("The oﬃcial in Sheﬃeld isn't here")
    assert folded_doc(plain) is plain
    folded = folded_doc(forms)
    assert [t.text for t in folded] == [t.text for t in plain]
    assert [t.norm_ for t in folded] == [t.norm_ for t in plain]
    assert "not" in [t.norm_ for t in folded]  # "n't": the exception's norm kept
    a, b, c = _lexical_rows(plain, folded, forms)
    numpy.testing.assert_array_equal(a, b)
    assert not numpy.array_equal(a, c)


def test_fold_joins_words_broken_at_line_ends():
    """A letter, a hyphen (or a soft hyphen), one line break and a lower-case letter: the
    models read the word whole; every character of the result maps back to where it was."""
    text = ("for Glo-\nbex in Sheﬃ-\r\n  eld, not Hewlett-\nPackard, 5-\nfluorouracil, "
            "para-\n\ngraph or Glo\u00ad\nbex")
    assert [text[a:b] for a, b in line_end_hyphens(text)] == ["-\n", "-\r\n  ", "\u00ad\n"]
    folded, origin = fold_for_models(text)
    assert folded == ("for Globex in Sheffield, not Hewlett-\nPackard, 5-\nfluorouracil, "
                      "para-\n\ngraph or Globex")
    assert len(origin) == len(folded)
    assert all(text[j] == folded[i] or text[j] == "ﬃ" for i, j in enumerate(origin))
    assert join_line_end_hyphens(text) == folded.replace("Sheffield", "Sheﬃeld")
    # only the breaks asked for; none: the presentation forms alone
    only_forms, forms_origin = fold_for_models(text, [])
    assert only_forms == fold_presentation_forms(text)[0] == text.replace("ﬃ", "ffi")
    numpy.testing.assert_array_equal(forms_origin, fold_presentation_forms(text)[1])
    assert fold_for_models("Hewlett-\nPackard") == ("Hewlett-\nPackard", None)


def test_the_encoder_reads_a_broken_word_whole_only_where_it_is_one_token(minilm_path):
    """Merged into one token (kgx_layout_boundaries), "Glo-\\nbex" gets the pieces of
    "Globex"; left as three tokens it keeps its hyphen: two tokens each read as the whole
    word would look like two entities to the recogniser."""
    import spacy
    from transformers import AutoTokenizer

    from kgx.pipeline.tokenizer import merge_line_end_hyphens

    tokenizer = AutoTokenizer.from_pretrained(str(minilm_path), use_fast=True)
    nlp = spacy.blank("en")
    broken = "Wei Chen works for Glo-\nbex in Osa-\nka ."
    merged = merge_line_end_hyphens(nlp(broken))
    assert len(merged) == 8
    pieces, align = tokenize_spans(tokenizer, [merged[:]])
    one_line = nlp("Wei Chen works for Globex in Osaka .")
    plain, plain_align = tokenize_spans(tokenizer, [one_line[:]])
    assert pieces.strings == plain.strings
    numpy.testing.assert_array_equal(align.lengths, plain_align.lengths)
    numpy.testing.assert_array_equal(align.dataXd, plain_align.dataXd)
    three, _ = tokenize_spans(tokenizer, [nlp(broken)[:]])
    assert three.strings[0].count("-") == 2


def test_lexical_features_of_a_broken_word_are_the_whole_words():
    """The token "Glo-\\nbex" (merged by kgx_layout_boundaries) gets the norm, shape, prefix
    and suffix of "Globex"."""
    import spacy

    from kgx.pipeline.features import folded_doc
    from kgx.pipeline.tokenizer import merge_line_end_hyphens

    nlp = spacy.blank("en")
    plain = nlp("Wei Chen works for Globex")
    broken = merge_line_end_hyphens(nlp("Wei Chen works for Glo-\nbex"))
    folded = folded_doc(broken)
    assert [t.text for t in folded] == [t.text for t in plain]
    assert [t.norm_ for t in folded] == [t.norm_ for t in plain]
    a, b, c = _lexical_rows(plain, folded, broken)
    numpy.testing.assert_array_equal(a, b)
    assert not numpy.array_equal(a, c)
