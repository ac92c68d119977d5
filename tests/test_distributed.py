"""kgx.batch.distributed: a run on a LocalCluster writes the same records as a local run."""

from __future__ import annotations

import json

import pytest
from test_batch import make_corpus, run_records
from typer.testing import CliRunner

from kgx.batch import BatchError, ExtractionRun
from kgx.batch.distributed import connect
from kgx.cli import app
from kgx.rundir import read_manifest

pytest.importorskip("dask.distributed")


@pytest.mark.slow
def test_local_cluster_matches_the_local_run(fixture_model, tmp_path):
    corpus = make_corpus(tmp_path / "c.jsonl", 120)
    with (tmp_path / "c.jsonl").open("a") as fh:
        fh.write("{broken\n")
        fh.write(json.dumps({"id": "long", "text": " ".join(["Acme is in Paris."] * 200)})
                 + "\n")
    local = tmp_path / "local"
    ExtractionRun([corpus], fixture_model, local, shard_size=50, max_length=1000,
                  progress=False).run()
    dist = tmp_path / "dask"
    r = CliRunner().invoke(app, ["extract", str(corpus), "--model", str(fixture_model),
                                 "--output", str(dist), "--dask", "local:2",
                                 "--partition-size", "16", "--shard-size", "50",
                                 "--max-length", "1000", "--no-progress"])
    assert r.exit_code == 0, r.output
    assert "122 documents (121 ok, 1 errors" in r.output
    assert run_records(dist) == run_records(local)
    assert list(read_manifest(dist)) == list(read_manifest(local))
    assert sorted(p.name for p in (dist / "relations").iterdir()) == \
        sorted(p.name for p in (local / "relations").iterdir())
    run = json.loads((dist / "run.json").read_text())
    assert run["args"]["dask"] == "local:2"


def test_dask_annotator_bounds_futures_and_keeps_order(fixture_model, tmp_path):
    """The client-side run with an explicit in-flight bound, on one in-process worker."""
    from dask.distributed import Client, LocalCluster

    corpus = make_corpus(tmp_path / "c.jsonl", 30)
    local = tmp_path / "local"
    ExtractionRun([corpus], fixture_model, local, progress=False).run()
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        from kgx.batch import load_model
        from kgx.batch.distributed import DaskAnnotator
        from kgx.records import model_name

        nlp = load_model(fixture_model)
        annotator = DaskAnnotator(client, str(fixture_model), model_name(nlp),
                                  partition_size=4, max_in_flight=2)
        run = ExtractionRun([corpus], nlp, tmp_path / "dask", annotator=annotator,
                            progress=False)
        totals = run.run()
    assert totals.documents == 30
    assert run_records(tmp_path / "dask") == run_records(local)


def test_bad_dask_addresses_are_clear_errors():
    with pytest.raises(BatchError, match="local:N"):
        connect("local:zero")
    with pytest.raises(BatchError, match="cannot connect"):
        connect("tcp://127.0.0.1:1", timeout="1s")


def test_quiet_dask_logs_raises_and_restores_levels():
    """Only raised (never lowered), restored after, and left alone when kgx logs at DEBUG."""
    import logging

    from kgx.batch.distributed import quiet_dask_logs

    dist, kgx_log = logging.getLogger("distributed"), logging.getLogger("kgx")
    old, old_kgx = dist.level, kgx_log.level
    try:
        dist.setLevel(logging.INFO)
        with quiet_dask_logs():
            assert dist.level == logging.WARNING
        assert dist.level == logging.INFO
        dist.setLevel(logging.ERROR)
        with quiet_dask_logs():
            assert dist.level == logging.ERROR
        dist.setLevel(logging.INFO)
        kgx_log.setLevel(logging.DEBUG)  # `kgx -v`
        with quiet_dask_logs():
            assert dist.level == logging.INFO
    finally:
        dist.setLevel(old)
        kgx_log.setLevel(old_kgx)


# the `kgx` command in a fresh process, logging configured before distributed is imported (as
# the CLI does), so distributed's records reach the root handler; prints the levels afterwards
_QUIET_SCRIPT = """
import json, logging, sys
logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
import distributed
logging.getLogger("distributed").setLevel(15)  # the caller's own choice, to be kept
from kgx.cli import app
try:
    app(sys.argv[1:], standalone_mode=False)
finally:
    print(json.dumps({"distributed": logging.getLogger("distributed").level}))
"""


@pytest.mark.slow
def test_local_cluster_is_quiet_and_closes_cleanly(fixture_model, tmp_path):
    import os
    import subprocess
    import sys

    corpus = make_corpus(tmp_path / "c.jsonl", 6)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(
        [sys.executable, "-c", _QUIET_SCRIPT, "extract", str(corpus), "--model",
         str(fixture_model), "--output", str(tmp_path / "run"), "--dask", "local:1",
         "--no-progress"],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "6 documents (6 ok" in proc.stdout
    noise = [line for line in proc.stderr.splitlines()
             if "distributed" in line and "INFO" in line]
    assert not noise, proc.stderr
    assert "still alive" not in proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == {"distributed": 15}
