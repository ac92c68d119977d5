"""Synthetic relation records for the graph and RDF benchmarks (deterministic for a seed).

Realistic in shape: ~50k distinct entities (PER/ORG/LOC) with Zipf-like popularity, surface
variants that the graph builder must merge ("Acme Corp" / "Acme Corp." / "the Acme Corp" /
"ACME CORP"), a few relation labels with typed heads and tails, ~5 records per document, and a
sentence text on each record, as ``kgx.records.doc_to_records`` writes them.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from itertools import accumulate
from pathlib import Path
from typing import Any

SYLLABLES = ["ka", "lo", "mi", "ren", "sa", "to", "vel", "dor", "an", "is", "bra", "ne", "qu",
             "ti", "mar", "zo", "el", "fin", "gra", "hu", "or", "pel", "ry", "sun", "wa", "xe"]
ORG_SUFFIXES = ["Corp", "Inc", "Group", "Labs", "Bank", "Systems", "Partners", "Holdings"]
SCHEMA = [  # (relation, head type, tail type, weight)
    ("Work_For", "PER", "ORG", 0.35),
    ("Live_In", "PER", "LOC", 0.25),
    ("OrgBased_In", "ORG", "LOC", 0.25),
    ("Located_In", "LOC", "LOC", 0.10),
    ("Kill", "PER", "PER", 0.05),
]


def _word(rng: random.Random, lo: int = 2, hi: int = 3) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(lo, hi))).capitalize()


def _entities(rng: random.Random, n_entities: int) -> dict[str, list[str]]:
    """Distinct canonical names per type (PER 40%, ORG 35%, LOC 25%)."""
    shares = {"PER": 0.40, "ORG": 0.35, "LOC": 0.25}
    out: dict[str, list[str]] = {}
    seen: set[str] = set()
    for type_, share in shares.items():
        names: list[str] = []
        while len(names) < int(n_entities * share):
            if type_ == "PER":
                name = f"{_word(rng)} {_word(rng)}"
            elif type_ == "ORG":
                name = f"{_word(rng)} {rng.choice(ORG_SUFFIXES)}"
            else:
                name = _word(rng, 2, 4)
            if name.casefold() not in seen:
                seen.add(name.casefold())
                names.append(name)
        out[type_] = names
    return out


def _variant(rng: random.Random, name: str, type_: str) -> str:
    """A surface form of ``name``: usually the name itself, sometimes a mergeable variant."""
    r = rng.random()
    if r < 0.80:
        return name
    if r < 0.87:
        return name.upper()
    if type_ == "ORG":
        return f"the {name}" if r < 0.94 else f"{name}."
    return f"{name}'s" if r < 0.94 else f" {name} "


def synthetic_records(
    n: int, seed: int = 0, n_entities: int = 50_000, records_per_doc: int = 5
) -> Iterator[dict[str, Any]]:
    """``n`` relation records (DESIGN.md contract plus ``sentence``), deterministic for ``seed``."""
    rng = random.Random(seed)
    entities = _entities(rng, n_entities)
    cum = {t: list(accumulate(1.0 / (i + 1) ** 0.9 for i in range(len(names))))
           for t, names in entities.items()}
    labels = [s[:3] for s in SCHEMA]
    label_cum = list(accumulate(s[3] for s in SCHEMA))
    made = 0
    doc = 0
    while made < n:
        doc_id = f"doc-{seed}-{doc:08d}"
        doc += 1
        k = min(n - made, max(1, int(rng.expovariate(1 / records_per_doc)) + 1))
        pos = 0
        for _ in range(k):
            label, ht, tt = rng.choices(labels, cum_weights=label_cum)[0]
            head = rng.choices(entities[ht], cum_weights=cum[ht])[0]
            tail = rng.choices(entities[tt], cum_weights=cum[tt])[0]
            if head == tail:
                continue
            h_text, t_text = _variant(rng, head, ht), _variant(rng, tail, tt)
            sentence = f"{h_text} has a {label.replace('_', ' ').lower()} link with {t_text}."
            h_start = pos
            t_start = pos + len(sentence) - len(t_text) - 1
            yield {
                "doc_id": doc_id,
                "head": {"text": h_text, "label": ht, "start_char": h_start,
                         "end_char": h_start + len(h_text)},
                "relation": label,
                "tail": {"text": t_text, "label": tt, "start_char": t_start,
                         "end_char": t_start + len(t_text)},
                "score": round(0.3 + 0.7 * rng.betavariate(4, 2), 4),
                "sent_start_char": pos,
                "sent_end_char": pos + len(sentence),
                "model": "en_kgx_synth@0.1.0",
                "sentence": sentence,
            }
            made += 1
            pos += len(sentence) + 1


def write_run_dir(
    run_dir: str | Path, n: int, seed: int = 0, shard_size: int = 50_000
) -> list[Path]:
    """Write ``n`` synthetic records as ``run_dir/relations/shard-*.jsonl`` (a batch run layout).

    Documents never straddle shards, as in ``kgx extract`` output.
    """
    rel = Path(run_dir) / "relations"
    rel.mkdir(parents=True, exist_ok=True)
    shards: list[Path] = []
    fh = None
    count = 0
    last_doc = None
    for rec in synthetic_records(n, seed):
        if fh is None or (count >= shard_size and rec["doc_id"] != last_doc):
            if fh is not None:
                fh.close()
            shards.append(rel / f"shard-{len(shards):05d}.jsonl")
            fh = shards[-1].open("w", encoding="utf-8")
            count = 0
        fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
        count += 1
        last_doc = rec["doc_id"]
    if fh is not None:
        fh.close()
    return shards
