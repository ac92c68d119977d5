"""Relation records → a NetworkX ``MultiDiGraph``: entity merging, incremental updates, ranking.

The graph contract (DESIGN.md, "Graph"): one node per real-world entity keyed by its IRI
(:func:`entity_iri`), one edge per (head, relation, tail) keyed by the relation label, with the
evidence that supports it.

Score aggregation
    An edge's ``score`` is a noisy-or over *documents*: for each document take the maximum score
    of its evidence for that edge (several mentions in one document are not independent
    observations: the same author, often the same sentence paraphrased), then
    ``score = 1 - prod(1 - s_doc)``. One confident document gives its own score; independent
    documents agreeing raise it towards 1; it never exceeds 1 and never falls below the best
    single document. ``count`` is the number of evidence items (distinct head/tail spans).

Entity merging
    Mentions merge when their normalised names are equal (:class:`NormalizationConfig`: NFKC,
    whitespace, casefold, possessive ``'s``, punctuation, leading articles) or when an alias table
    maps them to the same canonical name. Different entity types never merge unless
    ``merge_across_types`` is set; the node then keeps the type under which it was first created.
    Every surface form → node decision is recorded with the rules that applied
    (:meth:`GraphBuilder.merge_log`).

Incremental, idempotent updates
    Records are added per call of :meth:`GraphBuilder.add_records`; a document already in the
    graph before the call is *replaced* by that call's records of it (its old evidence, mentions
    and aliases go; nodes and edges supported only by it disappear). Adding the same records
    twice therefore changes nothing, and evidence repeated inside one call is counted once. The
    per-document index that makes this possible lives in ``G.graph["kgx_doc_index"]`` (document
    → the nodes it mentions with their surface-form counts, and the edges it supports), so it
    survives save/load. Evidence lists are kept sorted, so the graph does not depend on the order
    in which records arrive.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import os
import re
import unicodedata
from bisect import bisect_left
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import quote

import networkx as nx

from kgx import __version__ as KGX_VERSION

log = logging.getLogger("kgx")

DEFAULT_BASE = "http://kgx.example.org/"
DOC_INDEX = "kgx_doc_index"
NORM_KEY = "kgx_normalization"
JSON_ATTRS_KEY = "kgx_json_attributes"

EVIDENCE_FIELDS = (
    "doc_id", "head_start", "head_end", "tail_start", "tail_end", "sent_start", "sent_end",
    "score", "model", "head_text", "tail_text",
)


# --- normalisation ---------------------------------------------------------------------------


@dataclass(frozen=True)
class NormalizationConfig:
    """How surface forms are normalised before entities merge. Each step can be switched off.

    Steps run in this order, and the merge log names each one that changed a form: ``nfkc``
    (Unicode compatibility forms: full-width letters, ligatures), ``whitespace`` (runs
    collapsed, ends stripped), ``casefold``, ``possessive`` (a trailing ``'s``/``’s`` or ``s'``),
    ``punctuation``
    (dashes and slashes become spaces, other punctuation is dropped: ``Acme Corp.`` → ``acme corp``,
    ``U.S.`` → ``us``), ``article`` (one leading article from ``articles``, only if a word remains).
    """

    casefold: bool = True
    whitespace: bool = True
    unicode_nfkc: bool = True
    punctuation: bool = True
    strip_articles: bool = True
    articles: tuple[str, ...] = ("the", "a", "an")
    possessive: bool = True
    merge_across_types: bool = False

    @cached_property
    def article_set(self) -> frozenset[str]:
        return frozenset(a.casefold() for a in self.articles)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> NormalizationConfig:
        known = {f for f in cls.__dataclass_fields__}
        clean = {k: v for k, v in data.items() if k in known}
        if "articles" in clean:
            clean["articles"] = tuple(clean["articles"])
        return cls(**clean)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["articles"] = list(self.articles)
        return data


_WS = re.compile(r"\s+")
_POSSESSIVE = re.compile(r"(?:(?<=\S)['’]s|(?<=s)['’])$", re.IGNORECASE)


def _strip_punctuation(text: str) -> str:
    out = []
    for ch in text:
        cat = unicodedata.category(ch)
        if cat in ("Pd", "Pc") or ch in "/\\":
            out.append(" ")
        elif cat.startswith("P"):
            continue
        else:
            out.append(ch)
    return "".join(out)


def explain_normalization(text: str, config: NormalizationConfig) -> tuple[str, list[str]]:
    """The normalised form of ``text`` and the names of the steps that changed it."""
    rules: list[str] = []

    def step(name: str, value: str) -> str:
        nonlocal text
        if value != text:
            rules.append(name)
            text = value
        return text

    if config.unicode_nfkc:
        step("nfkc", unicodedata.normalize("NFKC", text))
    if config.whitespace:
        step("whitespace", _WS.sub(" ", text).strip())
    if config.casefold:
        step("casefold", text.casefold())
    if config.possessive:
        step("possessive", _POSSESSIVE.sub("", text).rstrip())
    if config.punctuation:
        value = _strip_punctuation(text)
        step("punctuation", _WS.sub(" ", value).strip() if config.whitespace else value)
    if config.strip_articles and config.articles:
        words = text.split(" ", 1)
        if len(words) == 2 and words[1].strip() and words[0].casefold() in config.article_set:
            step("article", words[1].strip())
    return text, rules


def normalize_name(text: str, config: NormalizationConfig | None = None) -> str:
    """The normalised form of an entity name (the identity entities merge on)."""
    return explain_normalization(text, config or NormalizationConfig())[0]


# --- IRIs ------------------------------------------------------------------------------------


def normalize_base(base: str | None) -> str:
    """The base IRI, always ending with ``/``; a clear error for something that is not an IRI."""
    base = (base or DEFAULT_BASE).strip()
    if not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$", base):
        raise ValueError(f"base IRI {base!r} is not an absolute IRI (e.g. {DEFAULT_BASE})")
    return base if base.endswith("/") else base + "/"


def _ascii_words(text: str) -> list[str]:
    folded = unicodedata.normalize("NFKD", text)
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    return re.findall(r"[a-z0-9]+", folded.lower())


def entity_iri(base: str, type: str, normalised_name: str) -> str:
    """The IRI of an entity: ``{base}entity/{type}/{slug}``, the one place entity IRIs are minted.

    The slug is the normalised name's lowercase ASCII letters/digits joined by ``-`` when that
    spells the name exactly (words separated by single spaces). Otherwise (non-ASCII letters,
    symbols such as emoji, upper case or punctuation kept by the normalisation, no ASCII letter
    or digit) a readable ASCII part (accents folded; ``entity`` when nothing is left) is followed
    by ``-`` and the first 12 hex digits of the SHA-1 of the normalised name, so distinct names
    never share an IRI.
    """
    base = base if base.endswith("/") else base + "/"
    words = re.findall(r"[a-z0-9]+", normalised_name)
    if words and " ".join(words) == normalised_name:
        slug = "-".join(words)
    else:
        readable = "-".join(_ascii_words(normalised_name)) or "entity"
        digest = hashlib.sha1(normalised_name.encode("utf-8")).hexdigest()[:12]
        slug = f"{readable}-{digest}"
    return f"{base}entity/{quote(type, safe='-_.~')}/{slug}"


# --- alias tables ----------------------------------------------------------------------------


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


# --- records ---------------------------------------------------------------------------------


class RecordError(ValueError):
    """A relation record that does not follow the contract (DESIGN.md)."""


def _span(rec: dict[str, Any], side: str) -> dict[str, Any]:
    span = rec.get(side)
    if not isinstance(span, dict):
        raise RecordError(f"'{side}' must be an object with text, label, start_char, end_char")
    text, label = span.get("text"), span.get("label")
    if not isinstance(text, str) or not text.strip():
        raise RecordError(f"'{side}.text' must be a non-empty string")
    if not isinstance(label, str) or not label:
        raise RecordError(f"'{side}.label' must be a non-empty string")
    start, end = span.get("start_char"), span.get("end_char")
    if not (isinstance(start, int) and isinstance(end, int)) or isinstance(start, bool):
        raise RecordError(f"'{side}.start_char'/'end_char' must be integers")
    return span


def validate_record(rec: Any) -> dict[str, Any]:
    """Check one relation record; raise :class:`RecordError` saying what is wrong."""
    if not isinstance(rec, dict):
        raise RecordError(f"a record must be a JSON object, got {type(rec).__name__}")
    doc_id = rec.get("doc_id")
    if not isinstance(doc_id, str) or not doc_id:
        raise RecordError("'doc_id' must be a non-empty string")
    relation = rec.get("relation")
    if not isinstance(relation, str) or not relation:
        raise RecordError("'relation' must be a non-empty string")
    _span(rec, "head")
    _span(rec, "tail")
    score = rec.get("score")
    if isinstance(score, bool) or not isinstance(score, int | float) or not 0.0 <= score <= 1.0:
        raise RecordError(f"'score' must be a number in [0, 1], got {score!r}")
    for key in ("sent_start_char", "sent_end_char"):
        if key in rec and not isinstance(rec[key], int):
            raise RecordError(f"'{key}' must be an integer")
    return rec


@dataclass
class ReadError:
    """One malformed input line: where, and what is wrong with it."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


