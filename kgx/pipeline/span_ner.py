"""``kgx_span_ner``: a span-classifying entity recogniser that writes ``doc.ents``.

Every span the suggester proposes (1 to 8 tokens by default) is classified into the entity
labels or "no entity" (softmax), and the most probable non-overlapping spans become
``doc.ents``: the span-based recogniser of SpERT (Eberts & Ulges 2020) and PURE (Zhong & Chen
2021), in place of the transition-based ``ner``. It is spaCy's ``spancat_singlelabel``
trained on, and writing, ``doc.ents`` so that the relation component and the scorer
downstream need nothing else: spaCy's own component reads and writes ``doc.spans`` only.
"""

# No ``from __future__ import annotations``: spaCy builds pydantic models from signatures.
import logging
from collections.abc import Callable, Iterable
from typing import Any, cast

import numpy
from spacy.attrs import IS_PUNCT, IS_STOP, IS_UPPER, LOWER
from spacy.language import Language
from spacy.pipeline.spancat import SpanCategorizer, Suggester
from spacy.tokens import Doc, Span, SpanGroup
from spacy.training import Example, validate_get_examples
from spacy.util import registry
from thinc.api import (
    Maxout,
    Model,
    Optimizer,
    chain,
    concatenate,
    get_current_ops,
    reduce_first,
    reduce_last,
    reduce_max,
    reduce_mean,
)
from thinc.types import Floats2d, Ragged

from kgx.pipeline.component import DEFAULT_MODEL as RELATION_DEFAULT_MODEL
from kgx.pipeline.component import scaled_finish_update
from kgx.pipeline.words import word_index

SPANS_KEY = "kgx_ents"
# the filters' learned words, in the component's cfg: function words at a training entity's
# first token, its last, and inside it
EDGE_KEYS = ("edge_first", "edge_last", "edge_inner")
# what ``_function_words`` reads of each token
FUNCTION_ATTRS = [LOWER, IS_PUNCT, IS_STOP, IS_UPPER]

log = logging.getLogger("kgx")

# CPU-friendly default so that ``nlp.add_pipe("kgx_span_ner")`` works on its own, with the
# relation component's default tok2vec; the training configs put a transformer listener there.
DEFAULT_MODEL = {
    "@architectures": "spacy.SpanCategorizer.v1",
    "scorer": {"@layers": "Softmax.v2"},
    "reducer": {"@layers": "spacy.mean_max_reducer.v1", "hidden_size": 128},
    "tok2vec": dict(RELATION_DEFAULT_MODEL["tok2vec"]),
}


@Language.factory(
    "kgx_span_ner",
    assigns=["doc.ents", "doc.spans"],
    default_config={
        "model": DEFAULT_MODEL,
        "suggester": {"@misc": "spacy.ngram_range_suggester.v1", "min_size": 1, "max_size": 8},
        "negative_weight": 1.0,
        "threshold": None,
        "entity_threshold": None,
        "learn_rate_scale": 1.0,
        "edge_filter": False,
        "inner_filter": False,
        "train_edge_filter": False,
        "scorer": {"@scorers": "kgx.ner_scorer.v1"},
    },
    default_score_weights={"ents_f": 1.0, "ents_p": 0.0, "ents_r": 0.0, "ents_per_type": None},
)
def make_span_ner(
    nlp: Language,
    name: str,
    model: Model,
    suggester: Suggester,
    negative_weight: float,
    threshold: float | None,
    learn_rate_scale: float,
    scorer: Callable | None,
    entity_threshold: float | None = None,
    edge_filter: bool = False,
    train_edge_filter: bool = False,
    inner_filter: bool = False,
) -> "SpanEntityRecognizer":
    """``negative_weight`` scales the gradient of the "no entity" spans (most of them);
    ``threshold`` is the least probability a span's best label needs (None: the argmax
    decides); ``entity_threshold``, where set, replaces the argmax: a span is an entity when
    its probability of being one, of any label (1 - P(no entity)), is at least this, and it
    takes its most probable entity label; ``learn_rate_scale`` as for
    ``kgx_relation_extractor``; ``edge_filter``: at prediction, skip the suggested spans that
    start or end with a function word (punctuation or a stop word) that no training entity
    starts or ends with (``SpanEntityRecognizer.learn_edge_words``); ``inner_filter``: skip
    too those with a function word inside that no training entity has inside ("said" in
    "Smith said Jones"; "of" in "Bank of America" is spared where a training entity has it);
    training scores them all unless ``train_edge_filter`` skips the edge filter's in training
    too."""
    return SpanEntityRecognizer(
        nlp.vocab, model, suggester, name, negative_weight=negative_weight,
        threshold=threshold, learn_rate_scale=learn_rate_scale, scorer=scorer,
        entity_threshold=entity_threshold, edge_filter=edge_filter,
        train_edge_filter=train_edge_filter, inner_filter=inner_filter,
    )


