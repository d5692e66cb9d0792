"""The ROR dump reader, the compiled index and its cache, and finding the dump."""

import hashlib
import json
import zipfile

import pytest
import responses
from ror_fixture import ORGS, record, write_dump

from paperatlas.pipeline.affiliations import ror
from paperatlas.pipeline.affiliations.reference import locate_dump
from paperatlas.pipeline.affiliations.resolver import Resolver
from paperatlas.pipeline.http import HttpClient


def test_reads_the_v2_dump_and_flattens_records(ror_dump):
    rows = ror.read_dump(ror_dump)
    assert len(rows) == len(ORGS)
    mit = next(r for r in rows if r["ror_id"] == "https://ror.org/042nb2s44")
    assert mit["name"] == "Massachusetts Institute of Technology"
    assert mit["acronyms"] == ["MIT"]
    assert mit["domains"] == ["mit.edu", "web.mit.edu"]  # domains plus the website's host
    assert (mit["country"], mit["city"], mit["types"], mit["status"]) == ("US", "Cambridge", ["education", "funder"], "active")


def test_prefers_the_schema_v2_member_of_a_release_with_both(tmp_path):
    path = tmp_path / "v1.50-2024-07-29-ror-data.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("v1.50-2024-07-29-ror-data.json", json.dumps([{"id": "x", "name": "Old", "addresses": []}]))
        archive.writestr("v1.50-2024-07-29-ror-data_schema_v2.json", json.dumps([record(ORGS[0])]))
    assert [r["name"] for r in ror.read_dump(path)] == ["Massachusetts Institute of Technology"]


def test_the_reader_streams_across_chunk_boundaries(ror_dump):
    with zipfile.ZipFile(ror_dump) as archive:
        text = archive.read(archive.namelist()[0]).decode()
    import io

    items = list(ror._iter_array(io.StringIO(text), "test", chunk_size=97))
    assert len(items) == len(ORGS)


@pytest.mark.parametrize(
    "content, reason",
    [
        ('{"id": 1}', "not a JSON array"),
        ('[{"id": "a", "names": []}, {"id": "b", "na', "malformed JSON"),
        ('[{"id": "x", "name": "Old", "addresses": []}]', "schema v1"),
        ("[]", "holds no records"),
    ],
)
def test_bad_dumps_name_the_file_and_the_reason(tmp_path, content, reason):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(ror.RorDumpError, match=reason):
        ror.read_dump(path)


def test_zip_without_json_member(tmp_path):
    path = tmp_path / "empty.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("README.txt", "nothing")
    with pytest.raises(ror.RorDumpError, match="no .json member"):
        ror.read_dump(path)


def test_index_tables(ror_dump):
    index = ror.RorIndex.build(ror.read_dump(ror_dump), "x")
    assert len(index) == len(ORGS) - 1  # the withdrawn record is left out
    northeastern = index.orgs_for_name("northeastern university")
    assert sorted(index.countries[o] for o in northeastern) == ["CN", "US"]
    google = index.orgs_for_name("google")  # "Google (United States)" is also "Google"
    assert sorted(index.countries[o] for o in google) == ["CH", "US"]
    orgs, suffix = index.orgs_for_domain("csail.mit.edu")
    assert suffix == "mit.edu" and index.names[orgs[0]] == "Massachusetts Institute of Technology"
    assert index.orgs_for_acronym("KAIST") and not index.orgs_for_acronym("THU")[1:]
    assert "university of" in index.prefixes and "university" in index.prefixes
    assert index.gazetteer and index.gazetteer.get("zurich") == "CH"


def test_index_is_cached_by_checksum(ror_dump, tmp_path, monkeypatch):
    first = ror.load_index(ror_dump, tmp_path)
    cached = ror.index_path(tmp_path, ror.file_sha256(ror_dump))
    assert cached.exists()

    def no_rebuild(*a, **k):
        raise AssertionError("the cached index should have been used")

    monkeypatch.setattr(ror.RorIndex, "build", no_rebuild)
    second = ror.load_index(ror_dump, tmp_path)
    assert second.ids == first.ids and second.checksum == first.checksum


