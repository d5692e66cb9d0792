"""A venue-year read as sub-partitions (months, then subfields) and OpenAlex read in batches.

Runs against tests/openalex_server.py on 127.0.0.1 with works made from the invented works of
tests/fixtures/openalex/works.json: no internet."""

from __future__ import annotations

import copy
import subprocess
import sys
import tracemalloc
from pathlib import Path

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


def test_small_subfields_of_a_month_are_read_together(home, monkeypatch):
    """A month above the split whose subfields are one large and several small: the small ones
    are packed into as few parts as fit the split (largest first), works without a primary
    topic stay alone, the large one goes by days; every work is read once, as the month whole."""
    works = scope_works(60, months=(3,), year=2024)
    sizes = [("1702", 30), ("1707", 8), ("1712", 7), ("1705", 6), ("1710", 5), (None, 4)]
    subfields = [s for s, n in sizes for _ in range(n)]
    for work, subfield in zip(works, subfields):
        work["primary_topic"] = None if subfield is None else {
            **(work.get("primary_topic") or {}), "subfield": {"id": f"https://openalex.org/subfields/{subfield}",
                                                              "display_name": subfield}}
    with serve_openalex(works, page_size=50) as base:
        monkeypatch.setenv("PAPERATLAS_OPENALEX_BASE", base)
        monkeypatch.setenv("PAPERATLAS_OPENALEX_SPLIT", "20")
        sources = registry.build(load_settings())
        split = plan_split(parse_partition_key("airesearch-2024"), load_plan(None), sources)
        small = {pk.key.removeprefix("airesearch-2024-m03-"): n for pk, n in split.parts if not pk.days}
        assert small == {"s0": 4, "s1707_1710_1712": 20, "s1705": 6}, split.parts  # first fit, largest first
        assert all(pk.subfield == "1702" for pk, _ in split.parts if pk.days) and split.works == 60
        packed = parse_partition_key("airesearch-2024-m03-s1707_1710_1712")
        assert packed.subfields == ("1707", "1710", "1712") and packed.key == "airesearch-2024-m03-s1707_1710_1712"
        assert openalex.year_filter("type:article", packed).endswith("primary_topic.subfield.id:1707|1710|1712")
        plan, source = load_plan(None), sources["openalex"]
        read = [p.paper_id for pk, n in split.parts for p in source.papers(pk, plan.venue("airesearch")).papers]
        whole = source.papers(parse_partition_key("airesearch-2024-m03"), plan.venue("airesearch")).papers
        assert sorted(read) == sorted(p.paper_id for p in whole) and len(read) == 60


def test_a_subfield_too_large_for_its_month_is_read_in_windows_of_days(home, monkeypatch):
    """A month whose subfield alone is above the split (all AI research in one subfield, 1702)
    is read as windows of publication days, halved until each is at most the split or one day:
    every work once, and the same papers as the month read whole."""
    works = scope_works(120, months=(2,), year=2024)  # 2024-02-01 … 28, all in one month
    with serve_openalex(works, page_size=50) as base:
        monkeypatch.setenv("PAPERATLAS_OPENALEX_BASE", base)
        monkeypatch.setenv("PAPERATLAS_OPENALEX_SPLIT", "20")
        sources = registry.build(load_settings())
        split = plan_split(parse_partition_key("airesearch-2024"), load_plan(None), sources)
        assert split.works == 120 and all(pk.month == 2 and pk.subfield for pk, _ in split.parts)
        windows = [pk for pk, _ in split.parts if pk.days]
        assert windows and all(n <= 20 or pk.days[0] == pk.days[1] for pk, n in split.parts), split.parts
        assert "by days" in split.describe() and windows[0].key.startswith("airesearch-2024-m02-s")
        assert parse_partition_key(windows[0].key) == windows[0]  # the key reads back
        plan, source = load_plan(None), sources["openalex"]
        read = [p.paper_id for pk, n in split.parts for p in source.papers(pk, plan.venue("airesearch")).papers]
        whole = source.papers(parse_partition_key("airesearch-2024-m02"), plan.venue("airesearch")).papers
        assert sorted(read) == sorted(p.paper_id for p in whole) and len(read) == 120
        for pk, n in split.parts:  # each window's filter is its days
            first, last = pk.days or (1, 29)
            flt = openalex.year_filter("type:article", pk)
            assert f"from_publication_date:2024-02-{first:02d},to_publication_date:2024-02-{last:02d}" in flt


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
        code, whole_profile, err = run(capsys, "country", "CN", "--scope", "airesearch-2025", "--json")
        assert code == 0, err

        monkeypatch.setenv("PAPERATLAS_HOME", str(tmp_path / "parts"))
        monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "parts" / "dagster"))
        monkeypatch.setenv("PAPERATLAS_OPENALEX_SPLIT", "30")
        # Two part runs at once, each in a process of its own, on the DuckDB store and the SQLite instance.
        code, _, err = run(capsys, "run", "airesearch-2025", "--pdfs", "off", "--jobs", "2")
        assert code == 0, err
        assert "read as 4 sub-partitions (4 months)" in err  # the runs' own lines go to their processes' stderr
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

    code, parts_profile, err = run(capsys, "country", "CN", "--scope", "airesearch-2025", "--json")
    assert code == 0, err
    assert json.loads(parts_profile) == json.loads(whole_profile)
    a, b = json.loads(whole_report), json.loads(parts_report)
    a.pop("inputs"), b.pop("inputs")  # the digests of the pages read differ
    # So do the reads themselves (one query, or one per month), not what they gave, nor the dates.
    for side in (a, b):
        side.pop("inputs_in_words")
        side["sources"]["sources"] = [{k: s[k] for k in ("source", "papers", "records", "errors")}
                                      for s in side["sources"]["sources"]]
    assert b["sources"]["numbers_taken"] and b["sources"]["ror"]
    assert a == b and a["papers"] == 100


