"""Country profiles, the cross-border ranking and the country groups (pipeline/reports/profiles.py,
pipeline/countries/groups.py, `paperatlas country` and `paperatlas ranking`).

The pure functions are tested on hand-made paper sets; the commands on neurips-2016 from the
shared paper lists, materialised once for the module (skipped when the shared data is absent)."""

from __future__ import annotations

import json

import pytest
from conftest import shared

from paperatlas import cli
from paperatlas.pipeline.countries.groups import GroupError, load_groups
from paperatlas.pipeline.reports.profiles import (
    country_profile,
    direction,
    pair_series,
    partner_totals,
    ranking,
)

# -- the pure functions, on hand-made sets -------------------------------------------------------

SETS = {
    2019: [{"US"}, {"US", "CN"}, {"US", "CN", "GB"}, {"CN"}, set(), {"GB", "DE"}],
    2020: [{"US", "CN"}, {"US", "CN"}, {"US", "GB"}, {"CN", "SG"}, {"JP"}],
}


def test_country_profile_counts_papers_cross_border_and_partners():
    rows = country_profile(SETS, "CN", top=5)
    assert [r["year"] for r in rows] == [2019, 2020]
    first, second = rows
    assert (first["all_papers"], first["papers"], first["cross_border"]) == (6, 3, 2)  # the empty set counts
    assert first["share_of_papers"] == pytest.approx(3 / 6) and first["share_cross_border"] == pytest.approx(2 / 3)
    assert first["partners"] == [{"country": "US", "papers": 2}, {"country": "GB", "papers": 1}]
    assert (second["papers"], second["cross_border"]) == (3, 3)
    assert second["partners"] == [{"country": "US", "papers": 2}, {"country": "SG", "papers": 1}]
    assert first["pairs_below_minimum"] == 0


def test_country_profile_top_ties_min_pair_and_absence():
    rows = country_profile(SETS, "CN", top=1, min_pair=2)
    assert [r["partners"] for r in rows] == [[{"country": "US", "papers": 2}], [{"country": "US", "papers": 2}]]
    assert [r["pairs_below_minimum"] for r in rows] == [1, 1]  # GB in 2019, SG in 2020
    ties = country_profile({2020: [{"FR", "DE"}, {"FR", "BE"}]}, "FR", top=5)[0]
    assert [p["country"] for p in ties["partners"]] == ["BE", "DE"]  # equal counts: by code
    none = country_profile(SETS, "JP")
    assert none[0]["papers"] == 0 and none[0]["share_cross_border"] is None and none[1]["cross_border"] == 0


def test_partner_totals_apply_the_minimum_per_year():
    # US–GB: 1 joint paper in 2019, 1 in 2020: 2 in all, yet below a minimum of 2 in each year.
    assert partner_totals(SETS, "US", top=None, min_pair=0) == [
        {"country": "CN", "papers": 4}, {"country": "GB", "papers": 2}]
    assert partner_totals(SETS, "US", top=None, min_pair=2) == [{"country": "CN", "papers": 4}]


def test_ranking_by_cross_border_papers_with_ties_and_members():
    rows = ranking(SETS)
    assert [(r["country"], r["cross_border"], r["rank"]) for r in rows] == [
        ("CN", 5, 1), ("US", 5, 1), ("GB", 3, 3), ("DE", 1, 4), ("SG", 1, 4)]
    assert rows[0]["papers"] == 6  # CN in 6 papers, 5 of them cross-border
    assert [r["country"] for r in ranking(SETS, members={"CN", "SG", "JP"})] == ["CN", "SG"]  # JP: none cross-border
    assert [r["country"] for r in ranking(SETS, cross_border=False, top=2)] == ["CN", "US"]
    assert [r["country"] for r in ranking(SETS, members={"JP"}, cross_border=False)] == ["JP"]


def test_pair_series_and_direction():
    assert pair_series(SETS, "CN", "US") == [{"year": 2019, "papers": 2, "share_of_a": pytest.approx(1.0)},
                                             {"year": 2020, "papers": 2, "share_of_a": pytest.approx(2 / 3)}]
    assert pair_series({2020: [{"JP"}]}, "JP", "US") == [{"year": 2020, "papers": 0, "share_of_a": None}]
    assert direction([1, 2]) == "too few years"
    assert direction([1, None, 2, None]) == "too few years"
    assert direction([10, 12, 15, 18]) == "rising"
    assert direction([18, 15, 12, 10]) == "falling"
    assert direction([10, 10.2, 9.9, 10.1]) == "flat"
    assert direction([0, 0, 0]) == "flat"
    assert direction([0.10, None, 0.14, 0.20]) == "rising"


# -- the groups ---------------------------------------------------------------------------------


