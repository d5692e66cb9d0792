"""The store contract on every backend (DuckDB, Delta in a folder, Delta on S3 through moto),
writers in several processes at once, and the same numbers from the DuckDB and Delta stores."""

import datetime as dt
import json
import multiprocessing as mp
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT, materialise

from paperatlas.pipeline.models import IngestError

ROW = {
    "partition_key": "a-2020", "paper_id": "p1", "venue": "a", "year": 2020, "title": "It's \"quoted\"",
    "authors": ["Ann", "Bo"], "affiliations": [["MIT", "CMU"], []], "email_domains": [],
    "aligned": True, "fetched_at": dt.datetime(2024, 5, 1, 12, 30, 15, 123456), "sources": None,
}


def test_every_column_type_reads_back_as_written(store_at):
    kind, open_store = store_at
    store = open_store()
    store.replace_partition("raw_papers", "a-2020", [ROW, {"partition_key": "a-2020", "paper_id": "p2"}])
    rows = store.records("SELECT * FROM raw_papers ORDER BY paper_id")
    assert [r["paper_id"] for r in rows] == ["p1", "p2"]
    got = rows[0]
    for name, value in ROW.items():
        assert got[name] == value, (kind, name)
    assert rows[1]["authors"] is None and rows[1]["year"] is None and rows[1]["aligned"] is None
    assert store.scalar("SELECT typeof(affiliations) FROM raw_papers LIMIT 1") == "VARCHAR[][]"


def test_replace_where_delete_where_and_whole_tables(store_at):
    _, open_store = store_at
    store = open_store()
    runs = [{"partition_key": "a-2020", "snapshot": s, "papers": s * 10} for s in (1, 2, 3)]
    for run in runs:
        store.replace_where("headline_snapshot_runs", [run], "partition_key = ? AND snapshot = ?",
                            ["a-2020", run["snapshot"]])
    store.replace_where("headline_snapshot_runs", [{**runs[1], "papers": 99}], "partition_key = ? AND snapshot = ?",
                        ["a-2020", 2])
    with store.connect() as con:  # a write through a connection is seen by that connection
        store.delete_where("headline_snapshot_runs", "partition_key = ? AND snapshot <= ?", ["a-2020", 1], con=con)
        seen = store.query("SELECT snapshot, papers FROM headline_snapshot_runs ORDER BY 1", con=con)
    assert seen.values.tolist() == [[2, 99], [3, 30]]
    store.replace_table("terms", [{"term": "bert", "patterns": ["BERT"]}, {"term": "o'neil", "patterns": []}])
    store.replace_table("terms", [{"term": "llama", "patterns": ["LLaMA", "Llama"]}])
    assert store.records("SELECT term, patterns FROM terms") == [{"term": "llama", "patterns": ["LLaMA", "Llama"]}]
    store.replace_table("terms", [])
    assert store.scalar("SELECT count(*) FROM terms") == 0
    store.record_errors("a-2020", "raw_papers", [IngestError("a-2020", "raw_papers", "paper 'x'", "bad")])
    store.record_errors("b-2020", "raw_papers", [IngestError("b-2020", "raw_papers", "paper y", "bad")])
    store.record_errors("a-2020", "raw_papers", [])
    assert store.query("SELECT partition_key FROM ingest_errors")["partition_key"].tolist() == ["b-2020"]


def test_a_store_never_written_reads_as_empty(store_at):
    kind, open_store = store_at
    if kind == "duckdb":
        pytest.skip("a read-only DuckDB store needs the file (the command line says 'no paperatlas store')")
    store = open_store(read_only=True)
    assert not store.exists()
    assert store.partitions() == []
    assert store.query("SELECT * FROM paper_countries").empty
    with pytest.raises(Exception, match="read-only"):
        store.replace_partition("raw_papers", "a-2020", [])


