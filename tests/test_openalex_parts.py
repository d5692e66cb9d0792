"""A venue-year read as sub-partitions (months, then subfields) and OpenAlex read in batches.

Runs against tests/openalex_server.py on 127.0.0.1 with works made from the invented works of
tests/fixtures/openalex/works.json: no internet."""

from __future__ import annotations

import copy
import tracemalloc

import pandas as pd
import pytest
from openalex_server import fixture_works, serve_openalex

from paperatlas import cli
from paperatlas.pipeline.config import load_settings
from paperatlas.pipeline.partitions import PartitionKeyError, parse_partition_key, scope_of
from paperatlas.pipeline.sources import openalex, registry
from paperatlas.pipeline.sources.base import SourceError
from paperatlas.pipeline.sources.parts import plan_split
from paperatlas.pipeline.sources.plan import load_plan
from paperatlas.pipeline.sources.steps import raw_papers
from paperatlas.pipeline.store import Warehouse

MONTHS = (1, 2, 3, 4)


def scope_works(n: int = 100, months=MONTHS, year: int = 2025) -> list[dict]:
    """`n` all-AI-research works of `year` made from the fixture's, spread evenly over `months`,
    each with its own id and title."""
    base = [w for w in fixture_works() if any(t["subfield"]["id"].endswith("/1702") for t in w["topics"])
            and w["type"] in ("article", "preprint", "review")]
    out = []
    for i in range(n):
        work = copy.deepcopy(base[i % len(base)])
        month = months[i % len(months)]
        work["id"] = f"https://openalex.org/W9{i:07d}"
        work["display_name"] = f"{work['display_name']} (part {i})"
        work["publication_year"], work["publication_date"] = year, f"{year}-{month:02d}-{1 + i % 28:02d}"
        out.append(work)
    return out


def run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def tables(home_store: Warehouse) -> dict[str, pd.DataFrame]:
    out = {}
    for table in ("yearly_headlines", "yearly_country", "yearly_pairs", "yearly_partners", "yearly_summary"):
        frame = home_store.query(f"SELECT * FROM {table}").drop(columns=["partitions"], errors="ignore")
        out[table] = frame.sort_values(list(frame.columns)).reset_index(drop=True)
    return out


def test_sub_partition_keys_parse_and_name_their_venue_year():
    pk = parse_partition_key("AIResearch-2020-m03-s1702")
    assert (pk.venue, pk.year, pk.month, pk.subfield, pk.key) == ("airesearch", 2020, 3, "1702",
                                                                  "airesearch-2020-m03-s1702")
    assert pk.is_part and pk.scope == "airesearch-2020" and scope_of("airesearch-2020-m12") == "airesearch-2020"
    assert parse_partition_key("nips-2019-m01").key == "neurips-2019-m01"
    assert not parse_partition_key("neurips-2019").is_part
    for bad in ("airesearch-2020-m13", "airesearch-2020-m00", "airesearch-2020-s1702", "airesearch-2020-m1"):
        with pytest.raises(PartitionKeyError, match="sub-partition such as"):
            parse_partition_key(bad)


def test_a_part_filter_is_its_month_within_the_window_and_its_subfield():
    pk = parse_partition_key("naturemlq3-2024-m02-s1702")
    flt = openalex.year_filter("type:article", pk, ("01-15", "09-30"))
    assert flt == ("type:article,from_publication_date:2024-02-01,to_publication_date:2024-02-29,"
                   "primary_topic.subfield.id:1702")
    assert openalex.year_filter("type:article", parse_partition_key("x-2023-m01"), ("01-15", "09-30")) == \
        "type:article,from_publication_date:2023-01-15,to_publication_date:2023-01-31"
    assert openalex.year_filter("type:article", parse_partition_key("x-2023-m05-s0")).endswith(
        "to_publication_date:2023-05-31,primary_topic.subfield.id:null")
    with pytest.raises(SourceError, match="outside the venue's dates"):
        openalex.year_filter("type:article", parse_partition_key("x-2023-m11"), ("01-01", "09-30"))


