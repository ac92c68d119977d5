"""The trainable relation component ``kgx_relation_extractor``.

It classifies ordered pairs of entities into the relation labels (multi-label, sigmoid per
label) and writes ``doc._.kgx_relations`` (see ``kgx.relations``). In training it pairs the
*gold* entities (aligned onto the predicted tokens), so that relation learning does not wait
for a good ``ner``; at inference it pairs the predicted ``doc.ents``. Thresholds are global
(``threshold``) or per label (``cfg["thresholds"]``, tuned on dev by ``kgx tune-thresholds``).
"""

# No ``from __future__ import annotations`` here: spaCy validates ``initialize`` settings
# with pydantic models built from this module's signatures, which need real type objects.
import logging
from collections.abc import Callable, Iterable, Sequence
from itertools import islice
from typing import Any

import numpy
from spacy.language import Language
from spacy.pipeline import TrainablePipe
from spacy.tokens import Doc, Span
from spacy.training import Example, validate_examples, validate_get_examples
from spacy.vocab import Vocab
from thinc.api import Config, Model, Optimizer, set_dropout_rate
from thinc.types import Floats2d

from kgx.pipeline.candidates import CandidateGenerator, Candidates
from kgx.relations import EXTENSION, raw_relations, set_relations

log = logging.getLogger("kgx")

# A CPU-friendly default so that ``nlp.add_pipe("kgx_relation_extractor")`` works on its own;
# the training configs replace the tok2vec by a transformer listener.
DEFAULT_MODEL_CONFIG = """
[model]
@architectures = "kgx.RelationModel.v1"
hidden_width = 128
type_width = 16
distance_width = 16
dropout = 0.1

[model.tok2vec]
@architectures = "spacy.HashEmbedCNN.v2"
pretrained_vectors = null
width = 96
depth = 2
embed_size = 2000
window_size = 1
maxout_pieces = 3
subword_features = true
"""
DEFAULT_MODEL = Config().from_str(DEFAULT_MODEL_CONFIG)["model"]

SCORE_WEIGHTS: dict[str, float | None] = {
    "rel_strict_micro_f": 1.0,
    "rel_strict_micro_p": 0.0,
    "rel_strict_micro_r": 0.0,
    "rel_strict_macro_f": 0.0,
    "rel_boundaries_micro_f": 0.0,
}


@Language.factory(
    "kgx_relation_extractor",
    requires=["doc.ents"],
    assigns=[f"doc._.{EXTENSION}"],
    default_config={
        "model": DEFAULT_MODEL,
        "candidates": {
            "@misc": "kgx.candidate_pairs.v1",
            "max_sentences": 1,
            "max_tokens": 100,
            "max_pairs": 1000,
        },
        "threshold": 0.5,
        "learn_rate_scale": 1.0,
        "negative_weight": 1.0,
        "type_constraints": False,
        "scorer": {"@scorers": "kgx.rel_scorer.v1"},
    },
    default_score_weights=SCORE_WEIGHTS,
)
def make_relation_extractor(
    nlp: Language,
    name: str,
    model: Model,
    candidates: CandidateGenerator,
    threshold: float,
    learn_rate_scale: float,
    negative_weight: float,
    scorer: Callable | None,
    type_constraints: bool = False,
) -> "RelationExtractor":
    """``learn_rate_scale`` multiplies the optimizer's rate for this component's own weights:
    a classifier trained from scratch wants a larger rate than the shared transformer it
    fine-tunes (which the transformer component updates at the base rate).
    ``negative_weight`` scales the loss of the (pair, label) decisions whose gold answer is
    "no": nearly all of them, as candidate pairs far outnumber relations.
    ``type_constraints`` gives a pair a label only where the label was seen in training
    between entities of the pair's two types (the signatures are learned by ``initialize``
    and saved with the component)."""
    return RelationExtractor(
        nlp.vocab, model, name, candidates=candidates, threshold=threshold,
        learn_rate_scale=learn_rate_scale, negative_weight=negative_weight, scorer=scorer,
        type_constraints=type_constraints,
    )


def scaled_finish_update(model: Model, sgd: Optimizer, lr_scale: float) -> None:
    """Like ``Model.finish_update``, with a learning-rate scale for the model's own weights.

    Shims (wrapped PyTorch models) keep the base rate.
    """
    for node in model.walk():
        for shim in node.shims:
            shim.finish_update(sgd)
        for name in node.param_names:
            if node.has_grad(name):
                param, _ = sgd((node.id, name), node.get_param(name), node.get_grad(name),
                               lr_scale=lr_scale)
                node.set_param(name, param)


def _sigmoid(x: numpy.ndarray) -> numpy.ndarray:
    return 1.0 / (1.0 + numpy.exp(-numpy.clip(x, -30.0, 30.0)))