def _writer(kind: str, uri: str, worker: int, rounds: int, keys: int) -> None:
    from paperatlas.pipeline.config import store_options
    from paperatlas.pipeline.store_delta import DeltaWarehouse

    store = DeltaWarehouse(uri, store_options())
    for r in range(rounds):
        for k in range(keys):
            key = f"w{worker}-{2000 + k}"
            store.replace_partition("raw_papers", key, [
                {"partition_key": key, "paper_id": f"{j}", "title": f"round {r}"} for j in range(5)])
    # and one partition every worker rewrites: commits that truly collide are retried
    store.replace_partition("raw_papers", "shared-2000", [
        {"partition_key": "shared-2000", "paper_id": f"{j}", "title": f"worker {worker}"} for j in range(3)])


@pytest.mark.parametrize("kind", ["delta", "delta-s3"])
def test_concurrent_writers_in_processes_lose_nothing_and_readers_see_whole_partitions(kind, tmp_path, request):
    from paperatlas.pipeline.config import store_options
    from paperatlas.pipeline.store_delta import DeltaWarehouse

    uri = str(tmp_path / "delta") if kind == "delta" else f"s3://{request.getfixturevalue('s3_bucket')}/store"
    store = DeltaWarehouse(uri, store_options())
    store.replace_partition("raw_papers", "seed-2000", [{"partition_key": "seed-2000", "paper_id": "0"}])
    workers, rounds, keys = 3, 3, 3
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(kind, uri, w, rounds, keys)) for w in range(workers)]
    for p in procs:
        p.start()
    reads, torn = 0, []
    while any(p.is_alive() for p in procs):
        frame = store.query("SELECT partition_key, count(*) AS n, count(DISTINCT title) AS titles "
                            "FROM raw_papers GROUP BY 1")
        reads += 1
        torn += [row for row in frame.itertuples() if row.partition_key != "seed-2000"
                 and (row.titles != 1 or row.n != (3 if row.partition_key == "shared-2000" else 5))]
        time.sleep(0.05)
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0] * workers
    assert reads > 0 and not torn, torn[:3]
    rows = store.records("SELECT partition_key, count(*) AS n, any_value(title) AS title FROM raw_papers GROUP BY 1")
    by = {r["partition_key"]: (r["n"], r["title"]) for r in rows}
    assert len(by) == workers * keys + 2
    assert all(by[f"w{w}-{2000 + k}"] == (5, f"round {rounds - 1}") for w in range(workers) for k in range(keys))
    assert by["shared-2000"][0] == 3 and by["seed-2000"] == (1, None)
    versions = store._table("raw_papers").version()
    # version 0 created the table, 1 is the seed, then one commit per write: none lost, none merged
    assert versions == 1 + workers * (rounds * keys + 1)


def test_an_older_delta_table_gains_the_columns_a_newer_paperatlas_declares(tmp_path):
    import pyarrow as pa
    from deltalake import DeltaTable

    from paperatlas.pipeline.store_delta import DeltaWarehouse, arrow_schema

    uri = tmp_path / "delta"
    old = pa.schema([f for f in arrow_schema("source_reads") if f.name != "stats"])
    DeltaTable.create(str(uri / "source_reads"), old, partition_by=["partition_key"])
    store = DeltaWarehouse(str(uri))
    assert store.query("SELECT stats FROM source_reads").empty  # read before any write: NULL column
    store.replace_partition("source_reads", "a-2020", [{"partition_key": "a-2020", "source": "x", "stats": "{}"}])
    assert store.records("SELECT source, stats FROM source_reads") == [{"source": "x", "stats": "{}"}]


def _month_rows(store, months: int) -> None:
    for m in range(1, months + 1):
        key = f"a-2020-m{m:02d}"
        store.replace_partition("paper_countries", key, [
            {"partition_key": key, "paper_id": "p1", "venue": "a", "year": 2020, "country": c, "authors": 1,
             "fractional": 0.5, "n_countries": 2} for c in ("CN", "US")])
        store.replace_partition("country_edges", key, [
            {"partition_key": key, "paper_id": "p1", "venue": "a", "year": 2020, "country_a": "CN",
             "country_b": "US", "fractional": 1.0}])


