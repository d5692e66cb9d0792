"""The yearly tables over a large store: wall time and peak memory of `yearly_aggregates`.

    python benchmarks/yearly_scale.py [--papers 1000000] [--dagster] [--profiles] [--home DIR] [--runs N]
                                      [--store delta [--moto]]

Builds a DuckDB store (`pipeline.store.Warehouse`) in a temporary PAPERATLAS_HOME with
synthetic rows shaped like a real run's, then times the step (and, with `--dagster`, the
`aggregates_job` through Dagster), each in a fresh process, so peak memory (maximum RSS) is
the step's own plus the imports'. The processes run in the home, so `PYTHONPATH=DIR` (a
`paperatlas` package laid out as installed) times another version of the code on the same store.

The synthetic store, for `--papers` N:

- one venue split by month, `airesearch-<year>-m01` ... `-m12` for 2015-2025 (132 sub-partitions,
  each with `venue` airesearch and its year; `--no-months`: one `airesearch-<year>` a year),
  holding 70% of the papers, with more papers in later years; and 14 conference venue-years
  (`neurips-2019..2025`, `icml-2019..2025`);
- 88% of the papers have a country; of those, 1, 2, 3 or 4 countries (62%, 28%, 8%, 2%), drawn
  by a skewed weight (US, CN, GB, DE, ...); 1-5 authors per country, `fractional` the country's
  share of the authors (rounded to 12 places, as the countries stage stores it), `n_countries`;
- `country_edges`: every pair of a paper's countries, `fractional` the two shares added;
- `partition_summary`: one row per partition, counted from the rows above;
- `headline_numbers`: every number of `pipeline.reports.headlines.NUMBERS` under every
  placement and China scope per partition, with plausible counts, intervals and unplaced.

With `--profiles`, the store also holds `raw_papers` (every paper, ids and venue-year only) and
`country_decisions` (one row per author: the country of the paper the author is counted in,
under both placements), and the script times what `paperatlas country CN`, `paperatlas ranking`
and `paperatlas trend airesearch` compute from them (`profiles.year_sets`, `country_profile`,
`ranking`; `trend.trend_rows`).

`--home DIR` reuses (or builds once into) DIR, so a second run times the same store.

`--store delta` builds the Delta store instead (a folder in the home; with `--moto`, on a moto S3
server this script starts, `s3://bench/paperatlas`), each table written one commit per partition
as the workers write it, and gives moto's CPU seconds during each timed step (`server_cpu`).
`--maintain` runs `paperatlas maintain` (compaction and a checkpoint) after the build.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import psutil
import pyarrow as pa
import pyarrow.compute as compute
from moto_s3 import start_moto
from openalex_scale import store_size

COUNTRIES = ["US", "CN", "GB", "DE", "CA", "FR", "KR", "JP", "CH", "SG", "AU", "IN", "HK", "IL", "NL", "IT",
             "TW", "ES", "SE", "AT", "DK", "BE", "FI", "PL", "BR", "IR", "RU", "SA", "AE", "CZ", "PT", "NO",
             "IE", "GR", "TR", "MX", "NZ", "VN", "MO", "ZA"]
WEIGHTS = np.array([30, 22, 6, 6, 4, 3.5, 3.5, 3, 2.5, 2.5, 2.5, 2.5, 1.8, 1.6, 1.5, 1.4, 1.0, 1.0, 0.8, 0.7,
                    0.6, 0.6, 0.5, 0.5, 0.5, 0.4, 0.4, 0.4, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.2, 0.2, 0.2, 0.2,
                    0.1, 0.1])
N_COUNTRIES = ([1, 2, 3, 4], [0.62, 0.28, 0.08, 0.02])
YEARS = range(2015, 2026)

# The process' own peak resident memory: VmHWM starts again at exec, where ru_maxrss keeps the
# parent's (this script's, holding the synthetic tables while it builds the store).
PEAK = """def peak_mb():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM")) / 1024
"""

STEP = r"""
import json, sys, time
PEAK
t0 = time.perf_counter()
from paperatlas.pipeline.config import load_settings
from paperatlas.pipeline.reports import steps
from paperatlas.pipeline.store import open_store
store = open_store(load_settings())
t = time.perf_counter()
outcome = steps.yearly_aggregates(store, "hq", lambda line: None)
seconds = time.perf_counter() - t
rows = {k[5:]: v for k, v in outcome.metadata.items() if k.startswith("rows_")}
print(json.dumps({"seconds": seconds, "import_seconds": t - t0, "rows": rows,
                  "peak_mb": peak_mb()}))
