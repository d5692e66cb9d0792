"""What the Dagster UI lists: venue-year partitions in the order of their keys, and schedules
whose description opens with a short sentence (the Automation page shows only its start)."""

from dagster import DagsterInstance

from paperatlas.assets.automation import add_venue_years
from paperatlas.assets.partitions import VENUE_YEAR


def test_partitions_are_added_in_key_order():
    with DagsterInstance.ephemeral() as instance:
        assert add_venue_years(instance, ["neurips-2016", "neurips-2010", "neurips-2011"]) == [
            "neurips-2010", "neurips-2011", "neurips-2016"]
        assert add_venue_years(instance, ["icml-2018", "neurips-2011", "icml-2018"]) == ["icml-2018"]
        # A later command's earlier years (the 2016, then 2010 and 2011) are sorted in too.
        assert instance.get_dynamic_partitions(VENUE_YEAR) == [
            "icml-2018", "neurips-2010", "neurips-2011", "neurips-2016"]


def test_partitions_added_by_a_later_command_are_sorted_in_and_keep_their_materialisations():
    from dagster import AssetKey, AssetMaterialization, DagsterRunStatus

    with DagsterInstance.ephemeral() as instance:
        add_venue_years(instance, ["neurips-2016"])
        instance.report_runless_asset_event(AssetMaterialization("headlines", partition="neurips-2016"))
        # A run in flight may look its key up: nothing is re-added meanwhile.
        from dagster._core.test_utils import create_run_for_test

        busy = create_run_for_test(instance, job_name="venue_year_job", status=DagsterRunStatus.STARTED)
        assert add_venue_years(instance, ["neurips-2010"]) == ["neurips-2010"]
        assert instance.get_dynamic_partitions(VENUE_YEAR) == ["neurips-2016", "neurips-2010"]
        instance.report_run_failed(busy)
        assert add_venue_years(instance, ["neurips-2011"]) == ["neurips-2011"]
        assert instance.get_dynamic_partitions(VENUE_YEAR) == ["neurips-2010", "neurips-2011", "neurips-2016"]
        assert instance.get_materialized_partitions(AssetKey("headlines")) == {"neurips-2016"}


def test_schedule_descriptions_open_with_a_short_sentence(home):
    from paperatlas.definitions import build_definitions
    from paperatlas.pipeline.config import load_settings

    defs = build_definitions(load_settings())
    schedules = list(defs.schedules or [])
    assert schedules
    for schedule in schedules:
        first = schedule.description.split(". ")[0].split(": ")[0]
        assert len(first) <= 60, (schedule.name, first)


def _add_years_descending(home: str, venue: str) -> None:
    """Each add puts an earlier year after later ones, so each one re-sorts the partitions."""
    import os

    os.environ["DAGSTER_HOME"] = home
    from dagster import DagsterInstance

    instance = DagsterInstance.get()
    for year in range(2030, 2010, -1):
        add_venue_years(instance, [f"{venue}-{year}"])


def test_commands_adding_and_sorting_partitions_at_once_all_succeed(tmp_path):
    """Four processes at once, each adding years in descending order (every add re-sorts, so
    keys are removed and added again): none fails on the partitions table's unique key (issue 34's
    CI saw `UNIQUE constraint failed: dynamic_partitions` from two `paperatlas run` at once), and
    the result is every key, in order."""
    import multiprocessing

    from dagster import DagsterInstance

    home = tmp_path / "dagster"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    DagsterInstance.from_config(str(home)).get_runs(limit=1)  # the storage, created once
    context = multiprocessing.get_context("spawn")
    procs = [context.Process(target=_add_years_descending, args=(str(home), venue))
             for venue in ("aaai", "icml", "iclr", "neurips")]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(timeout=240)
    assert [proc.exitcode for proc in procs] == [0, 0, 0, 0]
    keys = DagsterInstance.from_config(str(home)).get_dynamic_partitions(VENUE_YEAR)
    assert keys == sorted(f"{v}-{y}" for v in ("aaai", "icml", "iclr", "neurips") for y in range(2011, 2031))
