"""Small text helpers for previews and reports (no extra dependency such as tabulate)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd


def _cell(value) -> str:
    if isinstance(value, (list, tuple, np.ndarray)):
        text = "; ".join(str(v) for v in value)
    elif value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        text = ""
    elif isinstance(value, (float, np.floating)):
        text = f"{value:.4g}"
    else:
        text = str(value)
    text = text.replace("|", "\\|").replace("\n", " ")
    return text if len(text) <= 80 else text[:77] + "..."


def markdown_table(frame: pd.DataFrame, max_rows: int = 10, columns: Sequence[str] | None = None) -> str:
    if columns is not None:
        frame = frame[[c for c in columns if c in frame.columns]]
    if frame.empty:
        return "_(no rows)_"
    head = frame.head(max_rows)
    lines = ["| " + " | ".join(str(c) for c in head.columns) + " |", "|" + "---|" * len(head.columns)]
    for row in head.itertuples(index=False):
        lines.append("| " + " | ".join(_cell(v) for v in row) + " |")
    if len(frame) > max_rows:
        lines.append(f"\n_{len(frame) - max_rows} more rows_")
    return "\n".join(lines)
