"""Load one trained pipeline under other architectures, the weights unchanged: the encoder
(``kgx.TransformerModel.v1``/``v2``, int8) and the span recogniser (spaCy's token extraction
or ``kgx.SpanCategorizer.v1``'s in-place pooling). The benchmarks compare these side by side."""

from __future__ import annotations

from pathlib import Path
from typing import Any

V2_ONLY = ("frozen_layers", "quantize", "max_batch_items")


def load_variant(model: str, encoder: dict | None = None, pooled_spans: bool | None = None):
    """The pipeline at ``model`` with its transformer built by ``encoder`` settings and, with
    ``pooled_spans``, its recogniser computing the spans' Maxout in place (spaCy's
    architecture saved: ``kgx.SpanCategorizer.v1``'s layer swapped in, the weights kept)."""
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
    if pooled_spans:
        set_span_pooling(nlp.get_pipe("ner").model)
    return nlp


def set_span_pooling(model: Any) -> None:
    """In a loaded recogniser built with spaCy's ``SpanCategorizer.v1`` and mean/max reducer,
    put ``span_maxout`` (``kgx.SpanCategorizer.v1``'s layer) in place of ``extract_spans``,
    the reducer's concatenation and its Maxout, with the Maxout's weights."""
    from thinc.api import chain

    from kgx.pipeline.span_pool import span_maxout

    names = [layer.name for layer in model.layers]
    if "extract_spans" not in names:
        return  # already kgx.SpanCategorizer.v1
    reducer = model.layers[2]
    nodes = list(reducer.walk())
    maxout = next(node for node in nodes if node.name == "maxout")
    after = [node for node in nodes if node.name in ("layernorm", "dropout")]
    fused = span_maxout(nO=maxout.get_dim("nO"), nP=maxout.get_dim("nP"))
    fused.set_dim("nI", maxout.get_dim("nI") // 4)
    for name in ("W", "b"):
        fused.set_param(name, maxout.get_param(name))
    new_reducer = chain(fused, *after)
    model.layers[1:3] = [new_reducer]
    model.set_ref("reducer", new_reducer)