class SpanEntityRecognizer(SpanCategorizer):
    def __init__(
        self,
        vocab: Any,
        model: Model,
        suggester: Suggester,
        name: str = "kgx_span_ner",
        *,
        negative_weight: float = 1.0,
        threshold: float | None = None,
        learn_rate_scale: float = 1.0,
        scorer: Callable | None = None,
        entity_threshold: float | None = None,
        edge_filter: bool = False,
        train_edge_filter: bool = False,
        inner_filter: bool = False,
    ) -> None:
        super().__init__(
            vocab, model, suggester, name, add_negative_label=True, spans_key=SPANS_KEY,
            negative_weight=negative_weight, allow_overlap=False, max_positive=1,
            threshold=threshold, scorer=scorer,
        )
        if entity_threshold is not None and not 0.0 < entity_threshold <= 1.0:
            raise ValueError(f"{name}: entity_threshold must be in (0, 1], got "
                             f"{entity_threshold}")
        # an attribute, not cfg: the config's value (saved in config.cfg) is what a loaded
        # pipeline uses, so ``spacy.load(path, config=...)`` can change it
        self.entity_threshold = entity_threshold
        self.learn_rate_scale = learn_rate_scale
        # the same for the filter; the words it spares are data, learned and saved in cfg
        # ("edge_first", "edge_last", "edge_inner": absent in a pipeline trained before they
        # were learned)
        self.edge_filter = edge_filter
        self.inner_filter = inner_filter
        self.train_edge_filter = train_edge_filter
        self._warned_unlearned: set[str] = set()

    def update(self, examples: Iterable[Example], **kwargs: Any) -> dict[str, float]:
        """spaCy's ``update``; with ``train_edge_filter``, on the spans the edge filter keeps."""
        if not self.train_edge_filter:
            return super().update(examples, **kwargs)
        suggest = self.suggester

        def kept(docs: Iterable[Doc], *, ops: Any = None) -> Ragged:
            docs = list(docs)
            # the edge filter only: the inner filter's effect on training is not measured
            return self._filtered(docs, suggest(docs, ops=ops), edges=True, inner=False)

        self.suggester = kept
        try:
            return super().update(examples, **kwargs)
        finally:
            self.suggester = suggest

    def predict(self, docs: Iterable[Doc]) -> tuple[Ragged, Floats2d]:
        """spaCy's ``predict``, on ``candidate_spans``."""
        docs = list(docs)
        indices = self.candidate_spans(docs)
        if indices.lengths.sum() == 0:
            return indices, self.model.ops.alloc2f(0, 0)
        return indices, self.model.predict((docs, indices))

    def candidate_spans(self, docs: list[Doc]) -> Ragged:
        """The suggester's spans, less those the edge and inner filters drop when on. About 6 in
        10 candidate spans start or end with a function word ("of", "the", ",", "said") and
        the recogniser pays for each (BENCHMARKS.md, issue 16); an entity rarely does, and
        the function words training entities have at an edge (CoNLL04's "the Hague", "Tex."
        read as "Tex" and ".") are spared. The inner filter does the same for the words inside
        a span ("Smith said Jones"; "of" in "Bank of America" spared). Prediction only:
        training scores every span."""
        spans = self.suggester(docs, ops=self.model.ops)
        if not (self.edge_filter or self.inner_filter):
            return spans
        return self._filtered(docs, spans, edges=self.edge_filter, inner=self.inner_filter)

    def _filtered(self, docs: list[Doc], spans: Ragged, *, edges: bool, inner: bool) -> Ragged:
        """``spans`` less those the edge rule (``edges``) and the inner rule (``inner``) drop;
        one pass over each document's function words serves both."""
        ops = self.model.ops
        if not len(spans.dataXd):
            return spans
        if edges and "edge_first" not in self.cfg:
            self._warn_unlearned("edge_filter", "edge words", "every candidate span with a "
                                 "function word at an edge is skipped, \"the Hague\" too")
        if inner and "edge_inner" not in self.cfg:
            self._warn_unlearned("inner_filter", "inner words", "the filter is off")
            inner = False
        bounds = ops.to_numpy(spans.dataXd).reshape(-1, 2)
        lengths = ops.to_numpy(spans.lengths)
        spared = {key: self._edge_hashes(key) for key in EDGE_KEYS}
        keep, kept_lengths, offset = [], [], 0
        for doc, n in zip(docs, lengths, strict=True):
            own = bounds[offset:offset + n]
            offset += n
            attrs = doc.to_array(FUNCTION_ATTRS)
            function = _function_words(attrs)
            ok = numpy.ones(len(own), dtype=bool)
            if edges:
                ok &= ~(function & ~numpy.isin(attrs[:, 0], spared["edge_first"]))[own[:, 0]]
                ok &= ~(function & ~numpy.isin(attrs[:, 0], spared["edge_last"]))[own[:, 1] - 1]
            if inner:  # unspared function words among tokens start + 1 .. end - 2
                bad = function & ~numpy.isin(attrs[:, 0], spared["edge_inner"])
                run = numpy.concatenate([[0], numpy.cumsum(bad)])
                ok &= run[numpy.maximum(own[:, 1] - 1, own[:, 0] + 1)] == run[own[:, 0] + 1]
            keep.append(own[ok])
            kept_lengths.append(int(ok.sum()))
        data: Any = numpy.concatenate(keep).astype("int32")
        return Ragged(ops.asarray2i(data), ops.asarray1i(kept_lengths))

    def _warn_unlearned(self, setting: str, words: str, effect: str) -> None:
        if setting in self._warned_unlearned:
            return
        self._warned_unlearned.add(setting)
        log.warning("%s: %s is on but the pipeline has no learned %s (it was trained before "
                    "kgx learned them): %s. Retrain, or call learn_edge_words with training "
                    "examples and save the pipeline", self.name, setting, words, effect)

    def _edge_hashes(self, key: str) -> numpy.ndarray:
        return numpy.array([self.vocab.strings.add(w) for w in self.cfg.get(key, [])],
                           dtype="uint64")

    def learn_edge_words(self, examples: Iterable[Example]) -> None:
        """The function words (punctuation, stop words) the gold entities of ``examples``
        start with, end with and have inside, on the pipeline's tokens: the filters spare
        them."""
        words: dict[str, set[str]] = {key: set() for key in EDGE_KEYS}
        for eg in examples:
            self._add_edge_words(eg, words)
        self.cfg.update({key: sorted(found) for key, found in words.items()})

    def _add_edge_words(self, eg: Example, words: dict[str, set[str]]) -> None:
        spans = [span for span in map(_strip, self._get_aligned_spans(eg)) if span is not None]
        if not spans:
            return
        attrs = eg.predicted.to_array(FUNCTION_ATTRS)
        function = _function_words(attrs)
        strings = self.vocab.strings
        for span in spans:
            for key, rows in zip(EDGE_KEYS, ([span.start], [span.end - 1],
                                             range(span.start + 1, span.end - 1)), strict=True):
                words[key].update(strings[int(attrs[i, 0])] for i in rows if function[i])

    def _make_span_group_singlelabel(self, doc: Doc, indices: Any, scores: Any,
                                     allow_overlap: bool = True) -> SpanGroup:
        """spaCy's argmax decision, or with ``entity_threshold`` set: a span is kept when
        1 - P(no entity) reaches it, labelled with its most probable entity label; the spans
        most likely to be entities win overlaps. The softmax spreads a span's entity mass over
        the labels, so the argmax can reject a span that is more likely an entity than not;
        the "no entity" spans outnumber the entities about 57 to 1 in CoNLL04 and ADE training."""
        cut = self.entity_threshold
        if cut is None or scores.size == 0:
            return super()._make_span_group_singlelabel(doc, indices, scores, allow_overlap)
        scores = self.model.ops.to_numpy(scores)
        indices = self.model.ops.to_numpy(indices)
        neg = self._negative_label_i
        p_entity = 1.0 - scores[:, neg]
        positive = scores.copy()
        positive[:, neg] = -1.0
        predicted = positive.argmax(axis=1)
        keep = numpy.flatnonzero(p_entity >= cut)
        keep = keep[numpy.argsort(-p_entity[keep], kind="stable")]
        spans = SpanGroup(doc, name=self.key)
        kept_scores = []
        taken = numpy.zeros(len(doc) + 1, dtype=bool)
        for i in keep:
            start, end = int(indices[i, 0]), int(indices[i, 1])
            if not allow_overlap:
                if taken[start:end].any():
                    continue
                taken[start:end] = True
            kept_scores.append(p_entity[i])
            spans.append(Span(doc, start, end, label=self.labels[predicted[i]]))
        spans.attrs["scores"] = numpy.array(kept_scores)
        return spans

    def _get_aligned_spans(self, eg: Example) -> list[Span]:
        return eg.get_aligned_spans_y2x(eg.reference.ents, allow_overlap=True)

    def set_annotations(self, docs: Iterable[Doc], indices_scores: Any) -> None:
        """Predicted spans, without leading or trailing whitespace tokens (a newline is never
        an entity), join the entities a doc already has (from an ``entity_ruler``
        before this component, say) where they do not overlap them, as with spaCy's ``ner``."""
        docs = list(docs)
        super().set_annotations(docs, indices_scores)
        for doc in docs:
            preset = list(doc.ents)
            taken = {i for ent in preset for i in range(ent.start, ent.end)}
            found = [span for span in map(_strip, doc.spans[SPANS_KEY])
                     if span is not None and taken.isdisjoint(range(span.start, span.end))]
            doc.ents = sorted(preset + found, key=lambda span: span.start)

    def initialize(
        self,
        get_examples: Callable[[], Iterable[Example]],
        *,
        nlp: Language | None = None,
        labels: list[str] | None = None,
    ) -> None:
        validate_get_examples(get_examples, "SpanEntityRecognizer.initialize")
        if labels is None:
            labels = sorted({e.label_ for eg in get_examples() for e in eg.reference.ents})
        if not labels:
            raise ValueError(
                f"{self.name}: no entity labels: the training examples carry no doc.ents "
                "and no labels were given to initialize"
            )
        # learned whether or not the filter is on, so that a loaded pipeline can switch it on,
        # in spaCy's own pass over the examples: one more pass would draw the shuffling
        # corpus's random numbers again and change the training that follows
        words: dict[str, set[str]] = {key: set() for key in EDGE_KEYS}

        def examples() -> Iterable[Example]:
            for eg in get_examples():
                self._add_edge_words(eg, words)
                yield eg

        super().initialize(examples, nlp=nlp, labels=labels)
        self.cfg.update({key: sorted(found) for key, found in words.items()})

    def finish_update(self, sgd: Optimizer) -> None:
        scaled_finish_update(self.model, sgd, self.learn_rate_scale)


