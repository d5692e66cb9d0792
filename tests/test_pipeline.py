"""The whole asset graph, materialised through Dagster on the fixture partitions."""

import shutil
from datetime import datetime

import pandas as pd
import pytest
from conftest import PAPERLISTS, materialise
from dagster import build_schedule_context, instance_for_test

from paperatlas.assets.automation import ASSETS
from paperatlas.definitions import build_definitions
from paperatlas.pipeline.config import load_settings
from paperatlas.pipeline.store import Warehouse

EXPECTED_COUNTRIES = {
    "p1": {"CN": 0.5, "US": 0.5},
    "p2": {"CA": 1 / 3, "HK": 1 / 6, "KR": 1 / 3, "US": 1 / 6},
    "p4": {"CN": 0.5, "TW": 0.5},
    "p5": {"US": 1.0},
    "p6": {"DE": 0.25, "FR": 0.5, "GB": 0.25},
    "p12": {"KR": 0.5, "SE": 0.5},
}


def metadata(result, asset):
    for event in result.get_asset_materialization_events():
        m = event.step_materialization_data.materialization
        if m.asset_key.to_user_string() == asset:
            return {k: getattr(v, "value", v) for k, v in m.metadata.items()}
    raise KeyError(asset)


def test_every_asset_is_described_and_versioned():
    for assets_def in ASSETS:
        for key in assets_def.keys:
            assert assets_def.descriptions_by_key.get(key), key
            assert assets_def.code_versions_by_key.get(key), key
    defs = build_definitions()
    assert defs.resolve_job_def("venue_year_job") is not None
    schedule = defs.resolve_schedule_def("yearly_refresh")
    assert schedule.default_status.value == "STOPPED"
    # Yearly per venue: it ticks only in the months some venue of the plan publishes.
    assert "0 6 20 12 *" in schedule.cron_schedule and "0 6 20 8 *" in schedule.cron_schedule
    assert "0 6 20 1 *" not in schedule.cron_schedule


def test_the_asset_groups_are_the_stages_of_the_flow():
    from paperatlas.assets.common import STAGES

    groups = {}
    for assets_def in ASSETS:
        for key in assets_def.keys:
            groups.setdefault(assets_def.group_names_by_key[key], []).append(key.to_user_string())
            assert assets_def.owners_by_key[key] == ["team:paperatlas"], key
            assert "python" in assets_def.specs_by_key[key].kinds, key
    assert set(groups) == set(STAGES)
    assert groups["countries"] == ["country_decisions", "paper_countries", "country_edges"]
    assert sorted(groups["reference"]) == ["affiliation_overrides", "ror_registry", "term_catalogue"]


def test_whole_graph_on_the_fixture_partition(env):
    settings, defs, instance = env
    result = materialise(defs, instance, "neurips-2020")
    assert result.success
    evaluations = result.get_asset_check_evaluations()
    checks = {e.check_name: e for e in evaluations}
    assert len(evaluations) == 12  # 1 on the decisions, 4 on the countries, 4 on the mentions, 3 on the headlines
    warned = {"affiliations_resolved_to_a_country", "country_coverage_at_least_95pct"}
    assert all(e.passed for e in evaluations if e.check_name not in warned)
    assert all(e.passed for name, e in checks.items() if name not in warned)
    # One of the fixture's 17 (affiliation, e-mail) pairs ("Department of EECS", no e-mail)
    # cannot be placed: 94% is under the 97% bar, and the WARN check says so.
    coverage = checks["affiliations_resolved_to_a_country"]
    assert not coverage.passed and coverage.severity.value == "WARN"
    assert coverage.metadata["resolved_share"].value == "94.1% (16 of 17 distinct affiliation strings)"
    assert metadata(result, "raw_papers")["papers"] == 8
    assert metadata(result, "raw_papers")["errors"] == 2
    assert metadata(result, "paper_countries")["us_cn_papers"] == 1
    assert "| paper_id |" in metadata(result, "paper_countries")["preview"]

    store = Warehouse(settings.database)
    pc = store.read_partition("paper_countries", "neurips-2020")
    got = {}
    for row in pc.itertuples():
        got.setdefault(row.paper_id, {})[row.country] = row.fractional
    assert got.keys() == EXPECTED_COUNTRIES.keys()
    for paper, shares in EXPECTED_COUNTRIES.items():
        assert got[paper] == pytest.approx(shares), paper
    edges = store.read_partition("country_edges", "neurips-2020")
    assert len(edges) == 1 + 6 + 1 + 0 + 3 + 1
    errors = store.query("SELECT severity, count(*) AS n FROM ingest_errors GROUP BY 1 ORDER BY 1")
    assert errors.values.tolist() == [["error", 2], ["warning", 3]]
    resolved = store.read_partition("resolved_affiliations", "neurips-2020")
    unresolved = resolved[resolved["country"].isna()]
    assert unresolved["affiliation"].tolist() == ["Department of EECS"]
    assert unresolved["reason"].iloc[0]


