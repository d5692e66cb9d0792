"""Mention detection on the shared pdf-corpus, and full-text scan speed.

    python benchmarks/mentions.py [--processes N]

Accuracy: every term the corpus generator inserted into a PDF's body (`mentions` in
truth.jsonl) must be found, and no decoy ("llama (the animal)", "power transformer station")
may be counted: no match may overlap a decoy phrase. Terms in the real titles and abstracts
(`source_text_mentions`) are reported apart.

Speed: the full pipeline per PDF (open, every page's text, sections, every term) over the
corpus and the multi-page real-pdfs, in a process pool, in pages per second.

Through Dagster (skip with --no-pipeline): both folders as local venue-years in a fresh
$PAPERATLAS_HOME, `venue_year_job` twice: `paper_mentions`' own figures (pages/s with the
pool, then texts from the cache), and the inserted mentions found in the paper_mentions table.

    python benchmarks/mentions.py [--processes N] [--rounds N] [--no-pipeline]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from collections import Counter
from pathlib import Path

from shared_data import SHARED  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from paperatlas.pipeline.mentions.catalogue import load_catalogue  # noqa: E402
from paperatlas.pipeline.mentions.runner import scan_paths  # noqa: E402

CORPUS = SHARED / "pdf-corpus"
REAL = SHARED / "real-pdfs"
# The corpus's spellings -> catalogue ids.
TRUTH_IDS = {"Transformer": "transformer", "Llama 2": "llama", "LLaMA": "llama", "Qwen2.5": "qwen",
             "GPT-4": "gpt", "PyTorch": "pytorch", "TensorFlow": "tensorflow", "JAX": "jax",
             "scikit-learn": "scikit-learn", "U-Net": "u-net", "CatBoost": "catboost", "XGBoost": "xgboost",
             "ResNet": "resnet", "BERT": "bert", "DeepSeek": "deepseek"}
DECOYS = {"llama (the animal)": ("llama", re.compile(r"llama\s+\(the\s+animal\)", re.I)),
          "power transformer station": ("transformer", re.compile(r"power\s+transformer\s+station", re.I))}


def accuracy(processes: int) -> None:
    truth = [json.loads(line) for line in open(CORPUS / "truth.jsonl")]
    results = scan_paths([CORPUS / t["file"] for t in truth], processes=processes, keep_text=True)
    inserted = found = 0
    missed: list[str] = []
    decoys = decoys_counted = 0
    false_ids: Counter = Counter()
    expected_any = 0
    for t, r in zip(truth, results):
        if r.error:
            print(f"  {t['file']}: {r.error}")
            continue
        ids = {m.term for m in r.scan.matches if m.scope != "references"}
        for term in t["mentions"]:
            inserted += 1
            if TRUTH_IDS[term] in ids:
                found += 1
            else:
                missed.append(f"{t['file']}: {term}")
        for decoy in t["decoys"]:
            term, pattern = DECOYS[decoy]
            for d in pattern.finditer(r.text.text):
                decoys += 1
                if any(m.term == term and m.start < d.end() and d.start() < m.end for m in r.scan.matches
                       if m.scope in ("body", "abstract")):
                    decoys_counted += 1
                    print(f"  decoy counted: {t['file']}: {decoy}")
        allowed = {TRUTH_IDS[x] for x in t["mentions"] + t["source_text_mentions"]}
        expected_any += len(allowed)
        for term in ids - allowed:
            false_ids[term] += 1
    print(f"pdf-corpus: {len(truth)} PDFs")
    print(f"  inserted mentions found: {found}/{inserted} = {100 * found / inserted:.2f}%")
    for m in missed[:20]:
        print(f"    missed {m}")
    print(f"  decoys counted: {decoys_counted} of {decoys} decoy phrases")
    print(f"  terms found beyond the inserted and source-text ones (other catalogue terms or errors): "
          f"{sum(false_ids.values())} {dict(false_ids.most_common())}")


def _timed(paths: list[Path], processes: int) -> tuple[int, float]:
    started = time.perf_counter()
    results = scan_paths(paths, processes=processes)
    return sum(r.pages for r in results), time.perf_counter() - started


def speed(processes: int, rounds: int) -> None:
    corpus = sorted(CORPUS.glob("*.pdf"))
    real = sorted(REAL.glob("*.pdf"))
    scan_paths(corpus[:4], processes=1)  # page cache warm
    # A venue-year is thousands of PDFs: the pool starts once and is busy for minutes. The
    # corpus and the real PDFs are scanned `rounds` times in one pool to come near that.
    pages, took = _timed((corpus + real) * rounds, processes)
    print(f"speed: {len(corpus + real) * rounds} PDFs ({rounds} x pdf-corpus and real-pdfs), {pages} pages in "
          f"{took:.2f}s with {processes} processes = {pages / took:.0f} pages/s "
          f"(whole scan: open, every page's text, sections, every term; pool start included)")
    pages, took = _timed(real * rounds, processes)
    print(f"  real-pdfs only (multi-page papers): {pages} pages in {took:.2f}s = {pages / took:.0f} pages/s")
    pages, took = _timed(corpus * rounds, processes)
    print(f"  pdf-corpus only (two-page PDFs, page 1 costs most): {pages} pages in {took:.2f}s = {pages / took:.0f} pages/s")
    pages, took = _timed(real, 1)
    print(f"  one process, real-pdfs once: {pages} pages in {took:.2f}s = {pages / took:.0f} pages/s")


def pipeline(processes: int) -> None:
    import tempfile

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from pdf_pipeline import materialisation, step_seconds

    with tempfile.TemporaryDirectory(prefix="paperatlas-mentions-") as tmp:
        home = Path(tmp) / "home"
        (home / "local").mkdir(parents=True)
        (home / "local" / "corpus-2024").symlink_to(CORPUS)
        (home / "local" / "real-2024").symlink_to(REAL)
        os.environ.update({
            "PAPERATLAS_HOME": str(home), "DAGSTER_HOME": str(home / "dagster"), "PAPERATLAS_PDFS": "cached",
            "PAPERATLAS_ROR_DUMP": str(SHARED / "ror" / "ror-partial-v2.zip"),
        })
        from dagster import DagsterInstance

        from paperatlas.definitions import build_definitions
        from paperatlas.pipeline.config import load_settings
        from paperatlas.pipeline.store import Warehouse

        settings = load_settings()
        defs = build_definitions(settings)
        instance = DagsterInstance.ephemeral()
        for job in ("reference_job", "terms_job"):
            assert defs.resolve_job_def(job).execute_in_process(instance=instance).success
        instance.add_dynamic_partitions("venue_year", ["corpus-2024", "real-2024"])
        job = defs.resolve_job_def("venue_year_job")
        print(f"through Dagster ({processes} processes):")
        for key in ("corpus-2024", "real-2024"):
            for label in ("first run", "second run"):
                result = job.execute_in_process(partition_key=key, instance=instance)
                meta = materialisation(result, "paper_mentions")
                took = step_seconds(instance, result.run_id).get("paper_mentions", 0.0)
                print(f"  {key} {label}: {meta['pages']} pages, {meta['papers_with_full_text']} texts "
                      f"({meta['texts_from_cache']} from the cache), scan {meta['seconds']}s = "
                      f"{meta['pages_per_second']} pages/s; the paper_mentions step {took:.1f}s")
        store = Warehouse(settings.database)
        found = store.query(
            "SELECT paper_id, list(DISTINCT term) AS terms FROM paper_mentions WHERE partition_key = 'corpus-2024' "
            "AND scope <> 'references' GROUP BY paper_id")
        ids = {p: set(t) for p, t in found.itertuples(index=False)}
        truth = [json.loads(line) for line in open(CORPUS / "truth.jsonl")]
        inserted = sum(len(t["mentions"]) for t in truth)
        hit = sum(TRUTH_IDS[m] in ids.get(Path(t["file"]).stem, set()) for t in truth for m in t["mentions"])
        print(f"  corpus-2024 inserted mentions in paper_mentions: {hit}/{inserted} = {100 * hit / inserted:.2f}%")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--rounds", type=int, default=3, help="how many times the speed test reads each PDF")
    parser.add_argument("--no-pipeline", action="store_true", help="skip the run through Dagster")
    args = parser.parse_args()
    if not CORPUS.exists():
        print(f"no shared data at {SHARED}", file=sys.stderr)
        return 2
    print(f"catalogue: {len(load_catalogue().terms)} terms")
    accuracy(args.processes)
    speed(args.processes, args.rounds)
    if not args.no_pipeline:
        pipeline(args.processes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
