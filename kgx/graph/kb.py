"""A knowledge base the user has: an alias/ID table (``--kb``) that links names to ids.

CSV (header ``id,name,aliases,type``; aliases separated by ``|``) or JSONL (one object a line
with ``id``, ``name``, ``aliases`` (a list or a ``|``-separated string) and ``type``). Every
name and alias of an entry resolves to the entry's name, and the node carries the entry's id
(``kb_id``), which the RDF export states as ``owl:sameAs``/``schema:sameAs`` (an id that is not
an absolute IRI is written under ``{base}kb/``). An alias two entries of one type share links
to neither.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kgx.graph.names import entity_key
from kgx.graph.normalize import NormalizationConfig, normalize_name

log = logging.getLogger("kgx")


@dataclass
class KBEntry:
    id: str
    name: str
    type: str
    aliases: list[str] = field(default_factory=list)


@dataclass
class KnowledgeBase:
    entries: list[KBEntry] = field(default_factory=list)
    source: str = ""

    def compiled(self, config: NormalizationConfig) -> dict[tuple[str, str], tuple[str, str]]:
        """``(type, key)`` of every name and alias → ``(id, key of the entry's name)``."""
        out: dict[tuple[str, str], tuple[str, str]] = {}
        clash: set[tuple[str, str]] = set()
        for e in self.entries:
            target = entity_key(normalize_name(e.name, config), e.type)[0]
            for form in (e.name, *e.aliases):
                key = (e.type, entity_key(normalize_name(form, config), e.type)[0])
                if key in out and out[key][0] != e.id:
                    clash.add(key)
                out[key] = (e.id, target)
        for key in clash:
            log.warning("knowledge base %s: %r names two entries; it links to neither",
                        self.source, key[1])
            del out[key]
        return out

    @classmethod
    def from_file(cls, path: str | Path) -> KnowledgeBase:
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as e:
            raise ValueError(f"cannot read the knowledge base {path}: {e}") from e
        kb = cls(source=str(path))
        rows: list[tuple[int, dict[str, Any]]] = []
        if path.suffix.lower() in (".jsonl", ".json"):
            for lineno, line in enumerate(text.splitlines(), 1):
                if line.strip():
                    try:
                        rows.append((lineno, json.loads(line)))
                    except json.JSONDecodeError as e:
                        raise ValueError(f"knowledge base {path}, line {lineno}: {e}") from e
        else:
            rows = [(i + 2, dict(r)) for i, r in enumerate(csv.DictReader(io.StringIO(text)))]
        for lineno, row in rows:
            if not isinstance(row, dict) or not all(
                    isinstance(row.get(k), str) and row[k].strip() for k in ("id", "name", "type")):
                raise ValueError(f"knowledge base {path}, line {lineno}: needs string 'id', "
                                 f"'name' and 'type', got {row!r}")
            aliases = row.get("aliases") or []
            if isinstance(aliases, str):
                aliases = [a.strip() for a in aliases.split("|") if a.strip()]
            if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
                raise ValueError(f"knowledge base {path}, line {lineno}: 'aliases' must be a "
                                 "list of strings or a '|'-separated string")
            kb.entries.append(KBEntry(row["id"].strip(), row["name"].strip(),
                                      row["type"].strip(), aliases))
        log.info("knowledge base %s: %d entries", path, len(kb.entries))
        return kb