def test_second_partition_adds_without_recomputing_the_first(env):
    settings, defs, instance = env
    assert materialise(defs, instance, "neurips-2020").success
    agg = defs.resolve_job_def("aggregates_job")
    assert agg.execute_in_process(instance=instance).success
    store = Warehouse(settings.database)
    before = store.read_partition("raw_papers", "neurips-2020")[["paper_id", "fetched_at"]]

    second = materialise(defs, instance, "icml-2021")
    assert second.success
    partitions = {e.partition for e in second.get_asset_materialization_events()}
    assert partitions == {"icml-2021"}
    assert agg.execute_in_process(instance=instance).success

    after = store.read_partition("raw_papers", "neurips-2020")[["paper_id", "fetched_at"]]
    assert before.equals(after)
    summary = store.query("SELECT venue, year, papers, papers_with_country, international_papers FROM yearly_summary ORDER BY 1, 2")
    assert summary.values.tolist() == [
        ["all", 2020, 8, 6, 5], ["all", 2021, 2, 2, 0], ["icml", 2021, 2, 2, 0], ["neurips", 2020, 8, 6, 5],
    ]
    ca = store.query("SELECT papers, papers_fractional FROM yearly_country WHERE venue='icml' AND country='CA'")
    assert ca.values.tolist() == [[1, 1.0]]


def test_rerun_gives_the_same_numbers(env):
    settings, defs, instance = env
    store = Warehouse(settings.database)
    materialise(defs, instance, "neurips-2020")
    first = store.read_partition("paper_countries", "neurips-2020").sort_values(["paper_id", "country"]).reset_index(drop=True)
    materialise(defs, instance, "neurips-2020")
    second = store.read_partition("paper_countries", "neurips-2020").sort_values(["paper_id", "country"]).reset_index(drop=True)
    assert first.equals(second)


def test_malformed_source_fails_its_partition_and_keeps_previous_rows(env, tmp_path, monkeypatch):
    base = tmp_path / "paperlists"
    shutil.copytree(PAPERLISTS, base)
    monkeypatch.setenv("PAPERATLAS_PAPERLISTS_BASE", str(base))
    settings = load_settings()
    defs = build_definitions(settings)
    instance = env[2]
    assert materialise(defs, instance, "neurips-2020").success
    (base / "nips" / "nips2020.json").write_text('[{"title": "oops", ')
    result = materialise(defs, instance, "neurips-2020")
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert "nips2020.json: not valid JSON" in failure.step_failure_data.user_failure_data.description
    store = Warehouse(settings.database)
    assert len(store.read_partition("raw_papers", "neurips-2020")) == 8
    errors = store.query("SELECT item, reason FROM ingest_errors WHERE stage='raw_papers' AND partition_key='neurips-2020'")
    assert errors["item"].tolist() == ["source paperlists"]
    # the other venue-year is unaffected
    assert materialise(defs, instance, "icml-2021").success


@pytest.mark.parametrize(
    "key, message",
    [("emptyconf-2020", "yielded no papers (0 records"), ("junkconf-2020", "yielded no papers (2 records, 2 unreadable")],
)
def test_a_source_without_papers_fails_loudly(env, key, message):
    settings, defs, instance = env
    result = materialise(defs, instance, key)
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert message in failure.step_failure_data.user_failure_data.description
    errors = Warehouse(settings.database).query("SELECT item FROM ingest_errors WHERE partition_key = ?", [key])
    assert "source paperlists" in errors["item"].tolist()
    assert len(errors) == (1 if key.startswith("empty") else 3)


