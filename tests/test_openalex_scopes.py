"""OpenAlex scopes: a date window of each year, the API base setting, the built-in venues for the
two OpenAlex studies (all AI research; ML in Nature Portfolio journals, January to September),
pages read one at a time, and on what each paper's mentions stand (`text_basis`).

Everything runs against tests/openalex_server.py on 127.0.0.1 with the invented works of
tests/fixtures/openalex/works.json: no internet."""

from __future__ import annotations

import json
import time

import pytest
from openalex_server import fixture_works, matches, serve_openalex, work_id
from pdf_builder import Page

from paperatlas import cli
from paperatlas.pipeline.config import load_settings
from paperatlas.pipeline.mentions.queries import text_basis
from paperatlas.pipeline.partitions import parse_partition_key
from paperatlas.pipeline.sources import openalex, registry
from paperatlas.pipeline.sources.base import SourceError
from paperatlas.pipeline.sources.plan import PlanError, load_plan
from paperatlas.pipeline.store import Warehouse

NATURE_ML = "primary_location.source.publisher_lineage:P4310319908,topics.subfield.id:1702,type:article"
AI_RESEARCH = "topics.subfield.id:1702,type:article|preprint|review"


def expected(year: int, first: str = "01-01", last: str = "12-31", nature: bool = True) -> set[str]:
    """The fixture works a Nature-ML (or AI-research) scope should select, worked out here from
    the works themselves, not through the server's filter."""
    out = set()
    for w in fixture_works():
        date = w["publication_date"]
        ai = any(t["subfield"]["id"].endswith("/1702") for t in w["topics"])
        lineage = w["primary_location"]["source"]["host_organization_lineage"]
        kinds = ("article",) if nature else ("article", "preprint", "review")
        if (ai and w["type"] in kinds and f"{year}-{first}" <= date <= f"{year}-{last}"
                and (not nature or "https://openalex.org/P4310319908" in lineage)):
            out.add(work_id(w))
    return out


def run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# -- the local server ---------------------------------------------------------------------------


def test_the_local_server_answers_in_openalex_shape():
    import requests

    works = fixture_works()
    assert 40 <= len(works) <= 80 and all(w["id"].startswith("https://openalex.org/W") for w in works)
    countries = {c for w in works for a in w["authorships"] for c in a["countries"]}
    assert {"US", "CN", "GB", "IN", "SA", "PK", "MY", "SG", "JP", "KR", "BR", "TW", "EG", "ID", "DE", "FR"} <= countries
    first = works[0] | {"_venues": ["mylab.id:x1"]}  # a 2022 TNNLS article
    assert matches(first, "publication_year:2021-2023") and not matches(first, "publication_year:2023-2024")
    assert matches(first, "type:!editorial") and matches(first, "type:article|review")
    assert not matches(first, "type:preprint")
    assert matches(first, "mylab.id:X1") and not matches(first, "mylab.id:x2")  # the `_venues` tags
    assert matches(first, "topics.subfield.id:https://openalex.org/subfields/1702|1707")
    assert not matches(first, "primary_location.source.publisher_lineage:P4310319908")
    with serve_openalex(works, page_size=3) as base:
        answer = requests.get(f"{base}/works", params={"filter": AI_RESEARCH + ",publication_year:2022",
                                                       "per-page": "200", "select": "id,type", "cursor": "*"}).json()
        assert answer["meta"]["count"] == 6 and answer["meta"]["per_page"] == 3 and answer["meta"]["next_cursor"]
        assert [sorted(w) for w in answer["results"]] == [["id", "type"]] * 3
        last = requests.get(f"{base}/works", params={"filter": AI_RESEARCH + ",publication_year:2022", "per-page": "3",
                                                     "cursor": answer["meta"]["next_cursor"]}).json()
        assert len(last["results"]) == 3 and last["meta"]["next_cursor"] is None
        assert requests.get(f"{base}/works", params={"filter": "type"}).status_code == 400
        assert requests.get(f"{base}/pdf/W1.pdf").status_code == 404
        assert [r["status"] for r in base.requests] == [200, 200, 400, 404]


