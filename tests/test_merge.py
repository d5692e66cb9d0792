"""Merging sources into one row per paper, the sources plan, and a whole venue-year read from
the NeurIPS virtual site and OpenReview through Dagster (HTTP mocked with `responses`)."""

import copy

import pytest
import responses
from conftest import materialise
from source_payloads import PAPERS, openreview_note, openreview_profile, virtual_feed

from paperatlas.pipeline.affiliations.rows import explode
from paperatlas.pipeline.models import Paper
from paperatlas.pipeline.partitions import parse_partition_key
from paperatlas.pipeline.sources import openreview, virtual_site
from paperatlas.pipeline.sources.merge import merge
from paperatlas.pipeline.sources.plan import PlanError, load_plan
from paperatlas.pipeline.store import Warehouse

PK = parse_partition_key("neurips-2024")
VENUE = "NeurIPS.cc/2024/Conference"
FEED = "https://neurips.cc/static/virtual/data/neurips-2024-orals-posters.json"
API = "https://api2.openreview.net"


def _site():
    return virtual_site.parse_feed(virtual_feed(), PK, FEED)


def _openreview(papers=PAPERS):
    papers = copy.deepcopy(papers)
    papers[0]["title"] = "Sparse attention at scale."  # another spelling of the same title
    notes = [(VENUE, openreview_note(i, p, VENUE)) for i, p in enumerate(papers)]
    profiles = {a[2]: openreview_profile(a) for p in papers for a in p["authors"] if a[2].startswith("~")}
    return openreview.parse_notes(notes, profiles, PK, API)


def _proceedings():
    from paperatlas.pipeline.sources.base import ParseResult

    result = ParseResult(source="proceedings", records=2)
    for p in PAPERS[:2]:
        # The proceedings print "Last, First" in their meta tags; the reader turns them around.
        names = [a[0] for a in p["authors"]]
        result.papers.append(Paper(PK.key, p["hash"], "neurips", 2024, p["title"], None, names, [[] for _ in names],
                                   [None] * len(names), pdf_url=f"https://proceedings.neurips.cc/{p['hash']}.pdf",
                                   source="proceedings", source_ref=f"https://papers.nips.cc/{p['hash']}"))
    result.papers.append(Paper(PK.key, "ffff", "neurips", 2024, "Only In The Proceedings", None, ["Solo Author"], [[]],
                               [None], source="proceedings"))
    return result


def test_one_row_per_paper_with_every_source_view_kept():
    papers, stats, errors = merge(PK.key, [_site(), _openreview(), _proceedings()])
    titles = sorted(p.title for p in papers)
    assert titles == sorted([p["title"] for p in PAPERS] + ["An Oral Without Poster", "Only In The Proceedings"])
    sparse = next(p for p in papers if p.title == "Sparse Attention at Scale")
    assert sparse.sources == ["virtual_site", "openreview", "proceedings"]
    assert sparse.source_ids == ["virtual_site:90000", "openreview:or0", f"proceedings:{PAPERS[0]['hash']}"]
    assert sparse.paper_id == "90000" and sparse.pdf_url == "https://openreview.net/pdf?id=or0"
    assert [len(views) for views in sparse.author_sources] == [3, 3]
    # The first source with affiliations counts; OpenReview's domain fills the gap the site leaves.
    assert sparse.affiliations == [["Tsinghua University"], ["Stanford University"]]
    assert sparse.email_domains == ["tsinghua.edu.cn", "stanford.edu"]
    assert [(s.source, s.matched, s.added) for s in stats] == [("virtual_site", 0, 4), ("openreview", 3, 0),
                                                                ("proceedings", 2, 1)]
    assert stats[1].by_rule == {"title+first author": 3}
    assert not [e for e in errors if e.severity == "error"]

    rows = explode([{**sparse.row(), "partition_key": PK.key}])
    first = [(r["source"], r["affiliation"], r["counted"], r["decision"], r["reference_countries"])
             for r in rows if r["author_position"] == 1]
    assert first == [("virtual_site", "Tsinghua University", True, "metadata", None),
                     ("openreview", "Tsinghua University", False, "other-source", "CN")]


def test_priority_decides_which_view_counts():
    papers, _, _ = merge(PK.key, [_openreview(), _site()])
    sparse = next(p for p in papers if p.title == "Sparse attention at scale.")
    rows = explode([{**sparse.row(), "partition_key": PK.key}])
    counted = {(r["author_position"], r["source"]) for r in rows if r["counted"]}
    assert counted == {(1, "openreview"), (2, "openreview")}
    assert sparse.paper_id == "or0" and sparse.sources == ["openreview", "virtual_site"]


