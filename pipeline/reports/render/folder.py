"""The report folder: every format, the charts, the review sample and the exports, written
beside the target and swapped in whole, so a reader never sees half a report. A file in the
folder that no report wrote (a user's notes, downloaded verdicts) is kept."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from ...text import csv_frame
from ..review import CSV_COLUMNS, LOW_COLUMNS, low_confidence_rows, render_review_html, review_rows
from ..views import Report, ReportError
from .html import render_html
from .json import report_json
from .markdown import render_markdown

CHART_FILES = {
    "us_cn_share": "us-cn-share-by-year.png",
    "top_pairs": "top-pairs.png",
    "network": "country-network.png",
    "partners": "top-partners.png",
}
MARKER = ".paperatlas-report"  # marks a folder write_report may replace


def _parquet(frame: pd.DataFrame, path: Path) -> None:
    import duckdb

    con = duckdb.connect()
    try:
        # Type each column from every row, not a sample: a list column whose first rows are
        # empty would otherwise be typed NULL[] and fail on the first non-empty list.
        con.execute(f"SET pandas_analyze_sample = {max(len(frame), 1000)}")
        con.register("_frame", frame)
        con.execute(f"COPY (SELECT * FROM _frame) TO '{str(path).replace(chr(39), chr(39) * 2)}' (FORMAT parquet)")
    finally:
        con.close()


def _written_before(folder: Path) -> set[str]:
    """The files (relative paths) an earlier report wrote into `folder`: listed in its marker;
    for folders from before the marker listed them, the report's own names and folders."""
    lines = (folder / MARKER).read_text(encoding="utf-8").splitlines()
    if len(lines) > 1:
        return {MARKER, *lines[1:]}
    return {rel for rel in (p.relative_to(folder).as_posix() for p in folder.rglob("*") if not p.is_dir())
            if rel == MARKER or rel.startswith(("charts/", "tables/")) or rel in REPORT_FILES}


def _keep_users_files(old: Path, new: Path) -> list[str]:
    """Copy the files in `old` that no report wrote (a user's own notes, verdicts) into `new`
    (copied, not moved: until the new folder takes the old one's place, the old is untouched)."""
    ours = _written_before(old)
    kept = []
    for path in sorted(old.rglob("*")):
        rel = path.relative_to(old).as_posix()
        if path.is_dir() or rel in ours or (new / rel).exists():
            continue
        (new / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, new / rel)
        kept.append(rel)
    return kept


REPORT_FILES = ("report.md", "report.html", "report.json", "review.csv", "review.html", "low_confidence.csv")


def kept_message(folder: str | os.PathLike, kept: list[str]) -> str:
    """What `write_report` kept of a user's files in `folder`, in one line."""
    return (f"kept {len(kept)} file(s) in {folder} that the report did not write: {', '.join(kept[:5])}"
            f"{' …' if len(kept) > 5 else ''}")


def write_report(report: Report, out_dir: str | os.PathLike,
                 on_kept: Callable[[list[str]], None] | None = None) -> dict[str, Path]:
    """Write the report folder (see the module docstring); returns the main files' paths. A
    file in the folder that no report wrote (a user's own notes, downloaded verdicts) is kept,
    and `on_kept` hears their names."""
    target = Path(out_dir).absolute()
    if target.exists() and (not target.is_dir() or (any(target.iterdir()) and not (target / MARKER).exists())):
        raise ReportError(f"{out_dir} exists and is not a paperatlas report folder; "
                          "give a new or empty folder (a report folder is replaced whole)")
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    work.chmod(0o755)
    try:
        (work / MARKER).write_text(f"{report.partition_key}\n", encoding="utf-8")
        (work / "charts").mkdir()
        (work / "tables").mkdir()
        for name, png in report.charts().items():
            (work / "charts" / CHART_FILES[name]).write_bytes(png)
        (work / "report.md").write_text(render_markdown(report, lambda k: f"charts/{CHART_FILES[k]}"), encoding="utf-8")
        (work / "report.html").write_text(render_html(report), encoding="utf-8")
        (work / "report.json").write_text(json.dumps(report_json(report), ensure_ascii=False, indent=1),
                                          encoding="utf-8")
        rows = pd.DataFrame(review_rows(report.views, report.review, report.scope, report.placement),
                            columns=CSV_COLUMNS)
        rows = rows.astype({"author_position": "Int64", "sample_rank": "Int64"})  # 2, not 2.0
        csv_frame(rows).to_csv(work / "review.csv", index=False)
        (work / "review.html").write_text(
            render_review_html(report.views, report.review, report.partition_key, report.scope, report.seed,
                               report.threshold, report.placement), encoding="utf-8")
        low = low_confidence_rows(report.views, report.review, report.scope, report.threshold, report.placement)
        csv_frame(pd.DataFrame(low, columns=LOW_COLUMNS).astype({"author_position": "Int64"})).to_csv(
            work / "low_confidence.csv", index=False)
        for name, frame in {**report.tables, "review_sample": rows}.items():
            csv_frame(frame).to_csv(work / "tables" / f"{name}.csv", index=False)
            _parquet(frame, work / "tables" / f"{name}.parquet")
        written = sorted(p.relative_to(work).as_posix() for p in work.rglob("*") if p.is_file())
        (work / MARKER).write_text("\n".join([report.partition_key, *written]) + "\n", encoding="utf-8")
        if target.exists() and (target / MARKER).exists():
            kept = _keep_users_files(target, work)
            if kept and on_kept:
                on_kept(kept)
        # Swap in whole: the old folder moves aside, the new one takes its name.
        old = None
        if target.exists():
            old = target.parent / f".{target.name}-old-{os.getpid()}"
            shutil.rmtree(old, ignore_errors=True)
            target.rename(old)
        work.rename(target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return {name: target / name for name in REPORT_FILES}