def _report(err: ReadError, errors: list[ReadError] | None) -> None:
    """Collect a malformed line for the caller to report, or log it when nobody collects."""
    if errors is None:
        log.warning("%s", err)
    else:
        log.debug("%s", err)
        errors.append(err)


def _open_text(path: Path):
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8")
    return path.open(encoding="utf-8")


def read_jsonl(path: str | Path, errors: list[ReadError] | None = None) -> Iterator[dict[str, Any]]:
    """Valid records of one JSONL file (``.gz`` too); malformed lines go to ``errors``, skipped."""
    path = Path(path)
    with _open_text(path) as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                yield validate_record(json.loads(line))
            except (json.JSONDecodeError, RecordError) as e:
                err = ReadError(str(path), lineno, f"malformed record: {e}")
                _report(err, errors)


def run_shards(run_dir: str | Path) -> list[Path]:
    """The relation shards of a run directory (``relations/*.jsonl[.gz]``, never ``*.tmp``)."""
    rel = Path(run_dir) / "relations"
    if not rel.is_dir():
        raise ValueError(f"{run_dir} is not a run directory: it has no relations/ folder")
    return sorted(
        p for p in rel.iterdir()
        if p.is_file() and (p.name.endswith(".jsonl") or p.name.endswith(".jsonl.gz"))
    )


