"""The `paperatlas` command.

    paperatlas run VENUE-YEAR [...]        materialise every asset of those venue-years (through Dagster)
    paperatlas add-folder FOLDER VENUE-YEAR  a folder of PDFs becomes a venue-year
    paperatlas report VENUE-YEAR [--out DIR]  the headline; DIR gets report, charts, review sample
    paperatlas diff VENUE-YEAR             which papers entered or left each number since the last run
    paperatlas trend VENUE                 US-CN papers, interval, shares and partners per materialised year
    paperatlas papers VENUE-YEAR           one row per paper: countries, uncertainty, every author's evidence
    paperatlas explain VENUE-YEAR PAPER    why one paper counts where it does, and what would move it
    paperatlas review import VENUE-YEAR CSV  store the verdicts review.html downloads
    paperatlas resolve                     affiliation JSON lines in, resolved JSON lines out
    paperatlas extract-pdf PATH [...]      authors, affiliations, e-mails off PDFs' first pages
    paperatlas mentions PATH [...]         models, architectures and libraries named in PDFs' text
    paperatlas partitions [list|add|catalogue]
    paperatlas errors [VENUE-YEAR]         what could not be read, and why
    paperatlas ui                          the Dagster UI on the same instance and store
"""

from __future__ import annotations

import argparse
import dataclasses
import errno
import json
import os
import sys
import time
from pathlib import Path
from typing import TextIO

from .config import Settings, load_settings
from .countries.decision import PLACEMENTS
from .partitions import PartitionKeyError, parse_partition_key

DAGSTER_YAML = """# Written by paperatlas. Runs started by `paperatlas run` and by `paperatlas ui` share this instance.
telemetry:
  enabled: false
"""


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


def _open(path: str | None, mode: str, default: TextIO) -> TextIO:
    if path in (None, "-"):
        return default
    return open(path, mode, encoding="utf-8")


# pandas and DuckDB load only for the commands that use them: `resolve` starts in a
# fraction of a second.
CHINA_SCOPES = ("cn", "cn+hk+mo", "greater")  # pipeline.countries.counting.CHINA_SCOPES (a test keeps them equal)



def _open_store(database, read_only: bool = False):
    """The store (imported on first use: the command starts faster without DuckDB)."""
    from .store import Warehouse

    return Warehouse(database, read_only=read_only)


def _warehouse(settings: Settings, write: bool = False):
    """The existing store; opened read-only (no lock file, nothing written) unless `write`."""
    if not settings.database.exists():
        raise CliError(f"no paperatlas store at {settings.database}; run `paperatlas run VENUE-YEAR` first")
    return _open_store(settings.database, read_only=not write)


