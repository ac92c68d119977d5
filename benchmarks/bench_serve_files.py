"""`kgx serve` given files: the same documents sent as text, as PDF files (the body) and as Word
files (base64 in JSON): what a client gets back and what a file costs per request.

Each demo text (``corpora/raw``) is typeset as a one-column PDF (``eval_pdf``'s writer, as a
word processor leaves it: its lines hard-wrapped) and written as a ``.docx`` (``eval_docx``'s,
a paragraph per paragraph). One server (``kgx serve MODEL``) answers them one request at a time,
``--rounds`` times in turn; the script prints each way's median latency and its ratio to text,
and how many of the relations (head text, label, tail text) found in the text each file gives.

    python benchmarks/bench_serve_files.py --model training/demo/model-best --rounds 5
"""

from __future__ import annotations

import argparse
import base64
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_serve import ROOT, Server, small_pipeline  # noqa: E402
from eval_docx import docx_bytes, run  # noqa: E402
from eval_pdf import pdf_bytes, typeset  # noqa: E402


def requests_for(i: int, text: str) -> dict[str, tuple[dict, dict]]:
    """The three ways to send one document: (httpx keyword arguments, query params)."""
    paragraphs = [p for p in text.split("\n\n") if p.strip()]
    pages = [page[2:] for page in typeset(i, paragraphs, 1, False)]  # no header, no number
    docx = docx_bytes([run(p) for p in paragraphs])
    return {
        "text": ({"json": {"id": f"d{i}", "text": text}}, {}),
        "pdf, body": ({"content": pdf_bytes(pages),
                       "headers": {"content-type": "application/pdf"}}, {"id": f"d{i}"}),
        "docx, base64": ({"json": {"id": f"d{i}", "format": "docx",
                                   "content": base64.b64encode(docx).decode()}}, {}),
    }


def triples(answer: dict) -> set[tuple[str, str, str]]:
    (doc,) = answer["documents"]
    return {(" ".join(r["head"]["text"].split()), r["relation"],
             " ".join(r["tail"]["text"].split())) for r in doc["records"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-serve-files-"))
    model = args.model or small_pipeline(tmp / "model")
    texts = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "corpora/raw").glob("*.txt"))]
    ways = [requests_for(i, t) for i, t in enumerate(texts)]
    server = Server(model, "--max-text-chars", "1000000")
    latency: dict[str, list[float]] = {way: [] for way in ways[0]}
    found: dict[str, list[set]] = {way: [set() for _ in texts] for way in ways[0]}
    try:
        with httpx.Client(timeout=300) as http:
            for _ in range(args.rounds):
                for i, sends in enumerate(ways):
                    for way, (kwargs, params) in sends.items():
                        t0 = time.perf_counter()
                        r = http.post(server.url + "/v1/extract", params=params, **kwargs)
                        latency[way].append(time.perf_counter() - t0)
                        r.raise_for_status()
                        found[way][i] = triples(r.json())
    finally:
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    words = sum(len(t.split()) for t in texts)
    print(f"{len(texts)} documents, {words:,} words, {args.rounds} rounds, one request at a time")
    base = statistics.median(latency["text"])
    # eval_pdf's writer draws Latin-1 only (Helvetica, WinAnsi): other letters become "?"
    latin = [i for i, t in enumerate(texts) if all(ord(c) < 256 for c in t)]
    print(f"the PDF row counts the {len(latin)} documents in Latin-1 (the writer's fonts)")
    for way, values in latency.items():
        docs = latin if way.startswith("pdf") else range(len(texts))
        same = sum(len(found[way][i] & found["text"][i]) for i in docs)
        extra = sum(len(found[way][i] - found["text"][i]) for i in docs)
        total = sum(len(found["text"][i]) for i in docs)
        print(f"{way}: median {statistics.median(values) * 1000:.0f} ms a request "
              f"({statistics.median(values) / base:.2f}x text); relations of the text found "
              f"{same}/{total}, others {extra}")


if __name__ == "__main__":
    main()