# -- the filter of a venue-year ----------------------------------------------------------------


def test_a_date_window_replaces_the_publication_year():
    pk = parse_partition_key("naturemlq3-2025")
    assert openalex.year_filter(NATURE_ML, pk) == f"{NATURE_ML},publication_year:2025"
    assert openalex.year_filter(NATURE_ML, pk, ("01-01", "09-30")) == (
        f"{NATURE_ML},from_publication_date:2025-01-01,to_publication_date:2025-09-30")
    url = openalex.page_url("http://mirror.example/api/", openalex.year_filter(NATURE_ML, pk, ("01-01", "09-30")), "*")
    assert url.startswith("http://mirror.example/api/works?filter=primary_location.source.publisher_lineage:P4310319908,")
    assert "from_publication_date:2025-01-01,to_publication_date:2025-09-30&per-page=200" in url


def test_the_built_in_scopes():
    plan = load_plan()
    air, nat, q3 = plan.venue("airesearch"), plan.venue("natureml"), plan.venue("naturemlq3")
    assert (air.openalex, air.dates, air.sources, air.watch) == (AI_RESEARCH, None, ("openalex",), False)
    assert (nat.openalex, nat.dates, nat.watch) == (NATURE_ML, None, False)
    assert (q3.openalex, q3.dates, q3.watch) == (NATURE_ML, ("01-01", "09-30"), False)
    assert "airesearch-2014" in plan.catalogue_keys(2024) and "airesearch-2013" not in plan.catalogue_keys(2024)
    assert not [k for k in plan.next_years([]) if k.startswith(("airesearch", "natureml"))]  # not watched


@pytest.mark.parametrize("value", ["1-1..9-30", "01-01..9-30", "02-29..03-31", "10-01..09-30", "13-01..12-31",
                                   "01-01-09-30", "01-32..02-01", 930, ["01-01", "09-30"], ""])
def test_the_plan_refuses_a_bad_date_window_in_one_line(tmp_path, value):
    path = tmp_path / "sources.yaml"
    path.write_text(json.dumps({"venues": {"myscope": {"sources": ["openalex"], "openalex": "type:article",
                                                      "dates": value}}}))
    with pytest.raises(PlanError) as err:
        load_plan(path)
    message = str(err.value)
    assert "\n" not in message and str(path) in message and "venues.myscope.dates" in message
    assert "MM-DD..MM-DD" in message and repr(value) in message


def test_a_good_date_window_and_none(tmp_path):
    path = tmp_path / "sources.yaml"
    path.write_text("venues:\n  myscope: {sources: [openalex], openalex: 'type:article', dates: ' 03-01..03-31 '}\n"
                    "  naturemlq3: {dates: null}\n")
    plan = load_plan(path)
    assert plan.venue("myscope").dates == ("03-01", "03-31")
    assert plan.venue("naturemlq3").dates is None  # a user file can lay the whole year back


# -- the API base ------------------------------------------------------------------------------


def test_the_base_setting_is_read_and_checked(monkeypatch):
    monkeypatch.delenv("PAPERATLAS_OPENALEX_BASE", raising=False)
    assert load_settings().openalex_base == "https://api.openalex.org"
    monkeypatch.setenv("PAPERATLAS_OPENALEX_BASE", "http://127.0.0.1:9/openalex/")
    assert load_settings().openalex_base == "http://127.0.0.1:9/openalex"
    monkeypatch.setenv("PAPERATLAS_OPENALEX_BASE", "api.openalex.org")
    with pytest.raises(ValueError) as err:
        load_settings()
    assert "\n" not in str(err.value) and str(err.value).startswith("PAPERATLAS_OPENALEX_BASE='api.openalex.org'")


