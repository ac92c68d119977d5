"""Load one trained pipeline under other architectures, the weights unchanged: the encoder
(``kgx.TransformerModel.v1``/``v2``, int8) and the span recogniser (spaCy's token extraction
or ``kgx.SpanCategorizer.v1``'s in-place pooling). The benchmarks compare these side by side."""

from __future__ import annotations

from pathlib import Path
from typing import Any

V2_ONLY = ("frozen_layers", "quantize", "max_batch_items")


def load_variant(model: str, encoder: dict | None = None, pooled_spans: bool | None = None):
    """The pipeline at ``model`` with its transformer built by ``encoder`` settings and, with
    ``pooled_spans`` True/False, its recogniser pooling spans in place / by extraction."""
    import spacy

    path = Path(model)
    config = spacy.util.load_config(path / "config.cfg")
    if encoder:
        section = config["components"]["transformer"]["model"]
        if encoder.get("@architectures") == "kgx.TransformerModel.v1":
            for key in V2_ONLY:
                section.pop(key, None)
        section.update(encoder)
    nlp = spacy.util.load_model_from_path(path, config=config)
    if pooled_spans is not None:
        set_span_pooling(nlp.get_pipe("ner").model, pooled_spans)
    return nlp


def set_span_pooling(model: Any, pooled: bool) -> None:
    """Swap, in a loaded span categoriser, spaCy's ``extract_spans`` + mean/max reducer for
    ``span_pool`` (or back): the Maxout and everything else keep their weights."""
    from spacy.ml.extract_spans import extract_spans
    from thinc.api import chain, concatenate, reduce_first, reduce_last, reduce_max, reduce_mean

    from kgx.pipeline.span_pool import span_pool

    names = [layer.name for layer in model.layers]
    if "extract_spans" in names:  # spaCy's: [with_getitem, extract_spans, reducer, scorer]
        if not pooled:
            return
        tail = model.layers[2].layers[1:]
        reducer = chain(span_pool(), *tail)
        model.layers[1:3] = [reducer]
    else:  # kgx.SpanCategorizer.v1: [with_getitem, chain(span_pool, maxout), scorer]
        if pooled:
            return
        tail = model.layers[1].layers[1:]
        reducer = chain(concatenate(reduce_last(), reduce_first(), reduce_mean(),
                                    reduce_max()), *tail)
        model.layers[1:2] = [extract_spans(), reducer]
    model.set_ref("reducer", reducer)