def test_builtin_groups():
    groups = load_groups()
    assert {"western", "non-western", "eu", "g7", "g20", "brics", "asean"} <= set(groups)
    assert len(groups["eu"].members) == 27 and "GB" not in groups["eu"].members
    assert {"NO", "CH", "GB", "US", "CA", "AU", "NZ"} <= groups["western"].members  # NO: read as a code, not false
    non_western = groups["non-western"].members
    assert {"JP", "KR", "SG", "TW", "HK", "MO", "CN", "IL", "IN"} <= non_western
    assert not non_western & groups["western"].members
    assert len(groups["g7"].members) == 7 and len(groups["g20"].members) == 19
    assert all(g.source for g in groups.values())


def test_a_user_file_is_laid_over_group_by_group(tmp_path):
    path = tmp_path / "groups.yaml"
    path.write_text("groups:\n  western:\n    members: [US, GB, IL]\n"
                    "  gulf:\n    title: Gulf\n    members: [AE, SA]\n    source: GCC\n")
    groups = load_groups(path)
    assert groups["western"].members == {"US", "GB", "IL"}
    assert groups["western"].title.startswith("Western")  # the title not given stays the built-in one
    assert "IL" not in groups["non-western"].members and "DE" in groups["non-western"].members  # follows western
    assert groups["gulf"].members == {"AE", "SA"} and groups["eu"] == load_groups()["eu"]


@pytest.mark.parametrize("text, words", [
    ("groups:\n  eu:\n    members: [FR, QQ]\n", ["groups.eu.members", "'QQ'"]),
    ("groups:\n  eu:\n    members: [fr]\n", ["groups.eu.members", "'fr'"]),
    ("groups:\n  x:\n    members: [NO]\n", ["groups.x.members", '"NO"']),
    ("groups:\n  x:\n    title: X\n", ["groups.x", "needs members"]),
    ("groups:\n  x:\n    complement_of: nothing\n", ["groups.x.complement_of", "no such group"]),
    ("groups:\n  x:\n    members: [FR]\n    colour: red\n", ["groups.x", "unknown keys ['colour']"]),
    ("groups: [", ["not valid YAML"]),
])
def test_a_bad_groups_file_is_one_line_naming_the_key(tmp_path, text, words):
    path = tmp_path / "groups.yaml"
    path.write_text(text)
    with pytest.raises(GroupError) as caught:
        load_groups(path)
    message = str(caught.value)
    assert "\n" not in message and str(path) in message and all(w in message for w in words), message


# -- the commands, on neurips-2016 ----------------------------------------------------------------


@pytest.fixture(scope="module")
def store_env(tmp_path_factory):
    """The settings of a home where neurips-2016 was materialised from the shared paper list
    (PDFs off), once for the module."""
    home = tmp_path_factory.mktemp("profiles") / "home"
    env = {"PAPERATLAS_HOME": str(home), "DAGSTER_HOME": str(home / "dagster"),
           "PAPERATLAS_PAPERLISTS_BASE": str(shared("paperlists")),
           "PAPERATLAS_ROR_DUMP": str(shared("ror", "ror-partial-v2.zip")), "PAPERATLAS_PDFS": "off"}
    with pytest.MonkeyPatch.context() as mp:
        for name, value in env.items():
            mp.setenv(name, value)
        for name in ("PAPERATLAS_OVERRIDES", "PAPERATLAS_LOCAL_DIR", "PAPERATLAS_COUNTRY_GROUPS",
                     "PAPERATLAS_PLACEMENT", "PAPERATLAS_SOURCES"):
            mp.delenv(name, raising=False)
        assert cli.main(["run", "neurips-2016"]) == 0
    return env


@pytest.fixture
def atlas(store_env, monkeypatch, capsys):
    """Run a `paperatlas` command in the module's home: (exit code, stdout, stderr)."""
    for name, value in store_env.items():
        monkeypatch.setenv(name, value)
    for name in ("PAPERATLAS_OVERRIDES", "PAPERATLAS_LOCAL_DIR", "PAPERATLAS_COUNTRY_GROUPS", "PAPERATLAS_PLACEMENT"):
        monkeypatch.delenv(name, raising=False)
    capsys.readouterr()

    def run(*argv):
        code = cli.main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.mark.parametrize("placement, scope", [("hq", "cn"), ("coauthors", "greater")])
def test_country_partners_equal_the_trend(atlas, placement, scope):
    code, out, err = atlas("country", "US", "--top", "5", "--json", "--placement", placement, "--china-scope", scope)
    assert code == 0, err
    profile = json.loads(out)
    code, out, err = atlas("trend", "all", "--partners-of", "US", "--top", "5", "--json", "--placement", placement,
                           "--china-scope", scope)
    assert code == 0, err
    (trend,) = json.loads(out)
    (year,) = profile["years"]
    assert profile["venue_years"] == ["neurips-2016"] and year["year"] == trend["year"] == 2016
    assert year["partners"] == trend["top_partners"]["US"]
    assert year["all_papers"] == trend["papers"] == 570
    assert year["papers"] > year["cross_border"] > 0


