"""Studies (pipeline/reports/studies/, `paperatlas study`, the studies asset group): the built-in
studies load, `wired-neurips` runs on the shared NeurIPS years with the published figures
beside ours, a user's own study file runs and agrees with `report`, bad files are one line,
and study.html is safe to open.

The shared-data tests materialise NeurIPS 1995 and 2005 once for the module (the two smallest
shared years, with the test ROR dump) and skip when the shared data is absent."""

from __future__ import annotations

import json
import textwrap

import pytest
from conftest import shared

from paperatlas import cli
from paperatlas.pipeline.reports.studies.model import StudyError, builtin_studies, load_study, parse_study

# -- the study files -----------------------------------------------------------------------------


def test_every_builtin_study_loads_with_its_published_figures():
    studies = builtin_studies()
    assert set(studies) == {"wired-neurips", "eto-cross-border", "ml-global-impact-2025"}
    for study in studies.values():
        assert study.title and study.source_line() and study.scope and study.claims
        published = [c for c in study.claims if c.published is not None or c.direction]
        assert published, study.name
    wired = {c.id: c for c in studies["wired-neurips"].claims}
    assert (wired["us-cn-2025"].published, wired["us-cn-2025"].of, wired["us-cn-2025"].years) == (141, 5290, (2025,))
    assert (wired["us-cn-2024"].published, wired["us-cn-2024"].of) == (134, 4497)
    assert [wired[c].published for c in ("cn-transformer", "cn-llama", "us-qwen")] == [292, 106, 63]
    eto = {c.id: c for c in studies["eto-cross-border"].claims}
    assert eto["non-western-ranking"].published == ("CN", "IN", "JP", "SG", "KR", "SA", "PK", "MY", "BR", "TW")
    assert eto["sa-partners"].published == ("PK", "IN", "EG") and studies["eto-cross-border"].lag_years == (2023, 2024)
    ml = {c.id: c for c in studies["ml-global-impact-2025"].claims}
    assert (ml["china-share"].published, ml["china-share"].of) == (0.40, "papers_with_country")
    assert [ml[t].published for t in ("scikit-learn", "u-net", "catboost")] == [("FR",), ("DE",), ("RU",)]


@pytest.mark.parametrize("change, words", [
    ({"colour": "red"}, "unknown keys ['colour']"),
    ({"scope": ["neurips2016"]}, "invalid venue-year"),
    ({"claims": [{"id": "a", "claim": "x", "number": "us_cn", "measure": "share", "published": 3}]},
     "a share is a fraction from 0 to 1"),
    ({"claims": [{"id": "a", "claim": "x", "number": "us_cn", "measure": "list"}]}, "does not apply to us_cn"),
    ({"claims": [{"id": "a", "claim": "x", "number": "nonsense"}]}, "is not a headline number"),
    ({"claims": [{"id": "a", "claim": "x", "number": "pair", "country": "CN"}]}, "pair needs partner"),
    ({"claims": [{"id": "a", "claim": "x", "number": "us"}, {"id": "a", "claim": "y", "number": "cn"}]},
     "claim id 'a' is used twice"),
    ({"source": {"name": "x", "url": "javascript:alert(1)"}}, "only http(s) links"),
    ({"source": {"nam": "x"}}, "source: unknown keys ['nam']"),
    ({"lag": {"yeers": [2024]}}, "lag: unknown keys ['yeers']"),
    ({"conventions": {"china_scope": ["greater"]}}, "conventions.china_scope: expected text"),
    ({"claims": [{"id": "a", "claim": "x", "number": "us", "published": float("nan")}]}, "published as a number"),
    ({"claims": [{"id": "a", "claim": "x", "number": "us", "years": "2016..99999999"}]}, "from 1950 to 2100"),
    ({"claims": [{"id": "a", "claim": "x", "number": "country_papers", "country": "US", "measure": "share",
                  "of": "international"}]}, "only a headline number's share may name its denominator"),
    ({"claims": [{"id": "a", "claim": "x", "number": "us", "min_pair": 3}]}, "applies to top_partners and pair"),
])
def test_a_bad_study_is_one_line_naming_the_file_and_key(change, words):
    base = {"name": "mine", "title": "Mine", "scope": ["neurips-2016"],
            "claims": [{"id": "a", "claim": "US papers", "number": "us"}]}
    with pytest.raises(StudyError) as caught:
        parse_study({**base, **change}, "my.yaml")
    assert words in str(caught.value) and str(caught.value).startswith("my.yaml") and "\n" not in str(caught.value)


