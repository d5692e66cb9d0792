"""The `paperatlas` command line: `paperatlas --help` lists the commands, docs/commands.md
describes each in full."""

from __future__ import annotations

import argparse
import dataclasses
import errno
import json
import os
import re
import sys
import time
from pathlib import Path
from typing import TextIO

from .pipeline.config import Settings, load_settings
from .pipeline.countries.decision import PLACEMENTS
from .pipeline.partitions import PartitionKeyError, parse_partition_key

DAGSTER_YAML = """# Written by paperatlas. Runs started by `paperatlas run` and by `paperatlas ui` share this instance.
telemetry:
  enabled: false
"""


# When the command started (main() sets it): the run's summary gives the command's own wall time.
STARTED = [time.monotonic()]


class CliError(Exception):
    """A user-facing error: printed without a traceback, exit code 2."""


# -- helpers -------------------------------------------------------------------------------


def _instance(settings: Settings):
    """The persistent Dagster instance under DAGSTER_HOME (default `$PAPERATLAS_HOME/dagster`).

    Creating a new sqlite-backed instance migrates its schema; two processes doing that at
    once corrupt it, so creation (and the first open) happens under a file lock.
    """
    from dagster import DagsterInstance
    from filelock import FileLock

    home = settings.dagster_home
    home.mkdir(parents=True, exist_ok=True)
    os.environ["DAGSTER_HOME"] = str(home)
    with FileLock(str(home / ".paperatlas-instance.lock"), timeout=600):
        config = home / "dagster.yaml"
        if not config.exists():
            config.write_text(DAGSTER_YAML)
        instance = DagsterInstance.get()
        instance.get_runs(limit=1)  # opens (and on first use creates) the storage
    return instance


def _keys(raw: list[str]) -> list[str]:
    keys = []
    for key in raw:
        try:
            keys.append(parse_partition_key(key).key)
        except PartitionKeyError as exc:
            raise CliError(str(exc)) from exc
    return list(dict.fromkeys(keys))


def _expand(raw: list[str], settings: Settings, stored: bool) -> list[str]:
    """The venue-years the arguments name, with ranges (`neurips-2010..2018`) and `neurips-*`
    expanded: for commands that materialise (`stored=False`), over the years the sources plan
    knows a venue held; for commands that read (`stored=True`), over the materialised years."""
    from .pipeline.partitions import expand_partition_keys, is_pattern

    if not any(is_pattern(r) for r in raw):
        return _keys(raw)
    if stored:
        done: dict[str, set[int]] = {}
        for key in _warehouse(settings).partitions("partition_summary"):
            pk = parse_partition_key(key)
            done.setdefault(pk.venue, set()).add(pk.year)

        def every_year(venue: str) -> list[int]:
            return sorted(done.get(venue, ()))

        def has_year(venue: str, year: int) -> bool:
            return year in done.get(venue, ())

        why = "not materialised"
    else:
        plan = _plan(settings)

        def every_year(venue: str) -> list[int]:
            return plan.venues[venue].editions() if venue in plan.venues else []

        def has_year(venue: str, year: int) -> bool:
            return venue not in plan.venues or plan.venues[venue].has_edition(year)

        why = "the sources plan knows no edition that year"
    try:
        keys, skipped = expand_partition_keys(raw, every_year, has_year)
    except PartitionKeyError as exc:
        raise CliError(str(exc)) from exc
    if skipped:
        print(f"paperatlas: skipped {', '.join(skipped)} ({why})", file=sys.stderr)
    if not keys:
        raise CliError(f"{' '.join(raw)} names no venue-year ({why})")
    return keys


def _open(path: str | None, mode: str, default: TextIO) -> TextIO:
    if path in (None, "-"):
        return default
    return open(path, mode, encoding="utf-8")


# pandas and DuckDB load only for the commands that use them: `resolve` starts in a
# fraction of a second.
CHINA_SCOPES = ("cn", "cn+hk+mo", "greater")  # pipeline.countries.counting.CHINA_SCOPES (a test keeps them equal)



def _open_store(settings: Settings, read_only: bool = False):
    """The store `PAPERATLAS_STORE` names (imported on first use: the command starts faster
    without DuckDB)."""
    from .pipeline.store import open_store

    return open_store(settings, read_only=read_only)


def _store_exists(settings: Settings) -> bool:
    if settings.store == "duckdb":
        return settings.database.exists()
    return _open_store(settings, read_only=True).exists()


def _warehouse(settings: Settings, write: bool = False):
    """The existing store; opened read-only (no lock file, nothing written) unless `write`."""
    if not _store_exists(settings):
        raise CliError(f"no paperatlas store at {settings.store_location}; run `paperatlas run VENUE-YEAR` first")
    return _open_store(settings, read_only=not write)


# -- run -----------------------------------------------------------------------------------


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    from dagster import AssetCheckSeverity

    from paperatlas.assets.automation import add_venue_years

    from .definitions import build_definitions, build_resources
    from .pipeline.http import OFFLINE_SETTINGS, Unreachable

    if args.pdfs:
        settings = dataclasses.replace(settings, pdf_mode=args.pdfs)
    if args.placement:
        settings = dataclasses.replace(settings, placement=args.placement)
    keys = _expand(args.partitions, settings, stored=False)
    with _open_store(settings).connect():
        pass  # the store opens (or is created) here, so a broken one is one line before any step runs
    instance = _instance(settings)
    defs = build_definitions(settings)
    _ensure_reference(settings, defs, instance, force=args.refresh_ror)
    add_venue_years(instance, keys)
    run_config: dict = {"loggers": {"progress": {}}}
    if args.refresh:
        run_config["ops"] = {"raw_papers": {"config": {"refresh": True}}}
    # --pdfs and --placement travel in the run's config, so Celery workers on other machines
    # apply them too (they build their resources from their own environment otherwise).
    resources = build_resources(settings)
    for flag, name in ((args.pdfs, "pdf_store"), (args.placement, "conventions")):
        if flag:
            run_config.setdefault("resources", {})[name] = {"config": resources[name].model_dump()}
    failed: list[tuple[str, str]] = []
    checks_failed: list[str] = []
    warnings: list[str] = []
    for n, key in enumerate(keys, start=1):
        print(f"[{n}/{len(keys)}] {key}", file=sys.stderr, flush=True)
        result = _execute(settings, defs, "venue_year_job", instance, run_config, key)
        if not result.success:
            failed.append((key, _why_failed(result)))
        # A failed asset check does not fail the run; a number that fails an ERROR check is
        # not fit to print. WARN checks (e.g. resolution coverage) are reported only.
        for c in result.get_asset_check_evaluations():
            if not c.passed:
                label = f"{key}: {c.asset_key.to_user_string()}.{c.check_name}"
                if c.severity == AssetCheckSeverity.WARN:
                    warnings.append(label)
                else:
                    checks_failed.append(label)
    if not args.no_aggregates and len(failed) < len(keys):
        print("[aggregates] yearly_aggregates", file=sys.stderr, flush=True)
        placed = {k: v for k, v in run_config.get("resources", {}).items() if k == "conventions"}
        result = _execute(settings, defs, "aggregates_job", instance,
                          {"loggers": {"progress": {}}, **({"resources": placed} if placed else {})})
        if not result.success:
            failed.append(("yearly_aggregates", _why_failed(result)))
    done = [k for k in keys if k not in {f[0] for f in failed}]
    print(f"materialised {len(done)}/{len(keys)} venue-years in {time.monotonic() - STARTED[0]:.1f}s "
          f"into {settings.store_location}")
    for key, reason in failed:
        print(f"FAILED {key}: {reason}", file=sys.stderr)
    for line in _item_warnings(settings, done):
        print(line, file=sys.stderr)
    for check in checks_failed:
        print(f"CHECK FAILED {check}", file=sys.stderr)
    for check in warnings:
        print(f"CHECK WARNING {check}", file=sys.stderr)
    if any(Unreachable.MARK in reason for _, reason in failed):
        print(f"paperatlas: {OFFLINE_SETTINGS}", file=sys.stderr)
    return 1 if failed or checks_failed else 0