@registry.misc("kgx.sentence_ngram_suggester.v1")
def make_sentence_ngram_suggester(min_size: int = 1, max_size: int = 8) -> Suggester:
    """Every span of ``min_size`` to ``max_size`` words inside one sentence, and with no
    whitespace token at either edge.

    spaCy's ``ngram_range_suggester`` also proposes spans across sentence boundaries and
    around newlines: an entity can be neither, and a span across a boundary would make a
    sentence's entities depend on its neighbours (issue 19). Sizes count words, not
    whitespace tokens, so a name a line break splits (hard-wrapped text) is proposed as it is
    on one line (``kgx.pipeline.words``). Docs without sentence boundaries are one sentence.

    min_size (int): the fewest words in a span.
    max_size (int): the most words in a span.
    """
    if not 1 <= min_size <= max_size:
        raise ValueError(f"kgx.sentence_ngram_suggester.v1: need 1 <= min_size <= max_size, "
                         f"got {min_size}, {max_size}")
    sizes = range(min_size, max_size + 1)

    def suggest(docs: Iterable[Doc], *, ops: Any = None) -> Ragged:
        ops = ops if ops is not None else get_current_ops()
        found, lengths = [], []
        for doc in docs:
            n = len(doc)
            if n and doc.has_annotation("SENT_START"):
                sent = numpy.cumsum(doc.to_array("SENT_START") == 1)
            else:
                sent = numpy.zeros((n,), dtype="int64")
            index = word_index(doc)
            words = numpy.arange(n) if index is None else index[0]  # the words' token rows
            count = 0
            for size in sizes:
                if size > len(words):
                    break
                starts = words[:len(words) - size + 1]
                ends = words[size - 1:] + 1
                ok = sent[starts] == sent[ends - 1]
                pairs = numpy.stack([starts[ok], ends[ok]], axis=1).astype("int32")
                found.append(pairs)
                count += len(pairs)
            lengths.append(count)
        data = numpy.concatenate(found) if found else numpy.zeros((0, 2), dtype="int32")
        return Ragged(ops.asarray2i(data), ops.asarray1i(lengths))

    return suggest