def test_a_direction_needs_three_years_and_reads_their_spacing():
    from paperatlas.pipeline.reports.studies.compare import compare
    from paperatlas.pipeline.reports.studies.evaluate import ClaimResult, direction

    assert direction([1, 2, 2], [2010, 2011, 2020]) == "flat"  # a gap of nine years is not one step
    assert direction([1, 2, 2], [2010, 2011, 2012]) == "rising"
    claim = parse_study({"name": "t", "title": "T", "scope": ["neurips-2016"], "claims": [
        {"id": "a", "claim": "x", "number": "us_cn", "measure": "share", "published": 0.03, "bound": "about",
         "direction": "flat"}]}, "t.yaml").claims[0]
    few = ClaimResult(claim, "neurips-2016", ours=0.03, low=0.03, high=0.03, unplaced=0, direction="too few years")
    compare(few, claim)
    assert few.agrees is True and "too few years for a direction" in few.difference


def test_a_study_is_found_by_name_or_file(tmp_path):
    assert load_study("wired-neurips").builtin
    with pytest.raises(StudyError, match="no study named 'nope'; built in: eto-cross-border"):
        load_study("nope")
    with pytest.raises(StudyError, match="no such study file"):
        load_study(str(tmp_path / "missing.yaml"))


def test_study_list_prints_one_line_per_study(capsys):
    assert cli.main(["study", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == ["eto-cross-border", "ml-global-impact-2025", "wired-neurips"]
    assert "scope: neurips-*" in lines[2]


# -- running studies on the shared NeurIPS years ---------------------------------------------------


@pytest.fixture(scope="module")
def neurips(tmp_path_factory, ror_dump):
    """A home where `study run wired-neurips --years 1995..2005` materialised what it could."""
    base = shared("paperlists")
    home = tmp_path_factory.mktemp("studies") / "home"
    with pytest.MonkeyPatch.context() as mp:
        for name, value in {"PAPERATLAS_HOME": home, "DAGSTER_HOME": home / "dagster",
                            "PAPERATLAS_PAPERLISTS_BASE": base, "PAPERATLAS_ROR_DUMP": ror_dump,
                            "PAPERATLAS_PDFS": "off"}.items():
            mp.setenv(name, str(value))
        for name in ("PAPERATLAS_OVERRIDES", "PAPERATLAS_LOCAL_DIR", "PAPERATLAS_COUNTRY_GROUPS"):
            mp.delenv(name, raising=False)
        code = cli.main(["study", "run", "wired-neurips", "--years", "1995..2005", "--json"])
        yield code, home, mp


def _main(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_wired_neurips_runs_on_the_shared_years(neurips, capsys):
    code, _, _ = neurips
    assert code == 0
    code, out, err = _main(capsys, "study", "run", "wired-neurips", "--years", "1995..2005", "--json")
    assert code == 0
    result = json.loads(out)
    assert result["study"] == "wired-neurips" and result["materialised"] == ["neurips-1995", "neurips-2005"]
    assert "neurips-1996" in result["not_materialised"]
    claims = {c["id"]: c for c in result["claims"]}
    for c in claims.values():
        assert {"id", "claim", "scope", "published", "source", "ours", "low", "high", "unplaced", "basis",
                "note"} <= set(c)
    # The published years are not here: said, with the command that reads them.
    assert claims["us-cn-2025"]["ours"] is None and claims["us-cn-2025"]["published"] == 141
    assert claims["us-cn-2025"]["outside_years"] == [2025]
    assert "The published figure is about 2025, outside the years this run reads" in claims["us-cn-2025"]["note"]
    assert "`paperatlas study run wired-neurips --years 2025`" in claims["us-cn-2025"]["note"]
    # The years of this run no source publishes here are said, not promised to a re-run.
    assert "No source publishes 1996..2004 here" in claims["us-cn-share"]["note"]
    # The share over time stands on the years present, with its interval.
    share = claims["us-cn-share"]
    assert share["scope"] == "neurips-1995, neurips-2005" and share["basis"] == "metadata"
    assert share["low"] <= share["ours"] <= share["high"] and [p["year"] for p in share["per_year"]] == [1995, 2005]
    # Who drives it: institutions of the US and China by top-level parent, none on more papers than ours.
    assert share["institutions"] and all(0 < i["papers"] <= sum(p["papers"] for p in share["per_year"])
                                         for i in share["institutions"])
    report = json.loads(_main(capsys, "report", "neurips-1995", "neurips-2005", "--json")[1])
    papers = sum(r["papers"] for r in report)
    assert share["ours"] == pytest.approx(sum(r["us_cn_papers"] for r in report) / papers)
    # Text: published beside ours.
    code, out, err = _main(capsys, "study", "run", "wired-neurips", "--years", "1995..2005", "--stored")
    assert code == 0 and "[us-cn-2024]" in out and "published   134 of 4,497 (3.0%)" in out
    assert "not materialised:" in out and "neurips-1996..2004" in out


def test_a_missing_year_is_named_not_run(neurips, capsys):
    code, out, err = _main(capsys, "study", "run", "wired-neurips", "--years", "1995..1996", "--json")
    assert code == 0
    assert "no source publishes neurips-1996 here" in err
    assert json.loads(out)["materialised"] == ["neurips-1995"]


USER_STUDY = """\
name: my-check
title: "My own check <script>alert(1)</script>"
source: {name: Me, url: "https://example.org/study"}
scope: [neurips-1995, neurips-2005]
claims:
  - {id: us, claim: "Papers with a US author", number: us, measure: count, published: 200}
  - {id: us-share, claim: "US share of papers with a country", number: us, measure: share,
     of: papers_with_country, published: 0.8, bound: about}
  - {id: us-1995, claim: "US papers in 1995", number: us, years: [1995]}
  - {id: partners, claim: "US partners", number: top_partners, country: US, top: 2, published: [GB, CA]}
  - {id: g7, claim: "G7 by cross-border papers", number: ranking, group: g7, top: 3}
  - {id: us-papers, claim: "US papers (profile)", number: country_papers, country: US}
  - {id: cn-tf, claim: "CN papers naming TensorFlow", number: cn_tensorflow_full_text}
  - {id: pytorch, claim: "PyTorch's origin", number: tool_origin, term: pytorch, published: [US]}
  - {id: maths, claim: "US $\\frac{ papers $ CN over the years", number: us, years: [1995, 2005]}
  - {id: pairs, claim: "US-GB papers, pairs under 3 a year left out", number: pair, country: US, partner: GB,
     min_pair: 3}
  - {id: none, claim: "Malta's partners", number: top_partners, country: MT, published: [IT]}
  - {id: c11, claim: "Papers", number: papers}
  - {id: c12, claim: "Papers with a country", number: papers_with_country}
"""


def test_a_users_study_file_runs_and_agrees_with_report(neurips, capsys, tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text(USER_STUDY, encoding="utf-8")
    code, out, err = _main(capsys, "study", "run", str(path), "--stored", "--json", "--out", str(tmp_path / "out"))
    assert code == 0, err
    claims = {c["id"]: c for c in json.loads(out)["claims"]}
    report = {r["partition"]: r for r in json.loads(_main(capsys, "report", "neurips-1995", "neurips-2005",
                                                           "--json")[1])}
    us = sum(r["us_papers"] for r in report.values())
    assert claims["us"]["ours"] == us == claims["us-papers"]["ours"]
    assert claims["us-1995"]["ours"] == report["neurips-1995"]["us_papers"]
    assert claims["us"]["difference"].startswith(f"{us - 200:+,}")
    placed = sum(r["papers_with_country"] for r in report.values())
    assert claims["us-share"]["ours"] == pytest.approx(us / placed)
    trend = json.loads(_main(capsys, "trend", "all", "--partners-of", "US", "--top", "5", "--json")[1])
    together = {}
    for row in trend:
        for p in row["top_partners"]["US"]:
            together[p["country"]] = together.get(p["country"], 0) + p["papers"]
    ours = claims["partners"]["ours"]
    assert len(ours) == 2 and all(together[c] >= together.get(o, 0) for c in ours for o in together if o not in ours)
    assert claims["g7"]["ours"] and set(claims["g7"]["ours"]) <= {"US", "CA", "GB", "FR", "DE", "IT", "JP"}
    assert claims["cn-tf"]["ours"] is not None and claims["cn-tf"]["basis"].startswith("abstracts only")
    assert claims["pytorch"]["ours"] == ["US"] and claims["pytorch"]["agrees"] is True
    page = (tmp_path / "out" / "study.html").read_text(encoding="utf-8")
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    assert 'href="https://example.org/study"' in page and 'href="reports/neurips-1995/review.html"' in page
    assert (tmp_path / "out" / "reports" / "neurips-1995" / "report.html").is_file()
    md = (tmp_path / "out" / "study.md").read_text(encoding="utf-8")
    assert "| Papers with a US author |" in md and "| Papers with a country |" in md  # every claim, no cut
    assert "\\<script\\>" in md and "<script>" not in md
    assert (tmp_path / "out" / "charts" / "maths.png").is_file()
    pairs = claims["pairs"]["per_year"]
    assert all(p["papers"] == 0 or p["papers"] >= 3 for p in pairs)
    assert claims["none"]["agrees"] is None and "nothing to compare" in claims["none"]["difference"]


@pytest.mark.parametrize("argv, words", [
    (["--years", "2016.."], "--years years '2016..'"),
    (["--scope", "zzz-*"], "the sources plan does not know the venue 'zzz'"),
])
def test_bad_options_exit_2_in_one_line(neurips, capsys, argv, words):
    code, out, err = _main(capsys, "study", "run", "wired-neurips", "--stored", *argv)
    assert code == 2 and words in err and len(err.strip().splitlines()) == 1


def test_a_bad_study_file_exits_2_in_one_line(neurips, capsys, tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(textwrap.dedent("""\
        name: bad
        title: Bad
        scope: [neurips-1995]
        claims:
          - {id: x, claim: y, number: us_cn, measure: share, published: 141}
        """), encoding="utf-8")
    code, out, err = _main(capsys, "study", "run", str(path), "--stored")
    assert code == 2 and "a share is a fraction" in err and len(err.strip().splitlines()) == 1
    code, out, _ = _main(capsys, "errors")  # and filed, as every bad input is
    assert code == 0 and any(line.startswith("studies\tstudy run") and str(path) in line and "a share is a fraction"
                             in line for line in out.splitlines())


def test_the_study_asset_stands_on_its_scopes_partitions():
    from dagster import AssetKey

    from paperatlas.definitions import build_definitions

    graph = build_definitions().resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert {"study_wired_neurips", "study_eto_cross_border", "study_ml_global_impact_2025"} <= keys
    node = graph.get(AssetKey("study_wired_neurips"))
    assert node.group_name == "studies"
    assert AssetKey("headlines") in node.parent_keys and AssetKey("country_decisions") in node.parent_keys
    mapping = node.partition_mappings[AssetKey("headlines")]
    assert {"neurips-2024", "neurips-2025", "neurips-1995"} <= set(mapping.partition_keys)


def test_a_changed_number_upstream_marks_the_study_stale(neurips, capsys, tmp_path):
    """The study asset reads its partitions: when one of them is materialised again from changed
    inputs (here a new term catalogue), the study is stale, naming that partition (Dagster's own
    stale status, as the UI shows it). A re-run from the same inputs changes nothing."""
    from dagster import AssetKey
    from dagster._core.definitions.data_version import CachingStaleStatusResolver, StaleStatus
    from dagster._core.loader import LoadingContextForTest

    from paperatlas.cli.execution import instance
    from paperatlas.definitions import build_definitions
    from paperatlas.pipeline.config import load_settings

    settings = load_settings()
    graph = build_definitions(settings).resolve_asset_graph()
    key = AssetKey("study_wired_neurips")

    def resolver():
        inst = instance(settings)
        return CachingStaleStatusResolver(inst, graph, LoadingContextForTest(inst))

    assert _main(capsys, "study", "run", "wired-neurips", "--years", "1995..2005", "--stored")[0] == 0
    assert resolver().get_status(key) == StaleStatus.FRESH
    assert _main(capsys, "run", "neurips-1995", "--pdfs", "off")[0] == 0
    assert resolver().get_status(key) == StaleStatus.FRESH  # the same inputs: the same data versions
    from paperatlas.pipeline.mentions.catalogue import DEFAULT_CATALOGUE

    terms = tmp_path / "terms.yaml"
    terms.write_text(DEFAULT_CATALOGUE.read_text(encoding="utf-8") + "\n# a new catalogue\n", encoding="utf-8")
    _, _, mp = neurips
    mp.setenv("PAPERATLAS_TERMS", str(terms))
    try:
        assert _main(capsys, "run", "neurips-1995", "--pdfs", "off")[0] == 0
    finally:
        mp.delenv("PAPERATLAS_TERMS")
    settings = load_settings()
    assert resolver().get_status(key) == StaleStatus.STALE
    causes = [c.dependency for c in resolver().get_stale_causes(key)]
    assert any(d and d.partition_key == "neurips-1995" for d in causes)


# -- the OpenAlex studies, on a local OpenAlex-compatible server ----------------------------------


def test_ml_global_impact_runs_on_openalex_pages(home, capsys, monkeypatch):
    from openalex_server import serve_openalex

    with serve_openalex(page_size=6) as base:
        monkeypatch.setenv("PAPERATLAS_OPENALEX_BASE", base)
        code, out, err = _main(capsys, "study", "run", "ml-global-impact-2025", "--pdfs", "off", "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["materialised"] == ["naturemlq3-2025"]
    claims = {c["id"]: c for c in result["claims"]}
    report = json.loads(_main(capsys, "report", "naturemlq3-2025", "--json")[1])
    assert claims["articles"]["ours"] == report["papers"] == 15  # January to September only
    assert claims["articles"]["published"] == 5000 and claims["articles"]["agrees"] is False
    assert claims["countries"]["ours"] == len(report["country_papers"])
    assert claims["china-share"]["ours"] == pytest.approx(report["cn_papers"] / report["papers_with_country"])
    assert [claims[t]["ours"] for t in ("scikit-learn", "u-net", "catboost")] == [["FR"], ["DE"], ["RU"]]
    assert all(claims[t]["agrees"] for t in ("scikit-learn", "u-net", "catboost"))
    assert claims["cn-tensorflow"]["basis"].startswith("abstracts only")  # --pdfs off: no full text read
    assert "The published figure read the papers' full text" in (claims["china-share"]["note"] or "") or \
        claims["china-share"]["basis"] == "metadata"


def test_eto_cross_border_runs_on_openalex_pages_and_agrees_with_country(home, capsys, monkeypatch):
    from openalex_server import serve_openalex

    with serve_openalex(page_size=5) as base:
        monkeypatch.setenv("PAPERATLAS_OPENALEX_BASE", base)
        code, out, err = _main(capsys, "study", "run", "eto-cross-border", "--years", "2022..2024", "--pdfs", "off",
                               "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["materialised"] == ["airesearch-2022", "airesearch-2023", "airesearch-2024"]
    claims = {c["id"]: c for c in result["claims"]}
    us = json.loads(_main(capsys, "country", "US", "--scope", "airesearch-*", "--top", "1", "--json")[1])
    assert claims["us-top-partner"]["ours"] == [p["country"] for p in us["partners_all_years"][:1]]
    ranked = json.loads(_main(capsys, "ranking", "--cross-border", "--group", "non-western", "--top", "10",
                              "--scope", "airesearch-*", "--json")[1])
    assert claims["non-western-ranking"]["ours"] == [r["country"] for r in ranked["rows"]]
    assert "US" not in claims["non-western-ranking"]["ours"]
    assert "2023, 2024: ETO and Rest of World call 2023–2024 incomplete" in claims["cn-sg-rising"]["note"]
    assert [p["year"] for p in claims["cn-sg-rising"]["per_year"]] == [2022, 2023, 2024]


def test_a_study_on_another_scope_and_an_unreachable_source(neurips, capsys, monkeypatch):
    """--scope puts a study's claims on other venue-years; a claim about other years says so; an
    OpenAlex that cannot be reached is asked once, named with the offline settings, and the study
    goes on with what is stored."""
    code, out, err = _main(capsys, "study", "run", "wired-neurips", "--scope", "neurips-2005", "--stored", "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["materialised"] == ["neurips-2005"] and result["scope"] == ["neurips-2005"]
    claims = {c["id"]: c for c in result["claims"]}
    assert claims["us-cn-share"]["scope"] == "neurips-2005" and claims["us-cn-share"]["ours"] is not None
    # ETO's claims are about 2014-2024: on NeurIPS 1995 and 2005 they stand on nothing, and say so.
    code, out, err = _main(capsys, "study", "run", "eto-cross-border", "--scope", "neurips-1995", "neurips-2005",
                           "--stored", "--json")
    claims = {c["id"]: c for c in json.loads(out)["claims"]}
    assert claims["us-top-partner"]["ours"] is None
    assert "The published figure is about 2014..2024, outside the years this run reads" in claims["us-top-partner"]["note"]
    from openalex_server import serve_openalex

    with serve_openalex([]) as base:
        pass  # closed: nothing listens there now
    monkeypatch.setenv("PAPERATLAS_OPENALEX_BASE", base)
    code, out, err = _main(capsys, "study", "run", "ml-global-impact-2025", "--pdfs", "off")
    assert code == 0
    assert "could not ask openalex" in err and "PAPERATLAS_OPENALEX_BASE" in err
    assert "FAILED" not in err and "Traceback" not in err
    assert "[scikit-learn]" in out and "not materialised: 1 venue-year(s) of the scope: naturemlq3-2025" in out


def test_a_cold_home_without_a_network_still_compares_what_it_can(home, capsys, monkeypatch):
    """Nothing of the ML study's scope can be read (OpenAlex unreachable): the study still runs,
    says so, and compares the tool origins, which need only the term catalogue."""
    from openalex_server import serve_openalex

    with serve_openalex([]) as base:
        pass  # closed: nothing listens there now
    monkeypatch.setenv("PAPERATLAS_OPENALEX_BASE", base)
    code, out, err = _main(capsys, "study", "run", "ml-global-impact-2025", "--json")
    assert code == 0, err
    result = json.loads(out)
    claims = {c["id"]: c for c in result["claims"]}
    assert result["materialised"] == [] and claims["articles"]["ours"] is None
    assert [claims[t]["ours"] for t in ("scikit-learn", "u-net", "catboost")] == [["FR"], ["DE"], ["RU"]]
    assert "could not ask openalex" in err
