"""`study list` and `study run`: the published analyses paperatlas reproduces, each run by one
command with the published figures beside ours."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .. import interrupts
from ..pipeline.config import Settings
from . import common
from .common import CliError
from .options import command, placement_option, scope_option

# Where a bad study file, scope or groups file is filed in ingest_errors (`paperatlas errors`).
ERRORS_KEY, ERRORS_STAGE = "studies", "study run"


def _refuse(settings: Settings, item: str, reason: str):
    common.refuse(settings, ERRORS_KEY, ERRORS_STAGE, item, reason)


def _study(settings: Settings, name: str):
    from ..pipeline.reports.studies.model import StudyError, load_study

    try:
        return load_study(name)
    except StudyError as exc:
        _refuse(settings, name, str(exc))


def cmd_study(args: argparse.Namespace, settings: Settings) -> int:
    if args.action == "list":
        return _list()
    if not args.study:
        raise CliError("study run needs a study: a built-in name (`paperatlas study list`) or a study file")
    return _run(args, settings)


def _list() -> int:
    from ..pipeline.reports.studies.model import StudyError, builtin_studies

    try:
        studies = builtin_studies()
    except StudyError as exc:
        raise CliError(str(exc)) from exc
    width = max(len(n) for n in studies)
    for name, study in studies.items():
        print(f"{name:<{width}}  {study.title}  [scope: {', '.join(study.scope)}; {len(study.claims)} claims]")
    return 0


def _available(settings: Settings, keys: list[str]) -> tuple[list[str], list[str], str | None]:
    """(keys some source of the plan publishes, keys none does here, why a source could not be
    reached), asking each key's first source as the new-year sensor does. A source that cannot
    answer otherwise counts as publishing: the run then says why it failed. A host that cannot be
    reached at all is asked once: its keys are left out (in neither list) with the reason."""
    from ..definitions import build_resources
    from ..pipeline.http import FetchError, Unreachable
    from ..pipeline.partitions import parse_partition_key
    from ..pipeline.sources.base import SourceError

    plan = common.sources_plan(settings)
    resources = build_resources(settings)
    found, absent, unreachable = [], [], None
    down: set[str] = set()
    for key in keys:
        pk = parse_partition_key(key)
        source = plan.sources_for(pk)[0]
        if source in down:
            continue
        try:
            ok = resources[source].reader().available(pk, plan.venue(pk.venue))
        except Unreachable as exc:
            down.add(source)
            unreachable = f"could not ask {source}, so the venue-years it feeds are left out: {exc}"
            continue
        except (FetchError, SourceError, OSError, ValueError):
            ok = True
        (found if ok else absent).append(key)
    return found, absent, unreachable


@interrupts.guarded  # Ctrl-C: one line, exit 130, whatever runs (paperatlas/interrupts.py)
def _run(args: argparse.Namespace, settings: Settings) -> int:
    import dataclasses

    from ..assets.studies import parse_years
    from ..pipeline.partitions import parse_partition_key
    from ..pipeline.reports.queries import materialised_keys
    from ..pipeline.reports.studies.model import StudyError
    from ..pipeline.reports.studies.scope import expand_scope, span
    from .run import materialise, split_scopes

    study = _study(settings, args.study)
    if args.scope:
        from ..pipeline.reports.studies.model import with_scope

        try:
            study = with_scope(study, args.scope)
        except StudyError as exc:
            _refuse(settings, args.study, str(exc))
    try:
        years = parse_years(args.years)
    except ValueError as exc:
        raise CliError(f"--years {exc}") from exc
    placement = common.placement_of(args, settings)
    settings = dataclasses.replace(settings, placement=placement)
    try:
        wanted = expand_scope(study.scope, common.sources_plan(settings), years)
    except StudyError as exc:
        _refuse(settings, args.study, f"{study.name}: {exc}")
    if not wanted:
        raise CliError(f"{study.name}: its scope {', '.join(study.scope)} names no venue-year"
                       + (f" in {args.years}" if years else ""))
    if args.out:
        _writable(Path(args.out))
    done = set(materialised_keys(common.open_store(settings, read_only=True))) \
        if common.store_exists(settings) else set()
    failed: dict[str, str] = {}
    absent: list[str] = []
    todo = [k for k in wanted if k not in done or args.refresh]
    if todo and not args.stored:
        found, absent, unreachable = _available(settings, todo)
        if absent:
            print(f"paperatlas: no source publishes {span(absent)} here; the study goes on without "
                  f"{'it' if len(absent) == 1 else 'them'}", file=sys.stderr)
        if unreachable:
            from ..pipeline.http import OFFLINE_SETTINGS

            print(f"paperatlas: {unreachable}\npaperatlas: {OFFLINE_SETTINGS}", file=sys.stderr)
        if found:
            outcome = materialise(settings, split_scopes(settings, found), refresh=args.refresh, pdfs=args.pdfs,
                                  placement=args.placement)
            outcome.report()
            failed = {(parse_partition_key(k).scope if k != "yearly_aggregates" else k): reason  # a part stands
                      for k, reason in outcome.failed}                                        # for its year
    rerun = f"paperatlas study run {args.study}"
    if args.scope:
        rerun += " --scope " + " ".join(args.scope)
    result = _evaluate(settings, study, wanted, args, failed, absent, rerun)
    if args.json:
        print(json.dumps(result.as_json(), ensure_ascii=False, default=str))
    else:
        from ..pipeline.reports.studies.render import format_text

        print(format_text(result))
    if args.out:
        _write(settings, result, Path(args.out), args)
    return 0


def _writable(out: Path) -> None:
    """Refuse an --out folder that cannot be written before anything runs."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".paperatlas-write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise CliError(f"--out {out}: cannot write there ({exc.strerror or exc})") from exc