def iter_input_records(
    path: str | Path, errors: list[ReadError] | None = None
) -> Iterator[dict[str, Any]]:
    """Records of a run directory or a ``.jsonl``/``.jsonl.gz`` file.

    For a run directory with a ``manifest.jsonl`` (written by ``kgx extract``), only each
    document's current records are read: those in the shard its last manifest line names, as
    ``kgx.batch.iter_run_records`` defines them. The shards are read here rather than through
    that function so that a malformed line is reported with its file and line and skipped
    instead of ending the whole build. Without a manifest every shard is read, in name order.
    """
    path = Path(path)
    if path.is_dir():
        if (path / "manifest.jsonl").is_file():
            from kgx.batch import current_shards

            where = current_shards(path)
            wanted = set(where.values())
            for shard in run_shards(path):
                if shard.name in wanted:
                    for rec in read_jsonl(shard, errors):
                        if where.get(rec["doc_id"]) == shard.name:
                            yield rec
            return
        for shard in run_shards(path):
            yield from read_jsonl(shard, errors)
    elif path.is_file():
        if not (path.name.endswith(".jsonl") or path.name.endswith(".jsonl.gz")):
            raise ValueError(f"{path}: expected a run directory or a .jsonl / .jsonl.gz file")
        yield from read_jsonl(path, errors)
    else:
        raise ValueError(f"no such input: {path}")


# --- the builder -----------------------------------------------------------------------------


def new_graph(base: str | None = None) -> nx.MultiDiGraph:
    """An empty graph carrying the contract's graph attributes."""
    G = nx.MultiDiGraph()
    G.graph.update({"base": normalize_base(base), "kgx_version": KGX_VERSION, DOC_INDEX: {}})
    return G


def _evidence_sort_key(ev: dict[str, Any]) -> tuple:
    return (ev["doc_id"], ev["head_start"], ev["head_end"], ev["tail_start"], ev["tail_end"],
            -ev["score"], ev["model"])


def aggregate_score(evidence: Iterable[dict[str, Any]]) -> float:
    """Noisy-or over documents of the per-document maximum evidence score (module docstring)."""
    best: dict[str, float] = {}
    for ev in evidence:
        s = float(ev["score"])
        if s > best.get(ev["doc_id"], -1.0):
            best[ev["doc_id"]] = s
    miss = 1.0
    for doc_id in sorted(best):
        miss *= 1.0 - best[doc_id]
    return round(1.0 - miss, 9)


class _DocBatch:
    """What one call of add_records collected for one document."""

    __slots__ = ("spans", "nodes", "evidence", "sentences")

    def __init__(self) -> None:
        self.sentences: dict[str, str] = {}
        self.spans: set[tuple[int, int, str]] = set()
        self.nodes: dict[str, dict[str, int]] = defaultdict(dict)
        self.evidence: dict[tuple, dict[str, Any]] = {}


