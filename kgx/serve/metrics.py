"""Prometheus metrics of the service, in the text exposition format (no client library needed).

``kgx_serve_requests_total{route,method,status}``, ``kgx_serve_request_seconds`` (histogram by
route), ``kgx_serve_batch_documents`` and ``kgx_serve_batch_words`` (histograms of the batches
``nlp.pipe`` ran), ``kgx_serve_queue_depth`` (documents waiting), ``kgx_serve_words_total``,
``kgx_serve_documents_total``, ``kgx_serve_ingested_documents_total``.
"""

from __future__ import annotations

import threading
from collections import Counter, defaultdict
from collections.abc import Callable

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
DOC_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256)
WORD_BUCKETS = (50, 100, 250, 500, 1000, 2000, 4000, 8000, 16000, 32000)


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


class Histogram:
    def __init__(self, buckets: tuple[float, ...]) -> None:
        self.buckets = buckets
        self.counts = [0] * len(buckets)
        self.sum = 0.0
        self.count = 0

    def observe(self, value: float) -> None:
        for i, bound in enumerate(self.buckets):
            if value <= bound:
                self.counts[i] += 1
        self.sum += value
        self.count += 1

    def lines(self, name: str, labels: str = "") -> list[str]:
        sep = "," if labels else ""
        out = [f'{name}_bucket{{{labels}{sep}le="{b:g}"}} {c}'
               for b, c in zip(self.buckets, self.counts, strict=True)]
        out.append(f'{name}_bucket{{{labels}{sep}le="+Inf"}} {self.count}')
        brace = f"{{{labels}}}" if labels else ""
        out += [f"{name}_sum{brace} {self.sum:.6f}", f"{name}_count{brace} {self.count}"]
        return out


class Metrics:
    """The counters of one server process (thread-safe)."""

    def __init__(self, queue_depth: Callable[[], int] = lambda: 0) -> None:
        self._lock = threading.Lock()
        self.requests: Counter[tuple[str, str, int]] = Counter()
        self.latency: dict[str, Histogram] = defaultdict(lambda: Histogram(LATENCY_BUCKETS))
        self.batch_docs = Histogram(DOC_BUCKETS)
        self.batch_words = Histogram(WORD_BUCKETS)
        self.words = 0
        self.documents = 0
        self.ingested = 0
        self.queue_depth = queue_depth

    def request(self, route: str, method: str, status: int, seconds: float) -> None:
        with self._lock:
            self.requests[(route, method, status)] += 1
            self.latency[route].observe(seconds)

    def batch(self, documents: int, words: int, seconds: float) -> None:
        with self._lock:
            self.batch_docs.observe(documents)
            self.batch_words.observe(words)
            self.words += words
            self.documents += documents

    def ingest(self, documents: int) -> None:
        with self._lock:
            self.ingested += documents

    def render(self) -> str:
        with self._lock:
            out = ["# HELP kgx_serve_requests_total HTTP requests by route, method and status.",
                   "# TYPE kgx_serve_requests_total counter"]
            for (route, method, status), n in sorted(self.requests.items()):
                out.append(f'kgx_serve_requests_total{{route="{_label(route)}",'
                           f'method="{method}",status="{status}"}} {n}')
            out += ["# HELP kgx_serve_request_seconds Request latency by route.",
                    "# TYPE kgx_serve_request_seconds histogram"]
            for route, hist in sorted(self.latency.items()):
                out += hist.lines("kgx_serve_request_seconds", f'route="{_label(route)}"')
            out += ["# HELP kgx_serve_batch_documents Documents per nlp.pipe batch.",
                    "# TYPE kgx_serve_batch_documents histogram",
                    *self.batch_docs.lines("kgx_serve_batch_documents"),
                    "# HELP kgx_serve_batch_words Words per nlp.pipe batch.",
                    "# TYPE kgx_serve_batch_words histogram",
                    *self.batch_words.lines("kgx_serve_batch_words"),
                    "# HELP kgx_serve_queue_depth Documents waiting for a batch.",
                    "# TYPE kgx_serve_queue_depth gauge",
                    f"kgx_serve_queue_depth {self.queue_depth()}",
                    "# HELP kgx_serve_words_total Words processed by the pipeline.",
                    "# TYPE kgx_serve_words_total counter",
                    f"kgx_serve_words_total {self.words}",
                    "# HELP kgx_serve_documents_total Documents processed by the pipeline.",
                    "# TYPE kgx_serve_documents_total counter",
                    f"kgx_serve_documents_total {self.documents}",
                    "# HELP kgx_serve_ingested_documents_total Documents ingested into the store.",
                    "# TYPE kgx_serve_ingested_documents_total counter",
                    f"kgx_serve_ingested_documents_total {self.ingested}"]
        return "\n".join(out) + "\n"