def _execute(settings: Settings, defs, job_name: str, instance, run_config: dict, partition_key: str | None = None):
    """Run one job. The default runs its steps in this process. With PAPERATLAS_EXECUTOR=celery
    the job is loaded by reference (module `paperatlas.definitions`), so that Celery workers can
    load it too, and each step runs on a worker; this process follows the run."""
    tags = {"paperatlas/trigger": "cli"}
    if settings.executor == "celery":
        from dagster import execute_job
        from dagster._core.definitions.reconstruct import ReconstructableRepository

        repository = ReconstructableRepository.for_module("paperatlas.definitions", "defs",
                                                          working_directory=str(Path(__file__).resolve().parents[1]))
        if partition_key:
            tags["dagster/partition"] = partition_key
        return execute_job(repository.get_reconstructable_job(job_name), instance=instance, run_config=run_config,
                           tags=tags, raise_on_error=False)
    return defs.resolve_job_def(job_name).execute_in_process(
        partition_key=partition_key, instance=instance, run_config=run_config, raise_on_error=False, tags=tags)


def _why_failed(result) -> str:
    """Why a Dagster run failed, in one line: each failed step with its cause."""
    from .definitions import failure_reason

    reasons = [f"{e.step_key}: {failure_reason(e)}" for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    return "; ".join(reasons) or f"run failed (run {result.run_id} in `paperatlas ui`)"


def _item_warnings(settings: Settings, keys: list[str]) -> list[str]:
    """One line per venue-year, step and severity for the items a step left out (DROPPED) or
    kept with a caveat (WARNING): how many, and the first with its reason (all of them:
    `paperatlas errors KEY`)."""
    from .pipeline.text import clip

    if not keys or not _store_exists(settings):
        return []
    rows = _open_store(settings, read_only=True).query(
        "SELECT partition_key, stage, severity, count(*) AS n, min(item || ': ' || reason) AS first "
        f"FROM ingest_errors WHERE partition_key IN ({', '.join('?' * len(keys))}) "
        "GROUP BY ALL ORDER BY partition_key, stage, severity", keys)
    lines = []
    for row in rows.itertuples(index=False):
        head = "DROPPED" if row.severity == "error" else "WARNING"
        what = "left out" if row.severity == "error" else "kept with a warning"
        first = clip(row.first, 160)
        lines.append(f"{head} {row.partition_key} {row.stage}: 1 item {what}: {first}" if row.n == 1 else
                     f"{head} {row.partition_key} {row.stage}: {row.n} items {what}, e.g. {first} "
                     f"(all: `paperatlas errors {row.partition_key}`)")
    return lines


# What to do about a reference asset that failed to load, by asset.
REFERENCE_HINTS = {
    "ror_registry": "set PAPERATLAS_ROR_DUMP to a good dump file, or to 'none'",
    "affiliation_overrides": "fix the overrides file (PAPERATLAS_OVERRIDES), or move it away",
    "term_catalogue": "fix the term catalogue (PAPERATLAS_TERMS), or unset it for the one shipped",
}


def _ensure_reference(settings: Settings, defs, instance, force: bool = False) -> None:
    """Materialise `ror_registry` and `affiliation_overrides` when the store lacks them or the
    configured dump / overrides file changed (a new data version). With the default (newest
    dump on Zenodo) an existing registry is kept until `--refresh-ror`, so runs work offline.
    When loading fails, the run goes on with the last good copy in the store, with a warning."""
    from .pipeline.affiliations.reference import locate_dump, overrides_digest
    from .pipeline.affiliations.ror import RorDumpError, file_sha256
    from .pipeline.http import FetchError

    needed = force
    stored_checksum = stored_digest = None
    if _store_exists(settings):
        store = _open_store(settings)
        registry = store.query("SELECT checksum FROM ror_registry")
        rules = store.query("SELECT DISTINCT file_sha256 FROM affiliation_overrides")
        stored_checksum = registry["checksum"].iloc[0] if len(registry) else None
        stored_digest = rules["file_sha256"].iloc[0] if len(rules) else "none"
    if stored_checksum is None:
        needed = True
    elif settings.ror_dump:
        try:
            location = locate_dump(settings.ror_dump, settings.cache_dir)
            needed = needed or (location is None and stored_checksum != "none") or (
                location is not None and file_sha256(location.path) != stored_checksum)
        except (RorDumpError, FetchError, OSError):
            needed = True  # the registry step files the reason; the last good registry is kept
    needed = needed or overrides_digest(settings.overrides_file) != stored_digest
    _ensure_terms(settings, defs, instance, force)
    if not needed:
        return
    print("[reference] ror_registry, affiliation_overrides", file=sys.stderr, flush=True)
    _run_reference(defs, instance, "reference_job")


def _run_reference(defs, instance, job: str) -> None:
    """Run a reference job in process. An asset that fails is a warning when the store keeps a
    good copy from an earlier run (the venue-years then use that), else a CliError; both
    name the cause and what to do."""
    from dagster import AssetKey

    from .definitions import failure_reason

    result = defs.resolve_job_def(job).execute_in_process(
        instance=instance, run_config={"loggers": {"progress": {}}}, raise_on_error=False,
        tags={"paperatlas/trigger": "cli"},
    )
    if result.success:
        return
    stopping = []
    for event in result.all_events:
        if event.event_type_value != "STEP_FAILURE":
            continue
        name = event.step_key
        cause, hint = failure_reason(event), REFERENCE_HINTS.get(name, "see `paperatlas errors reference`")
        variable = re.search(r"PAPERATLAS_\w+", hint)
        # The cause may already say what to set (an unreachable host names its variable).
        reason = f"{name}: {cause}" if variable and variable.group() in cause else f"{name}: {cause} ({hint})"
        if instance.get_latest_materialization_event(AssetKey(name)) is None:
            stopping.append(reason)
        else:
            print(f"paperatlas: warning: could not load {reason}; going on with the last good {name} in the "
                  "store", file=sys.stderr, flush=True)
    if stopping:
        from .pipeline.http import OFFLINE_SETTINGS, Unreachable

        offline = f"; {OFFLINE_SETTINGS}" if any(Unreachable.MARK in r for r in stopping) else ""
        raise CliError("could not load the reference data: " + "; ".join(stopping) + offline)


def _ensure_terms(settings: Settings, defs, instance, force: bool = False) -> None:
    """Materialise `term_catalogue` when the store lacks it or the catalogue file changed."""
    from .pipeline.affiliations.reference import overrides_digest
    from .pipeline.mentions.catalogue import DEFAULT_CATALOGUE

    path = settings.terms_file or DEFAULT_CATALOGUE
    stored = None
    if _store_exists(settings):
        rows = _open_store(settings).query("SELECT DISTINCT catalogue_sha256 FROM terms")
        stored = rows["catalogue_sha256"].iloc[0] if len(rows) == 1 else None
    if not force and stored is not None and stored == overrides_digest(path):
        return
    print("[reference] term_catalogue", file=sys.stderr, flush=True)
    _run_reference(defs, instance, "terms_job")


# -- report --------------------------------------------------------------------------------


def _report(settings: Settings, args: argparse.Namespace, key: str):
    from .pipeline.reports.report import ReportError, build_report

    store = _warehouse(settings)
    try:
        return build_report(store, key, args.china_scope, top=args.top, seed=args.seed, sample_size=args.sample,
                            threshold=args.min_confidence, placement=_placement(args, settings))
    except ReportError as exc:
        raise CliError(str(exc)) from exc


def _several(raw: list[str]) -> bool:
    """Whether the arguments may name several venue-years: JSON output is then always a list."""
    from .pipeline.partitions import is_pattern

    return len(raw) > 1 or any(is_pattern(r) for r in raw)


def cmd_report(args: argparse.Namespace, settings: Settings) -> int:
    from .pipeline.reports.report import (
        MARKER,
        ReportError,
        format_text,
        kept_message,
        render_html,
        render_markdown,
        report_json,
        write_report,
    )

    fmt = "json" if args.json else args.format
    if args.sample < 0:
        raise CliError("--sample must be 0 or more")
    several = _several(args.partitions)
    if several and fmt == "html":
        raise CliError("--format html prints one venue-year's report; for several, use --out DIR "
                       "(each gets DIR/VENUE-YEAR/report.html)")
    if several and args.out and (Path(args.out) / MARKER).exists():
        raise CliError(f"--out {args.out} is one venue-year's report folder; give another folder for several "
                       "venue-years (each gets a folder inside it)")
    keys = _expand(args.partitions, settings, stored=True)
    reports = [_report(settings, args, key) for key in keys]
    if fmt == "json":
        payload = [report_json(r) for r in reports]
        print(json.dumps(payload if several else payload[0], ensure_ascii=False))
    elif fmt == "html":
        print(render_html(reports[0]))
    else:
        print("\n\n".join(render_markdown(r) if fmt == "md" else format_text(r) for r in reports))
    for report in reports if args.out else ():
        out = Path(args.out) / report.partition_key if several else Path(args.out)
        try:
            paths = write_report(report, out, on_kept=lambda kept, out=out: print(kept_message(out, kept),
                                                                                   file=sys.stderr))
        except ReportError as exc:
            raise CliError(str(exc)) from exc
        print(f"report written to {paths['report.html'].parent} (report.md, report.html, report.json, charts/, "
              f"review.csv, review.html, low_confidence.csv, tables/)", file=sys.stderr)
    return 0


def cmd_diff(args: argparse.Namespace, settings: Settings) -> int:
    """Which papers entered or left each headline number between two materialisations, for
    each venue-year named (a range or `venue-*` skips those with fewer than two snapshots)."""
    several = _several(args.partitions)
    if several and (args.old is not None or args.new is not None):
        raise CliError("--from and --to are snapshot numbers of one venue-year; give one VENUE-YEAR with them")
    keys = _expand(args.partitions, settings, stored=True)
    store = _warehouse(settings)
    results = []
    for key in keys:
        try:
            result = _diff_one(store, key, args, settings)
        except CliError as exc:
            if not several:
                raise
            print(f"paperatlas: skipped {key}: {exc}", file=sys.stderr)
            continue
        if result is not None:
            results.append(result)
    if args.json and not args.list:
        print(json.dumps(results if several else results[0], ensure_ascii=False, default=str))
    return 0


def _diff_one(store, key: str, args: argparse.Namespace, settings: Settings) -> dict | None:
    """Print one venue-year's diff (or its snapshots with --list); with --json, return it instead."""
    from .pipeline.reports.diff import diff, diff_rows, format_diff, views_from_snapshot

    runs = store.query("SELECT snapshot, taken_at, run_id, papers, inputs FROM headline_snapshot_runs "
                       "WHERE partition_key = ? ORDER BY snapshot", [key])
    if args.list:
        for row in runs.itertuples(index=False):
            print(f"{key}\t{row.snapshot}\t{row.taken_at:%Y-%m-%d %H:%M:%S}\t{row.papers} papers\trun {row.run_id}")
        print(f"{len(runs)} snapshots of {key}", file=sys.stderr)
        return None
    if len(runs) < 2 and args.old is None:
        raise CliError(f"{key} has {len(runs)} materialisation(s) of its headlines; a diff needs two "
                       f"(`paperatlas run {key}` again after a change, or see `paperatlas diff {key} --list`)")
    known = list(runs["snapshot"])
    new = args.new if args.new is not None else known[-1]
    old = args.old if args.old is not None else max((s for s in known if s < new), default=None)
    for label, snap in (("--from", old), ("--to", new)):
        if snap not in known:
            raise CliError(f"{label} {snap}: no such snapshot of {key}; kept: {', '.join(map(str, known)) or 'none'}")
    frames = {s: store.query("SELECT * FROM headline_snapshots WHERE partition_key = ? AND snapshot = ?", [key, s])
              for s in (old, new)}
    result = diff(views_from_snapshot(frames[old]), views_from_snapshot(frames[new]), args.china_scope,
                  _placement(args, settings))
    inputs = {s: json.loads(runs.loc[runs["snapshot"] == s, "inputs"].iloc[0] or "{}") for s in (old, new)}
    changed_inputs = {k: [inputs[old].get(k), inputs[new].get(k)]
                      for k in sorted(set(inputs[old]) | set(inputs[new])) if inputs[old].get(k) != inputs[new].get(k)}
    if args.json:
        return {"partition": key, "from": old, "to": new, "inputs_changed": changed_inputs, **result,
                "rows": diff_rows(result)}
    print(format_diff(result, f"{key} snapshot {old}", f"snapshot {new}", limit=args.limit))
    for name, (a, b) in changed_inputs.items():
        print(f"  input {name}: {a} -> {b}")
    return None


def cmd_trend(args: argparse.Namespace, settings: Settings) -> int:
    """One row per materialised year of a venue: US-CN papers with their interval and share,
    the international share and the top partners, under a placement and China scope."""
    from .pipeline.reports import charts
    from .pipeline.reports.trend import TrendError, chart_frame, format_text, trend_rows

    partners = tuple(dict.fromkeys(c.strip().upper() for c in args.partners_of.split(",") if c.strip()))
    if not partners or any(len(c) != 2 or not c.isalpha() for c in partners):
        raise CliError(f"--partners-of {args.partners_of!r}: give ISO alpha-2 codes separated by commas, e.g. US,CN")
    if args.top < 0:
        raise CliError("--top must be 0 or more")
    placement = _placement(args, settings)
    try:
        rows = trend_rows(_warehouse(settings), args.venue.lower(), args.start, args.end, placement,
                          args.china_scope, partners, args.top)
    except TrendError as exc:
        raise CliError(str(exc)) from exc
    if args.json:
        print(json.dumps(rows, ensure_ascii=False))
    else:
        print(format_text(rows))
    if args.out:
        out = Path(args.out)
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            tmp = out.with_name(out.name + ".tmp")
            tmp.write_bytes(charts.us_cn_share_by_year(chart_frame(rows), args.venue.lower(), args.china_scope))
            os.replace(tmp, out)
        except OSError as exc:
            raise CliError(f"--out {out}: cannot write the chart ({exc.strerror or exc})") from exc
        print(f"chart written to {out}", file=sys.stderr)
    return 0


def _placement(args: argparse.Namespace, settings: Settings) -> str:
    return getattr(args, "placement", None) or settings.placement


def _views(settings: Settings, key: str):
    from .pipeline.reports.report import load_views

    store = _warehouse(settings)
    if not len(store.query("SELECT 1 FROM partition_summary WHERE partition_key = ?", [key])):
        raise CliError(f"{key} is not materialised yet; run `paperatlas run {key}` first")
    return load_views(store, key)


def cmd_papers(args: argparse.Namespace, settings: Settings) -> int:
    """One row per paper of a venue-year: countries under the placement and China scope,
    whether a headline number it is in depends on an uncertain row, and every author's evidence."""
    import csv

    from .pipeline.reports.explain import flat, paper_record
    from .pipeline.text import csv_safe

    key = _keys([args.partition])[0]
    views = _views(settings, key)
    placement = _placement(args, settings)
    sink = _open(args.output, "w", sys.stdout)
    try:
        records = (paper_record(views[pid], args.china_scope, placement) for pid in sorted(views))
        if args.format == "jsonl":
            for record in records:
                sink.write(json.dumps(record, ensure_ascii=False) + "\n")
        else:
            writer = None
            for record in records:
                row = flat(record)
                if writer is None:
                    writer = csv.DictWriter(sink, fieldnames=list(row), lineterminator="\n")
                    writer.writeheader()
                writer.writerow({k: csv_safe(v) for k, v in row.items()})
    finally:
        if sink is not sys.stdout:
            sink.close()
    print(f"{len(views)} papers of {key} (placement {placement}, China scope {args.china_scope})", file=sys.stderr)
    return 0


def cmd_explain(args: argparse.Namespace, settings: Settings) -> int:
    from .pipeline.reports.explain import explain_text, find

    key = _keys([args.partition])[0]
    views = _views(settings, key)
    query = " ".join(args.paper)
    found = find(views, query)
    if not found:
        raise CliError(f"no paper of {key} has the id {query!r} or all its words in the title")
    if len(found) > 1:
        listing = "\n".join(f"  {v.paper_id}  {v.title}" for v in found[:20])
        raise CliError(f"{len(found)} papers of {key} match {query!r}; give an id:\n{listing}")
    print(explain_text(found[0], args.china_scope, _placement(args, settings)))
    return 0


def _refuse_verdicts(settings: Settings, key: str, path: Path, reason: str) -> None:
    """A verdicts file that cannot be used: one line for the user, a row in ingest_errors."""
    from .pipeline.models import IngestError

    message = reason if reason.startswith(str(path)) else f"{path}: {reason}"
    if _store_exists(settings):
        _warehouse(settings, write=True).record_errors(key, "review import", [
            IngestError(key, "review import", str(path), message, "error")])
    raise CliError(message)


def cmd_review(args: argparse.Namespace, settings: Settings) -> int:
    """`review import`: store the verdicts of a CSV that review.html downloaded."""
    from .pipeline.models import utcnow
    from .pipeline.reports.review import VerdictError, evidence_digest, read_verdicts

    key = _keys([args.partition])[0]
    path = Path(args.csv)
    try:
        text = path.read_text(encoding="utf-8-sig")
        rows = read_verdicts(text, str(path))
    except (OSError, UnicodeDecodeError, VerdictError) as exc:
        _refuse_verdicts(settings, key, path, str(exc) if isinstance(exc, VerdictError) else f"cannot read it ({exc})")
    views = _views(settings, key)
    store = _warehouse(settings, write=True)
    now = utcnow().replace(tzinfo=None)
    unknown = [r["paper_id"] for r in rows if r["paper_id"] not in views]
    if unknown:
        _refuse_verdicts(settings, key, path, f"{len(unknown)} paper ids are not in {key} (e.g. {unknown[0]!r}); "
                                              "is it another venue-year's CSV?")
    placement = _placement(args, settings)
    stored = 0
    with store.connect() as con:
        for r in rows:
            scope, place = r["china_scope"] or "cn", r["placement"] or placement
            digest = r["evidence_sha256"] or evidence_digest(r["number"], views[r["paper_id"]], scope, place)
            store.replace_where(
                "review_verdicts",
                [{"partition_key": key, "number": r["number"], "china_scope": scope, "placement": place,
                  "paper_id": r["paper_id"], "verdict": r["verdict"], "evidence_sha256": digest,
                  "file": str(path), "imported_at": now}],
                "partition_key = ? AND number = ? AND china_scope = ? AND placement = ? AND paper_id = ?",
                [key, r["number"], scope, place, r["paper_id"]], con=con)
            stored += 1
    print(f"{stored} verdicts of {key} stored from {path}; `paperatlas report {key}` shows the reviewed precision")
    return 0


# -- resolve -------------------------------------------------------------------------------


def resolve_stream(source: TextIO, sink: TextIO, resolver=None) -> tuple[int, int]:
    """One output line per input line, in order; bad lines get an `error` field."""
    from .pipeline.affiliations.resolver import default_resolver

    resolver = resolver or default_resolver()
    encode = json.JSONEncoder(ensure_ascii=False).encode  # one encoder, not one per line
    loads = json.loads
    lines = errors = 0
    for n, line in enumerate(source, start=1):
        lines += 1
        try:
            record = loads(line)
            if not isinstance(record, dict):
                raise ValueError(f"line {n} is a JSON {type(record).__name__}, expected an object")
            aff = record.get("affiliation")
            dom = record.get("email_domain")
            if aff is not None and not isinstance(aff, str):
                raise ValueError(f"line {n}: 'affiliation' must be a string or null")
            if dom is not None and not isinstance(dom, str):
                raise ValueError(f"line {n}: 'email_domain' must be a string or null")
        except ValueError as exc:  # json.JSONDecodeError is a ValueError
            errors += 1
            message = str(exc) if not isinstance(exc, json.JSONDecodeError) else f"line {n} is not valid JSON: {exc.msg}"
            sink.write(json.dumps({"line": n, "error": message, "country": None, "institution": None,
                                   "ror_id": None, "method": None, "confidence": None}) + "\n")
            continue
        res = resolver.resolve(aff, dom)
        record["country"] = res.country
        record["institution"] = res.institution
        record["ror_id"] = res.ror_id
        record["method"] = res.method
        record["confidence"] = res.confidence
        if len(res.countries) > 1:
            record["countries"] = list(res.countries)
        if res.reason:
            record["reason"] = res.reason
        sink.write(encode(record) + "\n")
    sink.flush()
    return lines, errors


def cmd_resolve(args: argparse.Namespace, settings: Settings) -> int:
    resolver = _build_resolver(args, settings)
    source = _open(args.input, "r", sys.stdin)
    sink = _open(args.output, "w", sys.stdout)
    try:
        lines, errors = resolve_stream(source, sink, resolver)
    finally:
        if source is not sys.stdin:
            source.close()
        if sink is not sys.stdout:
            sink.close()
    if errors:
        print(f"{errors} of {lines} lines could not be read (see their 'error' field)", file=sys.stderr)
    return 0


def cmd_extract_pdf(args: argparse.Namespace, settings: Settings) -> int:
    """One JSON line per PDF: file, title, authors [{name, affiliations, email, countries}],
    countries, error, layout, and when present layout_reason, unassigned_affiliations and
    former_affiliations. A file that cannot be read gets its reason in `error`; the batch goes on."""
    from .pipeline.pdfs.extract import attribute, iter_pdf_paths, result_record, yields_nothing
    from .pipeline.pdfs.steps import read_first_pages

    paths = iter_pdf_paths(args.paths)
    if not paths:
        raise CliError("no PDF files found in the given paths")
    resolver = _build_resolver(args, settings) if args.resolve else None
    sink = _open(args.output, "w", sys.stdout)
    failed = empty = 0
    try:
        jobs = max(1, args.jobs or (os.cpu_count() or 1))
        # Always in worker processes: a file that kills MuPDF (or the OOM killer) costs only its line.
        for n, result in enumerate(read_first_pages(paths, jobs, isolate=True), start=1):
            if resolver is not None:
                attribute(result, resolver, settings.placement)
            failed += result.error is not None
            if yields_nothing(result):
                empty += 1
                print(f"warning: {result.file}: page 1 gave no author and no affiliation (layout: none)", file=sys.stderr)
            sink.write(json.dumps(result_record(result, resolver is not None), ensure_ascii=False) + "\n")
            if n % 200 == 0:
                print(f"extract-pdf: {n}/{len(paths)} PDFs", file=sys.stderr)
    finally:
        if sink is not sys.stdout:
            sink.close()
    if failed:
        print(f"{failed} of {len(paths)} PDFs could not be read (see their 'error' field)", file=sys.stderr)
    if empty:
        print(f"{empty} of {len(paths)} PDFs gave no author and no affiliation", file=sys.stderr)
    return 0


def _scopes(raw: str) -> tuple[str, ...]:
    from .pipeline.mentions.scan import DEFAULT_SCOPES, SCOPES

    if raw in (None, ""):
        return DEFAULT_SCOPES
    if raw == "all":
        return SCOPES
    scopes = tuple(dict.fromkeys(s.strip() for s in raw.split(",") if s.strip()))
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown or not scopes:
        raise CliError(f"unknown scope {', '.join(unknown) or raw!r}: choose all, {', '.join(SCOPES)} "
                       "(or several joined by commas)")
    return scopes


def cmd_mentions(args: argparse.Namespace, settings: Settings) -> int:
    """One JSON line per PDF: file, mentions {canonical id: count} in the chosen scopes, error.
    With --evidence, also every match with its scope, surface form and snippet."""
    from .pipeline.mentions.catalogue import CatalogueError, load_catalogue
    from .pipeline.mentions.runner import Task, iter_scans
    from .pipeline.pdfs.extract import iter_pdf_paths

    scopes = _scopes(args.scope)
    terms = args.terms or settings.terms_file
    try:
        load_catalogue(terms)
    except CatalogueError as exc:
        raise CliError(str(exc)) from exc
    paths = iter_pdf_paths(args.paths)
    if not paths:
        raise CliError("no PDF files found in the given paths")
    jobs = max(1, args.jobs or (os.cpu_count() or 1))
    sink = _open(args.output, "w", sys.stdout)
    failed = pages = 0
    started = time.monotonic()
    try:
        tasks = [Task(str(p)) for p in paths]
        for n, result in enumerate(iter_scans(tasks, jobs, str(terms) if terms else None), start=1):
            record = {"file": result.file, "mentions": result.scan.counts(scopes) if not result.error else {},
                      "error": result.error}
            if args.evidence:
                record["matches"] = [{"term": m.term, "scope": m.scope, "text": m.surface, "snippet": m.snippet}
                                     for m in result.matches if m.scope in scopes]
            sink.write(json.dumps(record, ensure_ascii=False) + "\n")
            failed += result.error is not None
            pages += result.pages
            if n % 200 == 0:
                print(f"mentions: {n}/{len(paths)} PDFs, {pages} pages, "
                      f"{pages / max(time.monotonic() - started, 1e-9):.0f} pages/s", file=sys.stderr)
    finally:
        if sink is not sys.stdout:
            sink.close()
    if failed:
        print(f"{failed} of {len(paths)} PDFs could not be read (see their 'error' field)", file=sys.stderr)
    return 0


def _build_resolver(args: argparse.Namespace, settings: Settings):
    from .pipeline.affiliations.reference import build_resolver
    from .pipeline.affiliations.resolver import OverridesError
    from .pipeline.affiliations.ror import RorDumpError
    from .pipeline.http import Unreachable

    spec = args.ror if args.ror is not None else settings.ror_dump
    overrides = Path(args.overrides) if getattr(args, "overrides", None) else settings.overrides_file
    try:
        return build_resolver(spec, settings.cache_dir, overrides)
    except (RorDumpError, OverridesError, OSError) as exc:
        # An unreachable host's message already says what to set; add only the option's spelling.
        also = "or --ror PATH / --ror none" if Unreachable.MARK in str(exc) else \
            "use --ror PATH, or --ror none to resolve without the ROR registry"
        raise CliError(f"{exc} ({also})") from exc
    except Exception as exc:  # a download that failed after its retries
        if type(exc).__name__ in ("FetchError", "RetryableHTTPError", "ConnectionError"):
            raise CliError(f"could not download the ROR dump: {exc} (use --ror PATH or --ror none)") from exc
        raise


# -- partitions, errors, ui ------------------------------------------------------------------


def cmd_partitions(args: argparse.Namespace, settings: Settings) -> int:
    from paperatlas.assets.automation import add_venue_years
    from paperatlas.assets.partitions import VENUE_YEAR

    instance = _instance(settings)
    if args.action == "add":
        if not args.keys:
            raise CliError("partitions add needs VENUE-YEARs, e.g. paperatlas partitions add neurips-2010..2018")
        keys = _expand(args.keys, settings, stored=False)
    elif args.action == "catalogue":
        keys = _plan(settings).catalogue_keys()
    else:
        keys = []
    if keys:
        new = add_venue_years(instance, keys)
        print(f"added {len(new)} venue-years ({len(keys) - len(new)} were there)")
        return 0
    known = instance.get_dynamic_partitions(VENUE_YEAR)
    done = set()
    if _store_exists(settings):
        done = set(_open_store(settings, read_only=True).partitions("partition_summary"))
    for key in sorted(known):
        print(f"{key}\t{'materialised' if key in done else '-'}")
    return 0


def cmd_add_folder(args: argparse.Namespace, settings: Settings) -> int:
    """Make a folder of PDFs a venue-year: a symlink under the local root, and the partition."""
    from paperatlas.assets.automation import add_venue_years

    key = _keys([args.partition])[0]
    folder = Path(args.folder).expanduser().resolve()
    if not folder.is_dir():
        raise CliError(f"{args.folder}: not a folder")
    refused = {Path(folder.anchor): "the filesystem root", Path.home().resolve(): "your home folder"}
    if folder in refused:
        raise CliError(f"{args.folder}: refusing {refused[folder]}; give the folder that holds the venue-year's PDFs")
    home = settings.home.resolve()
    if home.is_relative_to(folder):
        raise CliError(f"{args.folder}: refusing a folder that holds PAPERATLAS_HOME ({home}); "
                       "give the folder that holds the venue-year's PDFs")
    link = settings.local_dir / key
    if link.is_symlink() and link.resolve() == folder or link == folder:
        pass
    elif link.exists() or link.is_symlink():
        raise CliError(f"{link} already exists (for {link.resolve()}); remove it first to point {key} elsewhere")
    else:
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(folder, target_is_directory=True)
    pdfs = sum(1 for p in folder.rglob("*") if p.suffix.lower() == ".pdf")
    add_venue_years(_instance(settings), [key])
    print(f"{key}: {folder} ({pdfs} PDFs{', papers.csv' if (folder / 'papers.csv').is_file() else ''}) "
          f"via {link}; now `paperatlas run {key}`")
    return 0


def cmd_errors(args: argparse.Namespace, settings: Settings) -> int:
    store = _warehouse(settings)
    sql = "SELECT partition_key, stage, severity, item, reason FROM ingest_errors"
    params: list = []
    if args.partition:
        sql += " WHERE partition_key = ?"
        params.append(_keys([args.partition])[0])
    frame = store.query(sql + " ORDER BY partition_key, stage, severity, item", params)
    for row in frame.itertuples(index=False):
        print("\t".join(str(v) for v in row))
    print(f"{len(frame)} rows", file=sys.stderr)
    return 0


def cmd_store(args: argparse.Namespace, settings: Settings) -> int:
    """Where the store is; `maintain`: compact, checkpoint and vacuum it."""
    if args.action == "where":
        state = "" if _store_exists(settings) else "\t(nothing written yet)"
        print(f"{settings.store}\t{settings.store_location}{state}")
        print(f"files\t{settings.files}")
        return 0
    store = _warehouse(settings, write=True)
    rows = store.maintain(retention_hours=args.retention_hours, log=lambda line: print(line, file=sys.stderr))
    print(f"maintained {len(rows)} table(s) of {settings.store_location}")
    return 0


def _plan(settings: Settings):
    from .pipeline.sources.plan import PlanError, load_plan

    try:
        return load_plan(settings.sources_file)
    except PlanError as exc:
        raise CliError(str(exc)) from exc


def cmd_sources(args: argparse.Namespace, settings: Settings) -> int:
    """The sources plan; for venue-years, what each source will read and what it gave last time."""
    from .pipeline.sources import registry
    from .pipeline.sources.collect import sources_for

    plan = _plan(settings)
    sources = registry.build(settings)
    print(f"plan: {' + '.join(plan.files)}")
    if not args.keys:
        print(f"default: {', '.join(plan.default)}")
        for venue in plan.all_venues():
            years = "; ".join(f"{y}: {', '.join(s)}" for y, s in sorted(venue.years.items()))
            print(f"{venue.key}	{', '.join(venue.sources)}{'  [' + years + ']' if years else ''}"
                  f"	refresh month {venue.refresh_month}{'' if venue.watch else ', not watched'}")
        return 0
    reads = None
    if _store_exists(settings):
        reads = _open_store(settings, read_only=True).query(
            "SELECT * FROM source_reads ORDER BY partition_key, priority")
    for key in _keys(args.keys):
        pk = parse_partition_key(key)
        venue = plan.venue(pk.venue)
        print(f"{key} ({venue.name}):")
        for rank, source in enumerate(sources_for(pk, plan, sources), start=1):
            print(f"  {rank}. {source}: {sources[source].where(pk, venue)}")
        if reads is not None:
            for row in reads[reads["partition_key"] == key].itertuples():
                print(f"  last read: {row.source} gave {row.papers} papers ({row.matched} merged, {row.added} added, "
                      f"{row.errors} errors) from {row.refs} documents{' (cache)' if row.from_cache else ''}")
    return 0


def cmd_ui(args: argparse.Namespace, settings: Settings) -> int:
    _instance(settings)
    # The dagster of this Python, whether or not its bin folder is on PATH.
    command = [sys.executable, "-m", "dagster", "dev", "-m", "paperatlas.definitions", *args.dagster_args]
    print(f"DAGSTER_HOME={settings.dagster_home} PAPERATLAS_HOME={settings.home}", file=sys.stderr)
    os.environ["PAPERATLAS_HOME"] = str(settings.home)
    os.execvp(command[0], command)
    return 0  # pragma: no cover


def cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    """A Celery worker for PAPERATLAS_EXECUTOR=celery: runs the steps the broker hands it."""
    if settings.executor != "celery":
        raise CliError("a worker serves PAPERATLAS_EXECUTOR=celery; set it (and PAPERATLAS_CELERY_BROKER) "
                       "here and where runs are started")
    if settings.store == "duckdb":
        print("paperatlas: warning: PAPERATLAS_STORE=duckdb: a worker on another machine cannot reach this store; "
              "use PAPERATLAS_STORE=delta for workers on several machines", file=sys.stderr)
    _instance(settings)  # the instance's dagster.yaml names the shared (PostgreSQL) storage
    import yaml

    from .pipeline.config import is_set, path_with_this_python

    def source(name: str, value: str):  # a URL set in the environment stays there (it may hold a password)
        return {"env": name} if is_set(name) else value

    config = settings.dagster_home / "celery-worker.yaml"
    config.write_text(yaml.safe_dump({"execution": {"config": {
        "broker": source("PAPERATLAS_CELERY_BROKER", settings.celery_broker),
        "backend": source("PAPERATLAS_CELERY_BACKEND", settings.celery_backend or settings.celery_broker),
    }}}), encoding="utf-8")
    command = [sys.executable, "-c", "from dagster_celery.cli import main; main()", "worker", "start",
               "-A", "dagster_celery.app", "-y", str(config), "-l", args.loglevel]
    if args.name:
        command += ["-n", args.name]
    command += ["--", f"--concurrency={args.concurrency}"]
    # dagster-celery starts `celery` by name: the one beside this Python, on PATH or not
    os.environ["PATH"] = path_with_this_python()
    os.environ["PAPERATLAS_HOME"] = str(settings.home)
    print(f"worker {args.name or '(default name)'}: broker {_redact(settings.celery_broker)}, "
          f"store {settings.store_location}, files {settings.files}", file=sys.stderr, flush=True)
    os.execvp(command[0], command)
    return 0  # pragma: no cover


def _redact(url: str) -> str:
    """`url` without its password."""
    return re.sub(r"(//[^:/@]*):[^@/]*@", r"\1:***@", url)


# -- entry point -----------------------------------------------------------------------------


def _placement_option(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--placement", choices=list(PLACEMENTS), default=None,
                        help=f"hq: a multinational named without a place counts at its headquarters (as Paper "
                             f"Copilot, OpenAlex and Scopus); coauthors: where its co-authors are, if it has a lab "
                             f"there. Default: PAPERATLAS_PLACEMENT, else hq. Here: {what}")


def _scope_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--china-scope", choices=list(CHINA_SCOPES), default="cn",
                        help="cn: mainland China only (default); cn+hk+mo: fold in Hong Kong and Macau; "
                             "greater: also Taiwan")