class GraphBuilder:
    """Merges relation records into a ``MultiDiGraph`` following the graph contract.

    ``graph`` continues an existing graph (e.g. from :func:`load_graph`); its base IRI and stored
    normalisation settings are kept unless given here. ``min_score`` ignores records below it.
    """

    def __init__(
        self,
        graph: nx.MultiDiGraph | None = None,
        *,
        base: str | None = None,
        config: NormalizationConfig | None = None,
        aliases: AliasTable | None = None,
        min_score: float = 0.0,
    ) -> None:
        if graph is None:
            graph = new_graph(base)
        else:
            if not isinstance(graph, nx.MultiDiGraph):
                raise TypeError("GraphBuilder needs a networkx.MultiDiGraph")
            existing = graph.graph.get("base")
            if base is not None and existing and normalize_base(base) != existing:
                raise ValueError(
                    f"the graph's base IRI is {existing}, not {normalize_base(base)}: entity IRIs "
                    "would not match; rebuild the graph to change the base"
                )
            graph.graph["base"] = normalize_base(existing or base)
            graph.graph.setdefault("kgx_version", KGX_VERSION)
            graph.graph.setdefault(DOC_INDEX, {})
            stored = graph.graph.get(NORM_KEY)
            if isinstance(stored, dict):
                if config is None:
                    config = NormalizationConfig.from_dict(stored)
                elif NormalizationConfig.from_dict(stored) != config:
                    log.warning("the graph was built with other normalisation settings (%s); "
                                "entities already in it keep their old IRIs", stored)
        if not 0.0 <= min_score <= 1.0:
            raise ValueError(f"min_score must be in [0, 1], got {min_score}")
        self.G = graph
        self.base: str = graph.graph["base"]
        self.config = config or NormalizationConfig()
        self.G.graph[NORM_KEY] = self.config.to_dict()
        self.aliases = aliases
        self._alias_map = aliases.compiled(self.config) if aliases else {}
        self.min_score = min_score
        self._resolved: dict[tuple[str, str], str] = {}
        self._log: list[dict[str, Any]] = []
        self._by_norm: dict[str, str] | None = None
        self._strings: dict[str, str] = {}
        self.counters: Counter[str] = Counter()
        self._forms = self._node_forms()
        if min_score > 0:
            self.filter_min_score(min_score)

    @property
    def graph(self) -> nx.MultiDiGraph:
        return self.G

    @property
    def _index(self) -> dict[str, dict[str, Any]]:
        return self.G.graph[DOC_INDEX]

    def _node_forms(self) -> dict[str, dict[str, int]]:
        """Node → surface form → mentions over all documents, kept up to date as documents come
        and go, so that replacing or removing a document costs its own size, not the size of the
        busiest node it mentions. Also sorts each node's ``docs`` once (kept sorted by bisection).
        """
        forms: dict[str, dict[str, int]] = {}
        for entry in self._index.values():
            for iri, counts in entry["nodes"].items():
                node_forms = forms.setdefault(iri, {})
                for form, n in counts.items():
                    node_forms[form] = node_forms.get(form, 0) + n
        for _, data in self.G.nodes(data=True):
            docs = data.get("docs")
            if isinstance(docs, list):
                unique = sorted(set(docs))
                if unique != docs:
                    data["docs"] = unique
        return forms

    # --- entity resolution

    def _norm_registry(self) -> dict[str, str]:
        """Normalised name → node, for merging across types (built from the graph once)."""
        if self._by_norm is None:
            self._by_norm = {}
            for node, data in self.G.nodes(data=True):
                for form in [data.get("name", ""), *data.get("aliases", [])]:
                    if form:
                        self._by_norm.setdefault(normalize_name(form, self.config), node)
        return self._by_norm

    def resolve(self, text: str, type: str) -> str:
        """The node IRI a mention (surface form, entity type) belongs to; logs new decisions."""
        key = (text, type)
        iri = self._resolved.get(key)
        if iri is not None:
            return iri
        norm, rules = explain_normalization(text, self.config)
        if not norm:
            norm = _WS.sub(" ", text).strip().casefold()
            rules = [*rules, "fallback"]
        rule = "normalization" if rules else "exact"
        canonical = self._alias_map.get((type, norm)) or self._alias_map.get((None, norm))
        if canonical is not None:
            norm = normalize_name(canonical, self.config) or canonical
            rule = "alias-table"
        iri = entity_iri(self.base, type, norm)
        if self.config.merge_across_types:
            registry = self._norm_registry()
            existing = registry.setdefault(norm, iri)
            if existing != iri:
                iri, rule = existing, "cross-type"
        self._resolved[key] = iri
        self._log.append({"surface": text, "type": type, "normalized": norm, "node": iri,
                          "rule": rule, "steps": rules,
                          **({"canonical": canonical} if canonical is not None else {})})
        return iri

    def merge_log(self) -> list[dict[str, Any]]:
        """Every surface form seen by this builder → its node, with the rule that decided it.

        ``rule``: ``exact`` (the form is its own normalised name), ``normalization`` (``steps``
        lists what changed it), ``alias-table`` (``canonical`` is the table's name), or
        ``cross-type`` (joined a node of another type, ``merge_across_types``).
        """
        return list(self._log)

    def write_merge_log(self, path: str | Path) -> None:
        """The merge log as JSONL."""
        _atomic_write(
            Path(path),
            "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in self._log),
        )

    # --- adding and removing documents

    def add_records(
        self, records: Iterable[dict[str, Any]], *, validate: bool = True
    ) -> dict[str, int]:
        """Merge records; documents already in the graph are replaced by this call's records.

        Records of one document may be spread over the iterable (they are merged, and evidence
        repeated inside the call counts once). Records below ``min_score`` are ignored (a
        document whose records are all below it still replaces its old version). Invalid ones
        are logged, counted and skipped; ``validate=False`` skips the check for records that
        were already validated (:func:`iter_input_records` does). Returns this call's counters.

        Memory stays bounded by the graph: a document's records are folded into the graph when
        the next document starts; a document that comes back later in the same call is reopened
        from the graph and continued.
        """
        counts: Counter[str] = Counter()
        seen: set[str] = set()
        touched_nodes: set[str] = set()
        touched_edges: set[tuple[str, str, str]] = set()
        intern = self._intern
        min_score = self.min_score
        doc_id: str | None = None
        state: _DocBatch | None = None
        for rec in records:
            counts["records"] += 1
            if validate:
                try:
                    validate_record(rec)
                except RecordError as e:
                    counts["invalid"] += 1
                    log.warning("skipping an invalid record (%s): %.200r", e, rec)
                    continue
            rec_doc = rec["doc_id"]
            if rec_doc != doc_id:
                if state is not None:
                    self._flush(doc_id, state, touched_nodes, touched_edges)
                doc_id = intern(rec_doc)
                state = _DocBatch()
                if doc_id in seen:
                    counts["reopened_documents"] += 1
                    self._reopen(doc_id, state, touched_nodes, touched_edges)
                else:
                    seen.add(doc_id)
                    if doc_id in self._index:
                        self._remove_doc(doc_id, touched_nodes, touched_edges)
                        counts["replaced_documents"] += 1
            assert state is not None
            score = float(rec["score"])
            if score < min_score:
                counts["below_min_score"] += 1
                continue
            if self._add_one(rec, doc_id, score, state):
                counts["added"] += 1
            else:
                counts["duplicate_evidence"] += 1
        if state is not None:
            self._flush(doc_id, state, touched_nodes, touched_edges)
        counts["documents"] = len(seen)
        self._refresh(touched_nodes, touched_edges)
        self.counters.update(counts)
        return dict(counts)

    def _intern(self, text: str) -> str:
        """One shared string object per distinct value (doc ids, texts, models repeat a lot)."""
        return self._strings.setdefault(text, text)

    def _add_one(self, rec: dict[str, Any], doc_id: str, score: float, state: _DocBatch) -> bool:
        """Fold one record into a document's pending state; False for repeated evidence."""
        G = self.G
        intern = self._intern
        head, tail = rec["head"], rec["tail"]
        h = self.resolve(head["text"], head["label"])
        t = self.resolve(tail["text"], tail["label"])
        hs, he, ts, te = head["start_char"], head["end_char"], tail["start_char"], tail["end_char"]
        label = intern(rec["relation"])
        ekey = (h, label, t, hs, he, ts, te)
        old = state.evidence.get(ekey)
        if old is not None:
            if score > old["score"]:
                old["score"] = score
            return False
        h_text, t_text = intern(head["text"]), intern(tail["text"])
        for iri, start, end, text, span in ((h, hs, he, h_text, head), (t, ts, te, t_text, tail)):
            skey = (start, end, iri)
            if skey not in state.spans:
                state.spans.add(skey)
                forms = state.nodes[iri]
                forms[text] = forms.get(text, 0) + 1
                if iri not in G:
                    G.add_node(iri, label=intern(span["label"]), name=text, aliases=[],
                               mentions=0, docs=[])
        ev = {
            "doc_id": doc_id,
            "head_start": hs, "head_end": he, "tail_start": ts, "tail_end": te,
            "sent_start": rec.get("sent_start_char", min(hs, ts)),
            "sent_end": rec.get("sent_end_char", max(he, te)),
            "score": score,
            "model": intern(str(rec.get("model", ""))),
            "head_text": h_text, "tail_text": t_text,
        }
        sentence = rec.get("sentence")
        if isinstance(sentence, str):
            ev["sentence"] = state.sentences.setdefault(sentence, sentence)
        state.evidence[ekey] = ev
        return True

    def _flush(
        self, doc_id: str | None, state: _DocBatch, touched_nodes: set[str],
        touched_edges: set[tuple[str, str, str]],
    ) -> None:
        """Move a document's pending evidence and mentions into the graph and the index."""
        if doc_id is None or not state.nodes:
            return
        adj = self.G._adj  # the MultiDiGraph's successor dicts: u -> v -> key -> data
        edges: set[tuple[str, str, str]] = set()
        for (h, label, t, *_), ev in state.evidence.items():
            keydict = adj[h].get(t)
            data = keydict.get(label) if keydict is not None else None
            if data is not None:
                data["evidence"].append(ev)
            else:
                self.G.add_edge(h, t, key=label, score=0.0, count=0, evidence=[ev])
            edges.add((h, label, t))
        touched_edges |= edges
        nodes = self.G.nodes
        all_forms = self._forms
        for iri, counts in state.nodes.items():
            docs = nodes[iri]["docs"]
            i = bisect_left(docs, doc_id)
            if i == len(docs) or docs[i] != doc_id:
                docs.insert(i, doc_id)
            node_forms = all_forms.setdefault(iri, {})
            for form, n in counts.items():
                node_forms[form] = node_forms.get(form, 0) + n
            touched_nodes.add(iri)
        self._index[doc_id] = {
            "nodes": dict(state.nodes),
            "edges": sorted([h, label, t] for h, label, t in edges),
        }

    def _reopen(
        self, doc_id: str, state: _DocBatch, touched_nodes: set[str],
        touched_edges: set[tuple[str, str, str]],
    ) -> None:
        """Take a document flushed earlier in this call back out of the graph to continue it."""
        if doc_id not in self._index:
            return
        records = list(graph_records(self.G, [doc_id]))
        self._remove_doc(doc_id, touched_nodes, touched_edges)
        for rec in records:
            self._add_one(rec, doc_id, float(rec["score"]), state)

    def add_document(self, doc_id: str, records: Iterable[dict[str, Any]]) -> dict[str, int]:
        """Replace one document by ``records`` (which must all carry this doc_id)."""
        records = list(records)
        bad = [r.get("doc_id") for r in records if r.get("doc_id") != doc_id]
        if bad:
            raise ValueError(f"add_document({doc_id!r}) got records of other documents: {bad[:3]}")
        if not records:
            self.remove_document(doc_id)
            return {"records": 0, "documents": 1}
        return self.add_records(records)

    def remove_document(self, doc_id: str) -> bool:
        """Remove a document's evidence and mentions; False when it is not in the graph."""
        if doc_id not in self._index:
            return False
        nodes: set[str] = set()
        edges: set[tuple[str, str, str]] = set()
        self._remove_doc(doc_id, nodes, edges)
        self._refresh(nodes, edges)
        return True

    def documents(self) -> list[str]:
        """The documents in the graph."""
        return sorted(self._index)

    def _remove_doc(self, doc_id: str, nodes: set[str], edges: set[tuple[str, str, str]]) -> None:
        entry = self._index.pop(doc_id)
        G = self.G
        adj, node_data = G._adj, G._node  # direct access: this runs once per replaced document
        for h, label, t in entry["edges"]:
            data = adj.get(h, {}).get(t, {}).get(label)
            if data is not None:
                data["evidence"] = [ev for ev in data["evidence"] if ev["doc_id"] != doc_id]
                edges.add((h, label, t))
        all_forms = self._forms
        for iri, counts in entry["nodes"].items():
            data = node_data.get(iri)
            if data is None:
                continue
            docs = data["docs"]
            i = bisect_left(docs, doc_id)
            if i < len(docs) and docs[i] == doc_id:
                del docs[i]
            node_forms = all_forms.get(iri, {})
            for form, n in counts.items():
                left = node_forms.get(form, 0) - n
                if left > 0:
                    node_forms[form] = left
                else:
                    node_forms.pop(form, None)
            nodes.add(iri)

    def _refresh(self, nodes: set[str], edges: set[tuple[str, str, str]]) -> None:
        """Recompute aggregates of touched edges and nodes; drop those left unsupported."""
        G = self.G
        for h, label, t in edges:
            if not G.has_edge(h, t, key=label):
                continue
            data = G.edges[h, t, label]
            evidence = data["evidence"]
            if not evidence:
                G.remove_edge(h, t, key=label)
                continue
            evidence.sort(key=_evidence_sort_key)
            data["score"] = aggregate_score(evidence)
            data["count"] = len(evidence)
        removed: set[str] = set()
        for iri in nodes:
            if iri not in G:
                continue
            data = G.nodes[iri]
            forms = self._forms.get(iri)
            if not data["docs"] or not forms:
                G.remove_node(iri)
                self._forms.pop(iri, None)
                removed.add(iri)
                continue
            name = min(forms, key=lambda f: (-forms[f], f))
            data["name"] = name
            data["aliases"] = sorted(f for f in forms if f != name)
            data["mentions"] = sum(forms.values())
        if removed and self.config.merge_across_types:
            # Under cross-type merging a mention may have been resolved to a node of another type
            # that is now gone: forget those decisions so the next mention mints its own node.
            self._by_norm = None
            self._resolved = {k: v for k, v in self._resolved.items() if v not in removed}

    # --- filtering and statistics

    def filter_min_score(self, min_score: float) -> int:
        """Drop evidence below ``min_score`` from the graph, as if those records had been ignored.

        Affected documents are rebuilt from their remaining evidence, so mentions, aliases and
        nodes left without support follow. Returns the number of evidence items dropped.
        """
        G = self.G
        low_docs: set[str] = set()
        for _, _, data in G.edges(data=True):
            for ev in data["evidence"]:
                if ev["score"] < min_score:
                    low_docs.add(ev["doc_id"])
        if not low_docs:
            return 0
        kept: list[dict[str, Any]] = []
        dropped = 0
        for rec in graph_records(G, low_docs):
            if rec["score"] < min_score:
                dropped += 1
            else:
                kept.append(rec)
        nodes: set[str] = set()
        edges: set[tuple[str, str, str]] = set()
        for doc_id in low_docs:
            self._remove_doc(doc_id, nodes, edges)
        self._refresh(nodes, edges)
        previous, self.min_score = self.min_score, 0.0
        try:
            self.add_records(kept)
        finally:
            self.min_score = previous
        log.info("min-score %.3f: dropped %d evidence items from %d documents",
                 min_score, dropped, len(low_docs))
        return dropped

    def stats(self, top: int = 10) -> dict[str, Any]:
        """Graph statistics plus this builder's record counters."""
        result = graph_stats(self.G, top=top)
        result["records"] = dict(sorted(self.counters.items()))
        result["surface_forms"] = len(self._log)
        return result