def test_requests_reach_the_base(tmp_path, monkeypatch):
    monkeypatch.setenv("PAPERATLAS_HOME", str(tmp_path / "home"))
    plan = load_plan()
    pk = parse_partition_key("naturemlq3-2025")
    with serve_openalex(page_size=4) as base:
        monkeypatch.setenv("PAPERATLAS_OPENALEX_BASE", base)
        source = registry.build(load_settings())["openalex"]
        assert source.where(pk, plan.venue("naturemlq3")) == (
            f"{base}/works?filter={NATURE_ML},from_publication_date:2025-01-01,to_publication_date:2025-09-30")
        assert source.available(pk, plan.venue("naturemlq3"))
        result = source.papers(pk, plan.venue("naturemlq3"))
        assert {p.paper_id for p in result.papers} == expected(2025, "01-01", "09-30") and len(result.papers) == 15
        assert result.records == 15 and not result.errors
        pages = [r for r in base.works_requests() if "cursor" in r["query"]]
        assert len(pages) == 4 and [r["query"]["cursor"] == "*" for r in pages] == [True, False, False, False]
        assert all(r["query"]["filter"].endswith("to_publication_date:2025-09-30") for r in base.works_requests())
        assert len(result.refs) == 4 and all(ref.startswith(f"{base}/works?") for ref in result.refs)


def test_an_unreachable_base_names_the_setting(tmp_path, monkeypatch):
    with serve_openalex([]) as base:
        pass  # the port is free again: connections are refused
    monkeypatch.setenv("PAPERATLAS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PAPERATLAS_OPENALEX_BASE", base)
    source = registry.build(load_settings())["openalex"]
    with pytest.raises(SourceError) as err:
        source.papers(parse_partition_key("natureml-2025"), load_plan().venue("natureml"))
    message = str(err.value)
    assert "\n" not in message and "unreachable" in message and "PAPERATLAS_OPENALEX_BASE" in message


def test_a_run_against_an_unreachable_base_ends_with_one_line_naming_it(home, capsys, monkeypatch):
    with serve_openalex([]) as base:
        pass
    monkeypatch.setenv("PAPERATLAS_OPENALEX_BASE", base)
    code, _, err = run(capsys, "run", "naturemlq3-2025", "--pdfs", "off")
    lines = err.strip().splitlines()
    assert code == 1 and "Traceback" not in err
    failed = [line for line in lines if line.startswith("FAILED naturemlq3-2025")]
    assert len(failed) == 1 and "unreachable" in failed[0] and "PAPERATLAS_OPENALEX_BASE" in failed[0]
    assert lines[-1].startswith("paperatlas: to work offline") and "PAPERATLAS_OPENALEX_BASE" in lines[-1]


def test_pages_stream_and_the_count_is_checked_after_the_last(http):
    pk = parse_partition_key("natureml-2025")
    with serve_openalex(page_size=7) as base:
        pages = openalex.iter_pages(http, pk, openalex.year_filter(NATURE_ML, pk), base)
        first = next(pages)
        assert len(first) == 7 and len(base.works_requests()) <= 2  # this page, and the next asked ahead
        deadline = time.monotonic() + 10
        while len(base.works_requests()) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)  # the next page is asked for while this one is being used
        assert len(base.works_requests()) == 2
        assert sum(len(p) for p in pages) == 13 and len(base.works_requests()) == 3  # never one past the last
        stopped = openalex.iter_pages(http, pk, openalex.year_filter(NATURE_ML, pk), base, refresh=True)
        assert len(next(stopped)) == 7
        stopped.close()  # a reader that stops: the page asked ahead is left, nothing more is asked
        time.sleep(0.2)
        assert len(base.works_requests()) <= 5
        with pytest.raises(SourceError, match="OpenAlex has no works"):
            list(openalex.iter_pages(http, pk, "type:dataset,publication_year:2025", base))
    result = openalex.parse_works(iter(fixture_works()[:3]), pk)  # any iterable: records counted as read
    assert result.records == 3 and len(result.papers) == 3


