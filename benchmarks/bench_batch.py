"""Batch extraction benchmark: throughput, peak memory, and the overhead of the batch layer.

One run prints:
* words/second of plain ``nlp.pipe`` over the corpus texts, and of ``kgx extract`` (the
  batch layer: reading, ids, hashing, records, shards, manifest) with ``--n-process`` 1 and 2
  and on a Dask LocalCluster with 1 and 2 workers; the batch layer's overhead vs plain
  ``nlp.pipe`` (target: under 10%);
* peak RSS (``ru_maxrss``) of the process running the extraction for the corpus at 1x and at
  ``--scale``x its size (streaming: it must not grow with the corpus).

Every measurement runs in its own fresh subprocess, so peak RSS figures are per process.

    python benchmarks/bench_batch.py                       # builds the small test pipeline
    python benchmarks/bench_batch.py --model training/demo/model-best --docs 2000 --scale 10
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

FIRST = ["Maria", "John", "Ana", "Peter", "Aiko", "Omar", "Lena", "Carlos", "Grace", "Ivan"]
LAST = ["Lopez", "Smith", "Diaz", "Novak", "Tanaka", "Haddad", "Berg", "Silva", "Okafor", "Petrov"]
ORGS = ["Acme", "Nordwind", "Globex", "Initech", "Vandelay Industries", "Umbrella Corporation",
        "Stark Industries", "Wayne Enterprises", "Hooli", "Cyberdyne Systems"]
LOCS = ["Paris", "Berlin", "Oslo", "Lyon", "France", "Nairobi", "Toronto", "Lagos", "Madrid",
        "Seoul", "Chile", "Vienna"]
SENTENCES = [
    "{p} works for {o} in {l}.",
    "{o}, a company based in {l}, hired {p} as chief financial officer last spring.",
    "Analysts said {p} met executives of {o} on Tuesday to discuss the merger.",
    "{p} lives in {l} and commutes to the {o} office every day by train.",
    "Shares of {o} rose 4 percent after the company opened a new plant near {l}.",
    "The weather in {l} was mild this week, and local markets were calm.",
    "According to a spokesperson, {o} will not comment on the report before Friday.",
    "{p}, who joined {o} in 2019, told reporters the deal would close by the end of the year.",
    "Officials in {l} confirmed that the talks with {o} had been postponed.",
    "In an interview, {p} said the economy of {l} depended on trade with its neighbours.",
]


def person(rng: random.Random) -> str:
    return f"{rng.choice(FIRST)} {rng.choice(LAST)}"


def news_text(rng: random.Random) -> str:
    """A news-like article of roughly 150-400 words in a few paragraphs."""
    target = rng.randint(150, 400)
    paras, words = [], 0
    while words < target:
        para = []
        for _ in range(rng.randint(2, 5)):
            s = rng.choice(SENTENCES).format(p=person(rng), o=rng.choice(ORGS), l=rng.choice(LOCS))
            para.append(s)
            words += len(s.split())
        paras.append(" ".join(para))
    return "\n\n".join(paras)


def write_corpus(path: Path, n: int, seed: int = 0) -> Path:
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            fh.write(json.dumps({"id": f"n{i:07d}", "text": news_text(rng),
                                 "section": rng.choice(["world", "business"])}) + "\n")
    return path


def build_model(path: Path) -> Path:
    sys.path.insert(0, str(ROOT / "tests"))
    from test_batch import LOCS as T_LOCS
    from test_batch import ORGS as T_ORGS
    from test_batch import build_fixture_pipeline

    build_fixture_pipeline(path)
    # the test pipeline's ruler knows a few names; add the benchmark's
    import spacy

    nlp = spacy.load(path)
    ruler = nlp.get_pipe("entity_ruler")
    ruler.add_patterns(
        [{"label": "PER", "pattern": f"{f} {la}"} for f in FIRST for la in LAST]
        + [{"label": "ORG", "pattern": o} for o in ORGS if o not in T_ORGS]
        + [{"label": "LOC", "pattern": loc} for loc in LOCS if loc not in T_LOCS]
    )
    nlp.to_disk(path)
    return path


# --- measurements, each in a child process ---------------------------------------------------


def _maxrss_mb(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


def child(kind: str, model: str, corpus: str, out: str, batch_size: int) -> dict:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    if kind in ("plain", "records"):
        import spacy

        from kgx.batch.annotation import _count_words
        from kgx.records import doc_to_records, model_name

        nlp = spacy.load(model)
        name = model_name(nlp)
        encode = json.JSONEncoder(ensure_ascii=False).encode

        def texts():
            with open(corpus, encoding="utf-8") as fh:
                for line in fh:
                    yield json.loads(line)["text"]

        t0 = time.perf_counter()
        words = 0
        relations = None if kind == "plain" else 0
        for i, doc in enumerate(nlp.pipe(texts(), batch_size=batch_size)):
            words += _count_words(doc)
            if relations is not None:  # the records alone: built and serialised, not written
                for rec in doc_to_records(doc, str(i), name):
                    encode(rec)
                    relations += 1
        seconds = time.perf_counter() - t0
    else:
        from kgx.batch import ExtractionRun

        kwargs: dict = {}
        if kind.startswith("dask"):
            from kgx.batch.distributed import DaskExtractionRun as Run

            kwargs = {"dask": f"local:{kind[4:]}", "partition_size": batch_size}
        else:
            Run = ExtractionRun
            kwargs = {"n_process": int(kind[5:])}
        run = Run([corpus], model, out, batch_size=batch_size, progress=False, **kwargs)
        totals = run.run()
        words, seconds, relations = totals.words, totals.seconds, totals.relations
    return {"kind": kind, "words": words, "seconds": seconds, "relations": relations,
            "words_per_second": words / seconds, "maxrss_mb": _maxrss_mb(resource.RUSAGE_SELF),
            "maxrss_children_mb": _maxrss_mb(resource.RUSAGE_CHILDREN)}


def measure(kind: str, model: Path, corpus: Path, work: Path, batch_size: int) -> dict:
    out = work / f"run-{kind}-{corpus.stem}"
    shutil.rmtree(out, ignore_errors=True)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    res = subprocess.run([sys.executable, __file__, "--child", kind, "--model", str(model),
                          "--corpus", str(corpus), "--out", str(out),
                          "--batch-size", str(batch_size)],
                         capture_output=True, text=True, env=env)
    if res.returncode != 0:
        raise SystemExit(f"{kind} failed:\n{res.stderr[-3000:]}")
    shutil.rmtree(out, ignore_errors=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", help="Pipeline path (default: build the small test pipeline).")
    ap.add_argument("--docs", type=int, default=2000, help="Documents in the 1x corpus.")
    ap.add_argument("--scale", type=int, default=10, help="Size of the memory corpus (x docs).")
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--skip-dask", action="store_true")
    ap.add_argument("--workdir", help="Keep corpora and model here (default: a temp dir).")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--corpus", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.model, args.corpus, args.out, args.batch_size)))
        return

    work = Path(args.workdir or tempfile.mkdtemp(prefix="kgx-bench-batch-"))
    work.mkdir(parents=True, exist_ok=True)
    model = Path(args.model) if args.model else build_model(work / "model")
    small = write_corpus(work / "corpus-1x.jsonl", args.docs)
    big = write_corpus(work / f"corpus-{args.scale}x.jsonl", args.docs * args.scale, seed=1)
    print(f"model: {model}")
    print(f"corpus: {args.docs} documents (1x), {args.docs * args.scale} ({args.scale}x); "
          f"batch size {args.batch_size}; CPUs: {os.cpu_count()}")

    kinds = ["plain", "records", "local1", "local2"]
    kinds += [] if args.skip_dask else ["dask1", "dask2"]
    results = {k: measure(k, model, small, work, args.batch_size) for k in kinds}
    print(f"\n{'run':<27}{'words':>10}{'seconds':>10}{'words/s':>10}{'relations':>11}"
          f"{'maxrss MB':>11}{'children MB':>13}")
    names = {"plain": "plain nlp.pipe", "records": "nlp.pipe + records",
             "local1": "kgx extract --n-process 1",
             "local2": "kgx extract --n-process 2", "dask1": "kgx extract --dask local:1",
             "dask2": "kgx extract --dask local:2"}
    for k, r in results.items():
        rel = "" if r["relations"] is None else r["relations"]
        print(f"{names[k]:<27}{r['words']:>10}{r['seconds']:>10.1f}{r['words_per_second']:>10.0f}"
              f"{rel:>11}{r['maxrss_mb']:>11.0f}{r['maxrss_children_mb']:>13.0f}")
    overhead = 1 - results["local1"]["words_per_second"] / results["plain"]["words_per_second"]
    print(f"\nbatch-layer overhead vs plain nlp.pipe (n_process 1): {100 * overhead:.1f}%")
    overhead = 1 - results["local1"]["words_per_second"] / results["records"]["words_per_second"]
    print(f"batch-layer overhead vs nlp.pipe + doc_to_records + JSON encoding: "
          f"{100 * overhead:.1f}%  (the rest is the cost of producing the records; the "
          f"relations/word ratio of the model decides it)")

    big_run = measure("local1", model, big, work, args.batch_size)
    print(f"\npeak RSS, kgx extract --n-process 1: {results['local1']['maxrss_mb']:.0f} MB for "
          f"{args.docs} docs, {big_run['maxrss_mb']:.0f} MB for {args.docs * args.scale} docs "
          f"({big_run['words_per_second']:.0f} words/s)")
    if not args.workdir:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
