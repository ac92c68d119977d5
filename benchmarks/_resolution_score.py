"""Scoring entity clusters against gold clusters when the two mention sets differ (issue 17).

A mention is ``(doc_id, start_char, end_char)``: a predicted mention matches a gold one only
when all three are equal (its type and text do not matter here; a wrong type shows up as a
split or a false merge). The treatment of mentions without a counterpart ("twinless") is the
one of the CoNLL reference scorer (Pradhan et al. 2014, "Scoring Coreference Partitions of
Predicted Mentions: A Reference Implementation", ACL): B-cubed on the two partitions as they
are, no mention added to or removed from either side (unlike Cai & Strube 2010's B3-sys, which
adds twinless mentions to the other side as singletons):

- recall: the mean, over gold mentions, of ``|G ∩ P| / |G|`` where G is the mention's gold
  cluster and P its predicted cluster; a gold mention the prediction lacks scores 0;
- precision: the mean, over predicted mentions, of ``|G ∩ P| / |P|``; a predicted mention no
  gold mention matches scores 0.

Pairwise figures count pairs of mentions in one cluster: a pair with a twinless mention is a
missed gold pair or a false predicted pair. With equal mention sets both are the usual
definitions, so the same function scores gold mentions and predicted ones. Stdlib only.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping
from itertools import combinations
from typing import Any

Mention = tuple[str, int, int]


def prf(p: float, r: float) -> tuple[float, float, float]:
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def _members(clusters: Mapping[Mention, Hashable]) -> dict[Hashable, set[Mention]]:
    out: dict[Hashable, set[Mention]] = defaultdict(set)
    for m, c in clusters.items():
        out[c].add(m)
    return out


def _pairs(members: dict[Hashable, set[Mention]]) -> set[frozenset[Mention]]:
    return {frozenset(p) for ms in members.values() for p in combinations(sorted(ms), 2)}


def score(gold: Mapping[Mention, Hashable], pred: Mapping[Mention, Hashable]) -> dict[str, Any]:
    """B-cubed and pairwise precision, recall, F1 of ``pred`` against ``gold`` (mention →
    cluster id), twinless mentions as the module says. An empty side gives the vacuous 1.0
    (no prediction: precision 1.0, recall 0.0)."""
    g_members, p_members = _members(gold), _members(pred)

    def overlap(m: Mention) -> int:
        if m not in gold or m not in pred:
            return 0
        return len(g_members[gold[m]] & p_members[pred[m]])

    br = sum(overlap(m) / len(g_members[c]) for m, c in gold.items()) / len(gold) if gold else 1.0
    bp = sum(overlap(m) / len(p_members[c]) for m, c in pred.items()) / len(pred) if pred else 1.0
    g_pairs, p_pairs = _pairs(g_members), _pairs(p_members)
    both = len(g_pairs & p_pairs)
    b = prf(bp, br)
    pw = prf(both / len(p_pairs) if p_pairs else 1.0, both / len(g_pairs) if g_pairs else 1.0)
    return {"b3_p": b[0], "b3_r": b[1], "b3_f1": b[2], "pair_p": pw[0], "pair_r": pw[1],
            "pair_f1": pw[2], "pred_clusters": len(p_members), "gold_clusters": len(g_members),
            "false_pairs": len(p_pairs - g_pairs), "missed_pairs": len(g_pairs - p_pairs)}


def mention_match(gold: Iterable[Mention], found: Iterable[Mention]) -> dict[str, Any]:
    """How many gold mentions ``found`` has (by doc id and offsets): recall, precision, and
    the twinless count of each side."""
    g, f = set(gold), set(found)
    both = len(g & f)
    return {"gold": len(g), "found": len(f), "matched": both,
            "recall": both / len(g) if g else 1.0, "precision": both / len(f) if f else 1.0,
            "missed_gold": len(g - f), "twinless_found": len(f - g)}


def restrict(clusters: Mapping[Mention, Hashable], to: Iterable[Mention]) -> dict[Mention, Any]:
    """``clusters`` on the mentions of ``to`` only (both sides on their matched mentions:
    resolution scored apart from recognition)."""
    keep = set(to)
    return {m: c for m, c in clusters.items() if m in keep}


def graph_mentions(graph: Any) -> dict[Mention, str]:
    """Mention → node of a kgx graph, from its edges' evidence (only mentions that take part
    in a relation are in a graph). The builder resolves a mention from its text and type, which
    are the same wherever its offsets recur in a document, so each mention has one node."""
    node: dict[Mention, str] = {}
    for h, t, _, data in graph.edges(keys=True, data=True):
        for ev in data["evidence"]:
            node[(ev["doc_id"], ev["head_start"], ev["head_end"])] = h
            node[(ev["doc_id"], ev["tail_start"], ev["tail_end"])] = t
    return node