def test_a_year_above_the_split_is_refused_whole_and_a_missing_part_stops_its_report(home, capsys, monkeypatch):
    from paperatlas.cli.run import record_split
    from paperatlas.pipeline.sources.parts import Split

    with serve_openalex(scope_works(60), page_size=40) as base:
        monkeypatch.setenv("PAPERATLAS_OPENALEX_BASE", base)
        monkeypatch.setenv("PAPERATLAS_OPENALEX_SPLIT", "20")
        store = Warehouse(load_settings().database)
        # Read through Dagster as the UI or a schedule would, without `run`'s split: refused in one line.
        with pytest.raises(Exception) as refused:
            raw_papers(store, parse_partition_key("airesearch-2025"), lambda: load_plan(None),
                       registry.build(load_settings()), log=lambda line: None)
        assert "more than one step reads (PAPERATLAS_OPENALEX_SPLIT=20)" in str(refused.value)
        assert "`paperatlas run airesearch-2025` reads it as sub-partitions" in str(refused.value)
        assert store.errors("airesearch-2025")["reason"].str.contains("PAPERATLAS_OPENALEX_SPLIT").any()
    pk = parse_partition_key("airesearch-2025")
    store.replace_partition("raw_papers", "airesearch-2025", [{"partition_key": "airesearch-2025", "paper_id": "W1",
                                                               "venue": "airesearch", "year": 2025, "title": "t"}])
    for month in (1, 2):  # two of the four parts are in
        key = pk.part(month).key
        store.replace_partition("partition_summary", key, [{"partition_key": key, "venue": "airesearch",
                                                            "year": 2025, "papers": 15}])
    record_split(load_settings(), Split(pk, tuple((pk.part(m), 15) for m in MONTHS), "openalex", 20))
    _, err = capsys.readouterr()
    assert "dropped the rows of airesearch-2025 (now read as 4 partitions)" in err
    assert store.partitions("raw_papers") == []  # the whole year read before would be counted twice
    assert store.query("SELECT count(*) FROM partition_parts").iloc[0, 0] == 4
    code, _, err = run(capsys, "report", "airesearch-2025")
    assert code != 0 and "2 of them are not materialised (airesearch-2025-m03, airesearch-2025-m04)" in err
    assert "Traceback" not in err


def test_a_page_that_keeps_failing_stores_nothing_and_keeps_the_previous_rows(home, monkeypatch):
    monkeypatch.setenv("PAPERATLAS_HTTP_RETRIES", "0")
    store = Warehouse(load_settings().database)

    def read(**server):
        with serve_openalex(scope_works(40), page_size=10, **server) as base:
            monkeypatch.setenv("PAPERATLAS_OPENALEX_BASE", base)
            return raw_papers(store, parse_partition_key("airesearch-2025"), lambda: load_plan(None),
                              registry.build(load_settings()), refresh=True, log=lambda line: None)

    assert read().rows == 40
    before = store.read_partition("raw_papers", "airesearch-2025").sort_values("paper_id").reset_index(drop=True)
    with pytest.raises(Exception, match="500"):
        read(fail_pages={3})
    after = store.read_partition("raw_papers", "airesearch-2025").sort_values("paper_id").reset_index(drop=True)
    pd.testing.assert_frame_equal(after, before)


def read_peak(store: Warehouse, n: int, monkeypatch) -> tuple[int, int]:
    """Peak traced memory of `raw_papers` streaming `n` generated works of one month, served from
    another process (tests/openalex_server.py --generate), so only the reading is traced."""
    server = subprocess.Popen([sys.executable, str(Path(__file__).with_name("openalex_server.py")), "--generate",
                               str(n * 12), "--year", "2025", "--page-size", "200"], stdout=subprocess.PIPE, text=True)
    try:
        monkeypatch.setenv("PAPERATLAS_OPENALEX_BASE", server.stdout.readline().strip())
        sources = registry.build(load_settings())
        tracemalloc.start()
        try:
            outcome = raw_papers(store, parse_partition_key("airesearch-2025-m03"), lambda: load_plan(None), sources,
                                 log=lambda line: None)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    finally:
        server.kill()  # SIGKILL: a SIGTERM the test process ignores is ignored by its children too
        server.wait(timeout=30)
    return outcome.rows, peak