"""

PROFILES = r"""
import json, time
PEAK
from paperatlas.pipeline.config import load_settings
from paperatlas.pipeline.reports import profiles, trend
from paperatlas.pipeline.store import open_store
store = open_store(load_settings(), read_only=True)
keys = store.partitions("partition_summary")
t = time.perf_counter()
sets = profiles.year_sets(store, keys, "hq", "cn")
cn = profiles.country_profile(sets, "CN", 5, 25)
top = profiles.ranking(sets, top=10)
profile = time.perf_counter() - t
t = time.perf_counter()
rows = trend.trend_rows(store, "airesearch")
print(json.dumps({"profile_seconds": profile, "trend_seconds": time.perf_counter() - t,
                  "papers": sum(len(v) for v in sets.values()), "top": [r["country"] for r in top[:5]],
                  "trend_years": len(rows), "peak_mb": peak_mb()}))
"""

DAGSTER = r"""
import json, time
PEAK
from paperatlas.cli.execution import instance as _instance
from paperatlas.definitions import build_definitions
from paperatlas.pipeline.config import load_settings
settings = load_settings()
instance = _instance(settings)
job = build_definitions(settings).resolve_job_def("aggregates_job")
t = time.perf_counter()
ok = job.execute_in_process(instance=instance, raise_on_error=False).success
print(json.dumps({"ok": ok, "seconds": time.perf_counter() - t,
                  "peak_mb": peak_mb()}))
