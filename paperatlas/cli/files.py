"""`resolve`, `extract-pdf` and `mentions`: the stages run on your own files, without the store:
affiliation strings to countries, PDFs' first pages to authors and affiliations, and PDFs' full
text to the models and libraries they name."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import TextIO

from ..pipeline.config import Settings
from . import common
from .common import CliError
from .options import command


def resolve_stream(source: TextIO, sink: TextIO, resolver=None) -> tuple[int, int]:
    """One output line per input line, in order; bad lines get an `error` field."""
    from ..pipeline.affiliations.resolver import default_resolver

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
                                   "ror_id": None, "parent_ror_id": None, "parent_name": None, "method": None,
                                   "confidence": None}) + "\n")
            continue
        res = resolver.resolve(aff, dom)
        record["country"] = res.country
        record["institution"] = res.institution
        record["ror_id"] = res.ror_id
        record["parent_ror_id"] = res.parent_ror_id  # the matched organisation's top-level parent
        record["parent_name"] = res.parent_name
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
    source = common.open_file(args.input, "r", sys.stdin)
    sink = common.open_file(args.output, "w", sys.stdout)
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
    from ..pipeline.pdfs.extract import attribute, iter_pdf_paths, pdf_limits, result_record, yields_nothing
    from ..pipeline.pdfs.steps import read_first_pages

    paths = iter_pdf_paths(args.paths)
    if not paths:
        raise CliError("no PDF files found in the given paths")
    resolver = _build_resolver(args, settings) if args.resolve else None
    sink = common.open_file(args.output, "w", sys.stdout)
    failed = empty = 0
    try:
        jobs = max(1, args.jobs or (os.cpu_count() or 1))
        # In worker processes with a time and a memory limit per file (PAPERATLAS_PDF_SECONDS,
        # PAPERATLAS_PDF_MEMORY_MB): a file that kills MuPDF or goes over a limit costs only its line.
        for n, result in enumerate(read_first_pages(paths, jobs, limits=pdf_limits(settings)), start=1):
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
    from ..pipeline.mentions.scan import DEFAULT_SCOPES, SCOPES

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
    from ..pipeline.mentions.catalogue import CatalogueError, load_catalogue
    from ..pipeline.mentions.runner import Task, iter_scans
    from ..pipeline.pdfs.extract import iter_pdf_paths, pdf_limits

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
    sink = common.open_file(args.output, "w", sys.stdout)
    failed = pages = 0
    started = time.monotonic()
    try:
        tasks = [Task(str(p)) for p in paths]
        scans = iter_scans(tasks, jobs, str(terms) if terms else None, limits=pdf_limits(settings))
        for n, result in enumerate(scans, start=1):
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
    from ..pipeline.affiliations.reference import build_resolver
    from ..pipeline.affiliations.resolver import OverridesError
    from ..pipeline.affiliations.ror import RorDumpError
    from ..pipeline.http import Unreachable

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


def _parse_resolve(sub) -> None:
    resolve = command(
        sub, "resolve", "affiliation JSON lines in, institutions and countries out",
        "Reads JSON lines with `affiliation` and `email_domain` (strings or null) and writes one line per "
        "input line, in order, with country, institution, ror_id, the institution's top-level parent "
        "(parent_ror_id, parent_name), method and confidence added. A line that "
        "cannot be read gets an `error` field; the rest go on.",
        ["echo '{\"affiliation\": \"Tsinghua University\"}' | paperatlas resolve --ror none",
         "paperatlas resolve --input affiliations.jsonl --output resolved.jsonl"], cmd_resolve)
    resolve.add_argument("--input", default="-", help="JSON lines file, or - for stdin (default)")
    resolve.add_argument("--output", default="-", help="output file, or - for stdout (default)")
    resolve.add_argument("--ror", default=None,
                         help="ROR v2 dump (zip path or URL; 'none': no registry). Default: PAPERATLAS_ROR_DUMP, "
                              "else the newest dump on Zenodo")
    resolve.add_argument("--overrides", default=None, help="overrides YAML (default: PAPERATLAS_OVERRIDES)")


def _parse_extract_pdf(sub) -> None:
    pdf = command(
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


def _parse_mentions(sub) -> None:
    mentions = command(
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


PARSERS = {"resolve": _parse_resolve, "extract-pdf": _parse_extract_pdf, "mentions": _parse_mentions}
