"""pdfminer.six's page layout analysis, with its one quadratic step made linear.

pdfminer groups a page's text lines into boxes (``LTLayoutContainer.group_textlines``) by
making a new box for each line, copying into it every line of the boxes its neighbours are in.
Lines that chain into one large box (a map's or a chart's labels, a page of scattered numbers)
are copied again and again: 4,000 scattered words on a page took 1.7 s, 8,000 took minutes,
and one such page held up a whole run. Since a line always finds itself among its neighbours,
whole boxes merge, and :func:`grouped_lines` gives the same boxes in the same order, each with
its lines in the same order, without copying any (:class:`_Chains`). Pages and figures are
pdfminer's own classes with that one method replaced (:class:`LinearAggregator`); pdfminer
itself is not patched.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from typing import Any

from pdfminer.converter import PDFPageAggregator
from pdfminer.layout import (
    LAParams,
    LTFigure,
    LTPage,
    LTTextBox,
    LTTextBoxHorizontal,
    LTTextBoxVertical,
    LTTextLine,
    LTTextLineHorizontal,
)
from pdfminer.utils import Plane


class _Chains:
    """Lines ``0..n-1`` in boxes: each box a doubly linked list of its lines (``ends``: a box's
    first and last line, by its root), the boxes the sets of a union-find (``parent``)."""

    def __init__(self, n: int) -> None:
        self.parent = list(range(n))
        self.nxt, self.prv = [-1] * n, [-1] * n
        self.ends: dict[int, list[int]] = {}
        self.boxed = [False] * n
        self.stamp = [-1] * n  # the merge in which a line was last placed

    def root(self, i: int) -> int:
        parent = self.parent
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def _unlink(self, i: int, chain: list[int]) -> None:
        before, after = self.prv[i], self.nxt[i]
        if before >= 0:
            self.nxt[before] = after
        else:
            chain[0] = after
        if after >= 0:
            self.prv[after] = before
        else:
            chain[1] = before
        self.prv[i] = self.nxt[i] = -1

    def _join(self, chain: list[int], head: int, tail: int) -> None:
        if chain[1] < 0:
            chain[0] = head
        else:
            self.nxt[chain[1]], self.prv[head] = head, chain[1]
        chain[1] = tail

    def merge(self, i: int, neighbours: list[int]) -> None:
        """pdfminer's step for line ``i``: a new box of ``i``, then each neighbour followed by
        the rest of its box when it has one, each line where it first appears."""
        chain = [-1, -1]
        merged: set[int] = set()  # roots of the boxes spliced in
        placed: list[int] = []  # lines placed one by one
        for k, j in enumerate([i, *neighbours]):
            if self.stamp[j] != i and not (self.boxed[j] and self.root(j) in merged):
                self.stamp[j] = i
                if self.boxed[j]:
                    self._unlink(j, self.ends[self.root(j)])
                self._join(chain, j, j)
                placed.append(j)
            if k and self.boxed[j] and self.root(j) not in merged:  # a neighbour's box
                r = self.root(j)
                merged.add(r)
                head, tail = self.ends.pop(r)
                if head >= 0:
                    self._join(chain, head, tail)
        members = [*merged, *placed]
        top = min(members)
        for j in members:
            self.parent[j] = top
            self.boxed[j] = True
        self.ends[top] = chain

    def chain(self, r: int) -> Iterator[int]:
        j = self.ends[r][0]
        while j >= 0:
            yield j
            j = self.nxt[j]


def grouped_lines(bbox: Any, laparams: LAParams, lines: Iterable[LTTextLine],
                  clock: PageClock | None = None) -> Iterator[LTTextBox]:
    """The text boxes of ``lines``, as ``LTLayoutContainer.group_textlines`` yields them (the
    same boxes, in the same order, each box's lines in the same order), in time linear in the
    lines and their neighbours: a line that moves forward is unlinked, a box's rest spliced
    (:class:`_Chains`), and no box is copied."""
    lines = list(lines)
    plane: Plane[LTTextLine] = Plane(bbox)
    plane.extend(lines)
    index = {id(line): i for i, line in enumerate(lines)}
    chains = _Chains(len(lines))
    for i, line in enumerate(lines):
        if clock is not None:
            clock.check()
        chains.merge(i, [index[id(o)] for o in line.find_neighbors(plane, laparams.line_margin)])
    # a box's root is its first line: the roots, in order, are the boxes in pdfminer's order
    for r in (i for i in range(len(lines)) if chains.root(i) == i):
        horizontal = isinstance(lines[r], LTTextLineHorizontal)
        box: LTTextBox = LTTextBoxHorizontal() if horizontal else LTTextBoxVertical()
        for j in chains.chain(r):
            box.add(lines[j])
        if not box.is_empty():
            yield box


class LayoutTooSlow(ValueError):
    """A page took longer to lay out than it may (:class:`PageClock`)."""


class PageClock:
    """How long one page may take to lay out, checked as its strings of glyphs are drawn and
    its lines grouped (a clock read each time), so that no page holds a run up for longer."""

    def __init__(self, seconds: float, document: tuple[float, float] | None = None) -> None:
        self.seconds, self.deadline, self.page = seconds, float("inf"), 0
        #: (monotonic deadline, seconds) for the whole file, where one is set
        self.document = document

    def start(self, page: int) -> None:
        self.page, self.deadline = page, time.monotonic() + self.seconds

    def check(self) -> None:
        now = time.monotonic()
        if now > self.deadline:
            raise LayoutTooSlow(f"page {self.page} took over {self.seconds:g} s to lay out "
                                "(text drawn over itself?), the limit for one page")
        if self.document is not None and now > self.document[0]:
            raise LayoutTooSlow(f"reading it took over {self.document[1]:g} s (at page "
                                f"{self.page}), the limit for one document here")


class _LinearGrouping:
    clock: PageClock | None = None

    def group_textlines(self, laparams: LAParams, lines: Iterable[LTTextLine]
                        ) -> Iterator[LTTextBox]:
        return grouped_lines(self.bbox, laparams, lines,  # type: ignore[attr-defined]
                             self.clock)


class _Page(_LinearGrouping, LTPage):
    pass


class _Figure(_LinearGrouping, LTFigure):
    pass


class LinearAggregator(PDFPageAggregator):
    """``PDFPageAggregator`` whose pages and figures group their lines by
    :func:`grouped_lines`: made by pdfminer as always, then given the subclass that differs
    only in that method; each page within ``clock``'s time, when one is given."""

    def __init__(self, *args: Any, clock: PageClock | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.clock = clock

    def begin_page(self, page: Any, ctm: Any) -> None:
        super().begin_page(page, ctm)
        if self.clock is not None:
            self.clock.start(self.pageno)
        self.cur_item.__class__ = _Page
        self.cur_item.clock = self.clock  # type: ignore[attr-defined]

    def begin_figure(self, name: str, bbox: Any, matrix: Any) -> None:
        super().begin_figure(name, bbox, matrix)
        self.cur_item.__class__ = _Figure
        self.cur_item.clock = self.clock  # type: ignore[attr-defined]

    def render_string(self, *args: Any, **kwargs: Any) -> None:
        """One text-showing operator (a string of glyphs): the clock is read once for it."""
        if self.clock is not None:
            self.clock.check()
        super().render_string(*args, **kwargs)
