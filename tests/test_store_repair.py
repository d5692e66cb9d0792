"""A Delta table whose log cannot be read (a commit file cut in half by a crash without atomic
rename, a missing commit, a damaged checkpoint) is named in one line with the command that
repairs it, and `paperatlas store repair TABLE` rolls it back to its last readable version, on a
folder and on S3 (moto). Every test damages its own store."""

import json
import re

import pytest

from paperatlas import cli

LOG = "raw_papers/_delta_log"


def run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


class Files:
    """The Delta store's files, in a folder or in an S3 bucket (through boto3, as another
    program would damage them)."""

    def __init__(self, root, bucket=None):
        self.root, self.bucket = root, bucket
        if bucket:
            import os

            import boto3

            self.s3 = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"], aws_access_key_id="test",
                                   aws_secret_access_key="test", region_name="us-east-1")

    def names(self, folder: str) -> list[str]:
        if self.bucket:
            pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket,
                                                                      Prefix=f"{self.root}/{folder}/")
            return sorted(o["Key"].rsplit("/", 1)[1] for page in pages for o in page.get("Contents", [])
                          if "/" not in o["Key"][len(f"{self.root}/{folder}/"):])
        path = self.root / folder
        return sorted(p.name for p in path.iterdir() if p.is_file()) if path.is_dir() else []

    def read(self, name: str) -> bytes:
        if self.bucket:
            return self.s3.get_object(Bucket=self.bucket, Key=f"{self.root}/{name}")["Body"].read()
        return (self.root / name).read_bytes()

    def write(self, name: str, data: bytes) -> None:
        if self.bucket:
            self.s3.put_object(Bucket=self.bucket, Key=f"{self.root}/{name}", Body=data)
        else:
            (self.root / name).write_bytes(data)

    def delete(self, name: str) -> None:
        if self.bucket:
            self.s3.delete_object(Bucket=self.bucket, Key=f"{self.root}/{name}")
        else:
            (self.root / name).unlink()

    def all(self, folder: str) -> list[str]:
        """Every file under `folder`, as paths relative to it."""
        if self.bucket:
            pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket,
                                                                      Prefix=f"{self.root}/{folder}/")
            return sorted(o["Key"][len(f"{self.root}/{folder}/"):] for page in pages for o in page.get("Contents", []))
        return sorted(str(p.relative_to(self.root / folder)) for p in (self.root / folder).rglob("*") if p.is_file())

    def cut_newest_commit(self, table: str = "raw_papers") -> int:
        """The newest commit of `table` cut to half its bytes; its version."""
        newest = [n for n in self.names(f"{table}/_delta_log") if re.fullmatch(r"\d{20}\.json", n)][-1]
        data = self.read(f"{table}/_delta_log/{newest}")
        self.write(f"{table}/_delta_log/{newest}", data[: len(data) // 2])
        return int(newest[:20])


@pytest.fixture(params=["delta", "delta-s3"])
def delta_home(request, home, monkeypatch):
    """`home` with the Delta store, in its folder or in a new S3 bucket; the store's `Files`."""
    monkeypatch.setenv("PAPERATLAS_STORE", "delta")
    if request.param == "delta":
        monkeypatch.delenv("PAPERATLAS_STORE_URI", raising=False)
        return Files(home / "delta")
    bucket = request.getfixturevalue("s3_bucket")
    monkeypatch.setenv("PAPERATLAS_STORE_URI", f"s3://{bucket}/atlas")
    return Files("atlas", bucket)


def _numbers(capsys) -> dict:
    code, out, err = run(capsys, "report", "neurips-2020", "--json")
    assert code == 0, err
    report = json.loads(out)
    return {k: v for k, v in report.items() if not any(w in k for w in ("generated", "path", "store", "folder"))}


def _one_line(err: str, table: str, version: int) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert f"paperatlas: {table} (" in lines[0]
    assert f"its commit log is damaged at version {version} (truncated JSON)" in lines[0]
    assert f"run `paperatlas store repair {table}` to roll it back to the last readable version ({version - 1})" \
        in lines[0]
    for rust in ("Kernel error", "<unknown>", "clone3", "Traceback", "unexpected error"):
        assert rust not in err


def test_a_truncated_commit_is_one_line_and_store_repair_rolls_it_back(delta_home, capsys):
    files = delta_home
    code, _, err = run(capsys, "run", "nips-2020", "--pdfs", "off")
    assert code == 0, err
    before = _numbers(capsys)
    assert before["us_cn_papers"] == 1
    version = files.cut_newest_commit()
    cut = files.read(f"{LOG}/{version:020d}.json")

    # (a) every command that opens the table says which table, what is wrong and the fix
    for argv in (["report", "neurips-2020"], ["run", "nips-2020", "--pdfs", "off"]):
        code, out, err = run(capsys, *argv)
        assert code == 2, (argv, out, err)
        _one_line(err, "raw_papers", version)

    # a dry run says what a repair does and changes nothing
    code, out, err = run(capsys, "store", "repair", "raw_papers", "--dry-run")
    assert code == 0, err
    assert f"roll back to version {version - 1}: version {version} set aside" in out
    assert "the partitions they wrote: neurips-2020" in out and "dry run: nothing changed" in out
    assert files.read(f"{LOG}/{version:020d}.json") == cut
    # without --yes and no terminal to ask at, nothing is done
    code, out, err = run(capsys, "store", "repair", "raw_papers")
    assert code == 2 and "run again with --yes" in err
    assert f"{version:020d}.json" in files.names(LOG)

    # (b) the repair rolls back: the cut commit is moved aside, not deleted, and the table reads
    code, out, err = run(capsys, "store", "repair", "raw_papers", "--yes")
    assert code == 0, err
    assert f"raw_papers: it reads again, at version {version - 1}" in out
    assert "paperatlas run neurips-2020" in out
    assert f"{version:020d}.json" not in files.names(LOG)
    kept = [p for p in files.all("raw_papers/_damaged") if p.endswith(f"_delta_log/{version:020d}.json")]
    assert len(kept) == 1 and files.read(f"raw_papers/_damaged/{kept[0]}") == cut
    from paperatlas.pipeline.config import load_settings
    from paperatlas.pipeline.store import open_store

    assert open_store(load_settings(), read_only=True).scalar("SELECT count(*) FROM raw_papers") == 0
    code, out, err = run(capsys, "store", "repair", "raw_papers")
    assert code == 0 and "nothing to repair" in out, err

    # (c) re-running the venue-year it names gives the numbers from before the damage
    code, out, err = run(capsys, "run", "nips-2020", "--pdfs", "off")
    assert code == 0, err
    assert _numbers(capsys) == before


def test_a_table_damaged_mid_run_fails_its_venue_year_with_the_line(home, monkeypatch, capsys):
    """The damage met inside a Dagster step (paper_countries, after raw_papers read fine) is the
    venue-year's FAILED line, with the table and the fix."""
    monkeypatch.setenv("PAPERATLAS_STORE", "delta")
    monkeypatch.delenv("PAPERATLAS_STORE_URI", raising=False)
    files = Files(home / "delta")
    code, _, err = run(capsys, "run", "nips-2020", "--pdfs", "off")
    assert code == 0, err
    before = _numbers(capsys)
    version = files.cut_newest_commit("paper_countries")
    code, out, err = run(capsys, "run", "nips-2020", "--pdfs", "off")
    assert code == 1, err
    failed = [line for line in err.splitlines() if line.startswith("FAILED neurips-2020: ")]
    assert failed == [f"FAILED neurips-2020: paper_countries: paper_countries ({home / 'delta' / 'paper_countries'}): "
                      f"its commit log is damaged at version {version} (truncated JSON); run `paperatlas store repair "
                      f"paper_countries` to roll it back to the last readable version ({version - 1})"], err
    assert "Kernel error" not in err and "<unknown>" not in err
    code, out, err = run(capsys, "store", "repair", "paper_countries", "--yes")
    assert code == 0 and "paperatlas run neurips-2020" in out, err
    code, _, err = run(capsys, "run", "nips-2020", "--pdfs", "off")
    assert code == 0, err
    assert _numbers(capsys) == before


def _written(uri: str, versions: int = 3, **options):
    """A Delta store whose raw_papers has `versions` commits after its creation, one venue-year each."""
    from paperatlas.pipeline.store_delta import DeltaWarehouse

    store = DeltaWarehouse(uri, options)
    for n in range(versions):
        key = f"conf{n}-2020"
        store.replace_partition("raw_papers", key, [{"partition_key": key, "paper_id": "p1", "venue": f"conf{n}",
                                                     "year": 2020}])
    return store


def _keys(store) -> list[str]:
    return sorted(store.query("SELECT partition_key FROM raw_papers").partition_key)


def test_a_missing_commit_and_a_write_to_a_damaged_table_name_the_table(tmp_path):
    from paperatlas.pipeline.store import StoreError

    store = _written(str(tmp_path / "delta"), versions=4)
    files = Files(tmp_path / "delta")
    files.delete(f"{LOG}/{2:020d}.json")  # conf1-2020's commit is gone; 3 and 4 cannot be read without it
    with pytest.raises(StoreError) as raised:
        store.replace_partition("raw_papers", "conf9-2020", [{"partition_key": "conf9-2020", "paper_id": "p"}])
    message = str(raised.value)
    assert message.startswith(f"raw_papers ({tmp_path / 'delta' / 'raw_papers'}): its commit log is damaged at "
                              "version 2 (the commit file is missing)")
    assert "roll it back to the last readable version (1)" in message and "\n" not in message
    damage = store.damage("raw_papers")
    assert damage.keep == 1 and damage.lost_versions == [3, 4]
    assert damage.partitions == ["conf2-2020", "conf3-2020"]  # what 3 and 4 wrote; 2's is not known
    store.repair("raw_papers", "t1", log=lambda _: None)
    assert _keys(store) == ["conf0-2020"]
    # the next write takes the version the set-aside commit had, and the table reads on
    store.replace_partition("raw_papers", "conf9-2020", [{"partition_key": "conf9-2020", "paper_id": "p"}])
    assert _keys(store) == ["conf0-2020", "conf9-2020"]
    assert sorted(files.all("raw_papers/_damaged")) == [f"t1/_delta_log/{v:020d}.json" for v in (3, 4)]


def test_a_missing_data_file_names_the_table_and_the_commit_that_added_it(tmp_path):
    from paperatlas.pipeline.store import StoreError

    store = _written(str(tmp_path / "delta"), versions=3)
    files = Files(tmp_path / "delta")
    gone = next(p for p in files.all("raw_papers") if p.startswith("partition_key=conf1-2020/"))
    files.delete(f"raw_papers/{gone}")  # conf1-2020, written at version 2
    with pytest.raises(StoreError) as raised:
        _keys(type(store)(store.uri))
    assert str(raised.value) == (
        f"raw_papers ({tmp_path / 'delta' / 'raw_papers'}): a data file that version 2 added is missing ({gone}); "
        "run `paperatlas store repair raw_papers` to roll it back to the last readable version (1)")
    damage = store.damage("raw_papers")
    assert damage.lost_versions == [2, 3] and damage.partitions == ["conf1-2020", "conf2-2020"] and damage.rows == 2
    store.repair("raw_papers", "t1", log=lambda _: None)
    assert _keys(store) == ["conf0-2020"]


def test_a_damaged_checkpoint_is_set_aside_and_nothing_is_lost(tmp_path):
    from paperatlas.pipeline.store import StoreError

    store = _written(str(tmp_path / "delta"), versions=12)  # a checkpoint every 10 commits
    files = Files(tmp_path / "delta")
    checkpoint = next(n for n in files.names(LOG) if n.endswith(".checkpoint.parquet"))
    data = files.read(f"{LOG}/{checkpoint}")
    files.write(f"{LOG}/{checkpoint}", data[: len(data) // 2])
    with pytest.raises(StoreError) as raised:
        _keys(type(store)(store.uri))
    message = str(raised.value)
    assert f"its checkpoint at version {int(checkpoint[:20])} is damaged (not a readable Parquet file)" in message
    assert "to set the damaged files aside (version 12 reads without them; nothing is lost)" in message
    store.repair("raw_papers", "t1", log=lambda _: None)
    assert _keys(store) == sorted(f"conf{n}-2020" for n in range(12))
    assert sorted(files.all("raw_papers/_damaged")) == [f"t1/_delta_log/{checkpoint}", "t1/_delta_log/_last_checkpoint"]


def test_store_repair_refuses_what_it_cannot_repair(home, capsys, monkeypatch, tmp_path):
    monkeypatch.delenv("PAPERATLAS_STORE", raising=False)
    code, _, err = run(capsys, "store", "repair", "raw_papers")
    assert code == 2 and "store repair is for the Delta store (PAPERATLAS_STORE=delta)" in err
    monkeypatch.setenv("PAPERATLAS_STORE", "delta")
    code, _, err = run(capsys, "store", "repair", "raw_paper")
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "no table 'raw_paper': paperatlas store repair TABLE, one of " in err and "raw_papers" in err
    code, out, err = run(capsys, "store", "repair", "raw_papers", "--yes")
    assert code == 0 and "not written yet" in out, err
    _written(str(home / "delta"), versions=2)
    code, out, err = run(capsys, "store", "repair", "raw_papers", "--yes")
    assert code == 0 and out.strip() == "raw_papers: its log reads (version 2); nothing to repair", err
    code, _, err = run(capsys, "store", "maintain", "raw_papers")
    assert code == 2 and "takes no table" in err
    # the table's first commit cut: no version is left to roll back to, and it says so
    files = Files(home / "delta")
    files.write(f"{LOG}/{0:020d}.json", files.read(f"{LOG}/{0:020d}.json")[:100])
    code, out, err = run(capsys, "store", "repair", "raw_papers", "--yes")
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1, err
    assert "its commit log is damaged at version 0 (truncated JSON); no version of it can be read; move " in err
    assert files.names(LOG)[0] == f"{0:020d}.json"  # nothing was moved
