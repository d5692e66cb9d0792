"""Generated OpenAlex works (tests/openalex_generated.py) and the local server's null filter and
group_by: the works parse, are the same every time, filter fast to exactly what a work-by-work
evaluation selects, count and group consistently, page through once each, and a million of
them cost little memory. No internet: everything runs on 127.0.0.1."""

from __future__ import annotations

import subprocess
import sys
import tracemalloc
from collections import Counter
from pathlib import Path

import pytest
import requests
from openalex_generated import GeneratedWorks
from openalex_server import fixture_works, group_counts, matches, serve_openalex

from paperatlas.pipeline.partitions import parse_partition_key
from paperatlas.pipeline.sources import openalex

AI_RESEARCH = "topics.subfield.id:1702,type:article|preprint|review"
SMALL = 500


@pytest.fixture(scope="module")
def small():
    works = GeneratedWorks(SMALL, year=2020, seed=3)
    return works, list(works)


@pytest.fixture
def http(tmp_path):
    from paperatlas.pipeline.http import HttpClient

    return HttpClient(tmp_path / "cache", retries=0)


def countries(work: dict) -> set[str]:
    return {c for a in work["authorships"] for c in a["countries"]}


def test_every_generated_work_parses_and_looks_like_openalex(small):
    _, works = small
    result = openalex.parse_works(works, parse_partition_key("airesearch-2020"))
    assert result.records == SMALL and len(result.papers) == SMALL and not result.errors
    assert all(w["id"].startswith("https://openalex.org/W") and w["doi"].startswith("https://doi.org/10.")
               for w in works)
    assert len({w["id"] for w in works}) == SMALL
    assert all(matches(w, AI_RESEARCH + ",publication_year:2020") for w in works)  # airesearch takes them all
    assert {w["publication_date"][5:7] for w in works} == {f"{m:02d}" for m in range(1, 13)}
    assert set(Counter(w["type"] for w in works)) == {"article", "preprint", "review"}
    primary = Counter((w["primary_topic"] or {}).get("subfield", {}).get("id", "none").rsplit("/", 1)[-1]
                      for w in works)
    assert set(primary) == {"1702", "1707", "1710", "2718", "1705", "1712", "none"}
    assert 0.01 <= primary["none"] / SMALL <= 0.1
    assert all(1 <= len(w["authorships"]) <= 6 for w in works)
    assert all(a["raw_affiliation_strings"] and a["author"]["display_name"] for w in works for a in w["authorships"])
    assert len({c for w in works for c in countries(w)}) >= 18
    both = sum({"US", "CN"} <= countries(w) for w in works) / SMALL
    assert 0.01 <= both <= 0.1  # a few % US-CN collaborations
    assert 0.3 <= sum(bool(w["abstract_inverted_index"]) for w in works) / SMALL <= 0.9
    with_pdf = [p for p in result.papers if p.pdf_url]
    assert 0.2 <= len(with_pdf) / SMALL <= 0.8
    assert any(p.abstract for p in result.papers)


def test_generated_works_are_the_same_every_time(small):
    works, listed = small
    again = GeneratedWorks(SMALL, year=2020, seed=3)
    assert [again.work(i) for i in (0, 17, SMALL - 1)] == [listed[i] for i in (0, 17, SMALL - 1)]
    other = GeneratedWorks(SMALL, year=2020, seed=4)
    assert other.work(17)["id"] != listed[17]["id"] and other.work(17)["authorships"] != listed[17]["authorships"]
    assert GeneratedWorks(SMALL, year=2021, seed=3).work(5)["publication_year"] == 2021
    arrays = works.arrays()  # the vectorised fields are the per-work ones
    assert [f"2020-{m:02d}-{d:02d}" for m, d in zip(arrays["month"].tolist(), arrays["day"].tolist())] == \
        [w["publication_date"] for w in listed]
    with pytest.raises(IndexError):
        works.work(SMALL)


FILTERS = [
    AI_RESEARCH + ",publication_year:2020",
    AI_RESEARCH + ",publication_year:2021",
    AI_RESEARCH + ",publication_year:2019-2021",
    AI_RESEARCH + ",from_publication_date:2020-03-01,to_publication_date:2020-03-31",
    AI_RESEARCH + ",from_publication_date:2020-02-10,to_publication_date:2020-05-20",
    AI_RESEARCH + ",from_publication_date:2020-01-01,to_publication_date:2020-01-31,primary_topic.subfield.id:1702",
    AI_RESEARCH + ",from_publication_date:2020-06-01,to_publication_date:2020-06-30,primary_topic.subfield.id:null",
    "primary_topic.subfield.id:1707|https://openalex.org/subfields/2718",
    "primary_topic.subfield.id:!null",
    "primary_topic.subfield.id:!1702",
    "primary_topic.subfield.id:9999",
    "topics.subfield.id:1707",
    "type:preprint",
    "type:!article",
    "publication_year:!2020",
    "from_publication_date:2019-06-01",
    "to_publication_date:2020-12-31",
    # parts the fast path does not know: checked work by work
    "primary_location.source.publisher_lineage:P4310319908,type:article",
    AI_RESEARCH + ",authorships.institutions.country_code:CN,publication_year:2020",
    "best_oa_location:null",
]


@pytest.mark.parametrize("flt", FILTERS)
def test_fast_filters_select_what_a_work_by_work_check_does(small, flt):
    works, listed = small
    assert works.select(flt).index.tolist() == [i for i, w in enumerate(listed) if matches(w, flt)]