# --- reading the graph back ------------------------------------------------------------------


def graph_records(G: nx.MultiDiGraph, doc_ids: Iterable[str] | None = None) -> Iterator[dict]:
    """Relation records rebuilt from the graph's evidence (all documents, or ``doc_ids``)."""
    wanted = None if doc_ids is None else set(doc_ids)
    index = G.graph.get(DOC_INDEX, {})
    if wanted is None:
        edge_keys: Iterable = ((h, t, k) for h, t, k in G.edges(keys=True))
    else:
        edge_keys = sorted({(h, t, k) for d in wanted if d in index
                            for h, k, t in index[d]["edges"]})
    for h, t, label in edge_keys:
        if not G.has_edge(h, t, key=label):
            continue
        hl, tl = G.nodes[h]["label"], G.nodes[t]["label"]
        for ev in G.edges[h, t, label]["evidence"]:
            if wanted is not None and ev["doc_id"] not in wanted:
                continue
            rec = {
                "doc_id": ev["doc_id"],
                "head": {"text": ev["head_text"], "label": hl,
                         "start_char": ev["head_start"], "end_char": ev["head_end"]},
                "relation": label,
                "tail": {"text": ev["tail_text"], "label": tl,
                         "start_char": ev["tail_start"], "end_char": ev["tail_end"]},
                "score": ev["score"],
                "sent_start_char": ev["sent_start"], "sent_end_char": ev["sent_end"],
                "model": ev["model"],
            }
            if "sentence" in ev:
                rec["sentence"] = ev["sentence"]
            yield rec


