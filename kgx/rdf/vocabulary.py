"""The vocabulary mapping: entity types and relation labels → IRIs (``configs/vocab.toml``).

Unmapped types and labels fall back to the kgx namespace under the graph's base
(``{base}type/{label}``, ``{base}relation/{label}``). Relations may declare a domain and a
range, which the SHACL shapes (:mod:`kgx.rdf.shacl`) check.
"""

from __future__ import annotations

import json
import logging
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kgx.rdf.terms import IRI_BAD, STANDARD_PREFIXES, nt_iri, relation_iri, type_iri

log = logging.getLogger("kgx")

# the repository's mapping (configs/ sits beside the kgx package in a checkout)
DEFAULT_VOCAB = Path(__file__).resolve().parents[2] / "configs" / "vocab.toml"


@dataclass(frozen=True)
class RelationMapping:
    iri: str | None = None
    domain: str | None = None
    range: str | None = None


@dataclass
class Vocabulary:
    """Entity types and relation labels → IRIs, with the prefixes declared in outputs."""

    prefixes: dict[str, str] = field(default_factory=dict)
    types: dict[str, str] = field(default_factory=dict)
    relations: dict[str, RelationMapping] = field(default_factory=dict)
    source: str = "<built-in>"

    def expand(self, value: str, where: str) -> str:
        """A prefixed name or full IRI from the mapping file as a full IRI."""
        if not isinstance(value, str) or not value:
            raise ValueError(f"{self.source}: {where} must be a non-empty string, got {value!r}")
        prefix, sep, local = value.partition(":")
        if sep and not local.startswith("//"):
            ns = self.prefixes.get(prefix) or STANDARD_PREFIXES.get(prefix)
            if ns is not None:
                value = ns + local
            elif prefix not in ("http", "https", "urn"):
                raise ValueError(f"{self.source}: {where}: unknown prefix {prefix!r} in {value!r}")
        try:
            nt_iri(value)
        except ValueError as e:
            raise ValueError(f"{self.source}: {where}: {e}") from e
        return value

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "<dict>") -> Vocabulary:
        if not isinstance(data, dict):
            raise ValueError(f"{source}: a vocabulary must be an object/table")
        vocab = cls(source=source)
        prefixes = data.get("prefixes", {})
        if not isinstance(prefixes, dict):
            raise ValueError(f"{source}: [prefixes] must map names to namespace IRIs")
        for name, ns in prefixes.items():
            if not isinstance(ns, str) or IRI_BAD.search(ns) or ":" not in ns:
                raise ValueError(f"{source}: prefix {name!r}: {ns!r} is not a namespace IRI")
            vocab.prefixes[name] = ns
        types = data.get("types", {})
        if not isinstance(types, dict):
            raise ValueError(f"{source}: [types] must map entity types to class IRIs")
        for label, value in types.items():
            vocab.types[label] = vocab.expand(value, f"type {label!r}")
        relations = data.get("relations", {})
        if not isinstance(relations, dict):
            raise ValueError(f"{source}: [relations] must map relation labels to tables")
        for label, value in relations.items():
            if isinstance(value, str):
                value = {"iri": value}
            if not isinstance(value, dict) or set(value) - {"iri", "domain", "range"}:
                raise ValueError(f"{source}: relation {label!r} must be an IRI or a table with "
                                 "iri, domain, range")
            vocab.relations[label] = RelationMapping(
                **{k: vocab.expand(v, f"relation {label!r} {k}") for k, v in value.items()})
        return vocab

    @classmethod
    def from_file(cls, path: str | Path) -> Vocabulary:
        """Read a mapping file (``.toml`` or ``.json``)."""
        path = Path(path)
        try:
            raw = path.read_bytes()
        except OSError as e:
            raise ValueError(f"cannot read the vocabulary mapping {path}: {e}") from e
        try:
            if path.suffix == ".json":
                data = json.loads(raw.decode("utf-8"))
            elif path.suffix == ".toml":
                data = tomllib.loads(raw.decode("utf-8"))
            else:
                raise ValueError(f"{path}: a vocabulary mapping must be .toml or .json")
        except (json.JSONDecodeError, tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
            raise ValueError(f"vocabulary mapping {path} is not valid: {e}") from e
        return cls.from_dict(data, str(path))

    @classmethod
    def default(cls) -> Vocabulary:
        """The repository's configs/vocab.toml, or an empty mapping when it is not there."""
        if DEFAULT_VOCAB.is_file():
            return cls.from_file(DEFAULT_VOCAB)
        log.warning("no default vocabulary at %s: every type and relation stays in the kgx "
                    "namespace", DEFAULT_VOCAB)
        return cls()

    def class_for(self, base: str, type_label: str) -> str:
        return self.types.get(type_label) or type_iri(base, type_label)

    def predicate_for(self, base: str, label: str) -> str:
        mapped = self.relations.get(label)
        return (mapped.iri if mapped and mapped.iri else None) or relation_iri(base, label)

    def all_prefixes(self) -> dict[str, str]:
        return {**STANDARD_PREFIXES, **self.prefixes}
