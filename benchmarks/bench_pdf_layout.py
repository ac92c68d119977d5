"""What grouping a page's lines into boxes costs: kgx's grouping (``kgx.batch.pdflayout``)
against pdfminer.six's own ``group_textlines``, and whether they read the same text.

Pages of ``--words`` words scattered at random (labels on a map or a chart: lines that chain
into large boxes) are read by ``pdf_text`` both ways, once each (pdfminer's own way only up to
``--old-max`` words: it grows with the square of a box's lines); then each ``--files`` PDF is
read both ways ``--repeats`` times, alternating, and the median time ratio is printed with
whether the two texts are the same.

    python benchmarks/bench_pdf_layout.py --words 1000 2000 4000 8000 \
        --files /usr/share/doc/libtasn1-doc/libtasn1.pdf
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from eval_pdf import pdf_bytes  # noqa: E402


@contextmanager
def pdfminers_grouping() -> Iterator[None]:
    """``pdf_text`` with pdfminer's own ``PDFPageAggregator`` (its own grouping)."""
    from pdfminer.converter import PDFPageAggregator

    import kgx.batch.pdflayout as layout

    class Plain(PDFPageAggregator):
        def __init__(self, *args, clock=None, **kwargs) -> None:  # no time limit either
            super().__init__(*args, **kwargs)

    ours = layout.LinearAggregator
    layout.LinearAggregator = Plain  # type: ignore[misc]
    try:
        yield
    finally:
        layout.LinearAggregator = ours  # type: ignore[misc]


def read(data: bytes, pdfminer: bool) -> tuple[float, str]:
    from kgx.batch.pdf import pdf_text

    began = time.perf_counter()
    if pdfminer:
        with pdfminers_grouping():
            text = pdf_text(data)[0]
    else:
        text = pdf_text(data)[0]
    return time.perf_counter() - began, text


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--words", type=int, nargs="*", default=[1000, 2000, 4000, 8000])
    ap.add_argument("--old-max", type=int, default=8000)
    ap.add_argument("--files", nargs="*", default=[])
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    print(f"{'scattered words on a page':<28} {'kgx s':>8} {'pdfminer s':>11} {'ratio':>7} same")
    for n in args.words:
        rng = random.Random(n)
        data = pdf_bytes([[(rng.uniform(20, 560), rng.uniform(20, 800), [f"w{i}"], -1)
                           for i in range(n)]])
        ours, text = read(data, False)
        if n <= args.old_max:
            theirs, their_text = read(data, True)
            print(f"{n:<28} {ours:8.2f} {theirs:11.2f} {ours / theirs:7.3f} "
                  f"{text == their_text}", flush=True)
        else:
            print(f"{n:<28} {ours:8.2f} {'-':>11}", flush=True)
    for path in args.files:
        data = Path(path).read_bytes()
        pairs, same = [], True
        for _ in range(args.repeats):
            ours, text = read(data, False)
            theirs, their_text = read(data, True)
            pairs.append(ours / theirs)
            same = same and text == their_text
        print(f"{Path(path).name}: time ratio kgx / pdfminer {statistics.median(pairs):.3f} "
              f"(median of {args.repeats}), same text: {same}")


if __name__ == "__main__":
    main()
