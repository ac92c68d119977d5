"""`kgx serve` benchmark (issue 15): closed-loop clients over HTTP on 127.0.0.1.

One run prints, over the demo texts (``corpora/raw``):
* bare ``nlp.pipe`` words/s on the texts, and the latency of a single ``nlp(text)`` call
  (p50/p95), measured in this process before any server starts;
* served requests/s, words/s, p50/p95/p99 latency with closed-loop clients at concurrency 1, 8
  and 32 (each client sends one document, waits for the answer, sends the next), batching on;
* the same at the highest concurrency with batching off (``--no-batching``), and the gain;
* the server's RSS over ``--rss-requests`` requests (first sample after a warm-up);
* ingest throughput: documents/s into the embedded store (closed loop, concurrency 8).

    python benchmarks/bench_serve.py                              # the small CPU test pipeline
    python benchmarks/bench_serve.py --model /path/to/model-best --seconds 20

Every server runs in its own subprocess (``kgx serve``); clients are threads of this process.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def small_pipeline(path: Path) -> Path:
    sys.path.insert(0, str(ROOT / "tests"))
    from test_batch import build_fixture_pipeline

    return build_fixture_pipeline(path)


def words(doc) -> int:
    return sum(1 for t in doc if not (t.is_punct or t.is_space))


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))]


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class Server:
    def __init__(self, model: Path, *args: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "kgx", "serve", str(model), "--port", str(self.port), *args],
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.log.seek(0)
                raise RuntimeError(self.log.read().decode()[-3000:])
            try:
                if httpx.get(self.url + "/ready", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError("the server did not get ready")

    def stop(self) -> int:
        self.proc.terminate()
        return self.proc.wait(120)


def closed_loop(url: str, route: str, bodies: list[dict], weights: list[int], concurrency: int,
                seconds: float | None = None, total: int | None = None) -> dict:
    """``concurrency`` clients, each posting the next body as soon as it has an answer."""
    lat: list[float] = []
    done_words = [0]
    errors = [0]
    counter = [0]
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds if seconds else None

    def client() -> None:
        with httpx.Client(timeout=120) as http:
            while True:
                with lock:
                    i = counter[0]
                    counter[0] += 1
                if total is not None and i >= total:
                    return
                if stop_at is not None and time.monotonic() >= stop_at:
                    return
                body = bodies[i % len(bodies)]
                t0 = time.perf_counter()
                r = http.post(url + route, json=body)
                dt = time.perf_counter() - t0
                with lock:
                    if r.status_code == 200:
                        lat.append(dt)
                        done_words[0] += weights[i % len(bodies)]
                    else:
                        errors[0] += 1

    start = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    return {"concurrency": concurrency, "requests": len(lat), "errors": errors[0],
            "seconds": round(elapsed, 2), "requests_per_s": round(len(lat) / elapsed, 1),
            "words_per_s": round(done_words[0] / elapsed), "p50_ms": round(pct(lat, 50) * 1e3, 1),
            "p95_ms": round(pct(lat, 95) * 1e3, 1), "p99_ms": round(pct(lat, 99) * 1e3, 1)}


def bare(model: str, seconds: float) -> dict:
    """Bare ``nlp.pipe`` words/s over the texts and single ``nlp(text)`` latencies, in a fresh
    process like the server's."""
    import spacy

    texts = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "corpora/raw").glob("*.txt"))]
    nlp = spacy.load(model)
    weights = [words(d) for d in nlp.pipe(texts)]  # warm-up, and the words of each text
    t0 = time.perf_counter()
    n_words = rounds = 0
    while time.perf_counter() - t0 < seconds / 2 or rounds < 1:
        n_words += sum(words(d) for d in nlp.pipe(texts, batch_size=64))
        rounds += 1
    rate = n_words / (time.perf_counter() - t0)
    single = []
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds / 2 or len(single) < len(texts):
        s = time.perf_counter()
        nlp(texts[len(single) % len(texts)])
        single.append(time.perf_counter() - s)
    return {"words_per_s": round(rate), "single_p50_ms": round(pct(single, 50) * 1e3, 1),
            "single_p95_ms": round(pct(single, 95) * 1e3, 1), "weights": weights}


