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