# -- run -----------------------------------------------------------------------------------


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    from dagster import AssetCheckSeverity

    from assets.automation import add_venue_years

    from .definitions import build_definitions, failure_reason

    keys = _keys(args.partitions)
    if args.pdfs:
        settings = dataclasses.replace(settings, pdf_mode=args.pdfs)
    if args.placement:
        settings = dataclasses.replace(settings, placement=args.placement)
    with _open_store(settings.database).connect():
        pass  # the store opens (or is created) here, so a broken one is one line before any step runs
    instance = _instance(settings)
    defs = build_definitions(settings)
    _ensure_reference(settings, defs, instance, force=args.refresh_ror)
    add_venue_years(instance, keys)
    job = defs.resolve_job_def("venue_year_job")
    run_config = {"loggers": {"progress": {}}}
    if args.refresh:
        run_config["ops"] = {"raw_papers": {"config": {"refresh": True}}}
    failed: list[tuple[str, str]] = []
    checks_failed: list[str] = []
    warnings: list[str] = []
    started = time.monotonic()
    for n, key in enumerate(keys, start=1):
        print(f"[{n}/{len(keys)}] {key}", file=sys.stderr, flush=True)
        result = job.execute_in_process(
            partition_key=key, instance=instance, run_config=run_config, raise_on_error=False,
            tags={"paperatlas/trigger": "cli"},
        )
        if not result.success:
            reasons = [failure_reason(e) for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
            failed.append((key, "; ".join(reasons) or "run failed"))
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
        result = defs.resolve_job_def("aggregates_job").execute_in_process(
            instance=instance, run_config={"loggers": {"progress": {}}}, raise_on_error=False,
            tags={"paperatlas/trigger": "cli"},
        )
        if not result.success:
            failed.append(("yearly_aggregates", "run failed; see `paperatlas ui`"))
    took = time.monotonic() - started
    done = [k for k in keys if k not in {f[0] for f in failed}]
    print(f"materialised {len(done)}/{len(keys)} venue-years in {took:.1f}s into {settings.database}")
    for key, reason in failed:
        print(f"FAILED {key}: {reason}", file=sys.stderr)
    for check in checks_failed:
        print(f"CHECK FAILED {check}", file=sys.stderr)
    for check in warnings:
        print(f"CHECK WARNING {check}", file=sys.stderr)
    return 1 if failed or checks_failed else 0


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
    from .affiliations.reference import locate_dump, overrides_digest
    from .affiliations.ror import RorDumpError, file_sha256
    from .http import FetchError

    needed = force
    stored_checksum = stored_digest = None
    if settings.database.exists():
        store = _open_store(settings.database)
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
        reason = f"{name}: {failure_reason(event)} ({REFERENCE_HINTS.get(name, 'see `paperatlas errors reference`')})"
        if instance.get_latest_materialization_event(AssetKey(name)) is None:
            stopping.append(reason)
        else:
            print(f"paperatlas: warning: could not load {reason}; going on with the last good {name} in the "
                  "store", file=sys.stderr, flush=True)
    if stopping:
        raise CliError("could not load the reference data: " + "; ".join(stopping))


def _ensure_terms(settings: Settings, defs, instance, force: bool = False) -> None:
    """Materialise `term_catalogue` when the store lacks it or the catalogue file changed."""
    from .affiliations.reference import overrides_digest
    from .mentions.catalogue import DEFAULT_CATALOGUE

    path = settings.terms_file or DEFAULT_CATALOGUE
    stored = None
    if settings.database.exists():
        rows = _open_store(settings.database).query("SELECT DISTINCT catalogue_sha256 FROM terms")
        stored = rows["catalogue_sha256"].iloc[0] if len(rows) == 1 else None
    if not force and stored is not None and stored == overrides_digest(path):
        return
    print("[reference] term_catalogue", file=sys.stderr, flush=True)
    _run_reference(defs, instance, "terms_job")


# -- report --------------------------------------------------------------------------------


def _report(settings: Settings, args: argparse.Namespace):
    from .reports.report import ReportError, build_report

    key = _keys([args.partition])[0]
    store = _warehouse(settings)
    try:
        return build_report(store, key, args.china_scope, top=args.top, seed=args.seed, sample_size=args.sample,
                            threshold=args.min_confidence, placement=_placement(args, settings))
    except ReportError as exc:
        raise CliError(str(exc)) from exc


def cmd_report(args: argparse.Namespace, settings: Settings) -> int:
    from .reports.report import (
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
    report = _report(settings, args)
    if fmt == "json":
        print(json.dumps(report_json(report), ensure_ascii=False))
    elif fmt == "md":
        print(render_markdown(report))
    elif fmt == "html":
        print(render_html(report))
    else:
        print(format_text(report))
    if args.out:
        try:
            paths = write_report(report, args.out, on_kept=lambda kept: print(kept_message(args.out, kept),
                                                                               file=sys.stderr))
        except ReportError as exc:
            raise CliError(str(exc)) from exc
        print(f"report written to {paths['report.html'].parent} (report.md, report.html, report.json, charts/, "
              f"review.csv, review.html, low_confidence.csv, tables/)", file=sys.stderr)
    return 0


def cmd_diff(args: argparse.Namespace, settings: Settings) -> int:
    """Which papers entered or left each headline number between two materialisations."""
    from .reports.diff import diff, diff_rows, format_diff, views_from_snapshot

    key = _keys([args.partition])[0]
    store = _warehouse(settings)
    runs = store.query("SELECT snapshot, taken_at, run_id, papers, inputs FROM headline_snapshot_runs "
                       "WHERE partition_key = ? ORDER BY snapshot", [key])
    if args.list:
        for row in runs.itertuples(index=False):
            print(f"{row.snapshot}\t{row.taken_at:%Y-%m-%d %H:%M:%S}\t{row.papers} papers\trun {row.run_id}")
        print(f"{len(runs)} snapshots of {key}", file=sys.stderr)
        return 0
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
        print(json.dumps({"partition": key, "from": old, "to": new, "inputs_changed": changed_inputs,
                          **result, "rows": diff_rows(result)}, ensure_ascii=False, default=str))
        return 0
    print(format_diff(result, f"{key} snapshot {old}", f"snapshot {new}", limit=args.limit))
    for name, (a, b) in changed_inputs.items():
        print(f"  input {name}: {a} -> {b}")
    return 0


def cmd_trend(args: argparse.Namespace, settings: Settings) -> int:
    """One row per materialised year of a venue: US-CN papers with their interval and share,
    the international share and the top partners, under a placement and China scope."""
    from .reports import charts
    from .reports.trend import TrendError, chart_frame, format_text, trend_rows

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
    from .reports.report import load_views

    store = _warehouse(settings)
    if not len(store.query("SELECT 1 FROM partition_summary WHERE partition_key = ?", [key])):
        raise CliError(f"{key} is not materialised yet; run `paperatlas run {key}` first")
    return load_views(store, key)


def cmd_papers(args: argparse.Namespace, settings: Settings) -> int:
    """One row per paper of a venue-year: countries under the placement and China scope,
    whether a headline number it is in depends on an uncertain row, and every author's evidence."""
    import csv

    from .reports.explain import flat, paper_record
    from .text import csv_safe

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
    from .reports.explain import explain_text, find

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
    from .models import IngestError

    message = reason if reason.startswith(str(path)) else f"{path}: {reason}"
    if settings.database.exists():
        _warehouse(settings, write=True).record_errors(key, "review import", [
            IngestError(key, "review import", str(path), message, "error")])
    raise CliError(message)


def cmd_review(args: argparse.Namespace, settings: Settings) -> int:
    """`review import`: store the verdicts of a CSV that review.html downloaded."""
    from .models import utcnow
    from .reports.review import VerdictError, evidence_digest, read_verdicts

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
    from .affiliations.resolver import default_resolver

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
    from .pdfs.extract import attribute, iter_pdf_paths, result_record, yields_nothing
    from .pdfs.steps import read_first_pages

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
    from .mentions.scan import DEFAULT_SCOPES, SCOPES

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
    from .mentions.catalogue import CatalogueError, load_catalogue
    from .mentions.runner import Task, iter_scans
    from .pdfs.extract import iter_pdf_paths

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
    from .affiliations.reference import build_resolver
    from .affiliations.resolver import OverridesError
    from .affiliations.ror import RorDumpError

    spec = args.ror if args.ror is not None else settings.ror_dump
    overrides = Path(args.overrides) if getattr(args, "overrides", None) else settings.overrides_file
    try:
        return build_resolver(spec, settings.cache_dir, overrides)
    except (RorDumpError, OverridesError, OSError) as exc:
        raise CliError(f"{exc} (use --ror PATH, or --ror none to resolve without the ROR registry)") from exc
    except Exception as exc:  # a download that failed after its retries
        if type(exc).__name__ in ("FetchError", "RetryableHTTPError", "ConnectionError"):
            raise CliError(f"could not download the ROR dump: {exc} (use --ror PATH or --ror none)") from exc
        raise


# -- partitions, errors, ui ------------------------------------------------------------------


def cmd_partitions(args: argparse.Namespace, settings: Settings) -> int:
    from assets.automation import add_venue_years
    from assets.partitions import VENUE_YEAR

    instance = _instance(settings)
    if args.action == "add":
        keys = _keys(args.keys)
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
    if settings.database.exists():
        done = set(_open_store(settings.database, read_only=True).partitions("partition_summary"))
    for key in sorted(known):
        print(f"{key}\t{'materialised' if key in done else '-'}")
    return 0


def cmd_add_folder(args: argparse.Namespace, settings: Settings) -> int:
    """Make a folder of PDFs a venue-year: a symlink under the local root, and the partition."""
    from assets.automation import add_venue_years

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


def _plan(settings: Settings):
    from .sources.plan import PlanError, load_plan

    try:
        return load_plan(settings.sources_file)
    except PlanError as exc:
        raise CliError(str(exc)) from exc


def cmd_sources(args: argparse.Namespace, settings: Settings) -> int:
    """The sources plan; for venue-years, what each source will read and what it gave last time."""
    from .sources import registry
    from .sources.collect import sources_for

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
    if settings.database.exists():
        reads = _open_store(settings.database, read_only=True).query(
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
    command = ["dagster", "dev", "-m", "pipeline.definitions", *args.dagster_args]
    print(f"DAGSTER_HOME={settings.dagster_home} PAPERATLAS_HOME={settings.home}", file=sys.stderr)
    os.environ["PAPERATLAS_HOME"] = str(settings.home)
    os.execvp(command[0], command)
    return 0  # pragma: no cover


# -- entry point -----------------------------------------------------------------------------


def _placement_option(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--placement", choices=list(PLACEMENTS), default=None,
                        help=f"hq: a multinational named without a place counts at its headquarters (as Paper "
                             f"Copilot, OpenAlex and Scopus); coauthors: where its co-authors are, if it has a lab "
                             f"there. Default: PAPERATLAS_PLACEMENT, else hq. Here: {what}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="paperatlas", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="materialise every asset of the given venue-years through Dagster")
    run.add_argument("partitions", nargs="+", metavar="VENUE-YEAR", help="e.g. neurips-2016 icml-2019")
    run.add_argument("--refresh", action="store_true", help="download the sources again instead of using the cache")
    run.add_argument("--no-aggregates", action="store_true", help="skip recomputing yearly_aggregates")
    run.add_argument("--refresh-ror", action="store_true",
                     help="reload the ROR registry and overrides even when they look unchanged")
    run.add_argument("--pdfs", choices=["download", "cached", "off"], default=None,
                     help="download PDFs, use only stored ones, or skip them (default: PAPERATLAS_PDFS, else download)")
    _placement_option(run, "the placement the stored paper_countries, edges and yearly tables use")
    run.set_defaults(func=cmd_run)

    folder = sub.add_parser("add-folder", help="make a folder of PDFs (optionally with papers.csv) a venue-year")
    folder.add_argument("folder", metavar="FOLDER")
    folder.add_argument("partition", metavar="VENUE-YEAR", help="e.g. mylab-2024")
    folder.set_defaults(func=cmd_add_folder)

    report = sub.add_parser("report", help="the headline figures of a venue-year; --out writes the full report")
    report.add_argument("partition", metavar="VENUE-YEAR")
    report.add_argument("--format", choices=["text", "md", "html", "json"], default="text",
                        help="what to print (default text; html embeds the charts)")
    report.add_argument("--json", action="store_true", help="same as --format json")
    report.add_argument("--out", metavar="DIR", default=None,
                        help="write report.md/html/json, charts, review sample and CSV/Parquet tables to DIR "
                             "(a new folder, or one an earlier report wrote: it is replaced whole)")
    report.add_argument("--china-scope", choices=list(CHINA_SCOPES), default="cn",
                        help="cn: mainland only (default); cn+hk+mo: fold Hong Kong and Macau; greater: also Taiwan")
    report.add_argument("--top", type=int, default=10, help="country pairs to list")
    report.add_argument("--seed", type=int, default=2026, help="seed of the review samples (default 2026)")
    report.add_argument("--sample", type=int, default=20, help="papers sampled per headline number (default 20)")
    report.add_argument("--min-confidence", type=float, default=0.85,
                        help="rows resolved below this confidence are low-confidence (default 0.85)")
    _placement_option(report, "the placement of the flat figures, tables and review sample (the headline "
                              "shows both)")
    report.set_defaults(func=cmd_report)

    diff = sub.add_parser("diff", help="which papers entered or left each headline number between two runs")
    diff.add_argument("partition", metavar="VENUE-YEAR")
    diff.add_argument("--from", dest="old", type=int, default=None, help="older snapshot (default: the one before --to)")
    diff.add_argument("--to", dest="new", type=int, default=None, help="newer snapshot (default: the latest)")
    diff.add_argument("--china-scope", choices=list(CHINA_SCOPES), default="cn")
    diff.add_argument("--json", action="store_true", help="one JSON object with every change")
    diff.add_argument("--limit", type=int, default=20, help="papers listed per number in text output")
    diff.add_argument("--list", action="store_true", help="list the stored snapshots and exit")
    _placement_option(diff, "the placement under which numbers are compared")
    diff.set_defaults(func=cmd_diff)

    trend = sub.add_parser(
        "trend", help="US-CN papers per materialised year of a venue, with interval, shares and partners",
        description="One row per materialised year of VENUE (or 'all': every venue, summed per year): papers, "
                    "US-CN co-authored papers with their (low-high) interval and share of all papers, the "
                    "international share and the top partners. Example: paperatlas trend neurips --from 2010 "
                    "--to 2018 --out neurips.png")
    trend.add_argument("venue", metavar="VENUE", help="e.g. neurips, or all")
    trend.add_argument("--from", dest="start", type=int, default=None, metavar="YEAR", help="first year (default: oldest)")
    trend.add_argument("--to", dest="end", type=int, default=None, metavar="YEAR", help="last year (default: newest)")
    trend.add_argument("--china-scope", choices=list(CHINA_SCOPES), default="cn",
                       help="cn: mainland only (default); cn+hk+mo: fold Hong Kong and Macau; greater: also Taiwan")
    trend.add_argument("--partners-of", default=",".join(("US", "CN")), metavar="CODES",
                       help="countries whose top partners to list (default US,CN)")
    trend.add_argument("--top", type=int, default=3, help="partners listed per country (default 3)")
    trend.add_argument("--json", action="store_true", help="print a JSON list of objects, one per year")
    trend.add_argument("--out", metavar="PNG", default=None, help="also write the US-CN share chart (with its "
                                                                   "interval shaded) to this PNG file")
    _placement_option(trend, "the placement of every figure in the rows")
    trend.set_defaults(func=cmd_trend)

    papers = sub.add_parser("papers", help="one row per paper: countries, uncertainty, every author's evidence")
    papers.add_argument("partition", metavar="VENUE-YEAR")
    _placement_option(papers, "where a multinational named without a place counts")
    papers.add_argument("--china-scope", choices=list(CHINA_SCOPES), default="cn")
    papers.add_argument("--format", choices=["csv", "jsonl"], default="csv")
    papers.add_argument("--output", default="-", help="output file, or - for stdout")
    papers.set_defaults(func=cmd_papers)

    explain = sub.add_parser("explain", help="why one paper counts where it does, and what would move it")
    explain.add_argument("partition", metavar="VENUE-YEAR")
    explain.add_argument("paper", nargs="+", metavar="PAPER", help="a paper id, or words of its title")
    _placement_option(explain, "where a multinational named without a place counts")
    explain.add_argument("--china-scope", choices=list(CHINA_SCOPES), default="cn")
    explain.set_defaults(func=cmd_explain)

    review = sub.add_parser("review", help="review verdicts: `review import VENUE-YEAR verdicts.csv`")
    review.add_argument("action", choices=["import"])
    review.add_argument("partition", metavar="VENUE-YEAR")
    review.add_argument("csv", metavar="CSV", help="the verdicts CSV review.html downloads")
    _placement_option(review, "placement of verdicts whose CSV does not say")
    review.set_defaults(func=cmd_review)

    resolve = sub.add_parser("resolve", help="resolve affiliation JSON lines to institutions and countries")
    resolve.add_argument("--input", default="-", help="JSON lines file, or - for stdin")
    resolve.add_argument("--output", default="-", help="output file, or - for stdout")
    resolve.add_argument("--ror", default=None,
                         help="ROR v2 dump (zip path or URL; 'none': no registry). Default: PAPERATLAS_ROR_DUMP, "
                              "else the newest dump on Zenodo")
    resolve.add_argument("--overrides", default=None, help="overrides YAML (default: PAPERATLAS_OVERRIDES)")
    resolve.set_defaults(func=cmd_resolve)

    pdf = sub.add_parser("extract-pdf", help="read authors, affiliations and e-mails off PDFs' first pages")
    pdf.add_argument("paths", nargs="+", metavar="PATH", help="PDF files or folders (searched recursively)")
    pdf.add_argument("--resolve", action="store_true", help="resolve affiliations to countries")
    pdf.add_argument("--ror", default=None, help="ROR v2 dump zip, URL, or 'none' (with --resolve; default: PAPERATLAS_ROR_DUMP)")
    pdf.add_argument("--overrides", default=None, help="overrides YAML (with --resolve; default: PAPERATLAS_OVERRIDES)")
    pdf.add_argument("--output", default="-", help="output file, or - for stdout")
    pdf.add_argument("--jobs", type=int, default=None, help="worker processes (default: all cores)")
    pdf.set_defaults(func=cmd_extract_pdf)

    mentions = sub.add_parser("mentions", help="count models, architectures and libraries named in PDFs' full text")
    mentions.add_argument("paths", nargs="+", metavar="PATH", help="PDF files or folders (searched recursively)")
    mentions.add_argument("--scope", default=None,
                          help="all, title, abstract, body or references, or several joined by commas "
                               "(default: title,abstract,body: everything but the references)")
    mentions.add_argument("--output", default="-", help="output file, or - for stdout")
    mentions.add_argument("--terms", default=None, help="term catalogue YAML (default: PAPERATLAS_TERMS, else the built-in one)")
    mentions.add_argument("--evidence", action="store_true", help="add every match with its scope and snippet")
    mentions.add_argument("--jobs", type=int, default=None, help="worker processes (default: all cores)")
    mentions.set_defaults(func=cmd_mentions)

    parts = sub.add_parser("partitions", help="list or add venue-year partitions")
    parts.add_argument("action", nargs="?", choices=["list", "add", "catalogue"], default="list",
                       help="list (default); add KEY...; catalogue: add every venue-year the catalogue knows")
    parts.add_argument("keys", nargs="*", metavar="VENUE-YEAR")
    parts.set_defaults(func=cmd_partitions)

    errors = sub.add_parser("errors", help="list items that could not be read, and why")
    errors.add_argument("partition", nargs="?", metavar="VENUE-YEAR")
    errors.set_defaults(func=cmd_errors)

    sources = sub.add_parser("sources", help="which sources feed each venue-year, and what they gave last time")
    sources.add_argument("keys", nargs="*", metavar="VENUE-YEAR")
    sources.set_defaults(func=cmd_sources)

    ui = sub.add_parser("ui", help="start the Dagster UI (dagster dev) on the paperatlas instance")
    ui.add_argument("dagster_args", nargs=argparse.REMAINDER, help="passed to `dagster dev`, e.g. -p 3000")
    ui.set_defaults(func=cmd_ui)
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
    parser = build_parser()
    args = parser.parse_args(argv)
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
    from .models import root_cause, root_error
    from .store import StoreError

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
