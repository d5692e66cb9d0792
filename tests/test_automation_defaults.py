"""The sensors and schedules are on or off out of the box as docs/architecture.md says.

The browser test (test_browser.py) checks that the UI shows these same states and launches no
run when it starts."""

import re
from pathlib import Path

from dagster import DefaultScheduleStatus, DefaultSensorStatus

from paperatlas.definitions import build_definitions
from paperatlas.pipeline.config import load_settings

DOC = Path(__file__).resolve().parents[1] / "docs" / "architecture.md"


def declared_states() -> dict[str, bool]:
    """Each sensor and schedule of the definitions, True when it runs by default."""
    defs = build_definitions(load_settings())
    states = {s.name: s.default_status == DefaultSensorStatus.RUNNING for s in defs.sensors}
    states.update({s.name: s.default_status == DefaultScheduleStatus.RUNNING for s in defs.schedules})
    return states


def documented_states() -> dict[str, bool]:
    """The table in docs/architecture.md: `name` | on/off | what it does."""
    rows = re.findall(r"^\| `(\w+)` \| (on|off) \|", DOC.read_text(encoding="utf-8"), flags=re.MULTILINE)
    return {name: state == "on" for name, state in rows}


def test_defaults_are_what_the_docs_say():
    documented = documented_states()
    assert documented, "no table of defaults in docs/architecture.md"
    assert declared_states() == documented


def test_eager_assets_have_a_running_sensor():
    """Dagster's own default automation sensor is stopped; ours takes its name and runs, and it
    covers every asset with an automation condition."""
    defs = build_definitions(load_settings())
    sensor = next(s for s in defs.sensors if s.name == "default_automation_condition_sensor")
    assert sensor.default_status == DefaultSensorStatus.RUNNING
    graph = defs.resolve_asset_graph()
    eager = {k for k in graph.materializable_asset_keys if graph.get(k).automation_condition is not None}
    assert eager and eager <= sensor.asset_selection.resolve(graph)


def _tick(sensor, instance, defs, resources, cursor=None):
    from dagster import build_sensor_context

    with build_sensor_context(instance=instance, resources=resources, cursor=cursor,
                              repository_def=defs.get_repository_def()) as context:
        return sensor.evaluate_tick(context)


def test_file_sensors_run_only_when_the_file_differs_from_what_the_store_loaded(home, tmp_path):
    from dagster import DagsterInstance

    from paperatlas.assets.automation import overrides_changed
    from paperatlas.resources.ror import OverridesFile

    settings = load_settings()
    defs = build_definitions(settings)
    instance = DagsterInstance.ephemeral()
    file = tmp_path / "overrides.yaml"
    resources = {**defs.resources, "overrides": OverridesFile(path=str(file))}
    never = _tick(overrides_changed, instance, defs, resources)
    assert not never.run_requests and "never materialised" in never.skip_message

    assert defs.resolve_job_def("reference_job").execute_in_process(instance=instance).success
    # A first tick (a UI start) on what the store holds: nothing to do.
    start = _tick(overrides_changed, instance, defs, {**defs.resources})
    assert not start.run_requests and "is what affiliation_overrides last loaded" in start.skip_message
    again = _tick(overrides_changed, instance, defs, {**defs.resources}, cursor=start.cursor)
    assert not again.run_requests and "unchanged" in again.skip_message

    file.write_text('- contains: "Carnegie Mellon"\n  country: US\n')
    changed = _tick(overrides_changed, instance, defs, resources, cursor=start.cursor)
    assert len(changed.run_requests) == 1 and changed.cursor != start.cursor