@pytest.mark.parametrize("every, shown", [(0.0, ["7/20", "14/20", "20/20"]), (3600.0, ["20/20"])])
def test_page_progress_lines_are_spaced_and_the_last_count_is_always_shown(http, monkeypatch, every, shown):
    """A line per page (each an event in the Dagster log) only when PROGRESS_EVERY seconds have
    passed since the last; the final count whatever the time."""
    monkeypatch.setattr(openalex, "PROGRESS_EVERY", every)
    pk = parse_partition_key("natureml-2025")
    lines: list[str] = []
    with serve_openalex(page_size=7) as base:
        pages = list(openalex.iter_pages(http, pk, openalex.year_filter(NATURE_ML, pk), base, progress=lines.append))
    assert sum(len(p) for p in pages) == 20
    assert [line.split(": ")[1].split()[0] for line in lines] == shown


def test_more_pages_than_one_read_takes_fail_in_one_line(http, monkeypatch):
    monkeypatch.setattr(openalex, "MAX_PAGES", 2)
    pk = parse_partition_key("natureml-2025")
    with serve_openalex(page_size=4) as base:
        with pytest.raises(SourceError) as err:
            openalex.read(http, pk, NATURE_ML, base)
    assert "declares 20 works" in str(err.value) and "(2 pages, 8 works read); narrow the filter" in str(err.value)


def test_a_declared_count_that_is_not_met_fails_after_the_last_page(http, monkeypatch):
    pk = parse_partition_key("natureml-2025")
    with serve_openalex(page_size=7) as base:
        real = openalex.fetch_json

        def short(*args, **kwargs):  # the mirror declares one work more than it gives
            data = real(*args, **kwargs)
            data["meta"]["count"] += 1
            return data

        monkeypatch.setattr(openalex, "fetch_json", short)
        with pytest.raises(SourceError, match="declares 21 works .* but 20 were read; nothing was stored"):
            openalex.read(http, pk, NATURE_ML, base)


@pytest.fixture
def http(tmp_path):
    from paperatlas.pipeline.http import HttpClient

    return HttpClient(tmp_path / "cache", retries=0)


# -- whole runs --------------------------------------------------------------------------------


def test_run_naturemlq3_offline_reads_january_to_september_only(home, capsys, monkeypatch):
    with serve_openalex(page_size=6) as base:
        monkeypatch.setenv("PAPERATLAS_OPENALEX_BASE", base)
        code, out, err = run(capsys, "sources", "naturemlq3-2025")
        assert code == 0 and f"openalex: {base}/works?filter={NATURE_ML},from_publication_date:2025-01-01," in out
        code, out, err = run(capsys, "run", "naturemlq3-2025", "natureml-2025", "--pdfs", "off")
        assert code == 0, err
    store = Warehouse(load_settings().database, read_only=True)
    q3 = store.read_partition("raw_papers", "naturemlq3-2025")
    year = store.read_partition("raw_papers", "natureml-2025")
    assert set(q3["paper_id"]) == expected(2025, "01-01", "09-30") and len(q3) == 15
    assert set(year["paper_id"]) == expected(2025) and len(year) == 20
    dates = {work_id(w): w["publication_date"] for w in fixture_works()}
    assert max(dates[p] for p in q3["paper_id"]) <= "2025-09-30" < max(dates[p] for p in year["paper_id"])
    assert set(q3["track"]) <= {"Nature Communications", "Scientific Reports", "Nature Machine Intelligence",
                                "npj Digital Medicine"}
    countries = store.read_partition("paper_countries", "naturemlq3-2025")
    assert len(countries) and countries["paper_id"].nunique() <= 15