def test_same_title_different_authors_stay_apart_and_ids_never_collide():
    other = copy.deepcopy(PAPERS)
    other[0]["authors"] = [("Someone Else", "MIT", "~Someone_Else1", "mit.edu", "US")]
    site = _site()
    review = _openreview(other)
    review.papers[1].paper_id = "90001"  # the site already uses this id
    papers, stats, errors = merge(PK.key, [site, review])
    sparse = [p for p in papers if p.title.lower().startswith("sparse attention at scale")]
    assert len(sparse) == 2 and stats[1].added == 1
    assert any(e.reason.startswith("id already used") for e in errors) or len({p.paper_id for p in papers}) == len(papers)
    assert len({p.paper_id for p in papers}) == len(papers)


def test_plan_overlay_years_and_new_venues(tmp_path):
    user = tmp_path / "sources.yaml"
    user.write_text(
        "venues:\n"
        "  neurips:\n"
        "    years:\n"
        "      2024: [virtual_site, openreview, proceedings]\n"
        "  naturemi:\n"
        "    name: Nature Machine Intelligence\n"
        "    sources: [openalex]\n"
        "    openalex: 'primary_location.source.id:S2912241403'\n"
        "    first_year: 2019\n"
        "    refresh_month: 2\n"
    )
    plan = load_plan(user)
    assert plan.sources_for(parse_partition_key("neurips-2024")) == ("virtual_site", "openreview", "proceedings")
    assert plan.sources_for(parse_partition_key("neurips-2023")) == ("paperlists",)
    assert plan.venue("neurips").openreview[0] == "NeurIPS.cc/{year}/Conference"  # built-in kept
    assert plan.sources_for(parse_partition_key("naturemi-2024")) == ("openalex",)
    assert "naturemi-2025" in plan.refresh_keys(2, 2025) and "naturemi-2018" not in plan.refresh_keys(2, 2018)
    assert "naturemi-2026" in plan.next_years(["naturemi-2025"])
    from datetime import date
    # A venue whose newest partition is old is asked about last year and this year only.
    assert [k for k in plan.next_years(["neurips-2016"], date(2026, 5, 1)) if k.startswith("neurips")] == [
        "neurips-2025", "neurips-2026"]


@pytest.mark.parametrize("text, message", [
    ("venues:\n  neurips:\n    sources: [arxiv]\n", "unknown source 'arxiv'"),
    ("venues:\n  nmi:\n    sources: [openalex]\n", "uses openalex but sets no `openalex` filter"),
    ("venues:\n  neurips:\n    sauces: [paperlists]\n", "unknown keys ['sauces']"),
    ("venues: [1, 2]\n", "`venues` must be a mapping"),
    ("venues:\n  neurips:\n    years:\n      twenty: [paperlists]\n", "years: expected a whole number"),
])
def test_plan_errors_name_the_file_and_key(tmp_path, text, message):
    user = tmp_path / "sources.yaml"
    user.write_text(text)
    with pytest.raises(PlanError, match=f"{user}.*{message[:20]}".replace("[", r"\[").replace("]", r"\]")
                       .replace("(", r"\(").replace(")", r"\)").replace("`", "`")):
        load_plan(user)


# -- a whole venue-year from two sources, through Dagster ----------------------------------------


def _mock_sources():
    responses.add(responses.GET, FEED, json=virtual_feed())
    notes = [openreview_note(i, p, VENUE) for i, p in enumerate(PAPERS)]
    responses.add(responses.GET, f"{API}/notes?content.venueid={VENUE}&limit=1000&offset=0",
                  json={"notes": notes, "count": len(notes)})
    profiles = [openreview_profile(a) for p in PAPERS for a in p["authors"] if a[2].startswith("~")]
    responses.add(responses.POST, f"{API}/profiles/search", json={"profiles": profiles})


