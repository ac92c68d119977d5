"""Candidate pairs of the relation component: which ordered entity pairs of a document are
classified (``kgx.candidate_pairs.v1``/``v2``), and the arrays the model reads for them
(``Candidates``: spans, types, enclosing windows, bucketed distances)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy
from spacy.tokens import Doc, Span
from spacy.util import registry

log = logging.getLogger("kgx")

# token-distance buckets: 0,1,2,3,4,5-7,8-15,16-31,32-63,64-127,128+
_BUCKET_EDGES = numpy.asarray([1, 2, 3, 4, 5, 8, 16, 32, 64, 128], dtype="int64")
N_DISTANCE_BUCKETS = 2 * (len(_BUCKET_EDGES) + 1)
# context either side of a pair when a document has no sentence boundaries (RelationModel.v2)
CONTEXT_MARGIN = 16


@dataclass
class Candidates:
    """The candidate pairs of one document, as arrays the model consumes.

    ``pairs`` indexes the entity list the candidates were made from (gold entities in
    training, ``doc.ents`` at inference); ``spans`` holds token offsets
    (head_start, head_end, tail_start, tail_end); ``labels`` the entity-type hashes;
    ``windows`` the enclosing context (first sentence start to last sentence end, or
    ``CONTEXT_MARGIN`` tokens either side when the document has no sentence boundaries).
    """

    pairs: numpy.ndarray  # (n, 2) int64
    spans: numpy.ndarray  # (n, 4) int64
    labels: numpy.ndarray  # (n, 2) uint64
    windows: numpy.ndarray  # (n, 2) int64: token range of the enclosing context

    def __len__(self) -> int:
        return int(self.pairs.shape[0])

    @classmethod
    def from_pairs(cls, ents: Sequence[Span], pairs: Sequence[tuple[int, int]]) -> Candidates:
        if not pairs:
            return cls(
                numpy.zeros((0, 2), dtype="int64"),
                numpy.zeros((0, 4), dtype="int64"),
                numpy.zeros((0, 2), dtype="uint64"),
                numpy.zeros((0, 2), dtype="int64"),
            )
        p = numpy.asarray(pairs, dtype="int64")
        starts = numpy.asarray([e.start for e in ents], dtype="int64")
        ends = numpy.asarray([e.end for e in ents], dtype="int64")
        labels = numpy.asarray([e.label for e in ents], dtype="uint64")
        spans = numpy.stack([starts[p[:, 0]], ends[p[:, 0]], starts[p[:, 1]], ends[p[:, 1]]], 1)
        doc = ents[0].doc
        if doc.has_annotation("SENT_START"):
            ctx_starts, ctx_ends = _sentences_of(doc, ents, starts)
        else:
            ctx_starts = numpy.maximum(starts - CONTEXT_MARGIN, 0)
            ctx_ends = numpy.minimum(ends + CONTEXT_MARGIN, len(doc))
        windows = numpy.stack([numpy.minimum(ctx_starts[p[:, 0]], ctx_starts[p[:, 1]]),
                               numpy.maximum(ctx_ends[p[:, 0]], ctx_ends[p[:, 1]])], 1)
        return cls(p, spans, numpy.stack([labels[p[:, 0]], labels[p[:, 1]]], 1), windows)


def _sentences_of(doc: Doc, ents: Sequence[Span],
                  starts: numpy.ndarray) -> tuple[numpy.ndarray, numpy.ndarray]:
    """Each entity's ``Span.sent`` as (start, end) token offsets, from the doc's sentence
    starts at once (``Span.sent`` walks the tokens, entity by entity; issue 16): the
    sentence start at or before the entity's first token, the next start after it (or the
    doc's end). A doc with sentence hooks (``user_hooks``) asks ``Span.sent``."""
    if "sent" in doc.user_span_hooks or "sents" in doc.user_hooks:
        return (numpy.asarray([e.sent.start for e in ents], dtype="int64"),
                numpy.asarray([e.sent.end for e in ents], dtype="int64"))
    sent_starts = numpy.flatnonzero(doc.to_array("SENT_START").astype("int64") == 1)
    before = numpy.searchsorted(sent_starts, starts, side="right") - 1
    after = numpy.searchsorted(sent_starts, starts + 1, side="left")
    bounds = numpy.append(sent_starts, len(doc))
    return (numpy.where(before >= 0, sent_starts[numpy.maximum(before, 0)], 0),
            bounds[after])


CandidateGenerator = Callable[[Doc, Sequence[Span]], list[tuple[int, int]]]


