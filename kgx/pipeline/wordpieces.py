"""The encoder's word pieces for a batch of spans, with presentation forms folded and words
broken at line ends joined (``kgx.text.fold_for_models``).

Text taken out of PDFs keeps the typesetter's ligatures ("ﬁ", "ﬂ", "ﬃ": "ofﬁcial", "Sheﬃeld"),
and text from East Asian input methods has fullwidth letters and punctuation ("Ｇｌｏｂｅｘ",
"，"). BERT-style vocabularies have no pieces for most of them: "Sheﬃeld" is one ``[UNK]`` and
"ﬁbrosis" becomes pieces the encoder never met in pretraining. Justified text from PDFs
breaks words at line ends with a hyphen ("Glo-" / "bex"), which the encoder would read as two
words and a dash. The word-piece tokenizer here reads those characters as their compatibility
equivalents (NFKC: "ffi", "G") and a broken word whole ("Globex") where it is one token
(``kgx_layout_boundaries`` makes it one), and the pieces' offsets are mapped back to the text
as written, so tokens, entities and records keep pointing into the document. Nothing else is
normalised: "™", "µ" or "²" have pieces of their own. Training and inference read the same
pieces.
"""

from __future__ import annotations

from typing import Any

from ..text import fold_for_models, line_end_hyphens, restore_offsets


def tokenize_spans(tokenizer: Any, spans: list) -> tuple[Any, Any]:
    """The word pieces of ``spans`` and their alignment to the spans' tokens, as
    spacy-transformers makes them, with the text folded for the models where the tokenizer
    reports offsets (a fast tokenizer); a slow one aligns by strings and reads the text as
    written."""
    from spacy_transformers.align import get_alignment, get_alignment_via_offset_mapping
    from spacy_transformers.data_classes import WordpieceBatch
    from spacy_transformers.layers.transformer_model import huggingface_tokenize
    from spacy_transformers.truncate import truncate_oversize_splits
    from transformers import PreTrainedTokenizerFast

    texts = [span.text for span in spans]
    fast = isinstance(tokenizer, PreTrainedTokenizerFast)
    folded = ([fold_for_models(text, _within_tokens(span, text))
               for span, text in zip(spans, texts, strict=True)] if fast else [])
    if any(origin is not None for _, origin in folded):
        texts = [text for text, _ in folded]
    encoding = huggingface_tokenize(tokenizer, texts)
    wordpieces = WordpieceBatch.from_batch_encoding(encoding)
    if "offset_mapping" in encoding:
        offsets = encoding["offset_mapping"]
        for i, (_, origin) in enumerate(folded):
            if origin is not None:
                offsets[i] = restore_offsets(offsets[i], origin)
        align = get_alignment_via_offset_mapping(spans, offsets)
    else:
        align = get_alignment(spans, wordpieces.strings, tokenizer.all_special_tokens)
    return truncate_oversize_splits(wordpieces, align, tokenizer.model_max_length)


def _within_tokens(span: Any, text: str) -> list[tuple[int, int]]:
    """The line-end hyphens of ``span`` that lie inside one of its tokens. A word broken into
    two tokens stays two words to the encoder: read as one, each half would look like the
    whole word to the recogniser. ``text`` is the span's."""
    doc, offset = span.doc, span.start_char
    return [(start, end) for start, end in line_end_hyphens(text)
            if len(doc.char_span(offset + start - 1, offset + end + 1,
                                 alignment_mode="expand") or ()) == 1]
