"""The spaCy side of kgx: the relation component, its model and its scorer.

spaCy finds these through entry points (pyproject.toml); importing this package registers
them too, for code that builds pipelines by hand.
"""

from __future__ import annotations

from kgx.pipeline import (  # noqa: F401  (registrations)
    component,
    features,
    model,
    optimizers,
    scorer,
    sentences,
    span_ner,
    tokenizer,
    words,
)
