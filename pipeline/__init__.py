"""paperatlas domain code, stage by stage over a small shared base: plain Python, no Dagster,
and no imports from the composition layer (`paperatlas.definitions`, `paperatlas.cli`), the
assets or the resources."""