def _function_words(attrs: numpy.ndarray) -> numpy.ndarray:
    """Which rows of ``doc.to_array(FUNCTION_ATTRS)`` are function words: punctuation, or a
    stop word not in capitals ("US" and "IT" are names more often)."""
    return cast(numpy.ndarray, (attrs[:, 1] == 1) | ((attrs[:, 2] == 1) & (attrs[:, 3] == 0)))


def _strip(span: Span) -> Span | None:
    """The span without whitespace tokens at its edges; None when nothing is left."""
    start, end = span.start, span.end
    doc = span.doc
    while start < end and doc[start].is_space:
        start += 1
    while end > start and doc[end - 1].is_space:
        end -= 1
    if start == end:
        return None
    if (start, end) == (span.start, span.end):
        return span
    return Span(doc, start, end, label=span.label)


@registry.architectures("kgx.SpanReducer.v1")
def build_span_reducer(
    hidden_size: int, width_size: int = 32, max_width: int = 16
) -> Model[Ragged, Floats2d]:
    """spaCy's mean/max/first/last reducer plus a learned embedding of the span's width
    (SpERT, PURE): the width is otherwise only implicit in the pooled vectors.

    hidden_size (int): the output width (a Maxout layer).
    width_size (int): the width embedding's size.
    max_width (int): spans wider than this share the last embedding row.
    """
    return chain(
        concatenate(
            reduce_last(), reduce_first(), reduce_mean(), reduce_max(),
            _width_embedding(width_size, max_width),
        ),
        Maxout(nO=hidden_size, normalize=True, dropout=0.0),
    )


def _width_embedding(width: int, max_width: int) -> Model[Ragged, Floats2d]:
    return Model(
        "span_width_embed", _width_forward, init=_width_init,
        dims={"nO": width}, params={"E": None}, attrs={"max_width": max_width},
    )


def _width_init(model: Model, X: Any = None, Y: Any = None) -> None:
    shape = (model.attrs["max_width"] + 1, model.get_dim("nO"))
    model.set_param("E", model.ops.asarray2f(cast(Any, numpy.random.normal(0.0, 0.1, shape))))


def _width_forward(model: Model, X: Ragged, is_train: bool) -> tuple[Floats2d, Callable]:
    # spans wider than max_width share the last row
    rows = model.ops.xp.minimum(X.lengths, model.attrs["max_width"]).astype("int32")
    table = model.get_param("E")

    def backprop(dY: Floats2d) -> Ragged:
        d_table = model.ops.alloc2f(*table.shape)
        model.ops.scatter_add(d_table, rows, dY)
        model.inc_grad("E", d_table)
        return Ragged(model.ops.alloc2f(*X.dataXd.shape), X.lengths)

    return table[rows], backprop
