"""Every read of the store the sources stage makes outside its steps: what each source gave at
the last run (`source_reads`, which `raw_papers` writes)."""

from __future__ import annotations

import pandas as pd


def source_reads(store, con=None) -> pd.DataFrame:
    """Every venue-year's reads, by venue-year and source priority."""
    return store.query("SELECT * FROM source_reads ORDER BY partition_key, priority", con=con)


def stored_parts(store, key: str, con=None) -> list[str]:
    """The partitions with stored papers that belong to `key`: itself and its sub-partitions."""
    from ..partitions import SCOPE_SQL

    return store.query(f"SELECT DISTINCT partition_key FROM raw_papers WHERE {SCOPE_SQL} ORDER BY 1", [key, key],
                       con=con)["partition_key"].tolist()


def planned_parts(store, scope: str, con=None) -> pd.DataFrame:
    """The recorded split of a venue-year (`partition_parts`): each part and its count of works."""
    return store.query("SELECT * FROM partition_parts WHERE scope = ? ORDER BY partition_key", [scope], con=con)