def test_a_page_failing_once_is_retried_and_nothing_is_stored_twice(home, capsys, monkeypatch):
    monkeypatch.setenv("PAPERATLAS_HTTP_RETRIES", "2")
    with serve_openalex(page_size=4, fail_pages={2}) as base:
        monkeypatch.setenv("PAPERATLAS_OPENALEX_BASE", base)
        code, _, err = run(capsys, "run", "naturemlq3-2025", "--pdfs", "off")
        assert code == 0, err
        pages = [r for r in base.works_requests() if "cursor" in r["query"]]
    assert [r["status"] for r in pages] == [200, 500, 200, 200, 200]
    assert pages[1]["query"]["cursor"] == pages[2]["query"]["cursor"]
    store = Warehouse(load_settings().database, read_only=True)
    raw = store.read_partition("raw_papers", "naturemlq3-2025")
    assert len(raw) == 15 and raw["paper_id"].is_unique
    errors = store.errors("naturemlq3-2025")
    assert not errors["reason"].str.contains("twice").any()
    reads = store.query("SELECT papers, records FROM source_reads WHERE partition_key = 'naturemlq3-2025'")
    assert reads.values.tolist() == [[15, 15]]


# -- on what the mentions stand ----------------------------------------------------------------


def paper_pdf(title: str) -> bytes:
    p = Page()
    p.centred(90, title, 15, bold=True)
    p.centred(130, "Abstract", 12, bold=True)
    p.run(90, 150, "We train convolutional networks on satellite and clinical images.", 10)
    p.run(72, 190, "1 Introduction", 12, bold=True)
    p.run(72, 210, "All models are implemented in PyTorch and trained on four GPUs.", 10)
    p.run(72, 222, "Baselines use scikit-learn; the segmentation network is a U-Net.", 10)
    return p.doc.tobytes()


def test_text_basis_counts_full_text_abstract_and_title(home, capsys, monkeypatch):
    works = fixture_works()
    chosen = expected(2025, "01-01", "09-30")
    with_pdf = sorted(work_id(w) for w in works if work_id(w) in chosen and (w["best_oa_location"] or {}).get("pdf_url"))
    served = dict.fromkeys(with_pdf[:2])  # two PDFs are served; the other links answer 404
    no_abstract = sorted(chosen - set(with_pdf))[0]
    for w in works:
        if work_id(w) in served:
            served[work_id(w)] = paper_pdf(w["display_name"])
        if work_id(w) == no_abstract:
            w["abstract_inverted_index"] = None
    monkeypatch.setenv("PAPERATLAS_PDF_RATE", "0")
    monkeypatch.setenv("PAPERATLAS_HTTP_RETRIES", "0")
    monkeypatch.setenv("PAPERATLAS_ALLOW_PRIVATE_LINKS", "1")  # the pdf_urls point to the local server
    with serve_openalex(works, pdfs=served, local_pdfs=True) as base:
        monkeypatch.setenv("PAPERATLAS_OPENALEX_BASE", base)
        code, _, err = run(capsys, "run", "naturemlq3-2025", "--pdfs", "download")
        assert code == 0, err
        asked = {r["path"] for r in base.requests if r["path"].startswith("/pdf/")}
    assert asked == {f"/pdf/{w}.pdf" for w in with_pdf}  # every paper's pdf_url was asked for, once each
    store = Warehouse(load_settings().database, read_only=True)
    pdfs = store.read_partition("paper_pdfs", "naturemlq3-2025").set_index("paper_id")
    assert set(pdfs.index[pdfs["status"] == "downloaded"]) == set(served)
    basis = text_basis(store, ["naturemlq3-2025"])
    assert basis == {"papers": 15, "full_text": 2, "abstract": 12, "title": 1, "none": 0}
    assert text_basis(store, ["naturemlq3-2025", "naturemlq3-2025"]) == basis
    assert text_basis(store, []) == {"papers": 0, "full_text": 0, "abstract": 0, "title": 0, "none": 0}
    mentions = store.read_partition("paper_mentions", "naturemlq3-2025")
    body = mentions[mentions["scope"] == "body"]
    assert set(body["paper_id"]) == set(served) and "pytorch" in set(body["term"])  # read from the full text
    assert mentions.loc[mentions["paper_id"] == no_abstract, "scope"].isin(["title"]).all()