def test_the_yearly_counts_read_each_delta_file_once_and_never_ask_its_size(s3_bucket):
    """On S3 every file a query scans is requests; the yearly counts scan `paper_countries`
    three times and `country_edges` twice, so they read each once into memory first, and the
    files' sizes come from the Delta log (no HEAD per file)."""
    import requests

    from paperatlas.pipeline.config import store_options
    from paperatlas.pipeline.reports import queries
    from paperatlas.pipeline.store_delta import DeltaWarehouse

    store = DeltaWarehouse(f"s3://{s3_bucket}/store", store_options())
    _month_rows(store, 12)
    moto = os.environ["AWS_ENDPOINT_URL"] + "/moto-api/recorder/"
    if requests.post(moto + "reset-recording", timeout=10).status_code == 404:
        pytest.skip("the S3 service is not moto: it has no request recorder to count requests with")
    requests.post(moto + "start-recording", timeout=10).raise_for_status()
    try:
        counts = queries.yearly_counts(store)
    finally:
        requests.post(moto + "stop-recording", timeout=10)
    recorded = [json.loads(line) for line in requests.get(moto + "download-recording", timeout=10).text.splitlines()
                if line.strip()]
    data = [(r["method"], r["url"].split("?")[0]) for r in recorded
            if f"/{s3_bucket}/" in r["url"] and ".parquet" in r["url"] and "_delta_log" not in r["url"]]
    files = {url for _, url in data}
    assert len(files) == 24  # 12 months of two tables
    assert not [url for method, url in data if method != "GET"]
    per_file = {url: sum(1 for _, u in data if u == url) for url in files}
    assert max(per_file.values()) <= 2, per_file  # the footer, then the columns: once
    assert counts["countries"].query("venue == 'all'")[["country", "papers"]].values.tolist() == [["CN", 12],
                                                                                                   ["US", 12]]
    assert counts["pairs"]["papers"].tolist() == [12, 12]


def test_a_delta_table_keeps_a_checkpoint_every_ten_commits_and_maintain_sets_it_on_older_tables(tmp_path):
    """Opening a table reads every commit since its last checkpoint, one request each on S3."""
    from deltalake import DeltaTable

    from paperatlas.pipeline.store_delta import CHECKPOINT_INTERVAL, DeltaWarehouse, arrow_schema

    store = DeltaWarehouse(str(tmp_path / "delta"))
    _month_rows(store, 12)
    log = tmp_path / "delta" / "paper_countries" / "_delta_log"
    assert [p.name for p in log.glob("*.checkpoint.parquet")]
    old = tmp_path / "old"
    DeltaTable.create(str(old / "raw_papers"), arrow_schema("raw_papers"), partition_by=["partition_key"])
    older = DeltaWarehouse(str(old))
    assert "delta.checkpointInterval" not in DeltaTable(str(old / "raw_papers")).metadata().configuration
    older.maintain(log=lambda line: None)
    configuration = DeltaTable(str(old / "raw_papers")).metadata().configuration
    assert configuration["delta.checkpointInterval"] == CHECKPOINT_INTERVAL