def test_country_text_names_columns_and_venue_years(atlas):
    code, out, err = atlas("country", "cn", "--scope", "neurips")
    assert code == 0, err
    assert out.startswith("CN China: papers per year") and "on 1 venue-year: neurips-2016" in out
    assert "cross-border" in out and "placement hq" in out and "China scope cn" in out and "US United States" in out


def test_min_pair_drops_small_pairs(atlas):
    _, out, _ = atlas("country", "US", "--top", "50", "--json")
    (every,) = json.loads(out)["years"]
    small = [p for p in every["partners"] if p["papers"] < 10]
    assert small and every["pairs_below_minimum"] == 0
    _, out, _ = atlas("country", "US", "--top", "50", "--json", "--min-pair", "10")
    (kept,) = json.loads(out)["years"]
    assert kept["partners"] == [p for p in every["partners"] if p["papers"] >= 10]
    assert kept["pairs_below_minimum"] == len(every["partners"]) - len(kept["partners"])
    _, out, _ = atlas("country", "US", "--min-pair", "10")
    assert "below 10" in out


def test_ranking_within_non_western_leaves_out_the_west(atlas):
    code, out, err = atlas("ranking", "--cross-border", "--group", "non-western", "--json")
    assert code == 0, err
    result = json.loads(out)
    countries = [r["country"] for r in result["rows"]]
    assert "CN" in countries and not {"US", "GB", "DE", "CA"} & set(countries)
    assert result["ranked_by"] == "cross_border" and result["group"] == "non-western"
    crossed = [r["cross_border"] for r in result["rows"]]
    assert crossed == sorted(crossed, reverse=True)
    _, out, _ = atlas("ranking", "--cross-border", "--json")
    assert json.loads(out)["rows"][0]["country"] == "US"
    code, out, _ = atlas("ranking", "--cross-border", "--group", "non-western", "--top", "3")
    assert code == 0 and "countries in group non-western by cross-border papers" in out
    assert "on 1 venue-year: neurips-2016" in out


def test_a_user_groups_file_overrides_a_group(atlas, tmp_path, monkeypatch):
    path = tmp_path / "mine.yaml"
    path.write_text("groups:\n  non-western:\n    members: [US, CN]\n")
    monkeypatch.setenv("PAPERATLAS_COUNTRY_GROUPS", str(path))
    code, out, err = atlas("ranking", "--cross-border", "--group", "non-western", "--json")
    assert code == 0, err
    assert [r["country"] for r in json.loads(out)["rows"]] == ["US", "CN"]


def test_bad_groups_file_and_unknown_group_are_one_line(atlas, tmp_path, monkeypatch):
    code, _, err = atlas("ranking", "--group", "nordic")
    assert code == 2 and err.count("\n") == 1 and "known: asean, brics, eu" in err
    path = tmp_path / "bad.yaml"
    path.write_text("groups:\n  eu:\n    members: [FR, ZZ]\n")
    monkeypatch.setenv("PAPERATLAS_COUNTRY_GROUPS", str(path))
    code, _, err = atlas("ranking", "--cross-border", "--group", "eu")
    assert code == 2 and err.count("\n") == 1 and str(path) in err and "groups.eu.members" in err
    assert "Traceback" not in err


def test_country_errors_are_one_line(atlas):
    for argv, words in [(["country", "ZW"], "no paper of the 1 venue-year(s)"),
                        (["country", "XX"], "ISO 3166-1 alpha-2"),
                        (["country", "HK", "--china-scope", "greater"], "HK folds into CN"),
                        (["country", "US", "--scope", "cvpr"], "no year of cvpr is materialised"),
                        (["country", "US", "--scope", "neurips-2017"], "not materialised: neurips-2017"),
                        (["country", "US", "--from", "2018"], "no venue-year of all lies between 2018"),
                        (["country", "US", "--min-pair", "-1"], "--min-pair must be 0 or more")]:
        code, _, err = atlas(*argv)
        assert code == 2 and err.count("\n") == 1 and words in err, (argv, err)


def test_the_groups_file_setting(tmp_path, monkeypatch):
    from paperatlas.pipeline.config import load_settings

    monkeypatch.setenv("PAPERATLAS_HOME", str(tmp_path))
    monkeypatch.delenv("PAPERATLAS_COUNTRY_GROUPS", raising=False)
    assert load_settings().country_groups_file is None  # no file in the home: the built-in groups
    (tmp_path / "country_groups.yaml").write_text("groups:\n  duo:\n    members: [US, CN]\n")
    assert load_settings().country_groups_file == tmp_path / "country_groups.yaml"
    assert load_groups(load_settings().country_groups_file)["duo"].members == {"US", "CN"}
    monkeypatch.setenv("PAPERATLAS_COUNTRY_GROUPS", str(tmp_path / "elsewhere.yaml"))
    with pytest.raises(GroupError, match="no such country groups file"):
        load_groups(load_settings().country_groups_file)