def test_the_null_filter_and_group_by_on_a_list_of_works():
    works = fixture_works()
    works[0]["primary_topic"] = None
    works[1].pop("primary_topic", None)
    assert matches(works[0], "primary_topic.subfield.id:null") and matches(works[1], "primary_topic.id:null")
    assert not matches(works[2], "primary_topic.subfield.id:null") or not works[2].get("primary_topic")
    assert matches(works[0], "primary_topic.subfield.id:!1702|null") is False
    with serve_openalex(works) as base:
        flt = AI_RESEARCH + ",publication_year:2022|2023|2024|2025"
        total = requests.get(f"{base}/works", params={"filter": flt, "per-page": "1"}).json()["meta"]["count"]
        answer = requests.get(f"{base}/works", params={"filter": flt, "per-page": "1",
                                                       "group_by": "primary_topic.subfield.id:include_unknown"}).json()
        plain = requests.get(f"{base}/works", params={"filter": flt, "group_by": "primary_topic.subfield.id"}).json()
        assert requests.get(f"{base}/works", params={"filter": flt, "group_by": "type:bad"}).status_code == 400
    groups = {g["key"]: g["count"] for g in answer["group_by"]}
    assert groups["unknown"] >= 1 and sum(groups.values()) == total and answer["meta"]["groups_count"] == len(groups)
    assert answer["results"] == [] and "unknown" not in {g["key"] for g in plain["group_by"]}
    assert {g["key"]: g["count"] for g in plain["group_by"]} == {k: n for k, n in groups.items() if k != "unknown"}
    assert all(g["key_display_name"] for g in answer["group_by"])


def test_counts_and_groups_add_up(small, http):
    works, listed = small
    with serve_openalex(works) as base:
        total = openalex.count(http, AI_RESEARCH + ",publication_year:2020", base)
        months = [openalex.count(http, f"{AI_RESEARCH},from_publication_date:2020-{m:02d}-01,"
                                       f"to_publication_date:2020-{m:02d}-28", base) for m in (2,)]
        pk = parse_partition_key("airesearch-2020")
        parts = openalex.parts(http, pk, AI_RESEARCH, 30, base)  # months, then subfields of a month
        groups = openalex.count(http, openalex.year_filter(AI_RESEARCH, pk.part(1)), base,
                                group_by=openalex.SPLIT_FIELD)
    assert total == SMALL and months == [sum(w["publication_date"][5:7] == "02" for w in listed)]
    assert sum(n for _, n in parts) == SMALL and any(p.subfield == "0" for p, _ in parts)
    assert sum(groups.values()) == sum(w["publication_date"][5:7] == "01" for w in listed)
    for flt in FILTERS[:8]:  # the fast group_by is the work-by-work one
        fast = works.select(flt).groups(openalex.SPLIT_FIELD, True)
        assert fast == group_counts([w for w in listed if matches(w, flt)], openalex.SPLIT_FIELD, True)


def test_paging_reads_every_work_exactly_once(http):
    works = GeneratedWorks(1_000, year=2022, seed=1)
    pk = parse_partition_key("airesearch-2022")
    seen: list[str] = []
    with serve_openalex(works, page_size=37) as base:
        for part, n in openalex.parts(http, pk, AI_RESEARCH, 120, base):
            read = [w["id"] for page in openalex.iter_pages(http, part, openalex.year_filter(AI_RESEARCH, part), base)
                    for w in page]
            assert len(read) == n
            seen += read
        whole = [w["id"] for page in openalex.iter_pages(http, pk, openalex.year_filter(AI_RESEARCH, pk), base)
                 for w in page]
    assert len(seen) == len(set(seen)) == 1_000 and sorted(whole) == sorted(seen)


def test_a_million_works_cost_little_memory():
    tracemalloc.start()
    try:
        works = GeneratedWorks(1_000_000, year=2020)
        everything = works.select(AI_RESEARCH + ",publication_year:2020")
        march = works.select(AI_RESEARCH + ",from_publication_date:2020-03-01,to_publication_date:2020-03-31")
        unknown = works.select(AI_RESEARCH + ",from_publication_date:2020-03-01,to_publication_date:2020-03-31,"
                               "primary_topic.subfield.id:null")
        pages = [everything.page(500_000, 200), march.page(0, 200), unknown.page(1_000, 200)]
        groups = march.groups(openalex.SPLIT_FIELD, True)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(everything) == 1_000_000 and 60_000 < len(march) < 110_000 and 0 < len(unknown) < len(march) * 0.1
    assert [len(p) for p in pages] == [200, 200, 200] and sum(g["count"] for g in groups) == len(march)
    assert peak < 50 * 2**20, f"peak {peak / 2**20:.1f} MB"


def test_the_command_line_serves_generated_works():
    script = Path(__file__).resolve().parent / "openalex_server.py"
    process = subprocess.Popen([sys.executable, str(script), "--generate", "300", "--year", "2021", "--seed", "2",
                                "--page-size", "50"], stdout=subprocess.PIPE, text=True)
    try:
        base = process.stdout.readline().strip()
        assert base.startswith("http://127.0.0.1:")
        answer = requests.get(f"{base}/works", params={"filter": AI_RESEARCH + ",publication_year:2021",
                                                       "per-page": "200", "cursor": "*"}, timeout=30).json()
        assert answer["meta"]["count"] == 300 and len(answer["results"]) == 50 and answer["meta"]["next_cursor"]
        assert answer["results"][0] == GeneratedWorks(300, year=2021, seed=2).work(0)
    finally:
        process.kill()
        process.wait(timeout=10)
