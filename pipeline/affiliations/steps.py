"""The affiliation stage as its assets run it: each author's affiliation rows from the metadata
and the PDF (`author_affiliations`), each distinct string resolved (`resolved_affiliations`), and
the strings nothing could place (`unresolved_affiliations`)."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from ..models import Check, Outcome, Share
from ..partitions import PartitionKey
from ..text import counts, plural, preview
from . import queries
from .reconcile import PDF_SOURCE, reconcile
from .resolver import RESOLVER_VERSION, Resolver
from .rows import agrees, reference_agreement

RESOLVED_CHECK = "affiliations_resolved_to_a_country"
RESOLVED_THRESHOLD = 0.97
TOP_INSTITUTIONS = 15


def author_affiliations(store, pk: PartitionKey, log: Callable[[str], None]) -> Outcome:
    """One row per (paper, author, affiliation string) from the metadata and page 1 of the PDF,
    with the decision saying which count (pipeline/affiliations/reconcile.py)."""
    with store.connect() as con:
        papers, pdf_rows, refs = queries.reconcile_inputs(store, pk.key, con=con)
    frame = pd.DataFrame(reconcile(papers, pdf_rows, refs))
    if not frame.empty:
        frame["author_position"] = frame["author_position"].astype("Int64")
        frame["affiliation_index"] = frame["affiliation_index"].astype("Int64")
        frame["counted"] = frame["counted"].astype(bool)
    rows = store.replace_partition("author_affiliations", pk.key, frame)
    counted = frame[frame["counted"]] if rows else frame
    pdf_papers = int(counted.loc[counted["source"] == PDF_SOURCE, "paper_id"].nunique()) if rows else 0
    log(f"{pk}: {plural(rows, 'author-affiliation row')} from {plural(len(papers), 'paper')}; "
        f"{plural(pdf_papers, 'paper')} {'counts' if pdf_papers == 1 else 'count'} affiliations from their PDF")
    return Outcome(rows=rows, row="paper, author and affiliation string (or e-mail domain)", metadata={
        "preview": preview(frame, ["paper_id", "author_position", "author_name", "affiliation", "source", "decision"]),
        "counted_rows_with_affiliation": int(counted["affiliation"].notna().sum()) if rows else 0,
        "distinct_affiliations": int(counted["affiliation"].nunique()) if rows else 0,
        "papers_using_pdf": pdf_papers,
        "decisions": counts(frame["decision"]) if rows else {},
    })


def resolved_affiliations(store, pk: PartitionKey, resolver: Resolver, registry_sha256: str, overrides_sha256: str,
                          log: Callable[[str], None]) -> Outcome:
    """Each distinct (affiliation, e-mail domain) of the venue-year resolved to an institution
    and a country, with the rule, evidence, confidence and alternatives."""
    pairs = queries.distinct_pairs(store, pk.key)
    rows = []
    for n, pair in enumerate(pairs, start=1):
        aff, dom = pair["affiliation"], pair["email_domain"]
        rows.append({**resolver.resolve(aff, dom).row(), "partition_key": pk.key, "affiliation": aff,
                     "email_domain": dom, "resolver_version": RESOLVER_VERSION})
        if n % 5000 == 0:
            log(f"{pk}: resolved {n}/{len(pairs)}")
    frame = pd.DataFrame(rows)
    count = store.replace_partition("resolved_affiliations", pk.key, frame)
    resolved = int(frame["country"].notna().sum()) if count else 0
    with_text = frame[frame["affiliation"].notna()] if count else frame
    share = int(with_text["country"].notna().sum()) / len(with_text) if len(with_text) else 1.0
    unresolved = with_text[with_text["country"].isna()] if count else with_text
    log(f"{pk}: {resolved}/{count} resolved to a country")
    metadata = {
        "preview": preview(frame, ["affiliation", "email_domain", "country", "institution", "parent_name", "method",
                                   "confidence"]),
        # Institutions are counted by their top-level parent (a department or hospital counts
        # for its university), over distinct strings; the matched organisation stays in each row.
        "top_institutions": dict(list(counts(frame["parent_name"].dropna()).items())[:TOP_INSTITUTIONS])
        if count else {},
        "resolved_share": Share(resolved, count, "distinct strings and e-mail domains"),
        "affiliation_strings_resolved_share": Share(len(with_text) - len(unresolved), len(with_text),
                                                    "distinct affiliation strings"),
        "unresolved": count - resolved,
        "methods": counts(frame["method"]) if count else {},
        "ror_registry_sha256": registry_sha256,
        "overrides_sha256": overrides_sha256,
        **source_agreement(store, pk),
    }
    return Outcome(rows=count, row="distinct affiliation string and e-mail domain", metadata=metadata, checks=[Check(
        RESOLVED_CHECK, share >= RESOLVED_THRESHOLD, severity="warn", metadata={
            "resolved_share": Share(len(with_text) - len(unresolved), len(with_text), "distinct affiliation strings"),
            "affiliation_strings": len(with_text), "unresolved": len(unresolved),
            "unresolved_sample": preview(unresolved, ["affiliation", "email_domain", "reason"], 15)})])


def source_agreement(store, pk: PartitionKey) -> dict:
    """How often our countries agree with the countries sources print beside their own strings
    (OpenAlex, OpenReview), when they do: for comparison, never counted."""
    compared = queries.with_source_countries(store, pk.key)
    agreement = reference_agreement(compared)
    if not agreement["rows_with_source_country"]:
        return {}
    disagreements = pd.DataFrame([r for r in compared if r["country"] and not agrees(r["country"], r["reference_countries"])],
                                 columns=["paper_id", "author_position", "source", "affiliation", "reference_countries",
                                          "country"])
    return {"source_country_agreement": agreement,
            "source_country_disagreements": preview(
                disagreements, ["paper_id", "source", "affiliation", "reference_countries", "country"], 15)}


def unresolved_affiliations(store, log: Callable[[str], None]) -> Outcome:
    """Every affiliation string no rule could place, across all venue-years: the review list."""
    with store.connect() as con:
        frame = queries.unresolved(store, con=con)
        store.replace_table("unresolved_affiliations", frame, con=con)
    log(f"{len(frame)} unresolved affiliation strings")
    return Outcome(rows=len(frame), row="affiliation string no rule could place, over all venue-years", metadata={
        "preview": preview(frame, ["affiliation", "email_domain", "author_rows", "papers", "reason"], 25),
        "author_rows": int(frame["author_rows"].sum()) if len(frame) else 0,
    })
