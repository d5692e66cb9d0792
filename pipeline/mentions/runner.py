"""Scanning many PDFs: read each one's full text (or take it from the text cache) and find the
catalogue's terms, in worker processes with a time and a memory limit per PDF."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ..filenames import path_text
from ..pdfs.extract import CRASHED, load_pymupdf, over_limit_reason, pdf_limits
from ..pool import Limits, ordered_map, start_method
from .catalogue import Catalogue, load_catalogue
from .fulltext import FullText, cache_path, load_text, read_fulltext, save_text
from .scan import Match, ScanResult, scan_document


@dataclass
class Task:
    path: str
    title: str | None = None  # the paper's title and abstract from its metadata, when known:
    abstract: str | None = None  # they are then scanned instead of the PDF's own
    sha256: str | None = None  # the PDF's SHA-256 when known: its cached text is used
    cache_dir: str | None = None


@dataclass
class PaperScan:
    file: str
    pages: int = 0
    error: str | None = None
    sha256: str | None = None
    pdf_title: str | None = None
    lengths: dict = field(default_factory=dict)
    seconds: float = 0.0
    cached: bool = False
    scan: ScanResult = field(default_factory=ScanResult)
    text: FullText | None = None

    @property
    def matches(self) -> list[Match]:
        return self.scan.matches


_catalogue: Catalogue | None = None


def _init(catalogue_path: str | None) -> None:
    global _catalogue
    _catalogue = load_catalogue(catalogue_path)
    load_pymupdf()  # before the worker's memory limit is set (a no-op after a fork)


def _fulltext(task: Task) -> tuple[FullText, bool]:
    if task.cache_dir and task.sha256:
        cached = load_text(cache_path(Path(task.cache_dir), task.sha256))
        if cached is not None and cached.error is None:
            cached.file = path_text(task.path)
            return cached, True
    text = read_fulltext(task.path)
    if task.cache_dir and text.sha256 and text.error is None:
        save_text(Path(task.cache_dir), text)
    return text, False


def scan_task(task: Task, catalogue: Catalogue | None = None, keep_text: bool = False) -> PaperScan:
    catalogue = catalogue or _catalogue
    assert catalogue is not None, "the worker has no catalogue"
    started = time.perf_counter()
    text, cached = _fulltext(task)
    out = PaperScan(file=path_text(task.path), pages=text.pages, error=text.error, sha256=text.sha256,
                    pdf_title=text.title, lengths=text.lengths() if text.error is None else {}, cached=cached)
    if text.error is None:
        out.scan = scan_document(catalogue, task.title or text.title, text.text, abstract=task.abstract,
                                 sections=text.sections)
    if keep_text:
        out.text = text
    out.seconds = round(time.perf_counter() - started, 4)
    return out


def _scan_in_worker(args: tuple[Task, bool]) -> PaperScan:
    return scan_task(args[0], keep_text=args[1])


def _crashed(args: tuple[Task, bool]) -> PaperScan:
    return PaperScan(file=path_text(args[0].path), error=CRASHED)


def iter_scans(tasks: list[Task], processes: int = 1, catalogue_path: str | None = None,
               keep_text: bool = False, limits: Limits | None = None) -> Iterator[PaperScan]:
    """`scan_task` over `tasks`, yielded in order as they finish, always in worker processes
    (pipeline/pool.py): a PDF that crashes MuPDF, or takes more time or memory than `limits`
    (default: the settings, `pdf_limits`), costs only itself."""
    limits = limits or pdf_limits()
    load_catalogue(catalogue_path)  # a bad catalogue fails here, with its reason, not in a worker
    if start_method() == "fork":
        load_pymupdf()  # loaded once, before the workers are forked

    def over_limit(args: tuple[Task, bool], which: str) -> PaperScan:
        return PaperScan(file=path_text(args[0].path), error=over_limit_reason(which, limits))

    yield from ordered_map(_scan_in_worker, [(t, keep_text) for t in tasks], max(1, processes), _crashed,
                           initializer=_init, initargs=(catalogue_path,), limits=limits, over_limit=over_limit)


def scan_tasks(tasks: list[Task], processes: int = 1, catalogue_path: str | None = None,
               keep_text: bool = False, on_done: Callable[[int], None] | None = None) -> list[PaperScan]:
    out = []
    for n, result in enumerate(iter_scans(tasks, processes, catalogue_path, keep_text), start=1):
        out.append(result)
        if on_done:
            on_done(n)
    return out


def scan_paths(paths: Iterable[str | Path], processes: int = 1, catalogue_path: str | None = None,
               keep_text: bool = False, on_done: Callable[[int], None] | None = None) -> list[PaperScan]:
    return scan_tasks([Task(str(p)) for p in paths], processes, catalogue_path, keep_text, on_done)