@pytest.fixture
def two_source_env(home, monkeypatch):
    from dagster import DagsterInstance

    from paperatlas.definitions import build_definitions
    from paperatlas.pipeline.config import load_settings

    (home).mkdir(parents=True, exist_ok=True)
    (home / "sources.yaml").write_text(
        "venues:\n  neurips:\n    openreview: ['NeurIPS.cc/{year}/Conference']\n"
        "    years:\n      2024: [virtual_site, openreview]\n")
    for name in ("TOKEN", "USERNAME", "PASSWORD"):
        monkeypatch.delenv(f"PAPERATLAS_OPENREVIEW_{name}", raising=False)
    settings = load_settings()
    defs = build_definitions(settings)
    instance = DagsterInstance.ephemeral()
    assert defs.resolve_job_def("reference_job").execute_in_process(instance=instance).success
    return settings, defs, instance


@responses.activate
def test_a_venue_year_from_the_virtual_site_and_openreview(two_source_env):
    settings, defs, instance = two_source_env
    _mock_sources()
    result = materialise(defs, instance, "neurips-2024")
    assert result.success
    store = Warehouse(settings.database)
    raw = store.query("SELECT paper_id, title, sources, source_ids FROM raw_papers WHERE partition_key='neurips-2024' "
                      "ORDER BY paper_id")
    assert len(raw) == 4
    sparse = raw[raw["title"] == "Sparse Attention at Scale"].iloc[0]
    assert list(sparse["sources"]) == ["virtual_site", "openreview"]
    reads = store.query("SELECT source, priority, papers, matched, added FROM source_reads ORDER BY priority")
    assert reads.values.tolist() == [["virtual_site", 1, 4, 0, 4], ["openreview", 2, 3, 3, 0]]
    aff = store.query("SELECT source, decision, count(*) AS n FROM author_affiliations "
                      "WHERE partition_key='neurips-2024' GROUP BY ALL ORDER BY ALL")
    assert ("openreview", "other-source") in {(r.source, r.decision) for r in aff.itertuples()}
    countries = store.query("SELECT country FROM paper_countries WHERE paper_id = ? ORDER BY country",
                            [sparse["paper_id"]])
    assert countries["country"].tolist() == ["CN", "US"]
    evidence = store.query("SELECT reference_countries FROM author_affiliations WHERE paper_id = ? "
                           "AND source = 'openreview' ORDER BY author_position", [sparse["paper_id"]])
    assert evidence["reference_countries"].tolist() == ["CN", "US"]
    from dagster import AssetKey

    meta = instance.get_latest_materialization_event(AssetKey("resolved_affiliations")).asset_materialization.metadata
    agreement = meta["source_country_agreement"].value
    assert agreement["rows_with_source_country"] == 4 and agreement["disagree"] == 0
    # A re-run reads the cache: no new request, the same rows.
    calls = len(responses.calls)
    assert materialise(defs, instance, "neurips-2024").success
    assert len(responses.calls) == calls
    again = store.query("SELECT paper_id, title FROM raw_papers WHERE partition_key='neurips-2024' ORDER BY paper_id")
    assert again.values.tolist() == raw[["paper_id", "title"]].values.tolist()


@responses.activate
def test_one_failing_source_fails_the_venue_year_and_names_it(two_source_env):
    settings, defs, instance = two_source_env
    responses.add(responses.GET, FEED, json=virtual_feed())
    responses.add(responses.GET, f"{API}/notes?content.venueid={VENUE}&limit=1000&offset=0",
                  body='{"notes": [{"id": "or0", "content": ')
    result = materialise(defs, instance, "neurips-2024")
    assert not result.success
    errors = Warehouse(settings.database).query(
        "SELECT item, reason FROM ingest_errors WHERE partition_key='neurips-2024' AND stage='raw_papers'")
    assert errors["item"].tolist() == ["source openreview"]
    assert "not valid JSON" in errors["reason"].iloc[0]


