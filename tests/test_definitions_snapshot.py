"""The whole Dagster graph, pinned: every asset spec, asset check, job, schedule and sensor as a
JSON snapshot (tests/snapshots/definitions.json), so a change to the graph is a reviewed diff.

After a deliberate change, rewrite the snapshot and review it with git:

    PAPERATLAS_UPDATE_SNAPSHOTS=1 python -m pytest tests/test_definitions_snapshot.py
"""

from __future__ import annotations

import difflib
import json
import os
from pathlib import Path

SNAPSHOT = Path(__file__).resolve().parent / "snapshots" / "definitions.json"


def _condition(condition) -> dict | None:
    """An automation condition by its label (eager, ...) and kind; None when there is none."""
    if condition is None:
        return None
    return {"label": condition.get_label(), "kind": type(condition).__name__}


def _partitions(partitions_def) -> str | None:
    return getattr(partitions_def, "name", None) or (str(partitions_def) if partitions_def else None)


def _targets(sensor) -> list[str]:
    """The jobs a sensor starts, or the assets it selects (an automation sensor)."""
    jobs = sorted(t.job_name for t in getattr(sensor, "targets", ()) if getattr(t, "job_name", None))
    if jobs:
        return jobs
    selection = getattr(sensor, "asset_selection", None)
    return [str(selection)] if selection is not None else []


def graph(defs) -> dict:
    asset_graph = defs.resolve_asset_graph()
    assets = {}
    for spec in sorted(defs.resolve_all_asset_specs(), key=lambda s: s.key.to_user_string()):
        assets[spec.key.to_user_string()] = {
            "group": spec.group_name,
            "deps": sorted(d.asset_key.to_user_string() for d in spec.deps),
            "partitions": _partitions(spec.partitions_def),
            "automation_condition": _condition(spec.automation_condition),
            "code_version": spec.code_version,
            "kinds": sorted(spec.kinds),
            "owners": list(spec.owners),
            "tags": dict(sorted(spec.tags.items())),
            "tables_written": list(spec.metadata.get("tables_written", [])),
        }
    checks = sorted(f"{k.asset_key.to_user_string()}.{k.name}" for k in asset_graph.asset_check_keys)
    jobs = {}
    for job in sorted(defs.resolve_all_job_defs(), key=lambda j: j.name):
        if job.name.startswith("__"):  # Dagster's implicit job of every asset
            continue
        jobs[job.name] = {
            "assets": sorted(k.to_user_string() for k in job.asset_layer.selected_asset_keys),
            "partitions": _partitions(job.partitions_def),
        }
    schedules = {s.name: {"cron": s.cron_schedule, "job": s.job_name, "default_status": s.default_status.value,
                          "timezone": s.execution_timezone}
                 for s in sorted(defs.schedules, key=lambda s: s.name)}
    sensors = {s.name: {"kind": type(s).__name__, "targets": _targets(s), "default_status": s.default_status.value,
                        "minimum_interval_seconds": s.minimum_interval_seconds}
               for s in sorted(defs.sensors, key=lambda s: s.name)}
    return {"assets": assets, "asset_checks": checks, "jobs": jobs, "schedules": schedules, "sensors": sensors}


def test_the_graph_is_the_reviewed_snapshot(home):
    from paperatlas.definitions import build_definitions
    from paperatlas.pipeline.config import load_settings

    now = json.dumps(graph(build_definitions(load_settings())), indent=1, sort_keys=True) + "\n"
    if os.environ.get("PAPERATLAS_UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.write_text(now, encoding="utf-8")
    pinned = SNAPSHOT.read_text(encoding="utf-8")
    diff = "".join(difflib.unified_diff(pinned.splitlines(True), now.splitlines(True), "snapshot", "definitions"))
    assert not diff, ("the Dagster graph differs from tests/snapshots/definitions.json; review the change and "
                      "rewrite it with PAPERATLAS_UPDATE_SNAPSHOTS=1:\n" + diff)


def test_the_snapshot_covers_every_stage(home):
    """The pinned graph is the whole graph: every stage's group and the studies, each asset's
    checks, the five jobs and one per built-in study, and the automation."""
    pinned = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    assert {a["group"] for a in pinned["assets"].values()} == {"reference", "sources", "pdfs", "affiliations",
                                                               "countries", "mentions", "reports", "studies"}
    assert len(pinned["assets"]) == 21 and len(pinned["asset_checks"]) >= 9
    studies = {f"study_{name}_job" for name in ("wired_neurips", "eto_cross_border", "ml_global_impact_2025")}
    assert set(pinned["jobs"]) == {"venue_year_job", "part_job", "aggregates_job", "reference_job", "terms_job", "overrides_job",
                                   *studies}
    assert {"yearly_refresh", "ror_refresh"} <= set(pinned["schedules"])
    assert "default_automation_condition_sensor" in pinned["sensors"]