def test_the_split_follows_the_counts_and_must_add_up(home, monkeypatch):
    with serve_openalex(scope_works(100), page_size=50) as base:
        monkeypatch.setenv("PAPERATLAS_OPENALEX_BASE", base)
        monkeypatch.setenv("PAPERATLAS_OPENALEX_SPLIT", "30")
        settings = load_settings()
        split = plan_split(parse_partition_key("airesearch-2025"), load_plan(None), registry.build(settings))
        assert split.keys == [f"airesearch-2025-m0{m}" for m in MONTHS] and split.works == 100
        assert [n for _, n in split.parts] == [25, 25, 25, 25]
        assert "read as 4 sub-partitions (4 months)" in split.describe()
        monkeypatch.setenv("PAPERATLAS_OPENALEX_SPLIT", "100")
        whole = plan_split(parse_partition_key("airesearch-2025"), load_plan(None), registry.build(load_settings()))
        assert whole.keys == ["airesearch-2025"] and not whole.split
        assert plan_split(parse_partition_key("neurips-2016"), load_plan(None), registry.build(load_settings())) is None


def test_four_sub_partitions_give_the_numbers_of_one_partition(home, tmp_path, capsys, monkeypatch):
    works = scope_works(100)
    with serve_openalex(works, page_size=40) as base:
        monkeypatch.setenv("PAPERATLAS_OPENALEX_BASE", base)
        monkeypatch.setenv("PAPERATLAS_OPENALEX_SPLIT", "1000")
        code, _, err = run(capsys, "run", "airesearch-2025", "--pdfs", "off")
        assert code == 0, err
        assert "read as one partition" in err
        whole_store = Warehouse(load_settings().database, read_only=True)
        whole = tables(whole_store)
        code, whole_report, err = run(capsys, "report", "airesearch-2025", "--format", "json")
        assert code == 0, err

        monkeypatch.setenv("PAPERATLAS_HOME", str(tmp_path / "parts"))
        monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "parts" / "dagster"))
        monkeypatch.setenv("PAPERATLAS_OPENALEX_SPLIT", "30")
        code, _, err = run(capsys, "run", "airesearch-2025", "--pdfs", "off")
        assert code == 0, err
        assert "read as 4 sub-partitions (4 months)" in err and "[4/4] airesearch-2025-m04" in err
    store = Warehouse(load_settings().database, read_only=True)
    assert sorted(store.partitions("partition_summary")) == [f"airesearch-2025-m0{m}" for m in MONTHS]
    assert store.query("SELECT count(*) AS n, count(DISTINCT paper_id) AS d FROM raw_papers").values.tolist() == \
        [[100, 100]]
    parts = tables(store)
    for name, frame in whole.items():
        pd.testing.assert_frame_equal(parts[name], frame, check_dtype=False, obj=name)
    code, parts_report, err = run(capsys, "report", "airesearch-2025", "--format", "json")
    assert code == 0, err
    import json

    a, b = json.loads(whole_report), json.loads(parts_report)
    a.pop("inputs"), b.pop("inputs")  # the digests of the pages read differ
    assert a == b and a["papers"] == 100


def test_a_year_above_the_split_is_refused_whole_and_a_missing_part_stops_its_report(home, capsys, monkeypatch):
    with serve_openalex(scope_works(60), page_size=40) as base:
        monkeypatch.setenv("PAPERATLAS_OPENALEX_BASE", base)
        monkeypatch.setenv("PAPERATLAS_OPENALEX_SPLIT", "20")
        # Run through Dagster as the UI or a schedule would, without `run`'s split: refused in one line.
        code, _, err = run(capsys, "run", "airesearch-2025-m01", "airesearch-2025-m02", "--pdfs", "off")
        assert code == 0, err
        from paperatlas.cli.run import record_split
        from paperatlas.pipeline.sources.parts import Split

        pk = parse_partition_key("airesearch-2025")
        split = Split(pk, tuple((pk.part(m), 15) for m in MONTHS), "openalex", 20)
        record_split(load_settings(), split)
        code, _, err = run(capsys, "report", "airesearch-2025")
        assert code != 0 and "2 of them are not materialised (airesearch-2025-m03, airesearch-2025-m04)" in err
        assert "Traceback" not in err
        store = Warehouse(load_settings().database)
        from paperatlas.pipeline.partitions import PartitionKey

        with pytest.raises(Exception) as refused:
            raw_papers(store, PartitionKey("airesearch", 2025), lambda: load_plan(None), registry.build(load_settings()),
                       log=lambda line: None)
        assert "more than one step reads (PAPERATLAS_OPENALEX_SPLIT=20)" in str(refused.value)
        assert "`paperatlas run airesearch-2025` reads it as sub-partitions" in str(refused.value)