KEYS_HELP = ("venue-years: neurips-2016, a range neurips-2010..2018, or neurips-* (every year {every}); "
             "nips- is read as neurips-")

TOP_DESCRIPTION = """\
Where machine-learning research comes from, and who works with whom: the paper lists of
venue-years in, country-level collaboration figures out, each number with the papers and
affiliation strings behind it and the interval it could move in.

Start with `paperatlas run neurips-2016`, then `paperatlas report neurips-2016`."""

TOP_EPILOG = """\
where the data lives:
  PAPERATLAS_HOME   the store (paperatlas.duckdb), downloads, PDFs, reports and the Dagster
                    instance; now {home}

working offline (the network is used for paper lists, the ROR registry and PDFs):
  PAPERATLAS_PAPERLISTS_BASE=DIR   paper lists from a local copy of papercopilot/paperlists
  PAPERATLAS_ROR_DUMP=FILE         the ROR registry from a dump you have (or 'none')
  --pdfs cached | --pdfs off       only PDFs already stored, or none (also PAPERATLAS_PDFS)

every setting: docs/configuration.md; every command: docs/commands.md or `paperatlas COMMAND --help`"""


class _Help(argparse.RawDescriptionHelpFormatter):
    """Our help layout: descriptions and examples as written, up to 100 columns, and the commands
    listed once, one line each (without argparse's "{run,report,...}" line above them)."""

    def __init__(self, prog: str):
        import shutil

        super().__init__(prog, max_help_position=26, width=min(shutil.get_terminal_size().columns, 100))

    def _format_action(self, action: argparse.Action) -> str:
        if isinstance(action, argparse._SubParsersAction):
            return "".join(self._format_action(choice) for choice in action._get_subactions())
        return super()._format_action(action)


