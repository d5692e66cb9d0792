"""The OpenAlex snapshot as a source (`openalex_snapshot`): the filter evaluated on works, the
index pass (incremental, newest version wins, bad lines and cut files), reading by (sub-)partition
with the API's parser, the same on S3 (moto), and a whole run through the command line.

The snapshot is a small folder written here in OpenAlex's layout
(`data/works/updated_date=*/part_*.gz`) from the invented works of
tests/fixtures/openalex/works.json: no internet."""

from __future__ import annotations

import copy
import gzip
import json
from pathlib import Path

import pytest
from openalex_server import fixture_works, work_id
from openalex_server import matches as server_matches

from paperatlas import cli
from paperatlas.pipeline.config import load_settings
from paperatlas.pipeline.partitions import parse_partition_key
from paperatlas.pipeline.sources import openalex, registry
from paperatlas.pipeline.sources.base import SourceConfig, SourceError
from paperatlas.pipeline.sources.openalex_filter import FilterError, compile_filter, matches, prefilter
from paperatlas.pipeline.sources.openalex_snapshot import OpenAlexSnapshot
from paperatlas.pipeline.sources.plan import VenuePlan
from paperatlas.pipeline.store import Warehouse

AI_RESEARCH = "topics.subfield.id:1702,type:article|preprint|review"
NATURE_ML = "primary_location.source.publisher_lineage:P4310319908,topics.subfield.id:1702,type:article"
VENUE = VenuePlan("snapai", "AI research from the snapshot", ("openalex_snapshot",), openalex=AI_RESEARCH)
MOVED = "W4390000037"  # a 2022 work whose newer version has a new title and month


