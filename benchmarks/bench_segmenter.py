"""Sentence segmenters on documents assembled from gold sentences: boundary P/R/F1 and words/s.

CoNLL04 and ADE dev sentences are joined K at a time (``kgx.corpus.assemble_documents``, the
documents ``kgx evaluate --as-documents K`` scores), so the gold boundaries are the joins. A
boundary is the character offset where a sentence starts (the document's start excluded).
The demo corpus has no gold sentence boundaries: its figure is agreement with pySBD.
``--senter NAME=PIPELINE`` adds a trained senter (``configs/kgx_senter.cfg``; any pipeline whose
``senter`` component is not a listener). ``--layout`` lays the sentences out as lines,
paragraphs or a list (``kgx.corpus.LAYOUTS``; a list item's marker is a sentence of its own),
and every segmenter is also run with ``kgx_layout_boundaries`` after it ("+ layout").

    python benchmarks/bench_segmenter.py [--k 5] [--repeat 3] [--layout paragraphs] \
        [--senter conll04=training/conll04-senter/model-last]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import spacy
from spacy.language import Language
from spacy.tokens import Doc

from kgx.corpus import LAYOUTS, assemble_documents, read_docs

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"


def starts(doc: Doc) -> set[int]:
    """Where each sentence's text starts (whitespace before it, which spaCy's sentencizer puts
    at the start of the next sentence, is not part of the boundary)."""
    found = set()
    for sent in doc.sents:
        first = next((t.idx for t in sent if not t.is_space), None)
        if first:
            found.add(first)
    return found


def prf(gold: list[set[int]], pred: list[set[int]]) -> tuple[float, float, float]:
    tp = sum(len(g & p) for g, p in zip(gold, pred, strict=True))
    n_pred, n_gold = sum(map(len, pred)), sum(map(len, gold))
    p = tp / n_pred if n_pred else 0.0
    r = tp / n_gold if n_gold else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def segmenters(senters: list[str], layout: bool) -> dict[str, Language]:
    def build(path: str | None, with_layout: bool) -> Language:
        if path is None:
            nlp = spacy.blank("en")
            nlp.add_pipe("sentencizer")
        else:
            nlp = spacy.load(path, enable=["senter"])
        if with_layout:
            nlp.add_pipe("kgx_layout_boundaries")
        return nlp

    specs: dict[str, str | None] = {"sentencizer": None}
    for item in senters:
        name, _, path = item.partition("=")
        specs[f"senter {name}"] = path
    found = {}
    for name, path in specs.items():
        found[name] = build(path, False)
        if layout:
            found[f"{name} + layout"] = build(path, True)
    try:
        import pysbd
    except ImportError:
        return found
    seg = pysbd.Segmenter(language="en", clean=False, char_span=True)

    @Language.component("bench_pysbd")
    def pysbd_component(doc: Doc) -> Doc:
        begins = {s.start for s in seg.segment(doc.text)}
        for tok in doc:
            tok.is_sent_start = tok.i == 0 or tok.idx in begins
        return doc

    nlp2 = spacy.blank("en")
    nlp2.add_pipe("bench_pysbd")
    found["pysbd"] = nlp2
    return found


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--k", type=int, default=5)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--senter", action="append", default=[], metavar="NAME=PIPELINE",
                    help="a trained senter to compare (repeatable)")
    ap.add_argument("--layout", default="space", choices=list(LAYOUTS))
    args = ap.parse_args()
    segs = segmenters(args.senter, args.layout != "space")
    blank = spacy.blank("en")
    sets: dict[str, list[str]] = {}
    golds: dict[str, list[set[int]] | None] = {}
    for name in ("conll04", "ade"):
        path = DATA / name / "dev.json"
        if not path.exists():
            print(f"{name}: {path} absent, skipped")
            continue
        docs = list(assemble_documents(read_docs(path, vocab=blank.vocab), args.k,
                                       layout=args.layout))
        key = f"{name} dev, K={args.k}" + (f", {args.layout}" if args.layout != "space" else "")
        sets[key] = [d.text for d in docs]
        golds[key] = [starts(d) for d in docs]
    import json

    demo = [json.loads(line)["text"] for line in
            (ROOT / "corpora" / "demo" / "dev.jsonl").read_text(encoding="utf-8").splitlines()
            if line.strip()]
    if args.layout == "space":
        sets["demo dev (agreement with pysbd)"] = demo
        golds["demo dev (agreement with pysbd)"] = None
    print(f"{'set':<36}{'segmenter':<28}{'P':>7}{'R':>7}{'F1':>7}{'words/s':>12}")
    for set_name, texts in sets.items():
        gold = golds[set_name]
        if gold is None:
            if "pysbd" not in segs:
                continue
            gold = [starts(d) for d in segs["pysbd"].pipe(texts)]
        n_words = sum(len(blank.make_doc(t)) for t in texts)
        for seg_name, nlp in segs.items():
            best = float("inf")
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                docs = list(nlp.pipe(texts))
                best = min(best, time.perf_counter() - t0)
            p, r, f = prf(gold, [starts(d) for d in docs])
            print(f"{set_name:<36}{seg_name:<28}{100 * p:7.2f}{100 * r:7.2f}{100 * f:7.2f}"
                  f"{n_words / best:12.0f}")


if __name__ == "__main__":
    main()