def test_memory_is_bounded_by_the_batch_not_the_scope(home, monkeypatch):
    monkeypatch.setattr(openalex, "BATCH", 200)
    store = Warehouse(load_settings().database)
    small_rows, small = read_peak(store, 500, monkeypatch)
    large_rows, large = read_peak(store, 4000, monkeypatch)
    assert 400 < small_rows < 600 and 3200 < large_rows < 4800, (small_rows, large_rows)
    # Eight times the works: the peak grows by far less (one batch, one page and the ids seen),
    # where holding the scope would grow it about eightfold.
    assert large < 2 * small, (small, large)


def test_a_venue_year_read_in_parts_is_listed_once_and_only_when_complete(tmp_path):
    from paperatlas.pipeline.reports.queries import materialised_keys
    from paperatlas.pipeline.sources.parts import Split

    store = Warehouse(tmp_path / "store.duckdb")
    for key, venue in (("neurips-2016", "neurips"), ("x-2020-m01", "x"), ("x-2020-m02", "x"), ("y-2021-m05", "y")):
        store.replace_partition("partition_summary", key, [{"partition_key": key, "venue": venue, "papers": 1}])
    assert materialised_keys(store) == ["neurips-2016", "x-2020", "y-2021"]  # no plan recorded: the parts there
    x = parse_partition_key("x-2020")
    store.replace_where("partition_parts", Split(x, tuple((x.part(m), 1) for m in (1, 2, 3)), "openalex", 1).rows(),
                        "scope = ?", ["x-2020"])
    assert materialised_keys(store) == ["neurips-2016", "y-2021"]  # x-2020-m03 is planned and missing


def test_runs_at_once_are_refused_in_one_line_where_they_are_not_safe(home, capsys, monkeypatch):
    """`run --jobs N` (PAPERATLAS_RUN_CONCURRENCY) above 1 runs on this machine with the default
    executor (the test above), and on Celery workers with a PostgreSQL instance
    (tests/test_celery.py); Celery with the SQLite instance, which workers cannot share, is
    refused in one line."""
    keys = ("neurips-2020", "neurips-2021")
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


def test_runs_at_once_take_the_largest_parts_first(home):
    """With --jobs > 1 the parts of a split start largest first (their planned works), so the
    runs in flight end close together; keys that are not parts follow as given. One at a
    time, the order is the one asked for."""
    from paperatlas.cli.run import largest_first

    settings = load_settings()
    store = Warehouse(settings.database)
    store.replace_table("partition_parts", [
        {"scope": "airesearch-2025", "partition_key": key, "works": n, "source": "openalex", "split_limit": 30}
        for key, n in (("airesearch-2025-m01-s0", 3), ("airesearch-2025-m01-s1702", 29), ("airesearch-2025-m02", 12),
                       ("airesearch-2025-m03", 30))])
    keys = ["neurips-2016", "airesearch-2025-m01-s0", "airesearch-2025-m01-s1702", "airesearch-2025-m02",
            "airesearch-2025-m03", "icml-2018"]
    assert largest_first(settings, keys, 2) == ["airesearch-2025-m03", "airesearch-2025-m01-s1702",
                                                "airesearch-2025-m02", "airesearch-2025-m01-s0", "neurips-2016",
                                                "icml-2018"]
    assert largest_first(settings, keys, 1) == keys


def test_runs_at_once_share_the_cores_in_duckdb(home, monkeypatch):
    """With --jobs N each run's DuckDB gets cores / N threads (at least one), unless
    PAPERATLAS_STORE_THREADS says how many; the `warehouse` resource opens its connections with
    them (dagster-duckdb's `connection_config`), on the file and in a Delta store's views."""
    from paperatlas.cli.run import sharing_cores
    from paperatlas.definitions import build_resources

    monkeypatch.setattr("os.cpu_count", lambda: 8)
    settings = load_settings()
    assert settings.store_threads is None
    assert sharing_cores(settings, 1) is settings
    assert sharing_cores(settings, 2).store_threads == 4 and sharing_cores(settings, 16).store_threads == 1

    def threads(s) -> int:
        with build_resources(s)["warehouse"].warehouse().connect() as con:
            return int(con.execute("SELECT current_setting('threads')").fetchone()[0])
    assert threads(sharing_cores(settings, 4)) == 2
    monkeypatch.setenv("PAPERATLAS_STORE_THREADS", "3")
    fixed = load_settings()
    assert fixed.store_threads == 3 and sharing_cores(fixed, 2).store_threads == 3 and threads(fixed) == 3
    monkeypatch.setenv("PAPERATLAS_STORE", "delta")
    monkeypatch.setenv("PAPERATLAS_STORE_URI", str(home / "delta"))
    assert threads(load_settings()) == 3  # the Delta store's DuckDB connections too