def _evaluate(settings: Settings, study, wanted: list[str], args, failed: dict, absent: list[str], rerun: str):
    """The study's claims: for a built-in study through its Dagster asset (so the lineage and
    the UI hold it), for a study file in this process; both with the same code."""
    from ..pipeline.countries.groups import GroupError, load_groups
    from ..pipeline.reports.queries import materialised_keys
    from ..pipeline.reports.studies.evaluate import evaluate

    if any(c.kind in ("tool_origin", "top_tools") for c in study.claims) or not common.store_exists(settings):
        _load_terms(settings)  # a tool's origin needs only the term catalogue, even when nothing else is here
    try:
        groups = load_groups(settings.country_groups_file)
    except GroupError as exc:
        _refuse(settings, str(settings.country_groups_file), str(exc))
    if study.builtin:
        _materialise_study(settings, study, args)
    store = common.warehouse(settings)
    done = set(materialised_keys(store))
    materialised = [k for k in wanted if k in done]
    return evaluate(store, study, wanted, materialised, settings.placement, args.china_scope, groups, failed, absent,
                    rerun)


def _load_terms(settings: Settings) -> None:
    """The store, and the term catalogue in it (loaded when missing or changed; no network)."""
    from ..definitions import build_definitions
    from . import execution

    with common.open_store(settings).connect():
        pass  # the store opens (or is created) here, so a broken one is one line
    execution.ensure_terms(settings, build_definitions(settings), execution.instance(settings))


def _materialise_study(settings: Settings, study, args) -> None:
    """Run the study's asset (its job) so the UI shows the comparison and its lineage."""
    from ..assets.studies import asset_name, job_name
    from ..definitions import build_definitions
    from . import execution

    instance = execution.instance(settings)
    defs = build_definitions(settings)
    config = {"loggers": {"progress": {}}, "ops": {asset_name(study.name): {"config": {
        "placement": settings.placement, "china_scope": args.china_scope, "years": args.years or ""}}}}
    print(f"[study] {asset_name(study.name)}", file=sys.stderr, flush=True)
    result = execution.followed(defs.resolve_job_def(job_name(study.name)).execute_in_process, instance=instance,
                                run_config=config, raise_on_error=False, tags={"paperatlas/trigger": "cli"})
    if not result.success:
        raise CliError(f"study {study.name}: {execution.why_failed(result)}")


