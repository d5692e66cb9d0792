"""The built-in studies: one YAML file per published analysis paperatlas reproduces
(`paperatlas study list`). The format: docs/studies.md; the loader:
pipeline/reports/studies/model.py. This folder holds data only; it installs as
`paperatlas.studies` so the files travel with the package."""
