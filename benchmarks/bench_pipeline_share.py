"""How much of a trained pipeline's time its encoder takes (issue 16's "pipeline / encoder
alone"): the encoder alone (tokenizer, segmenter, transformer) and the whole pipeline over the
same texts, alternating round by round in one process, with the recogniser's candidate filters
on (the shipped configs' setting). Prints both medians, their ratio and the relations found;
then the recogniser and the relation component timed alone on the encoder's output.

It runs on whatever kgx is importable, so the code before a change can be measured beside the
code after it on the same machine, from a git worktree put first on ``PYTHONPATH``:

    git worktree add /tmp/before REV
    PYTHONPATH=/tmp/before python benchmarks/bench_pipeline_share.py --model MODEL \\
        --train TRAIN --texts ../shared/data/conll04/dev.json --documents 5 --threads 2
    python benchmarks/bench_pipeline_share.py --model MODEL --train TRAIN ...

``--train`` (the model's training data) learns the filters' words first, as ``initialize``
does in training now, for a model trained before they were learned.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from _variants import filter_words  # noqa: E402
from bench_inference import alternate, encoder_pipes, paired_args, paired_setup  # noqa: E402


def main() -> None:
    args = paired_args(__doc__, rounds=5, extra=lambda ap: ap.add_argument(
        "--train", type=Path, help="learn the recogniser's filter words from this data first"))
    nlp, texts = paired_setup(args)
    import kgx

    print(f"kgx from {Path(kgx.__file__).parent}")
    filter_words(nlp, args.train)
    ner = nlp.get_pipe("ner")
    # both filters on where the code has them (an attribute older code ignores)
    ner.edge_filter = ner.inner_filter = True
    encoder = encoder_pipes(nlp)

    def encoder_alone() -> None:
        with nlp.select_pipes(enable=encoder):
            list(nlp.pipe(texts, batch_size=args.batch_size))

    def pipeline() -> int:
        docs = list(nlp.pipe(texts, batch_size=args.batch_size))
        return sum(len(doc._.kgx_relations or []) for doc in docs)

    median, outputs = alternate({"encoder alone": encoder_alone, "pipeline": pipeline},
                                args.rounds)
    print(f"pipeline / encoder alone: {median['encoder alone'] / median['pipeline']:.3f}  "
          f"relations: {outputs['pipeline']}")
    # the two components after the encoder, each timed alone on the encoder's output: the
    # time outside the encoder without the encoder's noise in it
    with nlp.select_pipes(enable=encoder):
        encoded = list(nlp.pipe(texts, batch_size=args.batch_size))
    recogniser = nlp.get_pipe("ner")
    relations = nlp.get_pipe("kgx_relation_extractor")
    found = list(recogniser.pipe(encoded, batch_size=args.batch_size))
    parts, _ = alternate({
        "recogniser": lambda: list(recogniser.pipe(encoded, batch_size=args.batch_size)),
        "relations": lambda: list(relations.pipe(found, batch_size=args.batch_size)),
    }, args.rounds)
    print(f"outside the encoder: {parts['recogniser'] + parts['relations']:.3f} s "
          f"(recogniser {parts['recogniser']:.3f}, relations {parts['relations']:.3f})")


if __name__ == "__main__":
    main()