def snapshot_works() -> tuple[list[dict], list[dict]]:
    """(the first folder's works, the second's): every fixture work once, plus a newer version
    of MOVED (new title, published a month later) in the second."""
    works = fixture_works()
    old = [w | {"updated_date": "2025-01-10T00:00:00"} for w in works[: len(works) // 2]]
    new = [w | {"updated_date": "2025-06-02T00:00:00"} for w in works[len(works) // 2:]]
    moved = copy.deepcopy(next(w for w in old if work_id(w) == MOVED))
    moved.update(display_name="Calibrated Uncertainty, Revised", title="Calibrated Uncertainty, Revised",
                 publication_date="2022-03-14", updated_date="2025-06-02T00:00:00")
    return old, new + [moved]


def newest(works: list[dict]) -> list[dict]:
    out: dict[str, dict] = {}
    for work in works:
        if work_id(work) not in out or work["updated_date"] > out[work_id(work)]["updated_date"]:
            out[work_id(work)] = work
    return list(out.values())


def write_part(root: Path, updated: str, name: str, works: list[dict], extra: list[bytes] = ()) -> Path:
    path = root / "data" / "works" / f"updated_date={updated}" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wb") as out:
        for work in works:
            out.write(json.dumps(work).encode() + b"\n")
        out.writelines(extra)
    return path


def build_snapshot(root: Path) -> Path:
    old, new = snapshot_works()
    write_part(root, "2025-01-10", "part_000.gz", old[:12])
    write_part(root, "2025-01-10", "part_001.gz", old[12:], [b"{not json\n", b"[1, 2]\n"])
    write_part(root, "2025-06-02", "part_000.gz", new)
    entries = [{"url": f"s3://openalex/{p.relative_to(root)}", "meta": {"content_length": p.stat().st_size}}
               for p in sorted(root.rglob("part_*.gz"))]
    (root / "data" / "works" / "manifest").write_text(json.dumps({"entries": entries}))
    return root


def source(root: str, cache: Path) -> OpenAlexSnapshot:
    return OpenAlexSnapshot(SourceConfig(cache_dir=str(cache), timeout=5, retries=0, location=root))


def read(src: OpenAlexSnapshot, key: str, venue: VenuePlan = VENUE):
    pk = parse_partition_key(key)
    reading = src.stream(pk, venue)
    papers = [p for batch in reading for p in batch]
    return papers, reading.result


def api_papers(key: str, flt: str = AI_RESEARCH, dates=None):
    """What the API source's parser makes of the same works, selected by the API's filter."""
    pk = parse_partition_key(key)
    old, new = snapshot_works()
    chosen = [w for w in newest(old + new) if server_matches(w, openalex.year_filter(flt, pk, dates))]
    return openalex.parse_works(chosen, pk).papers


def rows(papers) -> list[dict]:
    return sorted(({k: v for k, v in p.row().items() if k not in ("fetched_at", "source_sha256")} for p in papers),
                  key=lambda r: r["paper_id"])


@pytest.fixture(autouse=True)
def no_user_plan(tmp_path, monkeypatch):
    monkeypatch.setenv("PAPERATLAS_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("PAPERATLAS_SOURCES", raising=False)


# -- the filter --------------------------------------------------------------------------------


@pytest.mark.parametrize("flt", [AI_RESEARCH, NATURE_ML, "publication_year:2022-2023", "publication_year:>2024",
                                 "type:!article", "primary_topic.subfield.id:1707|1312",
                                 "authorships.institutions.country_code:gb,publication_year:2025",
                                 "from_publication_date:2025-03-01,to_publication_date:2025-03-31",
                                 "primary_location.source.id:S4210175523", "best_oa_location:null",
                                 "primary_topic.subfield.id:!null"])
def test_the_filter_selects_what_the_api_selects(flt):
    works = fixture_works()
    test = compile_filter(flt)
    chosen = {work_id(w) for w in works if test(w)}
    same = flt.replace(">2024", "2025-2100").replace("best_oa_location:null", "type:!x")
    if "null" not in flt:  # the test server has no `null` and no >Y
        assert chosen == {work_id(w) for w in works if server_matches(w, same)}
    assert chosen and (len(chosen) < len(works) or "!null" in flt)


def test_null_and_unsupported_keys():
    work = fixture_works()[0]
    assert matches(work, "best_oa_location:null") and not matches(work, "best_oa_location:!null")
    assert matches(work | {"primary_topic": None}, "primary_topic.subfield.id:null")
    assert matches(work, "institutions.country_code:IN") and matches(work, "openalex:w4390000037")
    quick = prefilter(NATURE_ML)  # only the ids are looked for in the text; the type waits for parsing
    assert quick(json.dumps(work).encode()) is False and quick(b'"P4310319908" "subfields/1702"')
    assert all(prefilter(AI_RESEARCH)(json.dumps(w).encode()) for w in fixture_works() if matches(w, AI_RESEARCH))
    with pytest.raises(FilterError, match="'title.search'"):
        compile_filter("title.search:transformers")
    with pytest.raises(FilterError, match="not key:value"):
        compile_filter("type")


# -- the index pass and reading ----------------------------------------------------------------


def test_the_snapshot_gives_the_api_parsers_papers(tmp_path):
    src = source(str(build_snapshot(tmp_path / "snap")), tmp_path / "cache")
    for key in ("snapai-2022", "snapai-2025"):
        papers, result = read(src, key)
        assert rows(papers) == rows(api_papers(key)) and papers
    papers, _ = read(src, "snapai-2022")
    assert {p.paper_id: p.title for p in papers}[MOVED] == "Calibrated Uncertainty, Revised"  # the newest version
    assert len({p.paper_id for p in papers}) == len(papers)
    shards = sorted(p.relative_to(tmp_path / "cache" / "openalex-snapshot") for p in
                    (tmp_path / "cache" / "openalex-snapshot").rglob("*.jsonl.gz"))
    assert Path("snapai/2022/02.jsonl.gz") in shards and Path("snapai/2022/03.jsonl.gz") in shards
    assert Path("snapai/2025/11.jsonl.gz") in shards


def test_bad_lines_are_errors_naming_file_and_line(tmp_path):
    src = source(str(build_snapshot(tmp_path / "snap")), tmp_path / "cache")
    _, result = read(src, "snapai-2025")
    bad = {(e.item.rsplit("/", 3)[-2:][0], e.item.rsplit(" ", 1)[-1]): e.reason for e in result.errors}
    assert set(bad) == {("updated_date=2025-01-10", "13"), ("updated_date=2025-01-10", "14")}, result.errors
    assert any("not JSON" in r for r in bad.values()) and any("a JSON list" in r for r in bad.values())
    assert all("part_001.gz line" in e.item for e in result.errors)


def test_months_and_subfields_are_parts(tmp_path):
    src = source(str(build_snapshot(tmp_path / "snap")), tmp_path / "cache")
    pk = parse_partition_key("snapai-2025")
    whole = api_papers("snapai-2025")
    assert src.parts(pk, VENUE, 100) == [(pk, len(whole))]
    months = src.parts(pk, VENUE, 1)
    assert sum(n for _, n in months) == len(whole) and all(part.month for part, _ in months)
    june = [(part, n) for part, n in months if part.month == 6]
    assert june and all(part.subfield for part, _ in june)  # June holds more than one work: by subfield
    days = [(part, n) for part, n in months if part.days]  # a subfield of a month above 1: by days
    assert days and all(n <= 1 or part.days[0] == part.days[1] for part, n in days), months
    read_all = set()
    for part, n in months:
        papers, _ = read(src, part.key)
        assert len(papers) == n and rows(papers) == rows(api_papers(part.key))
        read_all |= {p.paper_id for p in papers}
    assert read_all == {p.paper_id for p in whole}
    # small subfields of a month read together (`openalex.packed`): the works of either, once
    together, _ = read(src, "snapai-2025-m01-s1702_1707")
    assert len(together) == 2 and rows(together) == rows(api_papers("snapai-2025-m01-s1702_1707"))
    assert {p.paper_id for p in together} == {p.paper_id for key in ("snapai-2025-m01-s1702", "snapai-2025-m01-s1707")
                                              for p in read(src, key)[0]}
    assert src.available(pk, VENUE) and not src.available(parse_partition_key("snapai-2019"), VENUE)


def test_a_date_window_is_kept(tmp_path):
    src = source(str(build_snapshot(tmp_path / "snap")), tmp_path / "cache")
    q3 = VenuePlan("snapq3", "Q3", ("openalex_snapshot",), openalex=NATURE_ML, dates=("01-01", "09-30"))
    papers, _ = read(src, "snapq3-2025", q3)
    assert rows(papers) == rows(api_papers("snapq3-2025", NATURE_ML, ("01-01", "09-30"))) and papers


def test_the_index_is_incremental(tmp_path):
    root = build_snapshot(tmp_path / "snap")
    src = source(str(root), tmp_path / "cache")
    pk = parse_partition_key("snapai-2025")
    first = src.update(pk, VENUE)
    assert (first.files, first.skipped) == (3, 0) and first.works == 51  # 48 works, a newer version, two bad lines
    again = src.update(pk, VENUE)
    assert (again.files, again.skipped, again.works) == (0, 3, 0)
    extra = fixture_works()[0] | {"id": "https://openalex.org/W1", "publication_date": "2025-12-30",
                                  "publication_year": 2025, "updated_date": "2025-07-01T00:00:00"}
    write_part(root, "2025-07-01", "part_000.gz", [extra])
    later = src.update(pk, VENUE)
    assert (later.files, later.skipped, later.kept) == (1, 3, 1)
    papers, _ = read(src, "snapai-2025")
    assert "W1" in {p.paper_id for p in papers}


def test_a_newer_version_outside_the_filter_no_longer_counts(tmp_path):
    root = build_snapshot(tmp_path / "snap")
    src = source(str(root), tmp_path / "cache")
    before, _ = read(src, "snapai-2025")
    gone = copy.deepcopy(next(w for w in fixture_works() if work_id(w) == before[0].paper_id))
    write_part(root, "2025-08-01", "part_000.gz", [gone | {"type": "editorial", "updated_date": "2025-08-01"}])
    after, _ = read(src, "snapai-2025")
    assert {p.paper_id for p in after} == {p.paper_id for p in before} - {before[0].paper_id}


def test_a_cut_file_is_named_and_read_again(tmp_path):
    root = build_snapshot(tmp_path / "snap")
    path = write_part(root, "2025-07-01", "part_000.gz", fixture_works()[:5])
    whole = path.read_bytes()
    path.write_bytes(whole[: len(whole) // 2])
    src = source(str(root), tmp_path / "cache")
    report = src.update(parse_partition_key("snapai-2025"), VENUE)
    cut = [e for e in report.errors if e.item == str(path)]
    assert report.files == 3 and len(cut) == 1 and "read again next time" in cut[0].reason
    path.write_bytes(whole)
    assert src.update(parse_partition_key("snapai-2025"), VENUE).files == 1


def test_a_missing_snapshot_and_a_year_filter_fail_in_one_line(tmp_path):
    src = source(str(tmp_path / "nowhere"), tmp_path / "cache")
    with pytest.raises(SourceError, match="PAPERATLAS_OPENALEX_SNAPSHOT"):
        read(src, "snapai-2025")
    bad = VenuePlan("snapbad", "x", ("openalex_snapshot",), openalex="title.search:ai")
    src = source(str(build_snapshot(tmp_path / "snap")), tmp_path / "cache")
    with pytest.raises(SourceError, match="'title.search'"):
        read(src, "snapbad-2025", bad)


def test_the_setting_reaches_the_source(monkeypatch, tmp_path):
    monkeypatch.setenv("PAPERATLAS_OPENALEX_SNAPSHOT", str(tmp_path / "snap") + "/")
    settings = load_settings()
    assert registry.configs(settings)["openalex_snapshot"].location == str(tmp_path / "snap")
    monkeypatch.setenv("PAPERATLAS_OPENALEX_SNAPSHOT", "https://example.org/snap")
    with pytest.raises(ValueError, match="PAPERATLAS_OPENALEX_SNAPSHOT"):
        load_settings()


# -- on S3 -------------------------------------------------------------------------------------


def test_the_snapshot_on_s3(tmp_path, s3_bucket, s3_endpoint):
    import boto3

    root = build_snapshot(tmp_path / "snap")
    s3 = boto3.client("s3", endpoint_url=s3_endpoint, aws_access_key_id="test", aws_secret_access_key="test",
                      region_name="us-east-1")
    for path in root.rglob("*"):
        if path.is_file():
            s3.upload_file(str(path), s3_bucket, f"mirror/{path.relative_to(root)}")
    src = source(f"s3://{s3_bucket}/mirror", tmp_path / "cache")
    papers, result = read(src, "snapai-2025")
    assert rows(papers) == rows(api_papers("snapai-2025")) and papers
    assert result.stats["snapshot_files_read"] == 3 and len(result.errors) == 2
    assert src.update(parse_partition_key("snapai-2025"), VENUE).files == 0


# -- a whole run -------------------------------------------------------------------------------


def snapshot_plan(home: Path, monkeypatch, tmp_path: Path) -> Path:
    """A snapshot folder, PAPERATLAS_OPENALEX_SNAPSHOT pointing at it, and a sources plan whose
    venue `snapai` reads it."""
    root = build_snapshot(tmp_path / "snap")
    monkeypatch.setenv("PAPERATLAS_OPENALEX_SNAPSHOT", str(root))
    (home / "sources.yaml").parent.mkdir(parents=True, exist_ok=True)
    (home / "sources.yaml").write_text(
        f"venues:\n  snapai:\n    name: AI research\n    sources: [openalex_snapshot]\n"
        f"    openalex: \"{AI_RESEARCH}\"\n    first_year: 2022\n    watch: false\n")
    return root


def test_a_run_reads_the_snapshot(home, capsys, monkeypatch, tmp_path):
    snapshot_plan(home, monkeypatch, tmp_path)
    code = cli.main(["run", "snapai-2025", "snapai-2022-m03", "--pdfs", "off"])
    out, err = capsys.readouterr()
    assert code == 0, err
    store = Warehouse(load_settings().database, read_only=True)
    year = store.read_partition("raw_papers", "snapai-2025")
    assert set(year["paper_id"]) == {p.paper_id for p in api_papers("snapai-2025")} and len(year)
    march = store.read_partition("raw_papers", "snapai-2022-m03")
    titles = dict(zip(march["paper_id"], march["title"]))
    assert len(titles) == 2 and titles[MOVED] == "Calibrated Uncertainty, Revised"  # moved to March
    assert len(store.read_partition("paper_countries", "snapai-2025"))


def test_a_line_too_long_is_an_error_not_a_read(tmp_path, monkeypatch):
    """A "line" longer than MAX_LINE (a file without line breaks) is skipped with an error naming
    file and line, read past in pieces; the works after it are kept."""
    from paperatlas.pipeline.sources import openalex_snapshot

    monkeypatch.setattr(openalex_snapshot, "MAX_LINE", 100_000)
    root = build_snapshot(tmp_path / "snap")
    works = [w | {"updated_date": "2025-07-01T00:00:00"} for w in fixture_works()[:3]]
    path = write_part(root, "2025-07-01", "part_000.gz", works[:1], [b'{"id": "W1", "x": "' + b"9" * 300_000 + b'"}\n',
                                                                    b'{"id": "W' + b"9" * 20_000 + b'"}\n',
                                                                    json.dumps(works[1]).encode() + b"\n"])
    src = source(str(root), tmp_path / "cache")
    report = src.update(parse_partition_key("snapai-2025"), VENUE)
    long = [e for e in report.errors if e.item.startswith(str(path))]
    assert [e.item.rsplit(" ", 1)[-1] for e in long] == ["2"] and "longer than" in long[0].reason, report.errors
    assert report.files == 4 and report.works == 51 + 4  # the id of 20,000 digits is read, and kept by none


def test_a_read_sees_the_shards_as_they_were_when_it_started(tmp_path):
    """A pass appending to a shard while a partition is read (another worker's `snapshot-index`)
    is not seen half-written: the read stops at the size the shard had under the lock."""
    src = source(str(build_snapshot(tmp_path / "snap")), tmp_path / "cache")
    pk = parse_partition_key("snapai-2025")
    src.update(pk, VENUE)
    expected = sorted(w["id"] for w in src.index().works("snapai", pk, openalex.year_filter(AI_RESEARCH, pk)))
    works = src.index().works("snapai", pk, openalex.year_filter(AI_RESEARCH, pk))
    got = [next(works)["id"]]
    for shard in (tmp_path / "cache" / "openalex-snapshot" / "snapai" / "2025").glob("*.jsonl.gz"):
        member = gzip.compress(b'{"id": "W5", "updated_date": "2030-01-01"}\n' * 50)
        with open(shard, "ab") as out:
            out.write(member[: len(member) // 2])  # a member half-written
    got += [w["id"] for w in works]
    assert sorted(got) == expected and len(got) > 1


def test_the_index_pass_has_a_command(home, capsys, monkeypatch, tmp_path):
    snapshot_plan(home, monkeypatch, tmp_path)
    assert cli.main(["snapshot-index", "neurips"]) == 2
    assert "neurips: no venue of the sources plan" in capsys.readouterr().err
    assert cli.main(["snapshot-index"]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("3 part files read, 0 already read; 51 works") and "2 errors" in out, out
    assert "OpenAlex snapshot: 3/3 files" in err and "part_001.gz line 13" in err
    assert cli.main(["errors", "openalex_snapshot"]) == 0
    assert capsys.readouterr().out.count("part_001.gz line") == 2
    assert cli.main(["snapshot-index", "snapai"]) == 0
    assert capsys.readouterr().out.startswith("0 part files read, 3 already read")
    assert cli.main(["errors", "reference"]) == 0  # the other key that is not a venue-year
    capsys.readouterr()
    assert cli.main(["run", "snapai-2025", "--pdfs", "off"]) == 0
    err = capsys.readouterr().err
    assert "snapai-2025" in err and "new part files read" not in err  # the run's pass had nothing left to read
    store = Warehouse(load_settings().database, read_only=True)
    assert set(store.read_partition("raw_papers", "snapai-2025")["paper_id"]) == \
        {p.paper_id for p in api_papers("snapai-2025")}
