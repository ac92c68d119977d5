"""Alias tables: alias → canonical name, globally or per entity type (``--alias-table``)."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kgx.graph.normalize import NormalizationConfig, normalize_name

log = logging.getLogger("kgx")


@dataclass
class AliasTable:
    """Alias → canonical name, globally or for one entity type; keys are normalised on lookup.

    Files: JSON ``{"alias": "canonical", "TYPE": {"alias": "canonical"}}`` (a dict value is a
    per-type table) or a list of ``{"alias", "canonical", "type"?}`` objects; or TSV lines
    ``alias<TAB>canonical[<TAB>type]`` (``#`` comments and a header line ``alias…`` are skipped).
    """

    entries: dict[tuple[str | None, str], str] = field(default_factory=dict)
    source: str = ""

    def add(self, alias: str, canonical: str, type: str | None = None) -> None:
        self.entries[(type or None, alias)] = canonical

    def compiled(self, config: NormalizationConfig) -> dict[tuple[str | None, str], str]:
        """Normalised alias → canonical name (the builder normalises the canonical name itself)."""
        return {(t, normalize_name(a, config)): c for (t, a), c in self.entries.items()}

    @classmethod
    def from_file(cls, path: str | Path) -> AliasTable:
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as e:
            raise ValueError(f"cannot read the alias table {path}: {e}") from e
        table = cls(source=str(path))
        if path.suffix.lower() == ".json":
            try:
                data = json.loads(text)
            except json.JSONDecodeError as e:
                raise ValueError(f"alias table {path}: invalid JSON: {e}") from e
            table._add_json(data, path)
        else:
            for lineno, line in enumerate(text.splitlines(), 1):
                if not line.strip() or line.lstrip().startswith("#"):
                    continue
                cols = [c.strip() for c in line.split("\t")]
                if lineno == 1 and cols[0].casefold() == "alias":
                    continue
                if len(cols) not in (2, 3) or not cols[0] or not cols[1]:
                    raise ValueError(
                        f"alias table {path}, line {lineno}: expected 'alias<TAB>canonical"
                        f"[<TAB>type]', got {line!r}"
                    )
                table.add(cols[0], cols[1], cols[2] if len(cols) == 3 and cols[2] else None)
        log.info("alias table %s: %d entries", path, len(table.entries))
        return table

    def _add_json(self, data: Any, path: Path) -> None:
        if isinstance(data, list):
            for i, item in enumerate(data):
                if not (isinstance(item, dict) and isinstance(item.get("alias"), str)
                        and isinstance(item.get("canonical"), str)):
                    raise ValueError(
                        f"alias table {path}: item {i} must be an object with string 'alias' "
                        f"and 'canonical' (and optionally 'type'), got {item!r}"
                    )
                self.add(item["alias"], item["canonical"], item.get("type"))
            return
        if not isinstance(data, dict):
            raise ValueError(f"alias table {path}: expected a JSON object or list")
        for key, value in data.items():
            if isinstance(value, str):
                self.add(key, value)
            elif isinstance(value, dict) and all(isinstance(v, str) for v in value.values()):
                for alias, canonical in value.items():
                    self.add(alias, canonical, key)
            else:
                raise ValueError(
                    f"alias table {path}: value for {key!r} must be a canonical name or a "
                    f"per-type object of alias → canonical name"
                )
