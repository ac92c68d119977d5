"""The encoder's word pieces for a batch of spans, with presentation forms folded.

Text taken out of PDFs keeps the typesetter's ligatures ("ﬁ", "ﬂ", "ﬃ": "ofﬁcial", "Sheﬃeld"),
and text from East Asian input methods has fullwidth letters and punctuation ("Ｇｌｏｂｅｘ",
"，"). BERT-style vocabularies have no pieces for most of them: "Sheﬃeld" is one ``[UNK]`` and
"ﬁbrosis" becomes pieces the encoder never met in pretraining. The word-piece tokenizer here
reads those characters as their compatibility equivalents (NFKC: "ffi", "G"), and the pieces'
offsets are mapped back to the text as written, so tokens, entities and records keep pointing
into the document. Nothing else is normalised: "™", "µ" or "²" have pieces of their own.
Training and inference read the same pieces.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

import numpy

# Latin ligatures (U+FB00-FB06) and fullwidth ASCII (U+FF01-FF5E)
_FORMS = [*range(0xFB00, 0xFB07), *range(0xFF01, 0xFF5F)]
FOLDED = {code: unicodedata.normalize("NFKC", chr(code)) for code in _FORMS}
_ANY_FORM = re.compile("[\ufb00-\ufb06\uff01-\uff5e]")


def fold_presentation_forms(text: str) -> tuple[str, numpy.ndarray | None]:
    """``text`` with ligatures and fullwidth forms folded, and for each character of the
    result the index of the character it came from (None when nothing was folded)."""
    if not _ANY_FORM.search(text):
        return text, None
    pieces: list[str] = []
    origin: list[int] = []
    for i, char in enumerate(text):
        folded = FOLDED.get(ord(char), char)
        pieces.append(folded)
        origin.extend([i] * len(folded))
    return "".join(pieces), numpy.asarray(origin, dtype="int64")


def restore_offsets(offsets: numpy.ndarray, origin: numpy.ndarray) -> numpy.ndarray:
    """Word-piece character offsets into the folded text, mapped back to the text as written
    (a piece inside a folded character covers all of it). Empty offsets (special tokens,
    padding) stay as they are."""
    starts, ends = offsets[..., 0], offsets[..., 1]
    empty = ends <= starts
    last = len(origin) - 1
    mapped_starts = origin[numpy.clip(starts, 0, last)]
    mapped_ends = origin[numpy.clip(ends - 1, 0, last)] + 1
    restored = numpy.stack([mapped_starts, mapped_ends], axis=-1).astype(offsets.dtype)
    return numpy.where(empty[..., None], offsets, restored)


def tokenize_spans(tokenizer: Any, spans: list) -> tuple[Any, Any]:
    """The word pieces of ``spans`` and their alignment to the spans' tokens, as
    spacy-transformers makes them, with presentation forms folded where the tokenizer reports
    offsets (a fast tokenizer); a slow one aligns by strings and reads the text as written."""
    from spacy_transformers.align import get_alignment, get_alignment_via_offset_mapping
    from spacy_transformers.data_classes import WordpieceBatch
    from spacy_transformers.layers.transformer_model import huggingface_tokenize
    from spacy_transformers.truncate import truncate_oversize_splits
    from transformers import PreTrainedTokenizerFast

    texts = [span.text for span in spans]
    fast = isinstance(tokenizer, PreTrainedTokenizerFast)
    folded = [fold_presentation_forms(text) for text in texts] if fast else []
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
