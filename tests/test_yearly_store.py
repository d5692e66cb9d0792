"""The yearly tables counted in the database (`queries.yearly_counts`, what `yearly_aggregates`
runs over the whole store) equal those pandas counts from the rows themselves
(`counting.yearly_tables`): the same tables, columns, types, rows, order and values, to the
last bit, on every store."""

from __future__ import annotations

import random

import pandas as pd
import pytest

from paperatlas.pipeline.countries import counting
from paperatlas.pipeline.reports import queries, steps

SHARES = [round(j / k, 12) for k in range(2, 14) for j in range(1, k)]


def _paper(key: str, venue: str, year: int | None, pid: str, countries: dict[str, float | None]) -> list[dict]:
    return [{"partition_key": key, "venue": venue, "year": year, "paper_id": pid, "country": c, "authors": 1,
             "fractional": f, "n_countries": len(countries), "placement": "hq"} for c, f in countries.items()]


def tricky_rows() -> tuple[list[dict], list[dict]]:
    """paper_countries and partition_summary rows: a paper in two countries, HK and TW kept
    apart, the same paper id in two partitions, sub-partitions `x-2020-m01` and `x-2020-m02`
    folding into x 2020, a venue missing a year (y 2019, 2021), venues sorting before and after
    'all', a share stored as NULL, papers without a country, and enough papers that the sums'
    last bits depend on the order they are added in."""
    pc = []
    pc += _paper("x-2020-m01", "x", 2020, "1", {"US": 0.5, "CN": 0.5})
    pc += _paper("x-2020-m01", "x", 2020, "2", {"HK": 0.25, "CN": 0.75})
    pc += _paper("x-2020-m02", "x", 2020, "1", {"TW": 1.0})  # the same id in another sub-partition
    pc += _paper("x-2020-m02", "x", 2020, "3", {"US": SHARES[5], "GB": round(1 - SHARES[5], 12)})
    pc += _paper("x-2021-m01", "x", 2021, "1", {"US": None})
    pc += _paper("y-2019", "y", 2019, "a", {"CN": 1 / 3, "US": 1 / 3, "DE": 1 / 3})
    pc += _paper("y-2021", "y", 2021, "a", {"CN": 1.0})
    pc += _paper("aaai-2020", "aaai", 2020, "1", {"US": 1.0})
    for i in range(400):  # many shares per group: their sums depend on the order of the terms
        key = f"zz-{2020 + i % 2}"
        share = SHARES[(i * 7) % len(SHARES)]
        pc += _paper(key, "zz", 2020 + i % 2, f"p{i:03d}",
                     {"US": share, "CN": round(1 - share, 12)} if i % 3 else {"SG": 1.0, "IN": None, "MO": 0.0})
    summaries = []
    for key in sorted({r["partition_key"] for r in pc}):
        rows = [r for r in pc if r["partition_key"] == key]
        sets = counting.country_sets(rows)
        summaries.append(counting.partition_summary(key, rows[0]["venue"], rows[0]["year"], len(sets) + 2, 0, 0, 0,
                                                    sets))
    return pc, summaries


def headline_rows(summaries: list[dict]) -> list[dict]:
    rows = []
    for i, s in enumerate(summaries):
        for placement in ("hq", "coauthors"):
            for scope in ("cn", "greater"):
                for number, d in (("papers", s["papers"]), ("us_cn", s["papers"]), ("international", 3)):
                    rows.append({**{k: s[k] for k in ("partition_key", "venue", "year")}, "placement": placement,
                                 "china_scope": scope, "number": number, "label": number.upper(), "papers": i,
                                 "low": i, "high": i + 1, "unplaced": None if i == 2 else 1, "denominator": d,
                                 "share": i / d, "low_confidence": i % 2, "snapshot": 1})
    return rows


def write(store, pc: list[dict], summaries: list[dict], heads: list[dict], shuffle: int | None = None) -> None:
    """The rows, partition by partition, as the countries and headlines steps write them (in
    a shuffled order with `shuffle`: a store promises no order)."""
    keys = sorted({r["partition_key"] for r in summaries})
    if shuffle is not None:
        rng = random.Random(shuffle)
        pc, keys = rng.sample(pc, len(pc)), rng.sample(keys, len(keys))
    with store.connect() as con:
        for key in keys:
            mine = [r for r in pc if r["partition_key"] == key]
            store.replace_partition("paper_countries", key, mine, con=con)
            store.replace_partition("country_edges", key, counting.edge_rows(mine), con=con)
            store.replace_partition("partition_summary", key, [s for s in summaries if s["partition_key"] == key],
                                    con=con)
            store.replace_partition("headline_numbers", key, [h for h in heads if h["partition_key"] == key],
                                    con=con)


