"""The vocabulary mapping: entity types and relation labels → IRIs.

The default mapping is package data (``kgx/data/vocab.toml``, read through
``importlib.resources``), so an installed kgx (a wheel, a packaged pipeline's environment, a
Dask worker) maps types exactly as a checkout does; ``--vocab FILE`` replaces it (start from a
copy of that file).

Unmapped types and labels fall back to the kgx namespace under the graph's base
(``{base}type/{label}``, ``{base}relation/{label}``). Relations may declare a domain and a
range, which the SHACL shapes (:mod:`kgx.rdf.shacl`) check.
"""

from __future__ import annotations

import json
import logging
import tomllib
from dataclasses import dataclass, field
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from kgx.rdf.terms import IRI_BAD, STANDARD_PREFIXES, nt_iri, relation_iri, type_iri

log = logging.getLogger("kgx")

#: the default mapping, shipped inside the package
DEFAULT_VOCAB = files("kgx") / "data" / "vocab.toml"


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
    def from_file(cls, path: str | Path | Traversable) -> Vocabulary:
        """Read a mapping file (``.toml`` or ``.json``; a path or a package resource)."""
        name = path.name if isinstance(path, Traversable) else Path(path).name
        source = str(path)
        try:
            raw = path.read_bytes() if isinstance(path, Traversable) else Path(path).read_bytes()
        except OSError as e:
            raise ValueError(f"cannot read the vocabulary mapping {source}: {e}") from e
        try:
            if name.endswith(".json"):
                data = json.loads(raw.decode("utf-8"))
            elif name.endswith(".toml"):
                data = tomllib.loads(raw.decode("utf-8"))
            else:
                raise ValueError(f"{source}: a vocabulary mapping must be .toml or .json")
        except (json.JSONDecodeError, tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
            raise ValueError(f"vocabulary mapping {source} is not valid: {e}") from e
        return cls.from_dict(data, source)

    @classmethod
    def default(cls) -> Vocabulary:
        """The mapping shipped with kgx (``kgx/data/vocab.toml``, package data)."""
        return cls.from_file(DEFAULT_VOCAB)

    def class_for(self, base: str, type_label: str) -> str:
        return self.types.get(type_label) or type_iri(base, type_label)

    def predicate_for(self, base: str, label: str) -> str:
        mapped = self.relations.get(label)
        return (mapped.iri if mapped and mapped.iri else None) or relation_iri(base, label)

    def all_prefixes(self) -> dict[str, str]:
        return {**STANDARD_PREFIXES, **self.prefixes}