def _home_for_help() -> str:
    from .pipeline.config import default_home

    try:
        return str(default_home())
    except Exception:  # help must print whatever the environment holds
        return "(unset: ./.paperatlas if it exists, else the user data folder)"


def _command(sub, name: str, summary: str, description: str, examples: list[str], func, **kwargs):
    """A subcommand with its one-line summary (in `paperatlas --help`), a description and examples."""
    import textwrap

    text = "\n\n".join(textwrap.fill(part, 92, break_on_hyphens=False) for part in description.split("\n\n"))
    parser = sub.add_parser(name, help=summary, description=text, formatter_class=_Help,
                            epilog="examples:\n" + "\n".join(f"  {e}" for e in examples), **kwargs)
    parser.set_defaults(func=func)
    return parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="paperatlas", description=TOP_DESCRIPTION,
                                     epilog=TOP_EPILOG.format(home=_home_for_help()), formatter_class=_Help)
    sub = parser.add_subparsers(dest="command", required=True, title="commands", metavar="COMMAND")

    run = _command(
        sub, "run", "materialise every asset of venue-years through Dagster, then the yearly tables",
        "Loads the reference data when it is missing or changed (the ROR registry, your overrides, the term "
        "catalogue), then materialises every asset of each venue-year, one Dagster run each, and then the "
        "yearly tables. A venue-year that fails is one line with its cause at the end; the others go on. Exit "
        "code 1 when any failed.\n\nOffline: set PAPERATLAS_PAPERLISTS_BASE and PAPERATLAS_ROR_DUMP to local "
        "copies and add --pdfs off (or cached).",
        ["paperatlas run neurips-2016",
         "paperatlas run neurips-2010..2018 icml-2019 --pdfs off",
         "PAPERATLAS_PAPERLISTS_BASE=../shared/data/paperlists PAPERATLAS_ROR_DUMP=../shared/data/ror/"
         "ror-partial-v2.zip paperatlas run neurips-2016 --pdfs off"], cmd_run)
    run.add_argument("partitions", nargs="+", metavar="VENUE-YEAR",
                     help=KEYS_HELP.format(every="the sources plan knows, up to last year"))
    run.add_argument("--refresh", action="store_true", help="download the sources again instead of using the cache")
    run.add_argument("--no-aggregates", action="store_true", help="skip recomputing yearly_aggregates")
    run.add_argument("--refresh-ror", action="store_true",
                     help="reload the ROR registry and overrides even when they look unchanged")
    run.add_argument("--pdfs", choices=["download", "cached", "off"], default=None,
                     help="download PDFs, use only stored ones, or skip them (default: PAPERATLAS_PDFS, else download)")
    _placement_option(run, "the placement the stored paper_countries, edges and yearly tables use")

    folder = _command(
        sub, "add-folder", "make a folder of PDFs (optionally with papers.csv) a venue-year",
        "Links FOLDER (no copy) as $PAPERATLAS_LOCAL_DIR/VENUE-YEAR and adds the partition; `paperatlas run "
        "VENUE-YEAR` then reads its PDFs (and papers.csv, when there is one, for titles and authors).",
        ["paperatlas add-folder ~/papers/lab-2024 mylab-2024 && paperatlas run mylab-2024"], cmd_add_folder)
    folder.add_argument("folder", metavar="FOLDER", help="the folder that holds the venue-year's PDFs")
    folder.add_argument("partition", metavar="VENUE-YEAR", help="the venue-year it becomes, e.g. mylab-2024")

    report = _command(
        sub, "report", "the headline figures of materialised venue-years; --out writes the full report",
        "Prints the headline of each venue-year: US-CN co-authored papers with the interval they could move in "
        "(`US-CN 18 (16-18)`), what the countries stand on (PDF, metadata, nothing), every number under both "
        "placements and the three China scopes, the mention counts and the top country pairs. --out writes "
        "report.html, charts, the review sample and CSV/Parquet tables. Ranges and venue-* take the "
        "materialised years.",
        ["paperatlas report neurips-2016",
         "paperatlas report neurips-2016 --out reports/neurips-2016",
         "paperatlas report neurips-2010..2018 --json"], cmd_report)
    report.add_argument("partitions", nargs="+", metavar="VENUE-YEAR",
                        help=KEYS_HELP.format(every="that is materialised") + "; several give a JSON list")
    report.add_argument("--format", choices=["text", "md", "html", "json"], default="text",
                        help="what to print (default text; html embeds the charts and takes one venue-year)")
    report.add_argument("--json", action="store_true", help="same as --format json")
    report.add_argument("--out", metavar="DIR", default=None,
                        help="write report.md/html/json, charts, review sample and CSV/Parquet tables to DIR "
                             "(a new folder, or one an earlier report wrote: it is replaced whole); with several "
                             "venue-years, each goes to DIR/VENUE-YEAR")
    _scope_option(report)
    report.add_argument("--top", type=int, default=10, help="country pairs to list (default 10)")
    report.add_argument("--seed", type=int, default=2026, help="seed of the review samples (default 2026)")
    report.add_argument("--sample", type=int, default=20, help="papers sampled per headline number (default 20)")
    report.add_argument("--min-confidence", type=float, default=0.85,
                        help="rows resolved below this confidence are low-confidence (default 0.85)")
    _placement_option(report, "the placement of the flat figures, tables and review sample (the headline "
                              "shows both)")

    trend = _command(
        sub, "trend", "US-CN papers per materialised year of a venue, with interval, shares and partners",
        "One row per materialised year of VENUE (or 'all': every venue, summed per year): papers, US-CN "
        "co-authored papers with their (low-high) interval and share of all papers, the international share "
        "and the top partners of the --partners-of countries. --json prints a list of objects with the keys "
        "year, papers, us_cn_papers, us_cn_papers_low, us_cn_papers_high, us_cn_share, international_share, "
        "top_partners and more.",
        ["paperatlas trend neurips",
         "paperatlas trend neurips --from 2010 --to 2018 --out neurips.png",
         "paperatlas trend all --placement coauthors --json"], cmd_trend)
    trend.add_argument("venue", metavar="VENUE", help="a venue, e.g. neurips, or all")
    trend.add_argument("--from", dest="start", type=int, default=None, metavar="YEAR",
                       help="first year (default: oldest)")
    trend.add_argument("--to", dest="end", type=int, default=None, metavar="YEAR", help="last year (default: newest)")
    _scope_option(trend)
    trend.add_argument("--partners-of", default=",".join(("US", "CN")), metavar="CODES",
                       help="countries whose top partners to list (default US,CN)")
    trend.add_argument("--top", type=int, default=3, help="partners listed per country (default 3)")
    trend.add_argument("--json", action="store_true", help="print a JSON list of objects, one per year")
    trend.add_argument("--out", metavar="PNG", default=None, help="also write the US-CN share chart (with its "
                                                                   "interval shaded) to this PNG file")
    _placement_option(trend, "the placement of every figure in the rows")

    papers = _command(
        sub, "papers", "one row per paper: countries, uncertainty, every author's evidence",
        "One row per paper of a materialised venue-year: its countries under the placement and China scope, "
        "whether a headline number it is in depends on an uncertain row, what its countries stand on, and per "
        "author the affiliation strings, their source, country, rule, confidence and alternatives.",
        ["paperatlas papers neurips-2016 --output neurips-2016.csv",
         "paperatlas papers neurips-2016 --format jsonl | head -1"], cmd_papers)
    papers.add_argument("partition", metavar="VENUE-YEAR", help="a materialised venue-year, e.g. neurips-2016")
    _placement_option(papers, "where a multinational named without a place counts")
    _scope_option(papers)
    papers.add_argument("--format", choices=["csv", "jsonl"], default="csv",
                        help="csv (default; authors in one readable cell) or jsonl (authors as a list)")
    papers.add_argument("--output", default="-", help="output file, or - for stdout (default)")

    explain = _command(
        sub, "explain", "why one paper counts where it does, and what would move it",
        "One paper, readably: its countries under each placement, the country sets it could have, each "
        "headline number it is in (or could be), and per author why the row counts where it does and what "
        "would move it. PAPER is an id or words of the title; several matches are listed.",
        ["paperatlas explain neurips-2016 'attention is all'",
         "paperatlas explain neurips-2016 3f5ee243547dee91fbd053c1c4a845aa"], cmd_explain)
    explain.add_argument("partition", metavar="VENUE-YEAR", help="a materialised venue-year, e.g. neurips-2016")
    explain.add_argument("paper", nargs="+", metavar="PAPER", help="a paper id, or words of its title")
    _placement_option(explain, "where a multinational named without a place counts")
    _scope_option(explain)

    diff = _command(
        sub, "diff", "which papers entered or left each headline number between two runs",
        "Compares two materialisations of a venue-year's headlines (by default the latest and the one "
        "before): for every number, the count before and after and each paper that entered or left, with "
        "the affiliation row, rule or input that changed. A range or venue-* diffs each venue-year that has "
        "two snapshots.",
        ["paperatlas diff neurips-2016",
         "paperatlas diff neurips-2016 --list",
         "paperatlas diff neurips-2010..2018 --json"], cmd_diff)
    diff.add_argument("partitions", nargs="+", metavar="VENUE-YEAR",
                      help=KEYS_HELP.format(every="that is materialised"))
    diff.add_argument("--from", dest="old", type=int, default=None, metavar="N",
                      help="older snapshot (default: the one before --to); one venue-year only")
    diff.add_argument("--to", dest="new", type=int, default=None, metavar="N",
                      help="newer snapshot (default: the latest); one venue-year only")
    _scope_option(diff)
    diff.add_argument("--json", action="store_true", help="every change as JSON (a list for several venue-years)")
    diff.add_argument("--limit", type=int, default=20, help="papers listed per number in text output (default 20)")
    diff.add_argument("--list", action="store_true", help="list the stored snapshots and exit")
    _placement_option(diff, "the placement under which numbers are compared")

    review = _command(
        sub, "review", "store review verdicts; the report then shows precision and a corrected count",
        "`review import` reads the CSV that review.html downloads (or review.csv with its verdict column "
        "filled). Verdicts survive re-runs, keyed by paper and evidence; one whose evidence has since changed "
        "is stale and not used.",
        ["paperatlas review import neurips-2016 ~/Downloads/verdicts.csv"], cmd_review)
    review.add_argument("action", choices=["import"], help="import: store the verdicts of a CSV")
    review.add_argument("partition", metavar="VENUE-YEAR", help="the venue-year the verdicts are about")
    review.add_argument("csv", metavar="CSV", help="the verdicts CSV review.html downloads")
    _placement_option(review, "placement of verdicts whose CSV does not say")

    sources = _command(
        sub, "sources", "which sources feed each venue-year, where each reads, what each gave last time",
        "Without VENUE-YEARs: the sources plan, each venue's sources (and per-year choices), refresh month "
        "and whether the new-years sensor watches it. With them: each source by priority with the URL or "
        "folder it reads, and what it gave at the last run.",
        ["paperatlas sources", "paperatlas sources neurips-2016 icml-2019"], cmd_sources)
    sources.add_argument("keys", nargs="*", metavar="VENUE-YEAR", help="venue-years to show (default: the whole plan)")

    errors = _command(
        sub, "errors", "what could not be read, and why (the ingest_errors table)",
        "One line per item a step dropped or kept with a caveat: venue-year, step, severity, item, reason.",
        ["paperatlas errors neurips-2016", "paperatlas errors reference"], cmd_errors)
    errors.add_argument("partition", nargs="?", metavar="VENUE-YEAR",
                        help="one venue-year, or 'reference' for the reference data (default: all)")

    store = _command(
        sub, "store", "where the store is, and its upkeep (compaction, checkpoints, vacuum)",
        "where: the store (PAPERATLAS_STORE: duckdb or delta) and its location, and the shared files folder. "
        "maintain: for the Delta store, compact each table's small files, write a checkpoint and delete the "
        "files no version within --retention-hours refers to; for DuckDB, write a checkpoint. Safe while "
        "other runs read and write: Delta commits are atomic and readers keep their version's files for "
        "the retention period.",
        ["paperatlas store", "paperatlas store maintain --retention-hours 24"], cmd_store)
    store.add_argument("action", nargs="?", choices=["where", "maintain"], default="where",
                       help="where (default) or maintain")
    store.add_argument("--retention-hours", type=float, default=168.0,
                       help="maintain: keep files that a version this recent needs (default 168, a week)")

    parts = _command(
        sub, "partitions", "list or add venue-year partitions",
        "list: every venue-year partition of the Dagster instance and whether it is materialised. add: new "
        "partitions (they show in the UI, ready to materialise or backfill). catalogue: every venue-year of the "
        "sources plan's venues, from their first edition to last year.",
        ["paperatlas partitions", "paperatlas partitions add neurips-2010..2018", "paperatlas partitions add icml-*"],
        cmd_partitions)
    parts.add_argument("action", nargs="?", choices=["list", "add", "catalogue"], default="list",
                       help="list (default), add VENUE-YEAR..., or catalogue")
    parts.add_argument("keys", nargs="*", metavar="VENUE-YEAR",
                       help=KEYS_HELP.format(every="the sources plan knows, up to last year"))

    resolve = _command(
        sub, "resolve", "affiliation JSON lines in, institutions and countries out",
        "Reads JSON lines with `affiliation` and `email_domain` (strings or null) and writes one line per "
        "input line, in order, with country, institution, ror_id, method and confidence added. A line that "
        "cannot be read gets an `error` field; the rest go on.",
        ["echo '{\"affiliation\": \"Tsinghua University\"}' | paperatlas resolve --ror none",
         "paperatlas resolve --input affiliations.jsonl --output resolved.jsonl"], cmd_resolve)
    resolve.add_argument("--input", default="-", help="JSON lines file, or - for stdin (default)")
    resolve.add_argument("--output", default="-", help="output file, or - for stdout (default)")
    resolve.add_argument("--ror", default=None,
                         help="ROR v2 dump (zip path or URL; 'none': no registry). Default: PAPERATLAS_ROR_DUMP, "
                              "else the newest dump on Zenodo")
    resolve.add_argument("--overrides", default=None, help="overrides YAML (default: PAPERATLAS_OVERRIDES)")

    pdf = _command(
        sub, "extract-pdf", "authors, affiliations and e-mails off PDFs' first pages",
        "One JSON line per PDF: title, authors with their affiliations and e-mail, how they were tied "
        "(layout), and with --resolve each author's countries. A file that cannot be read gets its reason in "
        "`error`; the batch goes on.",
        ["paperatlas extract-pdf paper.pdf", "paperatlas extract-pdf pdfs/ --resolve --output pages.jsonl"],
        cmd_extract_pdf)
    pdf.add_argument("paths", nargs="+", metavar="PATH", help="PDF files or folders (searched recursively)")
    pdf.add_argument("--resolve", action="store_true", help="resolve affiliations to countries")
    pdf.add_argument("--ror", default=None,
                     help="ROR v2 dump zip, URL, or 'none' (with --resolve; default: PAPERATLAS_ROR_DUMP)")
    pdf.add_argument("--overrides", default=None, help="overrides YAML (with --resolve; default: PAPERATLAS_OVERRIDES)")
    pdf.add_argument("--output", default="-", help="output file, or - for stdout (default)")
    pdf.add_argument("--jobs", type=int, default=None, help="worker processes (default: all cores)")

    mentions = _command(
        sub, "mentions", "models, architectures and libraries named in PDFs' full text",
        "One JSON line per PDF: how often each term of the catalogue (transformer, Llama, Qwen, PyTorch, "
        "scikit-learn, ...) is named, by default everywhere but the references.",
        ["paperatlas mentions paper.pdf", "paperatlas mentions pdfs/ --scope all --evidence"], cmd_mentions)
    mentions.add_argument("paths", nargs="+", metavar="PATH", help="PDF files or folders (searched recursively)")
    mentions.add_argument("--scope", default=None,
                          help="all, title, abstract, body or references, or several joined by commas "
                               "(default: title,abstract,body: everything but the references)")
    mentions.add_argument("--output", default="-", help="output file, or - for stdout (default)")
    mentions.add_argument("--terms", default=None,
                          help="term catalogue YAML (default: PAPERATLAS_TERMS, else the built-in one)")
    mentions.add_argument("--evidence", action="store_true", help="add every match with its scope and snippet")
    mentions.add_argument("--jobs", type=int, default=None, help="worker processes (default: all cores)")

    ui = _command(
        sub, "ui", "the Dagster UI (dagster dev) on the same instance and store",
        "Starts `dagster dev` on the paperatlas definitions, with the Dagster instance under DAGSTER_HOME "
        "(default $PAPERATLAS_HOME/dagster) and the same store as the command line. Every other option goes "
        "to `dagster dev`: -p/--port, -h/--host, --log-level, ... (`dagster dev --help` lists them). "
        "Use --help for this text.",
        ["paperatlas ui", "paperatlas ui -p 3000 -h 127.0.0.1"], cmd_ui, add_help=False)
    ui.add_argument("--help", action="help", help="show this help and exit (-h is dagster dev's --host)")

    worker = _command(
        sub, "worker", "a Celery worker that runs steps for PAPERATLAS_EXECUTOR=celery",
        "Starts a dagster-celery worker on this machine. It takes steps from the broker "
        "(PAPERATLAS_CELERY_BROKER), writes to the shared store (PAPERATLAS_STORE=delta, PAPERATLAS_STORE_URI) "
        "and files (PAPERATLAS_FILES), and records events in the Dagster instance that DAGSTER_HOME's "
        "dagster.yaml names (PostgreSQL for several machines; run `dagster instance migrate` once first). "
        "docs/deployment.md has the worked example.",
        ["PAPERATLAS_EXECUTOR=celery paperatlas worker --name w1@%h",
         "PAPERATLAS_EXECUTOR=celery paperatlas worker --concurrency 2"], cmd_worker)
    worker.add_argument("--name", help="the worker's name, e.g. w1@%%h (default: dagster-<unique>@<host>)")
    worker.add_argument("--concurrency", type=int, default=1,
                        help="steps at once on this worker (default 1: PDF steps use every core themselves)")
    worker.add_argument("--loglevel", default="INFO", help="Celery's log level (default INFO)")
    return parser