@responses.activate
def test_the_sensor_adds_a_year_a_source_publishes(two_source_env):
    from dagster import build_sensor_context
    from dagster._core.definitions.partitions.context import partition_loading_context

    from paperatlas.assets.automation import new_venue_years
    from paperatlas.pipeline.sources.plan import load_plan
    from paperatlas.resources.sources import SourcesPlanFile

    settings, defs, instance = two_source_env
    instance.add_dynamic_partitions("venue_year", ["neurips-2024"])
    feed25 = "https://neurips.cc/static/virtual/data/neurips-2025-orals-posters.json"
    responses.add(responses.GET, feed25, json=virtual_feed(2025))
    feed26 = "https://neurips.cc/static/virtual/data/neurips-2026-orals-posters.json"
    responses.add(responses.GET, feed26, status=404)
    # Only NeurIPS is watched here, through the virtual site: every other venue is switched off.
    plan_file = settings.home / "sources.yaml"
    plan_file.write_text("default: [virtual_site]\nvenues:\n" + "".join(
        f"  {v}:\n    watch: false\n" for v in load_plan().venues if v != "neurips"))
    resources = {**defs.resources, "sources_plan": SourcesPlanFile(path=str(plan_file))}
    # The daemon evaluates sensors with the instance as the partitions store; so does this test.
    with partition_loading_context(dynamic_partitions_store=instance), build_sensor_context(
            instance=instance, resources=resources, cursor=None, repository_def=defs.get_repository_def()) as context:
        result = new_venue_years.evaluate_tick(context)
    assert [r.partition_key for r in result.run_requests] == ["neurips-2025"]
    assert "neurips-2025" in instance.get_dynamic_partitions("venue_year")
    assert result.cursor == "neurips-2025"
    with partition_loading_context(dynamic_partitions_store=instance), build_sensor_context(
            instance=instance, resources=resources, cursor=result.cursor,
            repository_def=defs.get_repository_def()) as context:
        quiet = new_venue_years.evaluate_tick(context)
    assert not quiet.run_requests and "no new venue-year" in quiet.skip_message


def test_cli_sources_shows_the_plan_and_refuses_a_bad_file(home, capsys):
    from paperatlas.cli import main

    home.mkdir(parents=True, exist_ok=True)
    (home / "sources.yaml").write_text("venues:\n  neurips:\n    years:\n      2024: [virtual_site, openreview]\n")
    assert main(["sources", "neurips-2024", "neurips-2023"]) == 0
    out = capsys.readouterr().out
    assert "1. virtual_site: https://neurips.cc/static/virtual/data/neurips-2024-orals-posters.json" in out
    assert "2. openreview: NeurIPS.cc/2024/Conference, NeurIPS.cc/2024/Datasets_and_Benchmarks_Track" in out
    assert "neurips-2023 (NeurIPS):\n  1. paperlists:" in out
    (home / "sources.yaml").write_text("venues:\n  neurips:\n    sources: [openalex]\n")
    assert main(["sources"]) == 2
    assert "uses openalex but sets no `openalex` filter" in capsys.readouterr().err


def test_reference_agreement_counts_rows_with_a_source_country():
    from paperatlas.pipeline.affiliations.rows import reference_agreement

    rows = [{"reference_countries": "CN", "country": "HK"}, {"reference_countries": "US,GB", "country": "GB"},
            {"reference_countries": "US", "country": "CN"}, {"reference_countries": "FR", "country": None},
            {"reference_countries": None, "country": "US"}]
    assert reference_agreement(rows) == {"rows_with_source_country": 4, "agree": 2, "disagree": 1, "ours_unresolved": 1}


def test_unaligned_affiliations_stay_paper_level_when_no_source_ties_them():
    from paperatlas.pipeline.sources.base import ParseResult

    unaligned = Paper(PK.key, "p1", "neurips", 2024, "A Paper", None, ["Ann Lee", "Bo Li"], [[], []], [None, None],
                      unaligned_affiliations=["KAIST; Seoul", "MIT"], aligned=False, source="paperlists")
    names_only = Paper(PK.key, "h1", "neurips", 2024, "A paper", None, ["Ann Lee", "Bo Li"], [[], []], [None, None],
                       source="proceedings")
    (merged,), _, _ = merge(PK.key, [ParseResult([unaligned], source="paperlists"),
                                     ParseResult([names_only], source="proceedings")])
    rows = explode([{**merged.row(), "partition_key": PK.key}])
    assert [(r["author_position"], r["affiliation"]) for r in rows] == [(None, "KAIST; Seoul"), (None, "MIT")]
    # ... and a source that ties affiliations to authors takes over.
    tied = Paper(PK.key, "or1", "neurips", 2024, "A paper", None, ["Ann Lee", "Bo Li"], [["KAIST"], ["MIT"]],
                 [None, None], source="openreview")
    (merged,), _, _ = merge(PK.key, [ParseResult([unaligned], source="paperlists"), ParseResult([tied], source="openreview")])
    rows = explode([{**merged.row(), "partition_key": PK.key}])
    assert [(r["author_position"], r["affiliation"], r["source"]) for r in rows] == [
        (1, "KAIST", "openreview"), (2, "MIT", "openreview")]
