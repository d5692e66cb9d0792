"""PDFs through the whole asset graph: download, read page 1, reconcile, resolve, count.

A labelled PDF folder (`truth.jsonl` beside the PDFs, as in ../shared/data/pdf-corpus) is
served over HTTP on 127.0.0.1 and described in a paperlists-format file whose records give
titles, author names and PDF links but no affiliations, so every country has to come from
the PDFs. Then, in a fresh $PAPERATLAS_HOME:

1. `venue_year_job` on that venue-year with downloads on (no per-host pause: the server is
   local): download time, first-page reading speed (PDFs/s on all cores), and the share of
   papers whose country set equals the label's (HK/MO/TW folded into CN, as the labels do);
2. the same job again: how many requests reached the server (stored PDFs are not fetched
   again) and whether every number is the same;
3. the folder as a local venue-year (`paperatlas add-folder`): the same figures, no network;
4. with `--paperlists DIR` (default ../shared/data/paperlists), the labelled papers found
   there by id, now with the metadata's own author names and affiliation strings: country
   sets exact from the metadata alone (PDFs off) against metadata reconciled with page 1,
   and how many of the page's authors were matched to a metadata author by name. Only
   fields the pipeline always reads go in (title, authors, affiliations, e-mail domains).

    python benchmarks/pdf_pipeline.py [--corpus DIR] [--ror ZIP|none]
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import sys
import tempfile
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from pdf_extraction import SHARED, code  # noqa: E402


class _Handler(SimpleHTTPRequestHandler):
    requests = 0
    lock = threading.Lock()

    def do_GET(self):  # noqa: N802 - http.server's name
        with _Handler.lock:
            _Handler.requests += 1
        super().do_GET()

    def log_message(self, *args):
        pass


def serve(folder: Path) -> tuple[ThreadingHTTPServer, str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Handler, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def step_seconds(instance, run_id: str) -> dict[str, float]:
    started, took = {}, {}
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        if event is None:
            continue
        if event.event_type_value == "STEP_START":
            started[entry.step_key] = entry.timestamp
        elif event.event_type_value == "STEP_SUCCESS":
            took[entry.step_key] = entry.timestamp - started.get(entry.step_key, entry.timestamp)
    return took


def materialisation(result, asset: str) -> dict:
    for event in result.get_asset_materialization_events():
        m = event.step_materialization_data.materialization
        if m.asset_key.to_user_string() == asset:
            return {k: getattr(v, "value", v) for k, v in m.metadata.items()}
    return {}


def compare(store, key: str, truth: dict[str, set[str]]) -> tuple[int, int, list[str]]:
    pc = store.read_partition("paper_countries", key)
    got: dict[str, set[str]] = {pid: set() for pid in truth}
    for pid, country in pc[["paper_id", "country"]].itertuples(index=False):
        got.setdefault(pid, set()).add(code(country))
    misses = [f"{pid}: got {sorted(got[pid])}, label {sorted(want)}" for pid, want in truth.items() if got[pid] != want]
    return len(truth) - len(misses), len(truth), misses


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=SHARED / "pdf-corpus")
    parser.add_argument("--ror", default=str(SHARED / "ror" / "ror-partial-v2.zip"))
    parser.add_argument("--show", type=int, default=5, help="misses to print")
    parser.add_argument("--paperlists", type=Path, default=SHARED / "paperlists")
    args = parser.parse_args()
    truth_file = args.corpus / "truth.jsonl"
    if not truth_file.is_file():
        print(f"no {truth_file}; nothing to measure", file=sys.stderr)
        return 2
    labels = [json.loads(line) for line in truth_file.read_text().splitlines() if line.strip()]
    truth = {Path(r["file"]).stem: {code(c) for a in r["authors"] for c in a.get("countries") or []} for r in labels}

    work = Path(tempfile.mkdtemp(prefix="paperatlas-bench-"))
    server, base = serve(args.corpus)
    lists = work / "lists"
    lists.mkdir()
    records = [{"id": Path(r["file"]).stem, "title": r.get("title") or Path(r["file"]).stem, "status": "Poster",
                "author": "; ".join(a["name"] for a in r["authors"]), "pdf": f"{base}/{r['file']}"} for r in labels]
    (lists / "bench2025.json").write_text(json.dumps(records))
    os.environ.update({
        "PAPERATLAS_HOME": str(work / "home"), "DAGSTER_HOME": str(work / "home" / "dagster"),
        "PAPERATLAS_PAPERLISTS_BASE": str(lists), "PAPERATLAS_ROR_DUMP": args.ror, "PAPERATLAS_PDFS": "download",
        "PAPERATLAS_PDF_RATE": "0", "PAPERATLAS_PDF_CONCURRENCY": "8",
    })
    from dagster import DagsterInstance

    from paperatlas.definitions import build_definitions
    from paperatlas.pipeline.config import load_settings
    from paperatlas.pipeline.store import Warehouse

    settings = load_settings()
    defs = build_definitions(settings)
    instance = DagsterInstance.ephemeral()
    t0 = time.monotonic()
    assert defs.resolve_job_def("reference_job").execute_in_process(instance=instance).success
    print(f"reference data (ROR index) {time.monotonic() - t0:.1f}s; {os.cpu_count()} cores")
    store = Warehouse(settings.database)
    job = defs.resolve_job_def("venue_year_job")

    def run(key: str, label: str, truth=truth, job=job):
        instance.add_dynamic_partitions("venue_year", [key])
        before = _Handler.requests
        t = time.monotonic()
        result = job.execute_in_process(partition_key=key, instance=instance, raise_on_error=False)
        took = time.monotonic() - t
        steps = step_seconds(instance, result.run_id)
        pdf = materialisation(result, "pdf_affiliations")
        exact, n, misses = compare(store, key, truth)
        counts = store.query(
            "SELECT count(*) FILTER (WHERE counted AND source = 'pdf') AS pdf_rows, "
            "count(DISTINCT paper_id) FILTER (WHERE counted AND source = 'pdf') AS pdf_papers "
            "FROM author_affiliations WHERE partition_key = ?", [key]).iloc[0]
        print(f"\n{label} ({key}): run {'ok' if result.success else 'FAILED'} in {took:.1f}s; "
              f"{_Handler.requests - before} HTTP requests")
        print(f"  paper_pdfs {steps.get('paper_pdfs', 0):.1f}s, pdf_affiliations {steps.get('pdf_affiliations', 0):.1f}s "
              f"({pdf.get('pdfs_read')}/{pdf.get('pdfs')} read, {pdf.get('pdfs_per_second')} PDFs/s in the reading), "
              f"author_affiliations {steps.get('author_affiliations', 0):.1f}s, "
              f"resolved_affiliations {steps.get('resolved_affiliations', 0):.1f}s")
        print(f"  papers counting PDF affiliations {counts['pdf_papers']}/{n}; "
              f"paper country sets exact {exact}/{n} = {exact / n:.1%}")
        for line in misses[: args.show]:
            print(f"    miss {line}")
        return store.read_partition("paper_countries", key).sort_values(["paper_id", "country"]).reset_index(drop=True)

    first = run("bench-2025", "1. downloaded")
    again = run("bench-2025", "2. run again")
    same = first.equals(again)
    print(f"  same paper_countries rows as the first run: {same}")
    from paperatlas.cli import main as cli

    cli(["add-folder", str(args.corpus), "corpuslocal-2025"])
    run("corpuslocal-2025", "3. local folder")

    if args.paperlists.is_dir():
        kept = ("id", "title", "status", "author", "aff", "aff_domain")
        sources: dict[str, dict[str, dict]] = {}
        meta = []
        for r in labels:
            name = r.get("source_file")
            path = args.paperlists / name if name else None
            if path is None or not path.is_file():
                continue
            if name not in sources:
                sources[name] = {str(x.get("id")): x for x in json.loads(path.read_text())}
            record = sources[name].get(str(r.get("paper_id")))
            if record:
                meta.append({**{k: record[k] for k in kept if k in record}, "id": Path(r["file"]).stem,
                             "status": "Poster", "pdf": f"{base}/{r['file']}"})
        (lists / "meta2025.json").write_text(json.dumps(meta))
        subset = {m["id"]: truth[m["id"]] for m in meta}
        import dataclasses

        off = build_definitions(dataclasses.replace(settings, pdf_mode="off")).resolve_job_def("venue_year_job")
        run("meta-2025", f"4a. {len(meta)} of them with paperlists metadata, PDFs off", subset, off)
        run("meta-2025", "4b. the same metadata reconciled with page 1", subset)
        stats = store.query(
            """SELECT count(DISTINCT paper_id || '/' || author_name) FILTER (WHERE source = 'pdf' AND author_name IS NOT NULL) AS pdf_authors,
                      count(DISTINCT paper_id || '/' || author_name) FILTER (WHERE source = 'pdf' AND decision = 'pdf-unmatched') AS unmatched,
                      count(DISTINCT paper_id || '/' || author_position) FILTER (WHERE decision = 'superseded') AS superseded
               FROM author_affiliations WHERE partition_key = 'meta-2025'""").iloc[0]
        decisions = store.query("SELECT decision, count(*) AS n FROM author_affiliations WHERE partition_key = 'meta-2025' "
                                "GROUP BY 1 ORDER BY 2 DESC")
        matched = stats["pdf_authors"] - stats["unmatched"]
        print(f"  page authors matched to a metadata author by name: {matched}/{stats['pdf_authors']} = "
              f"{matched / max(1, stats['pdf_authors']):.1%}; metadata authors whose rows the PDF superseded: "
              f"{stats['superseded']}")
        print("  rows by decision: " + ", ".join(f"{d} {n}" for d, n in decisions.itertuples(index=False)))
    server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