def _os_problem(exc: OSError, settings: Settings) -> str:
    """One line for an error of the file system: the file, the cause and the fix."""
    where = exc.filename or settings.home
    cause = exc.strerror or str(exc)
    if exc.errno == errno.ENOSPC:
        return f"{where}: {cause}; free disk space and run again (what was written before is kept)"
    if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return (f"{where}: {cause}; this command writes there. Set PAPERATLAS_HOME (and DAGSTER_HOME) to a "
                "writable folder; reading commands (report, errors, papers, explain, trend, diff) work read-only")
    if exc.errno == errno.ENAMETOOLONG:
        return f"{where}: {cause}; use a shorter name"
    if exc.errno in (errno.EEXIST, errno.ENOTDIR):
        return f"{where}: {cause}: a file is where a folder is needed; give another path"
    return f"{where}: {cause}"


def main(argv: list[str] | None = None) -> int:
    STARTED[0] = time.monotonic()
    parser = build_parser()
    if not (sys.argv[1:] if argv is None else argv):  # a bare `paperatlas`: the commands, not an error
        parser.print_help()
        return 2
    # `ui` hands what it does not know to `dagster dev` (-p 3000, -h 127.0.0.1); elsewhere an
    # unknown argument is an error, as argparse says it.
    args, extra = parser.parse_known_args(argv)
    if extra and args.command != "ui":
        parser.parse_args(argv)  # exits with argparse's own message about the unknown argument
    args.dagster_args = [a for a in extra if a != "--"] if args.command == "ui" else []
    try:
        settings = load_settings()
    except ValueError as exc:  # a setting with a value it cannot take, e.g. PAPERATLAS_PLACEMENT=head
        print(f"paperatlas: {exc}", file=sys.stderr)
        return 2
    try:
        return args.func(args, settings)
    except CliError as exc:
        print(f"paperatlas: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # e.g. `paperatlas resolve | head`
        return 0
    except KeyboardInterrupt:
        print("paperatlas: interrupted; what was written is kept (each venue-year is replaced whole), "
              "run the command again to finish", file=sys.stderr)
        return 130
    except OSError as exc:
        print(f"paperatlas: {_os_problem(exc, settings)}", file=sys.stderr)
        return 2
    except Exception as exc:  # the store, Dagster's own storage, or a bug: one line, never a traceback
        print(f"paperatlas: {_unexpected(exc, settings)}", file=sys.stderr)
        return 2


def _unexpected(exc: Exception, settings: Settings) -> str:
    """One line for an error no command handled: the store, Dagster's storage, or a bug."""
    from .pipeline.models import root_cause, root_error
    from .pipeline.store import StoreError

    if isinstance(exc, StoreError):
        return str(exc)
    root = root_cause(exc)
    if isinstance(root, OSError):
        return _os_problem(root, settings)
    text = root_error(exc)
    module = type(exc).__module__ or ""
    if module.startswith(("sqlalchemy", "sqlite3")) or "sqlite" in text.lower() or "disk I/O" in text:
        return (f"the Dagster instance under {settings.dagster_home} cannot be used ({text}); free disk space, "
                "or set DAGSTER_HOME to a writable folder")
    if module.startswith(("duckdb", "_duckdb")):
        return f"{settings.database}: the store failed ({text}); free disk space, or move the file aside and re-run"
    return f"unexpected error: {text} (please report it with the command you ran)"


if __name__ == "__main__":
    sys.exit(main())