@pytest.mark.parametrize("content", [
    b"not a pickle",
    b"cpipeline.ror\nRorIndex\n.",  # an index pickled before the module moved
])
def test_a_broken_cache_file_is_rebuilt(ror_dump, tmp_path, content):
    cached = ror.index_path(tmp_path, ror.file_sha256(ror_dump))
    cached.parent.mkdir(parents=True)
    cached.write_bytes(content)
    assert len(ror.load_index(ror_dump, tmp_path)) == len(ORGS) - 1
    assert isinstance(ror.RorIndex.load(cached), ror.RorIndex)  # rebuilt and cached again


ZENODO_RECORD = {
    "id": 17953395,
    "metadata": {"title": "ROR Data", "version": "v2.1"},
    "files": [
        {"key": "v2.1-2026-01-15-ror-data.zip", "size": 1,
         "checksum": "md5:PLACEHOLDER",
         "links": {"self": "https://zenodo.org/api/records/17953395/files/v2.1-2026-01-15-ror-data.zip/content"}},
    ],
}


@responses.activate
def test_default_dump_is_the_newest_on_zenodo(ror_dump, tmp_path):
    data = ror_dump.read_bytes()
    payload = json.loads(json.dumps(ZENODO_RECORD))
    payload["files"][0]["checksum"] = "md5:" + hashlib.md5(data).hexdigest()
    responses.get(ror.ZENODO_CONCEPT_RECORD, json=payload)
    responses.get(payload["files"][0]["links"]["self"], body=data)
    location = locate_dump(None, tmp_path, HttpClient(tmp_path, retries=0))
    assert location.source.endswith("/content") and location.path.read_bytes() == data
    # a second call finds the download in the cache
    again = locate_dump(None, tmp_path, HttpClient(tmp_path, retries=0))
    assert again.path == location.path
    assert len([c for c in responses.calls if c.request.url.endswith("/content")]) == 1


@responses.activate
def test_a_download_whose_md5_differs_is_discarded(ror_dump, tmp_path):
    payload = json.loads(json.dumps(ZENODO_RECORD))
    payload["files"][0]["checksum"] = "md5:" + "0" * 32
    responses.get(ror.ZENODO_CONCEPT_RECORD, json=payload)
    responses.get(payload["files"][0]["links"]["self"], body=ror_dump.read_bytes())
    with pytest.raises(ror.RorDumpError, match="MD5"):
        locate_dump(None, tmp_path, HttpClient(tmp_path, retries=0))


@responses.activate
def test_zenodo_answer_without_zip(tmp_path):
    responses.get(ror.ZENODO_CONCEPT_RECORD, json={"files": [{"key": "README.md", "links": {}}]})
    with pytest.raises(ror.RorDumpError, match="no .zip"):
        locate_dump(None, tmp_path, HttpClient(tmp_path, retries=0))


def test_none_and_missing_paths(tmp_path):
    assert locate_dump("none", tmp_path) is None
    with pytest.raises(ror.RorDumpError, match="does not exist"):
        locate_dump(str(tmp_path / "missing.zip"), tmp_path)


@pytest.fixture(scope="module")
def resolver(tmp_path_factory):
    path = write_dump(tmp_path_factory.mktemp("ror") / "dump.zip")
    return Resolver(ror.load_index(path, tmp_path_factory.mktemp("cache")))


@pytest.mark.parametrize(
    "affiliation, domain, country, ror_id, method",
    [
        # A registry name without a place; the ROR id is reported.
        ("Lund University", None, "SE", "https://ror.org/012a77v79", "institution:ror"),
        # A registry alias, inside a longer string.
        ("Dept. of Statistics, Lunds universitet", None, "SE", "https://ror.org/012a77v79", "institution:ror"),
        # A name two organisations share is settled by the e-mail domain ...
        ("Northeastern University", "ece.northeastern.edu", "US", "https://ror.org/04t5xt781", "institution:ror"),
        ("Northeastern University", "stumail.neu.edu.cn", "CN", "https://ror.org/03awzbc87", "institution:ror"),
        # ... or by a place in the string.
        ("Northeastern University, Shenyang", None, "CN", "https://ror.org/03awzbc87", "institution:ror"),
        # A country inside an institution's name in another country is not its address.
        ("Beth Israel Deaconess Medical Center", None, "US", "https://ror.org/04drvxt59", "institution:ror"),
        # A registry domain when the string says nothing.
        ("Department of Physics", "physics.lu.se", "SE", "https://ror.org/012a77v79", "email:institution"),
        # A misspelt name finds the registry entry (distinctive words nearly equal).
        ("Massachussets Institute of Technology", None, "US", "https://ror.org/042nb2s44", "institution:fuzzy"),
    ],
)
def test_registry_rules(resolver, affiliation, domain, country, ror_id, method):
    res = resolver.resolve(affiliation, domain)
    assert (res.country, res.ror_id, res.method) == (country, ror_id, method), res


