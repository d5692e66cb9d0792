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
        assert instance.get_dynamic_partitions(VENUE_YEAR) == [
            "neurips-2010", "neurips-2011", "neurips-2016", "icml-2018"]


def test_schedule_descriptions_open_with_a_short_sentence(home):
    from paperatlas.definitions import build_definitions
    from paperatlas.pipeline.config import load_settings

    defs = build_definitions(load_settings())
    schedules = list(defs.schedules or [])
    assert schedules
    for schedule in schedules:
        first = schedule.description.split(". ")[0].split(": ")[0]
        assert len(first) <= 60, (schedule.name, first)
