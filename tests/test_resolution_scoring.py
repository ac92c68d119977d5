"""Scoring resolution end to end (issue 17): predicted clusters against gold clusters when the
mentions come from a pipeline, matched on doc id and character offsets (benchmarks/
_resolution_score.py, benchmarks/bench_resolution.py)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


rs = _load("_resolution_score")
A, B, C = ("d1", 0, 4), ("d1", 10, 14), ("d1", 20, 24)


def test_equal_mention_sets_give_the_usual_b_cubed_and_pairwise():
    s = rs.score({A: "x", B: "x", C: "y"}, {A: 1, B: 2, C: 2})
    # B3 P: A 1/1, B 1/2, C 1/2; B3 R: A 1/2, B 1/2, C 1/1
    assert s["b3_p"] == pytest.approx(2 / 3) and s["b3_r"] == pytest.approx(2 / 3)
    assert (s["pair_p"], s["pair_r"], s["false_pairs"], s["missed_pairs"]) == (0, 0, 1, 1)
    perfect = rs.score({A: "x", B: "x", C: "y"}, {A: "n", B: "n", C: "m"})
    assert perfect["b3_f1"] == perfect["pair_f1"] == 1.0


def test_a_gold_mention_the_prediction_lacks_lowers_recall_only():
    s = rs.score({A: "x", B: "x", C: "y"}, {A: 1, C: 2})  # B missed
    assert s["b3_r"] == pytest.approx((1 / 2 + 0 + 1) / 3)  # B scores 0, A finds half of x
    assert s["b3_p"] == 1.0
    assert (s["pair_p"], s["pair_r"], s["missed_pairs"], s["false_pairs"]) == (1.0, 0.0, 1, 0)


def test_a_predicted_mention_with_no_gold_counterpart_lowers_precision_only():
    z = ("d1", 30, 34)
    s = rs.score({A: "x", B: "x"}, {A: 1, B: 1, z: 1})
    assert s["b3_r"] == 1.0
    assert s["b3_p"] == pytest.approx((2 / 3 + 2 / 3 + 0) / 3)  # z scores 0, dilutes A and B
    assert s["pair_p"] == pytest.approx(1 / 3) and s["false_pairs"] == 2
    alone = rs.score({A: "x", B: "x"}, {A: 1, B: 1, z: 2})  # a twinless singleton costs too
    assert alone["b3_p"] == pytest.approx(2 / 3) and alone["pair_p"] == 1.0


def test_mentions_match_on_doc_id_and_both_offsets():
    gold = {A: "x", B: "x"}
    near = {("d1", 0, 5): 1, ("d2", 10, 14): 1, ("d1", 1, 4): 1}  # end, doc, start differ
    assert rs.mention_match(gold, near) == {
        "gold": 2, "found": 3, "matched": 0, "recall": 0.0, "precision": 0.0,
        "missed_gold": 2, "twinless_found": 3}
    s = rs.score(gold, near)
    assert s["b3_p"] == s["b3_r"] == s["b3_f1"] == 0.0
    assert rs.score(gold, {("d1", 0, 4): "n", ("d1", 10, 14): "n"})["b3_f1"] == 1.0


def test_restrict_scores_resolution_on_the_matched_mentions():
    gold, pred = {A: "x", B: "x", C: "y"}, {A: 1, B: 1, ("d1", 40, 44): 1}
    both = rs.score(rs.restrict(gold, pred), rs.restrict(pred, gold))
    assert both["b3_f1"] == both["pair_f1"] == 1.0
    assert rs.score(gold, pred)["b3_f1"] < 1.0


TEXT = "Maria Lopez joined Acme Corp. in May. Lopez lives in Oslo. Acme hired Ana Ruiz."


def _span(text: str, label: str, nth: int = 1) -> dict:
    start = -1
    for _ in range(nth):
        start = TEXT.index(text, start + 1)
    return {"text": text, "label": label, "start_char": start, "end_char": start + len(text)}


def _record(head: dict, relation: str, tail: dict) -> dict:
    return {"doc_id": "d", "head": head, "relation": relation, "tail": tail, "score": 0.9,
            "model": "t@1", "sent_start_char": 0, "sent_end_char": len(TEXT)}


def _mention(span: dict, cluster: str) -> dict:
    return {"start": span["start_char"], "end": span["end_char"], "text": span["text"],
            "label": span["label"], "cluster": cluster}


def test_end_to_end_scores_the_graph_built_from_predicted_records():
    bench = _load("bench_resolution")
    maria, acme_corp = _span("Maria Lopez", "PER"), _span("Acme Corp.", "ORG")
    lopez, oslo = _span("Lopez", "PER", 2), _span("Oslo", "LOC")
    acme, ana = _span("Acme", "ORG", 2), _span("Ana Ruiz", "PER")
    ruiz = _span("Ruiz", "PER")  # the pipeline's span for Ana Ruiz: no gold counterpart
    docs = [{"id": "d", "text": TEXT, "mentions": [
        _mention(maria, "per:lopez"), _mention(acme_corp, "org:acme"),
        _mention(lopez, "per:lopez"), _mention(oslo, "loc:oslo"), _mention(acme, "org:acme"),
        _mention(ana, "per:ruiz")]}]
    records = [_record(maria, "Work_For", acme_corp), _record(lopez, "Live_In", oslo),
               _record(ruiz, "Work_For", acme)]
    entities = {("d", s["start_char"], s["end_char"])
                for s in (maria, acme_corp, lopez, oslo, acme, ruiz, _span("May", "LOC"))}
    out = bench.end_to_end(docs, entities, records)

    assert out["recognised"] == {"gold": 6, "found": 7, "matched": 5, "recall": 5 / 6,
                                 "precision": 5 / 7, "missed_gold": 1, "twinless_found": 2}
    # "May" is in no relation, so it never reaches the graph
    assert out["in_graph"]["found"] == 6 and out["in_graph"]["recall"] == pytest.approx(5 / 6)
    res = out["resolution"]  # {Maria Lopez, Lopez} {Acme Corp., Acme} {Oslo} {Ruiz}
    assert res["b3_r"] == pytest.approx(5 / 6)  # Ana Ruiz (missed) scores 0
    assert res["b3_p"] == pytest.approx(5 / 6)  # Ruiz (twinless) scores 0
    assert (res["pair_p"], res["pair_r"]) == (1.0, 1.0)
    base = out["baseline"]  # equal names only: every mention its own node
    assert base["b3_r"] == pytest.approx((4 * 0.5 + 1 + 0) / 6)
    assert base["b3_p"] == pytest.approx(5 / 6) and base["pair_r"] == 0.0
    assert out["resolution_matched"]["b3_f1"] == 1.0
    assert out["baseline_matched"]["b3_r"] == pytest.approx(3 / 5)


def test_the_benchmark_writes_its_figures_as_json(tmp_path):
    out = tmp_path / "metrics" / "resolution.json"
    proc = subprocess.run([sys.executable, str(BENCHMARKS / "bench_resolution.py"), "--n", "0",
                           "--output", str(out)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["model"] is None and "cost" not in result
    assert set(result["sets"]) == {"demo", "health"}
    demo = result["sets"]["demo"]
    assert (demo["documents"], demo["gold_mentions"], demo["gold_clusters"]) == (35, 451, 236)
    assert demo["gold_mentions_run"]["resolution"]["b3_f1"] >= 0.95
    assert "predicted_mentions_run" not in demo
