"""kgx.Tokenizer.v1: spaCy's tokenizer with Markdown link brackets split off the words, in every
shipped config, saved with the pipeline, and the same tokens as spaCy's on the corpora."""

from __future__ import annotations

from pathlib import Path

import pytest
import spacy
from spacy.util import compile_infix_regex, load_config, registry

from kgx.corpus import read_docs
from kgx.pipeline.tokenizer import make_tokenizer, split_markdown_links

CONFIGS = sorted((Path(__file__).resolve().parents[1] / "configs").glob("*.cfg"))
LINKED = "Wei Chen works for [Globex Corp.](https://globex.example/a_(b)) and [Initech][1]."


def _texts(tokenizer) -> list[str]:
    return [t.text for t in tokenizer(LINKED)]


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_every_shipped_config_splits_markdown_links(path):
    config = load_config(path, interpolate=False)
    create = registry.resolve({"tokenizer": config["nlp"]["tokenizer"]})["tokenizer"]
    assert _texts(create(spacy.blank("en"))) == [
        "Wei", "Chen", "works", "for", "[", "Globex", "Corp.", "](",
        "https://globex.example", "/", "a_(b", ")", ")", "and", "[", "Initech", "][", "1", "]",
        "."]
    # spaCy's own: no entity span can be "Globex Corp." or "Initech"
    plain = _texts(spacy.blank("en").tokenizer)
    assert "Corp.](https://globex.example" in plain and "Initech][1" in plain
    # and ligatures count as letters: "5-\ufb02uorouracil" splits as "5-fluorouracil" does
    tokens = [t.text for t in create(spacy.blank("en"))("5-\ufb02uorouracil")]
    assert tokens == ["5", "-", "\ufb02uorouracil"]


def test_the_split_is_saved_with_the_pipeline_and_can_be_turned_off(tmp_path):
    nlp = spacy.blank("en")
    nlp.tokenizer = make_tokenizer()(nlp)
    nlp.to_disk(tmp_path / "p")
    loaded = spacy.blank("en")  # spaCy's rules, replaced by the saved ones
    loaded.tokenizer.from_disk(tmp_path / "p" / "tokenizer")
    assert _texts(loaded.tokenizer) == _texts(nlp.tokenizer)
    assert "](" in _texts(loaded.tokenizer)
    off = spacy.blank("en")
    off.tokenizer = make_tokenizer(markdown_links=False)(off)
    assert _texts(off.tokenizer) == _texts(spacy.blank("en").tokenizer)


def test_upgrading_a_saved_tokenizer_keeps_its_own_rules():
    nlp = spacy.blank("en")
    nlp.tokenizer.infix_finditer = compile_infix_regex([*nlp.Defaults.infixes, "@"]).finditer
    split_markdown_links(nlp.tokenizer, nlp)
    assert [t.text for t in nlp("a@b [Globex](x)")] == ["a", "@", "b", "[", "Globex", "](",
                                                        "x", ")"]
    pattern = nlp.tokenizer.infix_finditer.__self__.pattern
    split_markdown_links(nlp.tokenizer, nlp)  # twice: the same rules
    assert nlp.tokenizer.infix_finditer.__self__.pattern == pattern


@pytest.mark.parametrize("corpus", ["conll04", "ade"])
def test_corpora_get_spacys_tokens(shared_data, corpus):
    """No training corpus has "](" or "][": a model trained with kgx.Tokenizer.v1 is trained
    on the tokens it would have had with spaCy's."""
    kgx_nlp = spacy.blank("en")
    kgx_nlp.tokenizer = make_tokenizer()(kgx_nlp)
    plain = spacy.blank("en")
    texts = [d.text for part in ("train", "dev")
             for d in read_docs(shared_data / corpus / f"{part}.json")]
    assert len(texts) > 500
    assert all([t.text for t in kgx_nlp.make_doc(x)] == [t.text for t in plain.make_doc(x)]
               for x in texts)