"""


def partitions(papers: int, rng: np.random.Generator, months: bool = True) -> list[tuple[str, str, int, int]]:
    """(partition_key, venue, year, papers) of every partition, `papers` in all (without
    `months`, airesearch as one `airesearch-<year>` per year)."""
    keys = ([(f"airesearch-{y}-m{m:02d}", "airesearch", y) for y in YEARS for m in range(1, 13)] if months
            else [(f"airesearch-{y}", "airesearch", y) for y in YEARS])
    keys += [(f"{v}-{y}", v, y) for v in ("neurips", "icml") for y in range(2019, 2026)]
    growth = np.array([1.25 ** (y - 2015) for _, _, y in keys])
    own = np.array([v == "airesearch" for _, v, _ in keys])
    weight = np.where(own, 0.70 * growth / growth[own].sum(), 0.30 * growth / growth[~own].sum())
    counts = rng.multinomial(papers, weight / weight.sum())
    return [(k, v, y, int(n)) for (k, v, y), n in zip(keys, counts)]


def country_rows(parts, rng: np.random.Generator) -> tuple[pa.Table, pa.Table, pa.Table]:
    """paper_countries, country_edges and partition_summary as Arrow tables."""
    p = WEIGHTS / WEIGHTS.sum()
    pc_cols = {c: [] for c in ("partition_key", "venue", "year", "paper_id", "country", "authors", "fractional",
                               "n_countries")}
    edge_cols = {c: [] for c in ("partition_key", "venue", "year", "paper_id", "country_a", "country_b",
                                 "fractional")}
    summary = []
    codes = np.array(COUNTRIES)
    for key, venue, year, n in parts:
        ids = np.array([f"p{i:06d}" for i in range(n)])
        placed = rng.random(n) < 0.88
        k = rng.choice(N_COUNTRIES[0], size=n, p=N_COUNTRIES[1])
        k[~placed] = 0
        # k countries without replacement, by weight: the k largest of log(w) + Gumbel noise
        keys = np.log(p)[None, :] + rng.gumbel(size=(n, len(COUNTRIES)))
        order = np.argsort(-keys, axis=1)[:, :4]
        authors = rng.integers(1, 6, size=(n, 4))
        mask = np.arange(4)[None, :] < k[:, None]
        authors = np.where(mask, authors, 0)
        total = authors.sum(axis=1, keepdims=True)
        share = np.round(np.divide(authors, total, out=np.zeros(authors.shape), where=total > 0), 12)
        row, col = np.nonzero(mask)
        country = order[row, col]
        pc_cols["partition_key"].append(np.full(len(row), key))
        pc_cols["venue"].append(np.full(len(row), venue))
        pc_cols["year"].append(np.full(len(row), year, dtype=np.int32))
        pc_cols["paper_id"].append(ids[row])
        pc_cols["country"].append(codes[country])
        pc_cols["authors"].append(authors[row, col].astype(np.int32))
        pc_cols["fractional"].append(share[row, col])
        pc_cols["n_countries"].append(k[row].astype(np.int32))
        for i in range(4):
            for j in range(i + 1, 4):
                both = k > j
                a, b = order[both, i], order[both, j]
                names_a, names_b = codes[np.minimum(a, b)], codes[np.maximum(a, b)]
                swap = names_a > names_b  # the store's pairs are (smaller code, larger code)
                first, second = np.where(swap, names_b, names_a), np.where(swap, names_a, names_b)
                edge_cols["partition_key"].append(np.full(both.sum(), key))
                edge_cols["venue"].append(np.full(both.sum(), venue))
                edge_cols["year"].append(np.full(both.sum(), year, dtype=np.int32))
                edge_cols["paper_id"].append(ids[both])
                edge_cols["country_a"].append(first)
                edge_cols["country_b"].append(second)
                edge_cols["fractional"].append(np.round(share[both, i] + share[both, j], 12))
        summary.append({"partition_key": key, "venue": venue, "year": year, "papers": n,
                        "papers_with_country": int(placed.sum()), "international_papers": int((k > 1).sum()),
                        "authors": int(authors.sum()), "affiliation_rows": int(authors.sum()),
                        "resolved_rows": int(authors.sum() * 0.9)})

    def table(cols):
        return pa.table({name: np.concatenate(parts_) for name, parts_ in cols.items()})

    return table(pc_cols), table(edge_cols), pa.Table.from_pylist(summary)


def decision_rows(parts, pc: pa.Table) -> tuple[pa.Table, pa.Table]:
    """raw_papers (every paper: ids and venue-year) and country_decisions (one row per author of
    each paper's countries, `paper_countries`' `authors` of them, the same country under both
    placements) as Arrow tables."""
    raw = {c: [] for c in ("partition_key", "venue", "year", "paper_id")}
    for key, venue, year, n in parts:
        raw["partition_key"].append(np.full(n, key))
        raw["venue"].append(np.full(n, venue))
        raw["year"].append(np.full(n, year, dtype=np.int32))
        raw["paper_id"].append(np.array([f"p{i:06d}" for i in range(n)]))
    authors = pc.column("authors").to_numpy()
    rows = np.repeat(np.arange(pc.num_rows), authors)
    codes = pa.array(pc.column("country").to_numpy(zero_copy_only=False)[rows])
    listed = pa.ListArray.from_arrays(pa.array(np.arange(len(rows) + 1, dtype=np.int32)), codes)
    position = np.arange(len(rows)) - np.repeat(np.cumsum(authors) - authors, authors)  # within the paper's rows
    decisions = pa.table({
        "partition_key": pc.column("partition_key").take(rows), "paper_id": pc.column("paper_id").take(rows),
        "author_position": pa.array(position.astype(np.int32)), "countries": listed, "coauthor_countries": listed,
        "method": pa.array(np.full(len(rows), "ror")), "confidence": pa.array(np.full(len(rows), 0.9)),
    })
    return pa.table({name: np.concatenate(cols) for name, cols in raw.items()}), decisions


def headline_rows(summary: pa.Table, rng: np.random.Generator) -> pa.Table:
    """`headline_numbers` as the headlines asset writes them: every number, placement and scope."""
    from paperatlas.pipeline.conventions import CHINA_SCOPES, PLACEMENTS
    from paperatlas.pipeline.reports.headlines import NUMBERS

    rows = []
    for part in summary.to_pylist():
        papers = part["papers"]
        for scope in CHINA_SCOPES:
            for placement in PLACEMENTS:
                counts = {"papers": papers, "papers_with_affiliation": int(papers * 0.95),
                          "papers_with_country": part["papers_with_country"],
                          "international": part["international_papers"]}
                for number in NUMBERS:
                    n = counts.get(number.id)
                    if n is None:
                        n = int(rng.integers(0, max(1, counts.get(number.denominator, papers) // 3) + 1))
                        counts[number.id] = n
                    d = counts.get(number.denominator, papers)
                    low, high = max(0, n - int(rng.integers(0, 4))), n + int(rng.integers(0, 6))
                    rows.append({"partition_key": part["partition_key"], "venue": part["venue"],
                                 "year": part["year"], "placement": placement, "china_scope": scope,
                                 "number": number.id, "label": number.label, "papers": n, "low": low,
                                 "high": high, "unplaced": int(rng.integers(0, 5)), "denominator": d,
                                 "share": n / d if d else None, "low_confidence": int(rng.integers(0, 3)),
                                 "snapshot": 1})
    return pa.Table.from_pylist(rows)


def build(home: Path, papers: int, profiles: bool = False, months: bool = True, seed: int = 33) -> dict:
    """The synthetic store under `home` (with `profiles`, raw_papers and country_decisions too);
    the row counts of its tables."""
    os.environ["PAPERATLAS_HOME"] = str(home)
    from paperatlas.pipeline.config import load_settings
    from paperatlas.pipeline.store import open_store

    rng = np.random.default_rng(seed)
    parts = partitions(papers, rng, months)
    pc, edges, summary = country_rows(parts, rng)
    heads = headline_rows(summary, rng)
    tables = [("paper_countries", pc), ("country_edges", edges), ("partition_summary", summary),
              ("headline_numbers", heads)]
    if profiles:
        tables += list(zip(("raw_papers", "country_decisions"), decision_rows(parts, pc)))
    settings = load_settings()
    store = open_store(settings)
    counts = {}
    if settings.store == "delta":  # one commit per partition, as the workers write
        for name, frame in tables:
            keys = frame.column("partition_key")
            for key in compute.unique(keys).to_pylist():
                store.replace_partition(name, key, frame.filter(compute.equal(keys, key)).to_pandas())
            counts[name] = int(store.scalar(f"SELECT count(*) FROM {name}"))
    else:
        with store.connect() as con:
            for name, frame in tables:
                con.register("_incoming", frame)
                con.execute(f"INSERT INTO {name} BY NAME SELECT * FROM _incoming")
                con.unregister("_incoming")
                counts[name] = con.execute(f"SELECT count(*) FROM {name}").fetchall()[0][0]
            con.execute("CHECKPOINT")
    counts["partitions"] = len(parts)
    return counts


MAINTAIN = r"""
import json, time
from paperatlas.pipeline.config import load_settings
from paperatlas.pipeline.store import open_store
t = time.perf_counter()
rows = open_store(load_settings()).maintain(log=lambda line: None)
print(json.dumps({"seconds": time.perf_counter() - t, "tables": len(rows)}))
"""


def stored(args, env: dict) -> dict:
    """The papers of the store `env` names (its partition summaries) and its size in MB."""
    from paperatlas.pipeline.config import load_settings
    from paperatlas.pipeline.store import open_store

    store = open_store(load_settings(), read_only=True)
    papers = store.scalar("SELECT coalesce(sum(papers), 0) FROM partition_summary")
    size = store_size(args.store, env.get("PAPERATLAS_STORE_URI"), env, Path(env["PAPERATLAS_HOME"]))
    return {"papers": int(papers), "store_mb": round(size / 1e6, 1)}


def cpu_seconds(pid: int | None) -> float:
    """User and system CPU seconds of process `pid` so far (0 without one)."""
    return sum(psutil.Process(pid).cpu_times()[:2]) if pid is not None else 0.0


def timed(script: str, env: dict, server: int | None = None) -> dict:
    """Run `script` in a fresh process in the home `env` names; its JSON line, with `server_cpu`
    the CPU seconds process `server` (moto) used meanwhile."""
    home = Path(env["PAPERATLAS_HOME"])
    (home / "dagster").mkdir(exist_ok=True)
    before = cpu_seconds(server)
    done = subprocess.run([sys.executable, "-c", script.replace("PEAK\n", PEAK)], env=env, cwd=home,
                          capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(done.stderr[-3000:])
    # the last line that is the script's (DuckDB draws its progress bar on stdout on a slow query)
    out = json.loads([line for line in done.stdout.splitlines() if line.startswith("{")][-1])
    if server is not None:
        out["server_cpu"] = round(cpu_seconds(server) - before, 1)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--papers", type=int, default=1_000_000)
    ap.add_argument("--dagster", action="store_true", help="also time the aggregates_job through Dagster")
    ap.add_argument("--profiles", action="store_true",
                    help="also store raw_papers and country_decisions, and time the country profile and the trend")
    ap.add_argument("--no-months", action="store_true",
                    help="airesearch as one venue-year a year, not 12 sub-partitions (keys the code before "
                         "issue 33 can read: its profiles parsed the year from the key)")
    ap.add_argument("--home", type=Path, help="build the store here once, and reuse it")
    ap.add_argument("--runs", type=int, default=1, help="time the step this many times")
    ap.add_argument("--store", choices=["duckdb", "delta"], default="duckdb")
    ap.add_argument("--moto", action="store_true", help="the Delta store on a moto S3 server (s3://bench/paperatlas)")
    ap.add_argument("--maintain", action="store_true",
                    help="then run `maintain` (compaction, checkpoint) on the store and time the step again")
    args = ap.parse_args(argv)
    if args.moto:
        args.store = "delta"
    moto = None
    with tempfile.TemporaryDirectory(prefix="yearly-scale-") as tmp:
        home = args.home or Path(tmp) / "home"
        home.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "PAPERATLAS_HOME": str(home), "DAGSTER_HOME": str(home / "dagster"),
               "PAPERATLAS_STORE": args.store}
        try:
            if args.moto:  # moto keeps its objects in memory: the store is built again each time
                moto = start_moto(env)
                env.update({"PAPERATLAS_STORE_URI": "s3://bench/paperatlas", "PAPERATLAS_FILES": str(home / "files")})
            os.environ.update(env)  # build() and stored() read the settings in this process
            out: dict = {"store": args.store, "moto": args.moto}
            built = {"duckdb": (home / "paperatlas.duckdb").exists(),
                     "delta": not args.moto and (home / "delta" / "partition_summary").exists()}[args.store]
            if not built:
                t = time.perf_counter()
                out["rows"] = build(home, args.papers, args.profiles, not args.no_months)
                out["build_seconds"] = round(time.perf_counter() - t, 1)
            server = moto.pid if moto else None
            out.update(stored(args, env))
            out["step"] = [timed(STEP, env, server) for _ in range(args.runs)]
            if args.dagster:
                out["dagster"] = timed(DAGSTER, env, server)
            if args.profiles:
                out["profiles"] = [timed(PROFILES, env, server) for _ in range(args.runs)]
            if args.maintain:
                out["maintain"] = timed(MAINTAIN, env, server)
                out["after_maintain"] = stored(args, env)
                out["after_maintain"]["step"] = [timed(STEP, env, server) for _ in range(args.runs)]
        finally:
            if moto is not None:
                os.killpg(moto.pid, 15)
                moto.wait(30)
        print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