@registry.misc("kgx.candidate_pairs.v1")
def make_candidate_generator(
    max_sentences: int = 1, max_tokens: int = 100, max_pairs: int = 1000
) -> CandidateGenerator:
    """Ordered entity pairs worth classifying (kept for saved pipelines; the configs use
    ``kgx.candidate_pairs.v2``, whose cap does not grow with the document).

    max_sentences (int): how many sentences a pair may span (1 = same sentence; 0 = ignore
        sentence boundaries). It applies only to docs with sentence boundaries; otherwise
        ``max_tokens`` alone limits the window.
    max_tokens (int): the largest token gap between the two spans.
    max_pairs (int): a per-document cap (the nearest pairs are kept) so that one document
        with hundreds of entities cannot exhaust memory; hitting it is logged.
    """

    def generate(doc: Doc, ents: Sequence[Span]) -> list[tuple[int, int]]:
        if len(ents) < 2:
            return []
        use_sents = max_sentences > 0 and doc.has_annotation("SENT_START")
        if use_sents:
            sent_ids = numpy.cumsum([1 if t.is_sent_start else 0 for t in doc]) - 1
            ent_sent = [int(sent_ids[e.start]) for e in ents]
        scored: list[tuple[int, int, int]] = []
        for i, head in enumerate(ents):
            for j, tail in enumerate(ents):
                if i == j:
                    continue
                gap = max(tail.start - head.end, head.start - tail.end, 0)
                if gap > max_tokens:
                    continue
                if use_sents and abs(ent_sent[i] - ent_sent[j]) >= max_sentences:
                    continue
                scored.append((gap, i, j))
        if len(scored) > max_pairs:
            log.warning(
                "doc with %d entities has %d candidate pairs; keeping the nearest %d "
                "(candidates.max_pairs)", len(ents), len(scored), max_pairs,
            )
            scored.sort()
            scored = sorted(scored[:max_pairs], key=lambda s: (s[1], s[2]))
        return [(i, j) for _, i, j in scored]

    return generate


@registry.misc("kgx.candidate_pairs.v2")
def make_candidate_generator_v2(
    max_sentences: int = 1, max_tokens: int = 100, max_tails: int = 32
) -> CandidateGenerator:
    """Ordered entity pairs worth classifying, with a cap that does not grow with the document.

    v1 capped the pairs of a whole document (``max_pairs``) and kept the nearest ones, so in a
    long document the cross-sentence pairs at a gap of one token crowded out the real ones: a
    sentence repeated 600 times lost every relation (issue 19). Here each head keeps at most
    ``max_tails`` tails (the nearest), so a document's pairs grow linearly with its entities
    and a sentence gets the same pairs alone and inside any document.

    max_sentences (int): how many sentences a pair may span (1 = the same sentence; 0 = ignore
        sentence boundaries); it applies to docs with sentence boundaries.
    max_tokens (int): the largest token gap between the two spans.
    max_tails (int): the most tails one head is paired with (the nearest are kept).
    """
    if max_tails < 1:
        raise ValueError(f"kgx.candidate_pairs.v2: max_tails must be at least 1, got {max_tails}")

    def generate(doc: Doc, ents: Sequence[Span]) -> list[tuple[int, int]]:
        n = len(ents)
        if n < 2:
            return []
        order = sorted(range(n), key=lambda i: (ents[i].start, ents[i].end))
        starts = numpy.asarray([ents[i].start for i in order], dtype="int64")
        ends = numpy.asarray([ents[i].end for i in order], dtype="int64")
        if max_sentences > 0 and doc.has_annotation("SENT_START"):
            sent_ids = numpy.cumsum(doc.to_array("SENT_START") == 1) - 1
            sents = sent_ids[starts]
        else:
            sents = None
        # ends are non-decreasing for non-overlapping spans; prefix maxima keep the searches
        # right if some overlap
        run_ends = numpy.maximum.accumulate(ends)
        # every head's tails at once: after it, start - head end <= max_tokens; before it,
        # head start - end <= max_tokens; within max_sentences sentences
        hi = numpy.searchsorted(starts, ends + max_tokens, side="right")
        lo = numpy.searchsorted(run_ends, starts - max_tokens, side="left")
        if sents is not None:
            lo = numpy.maximum(lo, numpy.searchsorted(sents, sents - max_sentences + 1))
            hi = numpy.minimum(hi, numpy.searchsorted(sents, sents + max_sentences - 1,
                                                      side="right"))
        counts = numpy.maximum(hi - lo, 0)
        heads = numpy.repeat(numpy.arange(n), counts)
        tails = (numpy.repeat(lo - numpy.cumsum(counts) + counts, counts)
                 + numpy.arange(int(counts.sum())))
        own = heads != tails
        heads, tails = heads[own], tails[own]
        crowded = numpy.flatnonzero(numpy.bincount(heads, minlength=n) > max_tails)
        if len(crowded):  # keep each crowded head's nearest tails (ties: the earlier one)
            keep = numpy.ones(len(heads), dtype=bool)
            for a in crowded:
                at = numpy.flatnonzero(heads == a)
                b = tails[at]
                gaps = numpy.maximum(numpy.maximum(starts[b] - ends[a], starts[a] - ends[b]), 0)
                keep[at] = False
                keep[at[numpy.sort(numpy.lexsort((b, gaps))[:max_tails])]] = True
            heads, tails = heads[keep], tails[keep]
        index = numpy.asarray(order, dtype="int64")
        pairs = numpy.stack([index[heads], index[tails]], axis=1)
        pairs = pairs[numpy.lexsort((pairs[:, 1], pairs[:, 0]))]
        return list(map(tuple, pairs.tolist()))

    return generate


def distance_buckets(spans: numpy.ndarray) -> numpy.ndarray:
    """Bucketed token gap between head and tail, offset by direction (head first or not)."""
    head_first = spans[:, 0] <= spans[:, 2]
    gap = numpy.maximum(
        numpy.maximum(spans[:, 2] - spans[:, 1], spans[:, 0] - spans[:, 3]), 0
    )
    bucket = numpy.searchsorted(_BUCKET_EDGES, gap, side="right")
    return (bucket + numpy.where(head_first, 0, len(_BUCKET_EDGES) + 1)).astype("uint64")