def test_ligatures_split_as_the_letters_they_stand_for():
    """PDF text keeps ligatures, which spaCy's letter class lacks: "5-ﬂuorouracil" is split
    as "5-fluorouracil" is; turned off, it stays one token as with spaCy's rules."""
    from kgx.pipeline.tokenizer import split_at_ligatures

    nlp = spacy.blank("en", config={"nlp": {"tokenizer": {"@tokenizers": "kgx.Tokenizer.v1"}}})
    plain = "5-fluorouracil and off-label use, eff,fi"
    ligated = plain.replace("fl", "\ufb02").replace("ff", "\ufb00").replace("fi", "\ufb01")
    assert len([t for t in nlp(ligated)]) == len(nlp(plain)) == 12
    assert [t.text for t in nlp(ligated)][:3] == ["5", "-", "\ufb02uorouracil"]
    off = spacy.blank("en", config={"nlp": {"tokenizer": {"@tokenizers": "kgx.Tokenizer.v1",
                                                          "ligatures": False}}})
    assert [t.text for t in off(ligated)][0] == "5-\ufb02uorouracil"
    # the upgrade of a saved pipeline adds the rules once and keeps the link rules
    split_at_ligatures(off.tokenizer, off)
    pattern = off.tokenizer.infix_finditer.__self__.pattern
    assert split_at_ligatures(off.tokenizer, off).infix_finditer.__self__.pattern == pattern
    assert [t.text for t in off(ligated + " [A](b)")][:3] == ["5", "-", "\ufb02uorouracil"]
    assert "](" in [t.text for t in off(ligated + " [A](b)")]


# --- words broken at line ends (justified text from PDFs) ---------------------------------


def _layout(**config):
    nlp = spacy.blank("en", config={"nlp": {"tokenizer": {"@tokenizers": "kgx.Tokenizer.v1"}}})
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("kgx_layout_boundaries", config=config)
    return nlp


def test_a_word_broken_at_a_line_end_is_one_token_again():
    """spaCy's tokenizer makes "Glo-", a line break and "bex" of a word broken by a
    typesetter; kgx_layout_boundaries merges them, the text and every offset as written. A
    hyphen before a capital, after a digit or before a blank line is a real one, or no break."""
    text = ("Wei Chen works for Glo-\nbex in Osa-\r\n  ka. The anti-\ninflammatory drug a-\nb-\nc "
            "from Hewlett-\nPackard, 5-\nfluorouracil, para-\n\ngraph and Glo\u00ad\nbex.")
    doc = _layout()(text)
    assert doc.text == text
    words = [t.text for t in doc if not t.is_space]
    assert words == ["Wei", "Chen", "works", "for", "Glo-\nbex", "in", "Osa-\r\n  ka", ".",
                     "The", "anti-\ninflammatory", "drug", "a-\nb-\nc", "from", "Hewlett-",
                     "Packard", ",", "5-", "fluorouracil", ",", "para-", "graph", "and",
                     "Glo\u00ad\nbex", "."]
    # the sentences stay where they were: no boundary is lost or made by the merge
    assert [s.text for s in doc.sents] == [s.text for s in _layout(line_end_hyphens=False)(
        text).sents]
    assert doc[4].idx == text.index("Glo-") and doc[4].whitespace_ == " "
    # switched off, spaCy's tokens
    off = _layout(line_end_hyphens=False)(text)
    assert [t.text for t in off] == [t.text for t in spacy.blank("en")(text)]


def test_no_merge_across_a_sentence_start():
    """A line that a segmenter already made a sentence stays one (the merge never joins two
    sentences); the factory's setting is saved with the pipeline."""
    nlp = _layout()
    doc = nlp.make_doc("Ann left Glo-\nbex")
    doc[4].is_sent_start = True  # "bex"
    nlp.get_pipe("kgx_layout_boundaries")(doc)
    assert [t.text for t in doc] == ["Ann", "left", "Glo-", "\n", "bex"]
    assert nlp.config["components"]["kgx_layout_boundaries"]["line_end_hyphens"] is True