def graph_stats(G: nx.MultiDiGraph, top: int = 10) -> dict[str, Any]:
    """Nodes/edges by type and label, weak components, top entities by degree, mentions."""
    by_type = Counter(d.get("label", "") for _, d in G.nodes(data=True))
    by_label = Counter(k for _, _, k in G.edges(keys=True))
    components = [len(c) for c in nx.weakly_connected_components(G)] if len(G) else []
    degree = sorted(G.degree(), key=lambda x: (-x[1], x[0]))[:top]
    mentions = sum(int(d.get("mentions", 0)) for _, d in G.nodes(data=True))
    n = G.number_of_nodes()
    return {
        "nodes": n,
        "edges": G.number_of_edges(),
        "documents": len(G.graph.get(DOC_INDEX, {})),
        "evidence": sum(int(d.get("count", 0)) for _, _, d in G.edges(data=True)),
        "nodes_by_type": dict(sorted(by_type.items())),
        "edges_by_label": dict(sorted(by_label.items())),
        "weakly_connected_components": len(components),
        "largest_component": max(components, default=0),
        "mentions": mentions,
        "mentions_per_node": round(mentions / n, 3) if n else 0.0,
        "top_entities": [
            {"node": node, "name": G.nodes[node].get("name", ""),
             "label": G.nodes[node].get("label", ""), "degree": deg}
            for node, deg in degree
        ],
    }