def test_aggregate_metadata_has_headline_numbers(env):
    settings, defs, instance = env
    materialise(defs, instance, "neurips-2020")
    materialise(defs, instance, "icml-2021")
    result = defs.resolve_job_def("aggregates_job").execute_in_process(instance=instance)
    meta = metadata(result, "yearly_aggregates")
    assert (meta["venue_years"], meta["papers"], meta["papers_with_country"]) == (2, 10, 8)
    assert meta["international_share"] == "62.5% (5 of 8 papers with a country)"


def test_yearly_refresh_schedule_adds_and_refreshes_the_new_year(tmp_path):
    with instance_for_test() as instance:
        _check_refresh(instance, tmp_path)


def _check_refresh(instance, tmp_path):
    from paperatlas.pipeline.partitions import parse_partition_key
    from paperatlas.pipeline.sources.parts import Split
    from paperatlas.resources.sources import SourcesPlanFile
    from paperatlas.resources.warehouse import WarehouseResource

    defs = build_definitions()
    repo, yearly_refresh = defs.get_repository_def(), defs.resolve_schedule_def("yearly_refresh")
    warehouse = WarehouseResource(database=str(tmp_path / "store.duckdb"))
    plan = {"sources_plan": SourcesPlanFile(path=""), "warehouse": warehouse}
    # A venue-year `run` split into months is refreshed month by month.
    big = parse_partition_key("airesearch-2025")
    warehouse.warehouse().replace_where("partition_parts", Split(big, ((big.part(1), 9), (big.part(2), 8)),
                                                                 "openalex", 10).rows(), "scope = ?", [big.key])
    with build_schedule_context(
        instance=instance, scheduled_execution_time=datetime(2025, 12, 20, 6, 0), repository_def=repo, resources=plan
    ) as context:
        data = yearly_refresh.evaluate_tick(context)
    keys = sorted(r.partition_key for r in data.run_requests)
    assert "neurips-2025" in keys and "icml-2025" not in keys
    assert "airesearch-2025" not in keys and {"airesearch-2025-m01", "airesearch-2025-m02"} <= set(keys)
    request = next(r for r in data.run_requests if r.partition_key == "neurips-2025")
    assert request.run_config["ops"]["raw_papers"]["config"]["refresh"] is True
    assert request.asset_selection is None  # a whole venue-year: every asset, its report too
    part = next(r for r in data.run_requests if r.partition_key == "airesearch-2025-m01")
    selected = {k.to_user_string() for k in part.asset_selection}
    assert "venue_year_report" not in selected and {"raw_papers", "headlines"} <= selected  # what part_job runs
    assert selected == {k.to_user_string() for k in defs.resolve_job_def("part_job").asset_layer.executable_asset_keys}
    assert "neurips-2025" in instance.get_dynamic_partitions("venue_year")
    with build_schedule_context(instance=instance, scheduled_execution_time=datetime(2025, 1, 20, 6),
                                repository_def=repo, resources=plan) as context:
        quiet = yearly_refresh.evaluate_tick(context)
    assert not quiet.run_requests


def _data_version(instance, asset):
    from dagster import AssetKey

    event = instance.get_latest_materialization_event(AssetKey(asset))
    return event.asset_materialization.tags.get("dagster/data_version")


def test_editing_the_overrides_stales_the_resolution_and_moves_the_number(env):
    from dagster import AssetKey
    from dagster._core.definitions.data_version import CachingStaleStatusResolver, StaleStatus
    from dagster._core.loader import LoadingContextForTest

    def stale_status():
        resolver = CachingStaleStatusResolver(instance, graph, LoadingContextForTest(instance))
        return resolver.get_status(AssetKey("resolved_affiliations"), "neurips-2020")

    settings, defs, instance = env
    assert materialise(defs, instance, "neurips-2020").success
    store = Warehouse(settings.database)
    before = store.read_partition("resolved_affiliations", "neurips-2020").set_index("affiliation")
    assert pd.isna(before.loc["Department of EECS", "country"])
    version = _data_version(instance, "affiliation_overrides")
    assert version == "none"

    # Re-materialising unchanged reference data keeps its data versions: nothing goes stale.
    assert defs.resolve_job_def("reference_job").execute_in_process(instance=instance).success
    graph = defs.resolve_asset_graph()
    assert stale_status() == StaleStatus.FRESH

    settings.overrides_file.write_text("- {match: 'Department of EECS', country: NZ, note: checked by hand}\n")
    assert defs.resolve_job_def("reference_job").execute_in_process(instance=instance).success
    assert _data_version(instance, "affiliation_overrides") not in (None, "none", version)
    assert stale_status() == StaleStatus.STALE

    assert materialise(defs, instance, "neurips-2020").success
    after = store.read_partition("resolved_affiliations", "neurips-2020").set_index("affiliation")
    assert (after.loc["Department of EECS", "country"], after.loc["Department of EECS", "method"]) == ("NZ", "override")
    assert "NZ" in set(store.read_partition("paper_countries", "neurips-2020")["country"])


