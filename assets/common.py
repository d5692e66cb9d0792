"""Helpers the asset modules share: metadata and error bookkeeping."""

import base64

import pandas as pd
from dagster import AssetExecutionContext, MetadataValue

from pipeline.models import IngestError
from pipeline.partitions import PartitionKey, parse_partition_key
from pipeline.text import markdown_table

GROUP = "paperatlas"
KINDS = {"duckdb", "python"}


def partition(context: AssetExecutionContext) -> PartitionKey:
    return parse_partition_key(context.partition_key)


def table_metadata(frame: pd.DataFrame, preview_columns: list[str] | None = None, rows: int = 10) -> dict:
    return {
        "dagster/row_count": len(frame),
        "preview": MetadataValue.md(markdown_table(frame, rows, preview_columns)),
    }


def png_metadata(png: bytes, alt: str) -> MetadataValue:
    """A chart for the UI: Markdown with the PNG inline (a data: URI)."""
    return MetadataValue.md(f"![{alt}](data:image/png;base64,{base64.b64encode(png).decode()})")


def errors_metadata(errors: list[IngestError]) -> dict:
    n_err = sum(1 for e in errors if e.severity == "error")
    n_warn = len(errors) - n_err
    meta = {"errors": n_err, "warnings": n_warn}
    if errors:
        frame = pd.DataFrame([e.row() for e in errors[:20]])
        meta["error_sample"] = MetadataValue.md(markdown_table(frame, 20, ["severity", "item", "reason"]))
    return meta