def format_stats(stats: dict[str, Any]) -> str:
    """The statistics as a plain-text table for the terminal."""
    lines = [
        f"nodes      {stats['nodes']:>10}",
        f"edges      {stats['edges']:>10}",
        f"documents  {stats['documents']:>10}",
        f"evidence   {stats['evidence']:>10}",
        f"mentions   {stats['mentions']:>10}   ({stats['mentions_per_node']} per node)",
        f"components {stats['weakly_connected_components']:>10}   "
        f"(largest {stats['largest_component']} nodes, weakly connected)",
        "",
        "nodes by type",
    ]
    lines += [f"  {k:<24}{v:>10}" for k, v in stats["nodes_by_type"].items()]
    lines += ["", "edges by relation"]
    lines += [f"  {k:<24}{v:>10}" for k, v in stats["edges_by_label"].items()]
    if stats.get("records"):
        lines += ["", "records (this run)"]
        lines += [f"  {k:<24}{v:>10}" for k, v in stats["records"].items()]
    lines += ["", "top entities by degree"]
    lines += [f"  {e['degree']:>6}  {e['label']:<8} {e['name']}" for e in stats["top_entities"]]
    return "\n".join(lines)


# --- ranking ---------------------------------------------------------------------------------


def match_entities(
    G: nx.MultiDiGraph, entity: str, config: NormalizationConfig | None = None
) -> list[str]:
    """Nodes matching ``entity``: its IRI, else its name or an alias under the normalisation."""
    if entity in G:
        return [entity]
    if config is None and isinstance(G.graph.get(NORM_KEY), dict):
        config = NormalizationConfig.from_dict(G.graph[NORM_KEY])
    config = config or NormalizationConfig()
    target = normalize_name(entity, config)
    if not target:
        return []
    return sorted(
        node for node, data in G.nodes(data=True)
        if any(normalize_name(f, config) == target
               for f in [data.get("name", ""), *data.get("aliases", [])] if f)
    )


def _component(G: nx.MultiDiGraph, seeds: Iterable[str]) -> list[str]:
    """Nodes weakly connected to any seed (breadth first, both edge directions)."""
    seen = dict.fromkeys(seeds)
    frontier = list(seen)
    while frontier:
        nxt = []
        for node in frontier:
            for nbr in (*G.succ[node], *G.pred[node]):
                if nbr not in seen:
                    seen[nbr] = None
                    nxt.append(nbr)
        frontier = nxt
    return list(seen)


def personalized_pagerank(
    G: nx.MultiDiGraph, seeds: Iterable[str], weight: str = "score", alpha: float = 0.85,
    tol: float = 1e-10, max_iter: int = 500,
) -> dict[str, float]:
    """Personalised PageRank with edges walked in both directions, weighted by ``weight``.

    The walk restarts at the seeds with probability ``1 - alpha``; from a node it follows an edge
    with probability proportional to the edge's weight (parallel edges add up; self-loops are
    ignored); a node without edges sends its mass back to the seeds. Only the seeds' weak
    component can be reached, so only it is computed (NumPy power iteration, no SciPy).
    """
    import numpy as np

    seeds = [s for s in seeds if s in G]
    if not seeds:
        return {}
    nodes = _component(G, seeds)
    pos = {n: i for i, n in enumerate(nodes)}
    src: list[int] = []
    dst: list[int] = []
    wts: list[float] = []
    for u in nodes:
        i = pos[u]
        for v, keydict in G.succ[u].items():
            if v == u:
                continue
            j = pos[v]
            w = sum(float(d.get(weight, 1.0)) for d in keydict.values())
            if w > 0:
                src += (i, j)
                dst += (j, i)
                wts += (w, w)
    n = len(nodes)
    s_arr, d_arr = np.asarray(src, dtype=np.int64), np.asarray(dst, dtype=np.int64)
    w_arr = np.asarray(wts, dtype=np.float64)
    strength = np.bincount(s_arr, weights=w_arr, minlength=n)
    prob = w_arr / strength[s_arr] if len(w_arr) else w_arr
    dangling = strength <= 0
    restart = np.zeros(n)
    restart[[pos[s] for s in seeds]] = 1.0 / len(seeds)
    rank = restart.copy()
    for _ in range(max_iter):
        new = alpha * np.bincount(d_arr, weights=rank[s_arr] * prob, minlength=n)
        new += ((1.0 - alpha) + alpha * rank[dangling].sum()) * restart
        err = float(np.abs(new - rank).sum())
        rank = new
        if err < tol:
            break
    return {node: float(rank[i]) for i, node in enumerate(nodes)}


def related(
    G: nx.MultiDiGraph, entity: str, top: int = 10, config: NormalizationConfig | None = None
) -> list[dict[str, Any]]:
    """Entities related to ``entity``, ranked by personalised PageRank from its node(s).

    Edges are weighted by their aggregated score and walked in both directions (parallel edges
    add up). The matched entity itself is excluded. Raises ``KeyError`` when nothing matches.
    """
    seeds = match_entities(G, entity, config)
    if not seeds:
        raise KeyError(f"no entity matches {entity!r}")
    rank = personalized_pagerank(G, seeds)
    seed_set = set(seeds)
    ranked = sorted(
        ((n, r) for n, r in rank.items() if n not in seed_set and r > 0),
        key=lambda x: (-x[1], x[0]),
    )[:top]
    return [
        {"node": n, "name": G.nodes[n].get("name", ""), "label": G.nodes[n].get("label", ""),
         "score": round(r, 6)}
        for n, r in ranked
    ]


# --- save and load ---------------------------------------------------------------------------


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _node_link_data(G: nx.MultiDiGraph) -> dict[str, Any]:
    try:
        return nx.node_link_data(G, edges="edges")
    except TypeError:  # networkx < 3.4 names the argument "link"
        return nx.node_link_data(G, link="edges")


