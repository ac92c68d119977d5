"""Gold entity mentions with cluster ids, from hand-written cluster lists (stdlib only).

    python corpora/resolution/build_gold.py          # writes demo_gold.jsonl, health_gold.jsonl
    python corpora/resolution/build_gold.py --check  # exit 1 if the committed files are stale

A cluster list (``demo_clusters.txt``, ``health_clusters.txt``) names, under ``@doc ID``, each
entity a document mentions as ``surface|TYPE|cluster[|occurrences]``. Every whole-word
occurrence of a surface is a mention (longest surfaces first, never overlapping a longer one;
``occurrences`` picks some of them, 1-based, when one string names two entities in a document).
A listed surface that does not occur is an error. Output: one document a line,
``{"id", "text", "mentions": [{"start", "end", "text", "label", "cluster"}]}`` (offsets in
characters, end exclusive), the input of ``benchmarks/bench_resolution.py``.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
RAW = HERE.parent / "raw"


def demo_texts() -> dict[str, str]:
    texts = {p.stem: p.read_text(encoding="utf-8").strip() for p in sorted(RAW.glob("*.txt"))}
    for line in (RAW / "more.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            doc = json.loads(line)
            texts[doc["id"]] = doc["text"]
    return texts


def health_texts() -> dict[str, str]:
    lines = (HERE / "health_docs.jsonl").read_text(encoding="utf-8").splitlines()
    return {d["id"]: d["text"] for d in map(json.loads, filter(str.strip, lines))}


def parse(path: Path) -> dict[str, list[tuple[str, str, str, set[int] | None]]]:
    out: dict[str, list[tuple[str, str, str, set[int] | None]]] = {}
    doc = None
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        if line.startswith("@doc "):
            doc = line[5:].strip()
            out[doc] = []
            continue
        parts = line.split("|")
        if doc is None or len(parts) not in (3, 4):
            sys.exit(f"{path.name}:{lineno}: expected 'surface|TYPE|cluster[|n,m]'")
        which = {int(x) for x in parts[3].split(",")} if len(parts) == 4 else None
        out[doc].append((parts[0], parts[1], parts[2], which))
    return out


def mentions(text: str, spec: list, where: str) -> list[dict]:
    taken: list[tuple[int, int]] = []
    found = []
    for surface, label, cluster, which in sorted(spec, key=lambda s: -len(s[0])):
        pattern = re.compile(r"(?<!\w)" + re.escape(surface) + r"(?!\w)")
        spans = [(m.start(), m.end()) for m in pattern.finditer(text)
                 if not any(s < m.end() and m.start() < e for s, e in taken)]
        if which is not None:
            spans = [sp for i, sp in enumerate(spans, 1) if i in which]
        if not spans:
            sys.exit(f"{where}: {surface!r} does not occur (or only inside a longer surface)")
        for s, e in spans:
            found.append({"start": s, "end": e, "text": surface, "label": label,
                          "cluster": cluster})
        taken.extend(spans)
    return sorted(found, key=lambda m: m["start"])


def build(clusters: str, texts: dict[str, str]) -> str:
    spec = parse(HERE / clusters)
    lines = []
    for doc, entries in spec.items():
        if doc not in texts:
            sys.exit(f"{clusters}: no document {doc!r}")
        lines.append(json.dumps({"id": doc, "text": texts[doc],
                                 "mentions": mentions(texts[doc], entries, f"{clusters} {doc}")},
                                ensure_ascii=False))
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()
    stale = []
    for clusters, out, texts in (("demo_clusters.txt", "demo_gold.jsonl", demo_texts()),
                                 ("health_clusters.txt", "health_gold.jsonl", health_texts())):
        data = build(clusters, texts)
        path = HERE / out
        if args.check:
            if not path.exists() or path.read_text(encoding="utf-8") != data:
                stale.append(out)
        else:
            path.write_text(data, encoding="utf-8")
            docs = data.splitlines()
            n = sum(len(json.loads(d)["mentions"]) for d in docs)
            print(f"{out}: {len(docs)} documents, {n} mentions")
    if stale:
        sys.exit(f"stale: {', '.join(stale)} (run corpora/resolution/build_gold.py)")


if __name__ == "__main__":
    main()