def _write(settings: Settings, result, out: Path, args) -> None:
    """study.md, study.html and charts/ in `out`, each materialised venue-year's report and
    review sample in out/reports/VENUE-YEAR."""
    from ..pipeline.http import atomic_write_bytes
    from ..pipeline.reports.render import write_report
    from ..pipeline.reports.studies.render import chart_bytes, render_html, render_markdown
    from ..pipeline.reports.views import ReportError, build_report

    store = common.warehouse(settings)
    charts = chart_bytes(result)
    reports: dict[str, str] = {}
    try:
        (out / "charts").mkdir(parents=True, exist_ok=True)
        for key in result.materialised:
            try:
                report = build_report(store, key, args.china_scope, placement=result.placement)
                write_report(report, out / "reports" / key)
                reports[key] = f"reports/{key}"
            except ReportError as exc:
                print(f"paperatlas: {key}: no report ({exc})", file=sys.stderr)
        files = {}
        for cid, png in charts.items():
            files[cid] = f"charts/{cid}.png"
            atomic_write_bytes(out / files[cid], png)
        atomic_write_bytes(out / "study.md", render_markdown(result, files, reports).encode())
        atomic_write_bytes(out / "study.html", render_html(result, charts, reports).encode())
    except OSError as exc:
        raise CliError(f"--out {out}: cannot write the study ({exc.strerror or exc})") from exc
    print(f"study written to {out} (study.md, study.html, charts/, reports/)", file=sys.stderr)


def _parse_study(sub) -> None:
    study = command(
        sub, "study", "run a published analysis again: its claims, published figures beside ours",
        "A study is a YAML file: a published analysis's scope (venue-years), its claims and the published "
        "figures (docs/studies.md). `study list` shows the built-in studies. `study run` materialises the "
        "venue-years of the scope that are not yet materialised (those no source publishes are named and left "
        "out), through Dagster as `run` does, then prints each claim: the published figure, ours with its "
        "interval and +unplaced, what ours stands on, the difference, and why the two may differ. --out writes "
        "study.md and study.html with charts and links into each venue-year's report and review sample.",
        ["paperatlas study list",
         "paperatlas study run wired-neurips",
         "paperatlas study run wired-neurips --years 2024..2025 --out wired",
         "paperatlas study run my-study.yaml --stored --json"], cmd_study)
    study.add_argument("action", choices=["list", "run"], help="list the built-in studies, or run one")
    study.add_argument("study", nargs="?", metavar="NAME|FILE", help="a built-in study's name, or a study file")
    study.add_argument("--years", default=None, metavar="A..B", help="only these years of the scope (e.g. 2016..2025)")
    scope_option(study)
    placement_option(study, "the placement ours is counted under (the interval covers both)")
    study.add_argument("--out", metavar="DIR", default=None,
                       help="write study.md, study.html, charts/ and each venue-year's report to DIR")
    study.add_argument("--json", action="store_true",
                       help='print {"study", "claims": [{"id", "claim", "scope", "published", "source", "ours", '
                            '"low", "high", "unplaced", "basis", "note", …}]}')
    study.add_argument("--scope", nargs="+", default=None, metavar="VENUE-YEAR",
                       help="the study's claims on other venue-years than its own scope (e.g. the conference "
                            "years you have); the built-in study's asset then keeps its own scope")
    study.add_argument("--stored", action="store_true",
                       help="materialise nothing: compare on the venue-years already materialised")
    study.add_argument("--refresh", action="store_true", help="materialise every venue-year of the scope again")
    study.add_argument("--pdfs", choices=["download", "cached", "off"], default=None,
                       help="for the venue-years materialised now (default: PAPERATLAS_PDFS, else download)")


PARSERS = {"study": _parse_study}
