"""benchmarks/eval_seed_ensemble.py: label columns matched by name, shared candidate spans."""

from __future__ import annotations

import numpy
import pytest
from thinc.api import NumpyOps, Ragged

from helpers import load_benchmark

ensemble = load_benchmark("eval_seed_ensemble")


def test_columns_follow_the_reference_order_and_the_extra_column_stays():
    # labels B, A, C then the recogniser's "no entity" column
    scores = numpy.array([[0.2, 0.1, 0.3, 0.4], [0.5, 0.0, 0.1, 0.4]])
    out = ensemble.aligned(scores, ("B", "A", "C"), ("A", "B", "C"))
    assert out.tolist() == [[0.1, 0.2, 0.3, 0.4], [0.0, 0.5, 0.1, 0.4]]
    back = ensemble.aligned(out, ("A", "B", "C"), ("B", "A", "C"))
    assert back.tolist() == scores.tolist()
    with pytest.raises(SystemExit, match="labels differ"):
        ensemble.aligned(scores, ("B", "A", "D"), ("A", "B", "C"))


class _Recogniser:
    """What shared_candidates reads of a recogniser: its kept spans and its ops."""

    def __init__(self, per_doc: list[list[tuple[int, int]]]):
        self.per_doc = per_doc
        self.model = type("M", (), {"ops": NumpyOps()})()

    def candidate_spans(self, docs):
        rows = [span for spans in self.per_doc for span in spans]
        return Ragged(numpy.asarray(rows, dtype="int32").reshape(-1, 2),
                      numpy.asarray([len(s) for s in self.per_doc], dtype="int32"))


def test_candidates_are_the_spans_every_recogniser_keeps_doc_by_doc():
    a = _Recogniser([[(0, 1), (0, 2), (3, 4)], [], [(1, 2)]])
    b = _Recogniser([[(0, 2), (3, 4), (5, 6)], [(0, 1)], [(1, 2)]])
    out = ensemble.shared_candidates([a, b], [None, None, None])
    assert numpy.asarray(out.lengths).tolist() == [2, 0, 1]
    assert numpy.asarray(out.dataXd).tolist() == [[0, 2], [3, 4], [1, 2]]
    alone = ensemble.shared_candidates([a], [None, None, None])
    assert numpy.asarray(alone.dataXd).tolist() == [[0, 1], [0, 2], [3, 4], [1, 2]]