def in_database(store) -> dict[str, pd.DataFrame]:
    read = queries.yearly_inputs(store)
    return counting.yearly_from_counts(counting.counted(read["counts"]), read["partition_summary"],
                                       read["headline_numbers"])


def in_pandas(store) -> dict[str, pd.DataFrame]:
    """The yearly tables as `yearly_aggregates` computed them before issue 33: every row read."""
    read = {t: store.query(f"SELECT * FROM {t}") for t in ("paper_countries", "country_edges", "partition_summary",
                                                           "headline_numbers")}
    return counting.yearly_tables(read["paper_countries"], read["country_edges"], read["partition_summary"],
                                  read["headline_numbers"])


def same(got: dict[str, pd.DataFrame], want: dict[str, pd.DataFrame]) -> None:
    assert list(got) == list(want)
    for name, frame in want.items():
        pd.testing.assert_frame_equal(got[name], frame, check_exact=True, obj=name)


def test_the_database_counts_equal_pandas_on_every_store(store_at):
    _, open_store = store_at
    store = open_store()
    pc, summaries = tricky_rows()
    write(store, pc, summaries, headline_rows(summaries))
    want = in_pandas(store)
    same(in_database(store), want)
    country = want["yearly_country"].set_index(["venue", "year", "country"])
    assert country.loc[("x", 2020, "US"), "papers"] == 2  # sub-partitions fold into x 2020
    assert country.loc[("x", 2020, "TW"), "papers"] == 1 and country.loc[("x", 2020, "HK"), "papers"] == 1
    assert country.loc[("all", 2020, "US"), "papers"] == 2 + 1 + 133  # x, aaai and zz 2020
    assert country.loc[("y", 2021, "CN"), "previous_year"] == 2019  # y 2020 is missing
    summary = want["yearly_summary"].set_index(["venue", "year"])
    assert summary.loc[("x", 2020), "partitions"] == 2
    assert summary.loc[("x", 2020), "papers"] == (2 + 2) + (2 + 2)  # papers without a country count too


def test_the_database_counts_do_not_depend_on_the_order_rows_were_written_in(tmp_path):
    from paperatlas.pipeline.store import Warehouse

    pc, summaries = tricky_rows()
    heads = headline_rows(summaries)
    first = Warehouse(tmp_path / "first.duckdb")
    write(first, pc, summaries, heads)
    want = in_database(first)
    for seed in range(3):
        again = Warehouse(tmp_path / f"again{seed}.duckdb")
        write(again, pc, summaries, heads, shuffle=seed)
        same(in_database(again), want)
        same(in_pandas(again), want)


@pytest.mark.parametrize("what", ["nothing", "summaries only", "no edges"])
def test_empty_tables_give_the_same_tables(tmp_path, what):
    from paperatlas.pipeline.store import Warehouse

    store = Warehouse(tmp_path / "db.duckdb")
    pc, summaries = tricky_rows()
    if what != "nothing":
        for s in summaries:
            store.replace_partition("partition_summary", s["partition_key"], [s])
    if what == "no edges":
        one = [r for r in pc if r["n_countries"] == 1]
        for key in sorted({r["partition_key"] for r in one}):
            store.replace_partition("paper_countries", key, [r for r in one if r["partition_key"] == key])
    same(in_database(store), in_pandas(store))


def test_yearly_aggregates_writes_the_tables_pandas_computed(tmp_path):
    from paperatlas.pipeline.store import Warehouse

    store, oracle = Warehouse(tmp_path / "db.duckdb"), Warehouse(tmp_path / "oracle.duckdb")
    pc, summaries = tricky_rows()
    write(store, pc, summaries, headline_rows(summaries))
    want = in_pandas(store)
    outcome = steps.yearly_aggregates(store, "hq", lambda line: None)
    assert {name: outcome.metadata[f"rows_{name}"] for name in want} == {n: len(f) for n, f in want.items()}
    for name, frame in want.items():
        oracle.replace_table(name, frame)
        keys = [c for c in ("venue", "year", "placement", "china_scope", "number", "country", "country_a",
                            "country_b", "partner") if c in frame.columns]
        sql = f"SELECT * FROM {name} ORDER BY {', '.join(keys)}"
        pd.testing.assert_frame_equal(store.query(sql), oracle.query(sql), check_exact=True, obj=name)