def test_a_page_that_keeps_failing_stores_nothing_and_keeps_the_previous_rows(home, capsys, monkeypatch):
    monkeypatch.setenv("PAPERATLAS_HTTP_RETRIES", "0")
    with serve_openalex(scope_works(40), page_size=10) as base:
        monkeypatch.setenv("PAPERATLAS_OPENALEX_BASE", base)
        code, _, err = run(capsys, "run", "airesearch-2025", "--pdfs", "off")
        assert code == 0, err
    store = Warehouse(load_settings().database)
    before = store.read_partition("raw_papers", "airesearch-2025").sort_values("paper_id").reset_index(drop=True)
    assert len(before) == 40
    with serve_openalex(scope_works(40), page_size=10, fail_pages={3}) as base:
        monkeypatch.setenv("PAPERATLAS_OPENALEX_BASE", base)
        with pytest.raises(Exception, match="500"):
            raw_papers(store, parse_partition_key("airesearch-2025"), lambda: load_plan(None),
                       registry.build(load_settings()), refresh=True, log=lambda line: None)
    after = store.read_partition("raw_papers", "airesearch-2025").sort_values("paper_id").reset_index(drop=True)
    pd.testing.assert_frame_equal(after, before)


def read_peak(store: Warehouse, n: int, monkeypatch) -> tuple[int, int]:
    """Peak traced memory of `raw_papers` streaming `n` works (the server already holds them)."""
    with serve_openalex(scope_works(n, months=tuple(range(1, 13))), page_size=100) as base:
        monkeypatch.setenv("PAPERATLAS_OPENALEX_BASE", base)
        sources = registry.build(load_settings())
        tracemalloc.start()
        try:
            outcome = raw_papers(store, parse_partition_key("airesearch-2025"), lambda: load_plan(None), sources,
                                 log=lambda line: None)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    return outcome.rows, peak


def test_memory_is_bounded_by_the_batch_not_the_scope(home, monkeypatch):
    monkeypatch.setattr(openalex, "BATCH", 200)
    store = Warehouse(load_settings().database)
    small_rows, small = read_peak(store, 600, monkeypatch)
    large_rows, large = read_peak(store, 4800, monkeypatch)
    assert (small_rows, large_rows) == (600, 4800)
    # Eight times the works: the peak grows by far less (the server's own pages, one batch and
    # the ids seen), where holding the scope would grow it about eightfold.
    assert large < 2.5 * small, (small, large)


def test_runs_at_once_are_refused_in_one_line_where_they_are_not_safe(home, capsys, monkeypatch):
    """`run --jobs N` (PAPERATLAS_RUN_CONCURRENCY) above 1 needs the Celery executor and a
    PostgreSQL instance (tests/test_celery.py runs it); elsewhere one line says what to set."""
    keys = ("neurips-2020", "neurips-2021")
    code, _, err = run(capsys, "run", *keys, "--jobs", "2", "--pdfs", "off")
    assert code == 2 and len(err.strip().splitlines()) == 1 and "needs PAPERATLAS_EXECUTOR=celery" in err, err
    monkeypatch.setenv("PAPERATLAS_EXECUTOR", "celery")
    monkeypatch.setenv("PAPERATLAS_RUN_CONCURRENCY", "2")
    code, _, err = run(capsys, "run", *keys, "--pdfs", "off")
    assert code == 2 and "needs a PostgreSQL Dagster instance" in err and "this one is SQLite" in err, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    code, _, err = run(capsys, "run", *keys, "--jobs", "0")
    assert code == 2 and "--jobs 0: expected a whole number, 1 or more" in err
    monkeypatch.setenv("PAPERATLAS_RUN_CONCURRENCY", "0")
    code, _, err = run(capsys, "run", *keys)
    assert code == 2 and "PAPERATLAS_RUN_CONCURRENCY='0'" in err
