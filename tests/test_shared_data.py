"""Checks against ../shared/data; each skips cleanly when that data is absent."""

import json

import pytest
from conftest import shared

from paperatlas import cli
from paperatlas.pipeline.affiliations.resolver import Resolver
from paperatlas.pipeline.affiliations.ror import load_index
from paperatlas.pipeline.partitions import parse_partition_key
from paperatlas.pipeline.sources.paperlists import parse_records


def test_every_shared_paperlists_file_parses():
    folder = shared("paperlists")
    files = sorted(folder.glob("*.json"))
    assert len(files) >= 20
    for path in files:
        stem = path.stem
        venue, year = stem.rstrip("0123456789"), stem[len(stem.rstrip("0123456789")):]
        pk = parse_partition_key(f"{venue}-{year}")
        result = parse_records(path.read_bytes(), pk, str(path))
        kept_or_explained = len(result.papers) + sum(result.skipped_status.values()) + len(result.errors)
        assert len(result.papers) >= 0.99 * result.records, (path.name, len(result.papers), result.records)
        assert kept_or_explained >= result.records, path.name
        hard_errors = [e for e in result.errors if e.severity == "error"]
        assert len(hard_errors) <= 0.01 * result.records, (path.name, hard_errors[:3])
        aligned = sum(p.aligned for p in result.papers) / len(result.papers)
        assert aligned > 0.99, (path.name, aligned)


@pytest.fixture(scope="module")
def ror_index(tmp_path_factory):
    """The shared partial ROR dump, compiled once for this module."""
    return load_index(shared("ror", "ror-partial-v2.zip"), tmp_path_factory.mktemp("cache"))


def test_neurips_2016_end_to_end(home, monkeypatch, capsys):
    monkeypatch.setenv("PAPERATLAS_PAPERLISTS_BASE", str(shared("paperlists")))
    monkeypatch.setenv("PAPERATLAS_ROR_DUMP", str(shared("ror", "ror-partial-v2.zip")))
    assert cli.main(["run", "neurips-2016"]) == 0
    capsys.readouterr()
    assert cli.main(["report", "neurips-2016", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["papers"] == 570
    assert report["papers_with_country"] / report["papers"] > 0.8
    assert max(report["country_papers"], key=report["country_papers"].get) == "US"
    assert 0 < report["us_cn_papers"] < report["country_papers"]["CN"]


def test_shared_ror_dump_loads(ror_index):
    assert len(ror_index) > 45_000  # 51,370 records less the withdrawn ones
    mit = ror_index.orgs_for_name("massachusetts institute of technology")
    assert [ror_index.countries[o] for o in mit] == ["US"]
    assert ror_index.ids[mit[0]] == "https://ror.org/042nb2s44"


def test_resolver_agreement_does_not_regress(ror_index):
    """Floors under the measured agreement (benchmarks/resolver_agreement.py prints it)."""
    rows = [json.loads(line) for line in shared("affiliations", "dev.jsonl").read_text().splitlines() if line.strip()]
    resolver = Resolver(ror_index)
    fold = {"HK": "CN", "MO": "CN", "TW": "CN"}
    agree = wrong = 0
    for row in rows:
        got = resolver.resolve(row["affiliation"], row.get("email_domain")).country
        if got is None:
            continue
        if fold.get(got, got) == fold.get(row["country"], row["country"]):
            agree += 1
        else:
            wrong += 1
    assert agree / len(rows) >= 0.98
    assert wrong / len(rows) <= 0.01


def test_every_reviewed_label_correction_still_applies():
    """benchmarks/data/label_corrections.csv corrects the labels' US-CN membership of named
    papers: each paper must still be in its file, and its published label must still say the
    opposite (a correction that no longer changes anything would inflate the corrected figures'
    claim of review)."""
    import sys

    from conftest import ROOT

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from country_labels import CORRECTIONS, labels_of, load_corrections

    corrections = load_corrections(str(CORRECTIONS))
    assert len(corrections) >= 20
    records = {}
    for venue_year, _ in corrections:
        if venue_year not in records:
            venue, year = venue_year.rsplit("-", 1)
            stem = {"neurips": "nips"}.get(venue, venue) + year
            listed = json.loads(shared("paperlists", f"{stem}.json").read_text())
            records[venue_year] = {str(r.get("id")): r for r in listed}
    for (venue_year, paper_id), us_cn in corrections.items():
        record = records[venue_year].get(paper_id)
        assert record is not None, (venue_year, paper_id)
        label = labels_of(record)
        assert label is not None and ({"US", "CN"} <= label) != us_cn, (venue_year, paper_id, label)