def test_shared_name_without_other_evidence_stays_unresolved(resolver):
    res = resolver.resolve("Northeastern University", "gmail.com")
    assert res.country is None and "several countries" in res.reason


def test_fuzzy_never_swaps_the_distinctive_word(resolver):
    # "Lund" must not become another university of a similar-looking place.
    assert resolver.resolve("Lundby University", None).country is None


# Organisations invented for these tests: a subject word ("robotics") in registry names of many
# countries, as in the real registry.
SUBJECT_WORD_ORGS = [
    (f"0tst{n:05d}", name, [], [], [], None, cc, cc, "", 0, ["facility"], "active")
    for n, (name, cc) in enumerate([
        ("Institute of Applied Artificial Intelligence and Robotics", "US"), ("Robotics Society of China", "CN"),
        ("German Robotics Network", "DE"), ("Japan Robotics Forum", "JP"), ("Korea Robotics Council", "KR"),
        ("French Robotics Cluster", "FR"), ("British Robotics Hub", "GB")])
]


@pytest.fixture(scope="module")
def subject_resolver(tmp_path_factory):
    path = write_dump(tmp_path_factory.mktemp("ror") / "dump.zip", rows=ORGS + SUBJECT_WORD_ORGS)
    return Resolver(ror.load_index(path, tmp_path_factory.mktemp("cache")))


def test_a_fuzzy_match_needs_a_word_that_names_something(subject_resolver):
    """A name of subject words exists in many countries: a near spelling of one registry entry
    is a guess, and the string stays unresolved. A proper noun still anchors a misspelling."""
    res = subject_resolver.resolve("Institute of Artificial Intelligence and Robotics", None)
    assert res.country is None, res
    res = subject_resolver.resolve("Massachussets Institute of Technology", None)
    assert (res.country, res.method) == ("US", "institution:fuzzy"), res


def test_an_email_abroad_wins_over_a_fuzzy_match(resolver):
    res = resolver.resolve("Massachussets Institute of Technology", "ox.ac.uk")
    assert (res.country, res.method) == ("GB", "email:institution"), res
    assert "US" in res.alternatives


def test_a_registry_acronym_yields_to_an_email_address_abroad(resolver):
    """"DCST" names a college in Sudan in the registry and a department at Tsinghua in the
    string: an acronym alone is not trusted against an address in another country."""
    assert resolver.resolve("The CoAI group, ETHZ", None).country == "CH"
    res = resolver.resolve("The CoAI group, ETHZ", "mails.tsinghua.edu.cn")
    assert (res.country, res.method) == ("CN", "email:institution"), res


def test_the_registry_step_reads_the_dump_once(ror_dump, tmp_path, monkeypatch):
    """The table and the match index come from one pass over the dump (the real registry's
    JSON is parsed once, not twice), and the index equals one compiled by a pass of its own."""
    from paperatlas.pipeline.affiliations import reference
    from paperatlas.pipeline.affiliations.reference import DumpLocation
    from paperatlas.pipeline.store import Warehouse

    passes = []
    read = ror.iter_dump

    def counted(path):
        passes.append(path)
        yield from read(path)

    monkeypatch.setattr(ror, "iter_dump", counted)
    checksum = ror.file_sha256(ror_dump)
    built = {}

    def index(path, digest, on_progress=None, rows=None):
        built["index"] = ror.load_index(path, tmp_path / "cache", digest, on_progress, rows)
        return built["index"]

    store = Warehouse(tmp_path / "store.duckdb")
    outcome = reference.ror_registry(store, lambda: DumpLocation(ror_dump, str(ror_dump)), index, None, lambda _: None)
    assert outcome.rows == len(ORGS) and len(passes) == 1
    separate = ror.RorIndex.build(ror.read_dump(ror_dump), checksum)
    assert built["index"].ids == separate.ids and built["index"].by_name == separate.by_name
    assert built["index"].by_domain == separate.by_domain and built["index"].roots == separate.roots