def test_worker_pools_do_not_fork_once_deltalake_has_run():
    done = subprocess.run([sys.executable, "-c", (
        "from pipeline import pool; a = pool.start_method(); import deltalake; b = pool.start_method(); print(a, b)")],
        cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["fork", "forkserver"]


def _numbers(home_dir, store_kind, monkeypatch, extra_env=None):
    """Materialise the fixture venue-years and the aggregates into `store_kind` and return
    every number the report, the trend and the yearly tables print."""
    from dagster import DagsterInstance

    from paperatlas.definitions import build_definitions
    from paperatlas.pipeline.config import load_settings
    from paperatlas.pipeline.reports.render import report_json
    from paperatlas.pipeline.reports.views import build_report
    from paperatlas.pipeline.store import open_store

    monkeypatch.setenv("PAPERATLAS_HOME", str(home_dir))
    monkeypatch.setenv("DAGSTER_HOME", str(home_dir / "dagster"))
    monkeypatch.setenv("PAPERATLAS_STORE", store_kind)
    for name, value in (extra_env or {}).items():
        monkeypatch.setenv(name, value)
    settings = load_settings()
    defs = build_definitions(settings)
    instance = DagsterInstance.ephemeral()
    assert defs.resolve_job_def("reference_job").execute_in_process(instance=instance).success
    assert defs.resolve_job_def("terms_job").execute_in_process(instance=instance).success
    for key in ("neurips-2020", "icml-2021"):
        assert materialise(defs, instance, key).success
    assert defs.resolve_job_def("aggregates_job").execute_in_process(instance=instance).success
    store = open_store(settings, read_only=True)
    out = {}
    for key in ("neurips-2020", "icml-2021"):
        report = report_json(build_report(store, key))
        out[key] = json.loads(json.dumps(report, default=str))
    for table in ("yearly_summary", "yearly_headlines", "yearly_pairs", "yearly_country", "yearly_partners"):
        frame = store.query(f"SELECT * FROM {table}")
        out[table] = sorted(json.dumps(r, sort_keys=True, default=str) for r in frame.to_dict("records"))
    out["errors"] = sorted(store.query("SELECT partition_key, stage, item, reason FROM ingest_errors")
                           .astype(str).values.tolist())
    return out


def _strip(value):
    """Drop what differs by where and when a store was written (paths, times, run ids)."""
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items()
                if not any(w in k for w in ("path", "folder", "generated", "taken_at", "run_id", "store"))}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def test_the_duckdb_and_delta_stores_give_the_same_numbers(home, tmp_path, monkeypatch):
    duck = _numbers(tmp_path / "duck", "duckdb", monkeypatch)
    delta = _numbers(tmp_path / "delta", "delta", monkeypatch)
    assert (tmp_path / "delta" / "delta" / "paper_countries" / "_delta_log").is_dir()
    assert not (tmp_path / "delta" / "paperatlas.duckdb").exists()
    assert duck["neurips-2020"]["us_cn_papers"] == 1
    assert _strip(duck) == _strip(delta)


def test_the_delta_store_on_s3_gives_the_same_numbers(home, tmp_path, monkeypatch, s3_bucket):
    duck = _numbers(tmp_path / "duck", "duckdb", monkeypatch)
    s3 = _numbers(tmp_path / "s3", "delta", monkeypatch, {"PAPERATLAS_STORE_URI": f"s3://{s3_bucket}/paperatlas"})
    assert _strip(duck) == _strip(s3)
    # files kept with the store (the term catalogue's copy) go to the files folder, not to a
    # local folder named after the URI
    from paperatlas.pipeline.config import load_settings
    from paperatlas.pipeline.store import open_store

    copies = open_store(load_settings(), read_only=True).records("SELECT DISTINCT catalogue_copy FROM terms")
    assert [Path(c["catalogue_copy"]).parent for c in copies] == [tmp_path / "s3" / "reference"]
    assert not list(Path.cwd().glob("s3:*")) and not list(ROOT.glob("s3:*"))


def test_store_command_says_where_and_maintains_the_delta_tables(home, tmp_path, monkeypatch):
    _numbers(tmp_path / "h", "delta", monkeypatch)
    env = {**os.environ}
    run = [sys.executable, "-m", "paperatlas.cli", "store"]
    where = subprocess.run(run, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert where.returncode == 0, where.stderr
    assert where.stdout.splitlines()[0] == f"delta\t{tmp_path / 'h' / 'delta'}"
    before = subprocess.run([sys.executable, "-m", "paperatlas.cli", "report", "neurips-2020", "--json"], cwd=ROOT,
                            env=env, capture_output=True, text=True, timeout=120)
    assert before.returncode == 0, before.stderr
    done = subprocess.run(run + ["maintain", "--retention-hours", "0"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "raw_papers: version" in done.stderr and "old files deleted" in done.stderr
    after = subprocess.run([sys.executable, "-m", "paperatlas.cli", "report", "neurips-2020", "--json"], cwd=ROOT,
                           env=env, capture_output=True, text=True, timeout=120)
    assert after.returncode == 0, after.stderr
    assert json.loads(after.stdout)["us_cn_papers"] == json.loads(before.stdout)["us_cn_papers"] == 1
    log = tmp_path / "h" / "delta" / "raw_papers" / "_delta_log"
    assert any(p.name.endswith(".checkpoint.parquet") for p in log.iterdir())