class RelationExtractor(TrainablePipe):
    """Pairwise relation classifier over a shared token-vector layer."""

    def __init__(
        self,
        vocab: Vocab,
        model: Model,
        name: str = "kgx_relation_extractor",
        *,
        candidates: CandidateGenerator,
        threshold: float = 0.5,
        learn_rate_scale: float = 1.0,
        negative_weight: float = 1.0,
        scorer: Callable | None = None,
        type_constraints: bool = False,
    ) -> None:
        if negative_weight <= 0:
            raise ValueError(f"{name}: negative_weight must be positive, got {negative_weight}")
        self.vocab = vocab
        self.model = model
        self.name = name
        self.candidates = candidates
        self.scorer = scorer
        self.learn_rate_scale = learn_rate_scale
        self.negative_weight = negative_weight
        self.type_constraints = type_constraints
        # signatures: each label's [head type, tail type] pairs seen in training
        self.cfg: dict[str, Any] = {"labels": [], "threshold": threshold, "thresholds": {},
                                    "signatures": {}}

    # --- labels and thresholds ----------------------------------------------------------

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(self.cfg["labels"])

    @property
    def label_data(self) -> list[str]:
        return list(self.labels)

    def add_label(self, label: str) -> int:
        if not isinstance(label, str):
            raise ValueError(f"relation labels must be strings, got {label!r}")
        if label in self.labels:
            return 0
        self._allow_extra_label()
        self.cfg["labels"].append(label)
        self.vocab.strings.add(label)
        return 1

    @property
    def thresholds(self) -> dict[str, float]:
        """The effective threshold of every label (tuned where available, else global)."""
        tuned = self.cfg.get("thresholds") or {}
        return {lab: float(tuned.get(lab, self.cfg["threshold"])) for lab in self.labels}

    def set_thresholds(self, thresholds: dict[str, float]) -> None:
        unknown = sorted(set(thresholds) - set(self.labels))
        if unknown:
            raise ValueError(f"thresholds for unknown labels {unknown}; labels are {self.labels}")
        self.cfg["thresholds"] = {k: float(v) for k, v in thresholds.items()}

    # --- candidates ---------------------------------------------------------------------

    def _candidates(self, doc: Doc, ents: Sequence[Span]) -> Candidates:
        return Candidates.from_pairs(ents, self.candidates(doc, ents))

    @staticmethod
    def _gold_ents(eg: Example) -> list[Span | None]:
        """The reference entities as spans of the predicted doc (None where they don't align)."""
        pred, ref = eg.predicted, eg.reference
        if len(pred) == len(ref) and all(
            p.idx == r.idx and p.text == r.text for p, r in zip(pred, ref, strict=True)
        ):
            return [Span(pred, e.start, e.end, label=e.label) for e in ref.ents]
        aligned: list[Span | None] = []
        for ent in ref.ents:
            spans = eg.get_aligned_spans_y2x([ent])
            aligned.append(spans[0] if spans else None)
        return aligned

    def _training_instances(self, eg: Example) -> tuple[Candidates, numpy.ndarray]:
        gold = self._gold_ents(eg)
        keep = [i for i, span in enumerate(gold) if span is not None]
        ents = [gold[i] for i in keep]
        cand = self._candidates(eg.predicted, ents)  # type: ignore[arg-type]
        index = {label: k for k, label in enumerate(self.labels)}
        truth = numpy.zeros((len(cand), len(self.labels)), dtype="float32")
        if len(cand):
            row_of = {(keep[a], keep[b]): r for r, (a, b) in enumerate(cand.pairs.tolist())}
            for rel in raw_relations(eg.reference):
                row = row_of.get((rel["head"], rel["tail"]))
                if row is not None and rel["label"] in index:
                    truth[row, index[rel["label"]]] = 1.0
        return cand, truth

    # --- inference ----------------------------------------------------------------------

    def predict(self, docs: Iterable[Doc]) -> tuple[list[Candidates], numpy.ndarray]:
        """Candidate pairs of each doc and their label probabilities (rows concatenated)."""
        docs = list(docs)
        cands = [self._candidates(doc, doc.ents) for doc in docs]
        if not any(len(doc) for doc in docs):
            return cands, numpy.zeros((0, len(self.labels)), dtype="float32")
        logits = self.model.predict((docs, cands))
        probs = _sigmoid(self.model.ops.to_numpy(logits))
        if self.type_constraints and len(probs):
            probs *= self._allowed(numpy.concatenate([c.labels for c in cands], axis=0))
        return cands, probs

    def _allowed(self, types: numpy.ndarray) -> numpy.ndarray:
        """(pairs, labels) 1 where a label was seen in training between entities of the
        pair's types (head, tail hashes); a label without saved signatures (a pipeline
        initialised from labels alone, or saved before kgx learned them) allows any pair."""
        strings = self.vocab.strings
        signatures = self.cfg.get("signatures") or {}
        seen = {label: {(strings.add(h), strings.add(t)) for h, t in signatures[label]}
                for label in self.labels if label in signatures}
        # a handful of distinct type pairs, however many candidates
        distinct, inverse = numpy.unique(types.reshape(-1, 2), axis=0, return_inverse=True)
        table = numpy.asarray(
            [[label not in seen or (int(h), int(t)) in seen[label] for label in self.labels]
             for h, t in distinct], dtype="float32").reshape(len(distinct), len(self.labels))
        return table[inverse.reshape(-1)]

    def set_annotations(
        self, docs: Iterable[Doc], predictions: tuple[list[Candidates], numpy.ndarray]
    ) -> None:
        cands, probs = predictions
        limits = numpy.asarray([self.thresholds[lab] for lab in self.labels], dtype="float32")
        offset = 0
        for doc, cand in zip(docs, cands, strict=True):
            rows = probs[offset:offset + len(cand)]
            offset += len(cand)
            found = []
            for r, c in zip(*numpy.nonzero(rows >= limits), strict=True):
                head, tail = cand.pairs[r]
                found.append({"head": int(head), "tail": int(tail), "label": self.labels[c],
                              "score": float(rows[r, c])})
            set_relations(doc, found)

    # --- training -----------------------------------------------------------------------

    def update(
        self,
        examples: Iterable[Example],
        *,
        drop: float = 0.0,
        sgd: Optimizer | None = None,
        losses: dict[str, float] | None = None,
    ) -> dict[str, float]:
        examples = list(examples)
        validate_examples(examples, "RelationExtractor.update")
        if losses is None:
            losses = {}
        losses.setdefault(self.name, 0.0)
        docs = [eg.predicted for eg in examples]
        if not any(len(doc) for doc in docs):
            return losses
        set_dropout_rate(self.model, drop)
        instances = [self._training_instances(eg) for eg in examples]
        cands = [c for c, _ in instances]
        truth = numpy.concatenate([t for _, t in instances], axis=0)
        logits, backprop = self.model.begin_update((docs, cands))
        loss, d_logits = self.get_loss(examples, (logits, truth))
        backprop(d_logits)
        if sgd is not None:
            self.finish_update(sgd)
        losses[self.name] += loss
        return losses

    def finish_update(self, sgd: Optimizer) -> None:
        scaled_finish_update(self.model, sgd, self.learn_rate_scale)

    def get_loss(self, examples: Iterable[Example], scores: Any) -> tuple[float, Floats2d]:
        """Binary cross-entropy summed over pairs and labels, the "no" decisions weighted by
        ``negative_weight``.

        The gradient is not averaged over the batch: like spaCy's parser, the component's
        pull on the shared transformer grows with the number of decisions it makes. The
        reported loss is per document, to stay comparable across batch sizes.
        """
        logits, truth = scores
        n_docs = max(len(list(examples)), 1)
        probs = _sigmoid(self.model.ops.to_numpy(logits))
        truth = numpy.asarray(truth, dtype="f")
        weights = truth + self.negative_weight * (1 - truth)
        eps = 1e-7
        loss = -float(
            (weights * (truth * numpy.log(probs + eps)
                        + (1 - truth) * numpy.log(1 - probs + eps))).sum()
        ) / n_docs
        d_logits = self.model.ops.asarray2f(weights * (probs - truth))
        return loss, d_logits

    def initialize(
        self,
        get_examples: Callable[[], Iterable[Example]],
        *,
        nlp: Language | None = None,
        labels: Sequence[str] | None = None,
    ) -> None:
        validate_get_examples(get_examples, "RelationExtractor.initialize")
        # one pass over the training data for both the labels and their type signatures
        signatures = self._signatures(get_examples())
        for label in (labels if labels is not None else signatures):
            self.add_label(label)
        if not self.labels:
            raise ValueError(
                f"{self.name}: no relation labels: the training examples carry no "
                f"doc._.{EXTENSION} and no labels were given to initialize"
            )
        self.cfg["signatures"] = {label: pairs for label, pairs in signatures.items()
                                  if label in self.labels}
        self.model.set_dim("nO", len(self.labels))
        sample = list(islice(get_examples(), 10))
        docs = [eg.predicted for eg in sample]
        cands = [self._training_instances(eg)[0] for eg in sample]
        self.model.initialize(X=(docs, cands))

    @staticmethod
    def _signatures(examples: Iterable[Example]) -> dict[str, list[list[str]]]:
        """Each relation label of the data, in order of first appearance (the order labels
        are added in), with its (head type, tail type) pairs, sorted."""
        seen: dict[str, set[tuple[str, str]]] = {}
        for eg in examples:
            ents = eg.reference.ents
            for rel in raw_relations(eg.reference):
                seen.setdefault(rel["label"], set()).add(
                    (ents[rel["head"]].label_, ents[rel["tail"]].label_))
        return {label: [list(pair) for pair in sorted(pairs)] for label, pairs in seen.items()}

    def score(self, examples: Iterable[Example], **kwargs: Any) -> dict[str, Any]:
        validate_examples(examples, "RelationExtractor.score")
        if self.scorer is None:
            raise ValueError(f"{self.name} has no scorer")
        return self.scorer(examples, **kwargs)

    # --- serialisation ------------------------------------------------------------------

    def _validate_serialization_attrs(self) -> None:
        super()._validate_serialization_attrs()
        self.cfg.setdefault("thresholds", {})
        self.cfg.setdefault("signatures", {})