def bare_in_subprocess(model: Path, seconds: float) -> dict:
    out = subprocess.run([sys.executable, __file__, "--bare", str(model), "--seconds",
                          str(seconds)], capture_output=True, text=True, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    print(json.dumps({k: v for k, v in result.items() if k != "weights"}), flush=True)
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", type=Path, help="saved pipeline (default: the small CPU one)")
    ap.add_argument("--seconds", type=float, default=10.0, help="per concurrency level")
    ap.add_argument("--levels", default="1,8,32")
    ap.add_argument("--rss-requests", type=int, default=2000)
    ap.add_argument("--ingest-docs", type=int, default=200)
    ap.add_argument("--max-batch-words", type=int, default=4000)
    ap.add_argument("--max-wait-ms", type=float, default=5.0)
    ap.add_argument("--bare", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.bare:
        print(json.dumps(bare(args.bare, args.seconds)))
        return
    tmp = Path(tempfile.mkdtemp(prefix="bench-serve-"))
    model = args.model or small_pipeline(tmp / "model")

    texts = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "corpora/raw").glob("*.txt"))]
    bodies = [{"id": f"doc{i}", "text": t} for i, t in enumerate(texts)]
    before = bare_in_subprocess(model, args.seconds)
    weights = before.pop("weights")
    out: dict = {"model": str(args.model or "small CPU test pipeline"), "texts": len(texts),
                 "words": sum(weights), "bare_before": before}
    print(json.dumps(out), flush=True)

    levels = [int(x) for x in args.levels.split(",")]
    opts = ["--max-batch-words", str(args.max_batch_words), "--max-wait-ms",
            str(args.max_wait_ms), "--max-queue", "100000"]
    srv = Server(model, *opts)
    try:
        closed_loop(srv.url, "/v1/extract", bodies, weights, 4, total=2 * len(bodies))
        out["batching_on"] = []
        for c in levels:
            row = closed_loop(srv.url, "/v1/extract", bodies, weights, c, seconds=args.seconds)
            out["batching_on"].append(row)
            print(json.dumps(row), flush=True)
        # RSS over many requests
        pid = srv.proc.pid
        samples = [rss_kib(pid)]
        step = max(1, args.rss_requests // 10)
        for _ in range(10):
            closed_loop(srv.url, "/v1/extract", bodies, weights, 8, total=step)
            samples.append(rss_kib(pid))
        out["rss"] = {"requests": step * 10, "first_mib": round(samples[0] / 1024, 1),
                      "last_mib": round(samples[-1] / 1024, 1),
                      "max_mib": round(max(samples) / 1024, 1),
                      "drift_pct": round(100 * (samples[-1] - samples[0]) / samples[0], 1)}
        print(json.dumps(out["rss"]), flush=True)
    finally:
        srv.stop()
    srv = Server(model, "--no-batching", "--max-queue", "100000")
    try:
        closed_loop(srv.url, "/v1/extract", bodies, weights, 4, total=len(bodies))
        row = closed_loop(srv.url, "/v1/extract", bodies, weights, levels[-1],
                          seconds=args.seconds)
        out["batching_off"] = row
        print(json.dumps(row), flush=True)
    finally:
        srv.stop()
    srv = Server(model, *opts, "--store", str(tmp / "store"))
    try:
        ingest = [{"id": f"doc{i}", "text": texts[i % len(texts)]}
                  for i in range(args.ingest_docs)]
        row = closed_loop(srv.url, "/v1/ingest", ingest, [1] * len(ingest), 8,
                          total=len(ingest))
        out["ingest"] = {"documents": row["requests"], "errors": row["errors"],
                         "documents_per_s": row["requests_per_s"], "p50_ms": row["p50_ms"],
                         "p95_ms": row["p95_ms"]}
        print(json.dumps(out["ingest"]), flush=True)
    finally:
        srv.stop()

    out["bare_after"] = bare_in_subprocess(model, args.seconds)
    out["bare_after"].pop("weights")
    bare_rate = (out["bare_before"]["words_per_s"] + out["bare_after"]["words_per_s"]) / 2
    single_p95 = (out["bare_before"]["single_p95_ms"] + out["bare_after"]["single_p95_ms"]) / 2
    top = out["batching_on"][-1]
    print("\n## summary")
    print(f"bare nlp.pipe: {out['bare_before']['words_per_s']} words/s before the served runs, "
          f"{out['bare_after']['words_per_s']} after; single nlp(text) p95 "
          f"{out['bare_before']['single_p95_ms']} / {out['bare_after']['single_p95_ms']} ms")
    for row in out["batching_on"]:
        print(f"c={row['concurrency']:>2}: {row['requests_per_s']} req/s, {row['words_per_s']} "
              f"words/s, p50/p95/p99 {row['p50_ms']}/{row['p95_ms']}/{row['p99_ms']} ms, "
              f"errors {row['errors']}")
    off = out["batching_off"]
    print(f"c={off['concurrency']} batching off: {off['words_per_s']} words/s; gain of batching "
          f"{top['words_per_s'] / max(1, off['words_per_s']):.2f}x")
    print(f"served/bare at c={top['concurrency']}: {top['words_per_s'] / bare_rate:.2f}x (target "
          f">= 0.85); p95 at c=1 / single call p95: "
          f"{out['batching_on'][0]['p95_ms'] / max(0.1, single_p95):.2f}x (target <= 1.3)")
    print(f"RSS over {out['rss']['requests']} requests: {out['rss']['first_mib']} -> "
          f"{out['rss']['last_mib']} MiB ({out['rss']['drift_pct']:+}%)")
    print(f"ingest: {out['ingest']['documents_per_s']} documents/s into the embedded store")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