# -- each paper's countries, for `paperatlas country`, `ranking`, `trend` and the studies ---------


def _decision(key: str, pid: str, position: int | None, countries: list[str] | None,
              coauthors: list[str] | None) -> dict:
    return {"partition_key": key, "paper_id": pid, "author_position": position, "unit": 0 if position is None else None,
            "countries": countries, "coauthor_countries": coauthors, "method": "test"}


DECIDED = {  # key -> (year, raw paper ids, decisions)
    "v-2019": (2019, ["a", "b", "c", "e"], [
        _decision("v-2019", "a", 1, ["US"], ["US"]), _decision("v-2019", "a", 2, ["HK"], ["HK"]),
        _decision("v-2019", "b", 1, ["TW", "MO"], None),  # no coauthor countries stored: none under coauthors
        _decision("v-2019", "c", 1, ["GB"], ["US"]),  # a lab placed with its coauthors
        _decision("v-2019", "d", None, ["CN"], ["CN"]),  # decided, not among the raw papers
        _decision("v-2019", "e", 1, [], [])]),
    "x-2020-m01": (2020, ["1", "2"], [_decision("x-2020-m01", "1", 1, ["US"], ["US"]),
                                      _decision("x-2020-m01", "1", 2, ["CN"], ["CN"])]),
    "x-2020-m02": (2020, ["1"], [_decision("x-2020-m02", "1", 1, ["TW"], ["TW"])]),
    "w-2020": (2020, [], []),
}


def old_year_sets(store, keys, placement: str, scope: str) -> dict[int, list[set[str]]]:
    """`profiles.year_sets` before issue 33 (every decision read into Python), with the year
    taken from DECIDED: it parsed it from the key, which a sub-partition's key is not."""
    from collections import defaultdict

    from paperatlas.pipeline.conventions import fold_countries
    from paperatlas.pipeline.countries import decision

    out = defaultdict(list)
    for key in dict.fromkeys(keys):
        decided = decision.paper_countries(decision.load_decisions(store, key), placement)
        ids = dict.fromkeys([*queries.paper_ids(store, key), *sorted(decided)])
        out[DECIDED[key][0]].extend(fold_countries(decided.get(pid, ()), scope) for pid in ids)
    return {year: out[year] for year in sorted(out)}


@pytest.mark.parametrize("placement", ["hq", "coauthors"])
@pytest.mark.parametrize("scope", ["cn", "cn+hk+mo", "greater"])
def test_paper_country_sets_in_the_database_equal_the_decisions_read_one_by_one(tmp_path, placement, scope):
    from collections import Counter

    from paperatlas.pipeline.reports import profiles, trend
    from paperatlas.pipeline.store import Warehouse

    store = Warehouse(tmp_path / "db.duckdb")
    with store.connect() as con:
        for key, (year, ids, decisions) in DECIDED.items():
            venue = key.split("-")[0]
            store.replace_partition("raw_papers", key, [{"partition_key": key, "paper_id": i, "venue": venue,
                                                         "year": year} for i in ids], con=con)
            store.replace_partition("country_decisions", key, decisions, con=con)
            store.replace_partition("partition_summary", key, [{"partition_key": key, "venue": venue, "year": year,
                                                                "papers": len(ids)}], con=con)
    keys = list(DECIDED)
    got, want = profiles.year_sets(store, keys, placement, scope), old_year_sets(store, keys, placement, scope)
    assert list(got) == list(want) == [2019, 2020]
    for year in want:
        assert Counter(frozenset(s) for s in got[year]) == Counter(frozenset(s) for s in want[year])
    assert len(got[2020]) == 3  # x-2020-m01 and m02 fold into 2020; paper "1" of each is a paper
    for country in ("US", "CN", "GB"):
        assert profiles.country_profile(got, country, 5) == profiles.country_profile(want, country, 5)
    assert profiles.ranking(got) == profiles.ranking(want)
    sets = trend.paper_sets(store, keys, placement, scope)
    assert sets["w-2020"] == [] and len(sets["v-2019"]) == 5
