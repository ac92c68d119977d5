"""Build the annotated demo corpus: ``corpora/demo/source.txt`` -> ``train.jsonl`` + ``dev.jsonl``.

The source is the human-editable truth; the JSONL files are generated from it (and committed, so
the demo runs without a build). Standard library only and deterministic: the same source always
gives byte-identical output. The markup is documented in ``corpora/README.md``:

- documents are blocks separated by blank lines; lines starting with ``#`` are comments;
- an optional first line ``@id NAME`` names the document (default ``demo-NNN``, its 1-based
  position in the file);
- every other plain line is one sentence; a document's text is its sentences joined by one space;
- entities are written inline as ``[surface text](LABEL:id)``, ids unique within the document;
- relations are lines ``@rel HEAD_ID Label TAIL_ID ; HEAD_ID Label TAIL_ID ...`` anywhere in
  the block.

Every problem raises :class:`SourceError` carrying the source file and line number.

Usage: ``python corpora/build_demo.py [--source S] [--out-dir D] [--stats] [--check]``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger("kgx")

HERE = Path(__file__).resolve().parent
DEFAULT_SOURCE = HERE / "demo" / "source.txt"
DEFAULT_OUT = HERE / "demo"

ENTITY_TYPES = ("PER", "ORG", "LOC")
# relation label -> (head type, tail type); CoNLL04's labels, so a CoNLL04 model maps onto them
RELATION_TYPES: dict[str, tuple[str, str]] = {
    "Work_For": ("PER", "ORG"),
    "Live_In": ("PER", "LOC"),
    "Located_In": ("LOC", "LOC"),
    "OrgBased_In": ("ORG", "LOC"),
}
DEV_PERCENT = 20  # documents whose id hashes into the lowest 20 of 100 buckets go to dev

_MENTION = re.compile(r"\[([^\[\]()]+)\]\(([^():\s]*):([^()\s]*)\)")
_ID = re.compile(r"^[A-Za-z0-9_\-]+$")


class SourceError(ValueError):
    """A malformed source line; the message starts with ``file:line:``."""

    def __init__(self, path: Path | str, line: int, message: str) -> None:
        super().__init__(f"{path}:{line}: {message}")
        self.path, self.line, self.message = str(path), line, message


@dataclass
class Entity:
    start: int
    end: int
    label: str
    ident: str
    text: str
    line: int


@dataclass
class Document:
    id: str
    line: int  # first line of the block
    sentences: list[str] = field(default_factory=list)
    entities: list[Entity] = field(default_factory=list)
    relations: list[tuple[int, int, str]] = field(default_factory=list)

    @property
    def text(self) -> str:
        return " ".join(self.sentences)

    def to_record(self) -> dict:
        return {
            "id": self.id,
            "text": self.text,
            "entities": [{"start": e.start, "end": e.end, "label": e.label}
                         for e in self.entities],
            "relations": [{"head": h, "tail": t, "label": lab} for h, t, lab in self.relations],
        }


def _parse_sentence(raw: str, offset: int, path: Path | str, line: int,
                    doc: Document) -> str:
    """Strip the markup of one sentence, appending its entities (``offset`` = chars before it)."""
    out: list[str] = []
    pos = 0
    for m in _MENTION.finditer(raw):
        plain = raw[pos:m.start()]
        _check_plain(plain, path, line)
        out.append(plain)
        surface, label, ident = m.group(1), m.group(2), m.group(3)
        if label not in ENTITY_TYPES:
            raise SourceError(path, line, f"unknown entity label {label!r} on {surface!r} "
                                          f"(expected one of {', '.join(ENTITY_TYPES)})")
        if not _ID.match(ident):
            raise SourceError(path, line, f"bad entity id {ident!r} on {surface!r} "
                                          "(letters, digits, '_' and '-' only)")
        if surface != surface.strip():
            raise SourceError(path, line, f"entity {surface!r} starts or ends with whitespace")
        if any(e.ident == ident for e in doc.entities):
            first = next(e for e in doc.entities if e.ident == ident)
            raise SourceError(path, line, f"entity id {ident!r} is used twice in this document "
                                          f"(first on line {first.line})")
        start = offset + sum(len(s) for s in out)
        doc.entities.append(Entity(start, start + len(surface), label, ident, surface, line))
        out.append(surface)
        pos = m.end()
    rest = raw[pos:]
    _check_plain(rest, path, line)
    out.append(rest)
    return "".join(out)


def _check_plain(text: str, path: Path | str, line: int) -> None:
    """Brackets left outside a well-formed mention mean broken or nested (overlapping) markup."""
    for ch in "[]":
        if ch in text:
            raise SourceError(path, line, f"stray {ch!r} near {text.strip()[:40]!r}: malformed or "
                                          "nested entity markup (spans may not overlap; write "
                                          "[surface](LABEL:id))")


def _parse_relations(body: str, path: Path | str, line: int,
                     pending: list[tuple[str, str, str, int]]) -> None:
    for part in body.split(";"):
        fields = part.split()
        if not fields:
            continue
        if len(fields) != 3:
            raise SourceError(path, line, f"relation {part.strip()!r} must be 'HEAD_ID Label "
                                          "TAIL_ID'")
        head, label, tail = fields
        if label not in RELATION_TYPES:
            raise SourceError(path, line, f"unknown relation label {label!r} (expected one of "
                                          f"{', '.join(RELATION_TYPES)})")
        pending.append((head, label, tail, line))


def _finish(doc: Document, pending: list[tuple[str, str, str, int]], path: Path | str) -> None:
    if not doc.sentences:
        raise SourceError(path, doc.line, f"document {doc.id!r} has no sentences")
    index = {e.ident: k for k, e in enumerate(doc.entities)}
    seen: set[tuple[int, int]] = set()
    for head, label, tail, line in pending:
        for ident in (head, tail):
            if ident not in index:
                known = ", ".join(sorted(index)) or "none"
                raise SourceError(path, line, f"unknown entity id {ident!r} in relation "
                                              f"{head} {label} {tail} (ids here: {known})")
        h, t = index[head], index[tail]
        if h == t:
            raise SourceError(path, line, f"relation {head} {label} {tail} links an entity "
                                          "to itself")
        want = RELATION_TYPES[label]
        got = (doc.entities[h].label, doc.entities[t].label)
        if got != want:
            raise SourceError(path, line, f"relation {head} {label} {tail} must be "
                                          f"{want[0]} -> {want[1]}, got {got[0]} -> {got[1]} "
                                          f"({doc.entities[h].text!r} -> {doc.entities[t].text!r})")
        if (h, t) in seen:
            raise SourceError(path, line, f"a second relation between {head} and {tail}")
        seen.add((h, t))
        doc.relations.append((h, t, label))


def parse_source(path: Path | str) -> list[Document]:
    """Parse and validate a source file; raises :class:`SourceError` at the first problem."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as e:
        raise SourceError(path, 0, f"cannot read the source: {e.strerror}") from e
    docs: list[Document] = []
    ids: dict[str, int] = {}
    doc: Document | None = None
    pending: list[tuple[str, str, str, int]] = []
    for n, raw in enumerate(lines + [""], start=1):
        line = raw.strip()
        if line.startswith("#"):
            continue
        if not line:
            if doc is not None:
                _finish(doc, pending, path)
                docs.append(doc)
                doc, pending = None, []
            continue
        if doc is None:
            doc = Document(id=f"demo-{len(docs) + 1:03d}", line=n)
            if line.startswith("@id"):
                name = line[3:].strip()
                if not _ID.match(name):
                    raise SourceError(path, n, f"bad document id {name!r}")
                doc.id = name
                line = ""
            if doc.id in ids:
                raise SourceError(path, n, f"document id {doc.id!r} already used on line "
                                           f"{ids[doc.id]}")
            ids[doc.id] = n
            if not line:
                continue
        if line.startswith("@rel"):
            _parse_relations(line[4:], path, n, pending)
        elif line.startswith("@"):
            raise SourceError(path, n, f"unknown directive {line.split()[0]!r} (@id and @rel "
                                       "exist; @id only as a document's first line)")
        else:
            offset = len(doc.text) + (1 if doc.sentences else 0)
            doc.sentences.append(_parse_sentence(line, offset, path, n, doc))
    if not docs:
        raise SourceError(path, len(lines), "no documents found")
    return docs


