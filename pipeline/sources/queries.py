"""Every read of the store the sources stage makes outside its steps: what each source gave at
the last run (`source_reads`, which `raw_papers` writes)."""

from __future__ import annotations

import pandas as pd


def source_reads(store, con=None) -> pd.DataFrame:
    """Every venue-year's reads, by venue-year and source priority."""
    return store.query("SELECT * FROM source_reads ORDER BY partition_key, priority", con=con)