def _write_node_link(G: nx.MultiDiGraph, path: Path) -> None:
    """Write exactly ``node_link_data(G, edges="edges")`` as JSON, one element at a time.

    Building the whole dict and then one string of it needs about three times the file size in
    memory; streaming keeps the peak at the graph itself (1M evidence items: ~0.7 GB of JSON).
    """
    if not (G.is_multigraph() and G.is_directed()):
        _atomic_write(path, json.dumps(_node_link_data(G), ensure_ascii=False))
        return
    encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        fh.write('{"directed":true,"multigraph":true,"graph":')
        fh.write(encode(G.graph))
        for name, items in (
            ("nodes", ({**d, "id": n} for n, d in G.nodes(data=True))),
            ("edges", ({**d, "source": u, "target": v, "key": k}
                       for u, v, k, d in G.edges(keys=True, data=True))),
        ):
            fh.write(f',"{name}":[')
            chunk: list[str] = []
            first = True
            for item in items:
                chunk.append(encode(item))
                if len(chunk) >= 10_000:
                    fh.write(("" if first else ",") + ",".join(chunk))
                    chunk, first = [], False
            if chunk:
                fh.write(("" if first else ",") + ",".join(chunk))
            fh.write("]")
        fh.write("}")
    os.replace(tmp, path)


def _node_link_graph(data: dict[str, Any]) -> nx.MultiDiGraph:
    try:
        return nx.node_link_graph(data, directed=True, multigraph=True, edges="edges")
    except TypeError:
        return nx.node_link_graph(data, directed=True, multigraph=True, link="edges")


def _flatten(attrs: dict[str, Any], flattened: set[str]) -> dict[str, Any]:
    out = {}
    for k, v in attrs.items():
        if isinstance(v, list | dict | tuple):
            out[k] = json.dumps(v, ensure_ascii=False, sort_keys=True)
            flattened.add(k)
        elif v is None:
            continue
        else:
            out[k] = v
    return out


def save_graph(G: nx.MultiDiGraph, path: str | Path) -> None:
    """Write node-link JSON (``.json``) or GraphML (``.graphml``, lists/dicts as JSON strings)."""
    path = Path(path)
    if path.suffix == ".json":
        _write_node_link(G, path)
    elif path.suffix == ".graphml":
        keys: dict[str, set[str]] = {"graph": set(), "node": set(), "edge": set()}
        H = nx.MultiDiGraph()
        for n, d in G.nodes(data=True):
            H.add_node(n, **_flatten(d, keys["node"]))
        for u, v, k, d in G.edges(keys=True, data=True):
            H.add_edge(u, v, key=k, **_flatten(d, keys["edge"]))
        H.graph.update(_flatten(G.graph, keys["graph"]))
        H.graph[JSON_ATTRS_KEY] = json.dumps({k: sorted(v) for k, v in keys.items()})
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        nx.write_graphml(H, tmp, encoding="utf-8")
        os.replace(tmp, path)
    else:
        raise ValueError(f"{path}: unknown graph format (use .json or .graphml)")


_DEFAULT_JSON_ATTRS = {"graph": [DOC_INDEX, NORM_KEY], "node": ["aliases", "docs"],
                       "edge": ["evidence"]}


def _unflatten(attrs: dict[str, Any], keys: Iterable[str], where: str) -> None:
    for k in keys:
        if isinstance(attrs.get(k), str):
            try:
                attrs[k] = json.loads(attrs[k])
            except json.JSONDecodeError as e:
                raise ValueError(f"{where}: attribute {k!r} is not valid JSON: {e}") from e


def load_graph(path: str | Path) -> nx.MultiDiGraph:
    """Read a graph written by :func:`save_graph`; a clear error for a missing or bad file."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"no such graph file: {path}")
    if path.suffix == ".json":
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            G = _node_link_graph(data)
        except (json.JSONDecodeError, KeyError, TypeError, nx.NetworkXError) as e:
            raise ValueError(f"{path} is not a node-link graph: {e}") from e
    elif path.suffix == ".graphml":
        try:
            G = nx.read_graphml(path, force_multigraph=True)
        except Exception as e:  # the GraphML reader raises several unrelated types
            raise ValueError(f"{path} is not a GraphML graph: {e}") from e
        if not G.is_directed():
            G = nx.MultiDiGraph(G)
        for reader_key in ("node_default", "edge_default"):
            if not G.graph.get(reader_key):
                G.graph.pop(reader_key, None)
        keys = dict(_DEFAULT_JSON_ATTRS)
        if isinstance(G.graph.get(JSON_ATTRS_KEY), str):
            keys = json.loads(G.graph.pop(JSON_ATTRS_KEY))
        _unflatten(G.graph, keys.get("graph", []), f"{path} (graph)")
        for n, d in G.nodes(data=True):
            _unflatten(d, keys.get("node", []), f"{path} node {n}")
        for u, v, d in G.edges(data=True):
            _unflatten(d, keys.get("edge", []), f"{path} edge {u} -> {v}")
    else:
        raise ValueError(f"{path}: unknown graph format (use .json or .graphml)")
    if not isinstance(G, nx.MultiDiGraph):
        G = nx.MultiDiGraph(G)
    G.graph["base"] = normalize_base(G.graph.get("base"))
    G.graph.setdefault("kgx_version", KGX_VERSION)
    G.graph.setdefault(DOC_INDEX, {})
    return G