def test_unresolved_affiliations_lists_what_needs_review(env):
    settings, defs, instance = env
    assert materialise(defs, instance, "neurips-2020").success
    assert defs.resolve_job_def("aggregates_job").execute_in_process(instance=instance).success
    table = Warehouse(settings.database).query("SELECT * FROM unresolved_affiliations")
    assert table["affiliation"].tolist() == ["Department of EECS"]
    row = table.iloc[0]
    assert row["author_rows"] >= 1 and row["papers"] >= 1 and list(row["partitions"]) == ["neurips-2020"]
    assert row["reason"] and list(row["example_papers"])[0].startswith("neurips-2020/")


def test_registry_rows_and_metadata(env):
    settings, defs, instance = env
    store = Warehouse(settings.database)
    orgs = store.query("SELECT ror_id, name, country, acronyms FROM ror_organizations ORDER BY ror_id")
    assert len(orgs) > 10 and "https://ror.org/042nb2s44" in set(orgs["ror_id"])
    meta = store.query("SELECT * FROM ror_registry")
    assert len(meta) == 1 and len(meta["checksum"].iloc[0]) == 64


def test_a_corrupt_dump_or_bad_overrides_fail_clearly_and_are_filed(env, monkeypatch, tmp_path):
    settings, defs, instance = env
    before = Warehouse(settings.database).query("SELECT checksum FROM ror_registry")

    bad = tmp_path / "broken.zip"
    bad.write_text('[{"id": "https://ror.org/x", "names": [')
    monkeypatch.setenv("PAPERATLAS_ROR_DUMP", str(bad))
    broken = build_definitions(load_settings())
    result = broken.resolve_job_def("reference_job").execute_in_process(instance=instance, raise_on_error=False)
    assert not result.success
    store = Warehouse(settings.database)
    errors = store.query("SELECT * FROM ingest_errors WHERE partition_key = 'reference'")
    row = errors[errors["stage"] == "ror_registry"].iloc[0]
    assert str(bad) in row["item"]
    assert str(bad) in row["reason"] and ("truncated" in row["reason"] or "malformed" in row["reason"])
    # the registry loaded before is still there
    assert store.query("SELECT checksum FROM ror_registry").equals(before)

    settings.overrides_file.write_text("- {match: x, country: ZZ}\n")
    monkeypatch.setenv("PAPERATLAS_ROR_DUMP", str(settings.ror_dump))
    result = build_definitions(load_settings()).resolve_job_def("reference_job").execute_in_process(
        instance=instance, raise_on_error=False)
    assert not result.success
    errors = store.query("SELECT * FROM ingest_errors WHERE stage = 'affiliation_overrides'")
    assert "not ISO 3166-1" in errors["reason"].iloc[0] and "rule 1" in errors["reason"].iloc[0]

    settings.overrides_file.write_text("- {match: x, country: NZ}\n")
    assert build_definitions(load_settings()).resolve_job_def("reference_job").execute_in_process(
        instance=instance).success
    assert not len(store.query("SELECT * FROM ingest_errors WHERE stage = 'affiliation_overrides'"))


