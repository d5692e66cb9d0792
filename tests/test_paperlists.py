import json

import pytest
from conftest import PAPERLISTS

from paperatlas.pipeline.partitions import parse_partition_key
from paperatlas.pipeline.sources.paperlists import (
    SourceError,
    dedupe_repeated,
    locate_and_read,
    parse_records,
    split_affiliations,
    split_authors,
    split_domains,
)

PK = parse_partition_key("neurips-2020")


def test_split_helpers():
    assert split_authors("A; B;C ;") == ["A", "B", "C"]
    assert split_authors("Yu-Xiong Wang, Martial Hebert") == ["Yu-Xiong Wang", "Martial Hebert"]
    assert split_authors("  ") == []
    assert split_affiliations("X + Y;Z;;X+X") == [["X", "Y"], ["Z"], [], ["X"]]
    # A run of pluses is part of a name, and a lone plus after it still separates.
    assert split_affiliations("HUST+Megvii (Face++) Technology Inc.;Megvii Inc. (Face++)+1Peking University") == [
        ["HUST", "Megvii (Face++) Technology Inc."], ["Megvii Inc. (Face++)", "1Peking University"]]
    assert split_domains("A.edu; ;b.org+c.org") == ["a.edu", None, "b.org"]
    assert dedupe_repeated(["a", "b", "a", "b"]) == ["a", "b"]
    assert dedupe_repeated(["a", "a", "b", "b"]) == ["a", "a", "b", "b"]


def test_fixture_file_parses_with_errors_for_bad_records():
    source = locate_and_read(str(PAPERLISTS), PK, http=None, name="nips")
    assert source.ref.endswith("nips/nips2020.json")
    result = parse_records(source.content, PK, source.ref, source.sha256)
    ids = [p.paper_id for p in result.papers]
    assert ids == ["p1", "p2", "p3", "p4", "p5", "p6", "p11", "p12"]
    assert result.skipped_status == {"Reject": 1}
    by_item = {(e.item, e.severity): e.reason for e in result.errors}
    assert by_item[("record #6 (id 'p7')", "error")] == "has no title"
    assert "expected an object" in by_item[("record #7", "error")]
    assert "same id and title" in by_item[("paper p1", "warning")]
    assert "4 entries for 3 authors" in by_item[("paper p6", "warning")]
    assert "no authors" in by_item[("paper p11", "warning")]
    assert len(result.errors) == 5

    papers = {p.paper_id: p for p in result.papers}
    p2 = papers["p2"]
    assert p2.authors == ["Carol Wu", "Dan Lee", "Eve Park"]
    assert p2.affiliations[0] == ["The University of Hong Kong, Hong Kong", "Google Research"]
    assert p2.email_domains == ["hku.hk", "cs.toronto.edu", "snu.ac.kr"]
    assert papers["p5"].authors == ["Ian Roe", "Jane Doe"]  # listed twice in the source
    assert papers["p12"].authors == ["Kim Lee", "Lars Berg"]
    assert papers["p6"].aligned is False and len(papers["p6"].unaligned_affiliations) == 4
    assert papers["p1"].pdf_url.endswith("p1-Paper.pdf")


def test_label_fields_are_never_read():
    record = json.loads((PAPERLISTS / "nips" / "nips2020.json").read_text())[0]
    assert record["aff_country_unique"] == "Atlantis"
    result = parse_records([record], PK, "inline")
    assert "Atlantis" not in json.dumps([p.row() for p in result.papers], default=str)


def test_reused_id_with_another_title_is_a_different_paper():
    records = [
        {"title": "First", "id": "28", "author": "A"},
        {"title": "Second", "id": "28", "author": "B"},
        {"title": "No Id", "pid": "28", "author": "C"},
    ]
    result = parse_records(records, PK, "inline")
    ids = [p.paper_id for p in result.papers]
    assert len(ids) == len(set(ids)) == 3
    assert ids[0] == "28" and ids[1].startswith("28~") and ids[2].startswith("t")
    assert "id reused for another title" in result.errors[0].reason
    again = parse_records(records, PK, "inline")
    assert [p.paper_id for p in again.papers] == ids  # stable across runs


def test_include_rejected_keeps_them():
    records = json.loads((PAPERLISTS / "nips" / "nips2020.json").read_text())
    result = parse_records(records, PK, "inline", include_rejected=True)
    assert "p10" in [p.paper_id for p in result.papers]


def test_wrongly_typed_field_is_an_item_error():
    result = parse_records([{"title": "T", "id": "x", "author": ["A", "B"]}], PK, "inline")
    assert result.papers == []
    assert "field 'author' is list" in result.errors[0].reason


@pytest.mark.parametrize(
    "name, message",
    [("badconf-2020", "not valid JSON"), ("objconf-2020", "expected an array of papers"), ("nope-2020", "no paperlists file")],
)
def test_unusable_files_raise_a_clear_source_error(name, message):
    pk = parse_partition_key(name)
    with pytest.raises(SourceError, match=message) as info:
        source = locate_and_read(str(PAPERLISTS), pk, http=None)
        parse_records(source.content, pk, source.ref)
    assert name in str(info.value)


def test_base_must_be_url_or_directory(tmp_path):
    with pytest.raises(SourceError, match="neither a URL nor a directory"):
        locate_and_read(str(tmp_path / "missing"), PK, http=None)
