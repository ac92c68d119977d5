"""Small pipelines and examples shared by the test modules."""

from __future__ import annotations

import functools
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import spacy
from spacy.language import Language
from spacy.tokens import Doc
from spacy.training import Example
from spacy.util import fix_random_seed

from kgx.relations import set_relations

TRAIN = [
    ("Maria Lopez works for Acme in Paris .",
     [(0, 11, "PER"), (22, 26, "ORG"), (30, 35, "LOC")],
     [(0, 1, "Work_For"), (1, 2, "OrgBased_In")]),
    ("John Smith lives in Berlin .", [(0, 10, "PER"), (20, 26, "LOC")], [(0, 1, "Live_In")]),
    ("Ana Diaz joined Nordwind , a firm based in Oslo .",
     [(0, 8, "PER"), (16, 24, "ORG"), (43, 47, "LOC")],
     [(0, 1, "Work_For"), (1, 2, "OrgBased_In")]),
    ("Lyon is a city in France .", [(0, 4, "LOC"), (18, 24, "LOC")], [(0, 1, "Located_In")]),
]


def make_example(nlp: Language, text, ents, rels) -> Example:
    ref = nlp.make_doc(text)
    ref.ents = [ref.char_span(s, e, label=label) for s, e, label in ents]
    for tok in ref:
        tok.is_sent_start = tok.i == 0
    set_relations(ref, [{"head": h, "tail": t, "label": lab} for h, t, lab in rels])
    return Example(nlp.make_doc(text), ref)


def with_gold_ents(nlp: Language, eg: Example) -> Doc:
    doc = nlp.make_doc(eg.reference.text)
    doc.ents = [doc.char_span(e.start_char, e.end_char, label=e.label_)
                for e in eg.reference.ents]
    return doc


def blank_pipeline() -> Language:
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("kgx_relation_extractor")
    return nlp


def train_tiny(steps: int = 40):
    """A small pipeline overfitted on TRAIN, and its training examples."""
    fix_random_seed(0)
    nlp = blank_pipeline()
    examples = [make_example(nlp, *row) for row in TRAIN]
    optimizer = nlp.initialize(lambda: examples)
    losses_seen = []
    for _ in range(steps):
        losses: dict[str, float] = {}
        nlp.update(examples, sgd=optimizer, losses=losses)
        losses_seen.append(losses["kgx_relation_extractor"])
    return nlp, examples, losses_seen


def annotate(nlp: Language, doc: Doc) -> Doc:
    for _, proc in nlp.pipeline:
        doc = proc(doc)
    return doc


def ruled_pipeline(trained_nlp: Language, examples: list[Example]) -> Language:
    """The trained relation component behind an entity_ruler that finds the gold entities."""
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    ruler = nlp.add_pipe("entity_ruler")
    ruler.add_patterns([{"label": e.label_, "pattern": e.text}
                        for eg in examples for e in eg.reference.ents])
    nlp.add_pipe("kgx_relation_extractor", source=trained_nlp)
    return nlp


def fixed_tok2vec(vectors: dict, grads: dict, width: int):
    """A tok2vec layer that gives each doc the rows ``vectors[doc.text]`` and records the
    gradient each doc's rows get in ``grads[doc.text]``: a model's features checked against
    known token vectors."""
    from thinc.api import Model

    def forward(model, docs, is_train):
        def backprop(d):
            for doc, g in zip(docs, d, strict=True):
                grads[doc.text] = g
            return []
        return [vectors[doc.text] for doc in docs], backprop

    return Model("fixed_tok2vec", forward, dims={"nO": width})


def load_benchmark(name: str) -> ModuleType:
    """The script ``benchmarks/<name>.py`` as a module (the scripts beside it importable while
    it loads)."""
    folder = Path(__file__).resolve().parent.parent / "benchmarks"
    spec = importlib.util.spec_from_file_location(name, folder / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(folder))
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(folder))
    return module


def cfb_bytes(streams: dict[str, bytes]) -> bytes:
    """A version-3 compound file holding ``streams`` at its root, each padded to the 4,096
    bytes past which a stream lives in the file's own sectors: the sector table in sector 0,
    the directory from sector 1, the streams after it (``bench_tables.compound_file``)."""
    return _bench_tables().compound_file(streams)


@functools.cache
def _bench_tables() -> ModuleType:
    """``bench_tables`` loaded once for all the compound files a test run builds."""
    return load_benchmark("bench_tables")
