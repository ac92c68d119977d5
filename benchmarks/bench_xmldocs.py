"""Reading PubMed article sets: a file the size of a PubMed baseline file (30,000 citations,
``--articles``), gzipped as PubMed ships it, against the same documents as JSONL, in one run,
each in a fresh process (its peak RSS its own), ``--rounds`` times alternating; the median
time, documents per second and peak RSS, and whether both give the same documents.

Each article: a title and a structured abstract (two labelled sections) of ADE or CoNLL04
sentences from ``--data``, a journal, a year and a DOI, laid out as PubMed's files are.

    python benchmarks/bench_xmldocs.py --data ../shared/data/ade/train.json --articles 30000
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from xml.sax.saxutils import escape

CHILD = """
import hashlib, json, sys, time
from kgx.batch.reading import read_inputs
began, digest, n = time.perf_counter(), hashlib.sha256(), 0
for e in read_inputs([sys.argv[1]]):  # each document let go once hashed: the reader's memory
    digest.update(json.dumps([e.id, e.text]).encode())
    n += 1
took = time.perf_counter() - began
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec from the forked parent
peak = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM"))
print(json.dumps({"seconds": took, "rss_mb": peak / 1024, "docs": n,
                  "digest": digest.hexdigest()}))
"""


def article(pmid: int, title: str, background: str, results: str) -> str:
    return (f'<PubmedArticle>\n  <MedlineCitation Status="MEDLINE" Owner="NLM">\n'
            f'    <PMID Version="1">{pmid}</PMID>\n    <Article PubModel="Print">\n'
            f"      <Journal><JournalIssue CitedMedium=\"Print\"><PubDate><Year>2001</Year>"
            f"</PubDate></JournalIssue><Title>Journal {pmid % 97}</Title></Journal>\n"
            f"      <ArticleTitle>{escape(title)}</ArticleTitle>\n      <Abstract>\n"
            f'        <AbstractText Label="BACKGROUND">{escape(background)}</AbstractText>\n'
            f'        <AbstractText Label="RESULTS">{escape(results)}</AbstractText>\n'
            f"      </Abstract>\n      <Language>eng</Language>\n    </Article>\n"
            f"  </MedlineCitation>\n  <PubmedData><ArticleIdList><ArticleId IdType=\"doi\">"
            f"10.1000/{pmid}</ArticleId></ArticleIdList></PubmedData>\n</PubmedArticle>\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--articles", type=int, default=30_000)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    sentences = [" ".join(s["tokens"]) for s in json.loads(args.data.read_text())]

    def pick(i: int, k: int) -> str:
        return " ".join(sentences[(i * 5 + j) % len(sentences)] for j in range(k))

    rows = [(10_000_000 + i, pick(i, 1), pick(i + 1, 2), pick(i + 2, 2))
            for i in range(args.articles)]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        xml = ['<?xml version="1.0" ?>\n<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD '
               'PubMedArticle, 1st January 2025//EN" "https://dtd.nlm.nih.gov/ncbi/pubmed/out/'
               'pubmed_250101.dtd">\n<PubmedArticleSet>\n']
        xml += [article(*row) for row in rows] + ["</PubmedArticleSet>\n"]
        (folder / "pubmed.xml.gz").write_bytes(gzip.compress("".join(xml).encode()))
        with gzip.open(folder / "pubmed.jsonl.gz", "wt", encoding="utf-8") as fh:
            for pmid, title, background, results in rows:
                text = f"{title}\n\nBACKGROUND: {background}\n\nRESULTS: {results}"
                fh.write(json.dumps({"id": str(pmid), "text": text}) + "\n")
        runs: dict[str, list[dict]] = {"pubmed.xml.gz": [], "pubmed.jsonl.gz": []}
        for _ in range(args.rounds):
            for name in runs:
                out = subprocess.run([sys.executable, "-c", CHILD, str(folder / name)],
                                     capture_output=True, text=True, check=True, cwd=tmp)
                runs[name].append(json.loads(out.stdout))
        size = {n: (folder / n).stat().st_size / 1e6 for n in runs}
        base = statistics.median(r["seconds"] for r in runs["pubmed.jsonl.gz"])
        for name, results in runs.items():
            t = statistics.median(r["seconds"] for r in results)
            rss = statistics.median(r["rss_mb"] for r in results)
            print(f"{name:<16} {size[name]:6.1f} MB  {t:6.2f} s  {args.articles / t:9,.0f} "
                  f"documents/s  x JSONL {t / base:.2f}  peak RSS {rss:.0f} MB")
        same = {r["digest"] for results in runs.values() for r in results}
        print(f"the same documents from both: {len(same) == 1}")


if __name__ == "__main__":
    main()
