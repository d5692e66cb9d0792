import multiprocessing as mp

import pandas as pd
import pyarrow as pa

from paperatlas.pipeline.models import IngestError
from paperatlas.pipeline.store import Warehouse


def test_replace_partition_is_idempotent(store_at):
    store = store_at[1]()
    def rows(key, n):
        return [{"partition_key": key, "paper_id": str(i), "authors": ["x"], "affiliations": [["u"]]} for i in range(n)]

    assert store.replace_partition("raw_papers", "a-2020", rows("a-2020", 3)) == 3
    assert store.replace_partition("raw_papers", "a-2020", rows("a-2020", 3)) == 3
    store.replace_partition("raw_papers", "b-2020", rows("b-2020", 1))
    assert len(store.read_partition("raw_papers", "a-2020")) == 3
    assert store.partitions() == ["a-2020", "b-2020"]
    store.replace_partition("raw_papers", "a-2020", [])
    assert store.partitions() == ["b-2020"]


def test_rows_of_another_partition_are_refused(store_at):
    store = store_at[1]()
    try:
        store.replace_partition("raw_papers", "b-2020", [{"partition_key": "a-2020", "paper_id": "1"}])
    except ValueError as exc:
        assert "'a-2020' given to replace 'b-2020'" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("expected a ValueError")
    assert store.partitions() == []


def test_rows_framed_before_the_write_are_written_as_the_rows_would_be(store_at):
    store = store_at[1]()
    rows = [{"partition_key": "a-2020", "paper_id": "1", "authors": ["x", "y"], "year": 2020},
            {"partition_key": "a-2020", "paper_id": "2", "authors": [], "year": None}]
    store.replace_partition("raw_papers", "a-2020", store.framed("raw_papers", rows))
    framed = store.read_partition("raw_papers", "a-2020")[["paper_id", "authors", "year"]]
    store.replace_partition("raw_papers", "a-2020", rows)
    direct = store.read_partition("raw_papers", "a-2020")[["paper_id", "authors", "year"]]
    assert framed.astype(str).values.tolist() == direct.astype(str).values.tolist()
    assert [list(a) for a in framed["authors"]] == [["x", "y"], []]
    # An Arrow table framed for another table (other columns) is refused, and the rows stay.
    # A narrower integer (as DuckDB reads INTEGER) is widened; a column that cannot be cast, or an
    # Arrow table framed for another table, is refused.
    mine = store.framed("raw_papers", rows)
    year = mine.column_names.index("year")
    store.replace_partition("raw_papers", "a-2020", mine.set_column(year, "year", pa.array([2020, None], pa.int32())))
    assert store.read_partition("raw_papers", "a-2020")["year"].tolist()[0] == 2020
    other = store.framed("paper_countries", [{"partition_key": "a-2020", "paper_id": "1", "country": "US"}])
    for wrong, message in ((other, "must have the schema's columns in order"),
                           (mine.set_column(year, "year", pa.array(["MMXX", None])), "has columns of other types")):
        try:
            store.replace_partition("raw_papers", "a-2020", wrong)
        except ValueError as exc:
            assert f"raw_papers: an Arrow table given to write {message}" in str(exc)
        else:  # pragma: no cover
            raise AssertionError("expected a ValueError")
    assert len(store.read_partition("raw_papers", "a-2020")) == 2


def test_record_errors_replaces_per_stage(store_at):
    store = store_at[1]()
    store.record_errors("a-2020", "raw_papers", [IngestError("a-2020", "raw_papers", "paper 1", "bad")])
    store.record_errors("a-2020", "raw_papers", [IngestError("a-2020", "raw_papers", "paper 2", "worse")])
    frame = store.query("SELECT item, reason FROM ingest_errors")
    assert frame.values.tolist() == [["paper 2", "worse"]]


def test_failed_write_keeps_previous_rows(store_at):
    store = store_at[1]()
    store.replace_partition("paper_countries", "a-2020", [{"partition_key": "a-2020", "paper_id": "1", "country": "US"}])
    bad = pd.DataFrame([{"partition_key": "a-2020", "paper_id": "2", "country": None}])  # NOT NULL violated
    try:
        store.replace_partition("paper_countries", "a-2020", bad)
    except Exception:
        pass
    else:  # pragma: no cover
        raise AssertionError("the NOT NULL constraint should have failed")
    assert store.read_partition("paper_countries", "a-2020")["paper_id"].tolist() == ["1"]


def _writer(path: str, worker: int, n: int) -> None:
    store = Warehouse(path, lock_timeout=120)
    for i in range(n):
        key = f"w{worker}-{2000 + i}"
        store.replace_partition("raw_papers", key, [{"partition_key": key, "paper_id": str(j)} for j in range(5)])


def test_parallel_writers_queue_instead_of_failing(tmp_path):
    path = str(tmp_path / "db.duckdb")
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(path, w, 5)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0, 0, 0, 0]
    store = Warehouse(path)
    assert len(store.partitions()) == 20
    assert store.query("SELECT count(*) AS n FROM raw_papers")["n"][0] == 100


def test_a_store_locked_too_long_gives_a_clear_error(tmp_path):
    import pytest
    from filelock import FileLock

    from paperatlas.pipeline.store import StoreBusy

    path = tmp_path / "db.duckdb"
    with FileLock(str(path) + ".lock"):
        with pytest.raises(StoreBusy, match="stayed locked by another paperatlas process"):
            Warehouse(path, lock_timeout=0.2).partitions()
