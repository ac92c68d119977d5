"""Load one trained pipeline under other architectures, the weights unchanged: the encoder
(``kgx.TransformerModel.v1``/``v2``, int8, ONNX Runtime) and the span recogniser (spaCy's
token extraction or ``kgx.SpanCategorizer.v1``'s in-place pooling). The benchmarks compare
these side by side."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def filter_words(nlp: Any, train: Path | None) -> dict[str, list[str]]:
    """The recogniser's candidate-filter words, learned first from ``train`` (its training
    data) where given, as ``initialize`` does now, for a model trained before they were
    learned; otherwise as saved. The keys are spelled out, not imported, so that older kgx
    (a worktree on ``PYTHONPATH``) runs this too."""
    ner = nlp.get_pipe("ner")
    if train is not None:
        from kgx.cli import _read_examples

        ner.learn_edge_words(_read_examples(nlp, train, False, 1))
    return {key: ner.cfg[key] for key in ("edge_first", "edge_last", "edge_inner")
            if key in ner.cfg}


def v2_only() -> set[str]:
    """The settings ``kgx.TransformerModel.v2`` takes and v1 does not, from their signatures
    (a hand-kept list missed ``frozen_embeddings`` when it was added)."""
    import inspect

    from spacy.util import registry

    def params(name: str) -> set[str]:
        return set(inspect.signature(registry.architectures.get(name)).parameters)

    return params("kgx.TransformerModel.v2") - params("kgx.TransformerModel.v1")


def encoder_section(section: dict, encoder: dict) -> dict:
    """A saved pipeline's transformer model section with ``encoder``'s settings: for v1, the
    settings only v2 takes are dropped."""
    section = dict(section)
    if encoder.get("@architectures") == "kgx.TransformerModel.v1":
        for key in v2_only():
            section.pop(key, None)
    section.update(encoder)
    return section


def load_variant(model: str, encoder: dict | None = None, pooled_spans: bool | None = None,
                 recogniser_quantize: str | None = None, edge_filter: bool | None = None,
                 inner_filter: bool | None = None):
    """The pipeline at ``model`` with its transformer built by ``encoder`` settings and, with
    ``pooled_spans`` True/False, its recogniser computing the spans' Maxout in place
    (``kgx.SpanCategorizer.v1``) or by spaCy's extraction, the weights kept;
    ``recogniser_quantize`` sets that Maxout's products' precision (what ``kgx quantize``
    writes beside the encoder's), float32 where None; ``edge_filter`` and ``inner_filter``
    switch the recogniser's candidate filters on or off (None: as saved)."""
    import spacy

    path = Path(model)
    config = spacy.util.load_config(path / "config.cfg")
    if encoder:
        component = config["components"]["transformer"]
        component["model"] = encoder_section(component["model"], encoder)
    ner = config["components"].get("ner", {}).get("model", {})
    if ner.get("@architectures") == "kgx.SpanCategorizer.v1":
        ner["quantize"] = recogniser_quantize
    for key, value in (("edge_filter", edge_filter), ("inner_filter", inner_filter)):
        if value is not None:
            config["components"]["ner"][key] = value
    nlp = spacy.util.load_model_from_path(path, config=config)
    if pooled_spans is not None:
        set_span_pooling(nlp.get_pipe("ner").model, pooled_spans)
    return nlp


def set_span_pooling(model: Any, pooled: bool) -> None:
    """Swap, in a loaded span recogniser, spaCy's ``extract_spans`` + mean/max reducer +
    Maxout for ``span_maxout`` (``kgx.SpanCategorizer.v1``'s layer), or back; the weights are
    the same parameters in either."""
    from spacy.ml.extract_spans import extract_spans
    from thinc.api import (
        Maxout,
        chain,
        concatenate,
        reduce_first,
        reduce_last,
        reduce_max,
        reduce_mean,
    )

    from kgx.pipeline.span_pool import span_maxout

    spacy_layout = "extract_spans" in [layer.name for layer in model.layers]
    if spacy_layout == (not pooled):
        return
    if pooled:  # [with_getitem, extract_spans, reducer, scorer]
        nodes = list(model.layers[2].walk())
        maxout = next(node for node in nodes if node.name == "maxout")
        after = [node for node in nodes if node.name in ("layernorm", "dropout")]
        new = span_maxout(nO=maxout.get_dim("nO"), nP=maxout.get_dim("nP"))
        new.set_dim("nI", maxout.get_dim("nI") // 4)
        reducer = chain(new, *after)
        old = maxout
        replace = slice(1, 3)
        layers = [reducer]
    else:  # [with_getitem, chain(span_maxout, layernorm), scorer]
        fused, *after = model.layers[1].layers
        new = Maxout(nO=fused.get_dim("nO"), nP=fused.get_dim("nP"),
                     nI=4 * fused.get_dim("nI"), normalize=False, dropout=None)
        reducer = chain(concatenate(reduce_last(), reduce_first(), reduce_mean(),
                                    reduce_max()), new, *after)
        old = fused
        replace = slice(1, 2)
        layers = [extract_spans(), reducer]
    for name in ("W", "b"):
        new.set_param(name, old.get_param(name))
    model.layers[replace] = layers
    model.set_ref("reducer", reducer)