def is_dev(doc_id: str) -> bool:
    """Deterministic split by document: a stable hash of the id, independent of file order."""
    bucket = int(hashlib.sha256(doc_id.encode("utf-8")).hexdigest(), 16) % 100
    return bucket < DEV_PERCENT


def render(docs: list[Document]) -> dict[str, str]:
    """The file contents, keyed by file name."""
    out: dict[str, list[str]] = {"train.jsonl": [], "dev.jsonl": []}
    for doc in docs:
        name = "dev.jsonl" if is_dev(doc.id) else "train.jsonl"
        out[name].append(json.dumps(doc.to_record(), ensure_ascii=False))
    return {name: "\n".join(rows) + "\n" for name, rows in out.items()}


def build(source: Path | str = DEFAULT_SOURCE, out_dir: Path | str = DEFAULT_OUT) -> list[Path]:
    """Parse, validate and write train.jsonl and dev.jsonl into ``out_dir``."""
    files = render(parse_source(source))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in files.items():
        (out / name).write_text(content, encoding="utf-8")
        written.append(out / name)
    return written


def stats(docs: list[Document]) -> str:
    """Counts per split, entity type and relation label, as a plain-text table."""
    rows = []
    splits = {"train": [d for d in docs if not is_dev(d.id)],
              "dev": [d for d in docs if is_dev(d.id)], "total": docs}
    head = f"{'':<22}" + "".join(f"{s:>8}" for s in splits)
    rows.append(head)

    def add(name: str, fn) -> None:
        rows.append(f"{name:<22}" + "".join(f"{fn(ds):>8}" for ds in splits.values()))

    add("documents", len)
    add("sentences", lambda ds: sum(len(d.sentences) for d in ds))
    add("entities", lambda ds: sum(len(d.entities) for d in ds))
    for lab in ENTITY_TYPES:
        add(f"  {lab}", lambda ds, lab=lab: sum(e.label == lab for d in ds for e in d.entities))
    add("relations", lambda ds: sum(len(d.relations) for d in ds))
    for lab in RELATION_TYPES:
        add(f"  {lab}", lambda ds, lab=lab: sum(r[2] == lab for d in ds for r in d.relations))

    def cross(ds: list[Document]) -> int:
        return sum(d.entities[h].line != d.entities[t].line for d in ds for h, t, _ in d.relations)

    add("  cross-sentence", cross)
    add("docs without relations", lambda ds: sum(not d.relations for d in ds))
    per_doc = Counter(s for d in docs for s in {e.text for e in d.entities})
    shared = sum(1 for n in per_doc.values() if n > 1)
    rows.append(f"distinct entity strings: {len(per_doc)}; in 2+ documents: {shared}")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    ap.add_argument("--out-dir", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--stats", action="store_true", help="print counts instead of writing files")
    ap.add_argument("--check", action="store_true",
                    help="exit 1 if the JSONL files in --out-dir differ from a fresh build")
    args = ap.parse_args(argv)
    try:
        docs = parse_source(args.source)
    except SourceError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if args.stats:
        print(stats(docs))
        return 0
    files = render(docs)
    if args.check:
        stale = [n for n, c in files.items() if not (args.out_dir / n).is_file()
                 or (args.out_dir / n).read_text(encoding="utf-8") != c]
        if stale:
            print(f"out of date: {', '.join(stale)} (run python corpora/build_demo.py)",
                  file=sys.stderr)
            return 1
        print("up to date")
        return 0
    args.out_dir.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (args.out_dir / name).write_text(content, encoding="utf-8")
        print(f"wrote {args.out_dir / name} ({content.count(chr(10))} documents)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
