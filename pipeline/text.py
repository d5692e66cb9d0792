"""Small text helpers for previews and reports (no extra dependency such as tabulate)."""

from __future__ import annotations

import html
from collections.abc import Sequence

import numpy as np
import pandas as pd

from .models import IngestError, Markdown, missing


def _cell(value) -> str:
    if isinstance(value, (list, tuple, np.ndarray)):
        text = "; ".join(str(v) for v in value)
    elif missing(value):
        text = ""
    elif isinstance(value, (float, np.floating)):
        text = f"{value:.4g}"
    else:
        text = str(value)
    text = text if len(text) <= 80 else text[:77] + "..."
    return md_text(" ".join(text.split()))


# Markdown that could make a link, an image, raw HTML or code out of data: escaped in cells.
_MD_SPECIAL = str.maketrans({c: "\\" + c for c in "\\|[]<>`"})


def md_text(text: str) -> str:
    """`text` as literal Markdown: a title such as `[x](javascript:…)` or `<img onerror=…>` in
    a source's data shows as written, never as a link or HTML, in the UI's metadata (and no
    bidirectional control reverses it: `display`)."""
    return display(text).translate(_MD_SPECIAL)


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


# -- safe to open ---------------------------------------------------------------------------

# A spreadsheet runs a cell that starts with one of these as a formula (OWASP's CSV injection
# rule); a leading apostrophe makes it text. `csv_restore` undoes it when we read our own CSV.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value):
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_START) else value


def csv_restore(value):
    if isinstance(value, str) and value.startswith("'") and value[1:].startswith(FORMULA_START):
        return value[1:]
    return value


def csv_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with every text cell safe to open in a spreadsheet."""
    text = [c for c in frame.columns if frame[c].dtype == object or pd.api.types.is_string_dtype(frame[c])]
    return frame.assign(**{c: frame[c].map(csv_safe) for c in text}) if text else frame


def web_href(url: str | None) -> str | None:
    """A link out to the web that a page may carry from data: an absolute http(s) URL with a
    host, else None. A paper's local file or source path (`/tmp/…/x.json`, `papers/x.pdf`) is
    no link: it means nothing on another machine and names this one's folders."""
    if not isinstance(url, str) or not url.strip():
        return None
    url = url.strip()
    scheme, _, rest = url.partition("://")
    host = rest.split("/", 1)[0]
    return url if scheme.lower() in ("http", "https") and host and not any(c.isspace() for c in url) else None


# Explicit bidirectional embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069). In
# data they can make a title or a name after them display reversed ("\u202eevil" shows as
# "live"), and the run they open can spill over the text that follows. What people read (the
# HTML pages, the terminal, Markdown) shows text without them; machine output (JSON, CSV, the
# store) keeps the data as it came. The marks U+200E/U+200F are kept: they order neutral
# characters next to them, reverse nothing, and right-to-left text uses them legitimately.
BIDI_CONTROLS = dict.fromkeys([*range(0x202A, 0x202F), *range(0x2066, 0x206A)])


def display(text: str) -> str:
    """`text` as shown to people: without bidirectional embedding, override or isolate controls."""
    return text.translate(BIDI_CONTROLS)


def html_text(value) -> str:
    """A value from data as HTML text (attribute-safe, quotes escaped too), as `display` shows it."""
    return html.escape(display("" if value is None else str(value)))


# -- metadata for the UI ---------------------------------------------------------------------


def preview(frame: pd.DataFrame, columns: Sequence[str] | None = None, rows: int = 10) -> Markdown:
    """The first rows of a table, as the UI shows them."""
    return Markdown(markdown_table(frame, rows, columns))


def errors_summary(errors: Sequence[IngestError]) -> dict:
    """How many items a step dropped (errors) or kept with a caveat (warnings), and a sample."""
    n_err = sum(1 for e in errors if e.severity == "error")
    out: dict = {"errors": n_err, "warnings": len(errors) - n_err}
    if errors:
        frame = pd.DataFrame([e.row() for e in errors[:20]])
        out["error_sample"] = preview(frame, ["severity", "item", "reason"], 20)
    return out


def clip(text: str, limit: int, keep_end: bool = False) -> str:
    """`text`, cut to `limit` characters with an ellipsis when longer (at the start with
    `keep_end`: a path's end names the file)."""
    if len(text) <= limit:
        return text
    return "…" + text[len(text) - limit + 1:] if keep_end else text[: limit - 1] + "…"


def item_reason(item: str, reason: str, limit: int) -> str:
    """`item: reason` in about `limit` characters for a log line. The reason is never cut: it
    is what the user acts on. A long item (a path, whose end names the file) is shortened from
    its start instead, to no less than 40 characters."""
    room = max(limit - len(reason) - 2, 40)
    return f"{clip(item, room, keep_end=True)}: {reason}"


def plural(n: int, word: str, many: str | None = None) -> str:
    """`n` and the word, in the plural unless `n` is 1: "1 warning", "2 warnings", "0 papers";
    `many` for a plural that is not word + s ("1 entry", "3 entries")."""
    return f"{n} {word if n == 1 else many or word + 's'}"


# What an item of each severity in ingest_errors means, in every message that counts them: an
# error is an item the step left out, a warning one it kept with a caveat.
SET_ASIDE = {"error": "left out", "warning": "kept with a warning"}


def set_aside(severity: str, n: int) -> str:
    """`n` items of one severity as the command line says them: "1 item kept with a warning",
    "3 items left out"."""
    return f"{plural(n, 'item')} {SET_ASIDE[severity]}"


def named(errors: Sequence[IngestError], limit: int = 120) -> str:
    """The items a step set aside, named for a log line: "1 warning (paper 12: has no authors)",
    "2 errors and 3 warnings, e.g. record #4: not an object"; "nothing set aside" when none."""
    if not errors:
        return "nothing set aside"
    n_err = sum(1 for e in errors if e.severity == "error")
    parts = [plural(n, word) for n, word in ((n_err, "error"), (len(errors) - n_err, "warning")) if n]
    first = item_reason(errors[0].item, errors[0].reason, limit)
    return f"{' and '.join(parts)} ({first})" if len(errors) == 1 else f"{' and '.join(parts)}, e.g. {first}"


def counts(series: pd.Series) -> dict[str, int]:
    """value -> count, for JSON metadata."""
    return {str(k): int(v) for k, v in series.value_counts().items()} if len(series) else {}