def test_each_asset_writes_the_tables_it_declares(home, monkeypatch):
    """What every asset's `tables_written` metadata says is what its step writes: the store's
    writes are recorded during a real materialisation of every asset, each under the asset
    whose function is on the stack."""
    import inspect
    from collections import defaultdict

    from dagster import DagsterInstance

    from paperatlas.pipeline.store import SCHEMA

    defs, instance = build_definitions(load_settings()), DagsterInstance.ephemeral()
    declared = {spec.key.to_user_string(): set(spec.metadata["tables_written"])
                for spec in defs.resolve_all_asset_specs()}
    written = defaultdict(set)

    from paperatlas.assets.studies import asset_name, job_name
    from paperatlas.pipeline.reports.studies.model import builtin_studies

    def owner(frame) -> str | None:
        if frame.function in declared:
            return frame.function
        if frame.function == "_study":  # one function makes every study's asset: its study says which
            return asset_name(frame.frame.f_locals["study"].name)
        return None

    def recording(method):
        def record(self, table, *args, **kwargs):
            asset = next((a for a in map(owner, inspect.stack(0)) if a), None)
            written[asset].add(table)
            return method(self, table, *args, **kwargs)
        return record

    monkeypatch.setattr(Warehouse, "_replace_rows", recording(Warehouse._replace_rows))
    monkeypatch.setattr(Warehouse, "delete_where", recording(Warehouse.delete_where))
    for job in ("reference_job", "terms_job"):
        assert defs.resolve_job_def(job).execute_in_process(instance=instance).success
    assert materialise(defs, instance, "neurips-2020").success
    assert defs.resolve_job_def("aggregates_job").execute_in_process(instance=instance).success
    for name in builtin_studies():
        assert defs.resolve_job_def(job_name(name)).execute_in_process(instance=instance).success

    assert set(written) == set(declared)  # every asset wrote, and nothing else did
    for asset, tables in written.items():
        assert tables <= declared[asset], asset
        assert declared[asset] - tables <= {"ingest_errors"}, asset  # all it declares, but errors if none
    # review_verdicts: written by `review import`; partition_parts: by `run` when it splits a venue-year
    assert set().union(*declared.values()) == set(SCHEMA) - {"review_verdicts", "partition_parts"}


def test_steps_run_with_the_collector_thresholds_raised_and_put_back(tmp_path):
    """Every step runs under `bulk_gc` (BULK_GC_THRESHOLD): the thresholds are raised while it
    runs and restored after it, when it fails too. Arrow is on the system allocator."""
    import gc

    from dagster import Failure

    from paperatlas.assets.common import BULK_GC_THRESHOLD, step
    from paperatlas.pipeline.store import Warehouse

    before = gc.get_threshold()
    assert before != BULK_GC_THRESHOLD
    seen = []

    def looks(store):
        seen.append(gc.get_threshold())
        return "done"

    def fails(store):
        seen.append(gc.get_threshold())
        raise RuntimeError("boom")

    import pyarrow as pa

    pa.set_memory_pool(pa.mimalloc_memory_pool())  # pyarrow's own default
    store = Warehouse(tmp_path / "store.duckdb")
    assert step(looks, store) == "done"
    assert pa.default_memory_pool().backend_name == "system"  # and Arrow on the system allocator
    with pytest.raises(Failure):
        step(fails, store)
    assert seen == [BULK_GC_THRESHOLD, BULK_GC_THRESHOLD] and gc.get_threshold() == before


def test_steps_hold_the_store_only_to_read_and_write(env, monkeypatch):
    """With two runs at once on DuckDB the other waits for the store's lock: the steps that
    turn many rows into Python objects (the decisions, the views, the snapshot's rows) do it
    after letting go of the store, and convert their rows before taking it to write."""
    from filelock import FileLock, Timeout

    from paperatlas.pipeline.countries import decision
    from paperatlas.pipeline.reports import diff, views

    settings, defs, instance = env
    lock = str(settings.database) + ".lock"
    held: dict[str, list[bool]] = {}

    def free() -> bool:
        try:  # a lock of our own on the same file: refused while a step holds the store's
            FileLock(lock, timeout=0).acquire().lock.release()
        except Timeout:
            return False
        return True

    def watched(module, name):
        original = getattr(module, name)

        def wrapper(*args, **kwargs):
            held.setdefault(name, []).append(not free())
            return original(*args, **kwargs)
        monkeypatch.setattr(module, name, wrapper)

    for module, name in ((decision, "from_columns"), (views, "build_views"), (diff, "snapshot_rows"),
                         (decision, "paper_country_rows")):
        watched(module, name)
    result = materialise(defs, instance, "neurips-2020")
    assert result.success
    assert set(held) == {"from_columns", "build_views", "snapshot_rows", "paper_country_rows"}
    assert not any(any(v) for v in held.values()), held
